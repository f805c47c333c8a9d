/** Part 3 §25, dictionary attack functions: DictionaryAttackLockReset and DictionaryAttackParameters. */
import { TPM_CC } from '../spec/tpm-cc.js';
import { UINT32, struct } from '../marshal/codec.js';
import { command } from '../engine/command-def.js';
import { NO_RESPONSE } from './no-response.js';

const LOCK_HANDLE = [{ name: 'lockHandle', kind: 'LOCKOUT', auth: 'USER' }] as const;

export const DICTIONARY_ATTACK_COMMANDS = [
  command({
    code: TPM_CC.DictionaryAttackLockReset, name: 'DictionaryAttackLockReset', nv: true,
    handles: LOCK_HANDLE, params: struct({}), response: NO_RESPONSE,
    // failedTries only: lockOutAuthEnabled comes back by lockoutRecovery or at Startup (Part 1 §19.8).
    handler: ({ core }) => {
      core.persistent.dictionaryAttack.failedTries = 0;
      core.touchPersistent();
    },
  }),
  command({
    code: TPM_CC.DictionaryAttackParameters, name: 'DictionaryAttackParameters', nv: true,
    handles: LOCK_HANDLE,
    params: struct({ newMaxTries: UINT32, newRecoveryTime: UINT32, lockoutRecovery: UINT32 }), response: NO_RESPONSE,
    // failedTries stays as it is (an erratum removed the reset), so a lower maxTries can mean lockout at once.
    handler: ({ core }, _h, p) => {
      Object.assign(core.persistent.dictionaryAttack, {
        maxTries: p.newMaxTries, recoveryTime: p.newRecoveryTime, lockoutRecovery: p.lockoutRecovery,
      });
      core.touchPersistent();
    },
  }),
];
