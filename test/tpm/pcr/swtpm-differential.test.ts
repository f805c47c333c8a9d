/**
 * Differential check of the PCR and hash commands: the same raw command stream goes to the engine
 * (in process) and to real swtpm (libtpms, the TCG reference implementation), both with the banks
 * sha256+sha384, and every response must be byte-identical. Localities are set through swtpm's
 * control channel; _TPM_Init is CMD_INIT there and Tpm.init() here.
 *
 * With CI=true a missing swtpm fails the suite; otherwise the suite is reported pending, loudly.
 * DIFF_SEED=n replays another random part.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { requireInteropTools } from '../../helpers/interop-prereqs.js';
import { SwtpmDataClient } from '../../helpers/raw-client.js';
import { ByteStream } from '../../helpers/byte-stream.js';
import { startSwtpm, type SwtpmServer } from '../../helpers/swtpm.js';
import { Tpm } from '../../../src/tpm/engine/tpm.js';
import { manufacture } from '../../../src/tpm/state/initial-state.js';
import {
  ALG, RH, CC, bits, cmd, commands, pw, rcOf, u16, u32, u8, type Selection,
} from '../helpers/pcr-cmd.js';

/** One step: a command at a locality, or a platform _TPM_Init. */
type Step = { what: string; locality?: number; command: Buffer; mask?: (r: Buffer) => Buffer } | { what: string; init: true };

const ALL = [...Array(24).keys()];
const sha = (alg: 'sha1' | 'sha256' | 'sha384' | 'sha512', n: number, seed: number): Buffer =>
  createHash(alg).update(`${seed}`).digest().subarray(0, n);
const DIGESTS = (seed: number): [number, Buffer][] => [
  [ALG.sha1, sha('sha1', 20, seed)], [ALG.sha256, sha('sha256', 32, seed)],
  [ALG.sha384, sha('sha384', 48, seed)], [ALG.sha512, sha('sha512', 64, seed)],
];
/** The hash-check ticket's HMAC is keyed with a per-TPM secret: compare everything around it. */
const maskTicket = (r: Buffer): Buffer => {
  const out = Buffer.from(r);
  if (rcOf(out) === 0 && out.readUInt16BE(out.length - 66) === 64) out.fill(0, out.length - 64);
  return out;
};

/** A small deterministic PRNG (xorshift32), so a failing run can be replayed with DIFF_SEED. */
function prng(seed: number): { int(n: number): number; pick<T>(xs: readonly T[]): T } {
  let s = seed >>> 0 || 1;
  const next = (): number => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; };
  return { int: (n) => next() % n, pick: (xs) => xs[next() % xs.length]! };
}

const readAll = (list: Selection[]): Step => ({ what: `PCR_Read ${JSON.stringify(list)}`, command: commands.read(list) });
const everyPcrRead = (): Step[] => [
  readAll([[ALG.sha256, bits(ALL)], [ALG.sha384, bits(ALL)]]),
  readAll([[ALG.sha256, bits(ALL.slice(8))], [ALG.sha384, bits(ALL.slice(8))]]),
  readAll([[ALG.sha256, bits(ALL.slice(16))], [ALG.sha1, bits(ALL)], [ALG.sha384, bits(ALL.slice(16))]]),
  readAll([[ALG.sha384, bits(ALL.slice(8, 16))], [ALG.sha512, bits(ALL)]]),
];

