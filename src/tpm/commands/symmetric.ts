/** Part 3 §15, symmetric primitives: EncryptDecrypt, EncryptDecrypt2 and HMAC. */
import { TPM_CC } from '../spec/tpm-cc.js';
import { TPM_ALG, TPMA_OBJECT } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { struct, type Codec, type StructCodec } from '../marshal/codec.js';
import { TPM2B_DIGEST, TPM2B_MAX_BUFFER, TPMI_ALG_HASH_NULL, TPMI_YES_NO } from '../marshal/types.js';
import { TPM2B_IV } from '../marshal/object-types.js';
import { TPMI_ALG_SYM_MODE_NULL } from '../marshal/public-parms-types.js';
import { command, type CommandContext } from '../engine/command-def.js';
import { hmac } from '../crypto/hash.js';
import { symmetricBlockSize, symmetricDecrypt, symmetricEncrypt } from '../crypto/symmetric.js';
import { chainingValue } from '../crypto/chaining-value.js';
import { hmacKey } from '../objects/hmac-key.js';

interface CipherRequest {
  decrypt: number;
  mode: number;
  ivIn: Uint8Array;
  inData: Uint8Array;
}

/** Where each parameter sits in the command, for the error numbers. */
type ParameterNumbers = Record<'mode' | 'ivIn' | 'inData', number>;

const ENCRYPT_DECRYPT_RESULT = struct({ outData: TPM2B_MAX_BUFFER, ivOut: TPM2B_IV });

/** The reference's EncryptDecryptShared: checks in its order, then the cipher and the chaining value. */
function encryptDecrypt(ctx: CommandContext, handle: number, req: CipherRequest, at: ParameterNumbers): { outData: Uint8Array; ivOut: Uint8Array } {
  const { core } = ctx;
  if (core.sequences.has(handle)) throw TpmError.handle(TPM_RC.KEY, 1);
  const key = core.object(handle);
  const pub = key.publicArea;
  if (pub.type !== TPM_ALG.SYMCIPHER) throw TpmError.handle(TPM_RC.KEY, 1);
  // Encryption is the "sign" use of a symmetric key, decryption its "decrypt" use.
  const use = req.decrypt ? TPMA_OBJECT.decrypt : TPMA_OBJECT.sign;
  if (pub.objectAttributes & TPMA_OBJECT.restricted || !(pub.objectAttributes & use)) throw TpmError.handle(TPM_RC.ATTRIBUTES, 1);
  const keyMode = pub.parameters.sym.mode;
  if (keyMode !== TPM_ALG.NULL && req.mode !== TPM_ALG.NULL && req.mode !== keyMode) throw TpmError.parameter(TPM_RC.MODE, at.mode);
  const mode = keyMode === TPM_ALG.NULL ? req.mode : keyMode;
  if (mode === TPM_ALG.NULL) throw TpmError.parameter(TPM_RC.MODE, at.mode);
  const def = { ...pub.parameters.sym, mode };
  const block = symmetricBlockSize(def);
  if (mode !== TPM_ALG.ECB && req.ivIn.length !== block) throw TpmError.parameter(TPM_RC.SIZE, at.ivIn);
  if ((mode === TPM_ALG.CBC || mode === TPM_ALG.ECB) && req.inData.length % block !== 0) throw TpmError.parameter(TPM_RC.SIZE, at.inData);
  const secret = key.sensitive.sensitive;
  const outData = (req.decrypt ? symmetricDecrypt : symmetricEncrypt)(def, secret, req.ivIn, req.inData);
  return { outData, ivOut: chainingValue(def, secret, req.ivIn, req.decrypt ? req.inData : outData) };
}

const KEY_HANDLE = [{ name: 'keyHandle', kind: 'OBJECT', auth: 'USER' }] as const;

/** EncryptDecrypt and EncryptDecrypt2 differ only in the order of their parameters. */
const encryptDecryptCommand = (code: number, name: string, params: StructCodec<{ [K in keyof CipherRequest]: Codec<CipherRequest[K]> }>, at: ParameterNumbers) =>
  command({ code, name, handles: KEY_HANDLE, params, response: ENCRYPT_DECRYPT_RESULT, handler: (ctx, [h], p) => encryptDecrypt(ctx, h!, p, at) });

export const SYMMETRIC_COMMANDS = [
  encryptDecryptCommand(TPM_CC.EncryptDecrypt, 'EncryptDecrypt',
    struct({ decrypt: TPMI_YES_NO, mode: TPMI_ALG_SYM_MODE_NULL, ivIn: TPM2B_IV, inData: TPM2B_MAX_BUFFER }), { mode: 2, ivIn: 3, inData: 4 }),
  encryptDecryptCommand(TPM_CC.EncryptDecrypt2, 'EncryptDecrypt2',
    struct({ inData: TPM2B_MAX_BUFFER, decrypt: TPMI_YES_NO, mode: TPMI_ALG_SYM_MODE_NULL, ivIn: TPM2B_IV }), { inData: 1, mode: 3, ivIn: 4 }),
  command({
    code: TPM_CC.HMAC, name: 'HMAC',
    handles: [{ name: 'handle', kind: 'OBJECT', auth: 'USER' }],
    params: struct({ buffer: TPM2B_MAX_BUFFER, hashAlg: TPMI_ALG_HASH_NULL }),
    response: struct({ outHMAC: TPM2B_DIGEST }),
    handler(ctx, [h], { buffer, hashAlg }) {
      const { key, hashAlg: alg } = hmacKey(ctx.core, h!, hashAlg, 2);
      return { outHMAC: hmac(alg, key.sensitive.sensitive, buffer) };
    },
  }),
];
