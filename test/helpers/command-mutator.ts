import { Prng } from './prng.js';
import { commands, TPM_RS_PW } from './tpm-commands.js';

/** Valid commands the mutations start from. */
export function seedCorpus(): Buffer[] {
  return [
    commands.getRandom(16),
    commands.getRandom(64),
    commands.readClock(),
    commands.getCapability(6, 0x100, 8),
    commands.getCapability(5, 0, 1),
    commands.pcrRead([{ hash: 'sha256', pcrs: [0, 1, 16] }, { hash: 'sha384', pcrs: [23] }]),
    commands.pcrExtend(16, [{ hash: 'sha256', digest: Buffer.alloc(32, 0xab) }]),
    commands.pcrExtend(23, [{ hash: 'sha256', digest: Buffer.alloc(32, 1) }, { hash: 'sha384', digest: Buffer.alloc(48, 2) }]),
    commands.pcrEvent(16, Buffer.alloc(40, 0x55)),
    commands.pcrReset(16),
    commands.hashSequenceStart('sha256'),
    commands.sequenceUpdate(0x80000000, Buffer.alloc(100, 3)),
    commands.sequenceComplete(0x80000000, Buffer.alloc(10, 4)),
    commands.flushContext(0x80000000),
  ];
}

const HANDLES = [0, 0x40000001, 0x40000007, 0x4000000c, TPM_RS_PW, 0x80000000, 0x80000001, 0x81000001, 0x01000000, 0x02000000, 0x03000000, 0xffffffff];
const TAGS = [0x8001, 0x8002, 0x00c1, 0x00c4, 0x8000, 0x0000, 0xffff];

function withSize(bytes: Buffer): Buffer {
  if (bytes.length >= 6) bytes.writeUInt32BE(bytes.length, 2);
  return bytes;
}

/** Mutations that keep or deliberately break the header size; the caller classifies the result. */
const mutators: ((rng: Prng, seed: Buffer) => Buffer)[] = [
  // bit flips anywhere (may hit the size field)
  (rng, seed) => {
    const out = Buffer.from(seed);
    for (let i = rng.int(1, 4); i > 0; i--) out[rng.int(0, out.length - 1)]! ^= 1 << rng.int(0, 7);
    return out;
  },
  // bit flips after the size field
  (rng, seed) => {
    const out = Buffer.from(seed);
    for (let i = rng.int(1, 4); i > 0; i--) out[rng.int(6, out.length - 1)]! ^= 1 << rng.int(0, 7);
    return out;
  },
  // truncation, size field fixed up or left lying
  (rng, seed) => {
    const out = Buffer.from(seed.subarray(0, rng.int(0, seed.length - 1)));
    return rng.chance(0.7) ? withSize(out) : out;
  },
  // size field lies
  (rng, seed) => {
    const out = Buffer.from(seed);
    out.writeUInt32BE(rng.pick([0, 1, 9, 10, 11, seed.length - 1, seed.length + 1, seed.length + rng.int(2, 100), rng.int(0, 0xffffffff)]) >>> 0, 2);
    return out;
  },
  // random first handle
  (rng, seed) => {
    const out = Buffer.from(seed);
    if (out.length >= 14) out.writeUInt32BE(rng.chance(0.5) ? rng.pick(HANDLES) : rng.int(0, 0xffffffff) >>> 0, 10);
    return out;
  },
  // random tag
  (rng, seed) => {
    const out = Buffer.from(seed);
    out.writeUInt16BE(rng.chance(0.6) ? rng.pick(TAGS) : rng.int(0, 0xffff), 0);
    return out;
  },
  // random command code
  (rng, seed) => {
    const out = Buffer.from(seed);
    out.writeUInt32BE(rng.chance(0.8) ? rng.int(0x11f, 0x19f) : rng.int(0, 0xffffffff) >>> 0, 6);
    return out;
  },
  // extra trailing bytes, size fixed up
  (rng, seed) => withSize(Buffer.concat([seed, rng.bytes(rng.int(1, 64))])),
  // wholly random command with a consistent header
  (rng) => {
    const body = rng.bytes(rng.int(0, 200));
    const header = Buffer.alloc(10);
    header.writeUInt16BE(rng.pick([0x8001, 0x8002]), 0);
    header.writeUInt32BE(10 + body.length, 2);
    header.writeUInt32BE(rng.chance(0.9) ? rng.int(0x11f, 0x19f) : rng.int(0, 0xffffffff) >>> 0, 6);
    return Buffer.concat([header, body]);
  },
];

/** One fuzz input: a mutated seed command, or (rarely) a random one. */
export function mutateCommand(rng: Prng, corpus: Buffer[]): Buffer {
  return rng.pick(mutators)(rng, rng.pick(corpus));
}

export type Framing = 'well-framed' | 'size-lie' | 'framing-invalid' | 'oversized';

/**
 * How a raw-channel server must treat `bytes`: answer exactly one response (size field equals the
 * byte count, 10..maxCommand), may answer or close (maxCommand < size <= maxFrame), must close
 * (size < 10 or > maxFrame), or a size lie the stream framing decides.
 */
export function classify(bytes: Buffer, maxCommand: number, maxFrame: number): Framing {
  // Without a whole header the server cannot judge the frame; end of input decides.
  if (bytes.length < 10) return 'size-lie';
  const size = bytes.readUInt32BE(2);
  if (size < 10 || size > maxFrame) return 'framing-invalid';
  if (size !== bytes.length) return 'size-lie';
  return size <= maxCommand ? 'well-framed' : 'oversized';
}

