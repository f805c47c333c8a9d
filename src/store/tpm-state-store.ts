/**
 * The TPM's two state files in a state directory: persistent.json (rewritten durably on every
 * change) and volatile.json (written on orderly exit, consumed at start so that a crash afterwards
 * behaves like a power loss and can never roll PCRs back to an older image).
 */
import { openStateDir, type StateDir } from './state-dir.js';
import { readIfExists, removeIfExists, writeDurable } from './durable-file.js';
import { stateFromJson, stateToJson } from '../tpm/state/serialize.js';
import type { PersistentState, VolatileState } from '../tpm/state/tpm-state.js';

const PERSISTENT = 'persistent.json';
const VOLATILE = 'volatile.json';

export class TpmStateStore {
  private readonly dir: StateDir;

  constructor(path: string) {
    this.dir = openStateDir(path);
  }

  get path(): string {
    return this.dir.dir;
  }

  loadPersistent(): PersistentState | undefined {
    const text = readIfExists(this.dir.path(PERSISTENT));
    return text ? stateFromJson<PersistentState>(text.toString('utf8')) : undefined;
  }

  savePersistent(state: PersistentState): void {
    writeDurable(this.dir.path(PERSISTENT), stateToJson(state));
  }

  /** Reads and removes the volatile image: it is good for exactly one start. */
  takeVolatile(): VolatileState | undefined {
    const path = this.dir.path(VOLATILE);
    const text = readIfExists(path);
    if (text) removeIfExists(path);
    return text ? stateFromJson<VolatileState>(text.toString('utf8')) : undefined;
  }

  discardVolatile(): void {
    removeIfExists(this.dir.path(VOLATILE));
  }

  saveVolatile(state: VolatileState): void {
    writeDurable(this.dir.path(VOLATILE), stateToJson(state));
  }

  release(): void {
    this.dir.release();
  }
}
