/**
 * The three PCR commands mrtpm's own tools send to a TPM (GetCapability(PCRS), PCR_Read,
 * PCR_Extend), as tpm2-tools would send them, over whatever carries TPM commands.
 */
import { Writer } from '../tpm/marshal/writer.js';
import { Reader } from '../tpm/marshal/reader.js';
import { TPM_CAP, TPM_RS_PW, TPM_ST } from '../tpm/spec/constants.js';
import { TPM_CC } from '../tpm/spec/tpm-cc.js';
import { TPM_RC, rcName } from '../tpm/spec/tpm-rc.js';
import { hashInfo } from '../tpm/spec/hash-algs.js';
import { TPML_DIGEST, TPML_DIGEST_VALUES, TPML_PCR_SELECTION } from '../tpm/marshal/types.js';
import { indicesToSelection, selectionToIndices } from '../tpm/pcr/pcr-select.js';

/** Carries one TPM command to a TPM and brings its response back. */
export interface TpmLink {
  execute(command: Uint8Array): Promise<Uint8Array>;
  close(): void;
}

export class TpmResponseError extends Error {
  constructor(command: string, readonly rc: number) {
    super(`${command}: ${rcName(rc)}${rc === TPM_RC.INITIALIZE ? ' (the TPM needs Startup: tpm2_startup -c)' : ''}`);
  }
}

function command(tag: number, cc: number, body: (w: Writer) => void): Uint8Array {
  const w = new Writer().u16(tag).u32(0).u32(cc);
  body(w);
  w.patchU32(2, w.length);
  return w.finish();
}

async function run(link: TpmLink, name: string, cmd: Uint8Array): Promise<Reader> {
  const r = new Reader(await link.execute(cmd));
  r.u16();
  r.u32();
  const rc = r.u32();
  if (rc !== TPM_RC.SUCCESS) throw new TpmResponseError(name, rc);
  return r;
}

/** The TPM_ALG_IDs of the banks with PCRs allocated (TPM2_GetCapability(TPM_CAP_PCRS)). */
export async function allocatedBanks(link: TpmLink): Promise<number[]> {
  const r = await run(link, 'TPM2_GetCapability', command(TPM_ST.NO_SESSIONS, TPM_CC.GetCapability, (w) => w.u32(TPM_CAP.PCRS).u32(0).u32(1)));
  r.u8();
  r.u32();
  return TPML_PCR_SELECTION.read(r).filter((s) => selectionToIndices(s.pcrSelect).length > 0).map((s) => s.hash);
}

/** PCR values of one bank; PCR_Read answers at most 8 per call, so it asks until all came back. */
export async function readPcrs(link: TpmLink, hash: number, pcrs: readonly number[]): Promise<Map<number, Uint8Array>> {
  const values = new Map<number, Uint8Array>();
  let left = [...pcrs];
  while (left.length > 0) {
    const r = await run(link, 'TPM2_PCR_Read', command(TPM_ST.NO_SESSIONS, TPM_CC.PCR_Read, (w) => {
      TPML_PCR_SELECTION.write(w, [{ hash, pcrSelect: indicesToSelection(left) }]);
    }));
    r.u32();
    const got = TPML_PCR_SELECTION.read(r).flatMap((s) => selectionToIndices(s.pcrSelect));
    const digests = TPML_DIGEST.read(r);
    if (got.length === 0 || digests.length !== got.length) throw new Error(`TPM2_PCR_Read of ${hashInfo(hash)?.name ?? hash} returned no PCR values`);
    got.forEach((pcr, i) => values.set(pcr, Uint8Array.from(digests[i]!)));
    left = left.filter((p) => !values.has(p));
  }
  return values;
}

/** TPM2_PCR_Extend with one digest per bank, authorized by the empty password (PCR authValue). */
export async function extendPcr(link: TpmLink, pcr: number, digests: ReadonlyMap<number, Uint8Array>): Promise<void> {
  await run(link, 'TPM2_PCR_Extend', command(TPM_ST.SESSIONS, TPM_CC.PCR_Extend, (w) => {
    w.u32(pcr).u32(9).u32(TPM_RS_PW).u16(0).u8(0).u16(0);
    TPML_DIGEST_VALUES.write(w, [...digests].map(([hashAlg, digest]) => ({ hashAlg, digest })));
  }));
}
