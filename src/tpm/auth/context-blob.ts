/**
 * The contextBlob of TPMS_CONTEXT (Part 1 §30.3): integrity-protected, encrypted saved state that
 * only this TPM, in this TPM Reset epoch, can load again. Layout and key derivation are described
 * in docs/context-blobs.md.
 */
import { TPM_ALG } from '../spec/constants.js';
import { MAX_DIGEST_SIZE } from '../spec/hash-algs.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import type { PersistentState, SessionState, StoredObject } from '../state/tpm-state.js';
import { stateFromJson, stateToJson } from '../state/serialize.js';
import { LIMITS } from '../spec/limits.js';
import { UINT32, decode, encode, sized, struct } from '../marshal/codec.js';
import { hmac } from '../crypto/hash.js';
import { kdfa } from '../crypto/kdf.js';
import { concatBytes, u32be, u64be } from '../crypto/bytes.js';
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
/** Digest size of the context integrity HMAC; also the bound on a hierarchy authValue (HierarchyChangeAuth). */
export const CONTEXT_INTEGRITY_SIZE = 32;
const CIPHER = { algorithm: TPM_ALG.AES, keyBits: 128, mode: TPM_ALG.CFB } as const;
const FORMAT_VERSION = 1;
/** What the plaintext holds, after the version octet. */
const PAYLOAD_SESSION = 1;
const PAYLOAD_OBJECT = 2;

/**
 * What a blob is bound to: `epoch` (the TPM Reset epoch for sessions, the hierarchy's proof for
 * objects) keys it, and `salt` (objects only, random per save, stored in clear) keeps CFB key
 * streams distinct where (sequence, handle) can repeat under one key, across TPM Resets.
 */
interface Binding {
  epoch: Uint8Array;
  salt: Uint8Array;
}

export const OBJECT_SALT_BYTES = 16;

/** Integrity keys by epoch value (the reset epoch and the proofs are replaced, never changed in place). */
const integrityKeys = new WeakMap<Uint8Array, Uint8Array>();

function integrityKey(p: PersistentState, b: Binding): Uint8Array {
  let key = integrityKeys.get(b.epoch);
  if (!key) integrityKeys.set(b.epoch, (key = kdfa(INTEGRITY_ALG, p.contextSecret, 'CONTEXT INTEGRITY', b.epoch, new Uint8Array(0), CONTEXT_INTEGRITY_SIZE * 8)));
  return key;
}

/** Encryption key and IV: distinct for every (epoch, sequence, handle, salt), so no CFB key stream repeats. */
function encryptionKey(p: PersistentState, h: ContextHeader, b: Binding): { key: Uint8Array; iv: Uint8Array } {
  const bits = CIPHER.keyBits + 128;
  const out = kdfa(INTEGRITY_ALG, p.contextSecret, 'CONTEXT', b.epoch, concatBytes(u64be(h.sequence), u32be(h.savedHandle), b.salt), bits);
  return { key: out.subarray(0, CIPHER.keyBits / 8), iv: out.subarray(CIPHER.keyBits / 8) };
}

function integrity(p: PersistentState, h: ContextHeader, b: Binding, encrypted: Uint8Array): Uint8Array {
  return hmac(INTEGRITY_ALG, integrityKey(p, b), u64be(h.sequence), u32be(h.savedHandle), u32be(h.hierarchy), b.salt, encrypted);
}

/** Seals a plaintext into contextBlob: u16 integrity size || integrity || salt || AES-128-CFB(plaintext). */
function sealContext(p: PersistentState, h: ContextHeader, b: Binding, plaintext: Uint8Array): Uint8Array {
  const { key, iv } = encryptionKey(p, h, b);
  const encrypted = symmetricEncrypt(CIPHER, key, iv, plaintext);
  const mac = integrity(p, h, b, encrypted);
  return concatBytes(Uint8Array.of(mac.length >> 8, mac.length & 0xff), mac, b.salt, encrypted);
}

/**
 * Opens a contextBlob. As in the reference implementation, an integrity field that cannot be
 * unmarshalled is TPM_RC_INSUFFICIENT / TPM_RC_SIZE as such, a wrongly sized one or a blob too
 * short is TPM_RC_SIZE and a wrong integrity value (tampering, another TPM, an earlier TPM Reset
 * epoch) TPM_RC_INTEGRITY; the caller numbers the last two with its parameter.
 */
