/**
 * Part 3 §28, context management: ContextSave, ContextLoad, FlushContext, for sessions and
 * objects. Sequence objects hold node hash states that cannot be exported, so saving one is refused.
 */
import { TPM_CC } from '../spec/tpm-cc.js';
import { TPM_HT, TPM_RH, handleType } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { struct } from '../marshal/codec.js';
import { TPMS_CONTEXT, TPMI_DH_CONTEXT } from '../marshal/types.js';
import { withResponseHandle } from '../marshal/session-types.js';
import { command, type CommandContext } from '../engine/command-def.js';
import { InvalidContext, OBJECT_SALT_BYTES, openObject, openSession, sealObject, sealSession, type ContextHeader } from '../auth/context-blob.js';
import { TPMA_OBJECT } from '../spec/constants.js';
import type { TpmCore } from '../engine/tpm-core.js';
import { fromStored, toStored } from '../objects/object-table.js';
import { NO_RESPONSE } from './no-response.js';

/** TPMS_CONTEXT.savedHandle of an object (Part 2 §14.6): 0x80000000, or 0x80000002 for an stClear object. */
const SAVED_OBJECT = 0x80000000;
const SAVED_STCLEAR_OBJECT = 0x80000002;

/** ContextSave of a transient object: it stays loaded; the blob is bound to its hierarchy. */
function saveObject(core: TpmCore, h: number): { sequence: bigint; savedHandle: number; hierarchy: number; contextBlob: Uint8Array } {
  // Sequence objects hold node hash states, which cannot be exported.
  if (core.sequences.has(h)) throw TpmError.handle(TPM_RC.HANDLE, 1);
  const o = core.object(h);
  const sequence = core.sessions.nextContextSequence();
  const savedHandle = o.publicArea.objectAttributes & TPMA_OBJECT.stClear ? SAVED_STCLEAR_OBJECT : SAVED_OBJECT;
  const header = { sequence, savedHandle, hierarchy: o.hierarchy };
  const blob = sealObject(core.persistent, header, core.proof(o.hierarchy), toStored(o), core.random(OBJECT_SALT_BYTES));
  return { ...header, contextBlob: blob };
}

/** ContextLoad of an object: into a new transient handle, owned by the loading client. */
function loadObject(ctx: CommandContext, header: ContextHeader, blob: Uint8Array): number {
  const { core } = ctx;
  if (header.savedHandle !== SAVED_OBJECT && header.savedHandle !== SAVED_STCLEAR_OBJECT) throw TpmError.parameter(TPM_RC.HANDLE, 1);
  if (!core.hierarchyEnabled(header.hierarchy)) throw TpmError.parameter(TPM_RC.HIERARCHY, 1);
  let stored;
  try {
    stored = openObject(core.persistent, header, core.proof(header.hierarchy), blob);
  } catch (e) {
    throw e instanceof InvalidContext ? TpmError.parameter(e.rc, 1) : e;
  }
  if (stored.hierarchy !== header.hierarchy) throw TpmError.parameter(TPM_RC.INTEGRITY, 1);
  return core.objects.load(fromStored(stored), ctx.client).handle;
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
