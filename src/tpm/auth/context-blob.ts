/**
 * The contextBlob of TPMS_CONTEXT (Part 1 §30.3): integrity-protected, encrypted saved state that
 * only this TPM, in this TPM Reset epoch, can load again. Layout and key derivation are described
 * in docs/context-blobs.md.
 */
import { TPM_ALG } from '../spec/constants.js';
import { MAX_DIGEST_SIZE } from '../spec/hash-algs.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import type { PersistentState, SessionState } from '../state/tpm-state.js';
import { stateFromJson, stateToJson } from '../state/serialize.js';
import { hmac } from '../crypto/hash.js';
import { kdfa } from '../crypto/kdf.js';
import { concatBytes, u32be } from '../crypto/bytes.js';
import { symmetricDecrypt, symmetricEncrypt } from '../crypto/symmetric.js';
import { timingSafeEqual } from './compare.js';

/** A context the TPM refuses (TPM_RC_SIZE, TPM_RC_INTEGRITY, TPM_RC_HANDLE): numbered with the context parameter. */
export class InvalidContext extends TpmError {}

/** The TPMS_CONTEXT fields the blob is bound to. */
export interface ContextHeader {
  sequence: bigint;
  savedHandle: number;
  hierarchy: number;
}

const INTEGRITY_ALG = TPM_ALG.SHA256;
const INTEGRITY_SIZE = 32;
const CIPHER = { algorithm: TPM_ALG.AES, keyBits: 128, mode: TPM_ALG.CFB } as const;
const FORMAT_VERSION = 1;
/** What the plaintext holds, after the version octet. */
const PAYLOAD_SESSION = 1;

const u64be = (v: bigint): Uint8Array => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v);
  return b;
};

/** The integrity key: one per TPM Reset epoch, derived from the context secret that never leaves the TPM. */
function integrityKey(p: PersistentState): Uint8Array {
  return kdfa(INTEGRITY_ALG, p.contextSecret, 'CONTEXT INTEGRITY', p.resetEpoch, new Uint8Array(0), INTEGRITY_SIZE * 8);
}

/** Encryption key and IV: distinct for every (epoch, sequence, handle), so no CFB key stream repeats. */
function encryptionKey(p: PersistentState, h: ContextHeader): { key: Uint8Array; iv: Uint8Array } {
  const bits = CIPHER.keyBits + 128;
  const out = kdfa(INTEGRITY_ALG, p.contextSecret, 'CONTEXT', p.resetEpoch, concatBytes(u64be(h.sequence), u32be(h.savedHandle)), bits);
  return { key: out.subarray(0, CIPHER.keyBits / 8), iv: out.subarray(CIPHER.keyBits / 8) };
}

function integrity(p: PersistentState, h: ContextHeader, encrypted: Uint8Array): Uint8Array {
  return hmac(INTEGRITY_ALG, integrityKey(p), u64be(h.sequence), u32be(h.savedHandle), u32be(h.hierarchy), encrypted);
}

/** Seals a plaintext into contextBlob: u16 integrity size || integrity || AES-128-CFB(plaintext). */
export function sealContext(p: PersistentState, h: ContextHeader, plaintext: Uint8Array): Uint8Array {
  const { key, iv } = encryptionKey(p, h);
  const encrypted = symmetricEncrypt(CIPHER, key, iv, plaintext);
  const mac = integrity(p, h, encrypted);
  return concatBytes(Uint8Array.of(mac.length >> 8, mac.length & 0xff), mac, encrypted);
}

/**
 * Opens a contextBlob. As in the reference implementation, an integrity field that cannot be
 * unmarshalled is TPM_RC_INSUFFICIENT / TPM_RC_SIZE as such, a wrongly sized one or a blob too
 * short is TPM_RC_SIZE and a wrong integrity value (tampering, another TPM, an earlier TPM Reset
 * epoch) TPM_RC_INTEGRITY; the caller numbers the last two with its parameter.
 */
export function openContext(p: PersistentState, h: ContextHeader, blob: Uint8Array): Uint8Array {
  if (blob.length < 2) throw new TpmError(TPM_RC.INSUFFICIENT);
  const size = (blob[0]! << 8) | blob[1]!;
  if (size > MAX_DIGEST_SIZE) throw new TpmError(TPM_RC.SIZE, 'integrity TPM2B_DIGEST');
  if (blob.length < 2 + size) throw new TpmError(TPM_RC.INSUFFICIENT);
  if (size !== INTEGRITY_SIZE || blob.length < 2 + size + 2) throw new InvalidContext(TPM_RC.SIZE);
  const mac = blob.subarray(2, 2 + size);
  const encrypted = blob.subarray(2 + size);
  if (!timingSafeEqual(mac, integrity(p, h, encrypted))) throw new InvalidContext(TPM_RC.INTEGRITY);
  const { key, iv } = encryptionKey(p, h);
  return symmetricDecrypt(CIPHER, key, iv, encrypted);
}

/** A session's state as the blob carries it; handle and owning client come from the load. */
type SavedSession = Omit<SessionState, 'handle' | 'client'>;

/** The contextBlob of a saved session. The state travels as the same JSON the volatile file uses. */
export function sealSession(p: PersistentState, h: ContextHeader, s: SessionState): Uint8Array {
  const { handle: _handle, client: _client, ...rest } = s;
  const saved: SavedSession = rest;
  const json = new TextEncoder().encode(stateToJson(saved));
  return sealContext(p, h, concatBytes(Uint8Array.of(FORMAT_VERSION, PAYLOAD_SESSION), json));
}

/** The session state in a contextBlob (integrity checked), with handle = savedHandle. */
export function openSession(p: PersistentState, h: ContextHeader, blob: Uint8Array, client: number): SessionState {
  const plain = openContext(p, h, blob);
  // The integrity value was right, so a foreign layout can only be a blob of another format version.
  if (plain[0] !== FORMAT_VERSION || plain[1] !== PAYLOAD_SESSION) throw new InvalidContext(TPM_RC.INTEGRITY);
  const saved = stateFromJson<SavedSession>(new TextDecoder().decode(plain.subarray(2)));
  return { ...saved, handle: h.savedHandle, client };
}
