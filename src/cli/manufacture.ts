/**
 * `mrtpm manufacture`: a new TPM in a state directory, as a vendor makes one: fresh seeds, with
 * --ek the TCG EK Credential Profile EKs persisted at their handles, and with --ek-cert their
 * certificates in NV from the directory's local CA. `serve` and `stdio` manufacture through the
 * same function on first start, certificates included.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { manufacture } from '../tpm/state/initial-state.js';
import type { PersistentState } from '../tpm/state/tpm-state.js';
import { provisionEks } from '../tpm/objects/ek-provisioning.js';
import { EK_KINDS, type EkKind } from '../tpm/objects/ek-templates.js';
import { TpmStateStore } from '../store/tpm-state-store.js';
import { LocalCaFiles } from '../store/local-ca-files.js';
import { issueEkCertificates } from '../ca/issue-ek-certificates.js';
import { parseBanks } from './options.js';

/** A newly manufactured TPM's persistent state: seeds, PCR banks and the EKs asked for. */
export function manufactureTpm(pcrBanks: number[], eks: readonly EkKind[] = []): PersistentState {
  const persistent = manufacture(pcrBanks);
  provisionEks(persistent, eks);
  return persistent;
}

/** A new TPM for `store` (whose lock the caller holds), with EK certificates from its local CA if asked. */
export async function manufactureInStore(
  store: TpmStateStore, pcrBanks: number[], eks: readonly EkKind[], ekCertificates: boolean,
): Promise<PersistentState> {
  const persistent = manufactureTpm(pcrBanks, eks);
  if (ekCertificates) await issueEkCertificates(persistent, new LocalCaFiles(store.path));
  return persistent;
}

interface ManufactureOptions {
  state: string;
  pcrBanks: number[];
  ek: EkKind[];
  ekCert: boolean;
  force: boolean;
}

function parseEks(value: string): EkKind[] {
  const kinds = value.split(',').map((k) => k.trim());
  for (const k of kinds) if (!(EK_KINDS as string[]).includes(k)) throw new InvalidArgumentError(`unknown EK "${k}" (use ${EK_KINDS.join(', ')})`);
  return [...new Set(kinds)] as EkKind[];
}

async function run(o: ManufactureOptions): Promise<void> {
  let store: TpmStateStore;
  try {
    store = new TpmStateStore(o.state);
  } catch (e) {
    process.stderr.write(`mrtpm manufacture: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
  try {
    if (store.loadPersistent() && !o.force) {
      process.stderr.write(`mrtpm manufacture: ${store.path} already holds a TPM (--force replaces it)\n`);
      process.exitCode = 1;
      return;
    }
    store.savePersistent(await manufactureInStore(store, o.pcrBanks, o.ek, o.ekCert));
    // The old TPM's PCRs and sessions do not belong to the new one.
    store.discardVolatile();
    const eks = o.ek.length ? ` with EKs ${o.ek.join(', ')}` : '';
    const certificates = o.ekCert ? ' and EK certificates at NV 0x01c00002 (RSA), 0x01c0000a (ECC)' : '';
    process.stdout.write(`manufactured a new TPM in ${store.path}${eks}${certificates}\n`);
  } finally {
    store.release();
  }
}

export function addManufactureCommand(program: Command): void {
  program.command('manufacture')
    .description('create a new TPM (fresh seeds) in a state directory; --ek also persists the TCG profile EKs (RSA at 0x81010001, '
      + 'ECC at 0x81010002), --ek-cert stores their certificates from the local CA (`mrtpm ca`) at NV 0x01c00002 and 0x01c0000a')
    .addOption(new Option('--state <dir>', 'state directory').default('./.mrtpm'))
    .addOption(new Option('--pcr-banks <list>', 'PCR banks, comma-separated: sha1,sha256,sha384,sha512')
      .argParser(parseBanks).default(parseBanks('sha256,sha384'), 'sha256,sha384'))
    .addOption(new Option('--ek <list>', `EKs to provision, comma-separated: ${EK_KINDS.join(',')}`).argParser(parseEks).default([], 'none'))
    .addOption(new Option('--ek-cert', 'issue EK certificates for the RSA and ECC EKs from the state directory\'s local CA (made if missing) into NV').default(false))
    .addOption(new Option('--force', 'replace a TPM the directory already holds').default(false))
    .action((o: ManufactureOptions) => run(o));
}
