/**
 * The authorization area of a command and of its response (Part 1 §18.6-18.8, §19.6):
 * parsing, password / HMAC / policy checks, and the response HMACs. Check order and error codes
 * follow the reference implementation's SessionProcess.c, which libtpms (swtpm) shares.
 */
import { TPM_RC, TpmError, renumbered, rcSession } from '../spec/tpm-rc.js';
import { TPM_ALG, TPM_RH, TPM_RS_PW, TPMA_SESSION, TPMA_OBJECT, TPM_HT, handleType } from '../spec/constants.js';
import type { Reader } from '../marshal/reader.js';
import { TPM2B_AUTH, TPM2B_NONCE } from '../marshal/types.js';
import type { Writer } from '../marshal/writer.js';
import type { TpmCore } from '../engine/tpm-core.js';
import type { AuthRole } from '../engine/command-def.js';
import type { SessionState } from '../state/tpm-state.js';
import { cpHash, rpHash, sessionHmac } from './session-crypto.js';
import { timingSafeEqual } from './compare.js';
import { boundEntityValue, entityAuthValue, sessionKeyWith, stripTrailingZeros } from './session-table.js';
import { encryptResponseParameter } from './parameter-encryption.js';
import { nvAuthValueAllowed, nvPolicyAllowed } from '../nv/nv-access.js';
import { checkPolicyAssertions, type CpHashOf } from './policy-check.js';
import { pinCountAfterUse } from '../nv/nv-pin.js';
import { u32be } from '../crypto/bytes.js';
import { TPM_CC } from '../spec/tpm-cc.js';
import { checkAuditUse } from '../audit/session-audit.js';
import { authorizationFailed, checkLockedOut, isDaExempt } from './dictionary-attack.js';

export const MAX_SESSIONS = 3;

const EMPTY = new Uint8Array(0);
/** Attributes a password session may not carry (Part 1 §19.8.2). */
const NOT_FOR_PASSWORD = TPMA_SESSION.audit | TPMA_SESSION.decrypt | TPMA_SESSION.encrypt |
  TPMA_SESSION.auditExclusive | TPMA_SESSION.auditReset;
/** What a session that authorizes nothing may be there for. */
const NON_AUTH_USES = TPMA_SESSION.decrypt | TPMA_SESSION.encrypt | TPMA_SESSION.audit;

/** One entry of the command's authorization area. */
export interface CommandSession {
  handle: number;
  nonceCaller: Uint8Array;
  attributes: number;
  hmac: Uint8Array;
  /** The loaded session, absent for TPM_RS_PW. */
  session?: SessionState;
  /** Entity this session authorizes (the n-th authorized handle), if any. */
  entity?: number;
  /** Whether the entity's authValue is part of the HMAC key; decided at the command, kept for the response. */
  includeAuth?: boolean;
}

/** Which parameter the command lets a session decrypt / encrypt (TPM2B first parameters only). */
export interface ParameterEncryptionAllowed {
  readonly decryptable: boolean;
  readonly encryptable: boolean;
}

/** Index of the session carrying a TPMA_SESSION attribute, -1 if none (at most one may, checked at parsing). */
export function sessionWith(sessions: readonly CommandSession[], attribute: number): number {
  for (let i = 0; i < sessions.length; i++) if (sessions[i]!.attributes & attribute) return i;
  return -1;
}

/**
 * A decrypt or encrypt attribute: the command's first parameter (or the response's) must be a
 * TPM2B, only one session may carry it, and the session needs a cipher (the reference's
 * RetrieveSessionData, in its order).
 */
function checkEncryptionUse(attributes: number, bit: number, allowed: boolean, s: SessionState, earlier: readonly CommandSession[]): void {
  if (!(attributes & bit)) return;
  if (!allowed || sessionWith(earlier, bit) >= 0) throw new TpmError(TPM_RC.ATTRIBUTES);
  if (s.symmetric.algorithm === TPM_ALG.NULL) throw new TpmError(TPM_RC.SYMMETRIC);
}

