/** Part 3 §29: ReadClock. */
import { TPM_CC } from '../spec/tpm-cc.js';
import { TPM_YES } from '../spec/constants.js';
import { struct } from '../marshal/codec.js';
import { TPMS_TIME_INFO } from '../marshal/types.js';
import { command } from '../engine/command-def.js';

export const CLOCK_COMMANDS = [
  command({
    code: TPM_CC.ReadClock, name: 'ReadClock', handles: [],
    params: struct({}), response: struct({ currentTime: TPMS_TIME_INFO }),
    handler: ({ core: { volatile: v, persistent: p } }) => ({
      currentTime: {
        time: v.time,
        // YES, as the reference reports in normal operation; that a crash can roll back the NV copy
        // of the clock to its last persistent write (Part 1 §36.5) is not tracked.
        clockInfo: { clock: p.clock, resetCount: p.resetCount, restartCount: p.restartCount, safe: TPM_YES },
      },
    }),
  }),
];
