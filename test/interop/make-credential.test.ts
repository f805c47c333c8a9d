/**
 * Known-answer test of the key-protection crypto against an independent implementation:
 * `tpm2_makecredential -T none` computes a credential entirely in tpm2-tools' own software
 * (lib/tpm2_identity_util.c, lib/tpm2_kdfe.c over OpenSSL): a seed shared with the EK (RSA-OAEP
 * label "IDENTITY", or ECDH + KDFe), and the credential outer-wrapped with KDFa(seed, "STORAGE",
 * name) / KDFa(seed, "INTEGRITY") (Part 1 §24.4). Our recoverSecret and outerUnwrap must get the
 * secret back exactly; the EK key pairs come from node:crypto, so no code of ours makes the inputs.
 */
import assert from 'node:assert/strict';
import { createHash, diffieHellman, randomBytes, type KeyObject } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TPM_ALG, TPMA_OBJECT } from '../../src/tpm/spec/constants.js';
import { TPM_ECC } from '../../src/tpm/spec/tpm-pt.js';
import { TPM_RC, TpmError } from '../../src/tpm/spec/tpm-rc.js';
import { decode, encode } from '../../src/tpm/marshal/codec.js';
import { TPM2B_DIGEST } from '../../src/tpm/marshal/types.js';
import { TPM2B_PUBLIC, TPMS_ECC_POINT, type PublicArea, type SensitiveArea } from '../../src/tpm/marshal/object-types.js';
import { makeObject, type TpmObject } from '../../src/tpm/objects/tpm-object.js';
import { recoverSecret } from '../../src/tpm/objects/secret-exchange.js';
import { outerUnwrap, type OuterWrapKey } from '../../src/tpm/objects/sensitive-protection.js';
import { requireInteropTools } from '../helpers/interop-prereqs.js';
import { ecKeyPair, rsaKeyPair } from '../helpers/key-pairs.js';
import { makeTempDir, removeDir } from '../helpers/state-dirs.js';
import { tpm2 } from '../helpers/tpm2-tools.js';

const b64 = (s: string | undefined): Uint8Array => Uint8Array.from(Buffer.from(s ?? '', 'base64url'));

/** The TCG EK template's attributes and symmetric (EK Credential Profile, templates L-1 / L-2). */
const EK_ATTRIBUTES = TPMA_OBJECT.fixedTPM | TPMA_OBJECT.fixedParent | TPMA_OBJECT.sensitiveDataOrigin
  | TPMA_OBJECT.adminWithPolicy | TPMA_OBJECT.restricted | TPMA_OBJECT.decrypt;
const EK_POLICY = Buffer.from('837197674484b3f81a90cc8d46a5d724fd52d76e06520b64f2a1da1b331469aa', 'hex');
const AES_128_CFB = { algorithm: TPM_ALG.AES, keyBits: 128, mode: TPM_ALG.CFB };
const NULL_SCHEME = { scheme: TPM_ALG.NULL };

/** An EK-like object around a node:crypto key pair. */
function ekObject(privateKey: KeyObject): TpmObject {
  const jwk = privateKey.export({ format: 'jwk' });
  const common = { nameAlg: TPM_ALG.SHA256, objectAttributes: EK_ATTRIBUTES, authPolicy: EK_POLICY };
  const empty = new Uint8Array(0);
  let publicArea: PublicArea;
  let sensitive: SensitiveArea;
  if (jwk.kty === 'RSA') {
    publicArea = {
      ...common, type: TPM_ALG.RSA, unique: b64(jwk.n),
      parameters: { symmetric: AES_128_CFB, scheme: NULL_SCHEME, keyBits: 2048, exponent: 0 },
    };
    sensitive = { sensitiveType: TPM_ALG.RSA, authValue: empty, seedValue: empty, sensitive: b64(jwk.p) };
  } else {
    publicArea = {
      ...common, type: TPM_ALG.ECC, unique: { x: b64(jwk.x), y: b64(jwk.y) },
      parameters: { symmetric: AES_128_CFB, scheme: NULL_SCHEME, curveID: TPM_ECC.NIST_P256, kdf: NULL_SCHEME },
    };
    sensitive = { sensitiveType: TPM_ALG.ECC, authValue: empty, seedValue: empty, sensitive: b64(jwk.d) };
  }
  return { ...makeObject(publicArea, sensitive, 0x4000000b, new Uint8Array(0)), handle: 0x80000000, client: 0 };
}

/** cred.out of tpm2-tools 5.x: BE32 magic 0xBADCC0DE, BE32 version 1, TPM2B_ID_OBJECT, TPM2B_ENCRYPTED_SECRET. */
function parseCredentialFile(file: Buffer): { credentialBlob: Uint8Array; secret: Uint8Array } {
  assert.equal(file.readUInt32BE(0), 0xbadcc0de, 'magic');
  assert.equal(file.readUInt32BE(4), 1, 'version');
  const blobSize = file.readUInt16BE(8);
  const credentialBlob = file.subarray(10, 10 + blobSize);
  const secretSize = file.readUInt16BE(10 + blobSize);
  const secret = file.subarray(12 + blobSize, 12 + blobSize + secretSize);
  assert.equal(file.length, 12 + blobSize + secretSize, 'trailing bytes in cred.out');
  return { credentialBlob, secret };
}

