import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONTROL_COMMANDS, capabilities, infoJson } from '../../src/server/swtpm-control.js';
import { DEFAULT_SWTPM_INFO, type SwtpmAddresses, SwtpmServer } from '../../src/server/swtpm-server.js';
import { u32 } from '../../src/server/wire.js';
import { FakeDevice, GET_RANDOM_8, command, fakeResponse } from './fake-device.js';
import { TestClient, eventually } from './test-client.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const FATAL = '80010000000a00000101';

describe('server/swtpm-server', () => {
  let device: FakeDevice;
  let server: SwtpmServer;
  let addresses: Required<SwtpmAddresses>;
  let stops: number;
  let stores: number;
  let storeFails: boolean;
  const clients: TestClient[] = [];
  const connect = async (channel: 'data' | 'ctrl'): Promise<TestClient> => {
    const client = await TestClient.connect(addresses[channel]);
    clients.push(client);
    return client;
  };
  /** One command on a fresh data connection, as tcti-swtpm does it. */
  const transact = async (cmd: Uint8Array, responseLength = 16): Promise<string> => {
    const data = await connect('data');
    await data.send(cmd);
    const response = await data.read(responseLength);
    data.end();
    await data.closed;
    return response;
  };
  /** One control request on a connection; returns the reply's first n bytes. */
  const control = async (request: string, replyLength: number, ctrl?: TestClient): Promise<string> => {
    const c = ctrl ?? (await connect('ctrl'));
    await c.send(request);
    return c.read(replyLength);
  };

  beforeEach(async () => {
    device = new FakeDevice();
    stops = 0;
    stores = 0;
    storeFails = false;
    server = new SwtpmServer({
      device,
      endpoint: { port: 0 },
      maxFrame: 4096,
      onStop: () => stops++,
      onStoreVolatile: () => {
        stores++;
        if (storeFails) throw new Error('disk full');
      },
    });
    addresses = (await server.start()) as Required<SwtpmAddresses>;
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await server.close();
  });

  describe('data channel', () => {
    it('listens on P and P+1 on 127.0.0.1', () => {
      assert.ok(addresses.data.kind === 'tcp' && addresses.ctrl.kind === 'tcp');
      assert.equal(addresses.data.host, '127.0.0.1');
      assert.equal(addresses.ctrl.port, addresses.data.port + 1);
    });

    it('answers a raw command with the raw response, reading the header then the rest', async () => {
      const data = await connect('data');
      await data.send(GET_RANDOM_8.subarray(0, 4));
      await data.send(GET_RANDOM_8.subarray(4, 10));
      await data.expectSilent(30);
      await data.send(GET_RANDOM_8.subarray(10));
      assert.equal(await data.read(16), hex(fakeResponse(0, 1, 12)));
      await data.expectSilent(30);
    });

    it('serves several commands on a persistent connection, also from one segment', async () => {
      const data = await connect('data');
      await data.send(Buffer.concat([command(10), command(2000), GET_RANDOM_8]));
      assert.equal(await data.read(48), [fakeResponse(0, 1, 10), fakeResponse(0, 1, 2000), fakeResponse(0, 1, 12)].map(hex).join(''));
    });

    it('gives all data connections one client; an empty connection starts a new one', async () => {
      assert.equal(await transact(GET_RANDOM_8), hex(fakeResponse(0, 1, 12)));
      assert.equal(await transact(GET_RANDOM_8), hex(fakeResponse(0, 1, 12)));
      assert.deepEqual(device.opened, [1]);
      // tcti-swtpm's init: connect to the data port and close at once.
      const probe = await connect('data');
      probe.end();
      await eventually(() => device.closed.length === 1);
      assert.deepEqual(device.closed, [1]);
      assert.equal(await transact(GET_RANDOM_8), hex(fakeResponse(0, 2, 12)));
      assert.deepEqual(device.opened, [1, 2]);
      const again = await connect('data');
      again.end();
      await eventually(() => device.closed.length === 2);
      // A second empty connection in a row has no client left to close.
      const idle = await connect('data');
      idle.end();
      await idle.closed;
      await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(device.closed, [1, 2]);
    });

    it('accepts the mssim SEND_COMMAND prefix: envelope, locality kept for later raw commands', async () => {
      const data = await connect('data');
      await data.send('00000008 03 0000000c');
      await data.send(GET_RANDOM_8);
      assert.equal(await data.read(24), '00000010' + hex(fakeResponse(3, 1, 12)) + '00000000');
      await data.send(GET_RANDOM_8);
      assert.equal(await data.read(16), hex(fakeResponse(3, 1, 12)));
      assert.equal(server.locality, 3);
    });

    it('closes the connection on commandSize < 10 or > max', async () => {
      const small = await connect('data');
      await small.send('8001 00000009 0000017b');
      await small.expectClosed();
      const large = await connect('data');
      await large.send('8001 00001001 0000017b');
      await large.expectClosed();
      const prefixed = await connect('data');
      await prefixed.send('00000008 00 00001001 80');
      await prefixed.expectClosed();
      assert.equal(device.executed.length, 0);
      assert.equal(await transact(command(4096)), hex(fakeResponse(0, 1, 4096)));
    });

    it('answers TPM_RC_FAILURE while stopped, and runs again after CMD_INIT', async () => {
      assert.equal(await control('0000000e', 4), '00000000');
      assert.deepEqual(device.signals, ['powerOff']);
      assert.equal(await transact(GET_RANDOM_8, 10), FATAL);
      const data = await connect('data');
      await data.send('00000008 00 0000000c' + hex(GET_RANDOM_8));
      assert.equal(await data.read(18), '0000000a' + FATAL + '00000000');
      assert.equal(device.executed.length, 0);
      assert.equal(await control('00000002 00000000', 4), '00000000');
      assert.deepEqual(device.signals, ['powerOff', 'powerOff', 'powerOn']);
      assert.equal(await transact(GET_RANDOM_8), hex(fakeResponse(0, 1, 12)));
    });
  });

  describe('control channel', () => {
    it('CMD_GET_CAPABILITY: 8-byte bitmask of exactly what is implemented', async () => {
      // All 16 swtpm 0.7.1 bits, as swtpm 0.7.1 reports for a TPM 2.
      assert.equal(await control('00000001', 8), '000000000000ffff');
      assert.equal(capabilities(), 0xffffn);
    });

    it('CMD_INIT power-cycles the device; bit0 DELETE_VOLATILE does the same', async () => {
      const ctrl = await connect('ctrl');
      assert.equal(await control('00000002 00000000', 4, ctrl), '00000000');
      assert.equal(await control('00000002 00000001', 4, ctrl), '00000000');
      assert.deepEqual(device.signals, ['powerOff', 'powerOn', 'powerOff', 'powerOn']);
      assert.equal(await control('00000002 00000000 00', 4, ctrl), '00000003', 'extra byte');
      assert.equal(device.signals.length, 4);
    });

    it('CMD_SHUTDOWN answers 0, then the server stops and calls onStop', async () => {
      const data = await connect('data');
      assert.equal(await control('00000003', 4), '00000000');
      await eventually(() => stops === 1);
      await data.expectClosed();
      await assert.rejects(TestClient.connect(addresses.data));
      await assert.rejects(TestClient.connect(addresses.ctrl));
    });

    it('CMD_SHUTDOWN with an extra byte answers 3 and keeps running', async () => {
      assert.equal(await control('00000003 00', 4), '00000003');
      assert.equal(stops, 0);
    });

    it('CMD_GET_TPMESTABLISHED: u32 result, u8 bit, 3 pad bytes', async () => {
      const ctrl = await connect('ctrl');
      assert.equal(await control('00000004', 8, ctrl), '0000000000000000');
      device.established = true;
      assert.equal(await control('00000004', 8, ctrl), '0000000001000000');
    });

    it('CMD_SET_LOCALITY: 1 byte (tcti-swtpm) or 4 bytes (QEMU); > 4 answers 0x3d', async () => {
      const ctrl = await connect('ctrl');
      assert.equal(await control('00000005 00', 4, ctrl), '00000000');
      assert.equal(await control('00000005 05', 4, ctrl), '0000003d');
      assert.equal(server.locality, 0);
      assert.equal(await control('00000005 02000000', 4, ctrl), '00000000');
      assert.equal(server.locality, 2);
      assert.equal(await transact(GET_RANDOM_8), hex(fakeResponse(2, 1, 12)));
      assert.equal(await control('00000005 04', 4, ctrl), '00000000');
      assert.equal(server.locality, 4);
    });

    it('CMD_HASH_START / HASH_DATA / HASH_END reach the device', async () => {
      const ctrl = await connect('ctrl');
      assert.equal(await control('00000006', 4, ctrl), '00000000');
      assert.equal(await control('00000007 00000004 01020304', 4, ctrl), '00000000');
      assert.equal(await control('00000008', 4, ctrl), '00000000');
      assert.deepEqual(device.signals, ['hashStart', 'hashEnd']);
      assert.deepEqual(device.hashed.map(hex), ['01020304']);
    });

    it('CMD_CANCEL_TPM_CMD answers 0 and raises no lasting cancel flag', async () => {
      assert.equal(await control('00000009', 4), '00000000');
      assert.deepEqual(device.signals, []);
    });

    it('CMD_STORE_VOLATILE calls the hook: 0 on success, TPM_FAIL (9) if it throws', async () => {
      const ctrl = await connect('ctrl');
      assert.equal(await control('0000000a', 4, ctrl), '00000000');
      storeFails = true;
      assert.equal(await control('0000000a', 4, ctrl), '00000009');
      assert.equal(stores, 2);
    });

    it('CMD_RESET_TPMESTABLISHED: locality byte; > 4 answers 0x3d', async () => {
      const ctrl = await connect('ctrl');
      device.established = true;
      assert.equal(await control('0000000b 03', 4, ctrl), '00000000');
      assert.equal(await control('0000000b 05', 4, ctrl), '0000003d');
      assert.deepEqual(device.establishedResets, [3]);
    });

    it('CMD_STOP: commands that need a running TPM answer 0x0a until CMD_INIT', async () => {
      const ctrl = await connect('ctrl');
      assert.equal(await control('0000000e', 4, ctrl), '00000000');
      for (const request of ['00000004', '00000006', '00000007 00000001 00', '00000008', '00000009', '0000000a', '0000000b 03']) {
        assert.equal(await control(request, 4, ctrl), '0000000a', request);
      }
      assert.equal(stores, 0);
      assert.equal(await control('00000005 01', 4, ctrl), '00000000', 'SET_LOCALITY works while stopped');
      assert.equal(await control('00000002 00000000', 4, ctrl), '00000000');
      assert.equal(await control('00000004', 8, ctrl), '0000000000000000');
    });

    it('CMD_GET_CONFIG: result 0, flags 0', async () => {
      assert.equal(await control('0000000f', 8), '0000000000000000');
    });

    it('CMD_SET_BUFFERSIZE: query; setting while running answers 0x0a; setting while stopped', async () => {
      const ctrl = await connect('ctrl');
      assert.equal(await control('00000011 00000000', 16, ctrl), '00000000' + '00001000'.repeat(3));
      assert.equal(await control('00000011 00000800', 4, ctrl), '0000000a');
      await control('0000000e', 4, ctrl);
      assert.equal(await control('00000011 00000800', 16, ctrl), '00000000' + '00001000'.repeat(3));
    });

    it('CMD_GET_INFO: our own JSON, NUL-terminated, with offset', async () => {
      const ctrl = await connect('ctrl');
      const spec = '{"TPMSpecification":{"family":"2.0","level":0,"revision":159}}';
      const reply1 = await control('00000012 0000000000000001 00000000 00000000', 12 + spec.length + 1, ctrl);
      assert.equal(reply1, '00000000' + hex(u32(spec.length + 1)) + hex(u32(spec.length + 1)) + hex(Buffer.from(spec + '\0')));
      const attrs = '{"TPMAttributes":{"manufacturer":"id:4D525450","version":"id:00010000","model":"mrtpm"}}';
      assert.equal(infoJson(DEFAULT_SWTPM_INFO, 2n), attrs);
      const reply2 = await control('00000012 0000000000000002 00000010 00000000', 12 + attrs.length + 1 - 16, ctrl);
      assert.equal(reply2, '00000000' + hex(u32(attrs.length + 1)) + hex(u32(attrs.length + 1 - 16)) + hex(Buffer.from(attrs.slice(16) + '\0')));
      assert.equal(await control(`00000012 0000000000000002 ${hex(u32(attrs.length))} 00000000`, 4, ctrl), '00000003');
      assert.equal(infoJson(DEFAULT_SWTPM_INFO, 3n), `{${spec.slice(1, -1)},${attrs.slice(1, -1)}}`);
      assert.equal(await control('00000012 0000000000000000 00000000 00000000', 15, ctrl), '00000000' + '00000003' + '00000003' + hex(Buffer.from('{}\0')));
    });

    it('unknown codes answer 0x0a (TPM_BAD_ORDINAL), including CMD_LOCK_STORAGE (newer than 0.7.1)', async () => {
      const ctrl = await connect('ctrl');
      for (const code of ['00000013', '000000ff']) {
        assert.equal(await control(code, 4, ctrl), '0000000a', code);
      }
      assert.ok(!CONTROL_COMMANDS.has(0x13));
    });

    it('CMD_SET_DATAFD on a TCP control socket (no fd can come) answers TPM_BAD_PARAMETER', async () => {
      assert.equal(await control('00000010', 4), '00000003');
    });

    it('CMD_GET_STATEBLOB: header, then the blob from offset; a missing part is TPM_RETRY; unknown type TPM_BAD_PARAMETER', async () => {
      const ctrl = await connect('ctrl');
      device.blobs.set('permanent', Buffer.from('0102030405', 'hex'));
      assert.equal(await control('0000000c 00000001 00000001 00000000', 21, ctrl), '00000000 00000000 00000005 00000005 0102030405'.replace(/ /g, ''));
      assert.equal(await control('0000000c 00000001 00000001 00000003', 18, ctrl), '00000000 00000000 00000002 00000002 0405'.replace(/ /g, ''));
      assert.equal(await control('0000000c 00000001 00000003 00000000', 16, ctrl), '00000800 00000000 00000000 00000000'.replace(/ /g, ''));
      assert.equal(await control('0000000c 00000001 00000009 00000000', 16, ctrl), '00000003 00000000 00000000 00000000'.replace(/ /g, ''));
      device.poweredOn = false;
      assert.equal(await control('0000000c 00000001 00000001 00000000', 4, ctrl), '0000000a');
    });

    it('CMD_SET_STATEBLOB: only while stopped (the body is read either way); refused blobs are TPM_BAD_PARAMETER', async () => {
      const ctrl = await connect('ctrl');
      assert.equal(await control('0000000d 00000000 00000002 00000003 aabbcc', 4, ctrl), '0000000a');
      device.poweredOn = false;
      assert.equal(await control('0000000d 00000000 00000002 00000003 aabbcc', 4, ctrl), '00000000');
      assert.deepEqual(device.blobs.get('volatile'), Buffer.from('aabbcc', 'hex'));
      assert.equal(await control('0000000d 00000000 00000002 00000001 ff', 4, ctrl), '00000003');
      assert.equal(await control('0000000d 00000000 00000007 00000001 00', 4, ctrl), '00000003');
      assert.equal(await control('0000000d 00000000 00000002 00000000', 4, ctrl), '00000000');
      assert.equal(device.blobs.has('volatile'), false);
    });

    it('tolerates extra bytes where swtpm checks n < size', async () => {
      const ctrl = await connect('ctrl');
      assert.equal(await control('00000005 01 ffffff', 4, ctrl), '00000000');
      assert.equal(server.locality, 1);
      assert.equal(await control('00000011 00000000 aabb', 16, ctrl), '00000000' + '00001000'.repeat(3));
      assert.equal(await control('00000001 aa', 8, ctrl), '000000000000ffff');
    });

    it('answers 3 for extra bytes where swtpm checks n != size', async () => {
      const ctrl = await connect('ctrl');
      for (const code of ['04', '06', '08', '09', '0a', '0e', '0f']) {
        assert.equal(await control(`000000${code} 00`, 4, ctrl), '00000003', code);
      }
      assert.deepEqual(device.signals, []);
      assert.equal(stores, 0);
    });

    it('keeps a control connection for many requests, and serves several connections', async () => {
      const a = await connect('ctrl');
      const b = await connect('ctrl');
      assert.equal(await control('00000005 00', 4, a), '00000000');
      assert.equal(await control('00000004', 8, b), '0000000000000000');
      assert.equal(await control('0000000f', 8, a), '0000000000000000');
    });

    it('closes an incomplete request after 500 ms without an answer', async () => {
      const ctrl = await connect('ctrl');
      const started = Date.now();
      await ctrl.send('00000005');
      await ctrl.expectClosed(2000);
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 450 && elapsed < 1500, `closed after ${elapsed} ms`);
      const partialCode = await connect('ctrl');
      await partialCode.send('0000');
      await partialCode.expectClosed(2000);
      assert.equal(server.locality, 0);
    });

    it('waits for a request split across segments within the deadline', async () => {
      const ctrl = await connect('ctrl');
      await ctrl.send('000000');
      await ctrl.send('05');
      await new Promise((r) => setTimeout(r, 100));
      await ctrl.send('03');
      assert.equal(await ctrl.read(4), '00000000');
      assert.equal(server.locality, 3);
    });

    it('does the tcti-swtpm init and one command as the library does', async () => {
      const probe = await connect('data');
      probe.end();
      await probe.closed;
      assert.equal(await control('00000005 00', 4), '00000000');
      assert.equal(await transact(GET_RANDOM_8), hex(fakeResponse(0, 1, 12)));
    });
  });
});

