/**
 * Dictionary-attack protection (Part 1 §19.8): which entities it protects, the lockout check
 * before an authValue is used, counting failures, and the self-healing that undoes them as TPM
 * time passes. Behaviour and order follow the reference's DA.c and SessionProcess.c
 * (CheckLockedOut, IncrementLockout), with libtpms' USE_DA_USED and ACCUMULATE_SELF_HEAL_TIMER.
 */
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { TPM_RH, TPMA_OBJECT, TPMA_NV, TPM_HT, handleType } from '../spec/constants.js';
import type { TpmCore } from '../engine/tpm-core.js';
import type { DictionaryAttackState, SessionState } from '../state/tpm-state.js';

const MS_PER_SECOND = 1000n;

/**
 * Whether an entity is exempt from dictionary-attack protection (the reference's IsDAExempted):
 * permanent handles other than lockout, PCRs, sequence objects, objects with noDA and NV indices with TPMA_NV_NO_DA.
 */
export function isDaExempt(core: TpmCore, entity: number): boolean {
  switch (handleType(entity)) {
    case TPM_HT.PERMANENT: return entity !== TPM_RH.LOCKOUT;
    case TPM_HT.PCR: return true;
    case TPM_HT.TRANSIENT:
    case TPM_HT.PERSISTENT:
      return core.sequences.has(entity) || ((core.objects.get(entity)?.publicArea.objectAttributes ?? 0) & TPMA_OBJECT.noDA) !== 0;
    case TPM_HT.NV_INDEX: return core.nv.get(entity)?.has(TPMA_NV.NO_DA) === true;
    default: return false;
  }
}

/** Whether the TPM is in lockout for DA-protected entities other than lockout (TPMA_PERMANENT.inLockout). */
export const inLockout = (da: DictionaryAttackState): boolean => da.failedTries >= da.maxTries;

/**
 * Before an authValue of a DA-protected entity is used (CheckLockedOut): TPM_RC_LOCKOUT if use of
 * lockoutAuth is disabled (for lockout) or failedTries has reached maxTries (for anything else).
 * The first such check after Startup records daUsed, which makes the cycle non-orderly.
 */
export function checkLockedOut(core: TpmCore, lockoutAuth: boolean): void {
  const p = core.persistent;
  const da = p.dictionaryAttack;
  if (lockoutAuth) {
    if (!da.lockOutAuthEnabled) throw new TpmError(TPM_RC.LOCKOUT);
    return;
  }
  if (inLockout(da)) throw new TpmError(TPM_RC.LOCKOUT);
  if (!da.daUsed) {
    da.daUsed = true;
    p.shutdown = 'none';
    core.touchPersistent();
  }
}

/**
 * A wrong password or HMAC (IncrementLockout). It counts, and is TPM_RC_AUTH_FAIL, when the
 * authValue was used on a DA-protected entity or the session is bound to one; a failure on
 * lockout (or through a session bound to it) disables lockoutAuth, any other increments
 * failedTries unless recoveryTime is 0 (DA disabled). Otherwise it is TPM_RC_BAD_AUTH. The change
 * is persistent, and the engine writes it before the response leaves.
 */
export function authorizationFailed(core: TpmCore, entity: number, session: SessionState | undefined, authUsed: boolean): number {
  const handle = session?.isLockoutBound ? TPM_RH.LOCKOUT : entity;
  if (!session?.isDaBound && (!authUsed || isDaExempt(core, handle))) return TPM_RC.BAD_AUTH;
  const da = core.persistent.dictionaryAttack;
  const v = core.volatile;
  if (handle === TPM_RH.LOCKOUT) {
    da.lockOutAuthEnabled = false;
    v.daLockoutTimer = v.time;
  } else {
    if (da.recoveryTime !== 0) da.failedTries = (da.failedTries + 1) >>> 0;
    v.daSelfHealTimer = v.time;
  }
  core.touchPersistent();
  return TPM_RC.AUTH_FAIL;
}

/**
 * At the start of each command after Startup (DASelfHeal): one failedTries fewer per recoveryTime
 * seconds of TPM time since the last failure (all at once when recoveryTime is 0), and
 * lockoutAuth usable again lockoutRecovery seconds after its failure (0: only at the next Startup).
 */
export function daSelfHeal(core: TpmCore): void {
  const da = core.persistent.dictionaryAttack;
  const v = core.volatile;
  if (da.failedTries !== 0) {
    if (da.recoveryTime === 0) {
      da.failedTries = 0;
      core.touchPersistent();
    } else {
      const period = BigInt(da.recoveryTime) * MS_PER_SECOND;
      const timer = v.daSelfHealTimer ?? 0n;
      const healed = (v.time - timer) / period;
      if (healed > 0n) {
        da.failedTries = healed >= BigInt(da.failedTries) ? 0 : da.failedTries - Number(healed);
        v.daSelfHealTimer = timer + healed * period;
        core.touchPersistent();
      }
    }
  }
  if (!da.lockOutAuthEnabled && da.lockoutRecovery !== 0 &&
      v.time - (v.daLockoutTimer ?? 0n) >= BigInt(da.lockoutRecovery) * MS_PER_SECOND) {
    da.lockOutAuthEnabled = true;
    core.touchPersistent();
  }
}

/**
 * Startup (DAStartup). After an orderly Shutdown the timers carry on what they had served;
 * otherwise they count from _TPM_Init, and a cycle that checked a DA-protected authorization
 * costs one failure (unless DA is disabled or already in lockout). lockoutRecovery 0 re-enables
 * lockoutAuth. Called before the Startup clears the shutdown state.
 */
export function daStartup(core: TpmCore, orderly: boolean): void {
  const da = core.persistent.dictionaryAttack;
  const v = core.volatile;
  const served = orderly ? da.served : undefined;
  v.daSelfHealTimer = -(served?.selfHeal ?? 0n);
  v.daLockoutTimer = -(served?.lockout ?? 0n);
  delete da.served;
  if (da.lockoutRecovery === 0) da.lockOutAuthEnabled = true;
  if (da.daUsed && da.recoveryTime !== 0 && da.failedTries < da.maxTries) da.failedTries++;
  da.daUsed = false;
  core.touchPersistent();
  daSelfHeal(core);
}

/** Shutdown: the time served toward recovery is kept for the next Startup, and the cycle is orderly again. */
export function daShutdown(core: TpmCore): void {
  const da = core.persistent.dictionaryAttack;
  const v = core.volatile;
  da.served = { selfHeal: v.time - (v.daSelfHealTimer ?? 0n), lockout: v.time - (v.daLockoutTimer ?? 0n) };
  da.daUsed = false;
  core.touchPersistent();
}
