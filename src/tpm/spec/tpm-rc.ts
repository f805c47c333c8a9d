/** TPM_RC response codes (TPM 2.0 Part 2, table 16) and the numbering rules of Part 1 §39. */
export const TPM_RC = {
  SUCCESS: 0x000,
  BAD_TAG: 0x01e,
  // format-zero, version 1
  INITIALIZE: 0x100,
  FAILURE: 0x101,
  SEQUENCE: 0x103,
  PRIVATE: 0x10b,
  HMAC: 0x119,
  DISABLED: 0x120,
  EXCLUSIVE: 0x121,
  AUTH_TYPE: 0x124,
  AUTH_MISSING: 0x125,
  POLICY: 0x126,
  PCR: 0x127,
  PCR_CHANGED: 0x128,
  UPGRADE: 0x12d,
  TOO_MANY_CONTEXTS: 0x12e,
  AUTH_UNAVAILABLE: 0x12f,
  REBOOT: 0x130,
  UNBALANCED: 0x131,
  COMMAND_SIZE: 0x142,
  COMMAND_CODE: 0x143,
  AUTHSIZE: 0x144,
  AUTH_CONTEXT: 0x145,
  NV_RANGE: 0x146,
  NV_SIZE: 0x147,
  NV_LOCKED: 0x148,
  NV_AUTHORIZATION: 0x149,
  NV_UNINITIALIZED: 0x14a,
  NV_SPACE: 0x14b,
  NV_DEFINED: 0x14c,
  BAD_CONTEXT: 0x150,
  CPHASH: 0x151,
  PARENT: 0x152,
  NEEDS_TEST: 0x153,
  NO_RESULT: 0x154,
  SENSITIVE: 0x155,
  // format-one
  ASYMMETRIC: 0x081,
  ATTRIBUTES: 0x082,
  HASH: 0x083,
  VALUE: 0x084,
  HIERARCHY: 0x085,
  KEY_SIZE: 0x087,
  MGF: 0x088,
  MODE: 0x089,
  TYPE: 0x08a,
  HANDLE: 0x08b,
  KDF: 0x08c,
  RANGE: 0x08d,
  AUTH_FAIL: 0x08e,
  NONCE: 0x08f,
  PP: 0x090,
  SCHEME: 0x092,
  SIZE: 0x095,
  SYMMETRIC: 0x096,
  TAG: 0x097,
  SELECTOR: 0x098,
  INSUFFICIENT: 0x09a,
  SIGNATURE: 0x09b,
  KEY: 0x09c,
  POLICY_FAIL: 0x09d,
  INTEGRITY: 0x09f,
  TICKET: 0x0a0,
  RESERVED_BITS: 0x0a1,
  BAD_AUTH: 0x0a2,
  EXPIRED: 0x0a3,
  POLICY_CC: 0x0a4,
  BINDING: 0x0a5,
  CURVE: 0x0a6,
  ECC_POINT: 0x0a7,
  // warnings
  CONTEXT_GAP: 0x901,
  OBJECT_MEMORY: 0x902,
  SESSION_MEMORY: 0x903,
  MEMORY: 0x904,
  SESSION_HANDLES: 0x905,
  OBJECT_HANDLES: 0x906,
  LOCALITY: 0x907,
  YIELDED: 0x908,
  CANCELED: 0x909,
  TESTING: 0x90a,
  REFERENCE_H0: 0x910,
  REFERENCE_S0: 0x918,
  NV_RATE: 0x920,
  LOCKOUT: 0x921,
  RETRY: 0x922,
  NV_UNAVAILABLE: 0x923,
} as const;

/** Format-one modifiers (Part 2 table 16): parameter flag, session flag, number field. */
export const RC_FMT1 = 0x080;
export const RC_P = 0x040;
export const RC_S = 0x800;
export const RC_N_SHIFT = 8;

