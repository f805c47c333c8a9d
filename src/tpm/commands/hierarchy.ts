/**
 * Part 3 §24, hierarchy commands: CreatePrimary, HierarchyControl, SetPrimaryPolicy, ChangePPS,
 * ChangeEPS, Clear, ClearControl, HierarchyChangeAuth.
 */
import { TPM_CC } from '../spec/tpm-cc.js';
import { TPM_ALG, TPM_RH, TPM_YES } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { hashInfo } from '../spec/hash-algs.js';
import { struct } from '../marshal/codec.js';
import { TPM2B_AUTH, TPM2B_DIGEST, TPMI_ALG_HASH_NULL, TPMI_RH_ENABLES, TPMI_YES_NO } from '../marshal/types.js';
import { TPM2B_PUBLIC, TPM2B_NAME, TPM2B_CREATION_DATA, TPMT_TK_CREATION } from '../marshal/object-types.js';
import { withResponseHandle } from '../marshal/session-types.js';
import { command, type AnyCommand, type HandleKind } from '../engine/command-def.js';
import { validateTemplate } from '../objects/object-templates.js';
import { handleName, makeObject } from '../objects/tpm-object.js';
import { creationOutputs } from '../objects/creation-data.js';
import { derivePrimary } from '../objects/primary-derivation.js';
import { CREATE_PARAMS, numberedCreateError } from './object.js';
import { NO_RESPONSE } from './no-response.js';
import type { TpmCore } from '../engine/tpm-core.js';
import type { VolatileState } from '../state/tpm-state.js';
import { DA_DEFAULTS, freshEndorsementHierarchy, freshPlatformHierarchy, freshStorageHierarchy } from '../state/initial-state.js';
import { stripTrailingZeros } from '../auth/session-table.js';
import { CONTEXT_INTEGRITY_SIZE } from '../auth/context-blob.js';

type EnableFlag = 'phEnable' | 'shEnable' | 'ehEnable' | 'phEnableNV';

/**
 * HierarchyControl (Part 3 §24.2): the flag each `enable` value names and the authorizations that
 * may change it. A disabled owner or endorsement hierarchy comes back only with platform authorization.
 */
const ENABLES: ReadonlyMap<number, { flag: EnableFlag; by: readonly number[] }> = new Map([
  [TPM_RH.PLATFORM, { flag: 'phEnable', by: [TPM_RH.PLATFORM] }],
  [TPM_RH.PLATFORM_NV, { flag: 'phEnableNV', by: [TPM_RH.PLATFORM] }],
  [TPM_RH.OWNER, { flag: 'shEnable', by: [TPM_RH.PLATFORM, TPM_RH.OWNER] }],
  [TPM_RH.ENDORSEMENT, { flag: 'ehEnable', by: [TPM_RH.PLATFORM, TPM_RH.ENDORSEMENT] }],
]);

const isEnabled = (v: VolatileState, flag: EnableFlag): boolean => v[flag] !== false;

function hierarchyControl(core: TpmCore, auth: number, enable: number, state: boolean): void {
  const { flag, by } = ENABLES.get(enable)!;
  const v = core.volatile;
  if (!by.includes(auth)) throw new TpmError(TPM_RC.AUTH_TYPE);
  if (state && !isEnabled(v, flag) && auth !== TPM_RH.PLATFORM) throw new TpmError(TPM_RC.AUTH_TYPE);
  if (isEnabled(v, flag) === state) return;
  v[flag] = state;
  // A disabled hierarchy's loaded objects go; its persistent ones stay, out of reach until enabled.
  if (!state && enable !== TPM_RH.PLATFORM_NV) core.objects.flushWhere((o) => o.hierarchy === enable);
}

/** The authValues and authPolicies TPM2_Clear empties (Part 3 §24.6). */
const CLEARED_AUTHS = ['ownerAuth', 'endorsementAuth', 'lockoutAuth'] as const;
const CLEARED_POLICIES = [TPM_RH.OWNER, TPM_RH.ENDORSEMENT, TPM_RH.LOCKOUT];

