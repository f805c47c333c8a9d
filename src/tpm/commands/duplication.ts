/**
 * Part 3 §13, duplication: Duplicate, Rewrap and Import. The inner wrap uses a symmetric key the
 * caller gives or the TPM makes; the outer wrap a seed shared with the new parent ("DUPLICATE").
 */
import { TPM_CC } from '../spec/tpm-cc.js';
import { TPM_ALG, TPM_RH, TPMA_OBJECT, anySet } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { struct } from '../marshal/codec.js';
import { TPM2B_ENCRYPTED_SECRET, type SymDef } from '../marshal/types.js';
import { MAX_PRIVATE_SIZE, TPM2B_DATA, TPM2B_NAME, TPM2B_PRIVATE, TPM2B_PUBLIC, publicBytes } from '../marshal/object-types.js';
import { TPMT_SYM_DEF_OBJECT_NULL } from '../marshal/public-parms-types.js';
import { command } from '../engine/command-def.js';
import { isSupportedSymmetric } from '../crypto/symmetric.js';
import { isStorageParent, validateTemplate } from '../objects/object-templates.js';
import { objectName } from '../objects/tpm-object.js';
import { recoverSecret, shareSecret } from '../objects/secret-exchange.js';
import { outerUnwrap, outerWrap, protectSensitive, sharedSeedKey, type OuterWrapKey } from '../objects/sensitive-protection.js';
import type { TpmCore } from '../engine/tpm-core.js';
import type { TpmObject } from '../objects/tpm-object.js';
import { unwrapDuplicate, wrapDuplicate, type InnerWrapKey } from '../objects/duplication-wrap.js';
import { checkKeyBinding } from '../objects/key-binding.js';
import { asHandle, asParameter, objectAt, storageParent } from '../objects/object-loading.js';

const EMPTY: Uint8Array = new Uint8Array(0);

/** The symmetric definition of an inner wrap; an algorithm this TPM lacks is TPM_RC_SYMMETRIC on `n`. */
function innerSymmetric(def: SymDef, n: number): SymDef {
  const cfb = { ...def, mode: TPM_ALG.CFB };
  if (!isSupportedSymmetric(cfb)) throw TpmError.parameter(TPM_RC.SYMMETRIC, n);
  return cfb;
}

/** The outer wrap key of a new parent with a fresh shared seed, and the secret that carries the seed. */
function newParentWrap(core: TpmCore, newParent: TpmObject): { outer: OuterWrapKey; encryptedSecret: Uint8Array } {
  const { seed, encryptedSecret } = shareSecret(newParent.publicArea, 'DUPLICATE', (n) => core.random(n));
  return { outer: sharedSeedKey(newParent.publicArea, seed), encryptedSecret };
}

/** A storage key at handle n (TPMI_DH_OBJECT+), or undefined for TPM_RH_NULL; anything else is TPM_RC_TYPE. */
function storageKeyOrNull(core: TpmCore, handle: number, n: number): TpmObject | undefined {
  if (handle === TPM_RH.NULL) return undefined;
  const key = asHandle(n, () => core.object(handle));
  if (core.sequences.has(handle) || !isStorageParent(key.publicArea)) throw TpmError.handle(TPM_RC.TYPE, n);
  return key;
}

