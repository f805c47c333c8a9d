/**
 * Bounded fuzz of mrtpm's raw command channels: mutated and random TPM commands over the swtpm
 * data protocol and inside mssim frames. Every well-framed command must get one well-formed
 * response on the same (persistent) connection; framing-invalid input must close only that
 * connection while other clients keep being served (so, unlike swtpm, the server must serve
 * several clients at once). FUZZ_SEED=n replays another run.
 */
import assert from 'node:assert/strict';
import { classify, mutateCommand, seedCorpus } from '../helpers/command-mutator.js';
import { requireInteropTools } from '../helpers/interop-prereqs.js';
import { startMrtpm } from '../helpers/mrtpm.js';
import { ByteStream } from '../helpers/byte-stream.js';
import { Prng, seedFromEnv } from '../helpers/prng.js';
import { connectMssim, MSSIM, MssimTpmClient, SwtpmDataClient } from '../helpers/raw-client.js';
import { responseProblem, responseStreamProblem } from '../helpers/response-check.js';
import { commands, parseGetRandom, responseCode, TPM_RC_INITIALIZE, TPM_RC_SUCCESS } from '../helpers/tpm-commands.js';

/** Commands up to this size must be answered (TPM2_PT_MAX_COMMAND_SIZE of swtpm is 4096). */
const MAX_COMMAND = 4096;
/** Frames claiming more than this must make the server drop the connection. */
const MAX_FRAME = 1 << 20;
const CLOSE_WITHIN_MS = 3000;

interface Server {
  port: number;
  stop(): Promise<unknown>;
}

function hex(bytes: Buffer): string {
  return bytes.length > 64 ? `${bytes.subarray(0, 64).toString('hex')}... (${bytes.length} bytes)` : bytes.toString('hex');
}

async function startup(client: SwtpmDataClient | MssimTpmClient): Promise<void> {
  const code = responseCode(await client.transmit(commands.startup()));
  assert.ok(code === TPM_RC_SUCCESS || code === TPM_RC_INITIALIZE, `Startup answered 0x${code.toString(16)}`);
}

/** Sends `bytes` on a fresh connection and checks the server's reaction for that framing class. */
async function probeSeparately(port: number, bytes: Buffer, framing: 'size-lie' | 'framing-invalid' | 'oversized'): Promise<void> {
  const stream = await ByteStream.connect(port);
  try {
    stream.write(bytes);
    if (framing === 'size-lie') stream.end();
    if (framing === 'oversized') {
      const header = await stream.read(10, CLOSE_WITHIN_MS).catch(() => undefined);
      if (header) {
        const rest = await stream.read(header.readUInt32BE(2) - 10, CLOSE_WITHIN_MS);
        const problem = responseProblem(Buffer.concat([header, rest]));
        assert.equal(problem, undefined, `oversized ${hex(bytes)}: ${problem}`);
      } else {
        assert.ok(stream.isClosed, `oversized ${hex(bytes)}: neither answered nor closed`);
      }
      return;
    }
    const received = await stream.readToEnd(CLOSE_WITHIN_MS).catch((error: Error) => {
      throw new Error(`${framing} ${hex(bytes)}: connection not closed (${error.message})`);
    });
    const problem = responseStreamProblem(received);
    assert.equal(problem, undefined, `${framing} ${hex(bytes)}: ${problem}`);
  } finally {
    stream.destroy();
  }
}

const seed = seedFromEnv('FUZZ_SEED', 0x5eed);
const corpus = seedCorpus();

/** Client A sends an oversized frame header while client B keeps issuing GetRandom. */
async function oversizedWhileServing(port: number, connectB: () => Promise<SwtpmDataClient | MssimTpmClient>, oversized: Buffer): Promise<void> {
  const b = await connectB();
  const a = await ByteStream.connect(port);
  try {
    assert.equal(parseGetRandom(await b.transmit(commands.getRandom(8))).length, 8);
    a.write(oversized);
    const aClosed = a.closesWithin(CLOSE_WITHIN_MS);
    let served = 0;
    const deadline = Date.now() + 500;
    while (Date.now() < deadline) {
      assert.equal(parseGetRandom(await b.transmit(commands.getRandom(8))).length, 8);
      served++;
    }
    assert.ok(await aClosed, `oversized frame ${hex(oversized)} did not close its connection`);
    assert.ok(served > 5, `parallel client served only ${served} commands`);
    assert.equal(parseGetRandom(await b.transmit(commands.getRandom(8))).length, 8, 'parallel client still served');
  } finally {
    a.destroy();
    b.close();
  }
}

