/**
 * Part 3 §22 Integrity Collection (PCR): PCR_Extend, PCR_Event, PCR_Read, PCR_Allocate, PCR_Reset.
 * Locality rules come from the PCR attribute table; every PCR change goes through PcrBanks.
 */
import { TPM_CC } from '../spec/tpm-cc.js';
import { TPM_RH, TPM_YES } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { HASH_ALGS } from '../spec/hash-algs.js';
import { struct, UINT32 } from '../marshal/codec.js';
import {
  TPM2B_EVENT, TPMI_YES_NO, TPML_DIGEST, TPML_DIGEST_VALUES, TPML_PCR_SELECTION,
} from '../marshal/types.js';
import { command } from '../engine/command-def.js';
import { hash } from '../crypto/hash.js';
import { mayExtend, mayReset } from '../pcr/pcr-attributes.js';
import { NO_RESPONSE } from './no-response.js';

export const INTEGRITY_COMMANDS = [
  command({
    code: TPM_CC.PCR_Extend, name: 'PCR_Extend',
    handles: [{ name: 'pcrHandle', kind: 'PCR', allowNull: true, auth: 'USER' }],
    params: struct({ digests: TPML_DIGEST_VALUES }),
    response: NO_RESPONSE,
    nv: true,
    handler: (ctx, [pcr], { digests }) => {
      if (pcr === TPM_RH.NULL) return;
      if (!mayExtend(pcr!, ctx.locality)) throw new TpmError(TPM_RC.LOCALITY);
      ctx.core.pcrs.extend(pcr!, digests, { command: TPM_CC.PCR_Extend });
    },
  }),
  command({
    code: TPM_CC.PCR_Event, name: 'PCR_Event',
    handles: [{ name: 'pcrHandle', kind: 'PCR', allowNull: true, auth: 'USER' }],
    params: struct({ eventData: TPM2B_EVENT }),
    response: struct({ digests: TPML_DIGEST_VALUES }),
    nv: true,
    handler: (ctx, [pcr], { eventData }) => {
      if (pcr !== TPM_RH.NULL && !mayExtend(pcr!, ctx.locality)) throw new TpmError(TPM_RC.LOCALITY);
      // Every implemented hash, allocated or not, as the reference answers.
      const digests = HASH_ALGS.map(({ alg }) => ({ hashAlg: alg, digest: hash(alg, eventData) }));
      if (pcr !== TPM_RH.NULL) ctx.core.pcrs.extend(pcr!, digests, { command: TPM_CC.PCR_Event, eventData });
      return { digests };
    },
  }),
  command({
    code: TPM_CC.PCR_Read, name: 'PCR_Read', handles: [],
    params: struct({ pcrSelectionIn: TPML_PCR_SELECTION }),
    response: struct({ pcrUpdateCounter: UINT32, pcrSelectionOut: TPML_PCR_SELECTION, pcrValues: TPML_DIGEST }),
    handler: (ctx, _h, { pcrSelectionIn }) => {
      const { selectionOut, digests } = ctx.core.pcrs.read(pcrSelectionIn);
      return { pcrUpdateCounter: ctx.core.pcrs.updateCounter, pcrSelectionOut: selectionOut, pcrValues: digests };
    },
  }),
  command({
    code: TPM_CC.PCR_Allocate, name: 'PCR_Allocate',
    handles: [{ name: 'authHandle', kind: 'PLATFORM', auth: 'USER' }],
    params: struct({ pcrAllocation: TPML_PCR_SELECTION }),
    response: struct({ allocationSuccess: TPMI_YES_NO, maxPCR: UINT32, sizeNeeded: UINT32, sizeAvailable: UINT32 }),
    nv: true,
    handler: (ctx, _h, { pcrAllocation }) => {
      const plan = ctx.core.pcrs.allocate(pcrAllocation);
      ctx.core.touchPersistent();
      return { allocationSuccess: TPM_YES, maxPCR: plan.maxPCR, sizeNeeded: plan.sizeNeeded, sizeAvailable: plan.sizeAvailable };
    },
  }),
  command({
    code: TPM_CC.PCR_Reset, name: 'PCR_Reset',
    handles: [{ name: 'pcrHandle', kind: 'PCR', auth: 'USER' }],
    params: struct({}),
    response: NO_RESPONSE,
    nv: true,
    handler: (ctx, [pcr]) => {
      if (!mayReset(pcr!, ctx.locality)) throw new TpmError(TPM_RC.LOCALITY);
      ctx.core.pcrs.reset(pcr!);
    },
  }),
];
