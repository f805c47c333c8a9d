import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateJournal } from '../../src/store/state-journal.js';
import { TpmStateStore } from '../../src/store/tpm-state-store.js';
import { manufacture } from '../../src/tpm/state/initial-state.js';
import { stateFromJson, stateToJson } from '../../src/tpm/state/serialize.js';
import type { PersistentState } from '../../src/tpm/state/tpm-state.js';

const text = (b: Buffer | undefined): string | undefined => b?.toString('utf8');

describe('store/state-journal: appended state images, the newest intact one wins', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mrtpm-journal-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('gives the last record appended, from this or a new instance; the file is mode 0600', () => {
    const path = join(dir, 'j');
    const j = new StateJournal(path);
    assert.equal(j.newest(), undefined);
    for (const s of ['one', 'two', 'three']) j.append(Buffer.from(s));
    assert.equal(text(j.newest()), 'three');
    j.close();
    assert.equal(text(new StateJournal(path).newest()), 'three');
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });

  it('is written in place: zero-filled ahead in 256 KiB steps, so appends and clear() keep the file size', () => {
    const path = join(dir, 'j');
    const j = new StateJournal(path);
    j.append(Buffer.from('first'));
    const size = statSync(path).size;
    assert.equal(size, 256 << 10);
    for (let i = 0; i < 40; i++) j.append(Buffer.alloc(1000, i));
    assert.equal(statSync(path).size, size, '40 more records fit');
    j.append(Buffer.alloc(300 << 10, 1));
    assert.equal(statSync(path).size, 2 * size, 'a record past the end grows the file by whole steps');
    assert.equal(j.newest()!.length, 300 << 10);
    j.clear();
    assert.equal(statSync(path).size, 2 * size);
    j.append(Buffer.from('again'));
    assert.equal(text(j.newest()), 'again', 'the records before the clear are gone');
    j.close();
  });

  it('a torn last record (cut anywhere, or its payload changed) is ignored, and wiped before the next append', () => {
    const path = join(dir, 'j');
    const j = new StateJournal(path);
    j.append(Buffer.from('kept'));
    j.append(Buffer.from('torn-record'));
    j.close();
    // Header (magic, length, SHA-256) and payload of each record; zeros follow them.
    const full = 2 * 40 + 'kept'.length + 'torn-record'.length;
    for (const cut of [full - 1, full - 11, full - 12 - 20, full - 12 - 40 + 2]) {
      const copy = join(dir, `cut-${cut}`);
      writeFileSync(copy, readFileSync(path).subarray(0, cut));
      assert.equal(text(new StateJournal(copy).newest()), 'kept', `cut at ${cut}`);
    }
    const flipped = readFileSync(path);
    flipped[full - 1]! ^= 1;
    writeFileSync(path, flipped);
    assert.equal(text(new StateJournal(path).newest()), 'kept');
    // The next instance wipes the torn record, so what it appends is found after the kept one.
    const again = new StateJournal(path);
    again.append(Buffer.from('after'));
    assert.equal(text(again.newest()), 'after');
    again.close();
    appendFileSync(path, Buffer.alloc(7));
    assert.equal(text(new StateJournal(path).newest()), 'after', 'a zero-filled tail is no record');
  });

  it('clear() empties it durably; an empty or missing journal has no state', () => {
    const path = join(dir, 'j');
    const j = new StateJournal(path);
    j.append(Buffer.from('x'));
    j.clear();
    assert.ok(readFileSync(path).every((b) => b === 0), 'all zeros');
    assert.equal(j.newest(), undefined);
    j.append(Buffer.from('y'));
    assert.equal(text(j.newest()), 'y');
    j.close();
  });
});

describe('store/tpm-state-store: persistent state through the journal', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mrtpm-store-'));
  });
  /** Loads through a new store and releases it: a lock left held fails its refresh once the directory is gone. */
  const reload = (): bigint | undefined => {
    const store = new TpmStateStore(dir);
    try {
      return store.loadPersistent()?.clock;
    } finally {
      store.release();
    }
  };
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('every save is what the next load gives, also across folds of the journal into persistent.json', () => {
    const state = manufacture();
    const limit = 3 * stateToJson(state).length;
    let store = new TpmStateStore(dir, limit);
    let folds = 0;
    for (let i = 0; i < 12; i++) {
      state.clock = BigInt(1000 + i);
      store.savePersistent(state);
      const snapshot = join(dir, 'persistent.json');
      // A fold writes this save's image into persistent.json.
      if (existsSync(snapshot) && stateFromJson<PersistentState>(readFileSync(snapshot, 'utf8')).clock === BigInt(1000 + i)) folds++;
      if (i % 4 === 3) {
        store.release();
        store = new TpmStateStore(dir, limit);
      }
      assert.equal(store.loadPersistent()?.clock, BigInt(1000 + i), `save ${i}`);
    }
    store.release();
    assert.ok(folds >= 3, `the journal was folded (${folds} times)`);
    assert.equal(statSync(join(dir, 'persistent.json')).mode & 0o777, 0o600);
  });

  it('a crash between writing persistent.json and clearing the journal still loads the newest state', () => {
    const state = manufacture();
    const store = new TpmStateStore(dir);
    state.clock = 5n;
    store.savePersistent(state);
    store.release();
    // persistent.json holds an older image than the journal's newest record.
    state.clock = 4n;
    writeFileSync(join(dir, 'persistent.json'), stateToJson(state), { mode: 0o600 });
    assert.equal(reload(), 5n);
  });

  it('a journal whose only record is torn falls back to persistent.json', () => {
    const state = manufacture();
    state.clock = 7n;
    writeFileSync(join(dir, 'persistent.json'), stateToJson(state), { mode: 0o600 });
    const store = new TpmStateStore(dir);
    state.clock = 8n;
    store.savePersistent(state);
    store.release();
    const journal = readFileSync(join(dir, 'persistent.journal'));
    journal[40]! ^= 1;
    writeFileSync(join(dir, 'persistent.journal'), journal);
    assert.equal(reload(), 7n);
  });
});
