/** Part 3 §11: StartAuthSession and PolicyRestart. */
import { TPM_CC } from '../spec/tpm-cc.js';
import { TPM_ALG, TPM_RH, TPM_SE, TPMA_OBJECT } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { hashInfo } from '../spec/hash-algs.js';
import { struct } from '../marshal/codec.js';
import { TPM2B_NONCE, TPM2B_ENCRYPTED_SECRET, TPM_SE_CODEC, TPMI_ALG_HASH } from '../marshal/types.js';
import { TPMT_SYM_DEF_NULL } from '../marshal/public-parms-types.js';
import { withResponseHandle } from '../marshal/session-types.js';
import { command } from '../engine/command-def.js';
import type { SessionKind } from '../state/tpm-state.js';
import { NO_RESPONSE } from './no-response.js';
import type { TpmCore } from '../engine/tpm-core.js';
import { recoverSecret } from '../objects/secret-exchange.js';

const SESSION_KINDS: Record<number, SessionKind> = {
  [TPM_SE.HMAC]: 'hmac',
  [TPM_SE.POLICY]: 'policy',
  [TPM_SE.TRIAL]: 'trial',
};

/** Smallest nonceCaller StartAuthSession accepts (Part 3 §11.1). */
const MIN_NONCE = 16;

const ASYMMETRIC: ReadonlySet<number> = new Set([TPM_ALG.RSA, TPM_ALG.ECC]);

function unsalted(encryptedSalt: Uint8Array): Uint8Array {
  if (encryptedSalt.length !== 0) throw TpmError.parameter(TPM_RC.VALUE, 2);
  return encryptedSalt;
}

/**
 * The salt of a salted session (Part 1 §19.6.10), in the checks' order of Part 3 §11.1 as the
 * reference has it: tpmKey asymmetric (a sequence object is not), a secret given, tpmKey a decrypt
 * key; any failure to recover the secret is TPM_RC_VALUE for encryptedSalt.
 */
function recoverSalt(core: TpmCore, tpmKey: number, encryptedSalt: Uint8Array): Uint8Array {
  const key = core.objects.get(tpmKey);
  if (!key || !ASYMMETRIC.has(key.publicArea.type)) throw TpmError.handle(TPM_RC.KEY, 1);
  if (encryptedSalt.length === 0) throw TpmError.parameter(TPM_RC.VALUE, 2);
  if (!(key.publicArea.objectAttributes & TPMA_OBJECT.decrypt)) throw TpmError.handle(TPM_RC.ATTRIBUTES, 1);
  try {
    return recoverSecret(key, 'SECRET', encryptedSalt);
  } catch {
    throw TpmError.parameter(TPM_RC.VALUE, 2);
  }
}

export const SESSION_COMMANDS = [
  command({
    code: TPM_CC.StartAuthSession, name: 'StartAuthSession',
    handles: [
      { name: 'tpmKey', kind: 'OBJECT', allowNull: true },
      { name: 'bind', kind: 'ENTITY', allowNull: true },
    ],
    params: struct({
      nonceCaller: TPM2B_NONCE,
      encryptedSalt: TPM2B_ENCRYPTED_SECRET,
      sessionType: TPM_SE_CODEC,
      symmetric: TPMT_SYM_DEF_NULL,
      authHash: TPMI_ALG_HASH,
    }),
    response: withResponseHandle(struct({ nonceTPM: TPM2B_NONCE })),
    responseHandle: (r) => r.handle,
    handler(ctx, [tpmKey, bind], p) {
      if (p.nonceCaller.length < MIN_NONCE || p.nonceCaller.length > hashInfo(p.authHash)!.digestSize) {
        throw TpmError.parameter(TPM_RC.SIZE, 1);
      }
      const salt = tpmKey === TPM_RH.NULL ? unsalted(p.encryptedSalt) : recoverSalt(ctx.core, tpmKey, p.encryptedSalt);
      // Parameter encryption with a block cipher is CFB only (Part 1 §21.3).
      const sym = p.symmetric;
      if (sym.algorithm !== TPM_ALG.NULL && sym.algorithm !== TPM_ALG.XOR && sym.mode !== TPM_ALG.CFB) {
        throw TpmError.parameter(TPM_RC.MODE, 4);
      }
      const s = ctx.core.sessions.start({
        kind: SESSION_KINDS[p.sessionType]!,
        authHash: p.authHash,
        nonceCaller: p.nonceCaller,
        symmetric: sym,
        bind: bind === TPM_RH.NULL ? undefined : bind,
        salt,
        client: ctx.client,
      });
      return { handle: s.handle, params: { nonceTPM: s.nonceTPM } };
    },
  }),
  command({
    code: TPM_CC.PolicyRestart, name: 'PolicyRestart',
    handles: [{ name: 'sessionHandle', kind: 'POLICY_SESSION' }],
    params: struct({}), response: NO_RESPONSE,
    handler(ctx, [h]) {
      ctx.core.sessions.resetPolicy(ctx.core.sessions.get(h!)!);
    },
  }),
];
