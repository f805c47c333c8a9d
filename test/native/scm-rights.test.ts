/**
 * native/scm-rights: recvmsg(2) with SCM_RIGHTS through koffi. Node cannot send fds either, so the
 * sender is /usr/bin/python3 (socket.send_fds), as QEMU would be: it passes one end of a socketpair
 * and then talks over the other end, which must reach us through the fd we received.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { closeSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RightsReader, receiveWithRights, socketFd } from '../../native/scm-rights.js';

const PYTHON = '/usr/bin/python3';

/** Runs `command args`; resolves with its stdout, rejects with its stderr. */
function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 10000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Runs a python sender against `sock`; resolves with its stdout. */
const python = (script: string, sock: string): Promise<string> => run(PYTHON, ['-c', script, sock]);

const SEND_PAIR_END = `
import socket, sys
c = socket.socket(socket.AF_UNIX); c.connect(sys.argv[1])
a, b = socket.socketpair()
socket.send_fds(c, [b'\\x00\\x00\\x00\\x10'], [b.fileno()]); b.close()
a.sendall(b'ping'); print(a.recv(16).decode()); a.close()
c.sendall(b'tail'); c.close()
`;

describe('native/scm-rights: fds passed with SCM_RIGHTS', function () {
  this.timeout(15000);
  let dir: string;
  let sock: string;
  let server: net.Server;
  let accepted: Promise<net.Socket>;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'mrtpm-rights-'));
    sock = path.join(dir, 'ctrl.sock');
    let gotSocket: (s: net.Socket) => void = () => undefined;
    accepted = new Promise((resolve) => { gotSocket = resolve; });
    // pauseOnConnect: libuv must never read this socket, or the ancillary data would be lost.
    server = net.createServer({ pauseOnConnect: true }, (s) => gotSocket(s));
    await new Promise<void>((resolve) => server.listen(sock, resolve));
  });

  afterEach(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });

  it('receiveWithRights returns the bytes and a working fd (a socketpair end served by net.Socket({ fd }))', async () => {
    const sender = python(SEND_PAIR_END, sock);
    const control = await accepted;
    const fd = socketFd(control);
    let message = await receiveWithRights(fd, 64, 5000);
    assert.ok(message);
    assert.equal(message.bytes.toString('hex'), '00000010');
    assert.equal(message.fds.length, 1);
    const passed = message.fds[0]!;
    assert.notEqual(passed, fd);
    const data = new net.Socket({ fd: passed, readable: true, writable: true });
    data.once('data', (chunk) => data.end(`pong:${chunk.toString()}`));
    assert.equal((await sender).trim(), 'pong:ping');
    data.destroy();
    // Later bytes come without fds; then the end of the stream is an empty read.
    const tail: Buffer[] = [];
    for (;;) {
      message = await receiveWithRights(fd, 64, 5000);
      assert.ok(message);
      assert.deepEqual(message.fds, []);
      if (message.bytes.length === 0) break;
      tail.push(message.bytes);
    }
    assert.equal(Buffer.concat(tail).toString(), 'tail');
    control.destroy();
  });

  it('receiveWithRights times out with undefined when nothing arrives', async () => {
    const sender = python('import socket, sys, time\nc = socket.socket(socket.AF_UNIX); c.connect(sys.argv[1]); time.sleep(0.5)', sock);
    const control = await accepted;
    const started = Date.now();
    assert.equal(await receiveWithRights(socketFd(control), 64, 100), undefined);
    assert.ok(Date.now() - started >= 90);
    await sender;
    control.destroy();
  });

  it('RightsReader streams the bytes in order and queues the fds; close() closes fds nobody took', async () => {
    const sender = python(`
import socket, sys, os
c = socket.socket(socket.AF_UNIX); c.connect(sys.argv[1])
r1, w1 = os.pipe(); r2, w2 = os.pipe()
socket.send_fds(c, [b'one'], [w1]); os.close(w1)
socket.send_fds(c, [b'two'], [w2]); os.close(w2)
c.sendall(b'three'); c.close()
print(os.read(r1, 16).decode(), len(os.read(r2, 16)))
`, sock);
    const control = await accepted;
    const reader = new RightsReader(control);
    const chunks: Buffer[] = [];
    reader.readable.on('data', (b: Buffer) => chunks.push(b));
    await new Promise((resolve) => reader.readable.on('end', resolve));
    assert.equal(Buffer.concat(chunks).toString(), 'onetwothree');
    const first = reader.takeFd();
    assert.equal(typeof first, 'number');
    // The second fd is never taken: close() must close it, so python's read on r2 sees EOF (0).
    reader.close();
    assert.equal(reader.takeFd(), undefined);
    writeSync(first!, 'via-fd');
    closeSync(first!);
    assert.equal((await sender).trim(), 'via-fd 0');
    control.destroy();
  });

  it('two connections accepted together in a fresh process both read (libc is loaded once)', async () => {
    // In a new process, so that this file's earlier tests have not loaded libc already.
    const script = `
      import net from 'node:net';
      import { RightsReader } from ${JSON.stringify(new URL('../../native/scm-rights.js', import.meta.url).href)};
      const sock = process.argv[1];
      const read = (s) => new Promise((resolve, reject) => {
        const r = new RightsReader(s);
        const chunks = [];
        r.readable.on('data', (b) => chunks.push(b)).on('end', () => resolve(Buffer.concat(chunks).toString())).on('error', reject);
      });
      const reads = [];
      const server = net.createServer({ pauseOnConnect: true }, (s) => reads.push(read(s)));
      server.listen(sock, () => {
        for (const text of ['first', 'second']) net.connect(sock, function () { this.end(text); });
        const done = setInterval(async () => {
          if (reads.length < 2) return;
          clearInterval(done);
          const got = await Promise.allSettled(reads);
          console.log(JSON.stringify(got.map((g) => g.status === 'fulfilled' ? g.value : String(g.reason))));
          process.exit(0);
        }, 10);
      });
    `;
    const out = await run(process.execPath, ['--input-type=module', '-e', script, path.join(dir, 'fresh.sock')]);
    assert.deepEqual((JSON.parse(out) as string[]).sort(), ['first', 'second']);
  });

  it('socketFd refuses a socket without a descriptor', () => {
    assert.throws(() => socketFd(new net.Socket()), /no file descriptor/);
  });
});
