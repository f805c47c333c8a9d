/**
 * The PCR->MR mirror: a PcrObserver that, before any PCR bank moves, extends the mapped
 * measurement register and logs the event, in the write-ahead order intent -> register extend ->
 * log append. If the register refuses, the observer throws and the TPM command fails with no bank
 * moved. PCR changes an MR cannot express (PCR 0, resets, Startup) become logged marker events.
 */
import { TPM_RC, TpmError } from '../tpm/spec/tpm-rc.js';
import { hash } from '../tpm/crypto/hash.js';
import { bytesEqual } from '../tpm/crypto/bytes.js';
import type { PcrExtend, PcrObserver, PcrStartup } from '../tpm/pcr/pcr-banks.js';
import { EV_EVENT_TAG, EV_NO_ACTION } from '../eventlog/event-types.js';
import { ccEventSize, encodeCcEvent, readCcEvent, type CcEvent } from '../eventlog/cc-event.js';
import { LeReader, ScratchBuffer } from '../eventlog/le-bytes.js';
import { MrError, type MeasurementRegister, type MrBackend } from './mr-backend.js';
import { extendValue } from './extend-rule.js';
import { RUNTIME_MR_INDEX, type PcrMrMap } from './pcr-mr-map.js';
import { encodeMirrorEvent, mirrorEventSize, type MirrorEvent } from './mirror-events.js';
import type { IntentFile, MrIntent } from './write-ahead-intent.js';
import type { MrEventLogFile } from './mr-event-log-file.js';

/** What start-up recovery did with the intent left by the previous process. */
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

export class MrMirror implements PcrObserver {
  /** Set when a log append failed after its register moved: only recovery at the next start can repair that. */
  private broken = false;
  /** The register each PCR extends (undefined: PCR 0 and unmapped PCRs), looked up once, not per extend. */
  private readonly targets: readonly (MeasurementRegister | undefined)[];
  private readonly runtime: MeasurementRegister;
  private readonly eventScratch = new ScratchBuffer();
  private readonly recordScratch = new ScratchBuffer();

  constructor(
    private readonly backend: MrBackend,
    private readonly map: PcrMrMap,
    private readonly log: MrEventLogFile,
    private readonly intent: IntentFile,
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
    if (target) this.extendAndLog(target, digest, event);
    else this.append(encodeCcEvent({ mrIndex: this.map[e.pcr] ?? 0, eventType: EV_NO_ACTION, digests: [{ hashAlg: reg.hashAlg, digest }], event: encodeMirrorEvent(event) }));
  }

  beforeReset(pcr: number): void {
    this.marker({ kind: 'pcr-reset', pcr });
  }

  beforeStartup(s: PcrStartup): void {
    this.marker({ kind: 'startup', startup: s.kind, locality: s.locality, allocation: s.allocation, hcrtm: s.hcrtm ?? [] });
  }

  /** `mrtpm mr extend`: an operator's digest, logged like any other extend. */
  operatorExtend(name: string, digest: Uint8Array): void {
    const reg = this.backend.register(name);
    if (!reg?.extendable || reg.ccMrIndex === undefined) throw new MrError('EACCES', `${name} is not an extendable register`);
    if (digest.length !== reg.size) throw new MrError('EINVAL', `${name} takes ${reg.size}-byte digests, not ${digest.length}`);
    this.extendAndLog(reg, digest, { kind: 'operator-extend', register: name });
  }

  /**
   * Settles the intent the previous process left: if its register holds the expected value the
   * extend happened and its record is appended; if it holds the old value it never happened.
   */
  recover(): RecoveryOutcome {
    const intent = this.intent.read();
    if (!intent || this.log.length !== intent.logOffset || !this.consistent(intent)) {
      this.intent.clear();
      return 'none';
    }
    const now = this.backend.read(intent.register);
    let outcome: RecoveryOutcome = 'diverged';
    if (bytesEqual(now, intent.expected)) {
      this.log.append(intent.record);
      outcome = 'completed';
    } else if (bytesEqual(now, intent.old)) {
      outcome = 'dropped';
    }
    this.intent.clear();
    return outcome;
  }

  /** False for a torn intent: its expected value is not the extend of its old value by its record's digest. */
  private consistent(intent: MrIntent): boolean {
    const reg = this.backend.register(intent.register);
    if (!reg) return false;
    try {
      const digest = readCcEvent(new LeReader(intent.record), new Map([[reg.hashAlg, reg.size]])).digests.find((d) => d.hashAlg === reg.hashAlg)?.digest;
      return digest !== undefined && intent.old.length === reg.size && bytesEqual(extendValue(reg.hashAlg, intent.old, digest), intent.expected);
    } catch {
      return false;
    }
  }

  /** A lifecycle step an MR cannot take (it never resets): its event's digest goes into the runtime MR. */
  private marker(event: MirrorEvent): void {
    const bytes = encodeMirrorEvent(event);
    this.extendAndLog(this.runtime, hash(this.runtime.hashAlg, bytes), bytes);
  }

  private extendAndLog(reg: MeasurementRegister, digest: Uint8Array, event: MirrorEvent | Uint8Array): void {
    if (this.broken) throw new TpmError(TPM_RC.FAILURE);
    const eventBytes = event instanceof Uint8Array ? event : encodeMirrorEvent(event, this.eventScratch.fit(mirrorEventSize(event)));
    const cc: CcEvent = { mrIndex: reg.ccMrIndex!, eventType: EV_EVENT_TAG, digests: [{ hashAlg: reg.hashAlg, digest }], event: eventBytes };
    // Both encodings are views of scratch buffers, used only until the append below.
    const record = encodeCcEvent(cc, this.recordScratch.fit(ccEventSize(cc)));
    try {
      const extend = this.backend.prepareExtend(reg.name, digest);
      this.intent.write({ logOffset: this.log.length, register: reg.name, old: extend.old, expected: extend.value, record });
      extend.commit();
    } catch (err) {
      this.report(err);
      throw new TpmError(err instanceof MrError && RETRYABLE.has(err.code) ? TPM_RC.RETRY : TPM_RC.FAILURE);
    }
    this.append(record);
  }

  private append(record: Uint8Array): void {
    // After a failed append, any later record would land where recovery must put the missing one.
    if (this.broken) throw new TpmError(TPM_RC.FAILURE);
    try {
      this.log.append(record);
    } catch (err) {
      this.report(err);
      this.broken = true;
      throw new TpmError(TPM_RC.FAILURE);
    }
  }
}