const ekKey = (ek: TpmObject, seed: Uint8Array): OuterWrapKey => ({ hashAlg: ek.publicArea.nameAlg, seed, symmetric: AES_128_CFB });

const KEY_PAIRS = {
  'RSA 2048': () => rsaKeyPair(2048).privateKey,
  'ECC P-256': () => ecKeyPair('P-256').privateKey,
};

describe('credential protection against tpm2_makecredential -T none', function () {
  this.timeout(60000);
  let dir: string;

  before(async function () {
    await requireInteropTools(this);
    dir = await makeTempDir('make-credential');
  });

  after(async () => {
    if (dir) await removeDir(dir);
  });

  for (const [label, generate] of Object.entries(KEY_PAIRS)) {
    describe(label, () => {
      const ek = ekObject(generate());
      const tag = label.replace(/\W/g, '');

      async function makeCredential(secret: Buffer, name: Buffer): Promise<{ credentialBlob: Uint8Array; secret: Uint8Array }> {
        const pub = path.join(dir, `${tag}.pub`);
        const secretFile = path.join(dir, `${tag}-secret.bin`);
        const out = path.join(dir, `${tag}-cred.out`);
        await writeFile(pub, encode(TPM2B_PUBLIC, ek.publicArea));
        await writeFile(secretFile, secret);
        await tpm2('none', 'makecredential', ['-T', 'none', '-e', pub, '-s', secretFile, '-n', name.toString('hex'), '-o', out]);
        return parseCredentialFile(await readFile(out));
      }

      const objectName = (): Buffer => Buffer.concat([Buffer.from([0x00, 0x0b]), randomBytes(32)]);

      for (const size of [1, 32, 64]) {
        it(`recovers a ${size}-byte credential with the IDENTITY seed and the outer wrap`, async () => {
          const credential = randomBytes(size);
          const name = objectName();
          const made = await makeCredential(credential, name);
          const seed = recoverSecret(ek, 'IDENTITY', made.secret);
          assert.equal(seed.length, 32, 'seed is a nameAlg digest');
          const inner = outerUnwrap(ekKey(ek, seed), name, made.credentialBlob);
          assert.deepEqual(Buffer.from(decode(TPM2B_DIGEST, inner)), credential);
        });
      }

      it('binds the credential to the Name and the seed to the IDENTITY label', async () => {
        const name = objectName();
        const made = await makeCredential(randomBytes(16), name);
        const seed = recoverSecret(ek, 'IDENTITY', made.secret);
        const otherName = Buffer.from(name);
        otherName[5]! ^= 1;
        assert.throws(() => outerUnwrap(ekKey(ek, seed), otherName, made.credentialBlob), (e: unknown) => e instanceof TpmError && e.rc === TPM_RC.INTEGRITY);
        // RSA: OAEP rejects the wrong label; ECC: KDFe yields another seed, which fails integrity.
        let wrongSeed: Uint8Array | undefined;
        try {
          wrongSeed = recoverSecret(ek, 'SECRET', made.secret);
        } catch (e) {
          assert.ok(e instanceof TpmError && e.rc === TPM_RC.VALUE, String(e));
        }
        if (wrongSeed) {
          assert.throws(() => outerUnwrap(ekKey(ek, wrongSeed), name, made.credentialBlob), (e: unknown) => e instanceof TpmError && e.rc === TPM_RC.INTEGRITY);
        }
      });
    });
  }

  it('ECC: takes the ephemeral x as marshaled when the sender dropped a leading zero (tpm2-tools BN_bn2bin, 1 in 256)', () => {
    // What tpm2-tools' ecdh_derive_seed_and_encrypted_seed does when the ephemeral x starts with 00,
    // computed here with node:crypto and the KDFe formula of Part 1 §11.4.10.3.
    const ekPair = ecKeyPair('P-256');
    const ek = ekObject(ekPair.privateKey);
    let ephemeral: KeyObject;
    let jwk: JsonWebKey;
    do {
      ephemeral = ecKeyPair('P-256').privateKey;
      jwk = ephemeral.export({ format: 'jwk' });
    } while (b64(jwk.x)[0] !== 0);
    const shortX = b64(jwk.x).subarray(1);
    const z = diffieHellman({ privateKey: ephemeral, publicKey: ekPair.publicKey });
    const want = createHash('sha256').update(Buffer.from([0, 0, 0, 1])).update(z).update('IDENTITY\0')
      .update(shortX).update(b64(ekPair.publicKey.export({ format: 'jwk' }).x)).digest();
    const secret = encode(TPMS_ECC_POINT, { x: shortX, y: b64(jwk.y) });
    assert.deepEqual(Buffer.from(recoverSecret(ek, 'IDENTITY', secret)), want);
  });
});
