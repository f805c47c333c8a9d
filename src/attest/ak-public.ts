/** An AK's TPMT_PUBLIC as node:crypto takes a public key (JWK), and its Name: what a verifier recomputes. */
import { createHash, type JsonWebKey } from 'node:crypto';
import { TPM_ALG } from '../tpm/spec/constants.js';
import { hashInfo } from '../tpm/spec/hash-algs.js';
import type { EccPoint, PublicArea } from '../tpm/marshal/object-types.js';

const CURVES: Record<number, string> = { 0x0003: 'P-256', 0x0004: 'P-384', 0x0005: 'P-521' };
const b64url = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

/** The key's JWK: ECC on the NIST curves, or RSA. */
export function akPublicKey(area: PublicArea): { key: JsonWebKey; format: 'jwk' } {
  if (area.type === TPM_ALG.ECC) {
    const crv = CURVES[(area.parameters as { curveID: number }).curveID];
    if (!crv) throw new Error('the AK is on a curve mrtpm verify does not know');
    const { x, y } = area.unique as EccPoint;
    return { key: { kty: 'EC', crv, x: b64url(x), y: b64url(y) }, format: 'jwk' };
  }
  if (area.type === TPM_ALG.RSA) {
    const exponent = (area.parameters as { exponent: number }).exponent || 65537;
    const e = Buffer.alloc(4);
    e.writeUInt32BE(exponent);
    return { key: { kty: 'RSA', n: b64url(area.unique as Uint8Array), e: b64url(e.subarray(e.findIndex((v) => v !== 0))) }, format: 'jwk' };
  }
  throw new Error('the AK is neither an ECC nor an RSA key');
}

/** Name = nameAlg || H_nameAlg(TPMT_PUBLIC), of the public area's octets as the TPM gave them. */
export function objectName(publicArea: Uint8Array): Uint8Array {
  const nameAlg = Buffer.from(publicArea).readUInt16BE(2);
  const h = hashInfo(nameAlg);
  if (!h) throw new Error('the AK has no name algorithm');
  return new Uint8Array(Buffer.concat([publicArea.subarray(2, 4), createHash(h.name).update(publicArea).digest()]));
}
