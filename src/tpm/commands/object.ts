/**
 * Part 3 §12, object commands: Create, Load, LoadExternal, ReadPublic, Unseal, ObjectChangeAuth,
 * CreateLoaded. CreateLoaded takes hierarchies and storage keys as parents; derivation parents
 * (TPMS_DERIVE templates) are not implemented.
 */
import { TPM_CC } from '../spec/tpm-cc.js';
import { TPM_ALG, TPM_HT, TPM_RH, TPMA_OBJECT, handleType, anySet } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { struct } from '../marshal/codec.js';
import { TPM2B_AUTH, TPM2B_DIGEST, TPM2B_SENSITIVE_DATA, TPMI_RH_HIERARCHY_NULL, TPML_PCR_SELECTION } from '../marshal/types.js';
import {
  TPM2B_PUBLIC, TPM2B_PRIVATE, TPM2B_SENSITIVE_CREATE, TPM2B_DATA, TPM2B_NAME, TPM2B_CREATION_DATA, TPMT_TK_CREATION,
  TPM2B_SENSITIVE_OPTIONAL, TPM2B_TEMPLATE,
} from '../marshal/object-types.js';
import { withResponseHandle } from '../marshal/session-types.js';
import { command } from '../engine/command-def.js';
import { validateExternal, validateTemplate } from '../objects/object-templates.js';
import { generateObject, SensitiveError } from '../objects/object-generation.js';
import { handleName, makeObject, publicIdentity, qualifiedName } from '../objects/tpm-object.js';
import { derivePrimary } from '../objects/primary-derivation.js';
import { hashInfo } from '../spec/hash-algs.js';
import { stripTrailingZeros } from '../auth/session-table.js';
import { timingSafeEqual } from '../auth/compare.js';
import { creationOutputs } from '../objects/creation-data.js';
import { protectSensitive, unprotectSensitive } from '../objects/sensitive-protection.js';
import { checkKeyBinding, checkPublicKey } from '../objects/key-binding.js';
import { asParameter, objectAt, storageParent } from '../objects/object-loading.js';

/** Create's and CreatePrimary's parameters: inSensitive (1), inPublic (2), outsideInfo, creationPCR. */
export const CREATE_PARAMS = struct({
  inSensitive: TPM2B_SENSITIVE_CREATE,
  inPublic: TPM2B_PUBLIC,
  outsideInfo: TPM2B_DATA,
  creationPCR: TPML_PCR_SELECTION,
});

/** Errors about inSensitive are numbered as parameter 1, the rest as inPublic (2). */
export function numberedCreateError(e: unknown): unknown {
  if (e instanceof SensitiveError) return TpmError.parameter(e.rc, 1);
  if (e instanceof TpmError && e.unnumbered) return TpmError.parameter(e.rc, 2);
  return e;
}


/** LoadExternal with a sensitive area: nothing may make the key look like one this TPM protects. */
const NOT_EXTERNAL = TPMA_OBJECT.fixedTPM | TPMA_OBJECT.fixedParent | TPMA_OBJECT.restricted;

