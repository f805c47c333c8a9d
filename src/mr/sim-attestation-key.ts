/**
 * The simulators' attestation key: an ECDSA P-384 key kept beside the register file, standing in
 * for the hardware's (the TDX quoting enclave's key, the CCA Realm Attestation Key). It outlives
 * --mr-reset, as a platform key outlives a TD reboot. The public half is written out for verifiers
 * (`--hw-key`).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { linkSync, readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { fsyncDirectory, readIfExists, writeDurable } from '../store/durable-file.js';

/** An ECDSA P-384 signature as r || s, 48 octets each (IEEE P1363, as COSE ES384 has it too). */
export const P384_SIGNATURE_SIZE = 96;

export interface SimAttestationKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The public key as SPKI PEM, for `--hw-key`. */
  readonly publicKeyPath: string;
}

export const attestationKeyPath = (registerFile: string): string => `${registerFile}.attest-key.pem`;
export const attestationPublicKeyPath = (registerFile: string): string => `${registerFile}.attest-key.pub.pem`;

/**
 * Creates the key on first use. Two processes may race to: the key is written to a temp file and
 * hard-linked into place, which fails for the loser, so both end up with the winner's key.
 */
function loadOrCreatePrivateKey(path: string): KeyObject {
  const existing = readIfExists(path);
  if (existing) return createPrivateKey(existing);
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const temp = `${path}.${process.pid}.new`;
  writeDurable(temp, privateKey.export({ format: 'pem', type: 'pkcs8' }) as string);
  try {
    linkSync(temp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    rmSync(temp, { force: true });
  }
  fsyncDirectory(dirname(path));
  return createPrivateKey(readFileSync(path));
}

/** The attestation key of the simulator whose register file is `registerFile`, created on first use. */
export function openSimAttestationKey(registerFile: string): SimAttestationKey {
  const privateKey = loadOrCreatePrivateKey(attestationKeyPath(registerFile));
  const publicKey = createPublicKey(privateKey);
  const publicKeyPath = attestationPublicKeyPath(registerFile);
  const pem = publicKey.export({ format: 'pem', type: 'spki' }) as string;
  if (readIfExists(publicKeyPath)?.toString() !== pem) writeDurable(publicKeyPath, pem);
  return { privateKey, publicKey, publicKeyPath };
}

/** A public key file as `--hw-key` takes it: SPKI PEM (or any format node:crypto reads). */
export function readPublicKey(path: string): KeyObject {
  return createPublicKey(readFileSync(path));
}

export function signP384(privateKey: KeyObject, data: Uint8Array): Uint8Array {
  return new Uint8Array(sign('sha384', data, { key: privateKey, dsaEncoding: 'ieee-p1363' }));
}

export function verifyP384(publicKey: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.asymmetricKeyType !== 'ec' || publicKey.asymmetricKeyDetails?.namedCurve !== 'secp384r1') {
    throw new Error('the hardware key must be an ECDSA P-384 public key');
  }
  return signature.length === P384_SIGNATURE_SIZE && verify('sha384', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature);
}