/** One TPMS_AUTH_COMMAND; errors are unnumbered, parseAuthArea numbers them. */
function readSession(area: Reader, core: TpmCore, earlier: readonly CommandSession[], use: ParameterEncryptionAllowed): CommandSession {
  const handle = area.u32();
  const t = handleType(handle);
  if (handle !== TPM_RS_PW && t !== TPM_HT.HMAC_SESSION && t !== TPM_HT.POLICY_SESSION) throw new TpmError(TPM_RC.VALUE);
  const nonceCaller = TPM2B_NONCE.read(area);
  const attributes = area.u8();
  if (attributes & TPMA_SESSION.reserved) throw new TpmError(TPM_RC.RESERVED_BITS);
  const hmac = TPM2B_AUTH.read(area);
  const entry: CommandSession = { handle, nonceCaller, attributes, hmac };
  if (handle === TPM_RS_PW) {
    if (attributes & NOT_FOR_PASSWORD) throw new TpmError(TPM_RC.ATTRIBUTES);
    if (nonceCaller.length !== 0) throw new TpmError(TPM_RC.NONCE);
    return entry;
  }
  const s = core.sessions.get(handle);
  if (!s) {
    // A session in that slot of the other type is a wrong handle; an empty slot is a reference error.
    if (core.sessions.loadedAtSlot(handle)) throw new TpmError(TPM_RC.HANDLE);
    throw new TpmError(TPM_RC.REFERENCE_S0);
  }
  if (earlier.some((o) => o.handle === handle)) throw new TpmError(TPM_RC.HANDLE);
  checkEncryptionUse(attributes, TPMA_SESSION.decrypt, use.decryptable, s, earlier);
  checkEncryptionUse(attributes, TPMA_SESSION.encrypt, use.encryptable, s, earlier);
  checkAuditUse(core.volatile, s, attributes, sessionWith(earlier, TPMA_SESSION.audit) >= 0);
  entry.session = s;
  return entry;
}

/** Reads the authorization area (Part 1 §18.6); errors carry the session number. */
export function parseAuthArea(r: Reader, core: TpmCore, use: ParameterEncryptionAllowed): CommandSession[] {
  const size = r.u32();
  if (size > r.remaining || size < 9) throw new TpmError(TPM_RC.AUTHSIZE);
  const area = r.sub(size);
  const sessions: CommandSession[] = [];
  while (area.remaining > 0) {
    const n = sessions.length + 1;
    // One session more than allowed is a size error numbered with that session.
    if (n > MAX_SESSIONS) throw TpmError.session(TPM_RC.SIZE, n);
    try {
      sessions.push(readSession(area, core, sessions, use));
    } catch (e) {
      throw renumbered(e, (rc) => rcSession(rc, n));
    }
  }
  return sessions;
}


/**
 * Before an entity's authorization is evaluated (the reference's CheckAuthSession): lockout if
 * its authValue will be used (a password, PolicyPassword, or an HMAC keyed with it) and it is
 * DA-protected, then whether this kind of authorization is available for it (TPM_RC_AUTH_UNAVAILABLE).
 */
function checkEntityAccess(core: TpmCore, entity: number, authUsed: boolean, policy: boolean, role: AuthRole, commandCode: number): void {
  if (authUsed && !isDaExempt(core, entity)) checkLockedOut(core, entity === TPM_RH.LOCKOUT);
  if (!authorizationAllowed(core, entity, role, policy, commandCode)) throw new TpmError(TPM_RC.AUTH_UNAVAILABLE);
}

/** Whether the session HMAC for `entity` is keyed with its authValue (Part 1 §19.6.5; bound HMAC sessions leave it out). */
function includesAuth(core: TpmCore, s: SessionState, entity: number): boolean {
  if (s.kind !== 'hmac') return s.isAuthValueNeeded === true;
  return s.boundEntity === undefined || !timingSafeEqual(s.boundEntity, boundEntityValue(core, s.authHash, entity));
}

/**
 * The outcome of comparing an authorization that used `entity`'s authValue (or, with `authUsed`
 * false, did not): a PIN index counts it, a failure is TPM_RC_AUTH_FAIL or TPM_RC_BAD_AUTH as
 * dictionary-attack protection decides.
 */
function authValueCompared(
  core: TpmCore, entity: number, s: SessionState | undefined, authUsed: boolean, ok: boolean, err: (rc: number) => TpmError,
): void {
  const index = authUsed ? core.nv.get(entity) : undefined;
  const pinCount = index && pinCountAfterUse(index, ok);
  if (index && pinCount !== undefined) {
    core.nv.write(index, 0, u32be(pinCount));
    core.touchPersistent();
  }
  if (!ok) throw err(authorizationFailed(core, entity, s, authUsed));
}

function hmacKey(core: TpmCore, cs: CommandSession): Uint8Array {
  return sessionKeyWith(cs.session!.sessionKey, cs.includeAuth && cs.entity !== undefined ? entityAuthValue(core, cs.entity) : EMPTY);
}

/**
 * nonceTPM of the session carrying `attribute` if that is another session than the first and than
 * `except`: the nonceDecrypt / nonceEncrypt of the first session's command HMAC when it
 * authorizes something (Part 1 §19.6.5), so that the authorization covers the encryption sessions.
 */
