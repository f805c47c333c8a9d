/**
 * Raw command builders and response readers for the PCR and hash tests. Written from Part 3's
 * command layouts, independent of the engine's codecs on purpose.
 */
import { createHash } from 'node:crypto';
import { Tpm } from '../../../src/tpm/engine/tpm.js';
import { manufacture } from '../../../src/tpm/state/initial-state.js';
import type { PcrObserver } from '../../../src/tpm/pcr/pcr-banks.js';
import { command, pwAuth, rcOf, tpm2b, u8, u16, u32 } from './tpm-wire.js';

export const ALG = { sha1: 0x0004, sha256: 0x000b, sha384: 0x000c, sha512: 0x000d, null: 0x0010, sm3: 0x0012 } as const;
export type Bank = 'sha1' | 'sha256' | 'sha384' | 'sha512';
export const BANKS: Bank[] = ['sha1', 'sha256', 'sha384', 'sha512'];
export const SIZE: Record<Bank, number> = { sha1: 20, sha256: 32, sha384: 48, sha512: 64 };
export const bankOf = (alg: number): Bank => BANKS.find((b) => ALG[b] === alg)!;

export const CC = {
  PCR_Allocate: 0x12b, PCR_Event: 0x13c, PCR_Reset: 0x13d, SequenceComplete: 0x13e, Startup: 0x144, Shutdown: 0x145,
  SequenceUpdate: 0x15c, Hash: 0x17d, PCR_Read: 0x17e, PCR_Extend: 0x182, EventSequenceComplete: 0x185,
  HashSequenceStart: 0x186, FlushContext: 0x165,
} as const;
export const RH = { OWNER: 0x40000001, NULL: 0x40000007, PW: 0x40000009, ENDORSEMENT: 0x4000000b, PLATFORM: 0x4000000c } as const;
export const ST_HASHCHECK = 0x8024;

export { u8, u16, u32, tpm2b, rcOf };

/** TPMS_AUTH_COMMAND of the password session. */
export const pw = (password?: Uint8Array): Buffer => pwAuth(password);

/** A command: header, handles, optional authorization area, parameters. */
export const cmd = command;

export type Selection = [alg: number, select: number[]];
export const selection = (list: Selection[]): Buffer =>
  Buffer.concat([u32(list.length), ...list.map(([alg, s]) => Buffer.concat([u16(alg), u8(s.length), Buffer.from(s)]))]);
/** A select bitmap of `size` octets with the given PCRs set. */
export function bits(pcrs: number[], size = 3): number[] {
  const out = new Array<number>(size).fill(0);
  for (const p of pcrs) out[p >> 3]! |= 1 << (p & 7);
  return out;
}
export const digestValues = (list: [alg: number, digest: Uint8Array][]): Buffer =>
  Buffer.concat([u32(list.length), ...list.map(([alg, d]) => Buffer.concat([u16(alg), d]))]);

export const commands = {
  startup: (su = 0): Buffer => cmd(CC.Startup, [], [u16(su)]),
  shutdown: (su = 0): Buffer => cmd(CC.Shutdown, [], [u16(su)]),
  extend: (pcr: number, digests: [number, Uint8Array][]): Buffer => cmd(CC.PCR_Extend, [pcr], [digestValues(digests)], [pw()]),
  event: (pcr: number, data: Uint8Array): Buffer => cmd(CC.PCR_Event, [pcr], [tpm2b(data)], [pw()]),
  reset: (pcr: number): Buffer => cmd(CC.PCR_Reset, [pcr], [], [pw()]),
  read: (list: Selection[]): Buffer => cmd(CC.PCR_Read, [], [selection(list)]),
  allocate: (list: Selection[], auth: number = RH.PLATFORM): Buffer => cmd(CC.PCR_Allocate, [auth], [selection(list)], [pw()]),
  hash: (data: Uint8Array, alg: number, hierarchy: number): Buffer => cmd(CC.Hash, [], [tpm2b(data), u16(alg), u32(hierarchy)]),
  hashSequenceStart: (alg: number, auth: Uint8Array = Buffer.alloc(0)): Buffer => cmd(CC.HashSequenceStart, [], [tpm2b(auth), u16(alg)]),
  sequenceUpdate: (seq: number, data: Uint8Array, auth?: Uint8Array): Buffer => cmd(CC.SequenceUpdate, [seq], [tpm2b(data)], [pw(auth)]),
  sequenceComplete: (seq: number, data: Uint8Array, hierarchy: number, auth?: Uint8Array): Buffer =>
    cmd(CC.SequenceComplete, [seq], [tpm2b(data), u32(hierarchy)], [pw(auth)]),
  eventSequenceComplete: (pcr: number, seq: number, data: Uint8Array, auth?: Uint8Array): Buffer =>
    cmd(CC.EventSequenceComplete, [pcr, seq], [tpm2b(data)], [pw(), pw(auth)]),
  flush: (handle: number): Buffer => cmd(CC.FlushContext, [], [u32(handle)]),
};


