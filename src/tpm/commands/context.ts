/**
 * Part 3 §28, context management: ContextSave, ContextLoad, FlushContext, for sessions and
 * objects, and EvictControl. Sequence objects hold node hash states that cannot be exported, so saving one is refused.
 */
import { TPM_CC } from '../spec/tpm-cc.js';
import { TPM_HT, TPM_RH, handleType } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { struct } from '../marshal/codec.js';
import { TPMS_CONTEXT, TPMI_DH_CONTEXT, TPMI_DH_PERSISTENT } from '../marshal/types.js';
import { withResponseHandle } from '../marshal/session-types.js';
import { command, type CommandContext } from '../engine/command-def.js';
import { InvalidContext, OBJECT_SALT_BYTES, openObject, openSession, sealObject, sealSession, type ContextHeader } from '../auth/context-blob.js';
import { TPMA_OBJECT } from '../spec/constants.js';
import type { TpmCore } from '../engine/tpm-core.js';
import { fromStored, toStored } from '../objects/object-table.js';
import { concatBytes, u32be } from '../crypto/bytes.js';
import { NO_RESPONSE } from './no-response.js';
import { asHandle } from '../objects/object-loading.js';

/** TPMS_CONTEXT.savedHandle of an object (Part 2 §14.6): 0x80000000, or 0x80000002 for an stClear object. */
const SAVED_OBJECT = 0x80000000;
const SAVED_STCLEAR_OBJECT = 0x80000002;

/**
 * What an object blob is bound to: its hierarchy's proof, and for an stClear object also the
 * reset and restart counts, so that its context does not load after a TPM Reset or Restart
 * (Part 1 §30.6.2).
 */
function objectEpoch(core: TpmCore, hierarchy: number, savedHandle: number): Uint8Array {
  const proof = core.proof(hierarchy);
  if (savedHandle !== SAVED_STCLEAR_OBJECT) return proof;
  return concatBytes(proof, u32be(core.persistent.resetCount), u32be(core.persistent.restartCount));
}

/** ContextSave of a transient object: it stays loaded; the blob is bound to its hierarchy. */
function saveObject(core: TpmCore, h: number): { sequence: bigint; savedHandle: number; hierarchy: number; contextBlob: Uint8Array } {
  // Sequence objects hold node hash states, which cannot be exported.
  if (core.sequences.has(h)) throw TpmError.handle(TPM_RC.HANDLE, 1);
  const o = core.object(h);
  const sequence = core.sessions.nextContextSequence();
  const savedHandle = o.publicArea.objectAttributes & TPMA_OBJECT.stClear ? SAVED_STCLEAR_OBJECT : SAVED_OBJECT;
  const header = { sequence, savedHandle, hierarchy: o.hierarchy };
  const blob = sealObject(core.persistent, header, objectEpoch(core, o.hierarchy, savedHandle), toStored(o), core.random(OBJECT_SALT_BYTES));
  return { ...header, contextBlob: blob };
}

/** ContextLoad of an object: into a new transient handle, owned by the loading client. */
function loadObject(ctx: CommandContext, header: ContextHeader, blob: Uint8Array): number {
  const { core } = ctx;
  if (header.savedHandle !== SAVED_OBJECT && header.savedHandle !== SAVED_STCLEAR_OBJECT) throw TpmError.parameter(TPM_RC.HANDLE, 1);
  if (!core.hierarchyEnabled(header.hierarchy)) throw TpmError.parameter(TPM_RC.HIERARCHY, 1);
  let stored;
  try {
    stored = openObject(core.persistent, header, objectEpoch(core, header.hierarchy, header.savedHandle), blob);
  } catch (e) {
    throw e instanceof InvalidContext ? TpmError.parameter(e.rc, 1) : e;
  }
  if (stored.hierarchy !== header.hierarchy) throw TpmError.parameter(TPM_RC.INTEGRITY, 1);
  return core.objects.load(fromStored(stored), ctx.client).handle;
}

/** Persistent handle ranges (Part 2, TPM_HC): the owner's and the platform's halves of 0x81xxxxxx. */
const PERSISTENT_RANGES = new Map<number, { min: number; max: number }>([
  [TPM_RH.OWNER, { min: 0x81000000, max: 0x817fffff }],
  [TPM_RH.PLATFORM, { min: 0x81800000, max: 0x81ffffff }],
]);

/** Attributes that keep an object from being made persistent (Part 3 §28.5). */
const NOT_PERSISTABLE = TPMA_OBJECT.stClear;

/**
 * EvictControl (Part 3 §28.5): a transient object gets a persistent copy, or a persistent object is
 * removed. Sequence objects and NULL-hierarchy objects are temporary, and cannot be made persistent.
 */
