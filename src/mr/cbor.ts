/**
 * cbor2, loaded on first use: only hardware reports of Arm CCA need CBOR, so its load time is paid
 * by the runs that make or read one. The bundle keeps it external (scripts/bundle.ts).
 */
export type Cbor = typeof import('cbor2');

let cbor: Promise<Cbor> | undefined;

export function loadCbor(): Promise<Cbor> {
  cbor ??= import('cbor2');
  return cbor;
}

/** A byte string for cbor2, which encodes a Node Buffer through its toJSON (as a map), not as bytes. */
export const cborBytes = (bytes: Uint8Array): Uint8Array => new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
