/** Raw NV commands (Part 3 §31) for engine tests, with TPMA_NV bits written out independently of the engine. */
import { command, pwAuth, tpm2b, u16, u32, u64 } from './tpm-wire.js';

export const NV_CC = {
  UndefineSpaceSpecial: 0x11f, UndefineSpace: 0x122, DefineSpace: 0x12a, GlobalWriteLock: 0x132, Increment: 0x134,
  SetBits: 0x135, Extend: 0x136, Write: 0x137, WriteLock: 0x138, ChangeAuth: 0x13b, Read: 0x14e, ReadLock: 0x14f, ReadPublic: 0x169,
} as const;

export const NVA = {
  PPWRITE: 1 << 0, OWNERWRITE: 1 << 1, AUTHWRITE: 1 << 2, POLICYWRITE: 1 << 3, COUNTER: 1 << 4, BITS: 2 << 4, EXTEND: 4 << 4,
  POLICY_DELETE: 1 << 10, WRITELOCKED: 1 << 11, WRITEALL: 1 << 12, WRITEDEFINE: 1 << 13, WRITE_STCLEAR: 1 << 14,
  GLOBALLOCK: 1 << 15, PPREAD: 1 << 16, OWNERREAD: 1 << 17, AUTHREAD: 1 << 18, POLICYREAD: 1 << 19, NO_DA: 1 << 25,
  ORDERLY: 1 << 26, CLEAR_STCLEAR: 1 << 27, READLOCKED: 1 << 28, WRITTEN: 1 << 29, PLATFORMCREATE: 1 << 30, READ_STCLEAR: 2 ** 31,
} as const;

export const NV_RC = {
  NV_RANGE: 0x146, NV_LOCKED: 0x148, NV_AUTHORIZATION: 0x149, NV_UNINITIALIZED: 0x14a, NV_SPACE: 0x14b, NV_DEFINED: 0x14c,
  AUTH_UNAVAILABLE: 0x12f,
} as const;

const SHA256 = 0x000b;

export interface NvDef { index: number; attributes: number; size: number; nameAlg?: number; policy?: Uint8Array }

export const nvPublic = (d: NvDef): Buffer =>
  Buffer.concat([u32(d.index), u16(d.nameAlg ?? SHA256), u32(d.attributes), tpm2b(d.policy ?? Buffer.alloc(0)), u16(d.size)]);

export const nv = {
  define: (auth: number, d: NvDef, indexAuth: Uint8Array = Buffer.alloc(0), password?: Uint8Array): Buffer =>
    command(NV_CC.DefineSpace, [auth], [tpm2b(indexAuth), tpm2b(nvPublic(d))], [pwAuth(password)]),
  undefine: (auth: number, index: number): Buffer => command(NV_CC.UndefineSpace, [auth, index], [], [pwAuth()]),
  readPublic: (index: number): Buffer => command(NV_CC.ReadPublic, [index], []),
  write: (auth: number, index: number, data: Uint8Array, offset = 0, password?: Uint8Array): Buffer =>
    command(NV_CC.Write, [auth, index], [tpm2b(data), u16(offset)], [pwAuth(password)]),
  read: (auth: number, index: number, size: number, offset = 0, password?: Uint8Array): Buffer =>
    command(NV_CC.Read, [auth, index], [u16(size), u16(offset)], [pwAuth(password)]),
  increment: (auth: number, index: number, password?: Uint8Array): Buffer => command(NV_CC.Increment, [auth, index], [], [pwAuth(password)]),
  extend: (auth: number, index: number, data: Uint8Array): Buffer => command(NV_CC.Extend, [auth, index], [tpm2b(data)], [pwAuth()]),
  setBits: (auth: number, index: number, bits: bigint): Buffer => command(NV_CC.SetBits, [auth, index], [u64(bits)], [pwAuth()]),
  writeLock: (auth: number, index: number): Buffer => command(NV_CC.WriteLock, [auth, index], [], [pwAuth()]),
  readLock: (auth: number, index: number): Buffer => command(NV_CC.ReadLock, [auth, index], [], [pwAuth()]),
  globalWriteLock: (auth: number): Buffer => command(NV_CC.GlobalWriteLock, [auth], [], [pwAuth()]),
};

/** NV_ReadPublic's response: TPMS_NV_PUBLIC bytes, its attributes and the Name. */
export function readPublicOut(r: Buffer): { nvPublic: Buffer; attributes: number; name: Buffer } {
  const n = r.readUInt16BE(10);
  const nvPublic = r.subarray(12, 12 + n);
  const nameSize = r.readUInt16BE(12 + n);
  return { nvPublic, attributes: nvPublic.readUInt32BE(6), name: r.subarray(14 + n, 14 + n + nameSize) };
}

/** NV_Read's data (response with sessions: parameterSize first). */
export const readOut = (r: Buffer): Buffer => r.subarray(16, 16 + r.readUInt16BE(14));
