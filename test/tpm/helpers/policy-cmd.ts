/**
 * Policy command tests' client side: a started engine with a clock the test moves, policy
 * commands as raw bytes, and the policy digest formulas of Part 3 §23 written with node:crypto.
 */
import { Tpm } from '../../../src/tpm/engine/tpm.js';
import { manufacture } from '../../../src/tpm/state/initial-state.js';
import { command, pwAuth, tpm2b, u16, u32, u8 } from './tpm-wire.js';
import { parseResponse, sha, hex, type Response } from './session-cmd.js';
import { OCC, TEMPLATES, createLoaded, ok, ownerPrimary } from './object-cmd.js';

export const PCC = {
  PolicySecret: 0x151,
  PolicySigned: 0x160,
  PolicyTicket: 0x172,
  PolicyOR: 0x171,
  PolicyLocality: 0x16f,
  PolicyCounterTimer: 0x16d,
  PolicyCpHash: 0x16e,
  PolicyNameHash: 0x170,
  PolicyAuthorize: 0x16a,
  PolicyAuthValue: 0x16b,
  PolicyCommandCode: 0x16c,
  PolicyPhysicalPresence: 0x187,
  PolicyDuplicationSelect: 0x188,
  PolicyTemplate: 0x190,
  PolicyNvWritten: 0x18f,
  PolicyAuthorizeNV: 0x192,
  PolicyRestart: 0x180,
  PolicyGetDigest: 0x189,
  StartAuthSession: 0x176,
  Unseal: 0x15e,
  Create: 0x153,
  CreatePrimary: 0x131,
  VerifySignature: 0x177,
  Duplicate: 0x14b,
  LoadExternal: 0x167,
} as const;
export const SHA256 = 0x0b;
export const TRIAL = 3;
export const POLICY = 1;
export const OWNER = 0x40000001;
export const ENDORSEMENT = 0x4000000b;
export const NULL_RH = 0x40000007;
export const EMPTY = Buffer.alloc(0);
export const ZERO = Buffer.alloc(32);

/** A started engine whose TPMS_TIME_INFO.time follows `clock.ms`. */
export function policyTpm() {
  const clock = { ms: 0 };
  const tpm = new Tpm(manufacture(), undefined, { now: () => clock.ms, persistentChanged: () => undefined });
  tpm.powerOn();
  const run = (c: Buffer, locality = 0): Response => parseResponse(tpm.execute(c, locality, 0).response);
  const must = (c: Buffer, what = 'command'): Response => {
    const r = run(c);
    if (r.rc !== 0) throw new Error(`${what}: ${hex(r.rc)}`);
    return r;
  };
  must(command(0x144, [], [u16(0)]), 'Startup');
  /** An unsalted, unbound SHA-256 session of `type`; its handle and nonceTPM. */
  const start = (type: number) => {
    const r = must(command(PCC.StartAuthSession, [NULL_RH, NULL_RH], [tpm2b(Buffer.alloc(32, 7)), tpm2b(EMPTY), u8(type), u16(0x10), u16(SHA256)]));
    return { handle: r.body.readUInt32BE(0), nonceTPM: Buffer.from(r.body.subarray(6, 6 + r.body.readUInt16BE(4))) };
  };
  const digest = (h: number): Buffer => {
    const r = must(command(PCC.PolicyGetDigest, [h], []));
    return Buffer.from(r.body.subarray(2, 2 + r.body.readUInt16BE(0)));
  };
  /** A sealed object under an owner primary with this authPolicy (userWithAuth clear). */
  const sealed = (authPolicy: Buffer, data = Buffer.from('secret')) => {
    const parent = ok(run(ownerPrimary(TEMPLATES.storage)), true).handle;
    const { handle, fields } = ok(run(createLoaded(parent, TEMPLATES.sealed(0x02 | 0x10, authPolicy), EMPTY, data)), true);
    fields.tpm2b(); fields.tpm2b();
    return { parent, handle, name: fields.tpm2b() };
  };
  /** Unseal of `h` authorized by policy session `s` (no HMAC: unbound, unsalted, no authValue). */
  const unseal = (h: number, s: number, attributes = 1, locality = 0): Response =>
    run(command(OCC.Unseal, [h], [], [policyAuthArea(s, attributes)]), locality);
  return { tpm, clock, run, must, start, digest, sealed, unseal };
}

export const policyAuthArea = (s: number, attributes = 1, hmac: Buffer = EMPTY): Buffer =>
  Buffer.concat([u32(s), tpm2b(EMPTY), u8(attributes), tpm2b(hmac)]);

export interface SecretArgs {
  nonceTPM?: Buffer;
  cpHashA?: Buffer;
  policyRef?: Buffer;
  expiration?: number;
  auth?: Buffer;
}
export const policySecret = (authHandle: number, session: number, a: SecretArgs = {}): Buffer =>
  command(PCC.PolicySecret, [authHandle, session], [
    tpm2b(a.nonceTPM ?? EMPTY), tpm2b(a.cpHashA ?? EMPTY), tpm2b(a.policyRef ?? EMPTY), u32((a.expiration ?? 0) >>> 0),
  ], [a.auth ?? pwAuth()]);

/** PolicyUpdate (Part 3 §23.2.3): H(H(old || cc || arg2) || arg3). */
export const policyUpdate = (old: Buffer, cc: number, arg2: Buffer, arg3: Buffer): Buffer =>
  sha(SHA256, sha(SHA256, old, u32(cc), arg2), arg3);

/** A TPMT_TK_AUTH / timeout pair from a PolicySigned / PolicySecret response (with or without sessions). */
export function ticketOf(r: Response): { timeout: Buffer; tag: number; hierarchy: number; digest: Buffer } {
  const p = r.tag === 0x8002 ? r.body.subarray(4) : r.body;
  const tn = p.readUInt16BE(0);
  const timeout = Buffer.from(p.subarray(2, 2 + tn));
  const t = p.subarray(2 + tn);
  return { timeout, tag: t.readUInt16BE(0), hierarchy: t.readUInt32BE(2), digest: Buffer.from(t.subarray(8, 8 + t.readUInt16BE(6))) };
}
