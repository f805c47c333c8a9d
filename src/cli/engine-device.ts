/**
 * The engine as the servers see it (TpmDevice): power signals, resource-manager clients, tracing,
 * and persistence of the TPM state in its state directory.
 */
import type { ClientId, PlatformSignal, StateBlobType, TpmDevice } from '../server/device.js';
import type { Logger } from '../server/logger.js';
import { Tpm } from '../tpm/engine/tpm.js';
import { describeCommand, describeResponse } from '../tpm/engine/describe.js';
import { DEFAULT_PCR_BANKS, fullAllocation, upgradePersistent } from '../tpm/state/initial-state.js';
import { manufactureInStore } from './manufacture.js';
import { TpmStateStore } from '../store/tpm-state-store.js';
import type { PcrObserver } from '../tpm/pcr/pcr-banks.js';
import type { PersistentState, VolatileState } from '../tpm/state/tpm-state.js';
import { decodeStateBlob, encodeStateBlob } from '../store/state-blob.js';

export interface EngineDeviceOptions {
  stateDir: string;
  /** The PCR banks to allocate; undefined keeps the state's (a new TPM gets the default banks). */
  pcrBanks?: number[];
  /** Start from a power cycle: drop the saved volatile state. */
  reset: boolean;
  trace: boolean;
  logger: Logger;
  /** Sees every PCR change before the banks move: the measurement-register mirror. */
  pcrObserver?: PcrObserver;
}

const sameBanks = (a: number[], b: number[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

export class EngineDevice implements TpmDevice {
  readonly tpm: Tpm;
  private nextClient = 1;
  private tpmEstablished = false;
  private closed = false;
  /** A volatile state blob set while powered off: what the next power-on resumes. */
  private pendingVolatile: VolatileState | undefined;

  /**
   * Opens (locks) the state directory; a directory without a TPM gets a new one, with EK
   * certificates, as a TPM leaves its factory.
   */
  static async open(options: EngineDeviceOptions): Promise<EngineDevice> {
    const store = new TpmStateStore(options.stateDir);
    try {
      let persistent = store.loadPersistent();
      if (!persistent) {
        persistent = await manufactureInStore(store, options.pcrBanks ?? [...DEFAULT_PCR_BANKS], [], true);
        store.savePersistent(persistent);
        options.logger.info('manufactured a new TPM', { stateDir: store.path });
      }
      return new EngineDevice(options, store, persistent);
    } catch (e) {
      store.release();
      throw e;
    }
  }

  private constructor(private readonly options: EngineDeviceOptions, private readonly store: TpmStateStore, persistent: PersistentState) {
    if (upgradePersistent(persistent)) this.store.savePersistent(persistent);
    if (options.pcrBanks && !sameBanks(persistent.pcrAllocation.map((b) => b.hash), options.pcrBanks)) {
      // Like PCR_Allocate: a new bank set takes effect at the next TPM Reset.
      persistent.pendingAllocation = fullAllocation(options.pcrBanks);
      this.store.savePersistent(persistent);
      options.logger.warn('PCR banks differ from the state; they apply at the next Startup(CLEAR)');
    }
    const volatile = options.reset ? (this.store.discardVolatile(), undefined) : this.store.takeVolatile();
    this.tpm = new Tpm(persistent, volatile, {
      now: () => performance.now(),
      persistentChanged: (state) => this.store.savePersistent(state),
      ...(options.pcrObserver && { pcrObserver: options.pcrObserver }),
    });
    this.tpm.powerOn();
  }

  get poweredOn(): boolean {
    return this.tpm.poweredOn;
  }

  get established(): boolean {
    return this.tpmEstablished;
  }

  execute(command: Uint8Array, locality: number, client: ClientId): Uint8Array {
    if (!this.tpm.poweredOn) return new Uint8Array(0);
    if (this.options.trace) process.stderr.write(`trace > ${describeCommand(command)} locality=${locality} client=${client}\n`);
    const { response } = this.tpm.execute(command, locality, client);
    if (this.options.trace) process.stderr.write(`trace < ${describeResponse(response)}\n`);
    return response;
  }

  signal(signal: PlatformSignal): void {
    this.options.logger.debug('platform signal', { signal });
    switch (signal) {
      case 'powerOn':
        if (this.pendingVolatile && !this.tpm.poweredOn) this.tpm.resume(this.pendingVolatile);
        else this.tpm.powerOn();
        this.pendingVolatile = undefined;
        break;
      case 'powerOff':
        this.tpm.powerOff();
        this.store.discardVolatile();
        this.store.savePersistent(this.tpm.persistent);
        break;
      case 'reset':
        if (this.tpm.poweredOn) this.tpm.init();
        break;
      case 'hashStart':
        this.tpmEstablished = true;
        this.tpm.hashStart();
        break;
      case 'hashEnd':
        this.tpm.hashEnd();
        break;
      case 'physPresOn':
      case 'physPresOff':
        this.tpm.setPhysicalPresence(signal === 'physPresOn');
        break;
      default:
        // NV is always available, cancel has nothing to interrupt (commands run to completion
        // synchronously), key cache is a no-op.
        break;
    }
  }

  hashData(data: Uint8Array): void {
    this.tpm.hashData(data);
  }

  resetEstablished(_locality: number): void {
    this.tpmEstablished = false;
  }

  openClient(): ClientId {
    return this.nextClient++;
  }

  closeClient(client: ClientId): void {
    this.tpm.closeClient(client);
  }

  /**
   * The permanent part is the persistent state (Shutdown(STATE) data included, so there is never
   * a separate savestate part); the volatile part exists while powered.
   */
  stateBlob(type: StateBlobType): Uint8Array | undefined {
    if (type === 'permanent') return encodeStateBlob('permanent', this.tpm.persistent);
    if (type === 'volatile' && this.tpm.poweredOn) return encodeStateBlob('volatile', this.tpm.volatile);
    return undefined;
  }

  setStateBlob(type: StateBlobType, blob: Uint8Array): boolean {
    if (this.tpm.poweredOn) return false;
    // Empty: swtpm's TPMLIB_SetState(NULL) forgets a blob set before; the current state stays.
    if (blob.length === 0) {
      if (type === 'volatile') this.pendingVolatile = undefined;
      return true;
    }
    if (type === 'permanent') {
      const persistent = decodeStateBlob('permanent', blob);
      if (!persistent) return false;
      upgradePersistent(persistent);
      this.tpm.replacePersistent(persistent);
      this.store.savePersistent(persistent);
      return true;
    }
    if (type === 'volatile') {
      this.pendingVolatile = decodeStateBlob('volatile', blob);
      return this.pendingVolatile !== undefined;
    }
    return false;
  }

  /**
   * swtpm CMD_STORE_VOLATILE: a snapshot of the volatile state, as on an orderly exit. It is taken
   * at the next start only if this process ends without writing a newer one (a crash).
   */
  saveVolatile(): void {
    if (this.tpm.poweredOn) this.store.saveVolatile(this.tpm.volatile);
    this.store.savePersistent(this.tpm.persistent);
  }

  /**
   * What a killed process leaves: the directory unlocked, the volatile state not saved (every
   * persistent change already is), so the next process starts from a power loss.
   */
  abandon(): void {
    if (this.closed) return;
    this.closed = true;
    this.store.release();
  }

  /** Orderly exit: what is volatile is saved for the next process, then the directory is unlocked. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.saveVolatile();
    this.store.release();
  }
}
