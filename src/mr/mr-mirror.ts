/**
 * The PCR->MR mirror: a PcrObserver that, before any PCR bank moves, extends the mapped
 * measurement register and logs the event, append-first: the log record, which carries the
 * register's value before and after the extend, is appended, then the register is extended. The
 * record is its own write-ahead intent: at start-up, a last record whose register still holds its
 * old value is completed. If the register refuses, the record is cut off again, the observer throws
 * and the TPM command fails with no bank moved. PCR changes an MR cannot express (PCR 0, resets,
 * Startup) become logged marker events.
 */
import { TPM_RC, TpmError } from '../tpm/spec/tpm-rc.js';
import { hash } from '../tpm/crypto/hash.js';
import { bytesEqual } from '../tpm/crypto/bytes.js';
import type { PcrExtend, PcrObserver, PcrStartup } from '../tpm/pcr/pcr-banks.js';
import { EV_EVENT_TAG, EV_NO_ACTION } from '../eventlog/event-types.js';
import { ccEventSize, encodeCcEvent, type CcEvent, type CcEventRecord } from '../eventlog/cc-event.js';
import { ScratchBuffer } from '../eventlog/le-bytes.js';
import { MrError, type MeasurementRegister, type MrBackend, type PreparedExtend } from './mr-backend.js';
import { RUNTIME_MR_INDEX, type PcrMrMap } from './pcr-mr-map.js';
import {
  decodeMirrorEvent, encodeMirrorEvent, markerDigestInput, mirrorEventSize, setRegisterValues, type MirrorEvent, type RegisterValues,
} from './mirror-events.js';
import type { MrEventLogFile } from './mr-event-log-file.js';

/**
 * What start-up recovery did with the log's last record: nothing to do (`none`), its register
 * still held the old value and was extended now (`completed`), that extend failed and the record
 * was cut (`dropped`), or the register holds neither value (`diverged`: another writer moved it;
 * the record stays, as its extend may have happened before).
 */
export type RecoveryOutcome = 'none' | 'completed' | 'dropped' | 'diverged';

/** Errors a register reports for a busy moment, which a caller may retry; everything else is a failure. */
const RETRYABLE = new Set(['EBUSY', 'EINTR']);

/**
 * The MR digest of an extend: the register's own algorithm if supplied (used as it is: it is only
 * read during the extend), else the first digest zero-padded or truncated to the register's size.
 */
function mrDigest(reg: MeasurementRegister, supplied: PcrExtend['supplied']): { alg: number; digest: Uint8Array } {
  const own = supplied.find((d) => d.hashAlg === reg.hashAlg);
  if (own && own.digest.length === reg.size) return { alg: own.hashAlg, digest: own.digest };
  const source = own ?? supplied[0]!;
  const digest = new Uint8Array(reg.size);
  digest.set(source.digest.subarray(0, reg.size));
  return { alg: source.hashAlg, digest };
}

/** A register's refusal as the TPM response code: busy moments may be retried. */
const refusal = (err: unknown): TpmError => new TpmError(err instanceof MrError && RETRYABLE.has(err.code) ? TPM_RC.RETRY : TPM_RC.FAILURE);

export class MrMirror implements PcrObserver {
  /** The register each PCR extends (undefined: PCR 0 and unmapped PCRs), looked up once, not per extend. */
  private readonly targets: readonly (MeasurementRegister | undefined)[];
  private readonly runtime: MeasurementRegister;
  private readonly eventScratch = new ScratchBuffer();
  private readonly recordScratch = new ScratchBuffer();

  constructor(
    private readonly backend: MrBackend,
    private readonly map: PcrMrMap,
    private readonly log: MrEventLogFile,
    /** Told why a register or the log refused, since the TPM response code cannot say. */
    private readonly report: (err: unknown) => void = () => {},
  ) {
    const runtime = this.registerFor(RUNTIME_MR_INDEX);
    if (!runtime) throw new MrError('ENOENT', `${backend.kind} has no extendable runtime register (CC MR index ${RUNTIME_MR_INDEX})`);
    this.runtime = runtime;
    this.targets = map.map((mrIndex) => this.registerFor(mrIndex));
  }

  /** The extendable register a CC MR index names, if any (MRTD/RIM are not). */
  registerFor(mrIndex: number | undefined): MeasurementRegister | undefined {
    return mrIndex === undefined ? undefined : this.backend.registers.find((r) => r.ccMrIndex === mrIndex && r.extendable);
  }

