/**
 * The authorization area of a command and of its response (Part 1 §18.6-18.8, §19.6):
 * parsing, password / HMAC / policy checks, and the response HMACs.
 */
import { TPM_CC } from '../spec/tpm-cc.js';
import { TPM_RC, TpmError, rcSession } from '../spec/tpm-rc.js';
import { TPM_RS_PW, TPMA_SESSION, TPM_HT, handleType } from '../spec/constants.js';
import { hashInfo } from '../spec/hash-algs.js';
import type { Reader } from '../marshal/reader.js';
import type { Writer } from '../marshal/writer.js';
import type { TpmCore } from '../engine/tpm-core.js';
import type { SessionState } from '../state/tpm-state.js';
import { cpHash, rpHash, sessionHmac } from './session-crypto.js';
import { timingSafeEqual } from './compare.js';

export const MAX_SESSIONS = 3;

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
}

/** Reads the authorization area (Part 1 §18.6); errors carry the session number. */
export function parseAuthArea(r: Reader, core: TpmCore): CommandSession[] {
  const size = r.u32();
  if (size > r.remaining || size < 9) throw new TpmError(TPM_RC.AUTHSIZE);
  const area = r.sub(size);
  const sessions: CommandSession[] = [];
  while (area.remaining > 0) {
    const n = sessions.length + 1;
    if (n > MAX_SESSIONS) throw new TpmError(TPM_RC.AUTHSIZE);
    try {
      const handle = area.u32();
      const nonceSize = area.u16();
      if (nonceSize > 64) throw new TpmError(TPM_RC.SIZE);
      const nonceCaller = area.bytes(nonceSize);
      const attributes = area.u8();
      const hmacSize = area.u16();
      if (hmacSize > 64) throw new TpmError(TPM_RC.SIZE);
      const hmac = area.bytes(hmacSize);
      if (attributes & TPMA_SESSION.reserved) throw new TpmError(TPM_RC.RESERVED_BITS);
      const entry: CommandSession = { handle, nonceCaller, attributes, hmac };
      if (handle !== TPM_RS_PW) {
        const t = handleType(handle);
        if (t !== TPM_HT.HMAC_SESSION && t !== TPM_HT.POLICY_SESSION) throw new TpmError(TPM_RC.HANDLE);
        const s = core.sessions.get(handle);
        if (!s) throw new TpmError(TPM_RC.REFERENCE_S0 + n - 1);
        if (sessions.some((o) => o.handle === handle)) throw new TpmError(TPM_RC.HANDLE);
        entry.session = s;
      }
      sessions.push(entry);
    } catch (e) {
      if (e instanceof TpmError && e.unnumbered) throw new TpmError(rcSession(e.rc, n));
      throw e;
    }
  }
  return sessions;
}

const stripTrailingZeros = (b: Uint8Array): Uint8Array => {
  let n = b.length;
  while (n > 0 && b[n - 1] === 0) n--;
  return b.subarray(0, n);
};

const concat = (...parts: Uint8Array[]): Uint8Array => Buffer.concat(parts);

/** The key of a session's HMAC for an entity: sessionKey || authValue, without authValue for its bind entity. */
function hmacKey(core: TpmCore, s: SessionState, entity: number | undefined): Uint8Array {
  if (entity === undefined) return s.sessionKey;
  const bound = s.bindName !== undefined && Buffer.compare(Buffer.from(s.bindName), Buffer.from(core.name(entity))) === 0;
  const includeAuth = s.kind === 'hmac' ? !bound : s.isAuthValueNeeded === true;
  return includeAuth ? concat(s.sessionKey, stripTrailingZeros(core.authValue(entity) ?? new Uint8Array(0))) : s.sessionKey;
}

export interface AuthCheck {
  commandCode: number;
  names: Uint8Array[];
  parameters: Uint8Array;
  pcrUpdateCounter: number;
}

/**
 * Checks every session against what it authorizes (Part 1 §19.6). `authHandles` are the handles
 * with an authorization role, in order; session i authorizes authHandles[i].
 */