describe('fuzz: swtpm data protocol stays well-formed', function () {
  this.timeout(120000);
  let swtpmServer: Server | undefined;

  before(async function () {
    this.timeout(60000);
    await requireInteropTools(this);
    swtpmServer = await startMrtpm({ protocol: 'swtpm', logLevel: 'silent' });
  });

  after(async () => {
    await swtpmServer?.stop();
  });

  it('swtpm protocol: 8000 mutated/random commands, each answered or its connection closed', async () => {
    const rng = new Prng(seed);
    const port = swtpmServer!.port;
    let client = await SwtpmDataClient.connect(port);
    await startup(client);
    const counts = { 'well-framed': 0, 'size-lie': 0, 'framing-invalid': 0, oversized: 0 };
    try {
      for (let i = 0; i < 8000; i++) {
        const bytes = rng.chance(0.02) ? Buffer.concat([mutateCommand(rng, corpus), rng.bytes(rng.int(4000, 6000))]) : mutateCommand(rng, corpus);
        const framing = classify(bytes, MAX_COMMAND, MAX_FRAME);
        counts[framing]++;
        if (framing !== 'well-framed') {
          await probeSeparately(port, bytes, framing);
          continue;
        }
        client.send(bytes);
        const response = await client.receive(5000).catch((error: Error) => {
          throw new Error(`case ${i} (seed ${seed}) ${hex(bytes)}: no response (${error.message})`);
        });
        const problem = responseProblem(response);
        assert.equal(problem, undefined, `case ${i} (seed ${seed}) ${hex(bytes)} -> ${hex(response)}: ${problem}`);
        if (rng.chance(0.01)) {
          client.close();
          client = await SwtpmDataClient.connect(port);
        }
      }
    } finally {
      client.close();
    }
    assert.ok(counts['well-framed'] > 6000 && counts['size-lie'] > 100 && counts['framing-invalid'] > 50, JSON.stringify(counts));
    const fresh = await SwtpmDataClient.connect(port);
    try {
      assert.equal(parseGetRandom(await fresh.transmit(commands.getRandom(16))).length, 16, 'GetRandom after the fuzz');
    } finally {
      fresh.close();
    }
  });

  it('swtpm protocol: commandSize 0xFFFFFFFF closes that connection; a parallel client keeps being served', async () => {
    const port = swtpmServer!.port;
    const oversized = Buffer.concat([Buffer.from('8001ffffffff0000017b', 'hex'), Buffer.alloc(1000)]);
    await oversizedWhileServing(port, () => SwtpmDataClient.connect(port), oversized);
  });

});

describe('fuzz: mssim protocol stays well-formed', function () {
  this.timeout(120000);
  let mssimServer: Server | undefined;

  before(async function () {
    this.timeout(60000);
    await requireInteropTools(this);
    mssimServer = await startMrtpm({ protocol: 'mssim', logLevel: 'silent' });
  });

  after(async () => {
    await mssimServer?.stop();
  });

  it('mssim protocol: 3000 mutated/random commands in valid frames, all answered', async () => {
    const rng = new Prng(seed ^ 0xa5a5a5a5);
    const { tpm, platform } = await connectMssim(mssimServer!.port);
    try {
      await startup(tpm);
      for (let i = 0; i < 3000; i++) {
        const bytes = mutateCommand(rng, corpus);
        const locality = rng.chance(0.9) ? 0 : rng.int(1, 4);
        tpm.send(MssimTpmClient.frame(bytes, locality));
        const response = await tpm.receive(5000).catch((error: Error) => {
          throw new Error(`case ${i} (seed ${seed}) locality ${locality} ${hex(bytes)}: no response (${error.message})`);
        });
        const problem = responseProblem(response);
        assert.equal(problem, undefined, `case ${i} (seed ${seed}) locality ${locality} ${hex(bytes)} -> ${hex(response)}: ${problem}`);
      }
      assert.equal(parseGetRandom(await tpm.transmit(commands.getRandom(8))).length, 8);
    } finally {
      tpm.close();
      platform.close();
    }
  });

  it('mssim protocol: unknown TPM-port codes and oversized lengths close only that connection', async () => {
    const port = mssimServer!.port;
    const frames = [
      Buffer.from('12345678', 'hex'),
      Buffer.from('000000ff', 'hex'),
      Buffer.concat([Buffer.from('00000008' + '00' + '01000000', 'hex'), Buffer.alloc(100)]),
      Buffer.concat([Buffer.from('00000008' + '00' + 'ffffffff', 'hex'), Buffer.alloc(100)]),
    ];
    for (const frame of frames) {
      const stream = await ByteStream.connect(port);
      stream.write(frame);
      assert.ok(await stream.closesWithin(CLOSE_WITHIN_MS), `mssim frame ${hex(frame)} did not close the connection`);
      stream.destroy();
    }
    const { tpm, platform } = await connectMssim(port);
    try {
      assert.equal(parseGetRandom(await tpm.transmit(commands.getRandom(8))).length, 8);
      tpm.send(Buffer.from([0, 0, 0, MSSIM.SESSION_END]));
      assert.ok(await tpm.stream.closesWithin(CLOSE_WITHIN_MS), 'SESSION_END closes the TPM connection');
    } finally {
      tpm.close();
      platform.close();
    }
  });

  it('mssim protocol: a 16 MiB frame length closes that connection; a parallel client keeps being served', async () => {
    const port = mssimServer!.port;
    const oversized = Buffer.concat([Buffer.from('00000008' + '00' + '01000000', 'hex'), Buffer.from('80010100000a0000017b', 'hex'), Buffer.alloc(1000)]);
    const connectB = async (): Promise<MssimTpmClient> => {
      const { tpm, platform } = await connectMssim(port);
      platform.close();
      return tpm;
    };
    await oversizedWhileServing(port, connectB, oversized);
  });
});
