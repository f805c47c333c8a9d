/**
 * The common part of every attestation (the reference's FillInAttestInfo and SignAttestInfo):
 * the signing key check, the TPMS_ATTEST header with its privacy obfuscation, and the signature.
 * Errors carry the handle / parameter numbers the caller passes.
 */
import { TPM_ALG, TPM_GENERATED_VALUE, TPM_RH, TPM_YES, TPMA_OBJECT, anySet } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { hash } from '../crypto/hash.js';
import { kdfa } from '../crypto/kdf.js';
import { u32be } from '../crypto/bytes.js';
import { encode } from '../marshal/codec.js';
import { TPMS_ATTEST, type Attested } from '../marshal/attest-types.js';
import type { Scheme } from '../marshal/public-parms-types.js';
import type { Signature } from '../marshal/signature-types.js';
import type { TpmCore } from '../engine/tpm-core.js';
import type { TpmObject } from '../objects/tpm-object.js';
import { selectSignScheme, sign } from '../objects/signatures.js';
import { asParameter } from '../objects/object-loading.js';
import { TICKET_HMAC_ALG } from '../objects/hash-check-ticket.js';
import { TPM_IDENTITY } from '../capability/properties.js';

/** An attestation as the commands return it: the marshaled TPMS_ATTEST and its signature. */
export interface SignedAttest {
  attest: Uint8Array;
  signature: Signature;
}

/** The signer of an attestation: a loaded signing key, or none for TPM_RH_NULL. */
export interface AttestSigner {
  key: TpmObject | undefined;
  scheme: (Scheme & { hashAlg: number }) | undefined;
}

const NULL_SIGNATURE: Signature = { sigAlg: TPM_ALG.NULL, hash: TPM_ALG.NULL, parts: [] };
const MASK64 = (1n << 64n) - 1n;

/**
 * The signHandle (handle `handleN`) and inScheme (parameter `schemeN`) of an attestation
 * command: a key that is not a signing key is TPM_RC_KEY (IsSigningObject), a scheme the key
 * cannot use TPM_RC_SCHEME (CryptSelectSignScheme). TPM_RH_NULL signs nothing.
 */
export function attestSigner(core: TpmCore, signHandle: number, inScheme: Scheme, handleN: number, schemeN: number): AttestSigner {
  if (signHandle === TPM_RH.NULL) return { key: undefined, scheme: undefined };
  if (core.sequences.has(signHandle)) throw TpmError.handle(TPM_RC.KEY, handleN);
  const key = core.object(signHandle);
  if (!anySet(key.publicArea.objectAttributes, TPMA_OBJECT.sign) || key.publicArea.type === TPM_ALG.SYMCIPHER) {
    throw TpmError.handle(TPM_RC.KEY, handleN);
  }
  return { key, scheme: asParameter(schemeN, () => selectSignScheme(key, inScheme)) };
}

/** TPMS_CLOCK_INFO now (TimeFillInfo); safe as ReadClock reports it. */
export function clockInfo(core: TpmCore): { clock: bigint; resetCount: number; restartCount: number; safe: number } {
  const p = core.persistent;
  return { clock: p.clock, resetCount: p.resetCount, restartCount: p.restartCount, safe: TPM_YES };
}

/** TPM_PT_FIRMWARE_VERSION_1 || _2 as one UINT64. */
export const firmwareVersion = (): bigint => (BigInt(TPM_IDENTITY.firmwareVersion) << 32n) | BigInt(TPM_IDENTITY.firmwareVersion2);

/**
 * Part 1 §36.6 (privacy of the clock): a key outside the endorsement and platform hierarchies
 * (and TPM_RH_NULL) sees resetCount, restartCount and firmwareVersion offset by a KDFa of shProof
 * over its qualified Name, so that keys of different owners cannot correlate reboots. The two
 * UINT64 of the KDF output are read in the reference's in-memory (little-endian) order.
 */
function obfuscation(core: TpmCore, qualifiedSigner: Uint8Array): { fw: bigint; counts: bigint } {
  const o = kdfa(TICKET_HMAC_ALG, core.persistent.shProof, 'OBFUSCATE', qualifiedSigner, new Uint8Array(0), 128);
  const v = new DataView(o.buffer, o.byteOffset, o.byteLength);
  return { fw: v.getBigUint64(0, true), counts: v.getBigUint64(8, true) };
}

const revealsCounters = (key: TpmObject | undefined): boolean =>
  key !== undefined && (key.hierarchy === TPM_RH.ENDORSEMENT || key.hierarchy === TPM_RH.PLATFORM);

/** Fills in the TPMS_ATTEST header for `attested`, marshals it and signs it (no signature for TPM_RH_NULL). */
export function signAttest(core: TpmCore, signer: AttestSigner, extraData: Uint8Array, attested: Attested): SignedAttest {
  const qualifiedSigner = signer.key?.qualifiedName ?? u32be(TPM_RH.NULL);
  const clock = clockInfo(core);
  let fw = firmwareVersion();
  if (!revealsCounters(signer.key)) {
    const o = obfuscation(core, qualifiedSigner);
    fw = (fw + o.fw) & MASK64;
    clock.resetCount = (clock.resetCount + Number(o.counts >> 32n)) >>> 0;
    clock.restartCount = (clock.restartCount + Number(o.counts & 0xffffffffn)) >>> 0;
  }
  const attest = encode(TPMS_ATTEST, { magic: TPM_GENERATED_VALUE, qualifiedSigner, extraData, clockInfo: clock, firmwareVersion: fw, ...attested });
  if (!signer.key || !signer.scheme) return { attest, signature: NULL_SIGNATURE };
  const { key, scheme } = signer;
  return { attest, signature: sign(key, scheme, hash(scheme.hashAlg, attest), core) };
}