/** A cursor over a successful response's parameters (past the handle and parameterSize when present). */
export class Params {
  private at: number;
  readonly buf: Buffer;
  constructor(response: Uint8Array, handles = 0) {
    this.buf = Buffer.from(response);
    if (rcOf(this.buf) !== 0) throw new Error(`response code 0x${rcOf(this.buf).toString(16)}`);
    this.at = 10 + 4 * handles + (this.buf.readUInt16BE(0) === 0x8002 ? 4 : 0);
  }
  u8(): number { return this.buf.readUInt8((this.at += 1) - 1); }
  u16(): number { return this.buf.readUInt16BE((this.at += 2) - 2); }
  u32(): number { return this.buf.readUInt32BE((this.at += 4) - 4); }
  bytes(n: number): Buffer { return this.buf.subarray(this.at, (this.at += n)); }
  b2(): Buffer { return this.bytes(this.u16()); }
}

export interface PcrReadOut { counter: number; selection: Selection[]; values: Buffer[] }
export function parseRead(r: Uint8Array): PcrReadOut {
  const p = new Params(r);
  const counter = p.u32();
  const selection: Selection[] = Array.from({ length: p.u32() }, () => {
    const alg = p.u16();
    return [alg, [...p.bytes(p.u8())]];
  });
  const values = Array.from({ length: p.u32() }, () => p.b2());
  return { counter, selection, values };
}
export function parseDigestValues(p: Params): [alg: number, digest: Buffer][] {
  return Array.from({ length: p.u32() }, () => {
    const alg = p.u16();
    return [alg, p.bytes(SIZE[bankOf(alg)])];
  });
}

/** An independent PCR model: H(old || digest) per bank. */
export const extendValue = (bank: Bank, old: Uint8Array, digest: Uint8Array): Buffer =>
  createHash(bank).update(old).update(digest).digest();
export const digest = (bank: Bank, data: Uint8Array): Buffer => createHash(bank).update(data).digest();

/** A manufactured, started TPM (banks sha256 + sha384 unless given) with a test-side execute. */
export function startedTpm(banks: number[] = [ALG.sha256, ALG.sha384], observer?: PcrObserver) {
  const tpm = new Tpm(manufacture(banks), undefined, { now: () => 0, persistentChanged: () => undefined, pcrObserver: observer });
  const run = (c: Buffer, locality = 0, client = 0): Buffer => Buffer.from(tpm.execute(c, locality, client).response);
  const ok = (c: Buffer, locality = 0): Buffer => {
    const r = run(c, locality);
    if (rcOf(r) !== 0) throw new Error(`command 0x${c.readUInt32BE(6).toString(16)} failed: 0x${rcOf(r).toString(16)}`);
    return r;
  };
  ok(commands.startup());
  const readOne = (bank: Bank, pcr: number): Buffer => parseRead(ok(commands.read([[ALG[bank], bits([pcr])]]))).values[0]!;
  return { tpm, run, ok, readOne };
}
