/**
 * Part 3 §20, signing and signature verification: VerifySignature and Sign. The order of the
 * checks, and so which error wins, follows the reference implementation.
 */
import { TPM_CC } from '../spec/tpm-cc.js';
import { TPM_RH, TPMA_OBJECT, anySet } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { hashInfo } from '../spec/hash-algs.js';
import { struct } from '../marshal/codec.js';
import { TPM2B_DIGEST, TPMT_TK_HASHCHECK } from '../marshal/types.js';
import { TPMT_SIG_SCHEME, TPMT_SIGNATURE, TPMT_TK_VERIFIED } from '../marshal/signature-types.js';
import { command } from '../engine/command-def.js';
import { timingSafeEqual } from '../auth/compare.js';
import { hashCheckTicket } from '../objects/hash-check-ticket.js';
import { verifiedTicket } from '../objects/verified-ticket.js';
import { selectSignScheme, sign, verifySignature } from '../objects/signatures.js';
import { asParameter } from '../objects/object-loading.js';


export const SIGNING_COMMANDS = [
  command({
    code: TPM_CC.VerifySignature, name: 'VerifySignature',
    handles: [{ name: 'keyHandle', kind: 'OBJECT' }],
    params: struct({ digest: TPM2B_DIGEST, signature: TPMT_SIGNATURE }),
    response: struct({ validation: TPMT_TK_VERIFIED }),
    handler(ctx, [h], { digest, signature }) {
      const key = ctx.core.object(h!);
      if (!anySet(key.publicArea.objectAttributes, TPMA_OBJECT.sign)) throw TpmError.handle(TPM_RC.ATTRIBUTES, 1);
      asParameter(2, () => verifySignature(key, digest, signature));
      return { validation: verifiedTicket(ctx.core, key, digest) };
    },
  }),
  command({
    code: TPM_CC.Sign, name: 'Sign',
    handles: [{ name: 'keyHandle', kind: 'OBJECT', auth: 'USER' }],
    params: struct({ digest: TPM2B_DIGEST, inScheme: TPMT_SIG_SCHEME, validation: TPMT_TK_HASHCHECK }),
    response: struct({ signature: TPMT_SIGNATURE }),
    handler(ctx, [h], { digest, inScheme, validation }) {
      const { core } = ctx;
      const key = core.object(h!);
      const attributes = key.publicArea.objectAttributes;
      if (!anySet(attributes, TPMA_OBJECT.sign)) throw TpmError.handle(TPM_RC.KEY, 1);
      // An x509sign key signs only TBSCertificates (CertifyX509).
      if (anySet(attributes, TPMA_OBJECT.x509sign)) throw TpmError.handle(TPM_RC.ATTRIBUTES, 1);
      const scheme = asParameter(2, () => selectSignScheme(key, inScheme));
      if (validation.digest.length !== 0 || anySet(attributes, TPMA_OBJECT.restricted)) {
        // A restricted key signs only digests this TPM made, and the NULL ticket proves nothing.
        if (validation.hierarchy === TPM_RH.NULL
          || !timingSafeEqual(hashCheckTicket(core, validation.hierarchy, scheme.hashAlg, digest, true).digest, validation.digest)) {
          throw TpmError.parameter(TPM_RC.TICKET, 3);
        }
      } else if (digest.length !== hashInfo(scheme.hashAlg)!.digestSize) {
        throw TpmError.parameter(TPM_RC.SIZE, 1);
      }
      // As CryptSign's: unnumbered (an ECDAA count not outstanding is TPM_RC_VALUE).
      return { signature: sign(key, scheme, digest, core) };
    },
  }),
];
