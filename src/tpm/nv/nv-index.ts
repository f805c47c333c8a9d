/** One NV index as the engine uses it: a view of its stored state with the derived values (Name, WRITTEN). */
import { TPMA_NV, TPM_RH, anySet } from '../spec/constants.js';
import type { NvIndexState } from '../state/tpm-state.js';
import { nvName, nvType, type NvPublic } from './nv-public.js';

export class NvIndex {
  constructor(readonly handle: number, readonly state: NvIndexState) {}

  get nameAlg(): number { return this.state.nameAlg; }
  get attributes(): number { return this.state.attributes; }
  get authPolicy(): Uint8Array { return this.state.authPolicy; }
  get authValue(): Uint8Array { return this.state.authValue; }
  get dataSize(): number { return this.state.dataSize; }
  /** The index's contents: `dataSize` octets once written, empty before. */
  get data(): Uint8Array { return this.state.data; }
  get written(): boolean { return this.has(TPMA_NV.WRITTEN); }
  get type(): number { return nvType(this.state.attributes); }
  /** The hierarchy the index belongs to: platform with PLATFORMCREATE, else owner. */
  get hierarchy(): number { return this.has(TPMA_NV.PLATFORMCREATE) ? TPM_RH.PLATFORM : TPM_RH.OWNER; }

  has(bit: number): boolean {
    return anySet(this.state.attributes, bit);
  }
  set(bit: number): void {
    this.state.attributes = (this.state.attributes | bit) >>> 0;
  }
  clear(bit: number): void {
    this.state.attributes = (this.state.attributes & ~bit) >>> 0;
  }

  get public(): NvPublic {
    const s = this.state;
    return { nvIndex: this.handle, nameAlg: s.nameAlg, attributes: s.attributes, authPolicy: s.authPolicy, dataSize: s.dataSize };
  }
  get name(): Uint8Array { return nvName(this.public); }
}