export function checkAuthorizations(core: TpmCore, sessions: CommandSession[], authHandles: number[], cmd: AuthCheck): void {
  const cpHashes = new Map<number, Uint8Array>();
  const cpHashFor = (alg: number): Uint8Array => {
    let h = cpHashes.get(alg);
    if (!h) cpHashes.set(alg, (h = cpHash(alg, cmd.commandCode, cmd.names, cmd.parameters)));
    return h;
  };
  sessions.forEach((cs, i) => {
    const n = i + 1;
    const err = (rc: number): TpmError => new TpmError(rcSession(rc, n));
    const entity = i < authHandles.length ? authHandles[i] : undefined;
    cs.entity = entity;
    if (!cs.session) {
      // Password: only for authorization, compared to the entity's authValue (trailing zeros ignored).
      if (entity === undefined) throw err(TPM_RC.AUTH_CONTEXT);
      if (cs.nonceCaller.length !== 0) throw err(TPM_RC.NONCE);
      if (cs.attributes & (TPMA_SESSION.audit | TPMA_SESSION.decrypt | TPMA_SESSION.encrypt)) throw err(TPM_RC.ATTRIBUTES);
      const auth = stripTrailingZeros(core.authValue(entity) ?? new Uint8Array(0));
      if (!timingSafeEqual(stripTrailingZeros(cs.hmac), auth)) throw err(TPM_RC.AUTH_FAIL);
      return;
    }
    const s = cs.session;
    // A session that authorizes nothing would serve auditing or parameter encryption, which this
    // TPM does not offer yet; so those attributes, and such sessions, are refused.
    if (entity === undefined || cs.attributes & (TPMA_SESSION.decrypt | TPMA_SESSION.encrypt | TPMA_SESSION.audit)) {
      throw err(TPM_RC.ATTRIBUTES);
    }
    const digestSize = hashInfo(s.authHash)!.digestSize;
    if (cs.nonceCaller.length < 16 || cs.nonceCaller.length > digestSize) throw err(TPM_RC.SIZE);
    if (s.kind === 'trial') throw err(TPM_RC.ATTRIBUTES);
    if (s.kind === 'policy') {
      if (s.commandCode !== undefined && s.commandCode !== cmd.commandCode) throw err(TPM_RC.POLICY_CC);
      if (s.pcrCounter !== undefined && s.pcrCounter !== cmd.pcrUpdateCounter) throw new TpmError(TPM_RC.PCR_CHANGED);
      const policy = core.authPolicy(entity);
      if (policy.length === 0 || Buffer.compare(Buffer.from(policy), Buffer.from(s.policyDigest)) !== 0) throw err(TPM_RC.POLICY_FAIL);
      if (s.isPasswordNeeded) {
        const auth = stripTrailingZeros(core.authValue(entity) ?? new Uint8Array(0));
        if (!timingSafeEqual(stripTrailingZeros(cs.hmac), auth)) throw err(TPM_RC.AUTH_FAIL);
        return;
      }
    }
    const expected = sessionHmac(s.authHash, hmacKey(core, s, entity), cpHashFor(s.authHash),
      cs.nonceCaller, s.nonceTPM, new Uint8Array(0), new Uint8Array(0), cs.attributes);
    if (!timingSafeEqual(cs.hmac, expected)) throw err(TPM_RC.AUTH_FAIL);
  });
}

/** Writes the response authorization area and retires sessions without continueSession. */
export function writeResponseAuth(
  core: TpmCore, w: Writer, sessions: CommandSession[], commandCode: number, responseParameters: Uint8Array,
): void {
  const rpHashes = new Map<number, Uint8Array>();
  for (const cs of sessions) {
    const s = cs.session;
    if (!s) {
      w.u16(0).u8(TPMA_SESSION.continueSession).u16(0);
      continue;
    }
    core.sessions.rollNonce(s);
    let rp = rpHashes.get(s.authHash);
    if (!rp) rpHashes.set(s.authHash, (rp = rpHash(s.authHash, TPM_RC.SUCCESS, commandCode, responseParameters)));
    const mac = s.kind === 'policy' && s.isPasswordNeeded
      ? new Uint8Array(0)
      : sessionHmac(s.authHash, hmacKey(core, s, cs.entity), rp, s.nonceTPM, cs.nonceCaller, new Uint8Array(0), new Uint8Array(0), cs.attributes);
    w.u16(s.nonceTPM.length).bytes(s.nonceTPM).u8(cs.attributes).u16(mac.length).bytes(mac);
    if (!(cs.attributes & TPMA_SESSION.continueSession) && commandCode !== TPM_CC.FlushContext) core.sessions.flush(s.handle);
  }
}
