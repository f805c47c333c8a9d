import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MSSIM, PLATFORM_SIGNALS } from '../../src/server/mssim-codes.js';
import { type MssimAddresses, MssimServer } from '../../src/server/mssim-server.js';
import { u32 } from '../../src/server/wire.js';
import { FakeDevice, GET_RANDOM_8, command, fakeResponse } from './fake-device.js';
import { TestClient, eventually } from './test-client.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
/** u32 8 | u8 locality | u32 length | command */
const sendCommand = (cmd: Buffer, locality = 0): Buffer =>
  Buffer.concat([u32(MSSIM.SEND_COMMAND), Buffer.from([locality]), u32(cmd.length), cmd]);
/** u32 length | response | u32 0 */
const enveloped = (rsp: Uint8Array): string => hex(Buffer.concat([u32(rsp.length), rsp, u32(0)]));

describe('server/mssim-server', () => {
  let device: FakeDevice;
  let server: MssimServer;
  let addresses: MssimAddresses;
  let stops: number;
  const clients: TestClient[] = [];
  const connect = async (port: 'tpm' | 'platform'): Promise<TestClient> => {
    const client = await TestClient.connect(addresses[port]);
    clients.push(client);
    return client;
  };

  beforeEach(async () => {
    device = new FakeDevice();
    stops = 0;
    server = new MssimServer({ device, endpoint: { port: 0 }, maxFrame: 4096, onStop: () => stops++ });
    addresses = await server.start();
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await server.close();
  });

  it('listens on P and P+1 on 127.0.0.1', () => {
    assert.equal(addresses.tpm.kind, 'tcp');
    assert.equal(addresses.platform.kind, 'tcp');
    if (addresses.tpm.kind !== 'tcp' || addresses.platform.kind !== 'tcp') return;
    assert.equal(addresses.tpm.host, '127.0.0.1');
    assert.equal(addresses.platform.port, addresses.tpm.port + 1);
  });

  it('frames SEND_COMMAND: locality byte in, u32 len | rsp | u32 0 out', async () => {
    const tpm = await connect('tpm');
    await tpm.send(sendCommand(GET_RANDOM_8, 3));
    assert.equal(await tpm.read(24), enveloped(fakeResponse(3, 1, 12)));
    assert.deepEqual(device.executed.map((e) => [hex(e.command), e.locality, e.client]), [[hex(GET_RANDOM_8), 3, 1]]);
  });

  it('reads by length: prefix and body in separate segments, even byte by byte', async () => {
    const tpm = await connect('tpm');
    const frame = sendCommand(GET_RANDOM_8, 0);
    await tpm.send(frame.subarray(0, 9));
    await tpm.expectSilent(30);
    await tpm.send(frame.subarray(9));
    assert.equal(await tpm.read(24), enveloped(fakeResponse(0, 1, 12)));
    for (const byte of frame) await tpm.send(Buffer.from([byte]));
    assert.equal(await tpm.read(24), enveloped(fakeResponse(0, 1, 12)));
  });

  it('answers several frames that arrive in one segment, in order', async () => {
    const tpm = await connect('tpm');
    await tpm.send(Buffer.concat([sendCommand(command(10), 1), sendCommand(command(300), 2), sendCommand(command(12), 4)]));
    assert.equal(await tpm.read(72), [
      enveloped(fakeResponse(1, 1, 10)), enveloped(fakeResponse(2, 1, 300)), enveloped(fakeResponse(4, 1, 12)),
    ].join(''));
  });

  it('answers an empty response while the device is powered off', async () => {
    device.poweredOn = false;
    const tpm = await connect('tpm');
    await tpm.send(sendCommand(GET_RANDOM_8));
    assert.equal(await tpm.read(8), '0000000000000000');
    assert.equal(device.executed.length, 0);
  });

  it('acknowledges every platform signal with u32 0 and passes it to the device', async () => {
    const platform = await connect('platform');
    for (const [code, signal] of PLATFORM_SIGNALS) {
      await platform.send(u32(code));
      assert.equal(await platform.read(4), '00000000', `code ${code}`);
      assert.equal(device.signals.at(-1), signal);
    }
    assert.equal(device.signals.length, PLATFORM_SIGNALS.size);
    assert.deepEqual(device.opened, [], 'platform connections are not clients');
  });

  it('does what tcti-mssim init does: POWER_ON then NV_ON', async () => {
    await connect('tpm');
    const platform = await connect('platform');
    await platform.send('00000001');
    assert.equal(await platform.read(4), '00000000');
    await platform.send('0000000b');
    assert.equal(await platform.read(4), '00000000');
    assert.deepEqual(device.signals, ['powerOn', 'nvOn']);
  });

  it('answers an unknown platform code with u32 1 and closes', async () => {
    const platform = await connect('platform');
    await platform.send('00000063');
    assert.equal(await platform.read(4), '00000001');
    await platform.expectClosed();
  });

  it('closes the TPM port without reply on an unknown code, or on a platform code', async () => {
    const tpm = await connect('tpm');
    await tpm.send('00000001');
    await tpm.expectClosed();
    const other = await connect('tpm');
    await other.send('000000ff');
    await other.expectClosed();
    assert.deepEqual(device.signals, []);
  });

  it('ends the client without reply on SESSION_END, on either port', async () => {
    const tpm = await connect('tpm');
    const platform = await connect('platform');
    await tpm.send(sendCommand(GET_RANDOM_8));
    await tpm.read(24);
    await tpm.send('00000014');
    await tpm.expectClosed();
    await platform.send('00000014');
    await platform.expectClosed();
    assert.deepEqual(device.closed, [1]);
  });

  it('closes the client when a TPM connection reaches EOF (tcti-mssim 3.2.1 sends nothing)', async () => {
    const a = await connect('tpm');
    const b = await connect('tpm');
    await a.send(sendCommand(GET_RANDOM_8));
    await b.send(sendCommand(GET_RANDOM_8));
    assert.equal(await a.read(24), enveloped(fakeResponse(0, 1, 12)));
    assert.equal(await b.read(24), enveloped(fakeResponse(0, 2, 12)));
    a.end();
    await eventually(() => device.closed.length === 1);
    assert.deepEqual(device.closed, [1]);
    await b.send(sendCommand(GET_RANDOM_8));
    assert.equal(await b.read(24), enveloped(fakeResponse(0, 2, 12)));
  });

  it('closes only the connection that sends an oversized frame', async () => {
    const good = await connect('tpm');
    const bad = await connect('tpm');
    await bad.send(Buffer.concat([u32(MSSIM.SEND_COMMAND), Buffer.from([0]), u32(4097)]));
    await bad.expectClosed();
    assert.deepEqual(device.closed, [2]);
    await good.send(sendCommand(command(4096)));
    assert.equal(await good.read(24), enveloped(fakeResponse(0, 1, 4096)));
    const badHash = await connect('tpm');
    await badHash.send(Buffer.concat([u32(MSSIM.SIGNAL_HASH_DATA), u32(0xffffffff)]));
    await badHash.expectClosed();
    await good.send(sendCommand(GET_RANDOM_8));
    assert.equal(await good.read(24), enveloped(fakeResponse(0, 1, 12)));
  });

  it('answers REMOTE_HANDSHAKE with version 1 and flags 0x0D; closes on client version 0', async () => {
    const tpm = await connect('tpm');
    await tpm.send('0000000f 00000001');
    assert.equal(await tpm.read(12), '00000001' + '0000000d' + '00000000');
    await tpm.send('0000000f 00000000');
    await tpm.expectClosed();
  });

  it('passes HASH_START, HASH_DATA and HASH_END on the TPM port', async () => {
    const tpm = await connect('tpm');
    await tpm.send('00000005');
    assert.equal(await tpm.read(4), '00000000');
    await tpm.send('00000006 00000003');
    await tpm.send('616263');
    assert.equal(await tpm.read(4), '00000000');
    await tpm.send('00000007');
    assert.equal(await tpm.read(4), '00000000');
    assert.deepEqual(device.signals, ['hashStart', 'hashEnd']);
    assert.deepEqual(device.hashed.map(hex), ['616263']);
  });

  it('acknowledges SET_ALTERNATIVE_RESULT and reads its argument', async () => {
    const tpm = await connect('tpm');
    await tpm.send('00000010 00000922' + hex(sendCommand(GET_RANDOM_8)));
    assert.equal(await tpm.read(4 + 24), '00000000' + enveloped(fakeResponse(0, 1, 12)));
  });

  it('reports the largest command and response big-endian, then starts over', async () => {
    device.respond = (cmd) => (cmd.length > 20 ? command(40, 0x101) : command(10, 0));
    const tpm = await connect('tpm');
    const platform = await connect('platform');
    await tpm.send(sendCommand(command(30, 0x144)));
    await tpm.read(4 + 40 + 4);
    await tpm.send(sendCommand(command(12, 0x17b)));
    await tpm.read(4 + 10 + 4);
    await platform.send('00000019');
    assert.equal(await platform.read(24), '00000010' + '0000001e00000144' + '0000002800000101' + '00000000');
    await platform.send('00000019');
    assert.equal(await platform.read(24), '00000010' + '0'.repeat(32) + '00000000');
  });

  it('answers ACT_GET_SIGNALED with signaled 0', async () => {
    const platform = await connect('platform');
    await platform.send('0000001a 40000110');
    assert.equal(await platform.read(8), '0000000000000000');
  });

  it('STOP closes without reply, stops the server and calls onStop', async () => {
    const tpm = await connect('tpm');
    const platform = await connect('platform');
    await platform.send('00000015');
    await platform.expectClosed();
    await tpm.expectClosed();
    await eventually(() => stops === 1);
    assert.deepEqual(device.closed, [1]);
    await assert.rejects(TestClient.connect(addresses.tpm));
    await assert.rejects(TestClient.connect(addresses.platform));
  });
});

