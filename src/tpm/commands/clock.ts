/** Part 3 §29: ReadClock, ClockSet and ClockRateAdjust. */
import { TPM_CC } from '../spec/tpm-cc.js';
import { TPM_YES } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { UINT64, struct } from '../marshal/codec.js';
import { TPMS_TIME_INFO, TPM_CLOCK_ADJUST } from '../marshal/types.js';
import { command } from '../engine/command-def.js';
import { NO_RESPONSE } from './no-response.js';

/** The largest Clock ClockSet may set (Part 3 §29.2), leaving room before the 64-bit counter wraps. */
const CLOCK_SET_MAX = 0xffff000000000000n;

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
  command({
    code: TPM_CC.ClockSet, name: 'ClockSet', nv: true,
    handles: [{ name: 'auth', kind: 'PROVISION', auth: 'USER' }],
    params: struct({ newTime: UINT64 }), response: NO_RESPONSE,
    handler: ({ core }, _h, { newTime }) => {
      // Clock only moves forward (Part 3 §29.2).
      if (newTime > CLOCK_SET_MAX || newTime < core.persistent.clock) throw TpmError.parameter(TPM_RC.VALUE, 1);
      core.persistent.clock = newTime;
      core.touchPersistent();
    },
  }),
  command({
    code: TPM_CC.ClockRateAdjust, name: 'ClockRateAdjust',
    handles: [{ name: 'auth', kind: 'PROVISION', auth: 'USER' }],
    params: struct({ rateAdjust: TPM_CLOCK_ADJUST }), response: NO_RESPONSE,
    // Time and Clock follow the host's monotonic clock, which the host keeps at the real rate: there is no oscillator to trim.
    handler: () => undefined,
  }),
];