function otherSessionNonce(sessions: readonly CommandSession[], attribute: number, except = -1): Uint8Array {
  const i = sessionWith(sessions, attribute);
  return i > 0 && i !== except ? sessions[i]!.session!.nonceTPM : EMPTY;
}

export interface AuthCheck {
  commandCode: number;
  /** The command's handles; their Names enter cpHash, computed only if an HMAC or policy session needs them. */
  handles: number[];
  parameters: Uint8Array;
  pcrUpdateCounter: number;
  locality: number;
}

/** The policy session checks at use of the assertions Part 3 §23 records, in the reference's order. */
function checkPolicy(core: TpmCore, s: SessionState, entity: number, cmd: AuthCheck, role: AuthRole, cp: CpHashOf, err: (rc: number) => TpmError): void {
  const policy = core.authPolicy(entity);
  // No authPolicy: policy authorization is not available for the entity (unnumbered, format zero).
  if (policy.length === 0) throw new TpmError(TPM_RC.AUTH_UNAVAILABLE);
  // A policy session authorizing PolicySecret must itself prove the authValue (the reference's CheckPolicyAuthSession).
  if (cmd.commandCode === TPM_CC.PolicySecret && !s.isPasswordNeeded && !s.isAuthValueNeeded) throw err(TPM_RC.MODE);
  if (s.pcrCounter !== undefined && s.pcrCounter !== cmd.pcrUpdateCounter) throw new TpmError(TPM_RC.PCR_CHANGED);
  if (!timingSafeEqual(policy, s.policyDigest)) throw err(TPM_RC.POLICY_FAIL);
  checkPolicyAssertions(core, s, entity, policyNeedsCommandCode(core, entity, role), cmd, cp, err);
}

/**
 * Whether an entity may be authorized this way in this role (Part 1 §19.7). An object's authValue:
 * USER needs userWithAuth, ADMIN needs adminWithPolicy clear, DUP always needs a policy. An NV
 * index: AUTHREAD/AUTHWRITE for its authValue, POLICYREAD/POLICYWRITE for a policy, the ADMIN
 * role by policy only (Part 3 §31). Other entities accept either in every role.
 */
function authorizationAllowed(core: TpmCore, entity: number, role: AuthRole, policy: boolean, commandCode: number): boolean {
  const nv = core.nv.get(entity);
  if (nv) return (policy ? nvPolicyAllowed : nvAuthValueAllowed)(nv, commandCode, role === 'ADMIN');
  const o = core.objects.get(entity);
  if (!o || policy) return true;
  const attrs = o.publicArea.objectAttributes;
  switch (role) {
    case 'USER': return (attrs & TPMA_OBJECT.userWithAuth) !== 0;
    case 'ADMIN': return (attrs & TPMA_OBJECT.adminWithPolicy) === 0;
    case 'DUP': return false;
  }
}

/** ADMIN and DUP use of an object or NV index through a policy must name the command (PolicyCommandCode). */
const policyNeedsCommandCode = (core: TpmCore, entity: number, role: AuthRole): boolean =>
  role !== 'USER' && (core.objects.get(entity) !== undefined || core.nv.get(entity) !== undefined);

/** Whether session i's command HMAC is right; with an empty key (unbound, unsalted, empty authValue) an empty HMAC is. */
function hmacMatches(core: TpmCore, sessions: readonly CommandSession[], i: number, cpHashOf: CpHashOf): boolean {
  const cs = sessions[i]!;
  const s = cs.session!;
  const key = hmacKey(core, cs);
  if (key.length === 0 && cs.hmac.length === 0) return true;
  const first = i === 0 && cs.entity !== undefined;
  const nonceDecrypt = first ? otherSessionNonce(sessions, TPMA_SESSION.decrypt) : EMPTY;
  const nonceEncrypt = first ? otherSessionNonce(sessions, TPMA_SESSION.encrypt, sessionWith(sessions, TPMA_SESSION.decrypt)) : EMPTY;
  const expected = sessionHmac(s.authHash, key, cpHashOf(s.authHash), cs.nonceCaller, s.nonceTPM, nonceDecrypt, nonceEncrypt, cs.attributes);
  return timingSafeEqual(cs.hmac, expected);
}

/**
 * Checks every session against what it authorizes (Part 1 §19.6). `authHandles` are the handles
 * with an authorization role, in order, and `authRoles` their roles; session i authorizes authHandles[i].
 */
