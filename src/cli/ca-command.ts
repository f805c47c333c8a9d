/**
 * `mrtpm ca`: the certificate of the local CA that signs a state directory's EK certificates, for
 * verifiers to trust (keylime's TPM cert store, `openssl verify -CAfile`). It reads the state
 * directory without locking it, so it works while the TPM runs.
 */
import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { LocalCaFiles } from '../store/local-ca-files.js';

interface CaOptions {
  state: string;
  out?: string;
}

function run(o: CaOptions): void {
  const certificate = new LocalCaFiles(o.state).loadCertificate();
  if (!certificate) {
    process.stderr.write(`mrtpm ca: no local CA in ${o.state} (the first start or \`mrtpm manufacture --ek-cert\` makes one)\n`);
    process.exitCode = 1;
    return;
  }
  if (o.out) writeFileSync(o.out, certificate, { mode: 0o644 });
  else process.stdout.write(certificate);
}

export function addCaCommand(program: Command): void {
  program.command('ca')
    .description('export the certificate (PEM) of the local CA that signs the EK certificates in NV 0x01c00002 / 0x01c0000a')
    .addOption(new Option('--state <dir>', 'state directory').default('./.mrtpm'))
    .addOption(new Option('--out <file>', 'file to write the CA certificate to (default: stdout)'))
    .action((o: CaOptions) => run(o));
}
