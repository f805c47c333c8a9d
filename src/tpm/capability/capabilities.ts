/**
 * TPM2_GetCapability's answer for each capability: a list source per TPM_CAP and the paging the
 * reference implementation does (start at `property`, at most propertyCount and the list limit,
 * moreData = YES iff an entry was left out).
 */
import { TPM_ALG, TPM_CAP, TPM_HT, TPM_RH, handleType } from '../spec/constants.js';
import { TPM_RC, TpmError, numberedAs, rcParameter } from '../spec/tpm-rc.js';
import { HASH_ALGS } from '../spec/hash-algs.js';
import type { CommandContext } from '../engine/command-def.js';
import type { TaggedHash } from '../marshal/types.js';
import {
  CAPABILITY_LISTS, type Capability, type CapabilityData, type CapabilityItems,
} from '../marshal/capability-types.js';
import { indicesToSelection } from '../pcr/pcr-select.js';
import { ALGORITHMS } from './algorithms.js';
import { ECC_CURVES } from './ecc-curves.js';
import { handlesFrom } from './handles.js';
import { commandsFrom } from './command-attributes.js';
import { propertiesFrom } from './properties.js';
import { pcrPropertiesFrom } from './pcr-properties.js';

interface Page<T> {
  moreData: boolean;
  data: T[];
}

interface CapabilitySource<T> {
  /** The entries from `property` on; an invalid property throws an unnumbered TpmError. */
  from(ctx: CommandContext, property: number): T[];
  /** A capability that does not page the usual way. */
  page?(entries: T[], count: number): Page<T>;
}

/** Hierarchies that have an authPolicy (TPM_CAP_AUTH_POLICIES). */
const POLICY_HIERARCHIES = [TPM_RH.OWNER, TPM_RH.LOCKOUT, TPM_RH.ENDORSEMENT, TPM_RH.PLATFORM];
const ACT_FIRST = 0x40000110;
const ACT_LAST = 0x4000011f;

/** An authPolicy as TPMT_HA+: TPM_ALG_NULL when none is set, else the hash its size identifies. */
function policyHash(digest: Uint8Array): TaggedHash {
  const alg = HASH_ALGS.find((h) => h.digestSize === digest.length);
  return digest.length === 0 || !alg ? { hashAlg: TPM_ALG.NULL, digest: new Uint8Array(0) } : { hashAlg: alg.alg, digest };
}

const SOURCES: { [C in Capability]: CapabilitySource<CapabilityItems[C]> } = {
  [TPM_CAP.ALGS]: { from: (_ctx, p) => ALGORITHMS.filter((a) => a.alg >= p).map((a) => ({ ...a })) },
  [TPM_CAP.HANDLES]: { from: handlesFrom },
  [TPM_CAP.COMMANDS]: { from: (_ctx, p) => commandsFrom(p) },
  // No TPM2_PP_Commands: the list is empty.
  [TPM_CAP.PP_COMMANDS]: { from: () => [] },
  [TPM_CAP.AUDIT_COMMANDS]: { from: ({ core }, p) => core.persistent.commandAudit.commands.filter((c) => c >= p) },
  [TPM_CAP.PCRS]: {
    from({ core }, p) {
      if (p !== 0) throw new TpmError(TPM_RC.VALUE);
      return core.pcrs.allocation.map((b) => ({ hash: b.hash, pcrSelect: indicesToSelection(b.pcrs) }));
    },
    // The whole allocation whatever the count, except that a count of 0 returns nothing (as the reference).
    page: (entries, count) => (count === 0 ? { moreData: true, data: [] } : { moreData: false, data: entries }),
  },
  [TPM_CAP.TPM_PROPERTIES]: { from: ({ core }, p) => propertiesFrom(core, p) },
  [TPM_CAP.PCR_PROPERTIES]: { from: (_ctx, p) => pcrPropertiesFrom(p) },
  [TPM_CAP.ECC_CURVES]: { from: (_ctx, p) => ECC_CURVES.map((c) => c.curveID).filter((c) => c >= p) },
  [TPM_CAP.AUTH_POLICIES]: {
    from({ core }, p) {
      if (handleType(p) !== TPM_HT.PERMANENT) throw new TpmError(TPM_RC.VALUE);
      return POLICY_HIERARCHIES.filter((h) => h >= p).map((h) => ({ handle: h, policyHash: policyHash(core.authPolicy(h)) }));
    },
  },
  [TPM_CAP.ACT]: {
    // This TPM has no authenticated countdown timers; the range is still checked.
    from(_ctx, p) {
      if (p < ACT_FIRST || p > ACT_LAST) throw new TpmError(TPM_RC.VALUE);
      return [];
    },
  },
};

/** One page of a capability; an invalid property is numbered as GetCapability's parameter 2. */
export function getCapability<C extends Capability>(ctx: CommandContext, capability: C, property: number, count: number): {
  moreData: boolean;
  capabilityData: CapabilityData;
} {
  const source = SOURCES[capability] as CapabilitySource<CapabilityItems[C]>;
  const entries = numberedAs((rc) => rcParameter(rc, 2), () => source.from(ctx, property));
  const max = Math.min(count, CAPABILITY_LISTS[capability].max);
  const page = source.page ? source.page(entries, count) : { moreData: entries.length > max, data: entries.length > max ? entries.slice(0, max) : entries };
  return { moreData: page.moreData, capabilityData: { capability, data: page.data } as CapabilityData };
}