function openContext(p: PersistentState, h: ContextHeader, epoch: Uint8Array, saltBytes: number, blob: Uint8Array): Uint8Array {
  if (blob.length < 2) throw new TpmError(TPM_RC.INSUFFICIENT);
  const size = (blob[0]! << 8) | blob[1]!;
  if (size > MAX_DIGEST_SIZE) throw new TpmError(TPM_RC.SIZE, 'integrity TPM2B_DIGEST');
  if (blob.length < 2 + size) throw new TpmError(TPM_RC.INSUFFICIENT);
  if (size !== CONTEXT_INTEGRITY_SIZE || blob.length < 2 + size + saltBytes + 2) throw new InvalidContext(TPM_RC.SIZE);
  const mac = blob.subarray(2, 2 + size);
  const b = { epoch, salt: blob.subarray(2 + size, 2 + size + saltBytes) };
  const encrypted = blob.subarray(2 + size + saltBytes);
  if (!timingSafeEqual(mac, integrity(p, h, b, encrypted))) throw new InvalidContext(TPM_RC.INTEGRITY);
  const { key, iv } = encryptionKey(p, h, b);
  return symmetricDecrypt(CIPHER, key, iv, encrypted);
}

/** The payload of an opened blob; the integrity value was right, so a foreign layout can only be another format version. */
function payloadOf(plain: Uint8Array, payload: number): Uint8Array {
  if (plain[0] !== FORMAT_VERSION || plain[1] !== payload) throw new InvalidContext(TPM_RC.INTEGRITY);
  return plain.subarray(2);
}

const sealed = (payload: number, body: Uint8Array): Uint8Array => concatBytes(Uint8Array.of(FORMAT_VERSION, payload), body);

/** An object in its blob: marshaled like the Part 2 structures it holds, no JSON (ContextSave of keys is frequent). */
const STORED_OBJECT = struct({
  public: sized(LIMITS.MAX_CONTEXT_SIZE),
  sensitive: sized(LIMITS.MAX_CONTEXT_SIZE),
  hierarchy: UINT32,
  qualifiedName: sized(2 + MAX_DIGEST_SIZE),
});

/** A session's state as the blob carries it; handle and owning client come from the load. */
type SavedSession = Omit<SessionState, 'handle' | 'client'>;

/** The contextBlob of a saved session. The state travels as the same JSON the volatile file uses. */
export function sealSession(p: PersistentState, h: ContextHeader, s: SessionState): Uint8Array {
  const { handle: _handle, client: _client, ...rest } = s;
  const saved: SavedSession = rest;
  return sealContext(p, h, { epoch: p.resetEpoch, salt: new Uint8Array(0) }, sealed(PAYLOAD_SESSION, new TextEncoder().encode(stateToJson(saved))));
}

/** The session state in a contextBlob (integrity checked), with handle = savedHandle. */
export function openSession(p: PersistentState, h: ContextHeader, blob: Uint8Array, client: number): SessionState {
  const saved = stateFromJson<SavedSession>(new TextDecoder().decode(payloadOf(openContext(p, h, p.resetEpoch, 0, blob), PAYLOAD_SESSION)));
  return { ...saved, handle: h.savedHandle, client };
}

/**
 * The contextBlob of a saved object: its areas as persistent storage keeps them, bound to its
 * hierarchy's proof, so it loads until that proof changes (Clear for owner and endorsement
 * objects, every TPM Reset for the null hierarchy's).
 */
export function sealObject(p: PersistentState, h: ContextHeader, proof: Uint8Array, o: StoredObject, salt: Uint8Array): Uint8Array {
  return sealContext(p, h, { epoch: proof, salt }, sealed(PAYLOAD_OBJECT, encode(STORED_OBJECT, o)));
}

export function openObject(p: PersistentState, h: ContextHeader, proof: Uint8Array, blob: Uint8Array): StoredObject {
  return decode(STORED_OBJECT, payloadOf(openContext(p, h, proof, OBJECT_SALT_BYTES, blob), PAYLOAD_OBJECT));
}