describe('server/mssim-server on unix sockets', () => {
  it('creates PATH and PATH.ctrl with mode 0600 and removes them on close', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mrtpm-mssim-'));
    try {
      const device = new FakeDevice();
      const path = join(dir, 'tpm.sock');
      const server = new MssimServer({ device, endpoint: { path } });
      const addresses = await server.start();
      assert.deepEqual(addresses, { tpm: { kind: 'unix', path }, platform: { kind: 'unix', path: `${path}.ctrl` } });
      for (const p of [path, `${path}.ctrl`]) {
        const s = await stat(p);
        assert.ok(s.isSocket());
        assert.equal(s.mode & 0o777, 0o600);
      }
      const tpm = await TestClient.connect(addresses.tpm);
      await tpm.send(sendCommand(GET_RANDOM_8, 2));
      assert.equal(await tpm.read(24), enveloped(fakeResponse(2, 1, 12)));
      const platform = await TestClient.connect(addresses.platform);
      await platform.send('00000001');
      assert.equal(await platform.read(4), '00000000');
      await server.close();
      await tpm.expectClosed();
      assert.deepEqual(device.closed, [1]);
      await assert.rejects(stat(path));
      await assert.rejects(stat(`${path}.ctrl`));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('replaces a stale socket file left by a crashed server', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mrtpm-mssim-'));
    try {
      const path = join(dir, 'tpm.sock');
      const first = new MssimServer({ device: new FakeDevice(), endpoint: { path } });
      await first.start();
      const second = new MssimServer({ device: new FakeDevice(), endpoint: { path } });
      await assert.rejects(second.start(), /EADDRINUSE/);
      await first.close();
      // A process that exits without closing its listener leaves the socket file behind.
      execFileSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => process.exit(0))`]);
      assert.ok((await stat(path)).isSocket());
      const third = new MssimServer({ device: new FakeDevice(), endpoint: { path } });
      await third.start();
      const tpm = await TestClient.connect({ kind: 'unix', path });
      await tpm.send(sendCommand(GET_RANDOM_8));
      assert.equal(await tpm.read(24), enveloped(fakeResponse(0, 1, 12)));
      tpm.destroy();
      await third.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
