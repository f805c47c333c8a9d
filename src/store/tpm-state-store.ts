/**
 * The TPM's state files in a state directory: the persistent state, durable before every response
 * that changed it, as persistent.json plus persistent.journal (each change appended and flushed,
 * see state-journal.ts; the journal is folded into persistent.json when it grows past a limit),
 * and volatile.json (written on orderly exit, consumed at start so that a crash afterwards behaves
 * like a power loss and can never roll PCRs back to an older image).
 */
import { openStateDir, type StateDir } from './state-dir.js';
import { readIfExists, removeIfExists, writeDurable } from './durable-file.js';
import { StateJournal } from './state-journal.js';
import { stateFromJson, stateToJson } from '../tpm/state/serialize.js';
import type { PersistentState, VolatileState } from '../tpm/state/tpm-state.js';

const PERSISTENT = 'persistent.json';
const JOURNAL = 'persistent.journal';
const VOLATILE = 'volatile.json';
/** Journal size past which the next change is folded into persistent.json instead. */
export const JOURNAL_LIMIT = 1 << 20;

export class TpmStateStore {
  private readonly dir: StateDir;
  private readonly journal: StateJournal;

  constructor(path: string, private readonly journalLimit = JOURNAL_LIMIT) {
    this.dir = openStateDir(path);
    this.journal = new StateJournal(this.dir.path(JOURNAL));
  }

  get path(): string {
    return this.dir.dir;
  }

  loadPersistent(): PersistentState | undefined {
    const text = this.journal.newest() ?? readIfExists(this.dir.path(PERSISTENT));
    return text ? stateFromJson<PersistentState>(text.toString('utf8')) : undefined;
  }

  /**
   * Durable on return. Folding the journal appends first, so that a crash before the journal is
   * cleared still finds the newest state in it.
   */
  savePersistent(state: PersistentState): void {
    const json = Buffer.from(stateToJson(state));
    const fold = this.journal.length + json.length > this.journalLimit;
    this.journal.append(json);
    if (!fold) return;
    writeDurable(this.dir.path(PERSISTENT), json);
    this.journal.clear();
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
    this.journal.close();
    this.dir.release();
  }
}
