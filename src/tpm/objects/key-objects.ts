/**
 * node:crypto keys of loaded objects, made once per sensitive / public area: building a KeyObject
 * from JWK costs more than many of the operations that use it.
 */
import type { KeyObject } from 'node:crypto';
import { TPM_ALG } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { eccCurve, type EccCurve } from '../capability/ecc-curves.js';
import { rsaPrivateKey, rsaPublicKey } from '../crypto/rsa.js';
import { eccPrivateKey, eccPublicKey } from '../crypto/ecc.js';
import type { EccPoint, PublicArea, SensitiveArea } from '../marshal/object-types.js';
import type { TpmObject } from './tpm-object.js';

const privateKeys = new WeakMap<SensitiveArea, KeyObject>();
const publicKeys = new WeakMap<PublicArea, KeyObject>();

/** The curve of an ECC object. */
export function curveOf(area: PublicArea): EccCurve {
  if (area.type !== TPM_ALG.ECC) throw new TpmError(TPM_RC.KEY);
  return eccCurve(area.parameters.curveID)!;
}

/** The private key of an RSA or ECC object; anything else is TPM_RC_KEY (unnumbered). */
export function privateKeyOf(o: Pick<TpmObject, 'publicArea' | 'sensitive'>): KeyObject {
  let key = privateKeys.get(o.sensitive);
  if (key) return key;
  const pub = o.publicArea;
  if (pub.type === TPM_ALG.RSA) key = rsaPrivateKey(pub.unique as Uint8Array, o.sensitive.sensitive, pub.parameters.exponent);
  else if (pub.type === TPM_ALG.ECC) {
    const u = pub.unique as EccPoint;
    key = eccPrivateKey(curveOf(pub), o.sensitive.sensitive, u.x, u.y);
  } else throw new TpmError(TPM_RC.KEY);
  privateKeys.set(o.sensitive, key);
  return key;
}

/** The public key of an RSA or ECC public area; a point off the curve is TPM_RC_ECC_POINT (unnumbered). */
export function publicKeyOf(pub: PublicArea): KeyObject {
  let key = publicKeys.get(pub);
  if (key) return key;
  if (pub.type === TPM_ALG.RSA) key = rsaPublicKey(pub.unique as Uint8Array, pub.parameters.exponent);
  else if (pub.type === TPM_ALG.ECC) {
    const u = pub.unique as EccPoint;
    try {
      key = eccPublicKey(curveOf(pub), u.x, u.y);
    } catch {
      throw new TpmError(TPM_RC.ECC_POINT);
    }
  } else throw new TpmError(TPM_RC.KEY);
  publicKeys.set(pub, key);
  return key;
}