function scriptedSteps(): Step[] {
  const steps: Step[] = [];
  const add = (what: string, command: Buffer, locality = 0): void => { steps.push({ what, command, locality }); };
  // PCR_Read selections: odd sizes, unallocated and unknown banks, too many entries
  add('read nothing', commands.read([]));
  add('read sha1 (unallocated)', commands.read([[ALG.sha1, [0xff, 0xff, 0xff]], [ALG.sha256, [0, 0, 0x80]]]));
  add('read size 4', commands.read([[ALG.sha256, [1, 0, 0, 0]]]));
  add('read size 2', commands.read([[ALG.sha256, [1, 0]]]));
  add('read size 1', commands.read([[ALG.sha384, [1]]]));
  add('read TPM_ALG_NULL', commands.read([[ALG.null, [1, 0, 0]]]));
  add('read SM3', commands.read([[ALG.sm3, [1, 0, 0]]]));
  add('read 5 entries', commands.read(Array.from({ length: 5 }, (): Selection => [ALG.sha256, [1, 0, 0]])));
  add('read 4 entries same bank', commands.read(Array.from({ length: 4 }, (_, i): Selection => [ALG.sha256, bits([i, i + 4, i + 8])])));
  add('read truncated', commands.read([[ALG.sha256, [1, 0, 0]]]).subarray(0, 17));
  steps.push(...everyPcrRead());
  // extends and events at every locality, including banks that are not allocated
  for (let locality = 0; locality <= 4; locality++) {
    for (let pcr = 0; pcr < 24; pcr++) {
      add(`extend ${pcr} @${locality}`, commands.extend(pcr, DIGESTS(pcr * 8 + locality).filter((_, i) => (pcr + i + locality) % 3 !== 0)), locality);
      add(`event ${pcr} @${locality}`, commands.event(pcr, Buffer.alloc((pcr * 37) % 1025, pcr)), locality);
    }
    add(`extend NULL @${locality}`, commands.extend(RH.NULL, DIGESTS(99)), locality);
    add(`event NULL @${locality}`, commands.event(RH.NULL, Buffer.alloc(1024, 1)), locality);
    steps.push(...everyPcrRead());
  }
  for (let locality = 0; locality <= 4; locality++) {
    for (let pcr = 0; pcr < 24; pcr++) add(`reset ${pcr} @${locality}`, commands.reset(pcr), locality);
    steps.push(...everyPcrRead());
    for (let pcr = 0; pcr < 24; pcr++) add(`re-extend ${pcr} @${locality}`, commands.extend(pcr, DIGESTS(pcr)), locality);
  }
  // handle and parameter errors
  add('extend PCR 24', commands.extend(24, DIGESTS(1)));
  add('extend owner handle', commands.extend(RH.OWNER, DIGESTS(1)));
  add('reset NULL', commands.reset(RH.NULL));
  add('extend SM3 digest', commands.extend(16, [[ALG.sm3, Buffer.alloc(32)]]));
  add('extend NULL alg', commands.extend(16, [[ALG.null, Buffer.alloc(0)]]));
  add('extend 5 digests', commands.extend(16, [...DIGESTS(1), [ALG.sha1, Buffer.alloc(20)]]));
  add('extend duplicate bank', commands.extend(16, [[ALG.sha256, Buffer.alloc(32, 1)], [ALG.sha256, Buffer.alloc(32, 2)]]));
  add('extend short digest', cmd(CC.PCR_Extend, [16], [u32(1), u16(ALG.sha256), Buffer.alloc(31)], [pw()]));
  add('extend trailing bytes', cmd(CC.PCR_Extend, [16], [u32(0), u8(0)], [pw()]));
  add('extend no auth', cmd(CC.PCR_Extend, [16], [u32(0)]));
  add('extend two sessions', cmd(CC.PCR_Extend, [16], [u32(0)], [pw(), pw()]));
  add('extend bad password', cmd(CC.PCR_Extend, [16], [u32(0)], [pw(Buffer.from('x'))]));
  add('event 1025', commands.event(16, Buffer.alloc(1025)));
  add('event empty', commands.event(16, Buffer.alloc(0)));
  add('reset no auth', cmd(CC.PCR_Reset, [16], []));
  steps.push(readAll([[ALG.sha256, bits([16])], [ALG.sha384, bits([16])]]));
  // Hash
  for (const alg of [ALG.sha1, ALG.sha256, ALG.sha384, ALG.sha512]) {
    add(`hash ${alg} NULL`, commands.hash(Buffer.from('abc'), alg, RH.NULL));
    steps.push({ what: `hash ${alg} owner`, command: commands.hash(Buffer.alloc(1024, 3), alg, RH.OWNER), mask: maskTicket });
  }
  add('hash generated', commands.hash(Buffer.from('ff544347000000', 'hex'), ALG.sha256, RH.OWNER));
  steps.push({ what: 'hash short', command: commands.hash(Buffer.from('ff5443', 'hex'), ALG.sha256, RH.ENDORSEMENT), mask: maskTicket });
  add('hash NULL alg', commands.hash(Buffer.alloc(1), ALG.null, RH.OWNER));
  add('hash lockout', commands.hash(Buffer.alloc(1), ALG.sha256, 0x4000000a));
  add('hash 1025', commands.hash(Buffer.alloc(1025), ALG.sha256, RH.NULL));
  // hash sequences: handles are allocated lowest-first from 0x80000000 on both
  const s0 = 0x80000000;
  const s1 = 0x80000001;
  add('hss sha384', commands.hashSequenceStart(ALG.sha384, Buffer.from('pw')));
  add('hss event', commands.hashSequenceStart(ALG.null));
  add('hss SM3', commands.hashSequenceStart(ALG.sm3));
  for (let i = 0; i < 3; i++) add(`update ${i}`, commands.sequenceUpdate(s0, Buffer.alloc(1024, i), Buffer.from('pw')));
  add('update event', commands.sequenceUpdate(s1, Buffer.alloc(1024, 9)));
  add('update wrong password', commands.sequenceUpdate(s0, Buffer.alloc(1), Buffer.from('guess')));
  add('update password with trailing zeros', commands.sequenceUpdate(s0, Buffer.alloc(1), Buffer.from('pw\0\0')));
  add('update 1025', commands.sequenceUpdate(s0, Buffer.alloc(1025), Buffer.from('pw')));
  add('update unknown handle', commands.sequenceUpdate(0x80000002, Buffer.alloc(1)));
  add('update persistent', commands.sequenceUpdate(0x81000000, Buffer.alloc(1)));
  add('complete event seq', commands.sequenceComplete(s1, Buffer.alloc(0), RH.NULL));
  add('event-complete hash seq', commands.eventSequenceComplete(16, s0, Buffer.alloc(0), Buffer.from('pw')));
  add('event-complete PCR 17', commands.eventSequenceComplete(17, s1, Buffer.alloc(0)));
  add('complete', commands.sequenceComplete(s0, Buffer.from('end'), RH.NULL, Buffer.from('pw')));
  add('event-complete', commands.eventSequenceComplete(16, s1, Buffer.alloc(952, 7)));
  add('update after complete', commands.sequenceUpdate(s0, Buffer.alloc(1)));
  add('hss sha256', commands.hashSequenceStart(ALG.sha256));
  add('complete generated', commands.sequenceComplete(s0, Buffer.from('ff54434700', 'hex'), RH.OWNER));
  add('hss sha256 again', commands.hashSequenceStart(ALG.sha256));
  add('short first block', commands.sequenceUpdate(s0, Buffer.from('ab')));
  add('complete short first', commands.sequenceComplete(s0, Buffer.from('cdef'), RH.OWNER));
  add('hss event 2', commands.hashSequenceStart(ALG.null));
  add('event-complete NULL', commands.eventSequenceComplete(RH.NULL, s0, Buffer.from('x')));
  steps.push(readAll([[ALG.sha256, bits([16, 17])], [ALG.sha384, bits([16, 17])]]));
  // Resume, Restart, Reset and the startup locality (PCR 0)
  add('shutdown state', commands.shutdown(1));
  steps.push({ what: 'init', init: true });
  add('startup state', commands.startup(1));
  steps.push(...everyPcrRead());
  add('shutdown state 2', commands.shutdown(1));
  steps.push({ what: 'init', init: true });
  add('startup clear (restart)', commands.startup(0));
  steps.push(...everyPcrRead());
  steps.push({ what: 'init', init: true });
  add('startup state without shutdown', commands.startup(1));
  add('startup clear @3 (reset)', commands.startup(0), 3);
  steps.push(...everyPcrRead());
  // PCR_Allocate
  add('allocate nothing', commands.allocate([[ALG.sha256, [0, 0, 0]], [ALG.sha384, [0, 0, 0]]]));
  add('allocate without DRTM PCR', commands.allocate([[ALG.sha256, bits([0])], [ALG.sha384, bits([0])]]));
  add('allocate owner', commands.allocate([[ALG.sha256, bits(ALL)]], RH.OWNER));
  add('allocate', commands.allocate([[ALG.sha1, bits(ALL)], [ALG.sha256, [0, 0, 0]], [ALG.sha512, bits([0, 17, 23])]]));
  steps.push(readAll([[ALG.sha1, bits([0])], [ALG.sha256, bits([0])], [ALG.sha512, bits([0])]]));
  add('shutdown state after allocate', commands.shutdown(1));
  add('shutdown clear', commands.shutdown(0));
  steps.push({ what: 'init', init: true });
  add('startup after allocate', commands.startup(0));
  steps.push(readAll([[ALG.sha1, bits(ALL)], [ALG.sha256, bits(ALL)], [ALG.sha384, bits(ALL)], [ALG.sha512, bits(ALL)]]));
  steps.push(readAll([[ALG.sha384, bits(ALL.slice(8))], [ALG.sha512, bits(ALL)]]));
  add('extend new banks', commands.extend(23, DIGESTS(5)));
  add('event new banks', commands.event(0, Buffer.from('x')));
  steps.push(readAll([[ALG.sha512, bits([0, 17, 23])], [ALG.sha1, bits([0, 23])], [ALG.sha384, bits([23])]]));
  // back to sha256 + sha384 for the random part
  add('allocate back', commands.allocate([[ALG.sha1, [0, 0, 0]], [ALG.sha256, bits(ALL)], [ALG.sha512, [0, 0, 0]]]));
  steps.push({ what: 'init', init: true });
  add('startup back', commands.startup(0));
  return steps;
}

