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

const PCR_SELECT_SIZE = 3;

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

const bitmap = (pcrs: readonly number[]): Uint8Array => {
  const b = new Uint8Array(PCR_SELECT_SIZE);
  for (const p of pcrs) b[p >> 3]! |= 1 << (p & 7);
  return b;
};

function readSelection(r: Reader): { hash: number; pcrs: number[] }[] {
  const out: { hash: number; pcrs: number[] }[] = [];
  for (let n = r.u32(); n > 0; n--) {
    const hash = r.u16();
    const select = r.bytes(r.u8());
    const pcrs: number[] = [];
    select.forEach((byte, i) => { for (let bit = 0; bit < 8; bit++) if (byte & (1 << bit)) pcrs.push(i * 8 + bit); });
    out.push({ hash, pcrs });
  }
  return out;
}

/** The TPM_ALG_IDs of the banks with PCRs allocated (TPM2_GetCapability(TPM_CAP_PCRS)). */
export async function allocatedBanks(link: TpmLink): Promise<number[]> {
  const r = await run(link, 'TPM2_GetCapability', command(TPM_ST.NO_SESSIONS, TPM_CC.GetCapability, (w) => w.u32(TPM_CAP.PCRS).u32(0).u32(1)));
  r.u8();
  r.u32();
  return readSelection(r).filter((s) => s.pcrs.length > 0).map((s) => s.hash);
}

/** PCR values of one bank; PCR_Read answers at most 8 per call, so it asks until all came back. */
export async function readPcrs(link: TpmLink, hash: number, pcrs: readonly number[]): Promise<Map<number, Uint8Array>> {
  const values = new Map<number, Uint8Array>();
  let left = [...pcrs];
  while (left.length > 0) {
    const r = await run(link, 'TPM2_PCR_Read', command(TPM_ST.NO_SESSIONS, TPM_CC.PCR_Read, (w) => {
      w.u32(1).u16(hash).u8(PCR_SELECT_SIZE).bytes(bitmap(left));
    }));
    r.u32();
    const got = readSelection(r).flatMap((s) => s.pcrs);
    const count = r.u32();
    if (got.length === 0 || count !== got.length) throw new Error(`TPM2_PCR_Read of ${hashInfo(hash)?.name ?? hash} returned no PCR values`);
    for (const pcr of got) values.set(pcr, Uint8Array.from(r.bytes(r.u16())));
    left = left.filter((p) => !values.has(p));
  }
  return values;
}

/** TPM2_PCR_Extend with one digest per bank, authorized by the empty password (PCR authValue). */
export async function extendPcr(link: TpmLink, pcr: number, digests: ReadonlyMap<number, Uint8Array>): Promise<void> {
  await run(link, 'TPM2_PCR_Extend', command(TPM_ST.SESSIONS, TPM_CC.PCR_Extend, (w) => {
    w.u32(pcr).u32(9).u32(TPM_RS_PW).u16(0).u8(0).u16(0).u32(digests.size);
    for (const [alg, digest] of digests) w.u16(alg).bytes(digest);
  }));
}
