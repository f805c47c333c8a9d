/**
 * Part 3 §15.4 Hash and §17 hash/event sequences: HashSequenceStart, SequenceUpdate,
 * HMAC_Start, SequenceComplete (also of HMAC sequences), EventSequenceComplete. Behaviour follows the reference implementation:
 * a sequence of the wrong kind is TPM_RC_MODE on its handle, the sequence is flushed only when
 * the completing command succeeds.
 */
import { TPM_CC } from '../spec/tpm-cc.js';
import { TPM_ALG, TPM_RH } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { struct, type Codec } from '../marshal/codec.js';
import {
  TPM2B_AUTH, TPM2B_DIGEST, TPM2B_MAX_BUFFER, TPMI_ALG_HASH, TPMI_ALG_HASH_NULL, TPMI_RH_HIERARCHY_NULL,
  TPML_DIGEST_VALUES, TPMT_TK_HASHCHECK,
} from '../marshal/types.js';
import { command, type CommandContext } from '../engine/command-def.js';
import { hash } from '../crypto/hash.js';
import { mayExtend } from '../pcr/pcr-attributes.js';
import { ticketIsSafe, type SequenceObject } from '../objects/sequence-table.js';
import { hashCheckTicket } from '../objects/hash-check-ticket.js';
import { hmacKey } from '../objects/hmac-key.js';
import { NO_RESPONSE } from './no-response.js';

const HASH_RESULT = struct({ outHash: TPM2B_DIGEST, validation: TPMT_TK_HASHCHECK });
/** A response whose only output is its handle (TPMA_CC.rHandle): no parameters to marshal. */
const HANDLE_ONLY: Codec<number> = { read: () => 0, write: () => undefined };
const SEQUENCE_RESULT = struct({ result: TPM2B_DIGEST, validation: TPMT_TK_HASHCHECK });

/** The sequence behind a handle the dispatcher has found present, if it is of the wanted kind. */
function sequenceOf(ctx: CommandContext, handle: number, kinds: readonly SequenceObject['kind'][], handleNumber: number): SequenceObject {
  const seq = ctx.core.sequences.get(handle);
  if (!seq || !kinds.includes(seq.kind)) throw TpmError.handle(TPM_RC.MODE, handleNumber);
  return seq;
}

export const HASH_COMMANDS = [
  command({
    code: TPM_CC.Hash, name: 'Hash', handles: [],
    params: struct({ data: TPM2B_MAX_BUFFER, hashAlg: TPMI_ALG_HASH, hierarchy: TPMI_RH_HIERARCHY_NULL }),
    response: HASH_RESULT,
    handler: (ctx, _h, { data, hashAlg, hierarchy }) => {
      const outHash = hash(hashAlg, data);
      // Data shorter than TPM_GENERATED_VALUE cannot imitate a TPM structure: a ticket is safe.
      const safe = data.length < 4 || ticketIsSafe(data);
      return { outHash, validation: hashCheckTicket(ctx.core, hierarchy, hashAlg, outHash, safe) };
    },
  }),
  command({
    code: TPM_CC.HashSequenceStart, name: 'HashSequenceStart', handles: [],
    params: struct({ auth: TPM2B_AUTH, hashAlg: TPMI_ALG_HASH_NULL }),
    response: HANDLE_ONLY,
    responseHandle: (handle) => handle,
    handler: (ctx, _h, { auth, hashAlg }) =>
      ctx.core.sequences.start(hashAlg === TPM_ALG.NULL ? undefined : hashAlg, auth, ctx.client).handle,
  }),
  command({
    code: TPM_CC.HMAC_Start, name: 'HMAC_Start',
    handles: [{ name: 'handle', kind: 'OBJECT', auth: 'USER' }],
    params: struct({ auth: TPM2B_AUTH, hashAlg: TPMI_ALG_HASH_NULL }),
    response: HANDLE_ONLY,
    responseHandle: (handle) => handle,
    handler(ctx, [h], { auth, hashAlg }) {
      const { key, hashAlg: alg } = hmacKey(ctx.core, h!, hashAlg, 2);
      return ctx.core.sequences.startHmac(alg, key.sensitive.sensitive, auth, ctx.client).handle;
    },
  }),
  command({
    code: TPM_CC.SequenceUpdate, name: 'SequenceUpdate',
    handles: [{ name: 'sequenceHandle', kind: 'OBJECT', auth: 'USER' }],
    params: struct({ buffer: TPM2B_MAX_BUFFER }),
    response: NO_RESPONSE,
    handler: (ctx, [handle], { buffer }) => {
      const seq = ctx.core.sequences.get(handle!);
      if (!seq) throw TpmError.handle(TPM_RC.MODE, 1);
      ctx.core.sequences.update(seq, buffer);
    },
  }),
  command({
    code: TPM_CC.SequenceComplete, name: 'SequenceComplete',
    handles: [{ name: 'sequenceHandle', kind: 'OBJECT', auth: 'USER' }],
    params: struct({ buffer: TPM2B_MAX_BUFFER, hierarchy: TPMI_RH_HIERARCHY_NULL }),
    response: SEQUENCE_RESULT,
    flushed: true,
    handler: (ctx, [handle], { buffer, hierarchy }) => {
      const seq = sequenceOf(ctx, handle!, ['hash', 'hmac'], 1);
      const { digests, ticketSafe } = ctx.core.sequences.result(seq, buffer);
      const result = digests[0]!.digest;
      ctx.core.sequences.flush(seq.handle);
      // An HMAC proves nothing about the data's origin: it always gets the NULL ticket.
      const ticketHierarchy = seq.kind === 'hmac' ? TPM_RH.NULL : hierarchy;
      return { result, validation: hashCheckTicket(ctx.core, ticketHierarchy, seq.hashAlg, result, ticketSafe) };
    },
  }),
  command({
    code: TPM_CC.EventSequenceComplete, name: 'EventSequenceComplete',
    handles: [
      { name: 'pcrHandle', kind: 'PCR', allowNull: true, auth: 'USER' },
      { name: 'sequenceHandle', kind: 'OBJECT', auth: 'USER' },
    ],
    params: struct({ buffer: TPM2B_MAX_BUFFER }),
    response: struct({ results: TPML_DIGEST_VALUES }),
    nv: true,
    flushed: true,
    handler: (ctx, [pcr, handle], { buffer }) => {
      const seq = sequenceOf(ctx, handle!, ['event'], 2);
      const extend = pcr! !== TPM_RH.NULL;
      if (extend && !mayExtend(pcr!, ctx.locality)) throw new TpmError(TPM_RC.LOCALITY);
      const results = ctx.core.sequences.result(seq, buffer).digests;
      if (extend) ctx.core.pcrs.extend(pcr!, results, { command: TPM_CC.EventSequenceComplete });
      ctx.core.sequences.flush(seq.handle);
      return { results };
    },
  }),
];
