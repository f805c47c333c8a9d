/**
 * TPMT_TK_AUTH (Part 2 §10.7.5): the ticket PolicySigned and PolicySecret give for an
 * authorization with an expiration, which PolicyTicket later accepts in their place. As the
 * reference's TicketComputeAuth(): HMAC, keyed with the proof of the authorizing entity's hierarchy,
 * over tag || cpHashA || policyRef || authName || timeout, and, for a timeout, the time epoch
 * (plus resetCount when the ticket ends with the TPM Reset).
 */
import { TPM_RH, TPM_HT, handleType } from '../spec/constants.js';
import { hmac } from '../crypto/hash.js';
import { u16be, u32be, u64be } from '../crypto/bytes.js';
import type { SessionState } from '../state/tpm-state.js';
import type { TpmCore } from '../engine/tpm-core.js';
import { TICKET_HMAC_ALG } from '../objects/hash-check-ticket.js';
import { timeEpoch } from './policy-context.js';

export interface AuthTicket {
  tag: number;
  hierarchy: number;
  digest: Uint8Array;
}

/** The MSB of the timeout buffer: the ticket ends with the TPM Reset (its authorization had no nonceTPM). */
export const EXPIRES_ON_RESET = 1n << 63n;

/** What a TPMT_TK_AUTH covers; `timeout` without the EXPIRES_ON_RESET flag. */
export interface AuthTicketInput {
  tag: number;
  hierarchy: number;
  timeout: bigint;
  expiresOnReset: boolean;
  cpHashA: Uint8Array;
  policyRef: Uint8Array;
  authName: Uint8Array;
}

export function authTicketDigest(core: TpmCore, t: AuthTicketInput): Uint8Array {
  const parts = [u16be(t.tag), t.cpHashA, t.policyRef, t.authName, u64be(t.timeout)];
  if (t.timeout !== 0n) {
    parts.push(u64be(timeEpoch(core)));
    if (t.expiresOnReset) parts.push(u32be(core.persistent.resetCount));
  }
  return hmac(TICKET_HMAC_ALG, core.proof(t.hierarchy), ...parts);
}

export function authTicket(core: TpmCore, t: AuthTicketInput): AuthTicket {
  return { tag: t.tag, hierarchy: t.hierarchy, digest: authTicketDigest(core, t) };
}

/** The TPMT_TK_AUTH a command returns when it gives no ticket. */
export const nullAuthTicket = (tag: number): AuthTicket => ({ tag, hierarchy: TPM_RH.NULL, digest: new Uint8Array(0) });

/** What PolicySigned and PolicySecret answer: the timeout buffer and the ticket. */
export interface PolicyAuthResult {
  timeout: Uint8Array;
  policyTicket: AuthTicket;
}

/** The authorization as PolicySigned and PolicySecret received it, with the timeout authTimeout computed. */
export interface PolicyAuthInput {
  tag: number;
  hierarchy: number;
  expiration: number;
  nonceTPM: Uint8Array;
  timeout: bigint;
  cpHashA: Uint8Array;
  policyRef: Uint8Array;
  authName: Uint8Array;
}

/**
 * A ticket only for a negative expiration in a real session (the caller asked for one that
 * PolicyTicket can replay until the timeout); it ends with the TPM Reset if no nonceTPM bound the
 * authorization to the session, which the timeout buffer's MSB says.
 */
export function policyAuthResult(core: TpmCore, s: SessionState, a: PolicyAuthInput): PolicyAuthResult {
  if (a.expiration >= 0 || s.kind === 'trial') return { timeout: new Uint8Array(0), policyTicket: nullAuthTicket(a.tag) };
  const expiresOnReset = a.nonceTPM.length === 0;
  const policyTicket = authTicket(core, { ...a, expiresOnReset });
  return { timeout: u64be(expiresOnReset ? a.timeout | EXPIRES_ON_RESET : a.timeout), policyTicket };
}

/**
 * The hierarchy an entity belongs to (the reference's EntityGetHierarchy): platform, endorsement
 * and null stand for themselves, other permanent handles and PCRs for the owner, an object for
 * the hierarchy it was created in.
 */
export function entityHierarchy(core: TpmCore, handle: number): number {
  switch (handleType(handle)) {
    case TPM_HT.PERMANENT:
      return handle === TPM_RH.PLATFORM || handle === TPM_RH.ENDORSEMENT || handle === TPM_RH.NULL ? handle : TPM_RH.OWNER;
    case TPM_HT.TRANSIENT:
    case TPM_HT.PERSISTENT:
      return core.objects.get(handle)?.hierarchy ?? TPM_RH.NULL;
    default:
      return TPM_RH.OWNER;
  }
}
