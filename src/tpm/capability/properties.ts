/**
 * TPM_CAP_TPM_PROPERTIES: every TPM_PT this TPM reports, as a table of property -> value.
 * Fixed properties describe the implementation; variable ones read the state.
 */
import { TPM_ALG } from '../spec/constants.js';
import { TPM_PT, PT_FIXED } from '../spec/tpm-pt.js';
import { LIMITS } from '../spec/limits.js';
import { MAX_DIGEST_SIZE } from '../spec/hash-algs.js';
import type { TpmCore } from '../engine/tpm-core.js';
import { COMMANDS } from '../commands/command-table.js';
import { ECC_CURVES } from './ecc-curves.js';
import { COMMIT_ARRAY_BYTES } from '../state/initial-state.js';
import { PERSISTENT_OBJECTS_MAX } from '../objects/object-table.js';
import { inLockout } from '../auth/dictionary-attack.js';

/** Up to four ASCII characters as a big-endian UINT32, zero-padded (TPM_PT_MANUFACTURER, vendor strings). */
export const ascii4 = (s: string): number =>
  [0, 1, 2, 3].reduce((v, i) => ((v << 8) | (s.charCodeAt(i) || 0)) >>> 0, 0);

/** Our own TCG-style vendor ID (not a registered one: this is no vendor's TPM). */
export const MANUFACTURER = 'MRTP';
/** TPM_PT_VENDOR_STRING_1..4: up to 16 characters, four in each. */
export const VENDOR_STRING = 'mrtpm';
/** The package version (a unit test keeps it equal to package.json): FIRMWARE_VERSION_1 = major.minor, _2 = patch. */
export const FIRMWARE_VERSION = '0.1.0';

/**
 * The spec level reported: Library revision 1.64, level 0, dated as libtpms (whose behaviour this
 * TPM follows, compared against swtpm 0.7.1) dates it. PS_* name the PC Client platform TPM
 * profile (TPM_PS_PC_CLIENT = 1) that the PCR attribute table follows.
 */
const SPEC = { family: '2.0', level: 0, revision: 164, dayOfYear: 75, year: 2021 };
const PLATFORM_SPEC = { family: 1, level: 0, revision: 105, dayOfYear: 0, year: 0 };

/** TPMA_PERMANENT (Part 2 table 38). */
const TPMA_PERMANENT = {
  ownerAuthSet: 1 << 0, endorsementAuthSet: 1 << 1, lockoutAuthSet: 1 << 2, disableClear: 1 << 8, inLockout: 1 << 9,
  tpmGeneratedEPS: 1 << 10,
};
/** TPMA_STARTUP_CLEAR (Part 2 table 39). */
const TPMA_STARTUP_CLEAR = { phEnable: 1 << 0, shEnable: 1 << 1, ehEnable: 1 << 2, phEnableNV: 1 << 3, orderly: 2 ** 31 };
/** TPMA_MEMORY: NV shared by indices and persistent objects; objects are copied to RAM when used. */
const TPMA_MEMORY = { sharedNV: 1 << 1, objectCopiedToRam: 1 << 2 };

const bit = (set: boolean, mask: number): number => (set ? mask : 0);
const [major = 0, minor = 0, patch = 0] = FIRMWARE_VERSION.split('.').map(Number);

/** What a transport may report about this TPM outside TPM commands (swtpm CMD_GET_INFO). */
export const TPM_IDENTITY = {
  specLevel: SPEC.level,
  specRevision: SPEC.revision,
  manufacturer: ascii4(MANUFACTURER),
  firmwareVersion: (major << 16) | minor,
  /** TPM_PT_FIRMWARE_VERSION_2, which TPMS_ATTEST carries with _1. */
  firmwareVersion2: patch,
} as const;
const activeSessions = (core: TpmCore): number => core.sessions.loadedHandles().length + core.sessions.savedHandles().length;

type PropertyValue = (core: TpmCore) => number;
const fixed = (v: number): PropertyValue => () => v >>> 0;

