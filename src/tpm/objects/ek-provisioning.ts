/**
 * What a TPM vendor does at manufacture: derive the profile EKs from the endorsement seed, make
 * them persistent at their reserved handles, as CreatePrimary and EvictControl would, and store
 * their certificates at the reserved NV indexes.
 */
import { TPMA_NV, TPM_RH } from '../spec/constants.js';
import { readPublicBytes, type PublicArea } from '../marshal/object-types.js';
import type { PersistentState } from '../state/tpm-state.js';
import { powerOnVolatile } from '../state/initial-state.js';
import { TpmCore } from '../engine/tpm-core.js';
import { definePlatformIndex } from '../nv/nv-provisioning.js';
import { derivePrimary } from './primary-derivation.js';
import type { GeneratedObject } from './object-generation.js';
import { handleName, makeObject } from './tpm-object.js';
import { EK_TEMPLATES, type EkKind } from './ek-templates.js';

/**
 * The attributes swtpm gives its EK certificate indexes (0x62072001 once WRITTEN and PLATFORMCREATE
 * are added): written by the platform once, readable with the index's empty auth by anyone.
 */
export const EK_CERTIFICATE_ATTRIBUTES = TPMA_NV.PPWRITE | TPMA_NV.WRITEDEFINE | TPMA_NV.PPREAD | TPMA_NV.OWNERREAD
  | TPMA_NV.AUTHREAD | TPMA_NV.NO_DA;

const EMPTY = new Uint8Array(0);

/** A TPM core on `persistent` outside any command, for manufacturing steps. */
const manufacturingCore = (persistent: PersistentState): TpmCore =>
  new TpmCore(persistent, powerOnVolatile(), { now: () => 0, persistentChanged: () => undefined });

/** The EK that CreatePrimary(TPM_RH_ENDORSEMENT) of the profile template gives. */
const deriveEk = (core: TpmCore, kind: EkKind): GeneratedObject =>
  derivePrimary(core, TPM_RH.ENDORSEMENT, readPublicBytes(EK_TEMPLATES[kind].template), { userAuth: EMPTY, data: EMPTY });

/** Persists the EKs of `kinds` into `persistent` (which must not have them yet). */
export function provisionEks(persistent: PersistentState, kinds: readonly EkKind[]): void {
  const core = manufacturingCore(persistent);
  for (const kind of kinds) {
    const { persistentHandle } = EK_TEMPLATES[kind];
    const made = deriveEk(core, kind);
    const ek = makeObject(made.publicArea, made.sensitive, TPM_RH.ENDORSEMENT, handleName(TPM_RH.ENDORSEMENT));
    core.objects.makePersistent({ ...ek, handle: persistentHandle, client: 0 }, persistentHandle);
  }
}

/** The public area of the `kind` EK under the current endorsement seed: what its certificate certifies. */
export function ekPublicArea(persistent: PersistentState, kind: EkKind): PublicArea {
  return deriveEk(manufacturingCore(persistent), kind).publicArea;
}

/** Stores `certificate` (DER) at the `kind` EK's certificate index, replacing what is there. */
export function provisionEkCertificate(persistent: PersistentState, kind: EkKind, certificate: Uint8Array): void {
  definePlatformIndex(persistent, EK_TEMPLATES[kind].certificateIndex, EK_CERTIFICATE_ATTRIBUTES, certificate);
}
