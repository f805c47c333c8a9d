/**
 * Client side of authorization sessions for the session tests: command builders, response parsers
 * and the session HMAC / KDFa arithmetic, written against node:crypto directly so that the tests do
 * not share the engine's code (TPM 2.0 Part 1 §19.6, Part 3 §11, §23, §28).
 */
import { createCipheriv, createDecipheriv, createHash, createHmac } from 'node:crypto';
import { Tpm } from '../../../src/tpm/engine/tpm.js';
import { manufacture } from '../../../src/tpm/state/initial-state.js';
import { command, pwAuth, tpm2b, u8, u16, u32, u64 } from './tpm-wire.js';

export const CC = {
  Startup: 0x144,
  Shutdown: 0x145,
  StartAuthSession: 0x176,
  PolicyRestart: 0x180,
  PolicyPCR: 0x17f,
  PolicyGetDigest: 0x189,
  ContextSave: 0x162,
  ContextLoad: 0x161,
  FlushContext: 0x165,
  PCR_Extend: 0x182,
  PCR_Event: 0x13c,
  PCR_Read: 0x17e,
  Hash: 0x17d,
  GetRandom: 0x17b,
  ReadPublic: 0x173,
  CreatePrimary: 0x131,
  Create: 0x153,
  HashSequenceStart: 0x186,
} as const;

export const ALG = { SHA1: 0x04, AES: 0x06, XOR: 0x0a, SHA256: 0x0b, SHA384: 0x0c, NULL: 0x10, CFB: 0x43, CBC: 0x42 } as const;
export const SE = { HMAC: 0, POLICY: 1, TRIAL: 3 } as const;
export const RH = { OWNER: 0x40000001, NULL: 0x40000007, PW: 0x40000009, ENDORSEMENT: 0x4000000b } as const;
export const ATTR = { continueSession: 0x01, decrypt: 0x20, encrypt: 0x40, audit: 0x80 } as const;

const NODE_HASH: Record<number, string> = { [ALG.SHA1]: 'sha1', [ALG.SHA256]: 'sha256', [ALG.SHA384]: 'sha384' };
const nodeHash = (alg: number): string => {
  const n = NODE_HASH[alg];
  if (!n) throw new Error(`hash 0x${alg.toString(16)}`);
  return n;
};

export { u8, u16, u32, u64, tpm2b, command, pwAuth };

export const sha = (alg: number, ...parts: Uint8Array[]): Buffer => {
  const h = createHash(nodeHash(alg));
  for (const p of parts) h.update(p);
  return h.digest();
};
export const hmacOf = (alg: number, key: Uint8Array, ...parts: Uint8Array[]): Buffer => {
  const h = createHmac(nodeHash(alg), key);
  for (const p of parts) h.update(p);
  return h.digest();
};

/** KDFa (Part 1 §11.4.10.2), SP800-108 counter mode with HMAC; bits a multiple of 8 here. */
export function kdfa(alg: number, key: Uint8Array, label: string, u: Uint8Array, v: Uint8Array, bits: number): Buffer {
  const out: Buffer[] = [];
  for (let i = 1, have = 0; have < bits / 8; i++) {
    const block = hmacOf(alg, key, u32(i), Buffer.from(`${label}\0`), u, v, u32(bits));
    out.push(block);
    have += block.length;
  }
  return Buffer.concat(out).subarray(0, bits / 8);
}

/** A command: header + handles + [auth area] + parameters. */


/** TPML_PCR_SELECTION with one bank and 3-octet bitmap. */
export function pcrSelection(banks: { alg: number; pcrs: number[] }[]): Buffer {
  return Buffer.concat([u32(banks.length), ...banks.map(({ alg, pcrs }) => {
    const bits = Buffer.alloc(3);
    for (const p of pcrs) bits[p >> 3]! |= 1 << (p & 7);
    return Buffer.concat([u16(alg), u8(3), bits]);
  })]);
}

export interface Response {
  rc: number;
  tag: number;
  /** Everything after the 10-octet header. */
  body: Buffer;
  raw: Buffer;
}

export function parseResponse(raw: Uint8Array): Response {
  const b = Buffer.from(raw);
  if (b.readUInt32BE(2) !== b.length) throw new Error('response size field does not match');
  return { tag: b.readUInt16BE(0), rc: b.readUInt32BE(6), body: b.subarray(10), raw: b };
}

/** A response with sessions: [handle] + parameterSize + parameters + auth area. */
export function splitSessionsResponse(r: Response, hasHandle: boolean): { handle?: number; params: Buffer; auths: { nonce: Buffer; attributes: number; hmac: Buffer }[] } {
  let at = 0;
  const handle = hasHandle ? r.body.readUInt32BE(at) : undefined;
  if (hasHandle) at += 4;
  const size = r.body.readUInt32BE(at);
  at += 4;
  const params = r.body.subarray(at, at + size);
  at += size;
  const auths: { nonce: Buffer; attributes: number; hmac: Buffer }[] = [];
  while (at < r.body.length) {
    const n = r.body.readUInt16BE(at); at += 2;
    const nonce = r.body.subarray(at, at + n); at += n;
    const attributes = r.body[at]!; at += 1;
    const m = r.body.readUInt16BE(at); at += 2;
    auths.push({ nonce, attributes, hmac: r.body.subarray(at, at + m) });
    at += m;
  }
  return { ...(handle === undefined ? {} : { handle }), params, auths };
}