function randomSteps(seed: number, count: number): Step[] {
  const rng = prng(seed);
  const steps: Step[] = [];
  for (let i = 0; i < count; i++) {
    const locality = rng.pick([0, 0, 0, 1, 2, 3, 4]);
    const pcr = rng.int(24);
    const kind = rng.pick(['extend', 'event', 'reset', 'read', 'read', 'seq'] as const);
    if (kind === 'extend') steps.push({ what: `rnd extend ${pcr}@${locality}`, locality, command: commands.extend(pcr, DIGESTS(i).filter(() => rng.int(2) === 0)) });
    if (kind === 'event') steps.push({ what: `rnd event ${pcr}@${locality}`, locality, command: commands.event(pcr, Buffer.alloc(rng.int(1025), i)) });
    if (kind === 'reset') steps.push({ what: `rnd reset ${pcr}@${locality}`, locality, command: commands.reset(pcr) });
    if (kind === 'read') {
      const list: Selection[] = Array.from({ length: rng.int(5) }, () =>
        [rng.pick([ALG.sha1, ALG.sha256, ALG.sha384, ALG.sha512]), [rng.int(256), rng.int(256), rng.int(256)]]);
      steps.push({ what: `rnd read ${JSON.stringify(list)}`, command: commands.read(list) });
    }
    if (kind === 'seq') {
      steps.push({ what: 'rnd event seq', command: commands.hashSequenceStart(ALG.null) });
      steps.push({ what: 'rnd seq update', command: commands.sequenceUpdate(0x80000000, Buffer.alloc(rng.int(1025), i)) });
      steps.push({ what: `rnd seq complete ${pcr}@${locality}`, locality, command: commands.eventSequenceComplete(pcr, 0x80000000, Buffer.alloc(rng.int(100), i)) });
      steps.push({ what: 'rnd seq drop', command: commands.eventSequenceComplete(RH.NULL, 0x80000000, Buffer.alloc(0)) });
    }
  }
  return steps;
}

