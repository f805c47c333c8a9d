/**
 * The checks HMAC and HMAC_Start make of their key (Part 3 §15.5, §17.2.2): an unrestricted
 * keyed-hash signing key, and the hash it computes with (the key's scheme hash, or the caller's
 * when the scheme is NULL). Errors are unnumbered beyond the handle: the caller gives the
 * hashAlg parameter's number.
 */
import { TPM_ALG, TPMA_OBJECT } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import type { TpmCore } from '../engine/tpm-core.js';
import type { TpmObject } from './tpm-object.js';
import { objectAt } from './object-loading.js';

export function hmacKey(core: TpmCore, handle: number, hashAlg: number, hashAlgParameter: number): { key: TpmObject; hashAlg: number } {
  const key = objectAt(core, handle, 1);
  const pub = key.publicArea;
  if (pub.type !== TPM_ALG.KEYEDHASH) throw TpmError.handle(TPM_RC.TYPE, 1);
  if (pub.objectAttributes & TPMA_OBJECT.restricted) throw TpmError.handle(TPM_RC.ATTRIBUTES, 1);
  if (!(pub.objectAttributes & TPMA_OBJECT.sign)) throw TpmError.handle(TPM_RC.KEY, 1);
  const scheme = pub.parameters.scheme;
  // A key with a scheme computes with its own hash; the caller may only repeat it or say NULL.
  const chosen = scheme.scheme === TPM_ALG.NULL ? hashAlg : hashAlg === TPM_ALG.NULL || hashAlg === scheme.hashAlg ? scheme.hashAlg! : TPM_ALG.NULL;
  if (chosen === TPM_ALG.NULL) throw TpmError.parameter(TPM_RC.VALUE, hashAlgParameter);
  return { key, hashAlg: chosen };
}
