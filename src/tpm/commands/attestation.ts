/**
 * Part 3 §18, attestation commands: Certify, CertifyCreation, Quote and GetTime. Each checks its
 * signing key and scheme, then signs a TPMS_ATTEST (attestation/attest-info.ts); the check order
 * follows the reference implementation.
 */
import { TPM_CC } from '../spec/tpm-cc.js';
import { TPM_ALG, TPM_ST } from '../spec/constants.js';
import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { struct } from '../marshal/codec.js';
import { TPM2B_DIGEST, TPML_PCR_SELECTION, type PcrSelection } from '../marshal/types.js';
import { TPM2B_DATA, TPMT_TK_CREATION } from '../marshal/object-types.js';
import { TPMT_SIG_SCHEME, TPMT_SIGNATURE } from '../marshal/signature-types.js';
import { command } from '../engine/command-def.js';
import type { TpmCore } from '../engine/tpm-core.js';
import { timingSafeEqual } from '../auth/compare.js';
import { objectAt } from '../objects/object-loading.js';
import { creationTicketDigest } from '../objects/creation-data.js';
import { PRIVACY_ADMIN, SIGN_HANDLE, TPM2B_ATTEST } from './attest-command.js';
import { attestSigner, clockInfo, firmwareVersion, signAttest } from '../attestation/attest-info.js';


/** The selection with the PCRs that are not allocated dropped, as the reference's FilterPcr leaves it for the quote. */
function allocatedOnly(core: TpmCore, selection: readonly PcrSelection[]): PcrSelection[] {
  return selection.map((s) => ({
    hash: s.hash,
    pcrSelect: s.pcrSelect.map((byte, i) => {
      let kept = 0;
      for (let b = 0; b < 8; b++) if (byte & (1 << b) && core.pcrs.isAllocated(s.hash, i * 8 + b)) kept |= 1 << b;
      return kept;
    }),
  }));
}

export const ATTESTATION_COMMANDS = [
  command({
    code: TPM_CC.Certify, name: 'Certify',
    handles: [{ name: 'objectHandle', kind: 'OBJECT', auth: 'ADMIN' }, SIGN_HANDLE],
    params: struct({ qualifyingData: TPM2B_DATA, inScheme: TPMT_SIG_SCHEME }),
    response: struct({ certifyInfo: TPM2B_ATTEST, signature: TPMT_SIGNATURE }),
    handler({ core }, [h, s], { qualifyingData, inScheme }) {
      const signer = attestSigner(core, s!, inScheme, 2, 2);
      const object = objectAt(core, h!, 1);
      const { attest, signature } = signAttest(core, signer, qualifyingData, {
        type: TPM_ST.ATTEST_CERTIFY, attested: { name: object.name, qualifiedName: object.qualifiedName },
      });
      return { certifyInfo: attest, signature };
    },
  }),
  command({
    code: TPM_CC.CertifyCreation, name: 'CertifyCreation',
    handles: [SIGN_HANDLE, { name: 'objectHandle', kind: 'OBJECT' }],
    params: struct({ qualifyingData: TPM2B_DATA, creationHash: TPM2B_DIGEST, inScheme: TPMT_SIG_SCHEME, creationTicket: TPMT_TK_CREATION }),
    response: struct({ certifyInfo: TPM2B_ATTEST, signature: TPMT_SIGNATURE }),
    handler({ core }, [s, h], { qualifyingData, creationHash, inScheme, creationTicket }) {
      const signer = attestSigner(core, s!, inScheme, 1, 3);
      const object = objectAt(core, h!, 2);
      const expected = creationTicketDigest(core, creationTicket.hierarchy, object.name, creationHash);
      if (!timingSafeEqual(expected, creationTicket.digest)) throw TpmError.parameter(TPM_RC.TICKET, 4);
      const { attest, signature } = signAttest(core, signer, qualifyingData, {
        type: TPM_ST.ATTEST_CREATION, attested: { objectName: object.name, creationHash },
      });
      return { certifyInfo: attest, signature };
    },
  }),
  command({
    code: TPM_CC.Quote, name: 'Quote',
    handles: [SIGN_HANDLE],
    params: struct({ qualifyingData: TPM2B_DATA, inScheme: TPMT_SIG_SCHEME, PCRselect: TPML_PCR_SELECTION }),
    response: struct({ quoted: TPM2B_ATTEST, signature: TPMT_SIGNATURE }),
    handler({ core }, [s], { qualifyingData, inScheme, PCRselect }) {
      const signer = attestSigner(core, s!, inScheme, 1, 2);
      // The PCR digest uses the signing scheme's hash; with TPM_RH_NULL there is none to use.
      const hashAlg = signer.scheme?.hashAlg ?? TPM_ALG.NULL;
      if (hashAlg === TPM_ALG.NULL) throw TpmError.parameter(TPM_RC.SCHEME, 2);
      const pcrSelect = allocatedOnly(core, PCRselect);
      const { attest, signature } = signAttest(core, signer, qualifyingData, {
        type: TPM_ST.ATTEST_QUOTE, attested: { pcrSelect, pcrDigest: core.pcrs.compositeDigest(hashAlg, pcrSelect) },
      });
      return { quoted: attest, signature };
    },
  }),
  command({
    code: TPM_CC.GetTime, name: 'GetTime',
    handles: [PRIVACY_ADMIN, SIGN_HANDLE],
    params: struct({ qualifyingData: TPM2B_DATA, inScheme: TPMT_SIG_SCHEME }),
    response: struct({ timeInfo: TPM2B_ATTEST, signature: TPMT_SIGNATURE }),
    handler({ core }, [, s], { qualifyingData, inScheme }) {
      const signer = attestSigner(core, s!, inScheme, 2, 2);
      // The attested time is in the clear; only the header's copy is obfuscated (as the reference does).
      const { attest, signature } = signAttest(core, signer, qualifyingData, {
        type: TPM_ST.ATTEST_TIME,
        attested: { time: { time: core.volatile.time, clockInfo: clockInfo(core) }, firmwareVersion: firmwareVersion() },
      });
      return { timeInfo: attest, signature };
    },
  }),
];
