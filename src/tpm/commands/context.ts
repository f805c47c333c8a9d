/**
 * Part 3 §28, context management: ContextSave, ContextLoad, FlushContext. Sessions only for now:
 * sequence objects hold node hash states that cannot be exported, so saving one is refused, and
 * there are no other transient objects yet.
 */
import { TPM_CC } from '../spec/tpm-cc.js';
import { TPM_HT, TPM_RH, handleType } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { struct } from '../marshal/codec.js';
import { TPMS_CONTEXT, TPMI_DH_CONTEXT } from '../marshal/types.js';
import { withResponseHandle } from '../marshal/session-types.js';
import { command } from '../engine/command-def.js';
import { InvalidContext, openSession, sealSession } from '../auth/context-blob.js';
import { NO_RESPONSE } from './no-response.js';

const isSessionHandle = (h: number): boolean => handleType(h) === TPM_HT.HMAC_SESSION || handleType(h) === TPM_HT.POLICY_SESSION;

export const CONTEXT_COMMANDS = [
  command({
    code: TPM_CC.ContextSave, name: 'ContextSave', noSessions: true,
    handles: [{ name: 'saveHandle', kind: 'CONTEXT' }],
    params: struct({}),
    response: TPMS_CONTEXT,
    handler(ctx, [h]) {
      const { core } = ctx;
      if (!isSessionHandle(h!)) throw TpmError.handle(TPM_RC.HANDLE, 1);
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
      let state;
      try {
        // Only session contexts are ever produced, so an object context cannot pass the integrity check.
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
      const flushed = isSessionHandle(flushHandle) ? core.sessions.flush(flushHandle) : core.sequences.flush(flushHandle);
      if (!flushed) throw TpmError.parameter(TPM_RC.HANDLE, 1);
    },
  }),
];
