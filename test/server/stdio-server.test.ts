import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { ByteReader } from '../../src/server/byte-reader.js';
import { type StdioEndReason, StdioServer } from '../../src/server/stdio-server.js';
import { FakeDevice, GET_RANDOM_8, command, fakeResponse } from './fake-device.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('server/stdio-server', () => {
  let device: FakeDevice;
  let stdin: PassThrough;
  let stdout: PassThrough;
  let out: ByteReader;
  let ends: StdioEndReason[];
  let server: StdioServer;
  const make = (options: { locality?: number } = {}): StdioServer =>
    new StdioServer({ device, input: stdin, output: stdout, maxFrame: 4096, onEnd: (r) => ends.push(r), ...options });
  const read = async (n: number): Promise<string> => {
    const bytes = await out.read(n, Date.now() + 1000);
    assert.ok(typeof bytes !== 'string', `stdout: ${String(bytes)}`);
    return hex(bytes);
  };

  beforeEach(() => {
    device = new FakeDevice();
    stdin = new PassThrough();
    stdout = new PassThrough();
    out = new ByteReader(stdout);
    ends = [];
    server = make();
  });

  it('answers raw commands with raw responses, reading the header then the rest', async () => {
    await server.start();
    stdin.write(GET_RANDOM_8.subarray(0, 3));
    await sleep(10);
    stdin.write(GET_RANDOM_8.subarray(3, 10));
    await sleep(10);
    assert.equal(out.buffered, 0);
    stdin.write(GET_RANDOM_8.subarray(10));
    assert.equal(await read(16), hex(fakeResponse(0, 1, 12)));
    stdin.write(Buffer.concat([command(10), command(3000)]));
    assert.equal(await read(32), hex(fakeResponse(0, 1, 10)) + hex(fakeResponse(0, 1, 3000)));
    stdin.end();
    assert.equal(await server.run(), 'eof');
    assert.deepEqual(ends, ['eof']);
    assert.deepEqual(device.opened, [1]);
    assert.deepEqual(device.closed, [1]);
    assert.equal(out.buffered, 0, 'nothing but responses on stdout');
  });

  it('runs commands at the configured locality', async () => {
    server = make({ locality: 3 });
    const done = server.run();
    stdin.end(GET_RANDOM_8);
    assert.equal(await read(16), hex(fakeResponse(3, 1, 12)));
    assert.equal(await done, 'eof');
  });

  it('ends on a header size below 10 or above the maximum', async () => {
    const done = server.run();
    stdin.write(Buffer.from('80010000000900000000', 'hex'));
    assert.equal(await done, 'bad-frame');
    assert.deepEqual(device.closed, [1]);
    assert.equal(device.executed.length, 0);

    stdin = new PassThrough();
    const big = make();
    const bigDone = big.run();
    stdin.write(Buffer.from('80010000100100000000', 'hex'));
    assert.equal(await bigDone, 'bad-frame');
  });

  it('ends on EOF in the middle of a command without executing it', async () => {
    const done = server.run();
    stdin.end(GET_RANDOM_8.subarray(0, 11));
    assert.equal(await done, 'eof');
    assert.equal(device.executed.length, 0);
    assert.equal(out.buffered, 0);
  });

  it('close() ends a waiting session and closes the client once', async () => {
    await server.start();
    await sleep(5);
    await server.close();
    assert.equal(await server.run(), 'closed');
    assert.deepEqual(ends, ['closed']);
    assert.deepEqual(device.closed, [1]);
  });

  it('ends when stdout fails', async () => {
    const done = server.run();
    stdout.destroy(new Error('EPIPE'));
    assert.equal(await done, 'output');
    assert.deepEqual(device.closed, [1]);
  });
});
