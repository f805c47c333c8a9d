/**
 * What a TPM vendor does at manufacture: derive the profile EKs from the endorsement seed and make
 * them persistent at their reserved handles, as CreatePrimary and EvictControl would.
 */
import { TPM_RH } from '../spec/constants.js';
import { readPublicBytes } from '../marshal/object-types.js';
import type { PersistentState } from '../state/tpm-state.js';
import { powerOnVolatile } from '../state/initial-state.js';
import { TpmCore } from '../engine/tpm-core.js';
import { derivePrimary } from './primary-derivation.js';
import { handleName, makeObject } from './tpm-object.js';
import { EK_TEMPLATES, type EkKind } from './ek-templates.js';

/** Persists the EKs of `kinds` into `persistent` (which must not have them yet). */
export function provisionEks(persistent: PersistentState, kinds: readonly EkKind[]): void {
  const core = new TpmCore(persistent, powerOnVolatile(), { now: () => 0, persistentChanged: () => undefined });
  const empty = new Uint8Array(0);
  for (const kind of kinds) {
    const { template, persistentHandle } = EK_TEMPLATES[kind];
    const made = derivePrimary(core, TPM_RH.ENDORSEMENT, readPublicBytes(template), { userAuth: empty, data: empty });
    const ek = makeObject(made.publicArea, made.sensitive, TPM_RH.ENDORSEMENT, handleName(TPM_RH.ENDORSEMENT));
    core.objects.makePersistent({ ...ek, handle: persistentHandle, client: 0 }, persistentHandle);
  }
}
