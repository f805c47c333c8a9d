import { TPM_RC, TpmError } from '../spec/tpm-rc.js';
import { Reader } from './reader.js';
import { Writer } from './writer.js';

/** A TPM 2.0 Part 2 type: how to read it from a command and write it into a response. */
export interface Codec<T> {
  read(r: Reader): T;
  write(w: Writer, v: T): void;
  /** A TPM2B_* (u16 size, then that many octets): the kind of parameter that parameter encryption covers. */
  readonly isTpm2b?: true;
}
export type Infer<C> = C extends Codec<infer T> ? T : never;

export const UINT8: Codec<number> = { read: (r) => r.u8(), write: (w, v) => void w.u8(v) };
export const UINT16: Codec<number> = { read: (r) => r.u16(), write: (w, v) => void w.u16(v) };
export const UINT32: Codec<number> = { read: (r) => r.u32(), write: (w, v) => void w.u32(v) };
export const UINT64: Codec<bigint> = { read: (r) => r.u64(), write: (w, v) => void w.u64(v) };
export const INT8: Codec<number> = { read: (r) => (r.u8() << 24) >> 24, write: (w, v) => void w.u8(v & 0xff) };
export const INT32: Codec<number> = { read: (r) => r.u32() | 0, write: (w, v) => void w.u32(v >>> 0) };

/** A fixed-width value restricted to a set (TPMI_* types); anything else is `rc`. */
export function restricted<T extends number>(base: Codec<number>, allowed: (v: number) => boolean, rc: number): Codec<T> {
  return {
    read(r) {
      const v = base.read(r);
      if (!allowed(v)) throw new TpmError(rc);
      return v as T;
    },
    write: (w, v) => base.write(w, v),
  };
}

/** TPM2B_*: u16 size then bytes; a size over `max` is TPM_RC_SIZE. */
export function sized(max: number): Codec<Uint8Array> {
  return {
    isTpm2b: true,
    read(r) {
      const n = r.u16();
      if (n > max) throw new TpmError(TPM2B_SIZE_RC);
      return r.bytes(n);
    },
    write(w, v) {
      w.u16(v.length).bytes(v);
    },
  };
}
const TPM2B_SIZE_RC = TPM_RC.SIZE;

export type Fields = Record<string, Codec<unknown>>;
export type StructOf<F extends Fields> = { [K in keyof F]: Infer<F[K]> };

/** A codec of a parameter area: its parameters in declaration order (what the dispatcher numbers parameters by). */
export interface ParameterList {
  readonly entries: readonly (readonly [string, Codec<unknown>])[];
}

export interface StructCodec<F extends Fields> extends Codec<StructOf<F>>, ParameterList {
  readonly fields: F;
}

/**
 * Whether the first parameter of a parameter area is a TPM2B, which is what session-based
 * parameter encryption may cover (Part 1 §21.1). A codec that is no parameter list has none.
 */
export function leadsWithTpm2b(parameters: Codec<unknown> | ParameterList): boolean {
  return 'entries' in parameters && parameters.entries[0]?.[1].isTpm2b === true;
}

/** A structure: fields in declaration order. */
export function struct<F extends Fields>(fields: F): StructCodec<F> {
  const entries = Object.entries(fields);
  return {
    fields,
    entries,
    read(r) {
      const out: Record<string, unknown> = {};
      for (const [k, c] of entries) out[k] = c.read(r);
      return out as StructOf<F>;
    },
    write(w, v) {
      for (const [k, c] of entries) c.write(w, (v as Record<string, unknown>)[k]);
    },
  };
}

/** TPML_*: u32 count then elements; a count over `max` is TPM_RC_SIZE. */
export function list<T>(item: Codec<T>, max: number): Codec<T[]> {
  return {
    read(r) {
      const n = r.u32();
      if (n > max) throw new TpmError(TPM_RC.SIZE);
      const out: T[] = [];
      for (let i = 0; i < n; i++) out.push(item.read(r));
      return out;
    },
    write(w, v) {
      w.u32(v.length);
      for (const x of v) item.write(w, x);
    },
  };
}

/** Marshal a value on its own. */
export function encode<T>(c: Codec<T>, v: T): Uint8Array {
  const w = new Writer(64);
  c.write(w, v);
  return w.finish();
}

/** Unmarshal a complete buffer; trailing bytes are TPM_RC_SIZE. */
export function decode<T>(c: Codec<T>, buf: Uint8Array): T {
  const r = new Reader(buf);
  const v = c.read(r);
  if (r.remaining !== 0) throw new TpmError(TPM_RC.SIZE);
  return v;
}

