/** `mrtpm attest` and `mrtpm verify`: hardware-bound evidence of a serving vTPM, and its checks (docs/evidence.md). */
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { BINARY_LIST, IMA_LIST_DIR, listHashOf } from '../ima/ima-list-files.js';
import { addMrOptions, parseHex, type MrOptions } from './mr-options.js';
import { logFilePath, openReportSource } from './mr-setup.js';
import { parsePort } from './options.js';
import { operatorAction } from './operator-action.js';
import { MssimClient } from '../client/mssim-client.js';
import { LocalCaFiles } from '../store/local-ca-files.js';
import { openLocalCa } from '../ca/local-ca.js';
import { CCEL_DATA_PATH } from '../eventlog/ccel.js';
import { readPublicKey } from '../mr/sim-attestation-key.js';
import { collectEvidence } from '../attest/collect-evidence.js';
import { parseBundle } from '../attest/evidence-bundle.js';
import { parsePcrList } from '../attest/pcr-list.js';
import { verifyEvidence, type Check } from '../attest/verify-evidence.js';

interface AttestFlags extends MrOptions {
  nonce: Uint8Array;
  pcrs: string;
  out?: string;
  host: string;
  port: number;
}

interface VerifyFlags {
  nonce: Uint8Array;
  akCa?: string;
  hwKey?: string;
  policy?: string;
  json: boolean;
}

async function attest(o: AttestFlags): Promise<void> {
  const kept = new LocalCaFiles(o.state);
  if (!kept.load()) throw new Error(`no local CA in ${o.state} (the vTPM makes it at its first start)`);
  const ca = await openLocalCa(kept);
  const { source } = await openReportSource(o);
  const client = await MssimClient.connect(o.host, o.port);
  try {
    const ccelPath = o.ccel ?? (existsSync(CCEL_DATA_PATH) ? CCEL_DATA_PATH : undefined);
    const bundle = await collectEvidence({
      execute: (command) => client.execute(command),
      ca,
      hardware: source,
      readMrLog: () => readFileSync(logFilePath(o)),
      readImaList: () => {
        const file = join(o.state, IMA_LIST_DIR, BINARY_LIST);
        return existsSync(file) ? { list: readFileSync(file), listHash: listHashOf(file) } : undefined;
      },
      ...(ccelPath && { ccel: readFileSync(ccelPath) }),
    }, o.nonce, parsePcrList(o.pcrs));
    const text = `${JSON.stringify(bundle, null, 2)}\n`;
    if (o.out) writeFileSync(o.out, text, { mode: 0o644 });
    else process.stdout.write(text);
  } finally {
    client.close();
    await source.close();
  }
}

function printChecks(checks: readonly Check[]): void {
  const width = Math.max(...checks.map((c) => c.check.length));
  for (const c of checks) process.stdout.write(`${c.check.padEnd(width)}  ${c.result.toUpperCase().padEnd(7)}  ${c.detail}\n`);
}

async function verifyCommand(file: string, o: VerifyFlags): Promise<void> {
  const bundle = parseBundle(JSON.parse(readFileSync(file, 'utf8')));
  const checks = await verifyEvidence(bundle, {
    nonce: o.nonce,
    ...(o.akCa && { akCa: new X509Certificate(readFileSync(o.akCa)) }),
    ...(o.hwKey && { hwKey: readPublicKey(o.hwKey) }),
    ...(o.policy && { policy: JSON.parse(readFileSync(o.policy, 'utf8')) as { pcrs?: Record<string, string>; registers?: Record<string, string> } }),
  });
  const ok = checks.every((c) => c.result !== 'fail');
  if (o.json) process.stdout.write(`${JSON.stringify({ ok, checks }, null, 2)}\n`);
  else printChecks(checks);
  process.exitCode = ok ? 0 : 1;
}

export function addEvidenceCommands(program: Command): void {
  addMrOptions(program.command('attest'))
    .description('collect evidence from the serving vTPM: an AK quote bound to the hardware report, with the PCRs and the MR log')
    .addOption(new Option('--state <dir>', 'state directory of the vTPM (its MR log, local CA, register file)').default('./.mrtpm'))
    .requiredOption('--nonce <hex>', 'the verifier\'s nonce (the quote\'s qualifyingData, at most 64 octets)', parseHex)
    .addOption(new Option('--pcrs <list>', 'PCRs to quote').default('sha256:0-23'))
    .addOption(new Option('--out <file>', 'write the bundle here (default: stdout)'))
    .addOption(new Option('--host <address>', 'the vTPM\'s mssim address').default('127.0.0.1'))
    .addOption(new Option('--port <port>', 'the vTPM\'s mssim TPM port').argParser(parsePort).default(2321))
    .action(operatorAction('attest')((o: AttestFlags) => attest(o)));
  program.command('verify')
    .description('check an evidence bundle; exit 0 only if every check holds')
    .argument('<bundle>', 'the JSON `mrtpm attest` wrote')
    .requiredOption('--nonce <hex>', 'the nonce the evidence must carry', parseHex)
    .addOption(new Option('--ak-ca <file>', 'the CA certificate the AK certificate must chain to (`mrtpm ca --out`)'))
    .addOption(new Option('--hw-key <file>', 'public key of the hardware report signer (simulators: <register file>.attest-key.pub.pem)'))
    .addOption(new Option('--policy <file>', 'reference values: {"pcrs": {"sha256:0": "<hex>"}, "registers": {"rtmr0": "<hex>"}}'))
    .addOption(new Option('--json', 'as JSON').default(false))
    .action(operatorAction('verify')((bundle: string, o: VerifyFlags) => verifyCommand(bundle, o)));
}
