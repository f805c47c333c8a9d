/** Codecs for the session and context commands (Part 3 §11, §23, §28) beyond the shared Part 2 types. */
import { TPM_RH } from '../spec/constants.js';
import type { Codec, ParameterList } from './codec.js';

/**
 * The result of a command with a response handle (TPMA_CC.rHandle): the dispatcher writes `handle`
 * into the handle area and this codec writes `params` as the parameter area. Reading gives the
 * parameters only; the handle is read with the response header, so it comes back UNASSIGNED.
 */
export interface WithHandle<P> {
  handle: number;
  params: P;
}

export function withResponseHandle<P>(params: Codec<P> & Partial<ParameterList>): Codec<WithHandle<P>> & ParameterList {
  return {
    // The parameter area is `params`'s: parameter encryption looks at its first parameter.
    entries: params.entries ?? [],
    read: (r) => ({ handle: TPM_RH.UNASSIGNED, params: params.read(r) }),
    write: (w, v) => params.write(w, v.params),
  };
}