export const OBJECT_COMMANDS = [
  command({
    code: TPM_CC.Create, name: 'Create',
    handles: [{ name: 'parentHandle', kind: 'OBJECT', auth: 'USER' }],
    params: CREATE_PARAMS,
    response: struct({
      outPrivate: TPM2B_PRIVATE, outPublic: TPM2B_PUBLIC, creationData: TPM2B_CREATION_DATA,
      creationHash: TPM2B_DIGEST, creationTicket: TPMT_TK_CREATION,
    }),
    handler(ctx, [h], p) {
      const { core } = ctx;
      const parent = storageParent(core, h!);
      let made;
      try {
        validateTemplate(p.inPublic, parent.publicArea);
        made = generateObject(p.inPublic, p.inSensitive, (n) => core.random(n));
      } catch (e) {
        throw numberedCreateError(e);
      }
      const object = makeObject(made.publicArea, made.sensitive, parent.hierarchy, parent.qualifiedName);
      const creation = creationOutputs(core, {
        nameAlg: made.publicArea.nameAlg, objectName: object.name, hierarchy: parent.hierarchy,
        pcrSelect: p.creationPCR, outsideInfo: p.outsideInfo, locality: ctx.locality,
        parentNameAlg: parent.publicArea.nameAlg, parentName: parent.name, parentQualifiedName: parent.qualifiedName,
      });
      return { outPrivate: protectSensitive(parent, object.name, made.sensitive), outPublic: made.publicArea, ...creation };
    },
  }),
  command({
    code: TPM_CC.Load, name: 'Load',
    handles: [{ name: 'parentHandle', kind: 'OBJECT', auth: 'USER' }],
    params: struct({ inPrivate: TPM2B_PRIVATE, inPublic: TPM2B_PUBLIC }),
    response: withResponseHandle(struct({ name: TPM2B_NAME })),
    responseHandle: (r) => r.handle,
    handler(ctx, [h], { inPrivate, inPublic }) {
      const { core } = ctx;
      const parent = storageParent(core, h!);
      asParameter(2, () => validateTemplate(inPublic, parent.publicArea));
      core.objects.requireSlot();
      const identity = publicIdentity(inPublic);
      const sensitive = asParameter(1, () => unprotectSensitive(parent, identity.name, inPrivate));
      asParameter(2, () => checkKeyBinding(inPublic, sensitive));
      const loaded = core.objects.load(makeObject(inPublic, sensitive, parent.hierarchy, parent.qualifiedName, identity), ctx.client);
      return { handle: loaded.handle, params: { name: loaded.name } };
    },
  }),
  command({
    code: TPM_CC.ReadPublic, name: 'ReadPublic',
    handles: [{ name: 'objectHandle', kind: 'OBJECT' }],
    params: struct({}),
    response: struct({ outPublic: TPM2B_PUBLIC, name: TPM2B_NAME, qualifiedName: TPM2B_NAME }),
    handler(ctx, [h]) {
      const { core } = ctx;
      // A sequence object has no public area.
      if (core.sequences.has(h!)) throw TpmError.handle(TPM_RC.SEQUENCE, 1);
      const o = core.object(h!);
      return { outPublic: o.publicArea, name: o.name, qualifiedName: o.qualifiedName };
    },
  }),
  command({
    code: TPM_CC.LoadExternal, name: 'LoadExternal',
    handles: [],
    params: struct({ inPrivate: TPM2B_SENSITIVE_OPTIONAL, inPublic: TPM2B_PUBLIC, hierarchy: TPMI_RH_HIERARCHY_NULL }),
    response: withResponseHandle(struct({ name: TPM2B_NAME })),
    responseHandle: (r) => r.handle,
    handler(ctx, _h, { inPrivate, inPublic, hierarchy }) {
      const { core } = ctx;
      if (!core.hierarchyEnabled(hierarchy)) throw TpmError.parameter(TPM_RC.HIERARCHY, 3);
      if (inPrivate) {
        // A key whose secret the caller knows belongs to no hierarchy.
        if (hierarchy !== TPM_RH.NULL) throw TpmError.parameter(TPM_RC.HIERARCHY, 3);
        if (anySet(inPublic.objectAttributes, NOT_EXTERNAL)) throw TpmError.parameter(TPM_RC.ATTRIBUTES, 2);
      }
      asParameter(2, () => validateExternal(inPublic, inPrivate !== undefined));
      core.objects.requireSlot();
      const sensitive = inPrivate ?? { sensitiveType: inPublic.type, authValue: new Uint8Array(0), seedValue: new Uint8Array(0), sensitive: new Uint8Array(0) };
      if (inPrivate) {
        if (inPrivate.sensitiveType !== inPublic.type) throw TpmError.parameter(TPM_RC.TYPE, 1);
        asParameter(2, () => checkKeyBinding(inPublic, inPrivate));
      } else {
        asParameter(2, () => checkPublicKey(inPublic));
      }
      const external = makeObject(inPublic, sensitive, hierarchy, handleName(hierarchy));
      // No parent vouches for an external object: its qualified Name is its Name (the reference's ObjectSetLoadedAttributes).
      const loaded = core.objects.load({ ...external, qualifiedName: external.name }, ctx.client);
      return { handle: loaded.handle, params: { name: loaded.name } };
    },
  }),
  command({
    code: TPM_CC.Unseal, name: 'Unseal',
    handles: [{ name: 'itemHandle', kind: 'OBJECT', auth: 'USER' }],
    params: struct({}),
    response: struct({ outData: TPM2B_SENSITIVE_DATA }),
    handler(ctx, [h]) {
      const item = objectAt(ctx.core, h!, 1);
      const pub = item.publicArea;
      if (pub.type !== TPM_ALG.KEYEDHASH) throw TpmError.handle(TPM_RC.TYPE, 1);
      // Only a sealed data object (no use of its own) gives its data out.
      if (anySet(pub.objectAttributes, TPMA_OBJECT.decrypt | TPMA_OBJECT.sign | TPMA_OBJECT.restricted)) throw TpmError.handle(TPM_RC.ATTRIBUTES, 1);
      return { outData: item.sensitive.sensitive };
    },
  }),
  command({
    code: TPM_CC.ObjectChangeAuth, name: 'ObjectChangeAuth',
    handles: [{ name: 'objectHandle', kind: 'OBJECT', auth: 'ADMIN' }, { name: 'parentHandle', kind: 'OBJECT' }],
    params: struct({ newAuth: TPM2B_AUTH }),
    response: struct({ outPrivate: TPM2B_PRIVATE }),
    handler(ctx, [h, parentHandle], { newAuth }) {
      const { core } = ctx;
      const object = objectAt(core, h!, 1);
      const nameAlg = object.publicArea.nameAlg;
      const authValue = stripTrailingZeros(newAuth);
      if (authValue.length > (hashInfo(nameAlg)?.digestSize ?? 0)) throw TpmError.parameter(TPM_RC.SIZE, 1);
      const parent = objectAt(core, parentHandle!, 2);
      // The parent given must be the object's: its qualified Name must lead to the object's.
      if (!timingSafeEqual(qualifiedName(nameAlg, parent.qualifiedName, object.name), object.qualifiedName)) throw TpmError.handle(TPM_RC.TYPE, 2);
      return { outPrivate: protectSensitive(parent, object.name, { ...object.sensitive, authValue: authValue.slice() }) };
    },
  }),
  command({
    code: TPM_CC.CreateLoaded, name: 'CreateLoaded',
    handles: [{ name: 'parentHandle', kind: 'PARENT', allowNull: true, auth: 'USER' }],
    params: struct({ inSensitive: TPM2B_SENSITIVE_CREATE, inPublic: TPM2B_TEMPLATE }),
    response: withResponseHandle(struct({ outPrivate: TPM2B_PRIVATE, outPublic: TPM2B_PUBLIC, name: TPM2B_NAME })),
    responseHandle: (r) => r.handle,
    handler(ctx, [h], p) {
      const { core } = ctx;
      const isPrimary = handleType(h!) === TPM_HT.PERMANENT;
      const parent = isPrimary ? undefined : storageParent(core, h!);
      core.objects.requireSlot();
      let made;
      try {
        validateTemplate(p.inPublic, parent?.publicArea);
        made = parent ? generateObject(p.inPublic, p.inSensitive, (n) => core.random(n)) : derivePrimary(core, h!, p.inPublic, p.inSensitive);
      } catch (e) {
        throw numberedCreateError(e);
      }
      const hierarchy = parent?.hierarchy ?? h!;
      const object = core.objects.load(makeObject(made.publicArea, made.sensitive, hierarchy, parent?.qualifiedName ?? handleName(h!)), ctx.client);
      // A primary object has no parent to protect it: its private area is empty.
      const outPrivate = parent ? protectSensitive(parent, object.name, made.sensitive) : new Uint8Array(0);
      return { handle: object.handle, params: { outPrivate, outPublic: made.publicArea, name: object.name } };
    },
  }),
];
