/**
 * Part 3 §12.5-12.6 (Part 1 §24), credential protection: MakeCredential seals a credential to a
 * key's public part and the Name of another object; ActivateCredential gives it back only to a TPM
 * that holds both the key (it recovers the "IDENTITY" seed) and the named object (its Name keys the
 * outer wrap, and its ADMIN authorization is needed).
 */
import { TPM_CC } from '../spec/tpm-cc.js';
import { TPM_ALG, TPMA_OBJECT, anySet } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { hashInfo } from '../spec/hash-algs.js';
import { decode, encode, struct } from '../marshal/codec.js';
import { TPM2B_DIGEST, TPM2B_ENCRYPTED_SECRET } from '../marshal/types.js';
import { TPM2B_ID_OBJECT, TPM2B_NAME } from '../marshal/object-types.js';
import { command } from '../engine/command-def.js';
import type { TpmCore } from '../engine/tpm-core.js';
import type { TpmObject } from '../objects/tpm-object.js';
import { recoverSecret, shareSecret } from '../objects/secret-exchange.js';
import { outerUnwrap, outerWrap, sharedSeedKey } from '../objects/sensitive-protection.js';
import { asParameter, objectAt } from '../objects/object-loading.js';

/** The key protecting a credential: an asymmetric, restricted decryption key at handle n, else TPM_RC_TYPE. */
function credentialKey(core: TpmCore, handle: number, n: number): TpmObject {
  const key = objectAt(core, handle, n);
  const { type, objectAttributes } = key.publicArea;
  const asymmetric = type === TPM_ALG.RSA || type === TPM_ALG.ECC;
  if (!asymmetric || !anySet(objectAttributes, TPMA_OBJECT.restricted) || !anySet(objectAttributes, TPMA_OBJECT.decrypt)) throw TpmError.handle(TPM_RC.TYPE, n);
  return key;
}

export const CREDENTIAL_COMMANDS = [
  command({
    code: TPM_CC.ActivateCredential, name: 'ActivateCredential',
    handles: [{ name: 'activateHandle', kind: 'OBJECT', auth: 'ADMIN' }, { name: 'keyHandle', kind: 'OBJECT', auth: 'USER' }],
    params: struct({ credentialBlob: TPM2B_ID_OBJECT, secret: TPM2B_ENCRYPTED_SECRET }),
    response: struct({ certInfo: TPM2B_DIGEST }),
    handler(ctx, [activateHandle, keyHandle], { credentialBlob, secret }) {
      const { core } = ctx;
      const activate = objectAt(core, activateHandle!, 1);
      const key = credentialKey(core, keyHandle!, 2);
      const seed = asParameter(2, () => recoverSecret(key, 'IDENTITY', secret));
      // A tampered blob or another Name is TPM_RC_INTEGRITY; a decrypted TPM2B_DIGEST with bytes after it TPM_RC_SIZE.
      const certInfo = asParameter(1, () => decode(TPM2B_DIGEST, outerUnwrap(sharedSeedKey(key.publicArea, seed), activate.name, credentialBlob)));
      return { certInfo };
    },
  }),
  command({
    code: TPM_CC.MakeCredential, name: 'MakeCredential',
    handles: [{ name: 'handle', kind: 'OBJECT' }],
    params: struct({ credential: TPM2B_DIGEST, objectName: TPM2B_NAME }),
    response: struct({ credentialBlob: TPM2B_ID_OBJECT, secret: TPM2B_ENCRYPTED_SECRET }),
    handler(ctx, [h], { credential, objectName }) {
      const { core } = ctx;
      const key = credentialKey(core, h!, 1);
      // The credential fits in a digest of the key's nameAlg: it is typically a symmetric key.
      if (credential.length > (hashInfo(key.publicArea.nameAlg)?.digestSize ?? 0)) throw TpmError.parameter(TPM_RC.SIZE, 1);
      const { seed, encryptedSecret } = shareSecret(key.publicArea, 'IDENTITY', (n) => core.random(n));
      const credentialBlob = outerWrap(sharedSeedKey(key.publicArea, seed), objectName, encode(TPM2B_DIGEST, credential));
      return { credentialBlob, secret: encryptedSecret };
    },
  }),
];
