/**
 * Replays an IMA measurement list into the PCR values it should have produced, per bank, as the
 * kernel extends them (ima_queue.c ima_pcr_extend, ima_api.c): each entry extends its PCR in every
 * bank with that bank's hash of the template data; a violation (listed template hash all zero)
 * extends every bank with all-ones instead.
 */
import { digestOf, digestSizeOf, extendValue } from './digest.js';
import { hashedTemplateBytes } from './ima-template.js';
import type { ImaEntry } from './ima-list.js';

export interface ImaReplay {
  /** bank name -> PCR index -> value, for the PCRs the list extends; banks it cannot replay are absent. */
  banks: Map<string, Map<number, Uint8Array>>;
  entries: number;
  violations: number;
  /** Entries whose template data does not hash to the template hash the list shows (evmctl: "Failed to verify template data digest"). */
  badTemplateHashes: number[];
  /** Banks left out, with why: an ascii entry of an unknown template gives only its listed hash. */
  skippedBanks: Map<string, string>;
}

/**
 * @param banks the PCR banks to replay (sha1, sha256, sha384, sha512)
 * @param listHash the hash of the list's template-hash column: sha1 for the kernel's legacy files
 */
export function replayImaList(entries: readonly ImaEntry[], banks: readonly string[], listHash = 'sha1'): ImaReplay {
  const values = new Map(banks.map((b) => [b, new Map<number, Uint8Array>()]));
  const sizes = new Map(banks.map((b) => [b, digestSizeOf(b)]));
  const skippedBanks = new Map<string, string>();
  const badTemplateHashes: number[] = [];
  let violations = 0;
  const zeroHash = new Uint8Array(digestSizeOf(listHash));
  entries.forEach((e, index) => {
    const violation = equal(e.templateHash, zeroHash);
    if (violation) violations++;
    const hashed = e.templateData && hashedTemplateBytes(e.templateName, e.templateData);
    // The list's own hash of the data is checked against the column, then serves its bank too.
    const listed = hashed && !violation ? digestOf(listHash, hashed) : undefined;
    if (listed && !equal(listed, e.templateHash)) badTemplateHashes.push(index);
    for (const [bank, pcrs] of values) {
      const size = sizes.get(bank)!;
      let digest: Uint8Array;
      if (violation) digest = new Uint8Array(size).fill(0xff);
      else if (hashed) digest = bank === listHash ? listed! : digestOf(bank, hashed);
      else if (bank === listHash) digest = e.templateHash;
      else {
        skippedBanks.set(bank, `entry ${index} (template ${e.templateName}) shows only its ${listHash} template hash`);
        values.delete(bank);
        continue;
      }
      pcrs.set(e.pcr, extendValue(bank, pcrs.get(e.pcr) ?? new Uint8Array(size), digest));
    }
  });
  return { banks: values, entries: entries.length, violations, badTemplateHashes, skippedBanks };
}

/**
 * The banks (but sha1) as a kernel whose crypto lacks their hash extends them: with the SHA-1
 * template hash zero-padded to the bank's size (ima_crypto.c ima_calc_field_array_hash; Debian's
 * kernel builds sha384/sha512 as a module, absent from a bare initramfs). evmctl accepts either.
 * Kept apart from replayImaList: only a bank that does not match needs it.
 */
export function replayPaddedSha1(entries: readonly ImaEntry[], banks: readonly string[], listHash = 'sha1'): Map<string, Map<number, Uint8Array>> {
  const values = new Map(banks.filter((b) => b !== 'sha1').map((b) => [b, new Map<number, Uint8Array>()]));
  const zeroHash = new Uint8Array(digestSizeOf(listHash));
  for (const e of entries) {
    const violation = equal(e.templateHash, zeroHash);
    const sha1 = violation ? undefined : listHash === 'sha1' ? e.templateHash : e.templateData && digestOf('sha1', hashedTemplateBytes(e.templateName, e.templateData));
    if (!violation && !sha1) return new Map();
    for (const [bank, pcrs] of values) {
      const digest = new Uint8Array(digestSizeOf(bank));
      if (sha1) digest.set(sha1);
      else digest.fill(0xff);
      pcrs.set(e.pcr, extendValue(bank, pcrs.get(e.pcr) ?? new Uint8Array(digest.length), digest));
    }
  }
  return values;
}

/** Byte equality without a callback per byte: it runs twice per entry of lists of 100,000. */
function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