/** In TPM_PT order; a property absent here is not reported. */
export const TPM_PROPERTIES: ReadonlyArray<readonly [number, PropertyValue]> = [
  [TPM_PT.FAMILY_INDICATOR, fixed(ascii4(SPEC.family))],
  [TPM_PT.LEVEL, fixed(SPEC.level)],
  [TPM_PT.REVISION, fixed(SPEC.revision)],
  [TPM_PT.DAY_OF_YEAR, fixed(SPEC.dayOfYear)],
  [TPM_PT.YEAR, fixed(SPEC.year)],
  [TPM_PT.MANUFACTURER, fixed(ascii4(MANUFACTURER))],
  [TPM_PT.VENDOR_STRING_1, fixed(ascii4(VENDOR_STRING.slice(0, 4)))],
  [TPM_PT.VENDOR_STRING_2, fixed(ascii4(VENDOR_STRING.slice(4, 8)))],
  [TPM_PT.VENDOR_STRING_3, fixed(ascii4(VENDOR_STRING.slice(8, 12)))],
  [TPM_PT.VENDOR_STRING_4, fixed(ascii4(VENDOR_STRING.slice(12, 16)))],
  [TPM_PT.VENDOR_TPM_TYPE, fixed(1)],
  [TPM_PT.FIRMWARE_VERSION_1, fixed((major << 16) | minor)],
  [TPM_PT.FIRMWARE_VERSION_2, fixed(patch)],
  [TPM_PT.INPUT_BUFFER, fixed(LIMITS.MAX_DIGEST_BUFFER)],
  [TPM_PT.HR_TRANSIENT_MIN, fixed(LIMITS.MAX_LOADED_OBJECTS)],
  [TPM_PT.HR_PERSISTENT_MIN, fixed(PERSISTENT_OBJECTS_MAX)],
  [TPM_PT.HR_LOADED_MIN, fixed(LIMITS.MAX_LOADED_SESSIONS)],
  [TPM_PT.ACTIVE_SESSIONS_MAX, fixed(LIMITS.MAX_ACTIVE_SESSIONS)],
  [TPM_PT.PCR_COUNT, fixed(LIMITS.PCR_COUNT)],
  [TPM_PT.PCR_SELECT_MIN, fixed(LIMITS.PCR_SELECT_MIN)],
  [TPM_PT.CONTEXT_GAP_MAX, fixed(LIMITS.CONTEXT_GAP_MAX)],
  [TPM_PT.NV_COUNTERS_MAX, fixed(LIMITS.NV_COUNTERS_MAX)],
  [TPM_PT.NV_INDEX_MAX, fixed(LIMITS.NV_INDEX_MAX)],
  [TPM_PT.MEMORY, fixed(TPMA_MEMORY.sharedNV | TPMA_MEMORY.objectCopiedToRam)],
  // The NV copy of the clock is refreshed with every persistent write and at orderly exit.
  [TPM_PT.CLOCK_UPDATE, fixed(0x1000)],
  // Saved contexts are AES-128-CFB encrypted and HMAC-SHA256 protected.
  [TPM_PT.CONTEXT_HASH, fixed(TPM_ALG.SHA256)],
  [TPM_PT.CONTEXT_SYM, fixed(TPM_ALG.AES)],
  [TPM_PT.CONTEXT_SYM_SIZE, fixed(128)],
  [TPM_PT.ORDERLY_COUNT, fixed(0xff)],
  [TPM_PT.MAX_COMMAND_SIZE, fixed(LIMITS.MAX_COMMAND_SIZE)],
  [TPM_PT.MAX_RESPONSE_SIZE, fixed(LIMITS.MAX_RESPONSE_SIZE)],
  [TPM_PT.MAX_DIGEST, fixed(MAX_DIGEST_SIZE)],
  // TPMS_CONTEXT: sequence, savedHandle, hierarchy and a TPM2B_CONTEXT_DATA at its largest.
  [TPM_PT.MAX_OBJECT_CONTEXT, fixed(8 + 4 + 4 + 2 + LIMITS.MAX_CONTEXT_SIZE)],
  [TPM_PT.MAX_SESSION_CONTEXT, fixed(8 + 4 + 4 + 2 + LIMITS.MAX_CONTEXT_SIZE)],
  [TPM_PT.PS_FAMILY_INDICATOR, fixed(PLATFORM_SPEC.family)],
  [TPM_PT.PS_LEVEL, fixed(PLATFORM_SPEC.level)],
  [TPM_PT.PS_REVISION, fixed(PLATFORM_SPEC.revision)],
  [TPM_PT.PS_DAY_OF_YEAR, fixed(PLATFORM_SPEC.dayOfYear)],
  [TPM_PT.PS_YEAR, fixed(PLATFORM_SPEC.year)],
  // The commitments Commit / EC_Ephemeral may have outstanding at once.
  [TPM_PT.SPLIT_MAX, fixed(COMMIT_ARRAY_BYTES * 8)],
  [TPM_PT.TOTAL_COMMANDS, () => COMMANDS.size],
  [TPM_PT.LIBRARY_COMMANDS, () => COMMANDS.size],
  [TPM_PT.VENDOR_COMMANDS, fixed(0)],
  [TPM_PT.NV_BUFFER_MAX, fixed(LIMITS.NV_BUFFER_MAX)],
  [TPM_PT.MODES, fixed(0)],
  [TPM_PT.MAX_CAP_BUFFER, fixed(LIMITS.MAX_CAP_BUFFER)],

  [TPM_PT.PERMANENT, ({ persistent: p }) =>
    bit(p.ownerAuth.length > 0, TPMA_PERMANENT.ownerAuthSet) |
    bit(p.endorsementAuth.length > 0, TPMA_PERMANENT.endorsementAuthSet) |
    bit(p.lockoutAuth.length > 0, TPMA_PERMANENT.lockoutAuthSet) |
    bit(p.disableClear, TPMA_PERMANENT.disableClear) |
    bit(inLockout(p.dictionaryAttack), TPMA_PERMANENT.inLockout) |
    TPMA_PERMANENT.tpmGeneratedEPS],
  [TPM_PT.STARTUP_CLEAR, ({ volatile: v }) =>
    (bit(v.phEnable, TPMA_STARTUP_CLEAR.phEnable) |
      bit(v.shEnable, TPMA_STARTUP_CLEAR.shEnable) |
      bit(v.ehEnable, TPMA_STARTUP_CLEAR.ehEnable) |
      bit(v.phEnableNV !== false, TPMA_STARTUP_CLEAR.phEnableNV) |
      bit(v.orderlyStartup === true, TPMA_STARTUP_CLEAR.orderly)) >>> 0],
  [TPM_PT.HR_NV_INDEX, (core) => core.nv.count],
  [TPM_PT.HR_LOADED, (core) => core.sessions.loadedHandles().length],
  [TPM_PT.HR_LOADED_AVAIL, (core) => LIMITS.MAX_LOADED_SESSIONS - core.sessions.loadedHandles().length],
  [TPM_PT.HR_ACTIVE, activeSessions],
  [TPM_PT.HR_ACTIVE_AVAIL, (core) => LIMITS.MAX_ACTIVE_SESSIONS - activeSessions(core)],
  [TPM_PT.HR_TRANSIENT_AVAIL, (core) => LIMITS.MAX_LOADED_OBJECTS - core.sequences.count - core.objects.count],
  [TPM_PT.HR_PERSISTENT, (core) => core.objects.persistentHandles().length],
  [TPM_PT.HR_PERSISTENT_AVAIL, (core) => PERSISTENT_OBJECTS_MAX - core.objects.persistentHandles().length],
  [TPM_PT.NV_COUNTERS, (core) => core.nv.counters],
  [TPM_PT.NV_COUNTERS_AVAIL, (core) => LIMITS.NV_COUNTERS_MAX - core.nv.counters],
  [TPM_PT.ALGORITHM_SET, fixed(0)],
  [TPM_PT.LOADED_CURVES, fixed(ECC_CURVES.length)],
  [TPM_PT.LOCKOUT_COUNTER, (core) => core.persistent.dictionaryAttack.failedTries],
  [TPM_PT.MAX_AUTH_FAIL, (core) => core.persistent.dictionaryAttack.maxTries],
  [TPM_PT.LOCKOUT_INTERVAL, (core) => core.persistent.dictionaryAttack.recoveryTime],
  [TPM_PT.LOCKOUT_RECOVERY, (core) => core.persistent.dictionaryAttack.lockoutRecovery],
  [TPM_PT.NV_WRITE_RECOVERY, fixed(0)],
  // The command audit counter, high then low 32 bits.
  [TPM_PT.AUDIT_COUNTER_0, (core) => Number(core.persistent.commandAudit.counter >> 32n) >>> 0],
  [TPM_PT.AUDIT_COUNTER_1, (core) => Number(core.persistent.commandAudit.counter & 0xffffffffn) >>> 0],
];

/** The property group (fixed or variable) a request starts in; before PT_FIXED means the fixed group. */
const PT_GROUP = 0x100;
export const propertyGroupEnd = (property: number): number =>
  property < PT_FIXED ? PT_FIXED + PT_GROUP : (Math.floor(property / PT_GROUP) + 1) * PT_GROUP;

/**
 * The properties from `property` to the end of its group, as the reference implementation
 * answers: a request in the fixed group never continues into the variable group.
 */
export function propertiesFrom(core: TpmCore, property: number): { property: number; value: number }[] {
  const start = Math.max(property, PT_FIXED);
  const end = propertyGroupEnd(property);
  const out: { property: number; value: number }[] = [];
  for (const [pt, value] of TPM_PROPERTIES) if (pt >= start && pt < end) out.push({ property: pt, value: value(core) >>> 0 });
  return out;
}