/** TPM2_Clear (Part 3 §24.6): the storage and endorsement hierarchies' owner-visible state starts over, DA parameters included. */
function clear(core: TpmCore): void {
  const p = core.persistent;
  if (p.disableClear) throw new TpmError(TPM_RC.DISABLED);
  Object.assign(p, freshStorageHierarchy());
  for (const a of CLEARED_AUTHS) p[a] = new Uint8Array(0);
  for (const h of CLEARED_POLICIES) p.hierarchyPolicies.delete(h);
  core.objects.dropHierarchy(TPM_RH.OWNER);
  core.objects.dropHierarchy(TPM_RH.ENDORSEMENT);
  core.volatile.shEnable = true;
  core.volatile.ehEnable = true;
  Object.assign(p.dictionaryAttack, DA_DEFAULTS);
  p.clock = 0n;
  p.resetCount = 0;
  p.restartCount = 0;
  core.volatile.pcrUpdateCounter = (core.volatile.pcrUpdateCounter + 1) >>> 0;
  core.touchPersistent();
}

/** TPM2_ChangeEPS (Part 3 §24.5): a new endorsement seed; its objects, auth and policy go. */
function changeEps(core: TpmCore): void {
  const p = core.persistent;
  Object.assign(p, freshEndorsementHierarchy());
  p.endorsementAuth = new Uint8Array(0);
  p.hierarchyPolicies.delete(TPM_RH.ENDORSEMENT);
  core.objects.dropHierarchy(TPM_RH.ENDORSEMENT);
  core.volatile.ehEnable = true;
  core.touchPersistent();
}

/** TPM2_ChangePPS (Part 3 §24.4): a new platform seed; its objects and policy go. */
function changePps(core: TpmCore): void {
  Object.assign(core.persistent, freshPlatformHierarchy());
  delete core.volatile.platformPolicy;
  core.objects.dropHierarchy(TPM_RH.PLATFORM);
  core.touchPersistent();
}

/** ClearControl (Part 3 §24.7): lockout may set disableClear; only the platform may clear it again. */
function clearControl(core: TpmCore, auth: number, disable: boolean): void {
  if (auth === TPM_RH.LOCKOUT && !disable) throw new TpmError(TPM_RC.AUTH_FAIL);
  core.persistent.disableClear = disable;
  core.touchPersistent();
}

/**
 * HierarchyChangeAuth (Part 3 §24.8): an authValue no longer than the context integrity digest,
 * stored without trailing zeros; the response HMAC already uses the new value.
 */
function hierarchyChangeAuth(core: TpmCore, h: number, newAuth: Uint8Array): void {
  const auth = stripTrailingZeros(newAuth).slice(); // a copy: parameters are views of the command buffer
  if (auth.length > CONTEXT_INTEGRITY_SIZE) throw TpmError.parameter(TPM_RC.SIZE, 1);
  switch (h) {
    case TPM_RH.PLATFORM: core.volatile.platformAuth = auth; return;
    case TPM_RH.OWNER: core.persistent.ownerAuth = auth; break;
    case TPM_RH.ENDORSEMENT: core.persistent.endorsementAuth = auth; break;
    case TPM_RH.LOCKOUT: core.persistent.lockoutAuth = auth; break;
  }
  core.touchPersistent();
}

/** SetPrimaryPolicy (Part 3 §24.3): platform's policy is volatile like platformAuth, the others persistent. */
function setPrimaryPolicy(core: TpmCore, h: number, digest: Uint8Array, hashAlg: number): void {
  // An empty policy goes with TPM_ALG_NULL, whose digest size is 0.
  if (digest.length !== (hashInfo(hashAlg)?.digestSize ?? 0)) throw TpmError.parameter(TPM_RC.SIZE, 1);
  // A copy: parameters are views of the command buffer.
  const policy = digest.length === 0 ? undefined : { hashAlg, digest: digest.slice() };
  if (h === TPM_RH.PLATFORM) {
    if (policy) core.volatile.platformPolicy = policy;
    else delete core.volatile.platformPolicy;
    return;
  }
  if (policy) core.persistent.hierarchyPolicies.set(h, policy);
  else core.persistent.hierarchyPolicies.delete(h);
  core.touchPersistent();
}

