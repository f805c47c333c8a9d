/** Part 3 §16: GetRandom and StirRandom. */
import { TPM_CC } from '../spec/tpm-cc.js';
import { MAX_DIGEST_SIZE } from '../spec/hash-algs.js';
import { struct, UINT16 } from '../marshal/codec.js';
import { TPM2B_DIGEST, TPM2B_SENSITIVE_DATA } from '../marshal/types.js';
import { command } from '../engine/command-def.js';
import { NO_RESPONSE } from './no-response.js';

export const RANDOM_COMMANDS = [
  command({
    code: TPM_CC.GetRandom, name: 'GetRandom', handles: [],
    params: struct({ bytesRequested: UINT16 }),
    response: struct({ randomBytes: TPM2B_DIGEST }),
    // A request beyond the largest digest is trimmed to it, not refused (Part 3 §16.1).
    handler: (ctx, _h, { bytesRequested }) => ({ randomBytes: ctx.core.random(Math.min(bytesRequested, MAX_DIGEST_SIZE)) }),
  }),
  command({
    code: TPM_CC.StirRandom, name: 'StirRandom', handles: [],
    params: struct({ inData: TPM2B_SENSITIVE_DATA }), response: NO_RESPONSE,
    // The random source is node:crypto's CSPRNG, which takes no caller entropy: accepted and ignored.
    handler: () => undefined,
  }),
];
