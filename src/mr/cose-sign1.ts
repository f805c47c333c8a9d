/**
 * COSE_Sign1 (RFC 9052 §4.2) with ES384 only, the algorithm of the CCA realm token:
 * COSE_Sign1 = #6.18([protected: bstr .cbor header_map, unprotected: header_map, payload: bstr,
 * signature: bstr]); the signature is ECDSA P-384 over Sig_structure = ["Signature1", protected,
 * external_aad = h'', payload], as r || s (RFC 9053 §2.1).
 */
import type { KeyObject } from 'node:crypto';
import { cborBytes, loadCbor } from './cbor.js';
import { signP384, verifyP384 } from './sim-attestation-key.js';

export const COSE_SIGN1_TAG = 18;
/** COSE header label `alg` and algorithm ES384 (IANA COSE registries). */
const HEADER_ALG = 1;
export const COSE_ALG_ES384 = -35;

export interface CoseSign1 {
  /** The protected header as serialized: the Sig_structure signs these exact octets. */
  readonly protectedHeader: Uint8Array;
  readonly alg: unknown;
  readonly payload: Uint8Array;
  readonly signature: Uint8Array;
}

export async function sigStructure(protectedHeader: Uint8Array, payload: Uint8Array): Promise<Uint8Array> {
  const { encode } = await loadCbor();
  return encode(['Signature1', cborBytes(protectedHeader), new Uint8Array(0), cborBytes(payload)]);
}

/** A tagged COSE_Sign1 of `payload`, signed ES384 with `privateKey`. */
export async function signCoseSign1(privateKey: KeyObject, payload: Uint8Array): Promise<Uint8Array> {
  const { encode, Tag } = await loadCbor();
  const protectedHeader = encode(new Map([[HEADER_ALG, COSE_ALG_ES384]]));
  const signature = signP384(privateKey, await sigStructure(protectedHeader, payload));
  return encode(new Tag(COSE_SIGN1_TAG, [protectedHeader, new Map(), cborBytes(payload), signature]));
}

/** Reads a COSE_Sign1 from a decoded CBOR value (tagged 18 or untagged, as RFC 9052 allows both). */
export async function coseSign1From(value: unknown): Promise<CoseSign1> {
  const { decode, Tag } = await loadCbor();
  const message = value instanceof Tag && value.tag === COSE_SIGN1_TAG ? value.contents : value;
  if (!Array.isArray(message) || message.length !== 4) throw new Error('not a COSE_Sign1: expected an array of 4');
  const [protectedHeader, , payload, signature] = message as unknown[];
  if (!(protectedHeader instanceof Uint8Array) || !(payload instanceof Uint8Array) || !(signature instanceof Uint8Array)) {
    throw new Error('not a COSE_Sign1: protected header, payload and signature must be byte strings');
  }
  const header = protectedHeader.length === 0 ? new Map() : decode(protectedHeader, { preferMap: true });
  if (!(header instanceof Map)) throw new Error('COSE_Sign1 protected header is not a map');
  return { protectedHeader, alg: header.get(HEADER_ALG), payload, signature };
}

/** True if the signature holds under `publicKey`; an algorithm other than ES384 is an Error. */
export async function verifyCoseSign1(message: CoseSign1, publicKey: KeyObject): Promise<boolean> {
  if (message.alg !== COSE_ALG_ES384) throw new Error(`COSE_Sign1 algorithm ${String(message.alg)} is not ES384 (${COSE_ALG_ES384})`);
  return verifyP384(publicKey, await sigStructure(message.protectedHeader, message.payload), message.signature);
}