export function isFormatOne(rc: number): boolean {
  return (rc & RC_FMT1) !== 0;
}

/** rc for the n-th (1-based) command parameter, e.g. TPM_RC_VALUE + TPM_RC_P + TPM_RC_1. */
export function rcParameter(rc: number, n: number): number {
  return isFormatOne(rc) && n >= 1 && n <= 15 ? rc | RC_P | (n << RC_N_SHIFT) : rc;
}

/**
 * rc for the n-th (1-based) handle, e.g. TPM_RC_HANDLE + TPM_RC_1; the warning
 * TPM_RC_REFERENCE_H0 counts from 0 (TPM_RC_REFERENCE_H0 + n - 1).
 */
export function rcHandle(rc: number, n: number): number {
  if (rc === TPM_RC.REFERENCE_H0) return rc + n - 1;
  return isFormatOne(rc) && n >= 1 && n <= 7 ? rc | (n << RC_N_SHIFT) : rc;
}

/** rc for the n-th (1-based) session, e.g. TPM_RC_AUTH_FAIL + TPM_RC_S + TPM_RC_1; REFERENCE_S0 as REFERENCE_H0. */
export function rcSession(rc: number, n: number): number {
  if (rc === TPM_RC.REFERENCE_S0) return rc + n - 1;
  return isFormatOne(rc) && n >= 1 && n <= 7 ? rc | RC_S | (n << RC_N_SHIFT) : rc;
}

const RC_NAMES = new Map<number, string>(Object.entries(TPM_RC).map(([k, v]) => [v, `TPM_RC_${k}`]));

/** Human name of a response code, with its handle/parameter/session number. */
export function rcName(rc: number): string {
  if (isFormatOne(rc)) {
    const base = RC_NAMES.get(rc & 0x0bf) ?? `0x${(rc & 0x0bf).toString(16)}`;
    const n = (rc >> RC_N_SHIFT) & 0xf;
    if (rc & RC_P) return `${base} (parameter ${n})`;
    const idx = n & 0x7;
    if (idx === 0) return base;
    return rc & RC_S ? `${base} (session ${idx})` : `${base} (handle ${idx})`;
  }
  return RC_NAMES.get(rc) ?? `0x${rc.toString(16)}`;
}

/** An error that becomes a TPM response code. Handlers throw it; the engine never lets anything else out. */
export class TpmError extends Error {
  constructor(public readonly rc: number, message?: string) {
    super(message ?? rcName(rc));
  }
  /** True if the code is format-one and has no handle/parameter/session number yet. */
  get unnumbered(): boolean {
    if (this.rc === TPM_RC.REFERENCE_H0 || this.rc === TPM_RC.REFERENCE_S0) return true;
    return isFormatOne(this.rc) && (this.rc & 0xf00) === 0 && (this.rc & RC_P) === 0;
  }
  static parameter(rc: number, n: number, message?: string): TpmError {
    return new TpmError(rcParameter(rc, n), message);
  }
  static handle(rc: number, n: number, message?: string): TpmError {
    return new TpmError(rcHandle(rc, n), message);
  }
  static session(rc: number, n: number, message?: string): TpmError {
    return new TpmError(rcSession(rc, n), message);
  }
}

/**
 * What to throw for `e` caught where a value sits at a known place in the command: an unnumbered
 * TpmError gets the handle, parameter or session number `numbered` gives (e.g. `(rc) =>
 * rcParameter(rc, 2)`), so codecs and checks need not know where their value sits. Used in a
 * `catch`, so a hot path pays nothing for the numbering until something fails.
 */
export function renumbered(e: unknown, numbered: (rc: number) => number): unknown {
  return e instanceof TpmError && e.unnumbered ? new TpmError(numbered(e.rc)) : e;
}

/** Runs `f`, numbering what it throws as renumbered() does. */
export function numberedAs<T>(numbered: (rc: number) => number, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw renumbered(e, numbered);
  }
}
