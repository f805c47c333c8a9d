/** Part 3 §12, object commands: Create, Load, ReadPublic. */
import { TPM_CC } from '../spec/tpm-cc.js';
import { TPM_HT, handleType } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { struct } from '../marshal/codec.js';
import { TPM2B_DIGEST, TPML_PCR_SELECTION } from '../marshal/types.js';
import {
  TPM2B_PUBLIC, TPM2B_PRIVATE, TPM2B_SENSITIVE_CREATE, TPM2B_DATA, TPM2B_NAME, TPM2B_CREATION_DATA, TPMT_TK_CREATION,
  publicBytes,
} from '../marshal/object-types.js';
import { withResponseHandle } from '../marshal/session-types.js';
import { command } from '../engine/command-def.js';
import { validateTemplate } from '../objects/object-templates.js';
import { generateObject, SensitiveError } from '../objects/object-generation.js';
import { makeObject, objectName } from '../objects/tpm-object.js';
import { creationOutputs } from '../objects/creation-data.js';
import { protectSensitive, unprotectSensitive } from '../objects/sensitive-protection.js';
import { checkKeyBinding } from '../objects/key-binding.js';
import { asParameter, storageParent } from '../objects/object-loading.js';

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
      const name = objectName(inPublic.nameAlg, publicBytes(inPublic));
      const sensitive = asParameter(1, () => unprotectSensitive(parent, name, inPrivate));
      asParameter(2, () => checkKeyBinding(inPublic, sensitive));
      const loaded = core.objects.load(makeObject(inPublic, sensitive, parent.hierarchy, parent.qualifiedName), ctx.client);
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
      if (handleType(h!) === TPM_HT.TRANSIENT && core.sequences.has(h!)) throw TpmError.handle(TPM_RC.SEQUENCE, 1);
      const o = core.object(h!);
      return { outPublic: o.publicArea, name: o.name, qualifiedName: o.qualifiedName };
    },
  }),
];