export function checkAuthorizations(
  core: TpmCore, sessions: readonly CommandSession[], authHandles: number[], authRoles: readonly AuthRole[], cmd: AuthCheck,
): void {
  // cpHash per hash algorithm, computed once and only if an HMAC or a policy needs it.
  let cpHashes: Map<number, Uint8Array> | undefined;
  const cpHashOf = (alg: number): Uint8Array => {
    cpHashes ??= new Map();
    let cp = cpHashes.get(alg);
    if (!cp) cpHashes.set(alg, (cp = cpHash(alg, cmd.commandCode, cmd.handles.map((x) => core.name(x)), cmd.parameters)));
    return cp;
  };
  for (let i = 0; i < sessions.length; i++) {
    const cs = sessions[i]!;
    const err = (rc: number): TpmError => TpmError.session(rc, i + 1);
    const entity = i < authHandles.length ? authHandles[i] : undefined;
    cs.entity = entity;
    const s = cs.session;
    const role = authRoles[i] ?? 'USER';
    if (!s) {
      // Password: only for authorization; compared to the entity's authValue, trailing zeros ignored.
      if (entity === undefined) throw err(TPM_RC.HANDLE);
      checkEntityAccess(core, entity, true, false, role, cmd.commandCode);
      authValueCompared(core, entity, undefined, true, timingSafeEqual(stripTrailingZeros(cs.hmac), entityAuthValue(core, entity)), err);
      continue;
    }
    // A trial session only computes digests; it can authorize nothing.
    if (s.kind === 'trial') throw err(TPM_RC.ATTRIBUTES);
    // A session bound to a DA-protected entity is subject to lockout however it is used.
    if (s.isDaBound) checkLockedOut(core, s.isLockoutBound === true);
    if (entity === undefined) {
      // Only for parameter encryption: its HMAC is still checked, keyed without any authValue.
      if (!(cs.attributes & NON_AUTH_USES)) throw err(TPM_RC.ATTRIBUTES);
    } else {
      cs.includeAuth = includesAuth(core, s, entity);
      checkEntityAccess(core, entity, cs.includeAuth || s.isPasswordNeeded === true, s.kind === 'policy', role, cmd.commandCode);
      if (s.kind === 'policy') {
        checkPolicy(core, s, entity, cmd, role, cpHashOf, err);
        if (s.isPasswordNeeded) {
          authValueCompared(core, entity, s, true, timingSafeEqual(stripTrailingZeros(cs.hmac), entityAuthValue(core, entity)), err);
          continue;
        }
      }
    }
    const ok = hmacMatches(core, sessions, i, cpHashOf);
    if (entity === undefined) {
      if (!ok) throw err(TPM_RC.BAD_AUTH);
    } else {
      authValueCompared(core, entity, s, cs.includeAuth === true, ok, err);
    }
  }
}

/**
 * The first step of a response with sessions (Part 1 §18.8): every session gets a fresh nonceTPM,
 * then the encrypt session (if any) encrypts the first response parameter in place.
 */
export function sealResponseParameters(core: TpmCore, sessions: readonly CommandSession[], responseParameters: Uint8Array): void {
  for (const cs of sessions) if (cs.session) core.sessions.rollNonce(cs.session);
  const e = sessionWith(sessions, TPMA_SESSION.encrypt);
  if (e >= 0) encryptResponseParameter(core, sessions[e]!, responseParameters);
}

/**
 * Writes the response authorization area once the parameters are sealed and audited: each
 * session's response HMAC covers the encrypted parameters; a policy session that continues starts
 * a new policy, and a session without continueSession is flushed.
 */
export function writeResponseAuth(
  core: TpmCore, w: Writer, sessions: readonly CommandSession[], commandCode: number, responseParameters: Uint8Array,
): void {
  let rpHashes: Map<number, Uint8Array> | undefined;
  for (const cs of sessions) {
    const s = cs.session;
    if (!s) {
      w.u16(0).u8(cs.attributes | TPMA_SESSION.continueSession).u16(0);
      continue;
    }
    rpHashes ??= new Map();
    let rp = rpHashes.get(s.authHash);
    if (!rp) rpHashes.set(s.authHash, (rp = rpHash(s.authHash, TPM_RC.SUCCESS, commandCode, responseParameters)));
    const key = hmacKey(core, cs);
    const mac = (s.kind === 'policy' && s.isPasswordNeeded) || (key.length === 0 && cs.hmac.length === 0)
      ? EMPTY
      : sessionHmac(s.authHash, key, rp, s.nonceTPM, cs.nonceCaller, EMPTY, EMPTY, cs.attributes);
    w.u16(s.nonceTPM.length).bytes(s.nonceTPM).u8(cs.attributes).u16(mac.length).bytes(mac);
    if (!(cs.attributes & TPMA_SESSION.continueSession)) core.sessions.flush(s.handle);
    else if (s.kind === 'policy') core.sessions.resetPolicy(s);
  }
}