describe('server/swtpm-server on unix sockets', () => {
  it('creates PATH and PATH.ctrl with mode 0600, serves both, removes them on close', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mrtpm-swtpm-'));
    try {
      const device = new FakeDevice();
      const path = join(dir, 'swtpm.sock');
      const server = new SwtpmServer({ device, endpoint: { path } });
      const addresses = await server.start();
      assert.deepEqual(addresses, { data: { kind: 'unix', path }, ctrl: { kind: 'unix', path: `${path}.ctrl` } });
      for (const p of [path, `${path}.ctrl`]) assert.equal((await stat(p)).mode & 0o777, 0o600);
      const data = await TestClient.connect(addresses.data);
      await data.send(GET_RANDOM_8);
      assert.equal(await data.read(16), hex(fakeResponse(0, 1, 12)));
      const ctrl = await TestClient.connect(addresses.ctrl);
      await ctrl.send('00000001');
      assert.equal(await ctrl.read(8), '000000000000ffff');
      await server.close();
      await data.expectClosed();
      await ctrl.expectClosed();
      assert.deepEqual(device.closed, [1]);
      await assert.rejects(stat(path));
      await assert.rejects(stat(`${path}.ctrl`));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('takes a separate control port', async () => {
    const device = new FakeDevice();
    const probe = new SwtpmServer({ device, endpoint: { port: 0 } });
    const free = await probe.start();
    await probe.close();
    assert.ok(free.ctrl.kind === 'tcp');
    const server = new SwtpmServer({ device, endpoint: { port: 0, ctrlPort: free.ctrl.port } });
    try {
      const addresses = await server.start();
      assert.ok(addresses.ctrl.kind === 'tcp');
      assert.equal(addresses.ctrl.port, free.ctrl.port);
      const ctrl = await TestClient.connect(addresses.ctrl);
      await ctrl.send('0000000f');
      assert.equal(await ctrl.read(8), '0000000000000000');
      ctrl.destroy();
    } finally {
      await server.close();
    }
  });
});
