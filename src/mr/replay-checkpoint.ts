/**
 * A start-up shortcut for large MR logs: the register values the log replayed to up to some
 * length, so that the next start parses and replays only the records appended since (a 100,000-
 * event log otherwise costs every `mrtpm stdio` start most of a second). It is a cache, not
 * evidence: `mrtpm mr replay` always replays the whole history. It is used only while the log's
 * bytes just before that length are the ones it saw, and the history before the log (CCEL) still
 * replays to the values it started from.
 */
import { readIfExists, writeDurable } from '../store/durable-file.js';
import { hash } from '../tpm/crypto/hash.js';
import { bytesEqual, isHexBytes, toHex } from '../tpm/crypto/bytes.js';
import { TPM_ALG } from '../tpm/spec/constants.js';

export interface ReplayCheckpoint {
  /** Log bytes the values account for: a record boundary. */
  readonly logLength: number;
  /** tailDigest() of the log at logLength. */
  readonly tail: string;
  /** Register values by CC MR index before the log (after CCEL) ... */
  readonly start: ReadonlyMap<number, Uint8Array>;
  /** ... and after the log's first logLength bytes. */
  readonly replayed: ReadonlyMap<number, Uint8Array>;
}

const FORMAT = 'mrtpm-mr-replay-checkpoint/1';
/** Bytes before logLength the checkpoint must still find: far more than a record, cheap to hash. */
const TAIL_BYTES = 64 * 1024;

const toJson = (values: ReadonlyMap<number, Uint8Array>): Record<string, string> => Object.fromEntries([...values].map(([i, v]) => [i, toHex(v)]));

function fromJson(json: unknown): Map<number, Uint8Array> {
  if (typeof json !== 'object' || json === null) throw new TypeError('register values must be an object');
  return new Map(Object.entries(json).map(([index, value]) => {
    if (!/^\d+$/.test(index) || typeof value !== 'string' || !isHexBytes(value)) throw new TypeError(`bad register value ${index}`);
    return [Number(index), new Uint8Array(Buffer.from(value, 'hex'))];
  }));
}

/** SHA-256 of the log's last (up to) 64 KiB before `length`. */
export function tailDigest(log: Uint8Array, length: number): string {
  return toHex(hash(TPM_ALG.SHA256, log.subarray(Math.max(0, length - TAIL_BYTES), length)));
}

/** The checkpoint at `path`, or undefined if there is none or it does not parse. */
export function readCheckpoint(path: string): ReplayCheckpoint | undefined {
  const bytes = readIfExists(path);
  if (!bytes) return undefined;
  try {
    const j = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    if (j.format !== FORMAT || !Number.isSafeInteger(j.logLength) || typeof j.tail !== 'string') return undefined;
    return { logLength: j.logLength as number, tail: j.tail, start: fromJson(j.start), replayed: fromJson(j.replayed) };
  } catch {
    return undefined;
  }
}

export function writeCheckpoint(path: string, c: ReplayCheckpoint): void {
  writeDurable(path, `${JSON.stringify({ format: FORMAT, logLength: c.logLength, tail: c.tail, start: toJson(c.start), replayed: toJson(c.replayed) })}\n`);
}

/** Whether the checkpoint still fits: the log's bytes before its length, and the values before the log. */
export function checkpointFits(c: ReplayCheckpoint, log: Uint8Array, start: ReadonlyMap<number, Uint8Array>): boolean {
  if (c.logLength > log.length || tailDigest(log, c.logLength) !== c.tail || c.start.size !== start.size) return false;
  return [...start].every(([index, value]) => {
    const saved = c.start.get(index);
    return saved !== undefined && bytesEqual(saved, value);
  }) && [...start.keys()].every((index) => c.replayed.has(index));
}
