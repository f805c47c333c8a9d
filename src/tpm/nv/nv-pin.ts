/**
 * PIN Pass and PIN Fail indexes (TPM_NT_PIN_PASS / _FAIL, Part 2 §13.2 TPMS_NV_PIN_COUNTER_PARAMETERS):
 * their contents are pinCount || pinLimit (big-endian UINT32s), and their authValue serves only
 * while they are written and pinCount < pinLimit. PIN_PASS counts the uses of its authValue,
 * PIN_FAIL the failed ones in a row (a success resets it), as the reference's CheckAuthSession.
 */
import { TPM_NT } from '../spec/constants.js';
import type { NvIndex } from './nv-index.js';

const isPinIndex = (index: NvIndex): boolean => index.type === TPM_NT.PIN_PASS || index.type === TPM_NT.PIN_FAIL;

const word = (d: Uint8Array, at: number): number => ((d[at]! << 24) | (d[at + 1]! << 16) | (d[at + 2]! << 8) | d[at + 3]!) >>> 0;

/** For a PIN index: whether its authValue may be used now; undefined for other indexes. */
export function pinAuthValueAvailable(index: NvIndex): boolean | undefined {
  if (!isPinIndex(index)) return undefined;
  return index.written && word(index.data, 0) < word(index.data, 4);
}

/** pinCount after the index's authValue was compared (`succeeded` or not); undefined when it stays. */
export function pinCountAfterUse(index: NvIndex, succeeded: boolean): number | undefined {
  if (!isPinIndex(index) || !index.written) return undefined;
  const count = word(index.data, 0);
  if (index.type === TPM_NT.PIN_FAIL) return succeeded ? 0 : (count + 1) >>> 0;
  return succeeded ? (count + 1) >>> 0 : undefined;
}