function evictControl(core: TpmCore, auth: number, objectHandle: number, persistentHandle: number): void {
  if (core.sequences.has(objectHandle)) throw TpmError.handle(TPM_RC.ATTRIBUTES, 2);
  const o = asHandle(2, () => core.object(objectHandle));
  const isPersistent = handleType(objectHandle) === TPM_HT.PERSISTENT;
  if (o.hierarchy === TPM_RH.NULL || o.publicArea.objectAttributes & NOT_PERSISTABLE) throw TpmError.handle(TPM_RC.ATTRIBUTES, 2);
  if (isPersistent && objectHandle !== persistentHandle) throw TpmError.handle(TPM_RC.HANDLE, 2);
  // The owner can neither persist nor evict platform objects; the platform may evict any, persist only its own.
  const isPlatformObject = o.hierarchy === TPM_RH.PLATFORM;
  if (auth === TPM_RH.OWNER ? isPlatformObject : !isPersistent && !isPlatformObject) {
    throw TpmError.handle(TPM_RC.HIERARCHY, 2);
  }
  if (isPersistent) {
    core.objects.removePersistent(persistentHandle);
  } else {
    const range = PERSISTENT_RANGES.get(auth)!;
    if (persistentHandle < range.min || persistentHandle > range.max) throw TpmError.parameter(TPM_RC.RANGE, 1);
    core.objects.makePersistent(o, persistentHandle);
  }
  core.touchPersistent();
}

const isSessionHandle = (h: number): boolean => handleType(h) === TPM_HT.HMAC_SESSION || handleType(h) === TPM_HT.POLICY_SESSION;

export const CONTEXT_COMMANDS = [
  command({
    code: TPM_CC.ContextSave, name: 'ContextSave', noSessions: true,
    handles: [{ name: 'saveHandle', kind: 'CONTEXT' }],
    params: struct({}),
    response: TPMS_CONTEXT,
    handler(ctx, [h]) {
      const { core } = ctx;
      if (!isSessionHandle(h!)) return saveObject(core, h!);
      const s = core.sessions.get(h!)!;
      const sequence = core.sessions.save(h!);
      const header = { sequence, savedHandle: h!, hierarchy: TPM_RH.NULL };
      return { ...header, contextBlob: sealSession(core.persistent, header, s) };
    },
  }),
  command({
    code: TPM_CC.ContextLoad, name: 'ContextLoad', noSessions: true,
    handles: [],
    params: struct({ context: TPMS_CONTEXT }),
    response: withResponseHandle(NO_RESPONSE),
    responseHandle: (r) => r.handle,
    handler(ctx, _h, { context }) {
      const { core } = ctx;
      const header = { sequence: context.sequence, savedHandle: context.savedHandle, hierarchy: context.hierarchy };
      if (handleType(header.savedHandle) === TPM_HT.TRANSIENT) return { handle: loadObject(ctx, header, context.contextBlob), params: undefined };
      let state;
      try {
        state = openSession(core.persistent, header, context.contextBlob, ctx.client);
        if (!isSessionHandle(header.savedHandle) || !core.sessions.isCurrentSave(header.savedHandle, header.sequence)) {
          throw new InvalidContext(TPM_RC.HANDLE);
        }
      } catch (e) {
        throw e instanceof InvalidContext ? TpmError.parameter(e.rc, 1) : e;
      }
      return { handle: core.sessions.restore(state, ctx.client).handle, params: undefined };
    },
  }),
  command({
    code: TPM_CC.EvictControl, name: 'EvictControl', nv: true,
    handles: [{ name: 'auth', kind: 'PROVISION', auth: 'USER' }, { name: 'objectHandle', kind: 'OBJECT' }],
    params: struct({ persistentHandle: TPMI_DH_PERSISTENT }),
    response: NO_RESPONSE,
    handler: (ctx, [auth, objectHandle], { persistentHandle }) => evictControl(ctx.core, auth!, objectHandle!, persistentHandle),
  }),
  command({
    code: TPM_CC.FlushContext, name: 'FlushContext', noSessions: true,
    handles: [],
    params: struct({ flushHandle: TPMI_DH_CONTEXT }),
    response: NO_RESPONSE,
    handler(ctx, _h, { flushHandle }) {
      const { core } = ctx;
      const flushed = isSessionHandle(flushHandle)
        ? core.sessions.flush(flushHandle)
        : core.sequences.flush(flushHandle) || core.objects.flush(flushHandle);
      if (!flushed) throw TpmError.parameter(TPM_RC.HANDLE, 1);
    },
  }),
];
