/**
 * Part 3 §21.2 SetCommandCodeAuditStatus and §18.5-18.6 GetSessionAuditDigest /
 * GetCommandAuditDigest: the audit lists and the signed audit digests (audit/*.ts keeps the
 * digests). Check order and error codes follow the reference implementation.
 */
import { TPM_CC } from '../spec/tpm-cc.js';
import { TPM_ALG, TPM_ST, TPM_YES, TPM_NO, TPM_RH } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { struct } from '../marshal/codec.js';
import { TPMI_ALG_HASH_NULL } from '../marshal/types.js';
import { TPM2B_DATA } from '../marshal/object-types.js';
import { TPML_CC } from '../marshal/capability-types.js';
import { TPMT_SIG_SCHEME, TPMT_SIGNATURE } from '../marshal/signature-types.js';
import { command } from '../engine/command-def.js';
import { attestSigner, signAttest } from '../attestation/attest-info.js';
import { auditedCommandsDigest, clearAudited, setAudited } from '../audit/command-audit.js';
import { NO_RESPONSE } from './no-response.js';
import { PRIVACY_ADMIN, SIGN_HANDLE, TPM2B_ATTEST } from './attest-command.js';
import { COMMANDS } from './command-table.js';

const AUDIT_RESPONSE = struct({ auditInfo: TPM2B_ATTEST, signature: TPMT_SIGNATURE });

export const AUDIT_COMMANDS = [
  command({
    code: TPM_CC.SetCommandCodeAuditStatus, name: 'SetCommandCodeAuditStatus', nv: true,
    handles: [{ name: 'auth', kind: 'PROVISION', auth: 'USER' }],
    params: struct({ auditAlg: TPMI_ALG_HASH_NULL, setList: TPML_CC, clearList: TPML_CC }),
    response: NO_RESPONSE,
    handler({ core }, _h, { auditAlg, setList, clearList }) {
      const state = core.persistent.commandAudit;
      if (auditAlg !== TPM_ALG.NULL && auditAlg !== state.hashAlg) {
        // The algorithm and the list cannot change together.
        if (setList.length !== 0 || clearList.length !== 0) throw TpmError.parameter(TPM_RC.VALUE, 1);
        state.hashAlg = auditAlg;
        state.digest = new Uint8Array(0);
      } else {
        // Only implemented commands can be audited (the capability lists nothing else).
        for (const cc of setList) if (COMMANDS.has(cc)) setAudited(state, cc);
        for (const cc of clearList) clearAudited(state, cc);
      }
      core.touchPersistent();
    },
  }),
  command({
    code: TPM_CC.GetCommandAuditDigest, name: 'GetCommandAuditDigest', nv: true,
    handles: [{ ...PRIVACY_ADMIN, name: 'privacyHandle' }, SIGN_HANDLE],
    params: struct({ qualifyingData: TPM2B_DATA, inScheme: TPMT_SIG_SCHEME }),
    response: AUDIT_RESPONSE,
    handler({ core }, [, s], { qualifyingData, inScheme }) {
      const signer = attestSigner(core, s!, inScheme, 2, 2);
      const state = core.persistent.commandAudit;
      const { attest, signature } = signAttest(core, signer, qualifyingData, {
        type: TPM_ST.ATTEST_COMMAND_AUDIT,
        attested: { auditCounter: state.counter, digestAlg: state.hashAlg, auditDigest: state.digest, commandDigest: auditedCommandsDigest(state) },
      });
      // A signed digest starts a new one (the next audited command bumps the counter); an unsigned one does not.
      if (s !== TPM_RH.NULL) {
        state.digest = new Uint8Array(0);
        core.touchPersistent();
      }
      return { auditInfo: attest, signature };
    },
  }),
  command({
    code: TPM_CC.GetSessionAuditDigest, name: 'GetSessionAuditDigest',
    handles: [PRIVACY_ADMIN, SIGN_HANDLE, { name: 'sessionHandle', kind: 'HMAC_SESSION' }],
    params: struct({ qualifyingData: TPM2B_DATA, inScheme: TPMT_SIG_SCHEME }),
    response: AUDIT_RESPONSE,
    handler({ core }, [, s, h], { qualifyingData, inScheme }) {
      const signer = attestSigner(core, s!, inScheme, 2, 2);
      const session = core.sessions.get(h!)!;
      if (session.auditDigest === undefined) throw TpmError.handle(TPM_RC.TYPE, 3);
      const { attest, signature } = signAttest(core, signer, qualifyingData, {
        type: TPM_ST.ATTEST_SESSION_AUDIT,
        attested: { exclusiveSession: core.volatile.exclusiveAuditSession === h ? TPM_YES : TPM_NO, sessionDigest: session.auditDigest },
      });
      return { auditInfo: attest, signature };
    },
  }),
];