/** swtpm's control channel: `u32 cmd | body` in, `u32 result` out. */
async function control(port: number, code: number, body: Buffer): Promise<void> {
  const stream = await ByteStream.connect(port);
  try {
    stream.write(Buffer.concat([u32(code), body]));
    const result = (await stream.read(4, 5000)).readUInt32BE(0);
    assert.equal(result, 0, `swtpm control 0x${code.toString(16)} answered ${result}`);
  } finally {
    stream.destroy();
  }
}
const CMD_INIT = 0x02;
const CMD_SET_LOCALITY = 0x05;

describe('differential: engine vs swtpm on PCR and hash commands', function () {
  this.timeout(180000);
  const seed = Number(process.env.DIFF_SEED ?? 20241126);
  let swtpm: SwtpmServer | undefined;
  let client: SwtpmDataClient | undefined;

  before(async function () {
    this.timeout(60000);
    await requireInteropTools(this);
    swtpm = await startSwtpm({ pcrBanks: ['sha256', 'sha384'] });
    client = await SwtpmDataClient.connect(swtpm.port);
  });
  after(async () => {
    client?.close();
    await swtpm?.stop();
  });

  it('answers a scripted and a seeded random command stream byte for byte like libtpms', async () => {
    const tpm = new Tpm(manufacture([ALG.sha256, ALG.sha384]), undefined, { now: () => 0, persistentChanged: () => undefined });
    assert.equal(rcOf(tpm.execute(commands.startup(0)).response), 0);
    let swLocality = 0;
    const mismatches: string[] = [];
    const codes = new Map<number, number>();
    const steps = [...scriptedSteps(), ...randomSteps(seed, 400)];
    for (const step of steps) {
      if ('init' in step) {
        await control(swtpm!.ctrlPort, CMD_INIT, u32(0));
        tpm.init();
        continue;
      }
      const locality = step.locality ?? 0;
      if (locality !== swLocality) {
        await control(swtpm!.ctrlPort, CMD_SET_LOCALITY, u8(locality));
        swLocality = locality;
      }
      const theirs = await client!.transmit(step.command);
      const mine = Buffer.from(tpm.execute(step.command, locality).response);
      codes.set(rcOf(theirs), (codes.get(rcOf(theirs)) ?? 0) + 1);
      const mask = step.mask ?? ((r: Buffer) => r);
      if (!mask(theirs).equals(mask(mine))) {
        mismatches.push(`${step.what}: swtpm ${theirs.toString('hex')} mrtpm ${mine.toString('hex')}`);
      }
    }
    assert.deepEqual(mismatches, [], `seed ${seed}`);
    // the stream must exercise both paths: mostly successes, and a good number of refusals
    assert.ok((codes.get(0) ?? 0) > 500, `successes: ${JSON.stringify([...codes])}`);
    assert.ok((codes.get(0x907) ?? 0) > 50, 'locality refusals');
    assert.ok(codes.size > 15, 'distinct response codes');
  });
});
