/**
 * Part 3 §10: SelfTest, IncrementalSelfTest and GetTestResult. The algorithms are node:crypto's,
 * which tests itself at load, so every test passes at once and nothing is left to do.
 */
import { TPM_CC } from '../spec/tpm-cc.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { struct, UINT32 } from '../marshal/codec.js';
import { TPMI_YES_NO, TPML_ALG, TPM2B_MAX_BUFFER } from '../marshal/types.js';
import { command } from '../engine/command-def.js';
import { isImplemented } from '../capability/algorithms.js';
import { NO_RESPONSE } from './no-response.js';

export const TESTING_COMMANDS = [
  command({
    code: TPM_CC.SelfTest, name: 'SelfTest', handles: [],
    params: struct({ fullTest: TPMI_YES_NO }), response: NO_RESPONSE,
    handler: ({ core }) => {
      core.volatile.selfTested = true;
    },
  }),
  command({
    code: TPM_CC.IncrementalSelfTest, name: 'IncrementalSelfTest', handles: [],
    params: struct({ toTest: TPML_ALG }), response: struct({ toDoList: TPML_ALG }),
    handler: (_ctx, _h, { toTest }) => {
      // Only implemented algorithms can be tested; TPM_ALG_NULL and TPM_ALG_ERROR are not (as libtpms).
      if (!toTest.every(isImplemented)) throw TpmError.parameter(TPM_RC.VALUE, 1);
      return { toDoList: [] };
    },
  }),
  command({
    code: TPM_CC.GetTestResult, name: 'GetTestResult', handles: [],
    params: struct({}), response: struct({ outData: TPM2B_MAX_BUFFER, testResult: UINT32 }),
    handler: () => ({ outData: new Uint8Array(0), testResult: TPM_RC.SUCCESS }),
  }),
];