/** The engine with a fresh manufacture, started. */
export function startedTpm(): { tpm: Tpm; run: (cmd: Buffer, client?: number) => Response } {
  const tpm = new Tpm(manufacture(), undefined, { now: () => 0, persistentChanged: () => undefined });
  tpm.powerOn();
  const run = (cmd: Buffer, client = 0): Response => parseResponse(tpm.execute(cmd, 0, client).response);
  const r = run(command(CC.Startup, [], [u16(0)]));
  if (r.rc !== 0) throw new Error(`Startup: 0x${r.rc.toString(16)}`);
  return { tpm, run };
}

export const hex = (rc: number): string => `0x${rc.toString(16)}`;

export interface StartArgs {
  tpmKey?: number;
  bind?: number;
  nonceCaller?: Buffer;
  salt?: Buffer;
  type?: number;
  symmetric?: Buffer;
  authHash?: number;
}

export const SYM_NULL = u16(ALG.NULL);
export const SYM_AES128_CFB = Buffer.concat([u16(ALG.AES), u16(128), u16(ALG.CFB)]);

export function startAuthSessionCommand(a: StartArgs = {}): Buffer {
  return command(CC.StartAuthSession, [a.tpmKey ?? RH.NULL, a.bind ?? RH.NULL], [
    tpm2b(a.nonceCaller ?? Buffer.alloc(32, 0xa5)), tpm2b(a.salt ?? Buffer.alloc(0)), u8(a.type ?? SE.HMAC),
    a.symmetric ?? SYM_NULL, u16(a.authHash ?? ALG.SHA256),
  ]);
}

/** The caller's view of a session: what it needs to compute and check HMACs and to encrypt parameters. */
export class ClientSession {

  /**
   * Starts a session; bindAuth is the bind entity's authValue when bound, salt the plain salt that
   * a.salt carries encrypted. sessionKey per Part 1 §19.6.8: KDFa(authHash, bindAuth || salt,
   * "ATH", nonceTPM, nonceCaller), empty when unbound and unsalted.
   */
  static start(run: (cmd: Buffer) => Response, a: StartArgs = {}, bindAuth: Buffer = Buffer.alloc(0), salt?: Buffer): ClientSession {
    const nonceCaller = a.nonceCaller ?? Buffer.alloc(32, 0xa5);
    const r = run(startAuthSessionCommand({ ...a, nonceCaller }));
    if (r.rc !== 0) throw new Error(`StartAuthSession: ${hex(r.rc)}`);
    const handle = r.body.readUInt32BE(0);
    const n = r.body.readUInt16BE(4);
    const nonceTPM = Buffer.from(r.body.subarray(6, 6 + n));
    const alg = a.authHash ?? ALG.SHA256;
    const keyed = (a.bind ?? RH.NULL) !== RH.NULL || salt !== undefined;
    const sessionKey = keyed
      ? kdfa(alg, Buffer.concat([bindAuth, salt ?? Buffer.alloc(0)]), 'ATH', nonceTPM, nonceCaller, sha(alg).length * 8)
      : Buffer.alloc(0);
    return new ClientSession(handle, alg, nonceTPM, sessionKey, nonceCaller, a.symmetric ?? SYM_NULL);
  }

  constructor(
    readonly handle: number,
    readonly authHash: number,
    public nonceTPM: Buffer,
    readonly sessionKey: Buffer,
    public nonceCaller: Buffer,
    /** TPMT_SYM_DEF as given to StartAuthSession. */
    readonly symmetric: Buffer = SYM_NULL,
  ) {}

  /** A fresh nonceCaller for the next command (a caller must pick it before encrypting a parameter). */
  rollNonce(): Buffer {
    this.nonceCaller = Buffer.from(sha(ALG.SHA256, this.nonceCaller));
    return this.nonceCaller;
  }

