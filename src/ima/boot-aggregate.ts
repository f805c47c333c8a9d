/**
 * The boot_aggregate entry that opens every IMA list (ima_init.c ima_add_boot_aggregate,
 * ima_crypto.c ima_calc_boot_aggregate): the hash, in one TPM bank, of PCRs 0-7 of that bank,
 * and of PCRs 8-9 too unless the bank is SHA-1.
 */
import { createHash } from 'node:crypto';

export const BOOT_AGGREGATE_PCRS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];

/**
 * The bank the kernel reads: the one of the IMA hash (ima_hash=) if allocated, else SHA-256,
 * else SHA-1; undefined when none is (the kernel then records no aggregate).
 */
export function bootAggregateBank(imaHash: string, banks: readonly string[]): string | undefined {
  return [imaHash, 'sha256', 'sha1'].find((b) => banks.includes(b));
}

export function bootAggregate(bank: string, pcrs: ReadonlyMap<number, Uint8Array>): Uint8Array {
  const h = createHash(bank);
  for (const i of BOOT_AGGREGATE_PCRS) {
    if (bank === 'sha1' && i >= 8) break;
    const value = pcrs.get(i);
    if (!value) throw new RangeError(`boot_aggregate needs PCR ${i}`);
    h.update(value);
  }
  return h.digest();
}