/** ChangePPS, ChangeEPS and Clear: one authorized handle, no parameters, a new seed. */
const seedCommand = (code: number, name: string, kind: HandleKind, run: (core: TpmCore) => void): AnyCommand => command({
  code, name, nv: true,
  handles: [{ name: 'authHandle', kind, auth: 'USER' }],
  params: struct({}),
  response: NO_RESPONSE,
  handler: (ctx) => run(ctx.core),
});

export const HIERARCHY_COMMANDS = [
  command({
    code: TPM_CC.CreatePrimary, name: 'CreatePrimary',
    handles: [{ name: 'primaryHandle', kind: 'HIERARCHY', allowNull: true, auth: 'USER' }],
    params: CREATE_PARAMS,
    response: withResponseHandle(struct({
      outPublic: TPM2B_PUBLIC, creationData: TPM2B_CREATION_DATA, creationHash: TPM2B_DIGEST,
      creationTicket: TPMT_TK_CREATION, name: TPM2B_NAME,
    })),
    responseHandle: (r) => r.handle,
    handler(ctx, [hierarchy], p) {
      const { core } = ctx;
      core.objects.requireSlot();
      let made;
      try {
        validateTemplate(p.inPublic, undefined);
        made = derivePrimary(core, hierarchy!, p.inPublic, p.inSensitive);
      } catch (e) {
        throw numberedCreateError(e);
      }
      const hierarchyName = handleName(hierarchy!);
      const object = core.objects.load(makeObject(made.publicArea, made.sensitive, hierarchy!, hierarchyName), ctx.client);
      const creation = creationOutputs(core, {
        nameAlg: made.publicArea.nameAlg, objectName: object.name, hierarchy: hierarchy!,
        pcrSelect: p.creationPCR, outsideInfo: p.outsideInfo, locality: ctx.locality,
        parentNameAlg: TPM_ALG.NULL, parentName: hierarchyName, parentQualifiedName: hierarchyName,
      });
      return { handle: object.handle, params: { outPublic: made.publicArea, ...creation, name: object.name } };
    },
  }),
  command({
    code: TPM_CC.HierarchyControl, name: 'HierarchyControl', nv: true,
    handles: [{ name: 'authHandle', kind: 'HIERARCHY', auth: 'USER' }],
    params: struct({ enable: TPMI_RH_ENABLES, state: TPMI_YES_NO }),
    response: NO_RESPONSE,
    handler: (ctx, [auth], { enable, state }) => hierarchyControl(ctx.core, auth!, enable, state === TPM_YES),
  }),
  command({
    // TPMI_RH_HIERARCHY_POLICY admits the same handles as TPMI_RH_HIERARCHY_AUTH (no ACTs here).
    code: TPM_CC.SetPrimaryPolicy, name: 'SetPrimaryPolicy', nv: true,
    handles: [{ name: 'authHandle', kind: 'HIERARCHY_AUTH', auth: 'USER' }],
    params: struct({ authPolicy: TPM2B_DIGEST, hashAlg: TPMI_ALG_HASH_NULL }),
    response: NO_RESPONSE,
    handler: (ctx, [h], { authPolicy, hashAlg }) => setPrimaryPolicy(ctx.core, h!, authPolicy, hashAlg),
  }),
  seedCommand(TPM_CC.ChangePPS, 'ChangePPS', 'PLATFORM', changePps),
  seedCommand(TPM_CC.ChangeEPS, 'ChangeEPS', 'PLATFORM', changeEps),
  seedCommand(TPM_CC.Clear, 'Clear', 'CLEAR', clear),
  command({
    code: TPM_CC.ClearControl, name: 'ClearControl', nv: true,
    handles: [{ name: 'auth', kind: 'CLEAR', auth: 'USER' }],
    params: struct({ disable: TPMI_YES_NO }),
    response: NO_RESPONSE,
    handler: (ctx, [auth], { disable }) => clearControl(ctx.core, auth!, disable === TPM_YES),
  }),
  command({
    code: TPM_CC.HierarchyChangeAuth, name: 'HierarchyChangeAuth', nv: true,
    handles: [{ name: 'authHandle', kind: 'HIERARCHY_AUTH', auth: 'USER' }],
    params: struct({ newAuth: TPM2B_AUTH }),
    response: NO_RESPONSE,
    handler: (ctx, [h], { newAuth }) => hierarchyChangeAuth(ctx.core, h!, newAuth),
  }),
];