  /**
   * TPMS_AUTH_COMMAND with HMAC(sessionKey || authValue, cpHash || nonceCaller || nonceTPM ||
   * nonceDecrypt || nonceEncrypt || attributes); a fresh nonceCaller unless opts.nonce is given.
   */
  authCommand(
    cc: number, names: Buffer[], params: Buffer,
    opts: { authValue?: Buffer; attributes?: number; nonce?: Buffer; nonceDecrypt?: Buffer; nonceEncrypt?: Buffer } = {},
  ): Buffer {
    const attributes = opts.attributes ?? ATTR.continueSession;
    this.nonceCaller = opts.nonce ?? this.rollNonce();
    const cp = sha(this.authHash, u32(cc), ...names, params);
    const key = Buffer.concat([this.sessionKey, opts.authValue ?? Buffer.alloc(0)]);
    const mac = hmacOf(this.authHash, key, cp, this.nonceCaller, this.nonceTPM,
      opts.nonceDecrypt ?? Buffer.alloc(0), opts.nonceEncrypt ?? Buffer.alloc(0), u8(attributes));
    return Buffer.concat([u32(this.handle), tpm2b(this.nonceCaller), u8(attributes), tpm2b(mac)]);
  }

  /**
   * Parameter encryption as a caller does it (Part 1 §21): AES-CFB with key and IV from
   * KDFa(authHash, sessionKey || authValue, "CFB", newer, older, keyBits + 128), or the KDFa "XOR"
   * mask. A command parameter takes nonceCaller as the newer nonce, a response parameter nonceTPM.
   */
  private cipher(data: Buffer, authValue: Buffer, newer: Buffer, older: Buffer, decrypt: boolean): Buffer {
    const key = Buffer.concat([this.sessionKey, authValue]);
    const alg = this.symmetric.readUInt16BE(0);
    if (alg === ALG.XOR) {
      const mask = kdfa(this.authHash, key, 'XOR', newer, older, data.length * 8);
      return Buffer.from(data.map((b, i) => b ^ mask[i]!));
    }
    if (alg !== ALG.AES) throw new Error('session has no parameter cipher');
    const bits = this.symmetric.readUInt16BE(2);
    const out = kdfa(this.authHash, key, 'CFB', newer, older, bits + 128);
    const args = [`aes-${bits}-cfb`, out.subarray(0, bits / 8), out.subarray(bits / 8)] as const;
    const c = decrypt ? createDecipheriv(...args) : createCipheriv(...args);
    return Buffer.concat([c.update(data), c.final()]);
  }

  /** The octets of a command's first TPM2B parameter, encrypted with the current nonceCaller and nonceTPM. */
  encryptCommandParameter(data: Buffer, authValue = Buffer.alloc(0)): Buffer {
    return this.cipher(data, authValue, this.nonceCaller, this.nonceTPM, false);
  }

  /** Decrypts a response's first TPM2B parameter; call with the response's nonceTPM adopted (after acceptResponse). */
  decryptResponseParameter(data: Buffer, authValue = Buffer.alloc(0)): Buffer {
    return this.cipher(data, authValue, this.nonceTPM, this.nonceCaller, true);
  }

  /** Checks a response auth HMAC(key, rpHash || nonceTPM(new) || nonceCaller || attributes) and adopts the new nonceTPM. */
  acceptResponse(cc: number, params: Buffer, auth: { nonce: Buffer; attributes: number; hmac: Buffer }, authValue = Buffer.alloc(0)): boolean {
    const rp = sha(this.authHash, u32(0), u32(cc), params);
    const key = Buffer.concat([this.sessionKey, authValue]);
    const expected = hmacOf(this.authHash, key, rp, auth.nonce, this.nonceCaller, u8(auth.attributes));
    this.nonceTPM = Buffer.from(auth.nonce);
    return expected.equals(auth.hmac);
  }
}

/** TPMS_CONTEXT as ContextSave returns it. */
export interface SavedContext {
  sequence: bigint;
  savedHandle: number;
  hierarchy: number;
  blob: Buffer;
}

export function parseContext(body: Buffer): SavedContext {
  const size = body.readUInt16BE(16);
  return {
    sequence: body.readBigUInt64BE(0), savedHandle: body.readUInt32BE(8), hierarchy: body.readUInt32BE(12),
    blob: Buffer.from(body.subarray(18, 18 + size)),
  };
}

export const contextBytes = (c: SavedContext): Buffer =>
  Buffer.concat([u64(c.sequence), u32(c.savedHandle), u32(c.hierarchy), tpm2b(c.blob)]);

export const saveCommand = (h: number): Buffer => command(CC.ContextSave, [h], []);
export const loadCommand = (c: SavedContext): Buffer => command(CC.ContextLoad, [], [contextBytes(c)]);
export const flushCommand = (h: number): Buffer => command(CC.FlushContext, [], [u32(h)]);
export const policyPcrCommand = (h: number, digest: Buffer, sel: Buffer): Buffer => command(CC.PolicyPCR, [h], [tpm2b(digest), sel]);
export const getDigestCommand = (h: number): Buffer => command(CC.PolicyGetDigest, [h], []);

/** PolicyGetDigest's digest. */
export function policyDigestOf(run: (cmd: Buffer) => Response, h: number): Buffer {
  const r = run(getDigestCommand(h));
  if (r.rc !== 0) throw new Error(`PolicyGetDigest: ${hex(r.rc)}`);
  return Buffer.from(r.body.subarray(2, 2 + r.body.readUInt16BE(0)));
}
