/**
 * Manufacturing-time NV provisioning, outside any command (EK certificates and the like): a
 * PLATFORMCREATE index holding given data, as if defined with platform authorization and written.
 */
import { TPMA_NV, TPM_ALG } from '../spec/constants.js';
import { LIMITS } from '../spec/limits.js';
import { isHashAlg } from '../spec/hash-algs.js';
import type { NvIndexState, PersistentState } from '../state/tpm-state.js';
import { isNvIndexHandle } from './nv-public.js';
import { fits } from './nv-table.js';

/** Attributes the definition sets itself: the lock and WRITTEN bits are state, not choice. */
const STATE_BITS = TPMA_NV.WRITELOCKED | TPMA_NV.READLOCKED | TPMA_NV.WRITTEN;

/**
 * Defines (or replaces) index `handle` with `attributes` (PLATFORMCREATE and WRITTEN added),
 * dataSize = data.length and an empty authValue and authPolicy. Throws Error on a handle outside
 * the NV index range, an unknown nameAlg, reserved attributes, data over NV_INDEX_MAX or past the NV space budget.
 */
export function definePlatformIndex(
  state: PersistentState, handle: number, attributes: number, data: Uint8Array, nameAlg: number = TPM_ALG.SHA256,
): void {
  if (!isNvIndexHandle(handle)) throw new Error(`not an NV index handle: 0x${handle.toString(16)}`);
  if (!isHashAlg(nameAlg)) throw new Error(`not a hash algorithm: 0x${nameAlg.toString(16)}`);
  if ((attributes & TPMA_NV.reserved) !== 0) throw new Error('reserved TPMA_NV bits set');
  if (data.length > LIMITS.NV_INDEX_MAX) throw new Error(`NV data of ${data.length} octets exceeds ${LIMITS.NV_INDEX_MAX}`);
  const index: NvIndexState = {
    nameAlg,
    attributes: ((attributes & ~STATE_BITS) | TPMA_NV.PLATFORMCREATE | TPMA_NV.WRITTEN) >>> 0,
    authPolicy: new Uint8Array(0),
    authValue: new Uint8Array(0),
    dataSize: data.length,
    data: data.slice(),
  };
  if (!fits(state, index, handle)) throw new Error('NV space exhausted');
  state.nvIndexes.set(handle, index);
}
