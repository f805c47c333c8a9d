/**
 * Raw commands of Part 3 §25 (dictionary attack) and §29 (clock) for engine tests, and a TPM with
 * a controllable host clock that can be restarted (orderly, non-orderly, or in a new process).
 */
import { Tpm } from '../../../src/tpm/engine/tpm.js';
import { manufacture } from '../../../src/tpm/state/initial-state.js';
import { stateFromJson, stateToJson } from '../../../src/tpm/state/serialize.js';
import type { PersistentState, VolatileState } from '../../../src/tpm/state/tpm-state.js';
import { command, pwAuth, rcOf, tpm2b, u8, u16, u32, u64 } from './tpm-wire.js';

export const DA_CC = {
  DictionaryAttackLockReset: 0x139, DictionaryAttackParameters: 0x13a, ClockSet: 0x128, ClockRateAdjust: 0x130,
  ReadClock: 0x181, GetCapability: 0x17a, Startup: 0x144, Shutdown: 0x145, Unseal: 0x15e, CreatePrimary: 0x131,
  HierarchyChangeAuth: 0x129, Clear: 0x126,
} as const;
export const DA_RH = { OWNER: 0x40000001, LOCKOUT: 0x4000000a, ENDORSEMENT: 0x4000000b, PLATFORM: 0x4000000c } as const;
export const DA_RC = {
  AUTH_FAIL_S1: 0x98e, BAD_AUTH_S1: 0x9a2, LOCKOUT: 0x921, VALUE_P1: 0x1c4, VALUE_H1: 0x184,
} as const;
/** TPM_PT values of the variable group (Part 2 table 23). */
export const PT = { PERMANENT: 0x200, LOCKOUT_COUNTER: 0x20e, MAX_AUTH_FAIL: 0x20f, LOCKOUT_INTERVAL: 0x210, LOCKOUT_RECOVERY: 0x211 } as const;
export const TPMA_PERMANENT_IN_LOCKOUT = 1 << 9;

const SECOND = 1000;

export const da = {
  lockReset: (password?: Uint8Array, handle: number = DA_RH.LOCKOUT): Buffer =>
    command(DA_CC.DictionaryAttackLockReset, [handle], [], [pwAuth(password)]),
  parameters: (maxTries: number, recoveryTime: number, lockoutRecovery: number, password?: Uint8Array): Buffer =>
    command(DA_CC.DictionaryAttackParameters, [DA_RH.LOCKOUT], [u32(maxTries), u32(recoveryTime), u32(lockoutRecovery)], [pwAuth(password)]),
  changeAuth: (h: number, newAuth: Uint8Array, password?: Uint8Array): Buffer =>
    command(DA_CC.HierarchyChangeAuth, [h], [tpm2b(newAuth)], [pwAuth(password)]),
  clear: (password?: Uint8Array): Buffer => command(DA_CC.Clear, [DA_RH.LOCKOUT], [], [pwAuth(password)]),
  unseal: (h: number, password?: Uint8Array): Buffer => command(DA_CC.Unseal, [h], [], [pwAuth(password)]),
  clockSet: (auth: number, newTime: bigint, password?: Uint8Array): Buffer => command(DA_CC.ClockSet, [auth], [u64(newTime)], [pwAuth(password)]),
  /** rateAdjust is the TPM_CLOCK_ADJUST octet (an INT8 on the wire). */
  clockRateAdjust: (auth: number, rateAdjust: number): Buffer => command(DA_CC.ClockRateAdjust, [auth], [u8(rateAdjust & 0xff)], [pwAuth()]),
  readClock: (): Buffer => command(DA_CC.ReadClock, [], []),
  properties: (first: number, count: number): Buffer => command(DA_CC.GetCapability, [], [u32(6), u32(first), u32(count)]),
  startup: (su = 0): Buffer => command(DA_CC.Startup, [], [u16(su)]),
  shutdown: (su = 0): Buffer => command(DA_CC.Shutdown, [], [u16(su)]),
};

/** TPMS_TIME_INFO of a ReadClock response. */
export function readClockOut(r: Buffer): { time: bigint; clock: bigint; resetCount: number; restartCount: number; safe: number } {
  return { time: r.readBigUInt64BE(10), clock: r.readBigUInt64BE(18), resetCount: r.readUInt32BE(26), restartCount: r.readUInt32BE(30), safe: r[34]! };
}

/** TPM properties of a GetCapability(TPM_PROPERTIES) response, as property -> value. */
export function propertiesOut(r: Buffer): Map<number, number> {
  const count = r.readUInt32BE(15);
  return new Map(Array.from({ length: count }, (_, i) => [r.readUInt32BE(19 + 8 * i), r.readUInt32BE(23 + 8 * i)]));
}

/**
 * A started TPM whose host clock the test moves (`advance`), whose persistent state is written
 * through the JSON codec on every change (as the store does), and which can be restarted.
 */
export class DaTpm {
  now = 0;
  tpm: Tpm;
  /** failedTries as the last persistent write carried it: what a power loss right after the response would keep. */
  written: PersistentState;

  constructor(persistent: PersistentState = manufacture()) {
    this.written = persistent;
    this.tpm = this.boot(persistent, undefined);
    this.ok(da.startup());
  }

  private boot(persistent: PersistentState, volatile: VolatileState | undefined): Tpm {
    return new Tpm(persistent, volatile, {
      now: () => this.now,
      persistentChanged: (s) => void (this.written = stateFromJson<PersistentState>(stateToJson(s))),
    });
  }

  advance(seconds: number): void {
    this.now += seconds * SECOND;
  }
  run(c: Buffer): Buffer {
    return Buffer.from(this.tpm.execute(c).response);
  }
  rc(c: Buffer): number {
    return rcOf(this.run(c));
  }
  ok(c: Buffer): Buffer {
    const r = this.run(c);
    if (rcOf(r) !== 0) throw new Error(`command 0x${c.readUInt32BE(6).toString(16)} failed: rc 0x${rcOf(r).toString(16)}`);
    return r;
  }
  property(pt: number): number {
    return propertiesOut(this.ok(da.properties(pt, 1))).get(pt)!;
  }
  get failedTries(): number {
    return this.property(PT.LOCKOUT_COUNTER);
  }

  /**
   * Power cycle from the last persistent write, then Startup(CLEAR): with Shutdown(CLEAR) first
   * when `orderly`; otherwise the power simply goes (a crash).
   */
  powerCycle(orderly: boolean): void {
    if (orderly) this.ok(da.shutdown());
    this.powerLoss();
    this.ok(da.startup());
  }

  /** Power goes and comes back: only the last persistent write remains; the TPM awaits Startup. */
  powerLoss(): void {
    this.tpm = this.boot(stateFromJson<PersistentState>(stateToJson(this.written)), undefined);
  }

  /** The TPM stays powered, the process does not: the next one takes over persistent and volatile state (tcti-cmd). */
  newProcess(): void {
    const volatile = stateFromJson<VolatileState>(stateToJson(this.tpm.volatile));
    this.tpm = this.boot(stateFromJson<PersistentState>(stateToJson(this.written)), volatile);
  }
}
