/** The operator-socket client on its own: what it reports when no vTPM answers. */
import assert from 'node:assert/strict';
import net from 'node:net';
import { join } from 'node:path';
import { mrControlRequest } from '../../src/server/mr-control.js';
import { makeTempDir, removeDir } from '../helpers/state-dirs.js';

describe('server/mr-control client', () => {
  let dir: string;
  beforeEach(async () => { dir = await makeTempDir('mrtpm-ctl'); });
  afterEach(async () => { await removeDir(dir); });

  const request = { op: 'extend' as const, register: 'rtmr3', digest: '00'.repeat(48) };

  it('no socket: rejects with ENOENT, which `mr extend` takes for "no vTPM serves these registers"', async () => {
    await assert.rejects(mrControlRequest(join(dir, 'control.sock'), request), { code: 'ENOENT' });
  });

  it('a listener that never answers: rejects after the timeout instead of hanging', async () => {
    const path = join(dir, 'control.sock');
    const silent = net.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(path, resolve));
    try {
      const started = Date.now();
      await assert.rejects(mrControlRequest(path, request, 200), /no answer from the vTPM in 200 ms/);
      assert.ok(Date.now() - started < 5000);
    } finally {
      silent.close();
    }
  });

  it('a listener that closes without answering: rejects', async () => {
    const path = join(dir, 'control.sock');
    const rude = net.createServer((socket) => socket.end());
    await new Promise<void>((resolve) => rude.listen(path, resolve));
    try {
      await assert.rejects(mrControlRequest(path, request), /closed the connection without an answer/);
    } finally {
      rude.close();
    }
  });
});
