/**
 * TPM_EO (Part 2 §6.8): how PolicyNV and PolicyCounterTimer compare operand A (the NV or time
 * octets) with operand B, both big-endian and of operand B's size (the reference's
 * PolicySptCheckCondition).
 */
export const TPM_EO = {
  EQ: 0x0000, NEQ: 0x0001, SIGNED_GT: 0x0002, UNSIGNED_GT: 0x0003, SIGNED_LT: 0x0004, UNSIGNED_LT: 0x0005,
  SIGNED_GE: 0x0006, UNSIGNED_GE: 0x0007, SIGNED_LE: 0x0008, UNSIGNED_LE: 0x0009, BITSET: 0x000a, BITCLEAR: 0x000b,
} as const;

/** -1, 0 or 1: a against b as unsigned integers of the same length. */
function unsignedCompare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return 0;
}

/** As unsignedCompare for two's complement integers: the sign bits decide when they differ. */
function signedCompare(a: Uint8Array, b: Uint8Array): number {
  const negA = b.length > 0 && (a[0]! & 0x80) !== 0;
  const negB = b.length > 0 && (b[0]! & 0x80) !== 0;
  if (negA !== negB) return negA ? -1 : 1;
  return unsignedCompare(a, b);
}

const everyOctet = (a: Uint8Array, b: Uint8Array, ok: (x: number, y: number) => boolean): boolean =>
  b.every((y, i) => ok(a[i]!, y));

const CONDITIONS: Record<number, (a: Uint8Array, b: Uint8Array) => boolean> = {
  [TPM_EO.EQ]: (a, b) => unsignedCompare(a, b) === 0,
  [TPM_EO.NEQ]: (a, b) => unsignedCompare(a, b) !== 0,
  [TPM_EO.SIGNED_GT]: (a, b) => signedCompare(a, b) > 0,
  [TPM_EO.UNSIGNED_GT]: (a, b) => unsignedCompare(a, b) > 0,
  [TPM_EO.SIGNED_LT]: (a, b) => signedCompare(a, b) < 0,
  [TPM_EO.UNSIGNED_LT]: (a, b) => unsignedCompare(a, b) < 0,
  [TPM_EO.SIGNED_GE]: (a, b) => signedCompare(a, b) >= 0,
  [TPM_EO.UNSIGNED_GE]: (a, b) => unsignedCompare(a, b) >= 0,
  [TPM_EO.SIGNED_LE]: (a, b) => signedCompare(a, b) <= 0,
  [TPM_EO.UNSIGNED_LE]: (a, b) => unsignedCompare(a, b) <= 0,
  // All bits set in B are set in A / clear in A.
  [TPM_EO.BITSET]: (a, b) => everyOctet(a, b, (x, y) => (x & y) === y),
  [TPM_EO.BITCLEAR]: (a, b) => everyOctet(a, b, (x, y) => (x & y) === 0),
};

export const isTpmEo = (v: number): boolean => v in CONDITIONS;

/** Whether `a` (at least b.length octets) satisfies `operation` against `b`. */
export function conditionHolds(operation: number, a: Uint8Array, b: Uint8Array): boolean {
  return CONDITIONS[operation]!(a, b);
}
