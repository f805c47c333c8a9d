/**
 * The Arm CCA attestation token (RMM spec A7.2; claim keys as TF-RMM's attestation_defs_priv.h):
 * cca-token = #6.399({44234: platform token (COSE_Sign1 bstr), 44241: realm token (COSE_Sign1 bstr)}).
 * The realm token's payload is a map of the realm claims below; it is signed ES384 by the Realm
 * Attestation Key (RAK), whose public key is one of the claims and whose hash the platform token's
 * challenge carries.
 */
import { cborBytes, loadCbor } from './cbor.js';
import { coseSign1From, type CoseSign1 } from './cose-sign1.js';

export const CCA_TOKEN_TAG = 399;
export const CCA_PLATFORM_TOKEN = 44234;
export const CCA_REALM_DELEGATED_TOKEN = 44241;

export const CCA_REALM_CLAIM = {
  challenge: 10,
  personalizationValue: 44235,
  hashAlgId: 44236,
  publicKey: 44237,
  initialMeasurement: 44238,
  extensibleMeasurements: 44239,
  publicKeyHashAlgId: 44240,
  profile: 265,
} as const;

export const CCA_REALM_PROFILE = 'tag:arm.com,2023:realm#1.0.0';

export interface RealmClaims {
  readonly challenge: Uint8Array;
  readonly personalizationValue: Uint8Array;
  /** The realm hash by its IANA hash name: sha-256, sha-384 or sha-512. */
  readonly hashAlgId: string;
  /** The RAK public key (here an uncompressed SEC1 point). */
  readonly publicKey: Uint8Array;
  readonly publicKeyHashAlgId: string;
  readonly profile?: string;
  readonly rim: Uint8Array;
  /** REM0..3. */
  readonly rems: readonly Uint8Array[];
}

export async function encodeRealmClaims(claims: RealmClaims): Promise<Uint8Array> {
  const { encode } = await loadCbor();
  const c = CCA_REALM_CLAIM;
  return encode(new Map<number, unknown>([
    [c.challenge, cborBytes(claims.challenge)],
    [c.personalizationValue, cborBytes(claims.personalizationValue)],
    [c.publicKey, cborBytes(claims.publicKey)],
    [c.hashAlgId, claims.hashAlgId],
    [c.publicKeyHashAlgId, claims.publicKeyHashAlgId],
    ...(claims.profile === undefined ? [] : [[c.profile, claims.profile] as [number, unknown]]),
    [c.initialMeasurement, cborBytes(claims.rim)],
    [c.extensibleMeasurements, claims.rems.map(cborBytes)],
  ]));
}

const bytesClaim = (claims: Map<unknown, unknown>, key: number, name: string): Uint8Array => {
  const value = claims.get(key);
  if (!(value instanceof Uint8Array)) throw new Error(`realm token: claim ${name} (${key}) is missing or not a byte string`);
  return value;
};
const textClaim = (claims: Map<unknown, unknown>, key: number, name: string): string => {
  const value = claims.get(key);
  if (typeof value !== 'string') throw new Error(`realm token: claim ${name} (${key}) is missing or not a text string`);
  return value;
};

export async function parseRealmClaims(payload: Uint8Array): Promise<RealmClaims> {
  const { decode } = await loadCbor();
  const claims = decode(payload, { preferMap: true });
  if (!(claims instanceof Map)) throw new Error('realm token: the payload is not a claims map');
  const c = CCA_REALM_CLAIM;
  const rems = claims.get(c.extensibleMeasurements);
  if (!Array.isArray(rems) || rems.length !== 4 || !rems.every((r) => r instanceof Uint8Array)) {
    throw new Error(`realm token: claim extensible measurements (${c.extensibleMeasurements}) is not 4 byte strings`);
  }
  const profile = claims.get(c.profile);
  return {
    challenge: bytesClaim(claims, c.challenge, 'challenge'),
    personalizationValue: bytesClaim(claims, c.personalizationValue, 'personalization value'),
    hashAlgId: textClaim(claims, c.hashAlgId, 'hash algorithm id'),
    publicKey: bytesClaim(claims, c.publicKey, 'public key'),
    publicKeyHashAlgId: textClaim(claims, c.publicKeyHashAlgId, 'public key hash algorithm id'),
    ...(typeof profile === 'string' && { profile }),
    rim: bytesClaim(claims, c.initialMeasurement, 'initial measurement'),
    rems: rems as Uint8Array[],
  };
}

export interface CcaEvidence {
  readonly realmToken: CoseSign1;
  readonly claims: RealmClaims;
  /** The platform token, as carried (not verified here: that needs the platform's CPAK chain). */
  readonly platformToken?: Uint8Array;
}

/** A CCA token collection (tag 399), or a realm token alone as cca-sim emits it. */
export async function parseCcaEvidence(bytes: Uint8Array): Promise<CcaEvidence> {
  const { decode, Tag } = await loadCbor();
  const top = decode(bytes, { preferMap: true });
  let realm: unknown = top;
  let platformToken: Uint8Array | undefined;
  if (top instanceof Tag && top.tag === CCA_TOKEN_TAG) {
    const collection = top.contents;
    if (!(collection instanceof Map)) throw new Error('CCA token: tag 399 does not hold a map');
    const realmBytes = collection.get(CCA_REALM_DELEGATED_TOKEN);
    const platform = collection.get(CCA_PLATFORM_TOKEN);
    if (!(realmBytes instanceof Uint8Array)) throw new Error(`CCA token: no realm token (${CCA_REALM_DELEGATED_TOKEN})`);
    realm = decode(realmBytes, { preferMap: true });
    if (platform instanceof Uint8Array) platformToken = platform;
  }
  const realmToken = await coseSign1From(realm);
  return { realmToken, claims: await parseRealmClaims(realmToken.payload), ...(platformToken && { platformToken }) };
}

/** The registers a realm token states, by the kernel's names. */
export function realmRegisters(claims: RealmClaims): Map<string, Uint8Array> {
  return new Map([['rim', claims.rim], ...claims.rems.map((v, i) => [`rem${i}`, v] as [string, Uint8Array])]);
}
