/**
 * The steps Create, CreatePrimary, CreateLoaded and Load share: checking a parent, making an
 * object from a template, and numbering errors by the parameter they concern.
 */
import { TPM_RC, TpmError, numberedAs, rcHandle, rcParameter } from '../spec/tpm-rc.js';
import type { TpmCore } from '../engine/tpm-core.js';
import type { TpmObject } from './tpm-object.js';
import { isStorageParent } from './object-templates.js';

/** Runs f, numbering its unnumbered errors as parameter n. */
export const asParameter = <T>(n: number, f: () => T): T => numberedAs((rc) => rcParameter(rc, n), f);
/** Runs f, numbering its unnumbered errors as handle n. */
export const asHandle = <T>(n: number, f: () => T): T => numberedAs((rc) => rcHandle(rc, n), f);

/** The loaded object at `handle` (handle n of the command); a sequence object is TPM_RC_TYPE. */
export function objectAt(core: TpmCore, handle: number, n: number): TpmObject {
  if (core.sequences.has(handle)) throw TpmError.handle(TPM_RC.TYPE, n);
  return asHandle(n, () => core.object(handle));
}

/**
 * The loaded storage key at `handle` (handle 1 of the command): a sequence object or a key that is
 * no storage parent is TPM_RC_TYPE.
 */
export function storageParent(core: TpmCore, handle: number): TpmObject {
  const parent = objectAt(core, handle, 1);
  if (!isStorageParent(parent.publicArea)) throw TpmError.handle(TPM_RC.TYPE, 1);
  return parent;
}
