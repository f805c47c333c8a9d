/**
 * The PCR commands `mrtpm ima` sends (the banks, PCR_Read, PCR_Extend), over whatever carries
 * TPM commands: a serving vTPM's mssim port or the state opened in this process.
 */
import { getPcrAllocation, pcrExtend, pcrRead, readPcrAllocation, readPcrRead, responseCode, TpmResponseError } from '../client/tpm-requests.js';
import { indicesToSelection, selectionToIndices } from '../tpm/pcr/pcr-select.js';
import { TPM_RC, rcName } from '../tpm/spec/tpm-rc.js';

/** Carries one TPM command to a TPM and brings its response back. */
export interface TpmLink {
  execute(command: Uint8Array): Promise<Uint8Array>;
  close(): void;
}

/** A refused command, named with its response code (and what to do about TPM_RC_INITIALIZE). */
function explained(e: unknown): unknown {
  if (!(e instanceof TpmResponseError)) return e;
  return new Error(`${e.command}: ${rcName(e.rc)}${e.rc === TPM_RC.INITIALIZE ? ' (the TPM needs Startup: tpm2_startup -c)' : ''}`);
}

async function exchange<T>(link: TpmLink, command: Uint8Array, read: (response: Uint8Array) => T): Promise<T> {
  const response = await link.execute(command);
  try {
    return read(response);
  } catch (e) {
    throw explained(e);
  }
}

/** The TPM_ALG_IDs of the banks with PCRs allocated. */
export async function allocatedBanks(link: TpmLink): Promise<number[]> {
  const allocation = await exchange(link, getPcrAllocation(), readPcrAllocation);
  return allocation.filter((s) => selectionToIndices(s.pcrSelect).length > 0).map((s) => s.hash);
}

/** PCR values of one bank; PCR_Read answers at most 8 per call, so it asks until all came back. */
export async function readPcrs(link: TpmLink, hash: number, pcrs: readonly number[]): Promise<Map<number, Uint8Array>> {
  const values = new Map<number, Uint8Array>();
  let left = [...pcrs];
  while (left.length > 0) {
    const { selection, digests } = await exchange(link, pcrRead([{ hash, pcrSelect: indicesToSelection(left) }]), readPcrRead);
    const got = selection.flatMap((s) => selectionToIndices(s.pcrSelect));
    if (got.length === 0 || digests.length !== got.length) throw new Error('PCR_Read returned no PCR values');
    got.forEach((pcr, i) => values.set(pcr, Uint8Array.from(digests[i]!)));
    left = left.filter((p) => !values.has(p));
  }
  return values;
}

/** PCR_Extend of `pcr` in each of `banks` with that bank's hash of `data`. */
export async function extendPcr(link: TpmLink, pcr: number, banks: readonly number[], data: Uint8Array): Promise<void> {
  await exchange(link, pcrExtend(pcr, banks, data), (response) => {
    if (responseCode(response) !== TPM_RC.SUCCESS) throw new TpmResponseError('PCR_Extend', responseCode(response));
  });
}
