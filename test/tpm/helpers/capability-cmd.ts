/** Raw-bytes helpers for the capability/testing/random/clock engine tests. */
import assert from 'node:assert/strict';
import { Tpm } from '../../../src/tpm/engine/tpm.js';
import { manufacture } from '../../../src/tpm/state/initial-state.js';
import type { PersistentState } from '../../../src/tpm/state/tpm-state.js';
import { command, rcOf, tpm2b, u8, u16, u32 } from './tpm-wire.js';

export const CC = {
  Startup: 0x144, Shutdown: 0x145, SelfTest: 0x143, IncrementalSelfTest: 0x142, StirRandom: 0x146,
  GetCapability: 0x17a, GetRandom: 0x17b, GetTestResult: 0x17c, ReadClock: 0x181, TestParms: 0x18a,
  StartAuthSession: 0x176, HashSequenceStart: 0x186,
} as const;
export const CAP = {
  ALGS: 0, HANDLES: 1, COMMANDS: 2, PP_COMMANDS: 3, AUDIT_COMMANDS: 4, PCRS: 5, TPM_PROPERTIES: 6,
  PCR_PROPERTIES: 7, ECC_CURVES: 8, AUTH_POLICIES: 9, ACT: 10,
} as const;

export const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
export { u8, u16, u32, tpm2b, rcOf };

/** A TPM_ST_NO_SESSIONS command with the size filled in. */
export const cmd = (cc: number, ...parts: Uint8Array[]): Buffer => command(cc, [], parts);


/** A TPM after Startup(CLEAR), with a controllable clock and helpers that run raw commands. */
export class TestTpm {
  now = 1000;
  readonly tpm: Tpm;
  constructor(persistent: PersistentState = manufacture()) {
    this.tpm = new Tpm(persistent, undefined, { now: () => this.now, persistentChanged: () => undefined });
    this.ok(cmd(CC.Startup, u16(0)));
  }
  run(command: Uint8Array, client = 0): Buffer {
    return Buffer.from(this.tpm.execute(command, 0, client).response);
  }
  /** Runs a command that must succeed; returns the whole response. */
  ok(command: Uint8Array, client = 0): Buffer {
    const r = this.run(command, client);
    assert.equal(rcOf(r), 0, `rc 0x${rcOf(r).toString(16)} for ${Buffer.from(command).toString('hex')}`);
    assert.equal(r.readUInt32BE(2), r.length, 'response size field');
    return r;
  }
  /** Response parameters of a successful TPM_ST_NO_SESSIONS command. */
  params(command: Uint8Array, client = 0): Buffer {
    return this.ok(command, client).subarray(10);
  }
  get core() {
    return this.tpm.tpmCore;
  }
}

export const getCap = (capability: number, property: number, count: number): Buffer =>
  cmd(CC.GetCapability, u32(capability), u32(property), u32(count));

/** A GetCapability answer, parsed by hand (independently of the engine's codecs). */
export interface CapPage {
  moreData: number;
  capability: number;
  /** Raw list elements, each as its own buffer. */
  items: Buffer[];
}

/** Fixed element sizes by capability; PCRS and PCR_PROPERTIES carry their own sizes. */
const ITEM_SIZE: Record<number, number> = {
  [CAP.ALGS]: 6, [CAP.HANDLES]: 4, [CAP.COMMANDS]: 4, [CAP.PP_COMMANDS]: 4, [CAP.AUDIT_COMMANDS]: 4,
  [CAP.TPM_PROPERTIES]: 8, [CAP.ECC_CURVES]: 2, [CAP.ACT]: 12,
};

export function parseCap(params: Buffer): CapPage {
  const moreData = params.readUInt8(0);
  const capability = params.readUInt32BE(1);
  const count = params.readUInt32BE(5);
  let at = 9;
  const items: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    let size = ITEM_SIZE[capability];
    if (capability === CAP.PCRS) size = 3 + params.readUInt8(at + 2);
    if (capability === CAP.PCR_PROPERTIES) size = 5 + params.readUInt8(at + 4);
    if (capability === CAP.AUTH_POLICIES) {
      const alg = params.readUInt16BE(at + 4);
      size = 6 + ({ 0x10: 0, 0x04: 20, 0x0b: 32, 0x0c: 48, 0x0d: 64 } as Record<number, number>)[alg]!;
    }
    items.push(params.subarray(at, at + size!));
    at += size!;
  }
  assert.equal(at, params.length, 'no trailing bytes after the capability list');
  return { moreData, capability, items };
}

/** The key by which tpm2-tools continues a capability walk: the property of the last element. */
export function itemKey(capability: number, item: Buffer): number {
  switch (capability) {
    case CAP.ALGS: case CAP.ECC_CURVES: return item.readUInt16BE(0);
    case CAP.COMMANDS: return item.readUInt32BE(0) & 0xffff;
    default: return item.readUInt32BE(0);
  }
}

/**
 * Walks a capability as tpm2-tools does (property = last + 1 while moreData), `count` at a time,
 * and returns every element; fails if the walk does not terminate.
 */
export function walk(t: TestTpm, capability: number, property: number, count: number): Buffer[] {
  const out: Buffer[] = [];
  for (let guard = 0; guard < 1000; guard++) {
    const page = parseCap(t.params(getCap(capability, property, count)));
    assert.equal(page.capability, capability);
    out.push(...page.items);
    if (!page.moreData) return out;
    assert.ok(page.items.length > 0, 'moreData with an empty page');
    property = itemKey(capability, page.items.at(-1)!) + 1;
  }
  assert.fail('capability walk did not end');
}

/** TPM properties as a map property -> value. */
export function propertyMap(items: Buffer[]): Map<number, number> {
  return new Map(items.map((b) => [b.readUInt32BE(0), b.readUInt32BE(4)]));
}
