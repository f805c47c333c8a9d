/**
 * Raw commands of Part 3 §24 (hierarchies) and §28.5 (EvictControl), with CreatePrimary and
 * ReadPublic to observe their effects. Laid out from Part 3, independent of the engine's codecs.
 */
import { Tpm } from '../../../src/tpm/engine/tpm.js';
import { manufacture } from '../../../src/tpm/state/initial-state.js';
import type { PersistentState } from '../../../src/tpm/state/tpm-state.js';
import { command, pwAuth, rcOf, tpm2b, u8, u16, u32 } from './tpm-wire.js';
import { STORAGE, eccTemplate } from './object-cmd.js';

export const CC = {
  EvictControl: 0x120, HierarchyControl: 0x121, ChangeEPS: 0x124, ChangePPS: 0x125, Clear: 0x126, ClearControl: 0x127,
  HierarchyChangeAuth: 0x129, SetPrimaryPolicy: 0x12e, CreatePrimary: 0x131, Startup: 0x144, FlushContext: 0x165,
  ReadPublic: 0x173, HashSequenceStart: 0x186, Shutdown: 0x145,
} as const;
export const RH = {
  OWNER: 0x40000001, NULL: 0x40000007, LOCKOUT: 0x4000000a, ENDORSEMENT: 0x4000000b, PLATFORM: 0x4000000c, PLATFORM_NV: 0x4000000d,
} as const;
export const RC = {
  SUCCESS: 0, VALUE: 0x084, HIERARCHY: 0x085, SIZE: 0x095, HANDLE: 0x08b, ATTRIBUTES: 0x082, RANGE: 0x08d, AUTH_FAIL: 0x08e,
  BAD_AUTH: 0x0a2, REFERENCE_H0: 0x910, DISABLED: 0x120, AUTH_TYPE: 0x124, NV_DEFINED: 0x14c,
  P1: 0x140, P2: 0x240, H1: 0x100, H2: 0x200, S1: 0x900,
} as const;
export { rcOf };

/** TPMT_PUBLIC of an ECC P-256 storage key (restricted decrypt, AES-128-CFB), with optional attribute bits. */
export const eccStorageTemplate = (extraAttributes = 0): Buffer => eccTemplate({ attributes: STORAGE | extraAttributes });

const sensitiveCreate = (userAuth: Uint8Array = Buffer.alloc(0)): Buffer => tpm2b(Buffer.concat([tpm2b(userAuth), u16(0)]));

export const commands = {
  createPrimary: (hierarchy: number, template: Uint8Array = eccStorageTemplate(), auth?: Uint8Array): Buffer =>
    command(CC.CreatePrimary, [hierarchy], [sensitiveCreate(), tpm2b(template), u16(0), u32(0)], [pwAuth(auth)]),
  readPublic: (handle: number): Buffer => command(CC.ReadPublic, [handle], []),
  flush: (handle: number): Buffer => command(CC.FlushContext, [], [u32(handle)]),
  clear: (auth: number = RH.LOCKOUT, password?: Uint8Array): Buffer => command(CC.Clear, [auth], [], [pwAuth(password)]),
  clearControl: (auth: number, disable: boolean): Buffer => command(CC.ClearControl, [auth], [u8(disable ? 1 : 0)], [pwAuth()]),
  hierarchyControl: (auth: number, enable: number, state: boolean): Buffer =>
    command(CC.HierarchyControl, [auth], [u32(enable), u8(state ? 1 : 0)], [pwAuth()]),
  changeAuth: (h: number, newAuth: Uint8Array, password?: Uint8Array): Buffer =>
    command(CC.HierarchyChangeAuth, [h], [tpm2b(newAuth)], [pwAuth(password)]),
  setPrimaryPolicy: (h: number, policy: Uint8Array, hashAlg: number): Buffer =>
    command(CC.SetPrimaryPolicy, [h], [tpm2b(policy), u16(hashAlg)], [pwAuth()]),
  changePps: (): Buffer => command(CC.ChangePPS, [RH.PLATFORM], [], [pwAuth()]),
  changeEps: (): Buffer => command(CC.ChangeEPS, [RH.PLATFORM], [], [pwAuth()]),
  evictControl: (auth: number, object: number, persistent: number, password?: Uint8Array): Buffer =>
    command(CC.EvictControl, [auth, object], [u32(persistent)], [pwAuth(password)]),
  hashSequenceStart: (): Buffer => command(CC.HashSequenceStart, [], [u16(0), u16(0x000b)]),
  startup: (su: number): Buffer => command(CC.Startup, [], [u16(su)]),
  shutdown: (su: number): Buffer => command(CC.Shutdown, [], [u16(su)]),
};

/** The handle and TPM2B_PUBLIC contents (TPMT_PUBLIC bytes) of a CreatePrimary response. */
export function primaryOut(r: Buffer): { handle: number; outPublic: Buffer } {
  if (rcOf(r) !== 0) throw new Error(`CreatePrimary: rc 0x${rcOf(r).toString(16)}`);
  return { handle: r.readUInt32BE(10), outPublic: r.subarray(20, 20 + r.readUInt16BE(18)) };
}

/** TPMT_PUBLIC bytes and Name of a ReadPublic response. */
export function readPublicOut(r: Buffer): { outPublic: Buffer; name: Buffer } {
  if (rcOf(r) !== 0) throw new Error(`ReadPublic: rc 0x${rcOf(r).toString(16)}`);
  const size = r.readUInt16BE(10);
  const nameAt = 12 + size;
  return { outPublic: r.subarray(12, nameAt), name: r.subarray(nameAt + 2, nameAt + 2 + r.readUInt16BE(nameAt)) };
}

/** A started TPM over `persistent` (a new one unless given), with raw execute helpers. */
export function hierarchyTpm(persistent: PersistentState = manufacture(), persistentChanged: (s: PersistentState) => void = () => undefined) {
  const tpm = new Tpm(persistent, undefined, { now: () => 0, persistentChanged });
  const run = (c: Buffer, client = 0): Buffer => Buffer.from(tpm.execute(c, 0, client).response);
  const ok = (c: Buffer, client = 0): Buffer => {
    const r = run(c, client);
    if (rcOf(r) !== 0) throw new Error(`command 0x${c.readUInt32BE(6).toString(16)} failed: rc 0x${rcOf(r).toString(16)}`);
    return r;
  };
  ok(commands.startup(0));
  /** The public area CreatePrimary gives in `hierarchy` for the default template; the object is flushed. */
  const primaryPublic = (hierarchy: number, auth?: Uint8Array): Buffer => {
    const { handle, outPublic } = primaryOut(ok(commands.createPrimary(hierarchy, eccStorageTemplate(), auth)));
    ok(commands.flush(handle));
    return Buffer.from(outPublic);
  };
  return { tpm, run, ok, primaryPublic };
}
