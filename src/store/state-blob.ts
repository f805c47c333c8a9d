/**
 * The state blobs of swtpm's CMD_GET/SET_STATEBLOB, in mrtpm's own serialisation: the state's JSON
 * (serialize.ts) in an envelope that names the blob type, so a blob of one type (or a libtpms blob
 * from swtpm, which starts with a binary header) is refused as another. Blobs move an mrtpm state to
 * another mrtpm (QEMU migration, snapshots); they are not interchangeable with swtpm's.
 */
import { stateFromJson, stateToJson } from '../tpm/state/serialize.js';
import type { PersistentState, VolatileState } from '../tpm/state/tpm-state.js';

export type StatePart = 'permanent' | 'volatile';

interface Envelope {
  mrtpmStateBlob: StatePart;
  state: PersistentState | VolatileState;
}

export function encodeStateBlob(type: 'permanent', state: PersistentState): Uint8Array;
export function encodeStateBlob(type: 'volatile', state: VolatileState): Uint8Array;
export function encodeStateBlob(type: StatePart, state: PersistentState | VolatileState): Uint8Array {
  const envelope: Envelope = { mrtpmStateBlob: type, state };
  return Buffer.from(stateToJson(envelope));
}

/** The state in a blob of `type`, or undefined if the bytes are not one. */
export function decodeStateBlob(type: 'permanent', blob: Uint8Array): PersistentState | undefined;
export function decodeStateBlob(type: 'volatile', blob: Uint8Array): VolatileState | undefined;
export function decodeStateBlob(type: StatePart, blob: Uint8Array): PersistentState | VolatileState | undefined {
  let envelope: Partial<Envelope>;
  try {
    envelope = stateFromJson<Partial<Envelope>>(Buffer.from(blob).toString('utf8'));
  } catch {
    return undefined;
  }
  const state = envelope?.state;
  if (envelope?.mrtpmStateBlob !== type || typeof state !== 'object' || state === null || state.format !== 1) return undefined;
  return state;
}
