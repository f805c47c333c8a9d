/** Part 3 §30: GetCapability and TestParms. */
import { TPM_CC } from '../spec/tpm-cc.js';
import { struct, UINT32 } from '../marshal/codec.js';
import { TPMI_YES_NO } from '../marshal/types.js';
import { TPM_CAP_CODEC, TPMS_CAPABILITY_DATA } from '../marshal/capability-types.js';
import { TPMT_PUBLIC_PARMS } from '../marshal/public-parms-types.js';
import { command } from '../engine/command-def.js';
import { getCapability } from '../capability/capabilities.js';
import { NO_RESPONSE } from './no-response.js';

export const CAPABILITY_COMMANDS = [
  command({
    code: TPM_CC.GetCapability, name: 'GetCapability', handles: [],
    params: struct({ capability: TPM_CAP_CODEC, property: UINT32, propertyCount: UINT32 }),
    response: struct({ moreData: TPMI_YES_NO, capabilityData: TPMS_CAPABILITY_DATA }),
    handler: (ctx, _h, { capability, property, propertyCount }) => {
      const { moreData, capabilityData } = getCapability(ctx, capability, property, propertyCount);
      return { moreData: moreData ? 1 : 0, capabilityData };
    },
  }),
  command({
    code: TPM_CC.TestParms, name: 'TestParms', handles: [],
    // Unmarshalling TPMT_PUBLIC_PARMS is the whole test: it admits only what this TPM implements.
    params: struct({ parameters: TPMT_PUBLIC_PARMS }), response: NO_RESPONSE,
    handler: () => undefined,
  }),
];
