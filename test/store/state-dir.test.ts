import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStateDir, StateDirInUseError } from '../../src/store/state-dir.js';

const MODULE = fileURLToPath(new URL('../../src/store/state-dir.js', import.meta.url));

/** Runs a separate node process that tries to open `dir`; returns what it printed. */
function openInChild(dir: string, thenExitHoldingLock: boolean | 'SIGKILL' = false): string {
  const script = `
    import { openStateDir } from ${JSON.stringify(MODULE)};
    try {
      const s = openStateDir(${JSON.stringify(dir)}, { waitMs: 0 });
      console.log('opened');
      if (${JSON.stringify(thenExitHoldingLock)} === 'SIGKILL') process.kill(process.pid, 'SIGKILL');
      if (!${Boolean(thenExitHoldingLock)}) s.release();
    } catch (err) {
      console.log(err.message);
    }`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, thenExitHoldingLock === 'SIGKILL' ? null : 0, r.stderr);
  return r.stdout.trim();
}

describe('store/state-dir', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'mrtpm-state-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('creates a missing directory with mode 0700 and resolves file paths inside it', () => {
    const dir = join(root, 'a', 'state');
    const s = openStateDir(dir);
    try {
      assert.equal(statSync(dir).mode & 0o777, 0o700);
      assert.equal(s.dir, dir);
      assert.equal(s.path('nv.bin'), join(dir, 'nv.bin'));
      for (const bad of ['', '..', '../x', 'a/b', '/etc/passwd', '.lock']) assert.throws(() => s.path(bad), RangeError);
    } finally {
      s.release();
    }
  });

  it('refuses a second open in the same process with a clear error, until released', () => {
    const dir = join(root, 'state');
    const s = openStateDir(dir);
    assert.throws(
      () => openStateDir(dir, { waitMs: 0 }),
      (err: unknown) =>
        err instanceof StateDirInUseError && err.message === `state directory ${dir} is in use by another mrtpm process`,
    );
    s.release();
    s.release(); // idempotent
    const again = openStateDir(dir);
    again.release();
  });

  it('excludes another process while held and admits it after release', function () {
    this.timeout(30_000);
    const dir = join(root, 'state');
    const s = openStateDir(dir);
    try {
      assert.equal(openInChild(dir), `state directory ${dir} is in use by another mrtpm process`);
    } finally {
      s.release();
    }
    assert.equal(openInChild(dir), 'opened');
  });

  it('is free again after a holder process exits without releasing', function () {
    this.timeout(30_000);
    const dir = join(root, 'state');
    assert.equal(openInChild(dir, true), 'opened');
    const s = openStateDir(dir);
    s.release();
  });

  it('is taken over at once from a holder killed by SIGKILL (no stale wait)', function () {
    this.timeout(30_000);
    const dir = join(root, 'state');
    assert.equal(openInChild(dir, 'SIGKILL'), 'opened');
    assert.ok(existsSync(join(dir, '.lock')), 'the killed holder left its lock');
    const started = Date.now();
    openStateDir(dir, { waitMs: 0 }).release();
    assert.ok(Date.now() - started < 1000);
  });

  it('leaves nothing behind in the directory after release', () => {
    const dir = join(root, 'state');
    openStateDir(dir).release();
    assert.deepEqual(readdirSync(dir), []);
    assert.ok(existsSync(dir));
  });
});