export const DUPLICATION_COMMANDS = [
  command({
    code: TPM_CC.Duplicate, name: 'Duplicate',
    handles: [{ name: 'objectHandle', kind: 'OBJECT', auth: 'DUP' }, { name: 'newParentHandle', kind: 'OBJECT', allowNull: true }],
    params: struct({ encryptionKeyIn: TPM2B_DATA, symmetricAlg: TPMT_SYM_DEF_OBJECT_NULL }),
    response: struct({ encryptionKeyOut: TPM2B_DATA, duplicate: TPM2B_PRIVATE, outSymSeed: TPM2B_ENCRYPTED_SECRET }),
    handler(ctx, [h, newParentHandle], { encryptionKeyIn, symmetricAlg }) {
      const { core } = ctx;
      const object = objectAt(core, h!, 1);
      const attrs = object.publicArea.objectAttributes;
      if (anySet(attrs, TPMA_OBJECT.fixedParent)) throw TpmError.handle(TPM_RC.ATTRIBUTES, 1);
      if (object.publicArea.nameAlg === TPM_ALG.NULL) throw TpmError.handle(TPM_RC.TYPE, 1);
      const toNull = newParentHandle === TPM_RH.NULL;
      const newParent = storageKeyOrNull(core, newParentHandle!, 2);
      const inner = symmetricAlg.algorithm !== TPM_ALG.NULL;
      // An object marked encryptedDuplication leaves the TPM only under both wraps.
      if (anySet(attrs, TPMA_OBJECT.encryptedDuplication)) {
        if (!inner) throw TpmError.parameter(TPM_RC.SYMMETRIC, 2);
        if (toNull) throw TpmError.handle(TPM_RC.HIERARCHY, 2);
      }
      let innerKey: InnerWrapKey | undefined;
      let encryptionKeyOut = EMPTY;
      if (!inner) {
        if (encryptionKeyIn.length !== 0) throw TpmError.parameter(TPM_RC.SIZE, 1);
      } else {
        const symmetric = innerSymmetric(symmetricAlg, 2);
        const size = symmetric.keyBits / 8;
        if (encryptionKeyIn.length !== 0 && encryptionKeyIn.length !== size) throw TpmError.parameter(TPM_RC.SIZE, 1);
        // Without a caller's key the TPM makes one and returns it.
        if (encryptionKeyIn.length === 0) encryptionKeyOut = core.random(size);
        innerKey = { symmetric, key: encryptionKeyIn.length === 0 ? encryptionKeyOut : encryptionKeyIn };
      }
      const wrap = newParent && newParentWrap(core, newParent);
      const duplicate = wrapDuplicate({ nameAlg: object.publicArea.nameAlg, inner: innerKey, outer: wrap?.outer }, object.name, object.sensitive);
      return { encryptionKeyOut, duplicate, outSymSeed: wrap?.encryptedSecret ?? EMPTY };
    },
  }),
  command({
    code: TPM_CC.Rewrap, name: 'Rewrap',
    handles: [{ name: 'oldParent', kind: 'OBJECT', allowNull: true, auth: 'USER' }, { name: 'newParent', kind: 'OBJECT', allowNull: true }],
    params: struct({ inDuplicate: TPM2B_PRIVATE, name: TPM2B_NAME, inSymSeed: TPM2B_ENCRYPTED_SECRET }),
    response: struct({ outDuplicate: TPM2B_PRIVATE, outSymSeed: TPM2B_ENCRYPTED_SECRET }),
    handler(ctx, [oldHandle, newHandle], { inDuplicate, name, inSymSeed }) {
      const { core } = ctx;
      // A seed comes with an outer wrap, and an outer wrap with a parent.
      if ((inSymSeed.length === 0) !== (oldHandle === TPM_RH.NULL)) throw TpmError.handle(TPM_RC.HANDLE, 1);
      const oldParent = storageKeyOrNull(core, oldHandle!, 1);
      let inner = inDuplicate;
      if (oldParent) {
        let seed: Uint8Array;
        try {
          seed = recoverSecret(oldParent, 'DUPLICATE', inSymSeed);
        } catch {
          throw TpmError.parameter(TPM_RC.VALUE, 3);
        }
        inner = asParameter(1, () => outerUnwrap(sharedSeedKey(oldParent.publicArea, seed), name, inDuplicate));
      }
      const newParent = storageKeyOrNull(core, newHandle!, 2);
      if (!newParent) return { outDuplicate: inner, outSymSeed: EMPTY };
      const wrap = newParentWrap(core, newParent);
      const outDuplicate = outerWrap(wrap.outer, name, inner);
      // Without an outer wrap before, the blob may not fit with one.
      if (outDuplicate.length > MAX_PRIVATE_SIZE) throw TpmError.parameter(TPM_RC.VALUE, 1);
      return { outDuplicate, outSymSeed: wrap.encryptedSecret };
    },
  }),
  command({
    code: TPM_CC.Import, name: 'Import',
    handles: [{ name: 'parentHandle', kind: 'OBJECT', auth: 'USER' }],
    params: struct({
      encryptionKey: TPM2B_DATA, objectPublic: TPM2B_PUBLIC, duplicate: TPM2B_PRIVATE,
      inSymSeed: TPM2B_ENCRYPTED_SECRET, symmetricAlg: TPMT_SYM_DEF_OBJECT_NULL,
    }),
    response: struct({ outPrivate: TPM2B_PRIVATE }),
    handler(ctx, [h], { encryptionKey, objectPublic, duplicate, inSymSeed, symmetricAlg }) {
      const { core } = ctx;
      const attrs = objectPublic.objectAttributes;
      // An object bound to its TPM or parent was never duplicated.
      if (anySet(attrs, TPMA_OBJECT.fixedTPM | TPMA_OBJECT.fixedParent)) throw TpmError.parameter(TPM_RC.ATTRIBUTES, 2);
      const parent = storageParent(core, h!);
      let inner: InnerWrapKey | undefined;
      if (symmetricAlg.algorithm !== TPM_ALG.NULL) {
        const symmetric = innerSymmetric(symmetricAlg, 5);
        if (encryptionKey.length !== symmetric.keyBits / 8) throw TpmError.parameter(TPM_RC.SIZE, 1);
        inner = { symmetric, key: encryptionKey };
      } else {
        if (encryptionKey.length !== 0) throw TpmError.parameter(TPM_RC.SIZE, 1);
        if (anySet(attrs, TPMA_OBJECT.encryptedDuplication)) throw TpmError.parameter(TPM_RC.ATTRIBUTES, 1);
      }
      let outer: OuterWrapKey | undefined;
      if (inSymSeed.length !== 0) {
        // Only an asymmetric parent can recover a seed.
        if (parent.publicArea.type === TPM_ALG.SYMCIPHER) throw TpmError.handle(TPM_RC.TYPE, 1);
        const seed = asParameter(4, () => recoverSecret(parent, 'DUPLICATE', inSymSeed));
        outer = sharedSeedKey(parent.publicArea, seed);
      } else if (anySet(attrs, TPMA_OBJECT.encryptedDuplication)) {
        throw TpmError.parameter(TPM_RC.ATTRIBUTES, 4);
      }
      const name = objectName(objectPublic.nameAlg, publicBytes(objectPublic));
      if (name.length === 0) throw TpmError.parameter(TPM_RC.HASH, 2);
      const sensitive = asParameter(3, () => unwrapDuplicate({ nameAlg: objectPublic.nameAlg, inner, outer }, name, duplicate));
      // Under a fixedTPM parent the object is checked now, as Load would.
      if (anySet(parent.publicArea.objectAttributes, TPMA_OBJECT.fixedTPM)) {
        asParameter(2, () => validateTemplate(objectPublic, parent.publicArea));
        asParameter(2, () => checkKeyBinding(objectPublic, sensitive));
      }
      return { outPrivate: protectSensitive(parent, name, sensitive) };
    },
  }),
];
