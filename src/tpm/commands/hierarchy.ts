/** Part 3 §24, hierarchy commands: CreatePrimary. */
import { TPM_CC } from '../spec/tpm-cc.js';
import { TPM_ALG } from '../spec/constants.js';
import { struct } from '../marshal/codec.js';
import { TPM2B_DIGEST } from '../marshal/types.js';
import { TPM2B_PUBLIC, TPM2B_NAME, TPM2B_CREATION_DATA, TPMT_TK_CREATION } from '../marshal/object-types.js';
import { withResponseHandle } from '../marshal/session-types.js';
import { command } from '../engine/command-def.js';
import { validateTemplate } from '../objects/object-templates.js';
import { handleName, makeObject } from '../objects/tpm-object.js';
import { creationOutputs } from '../objects/creation-data.js';
import { derivePrimary } from '../objects/primary-derivation.js';
import { CREATE_PARAMS, numberedCreateError } from './object.js';

export const HIERARCHY_COMMANDS = [
  command({
    code: TPM_CC.CreatePrimary, name: 'CreatePrimary',
    handles: [{ name: 'primaryHandle', kind: 'HIERARCHY', allowNull: true, auth: 'USER' }],
    params: CREATE_PARAMS,
    response: withResponseHandle(struct({
      outPublic: TPM2B_PUBLIC, creationData: TPM2B_CREATION_DATA, creationHash: TPM2B_DIGEST,
      creationTicket: TPMT_TK_CREATION, name: TPM2B_NAME,
    })),
    responseHandle: (r) => r.handle,
    handler(ctx, [hierarchy], p) {
      const { core } = ctx;
      core.objects.requireSlot();
      let made;
      try {
        validateTemplate(p.inPublic, undefined);
        made = derivePrimary(core, hierarchy!, p.inPublic, p.inSensitive);
      } catch (e) {
        throw numberedCreateError(e);
      }
      const hierarchyName = handleName(hierarchy!);
      const object = core.objects.load(makeObject(made.publicArea, made.sensitive, hierarchy!, hierarchyName), ctx.client);
      const creation = creationOutputs(core, {
        nameAlg: made.publicArea.nameAlg, objectName: object.name, hierarchy: hierarchy!,
        pcrSelect: p.creationPCR, outsideInfo: p.outsideInfo, locality: ctx.locality,
        parentNameAlg: TPM_ALG.NULL, parentName: hierarchyName, parentQualifiedName: hierarchyName,
      });
      return { handle: object.handle, params: { outPublic: made.publicArea, ...creation, name: object.name } };
    },
  }),
];