  beforeExtend(e: PcrExtend): void {
    const target = this.targets[e.pcr];
    // PCR 0 (MRTD/RIM) and unmapped PCRs are logged, so PCR replay stays complete, but not extended.
    const reg = target ?? this.runtime;
    const { alg, digest } = mrDigest(reg, e.supplied);
    const event: MirrorEvent = {
      kind: 'extend', pcr: e.pcr, command: e.command, applied: e.applied, mrSourceAlg: alg, eventData: e.eventData ?? new Uint8Array(0),
    };
    if (target) this.extendAndLog(target, event, digest);
    else this.append(encodeCcEvent({ mrIndex: this.map[e.pcr] ?? 0, eventType: EV_NO_ACTION, digests: [{ hashAlg: reg.hashAlg, digest }], event: encodeMirrorEvent(event) }));
  }

  beforeReset(pcr: number): void {
    this.extendAndLog(this.runtime, { kind: 'pcr-reset', pcr });
  }

  beforeStartup(s: PcrStartup): void {
    this.extendAndLog(this.runtime, { kind: 'startup', startup: s.kind, locality: s.locality, allocation: s.allocation, hcrtm: s.hcrtm ?? [] });
  }

  /** `mrtpm mr extend`: an operator's digest, logged like any other extend. */
  operatorExtend(name: string, digest: Uint8Array): void {
    const reg = this.backend.register(name);
    if (!reg?.extendable || reg.ccMrIndex === undefined) throw new MrError('EACCES', `${name} is not an extendable register`);
    if (digest.length !== reg.size) throw new MrError('EINVAL', `${name} takes ${reg.size}-byte digests, not ${digest.length}`);
    this.extendAndLog(reg, { kind: 'operator-extend', register: name }, digest);
  }

  /**
   * Settles the log's last record, which a crash may have left between its append and its
   * register's extend: if the register holds the record's old value, the extend is done now.
   * `last` is the last record of the log as opened (undefined if the log has none, or none after
   * a replay checkpoint: those were settled by the start that saved it).
   */
  recover(last: CcEventRecord | undefined): RecoveryOutcome {
    const pending = last && this.pendingExtend(last);
    if (!pending) return 'none';
    const { reg, digest, values } = pending;
    const now = this.backend.read(reg.name);
    if (bytesEqual(now, values.expected)) return 'none';
    if (!bytesEqual(now, values.old)) return 'diverged';
    try {
      this.backend.extend(reg.name, digest);
      return 'completed';
    } catch (err) {
      this.report(err);
      this.log.truncate(last.offset);
      return 'dropped';
    }
  }

  /** A mirrored record's register, digest and register values; undefined for any other record. */
  private pendingExtend(record: CcEvent): { reg: MeasurementRegister; digest: Uint8Array; values: RegisterValues } | undefined {
    if (record.eventType !== EV_EVENT_TAG) return undefined;
    const reg = this.registerFor(record.mrIndex);
    const digest = reg && record.digests.find((d) => d.hashAlg === reg.hashAlg)?.digest;
    let values: RegisterValues | undefined;
    try {
      values = decodeMirrorEvent(record.event)?.values;
    } catch {
      // Not a record this mirror wrote whole: nothing of ours to settle.
    }
    if (!reg || !digest || values?.old.length !== reg.size || values.expected.length !== reg.size) return undefined;
    return { reg, digest, values };
  }

  /**
   * Appends the event's record, carrying the register's value before and after, then extends the
   * register; if the register refuses, the record is cut off again. A marker (no `digest` given)
   * extends the hash of its own event.
   */
  private extendAndLog(reg: MeasurementRegister, event: MirrorEvent, digest?: Uint8Array): void {
    // Both encodings are views of scratch buffers, used only until the append below.
    const eventBytes = encodeMirrorEvent(event, reg.size, this.eventScratch.fit(mirrorEventSize(event, reg.size)));
    const extended = digest ?? hash(reg.hashAlg, markerDigestInput(eventBytes, reg.size));
    let prepared: PreparedExtend;
    try {
      prepared = this.backend.prepareExtend(reg.name, extended);
    } catch (err) {
      this.report(err);
      throw refusal(err);
    }
    setRegisterValues(eventBytes, { old: prepared.old, expected: prepared.value });
    const cc: CcEvent = { mrIndex: reg.ccMrIndex!, eventType: EV_EVENT_TAG, digests: [{ hashAlg: reg.hashAlg, digest: extended }], event: eventBytes };
    const before = this.log.length;
    this.append(encodeCcEvent(cc, this.recordScratch.fit(ccEventSize(cc))));
    try {
      prepared.commit();
    } catch (err) {
      this.report(err);
      this.cutBack(before);
      throw refusal(err);
    }
  }

  private append(record: Uint8Array): void {
    try {
      this.log.append(record);
    } catch (err) {
      this.report(err);
      throw new TpmError(TPM_RC.FAILURE);
    }
  }

  /** Removes the record of an extend that did not happen; if that fails, the log refuses every later append. */
  private cutBack(length: number): void {
    try {
      this.log.truncate(length);
    } catch (err) {
      this.report(err);
    }
  }
}
