/** Part 3 §9: Startup and Shutdown, with TPM Reset / Restart / Resume as Part 1 §12 defines them. */
import { TPM_CC } from '../spec/tpm-cc.js';
import { TPM_SU } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { struct } from '../marshal/codec.js';
import { TPM_SU_CODEC } from '../marshal/types.js';
import { command, type CommandContext } from '../engine/command-def.js';
import { randomBytes } from '../crypto/random.js';
import { NO_RESPONSE } from './no-response.js';
import { applyHcrtm } from '../pcr/crtm-sequence.js';
import { freshCommitState, freshNullHierarchy } from '../state/initial-state.js';
import { daShutdown, daStartup } from '../auth/dictionary-attack.js';

function startup(ctx: CommandContext, su: number): void {
  const { core } = ctx;
  const p = core.persistent;
  const v = core.volatile;
  if (v.started) throw new TpmError(TPM_RC.INITIALIZE);
  const saved = p.shutdown === 'state' ? p.savedState : undefined;
  if (su === TPM_SU.STATE && (!saved || p.pendingAllocation)) throw TpmError.parameter(TPM_RC.VALUE, 1);
  v.startupLocality = ctx.locality;
  v.orderlyStartup = p.shutdown !== 'none';
  // The PCRs first: their observer (the MR mirror) may refuse, and then nothing else has changed.
  if (!saved) {
    // TPM Reset: new epoch; saved contexts of the old one become unloadable.
    core.pcrs.initialize();
    p.resetCount = (p.resetCount + 1) >>> 0;
    p.restartCount = 0;
    p.resetEpoch = randomBytes(16);
    Object.assign(p, freshNullHierarchy());
    // The command audit digest is state-reset data (the reference's CommandAuditStartup).
    p.commandAudit.digest = new Uint8Array(0);
    // So are the ECC commitments: a new nonce ends every outstanding one.
    p.commit = freshCommitState();
    v.savedSessions = new Map();
    v.contextCounter = 0n;
  } else {
    // TPM Restart (CLEAR) or Resume (STATE): saved sessions survive; PCRs come back only on Resume.
    core.pcrs.startup(su === TPM_SU.STATE ? 'resume' : 'restart', saved);
    p.restartCount = (p.restartCount + 1) >>> 0;
    v.savedSessions = saved.savedSessions;
    v.contextCounter = saved.contextCounter;
    if (su === TPM_SU.STATE) Object.assign(v, saved.enables);
  }
  core.nv.startup(su === TPM_SU.STATE && saved !== undefined);
  daStartup(core, v.orderlyStartup);
  applyHcrtm(v);
  v.sessions.clear();
  core.sequences.clear();
  core.objects.clear();
  p.shutdown = 'none';
  delete p.savedState;
  v.started = true;
  core.touchPersistent();
}

function shutdown(ctx: CommandContext, su: number): void {
  const { core } = ctx;
  const p = core.persistent;
  const v = core.volatile;
  // A pending PCR_Allocate needs a TPM Reset to take effect (the reference refuses the same way).
  if (su === TPM_SU.STATE && p.pendingAllocation) throw TpmError.parameter(TPM_RC.TYPE, 1);
  if (su === TPM_SU.STATE) {
    p.savedState = {
      pcrs: new Map([...v.pcrs].map(([alg, bank]) => [alg, bank.map((d) => d.slice())])),
      pcrUpdateCounter: v.pcrUpdateCounter,
      contextCounter: v.contextCounter,
      savedSessions: new Map(v.savedSessions),
      enables: { shEnable: v.shEnable, ehEnable: v.ehEnable, ...(v.phEnableNV !== undefined && { phEnableNV: v.phEnableNV }) },
    };
  } else {
    delete p.savedState;
  }
  p.shutdown = su === TPM_SU.STATE ? 'state' : 'clear';
  daShutdown(core);
  core.touchPersistent();
}

export const STARTUP_COMMANDS = [
  command({
    code: TPM_CC.Startup, name: 'Startup', handles: [],
    params: struct({ startupType: TPM_SU_CODEC }), response: NO_RESPONSE,
    handler: (ctx, _h, { startupType }) => startup(ctx, startupType),
  }),
  command({
    code: TPM_CC.Shutdown, name: 'Shutdown', handles: [],
    params: struct({ shutdownType: TPM_SU_CODEC }), response: NO_RESPONSE,
    handler: (ctx, _h, { shutdownType }) => shutdown(ctx, shutdownType),
  }),
];
