/**
 * _TPM_Hash_Start / _TPM_Hash_Data / _TPM_Hash_End (Part 1 §34.3 H-CRTM, §34.4 DRTM): the
 * platform hashes code into PCR 0 before Startup (H-CRTM), or into PCR 17 afterwards (DRTM,
 * which first resets PCRs 17-22 to zero).
 */
import { hash, createHasher, type Hasher } from '../crypto/hash.js';
import type { TpmCore } from '../engine/tpm-core.js';
import type { PcrVolatileState } from './pcr-banks.js';
import { PCR_ATTRIBUTES } from './pcr-attributes.js';

const H_CRTM_PCR = 0;
const DRTM_PCR = 17;
const H_CRTM_LOCALITY = 4;
/** ExtendCause.command of the DRTM sequence, which has no command code. */
export const DRTM_SEQUENCE = 0;

export class CrtmSequence {
  private readonly hashers: { alg: number; hasher: Hasher }[];

  constructor(algs: number[]) {
    this.hashers = algs.map((alg) => ({ alg, hasher: createHasher(alg) }));
  }

  update(data: Uint8Array): void {
    for (const h of this.hashers) h.hasher.update(data);
  }

  /** Applies the measurement: DRTM if the TPM is started, else H-CRTM, recorded for Startup. */
  end(core: TpmCore): void {
    const digests = new Map(this.hashers.map((h) => [h.alg, h.hasher.digest()]));
    const v = core.volatile;
    if (!v.started) {
      v.hcrtm = digests;
      return;
    }
    // Through PcrBanks, so the counter moves and observers (the MR mirror) see the change.
    PCR_ATTRIBUTES.forEach((attr, i) => { if (attr.drtmReset) core.pcrs.reset(i); });
    core.pcrs.extend(DRTM_PCR, [...digests].map(([hashAlg, digest]) => ({ hashAlg, digest })), { command: DRTM_SEQUENCE });
  }
}

/** At Startup after an H-CRTM sequence: PCR 0 = H(0...0 || 4 || digest) in every bank. */
export function applyHcrtm(v: PcrVolatileState): void {
  if (!v.hcrtm) return;
  for (const [alg, bank] of v.pcrs) {
    const d = v.hcrtm.get(alg);
    if (!d) continue;
    const init = new Uint8Array(bank[H_CRTM_PCR]!.length);
    init[init.length - 1] = H_CRTM_LOCALITY;
    bank[H_CRTM_PCR] = hash(alg, init, d);
  }
  delete v.hcrtm;
}
