/**
 * Differential test: one seeded random sequence of PCR commands, sent byte-for-byte to mrtpm
 * (`serve --protocol swtpm`) and to real swtpm (both with banks sha256+sha384, Startup(CLEAR)
 * done), must produce identical responses. DIFF_SEED=n replays another sequence.
 *
 * INTEROP_REFERENCE=swtpm compares swtpm with a second swtpm instead (to check the harness).
 */
import assert from 'node:assert/strict';
import { requireInteropTools } from '../helpers/interop-prereqs.js';
import { startMrtpm } from '../helpers/mrtpm.js';
import { Prng, seedFromEnv } from '../helpers/prng.js';
import { SwtpmDataClient } from '../helpers/raw-client.js';
import { startSwtpm } from '../helpers/swtpm.js';
import {
  commands, parsePcrRead, responseCode, TPM_RC_INITIALIZE, TPM_RC_SUCCESS, type HashName, type PcrSelection,
} from '../helpers/tpm-commands.js';

const BANKS: HashName[] = ['sha256', 'sha384'];
/** Digests for banks that are implemented but not allocated; the TPM must ignore them. */
const UNALLOCATED: HashName[] = ['sha1', 'sha512'];
const DIGEST_BYTES: Record<HashName, number> = { sha1: 20, sha256: 32, sha384: 48, sha512: 64 };
/** PCRs that locality 0 may extend (PC Client: 17-22 need locality 3/4). */
const EXTENDABLE = [...Array.from({ length: 17 }, (_, i) => i), 23];
const RESETTABLE = [16, 23];
const EVENT_SIZES = [0, 1, 20, 64, 100, 512, 1000, 1024];
const ALL_PCRS = Array.from({ length: 24 }, (_, i) => i);

interface Step {
  description: string;
  command: Buffer;
}

function randomRead(rng: Prng): PcrSelection[] {
  const wide = rng.chance(0.1);
  return rng.subset(BANKS).map((hash) => ({ hash, pcrs: wide ? ALL_PCRS : rng.subset(ALL_PCRS).slice(0, rng.int(1, 4)) }));
}

function randomStep(rng: Prng): Step {
  const kind = rng.pick(['extend', 'extend', 'event', 'reset', 'read', 'read'] as const);
  switch (kind) {
    case 'extend': {
      const pcr = rng.pick(EXTENDABLE);
      const banks = [...rng.subset(BANKS), ...(rng.chance(0.2) ? [rng.pick(UNALLOCATED)] : [])];
      return { description: `PCR_Extend(${pcr}, ${banks.join('+')})`, command: commands.pcrExtend(pcr, banks.map((hash) => ({ hash, digest: rng.bytes(DIGEST_BYTES[hash]) }))) };
    }
    case 'event': {
      const pcr = rng.pick(EXTENDABLE);
      const size = rng.pick(EVENT_SIZES);
      return { description: `PCR_Event(${pcr}, ${size} bytes)`, command: commands.pcrEvent(pcr, rng.bytes(size)) };
    }
    case 'reset': {
      const pcr = rng.pick(RESETTABLE);
      return { description: `PCR_Reset(${pcr})`, command: commands.pcrReset(pcr) };
    }
    case 'read': {
      const selection = randomRead(rng);
      return { description: `PCR_Read(${selection.map((s) => `${s.hash}:${s.pcrs.join(',')}`).join(' ')})`, command: commands.pcrRead(selection) };
    }
  }
}

/** A PCR_Read response without its pcrUpdateCounter (compared separately). */
function withoutCounter(response: Buffer): Buffer {
  const copy = Buffer.from(response);
  if (copy.length >= 14 && responseCode(copy) === TPM_RC_SUCCESS) copy.fill(0, 10, 14);
  return copy;
}

describe('differential: mrtpm vs swtpm on PCR commands', function () {
  this.timeout(120000);
  const seed = seedFromEnv('DIFF_SEED', 20241126);
  const clients: { subject?: SwtpmDataClient; reference?: SwtpmDataClient } = {};
  const stops: (() => Promise<unknown>)[] = [];
  const counterMismatches: string[] = [];
  let baseCounters: { mine: number; theirs: number } | undefined;
  let sequenceCompleted = false;

  before(async function () {
    this.timeout(60000);
    await requireInteropTools(this);
    const reference = await startSwtpm({ pcrBanks: BANKS });
    stops.push(() => reference.stop());
    const subject = process.env.INTEROP_REFERENCE === 'swtpm'
      ? await startSwtpm({ pcrBanks: BANKS })
      : await startMrtpm({ protocol: 'swtpm', logLevel: 'error' });
    stops.push(() => subject.stop());
    clients.reference = await SwtpmDataClient.connect(reference.port);
    clients.subject = await SwtpmDataClient.connect(subject.port);
    for (const client of [clients.reference, clients.subject]) {
      const code = responseCode(await client.transmit(commands.startup()));
      assert.ok(code === TPM_RC_SUCCESS || code === TPM_RC_INITIALIZE, `Startup(CLEAR) answered 0x${code.toString(16)}`);
    }
  });

  after(async () => {
    clients.subject?.close();
    clients.reference?.close();
    await Promise.all(stops.map((stop) => stop()));
  });

  async function both(command: Buffer): Promise<[Buffer, Buffer]> {
    const [subject, reference] = [clients.subject!, clients.reference!];
    return [await subject.transmit(command), await reference.transmit(command)];
  }

  async function compareStep(step: Step, index: number): Promise<void> {
    const [mine, theirs] = await both(step.command);
    const isRead = step.command.readUInt32BE(6) === 0x17e;
    const context = `step ${index} (seed ${seed}) ${step.description}\ncommand ${step.command.toString('hex')}\nmrtpm  ${mine.toString('hex')}\nswtpm  ${theirs.toString('hex')}`;
    if (!isRead) {
      assert.deepEqual(mine, theirs, context);
      return;
    }
    assert.deepEqual(withoutCounter(mine), withoutCounter(theirs), context);
    if (responseCode(mine) !== TPM_RC_SUCCESS) return;
    // Absolute values differ (swtpm_setup already moved swtpm's counter); the increments must not.
    const counters = { mine: parsePcrRead(mine).updateCounter, theirs: parsePcrRead(theirs).updateCounter };
    baseCounters ??= counters;
    const delta = { mine: counters.mine - baseCounters.mine, theirs: counters.theirs - baseCounters.theirs };
    if (delta.mine !== delta.theirs) counterMismatches.push(`${context}\n(counter +${delta.mine} vs +${delta.theirs})`);
  }

  async function compareAllPcrs(label: string): Promise<void> {
    for (const hash of BANKS) {
      for (let first = 0; first < 24; first += 8) {
        const pcrs = ALL_PCRS.slice(first, first + 8);
        await compareStep({ description: `${label}: PCR_Read(${hash}:${first}-${first + 7})`, command: commands.pcrRead([{ hash, pcrs }]) }, -1);
      }
    }
  }

  it('initial PCR values are identical in both banks (0-23)', async () => {
    await compareAllPcrs('initial');
  });

  it('a seeded random sequence of 400 extends/events/resets/reads gives identical responses', async () => {
    const rng = new Prng(seed);
    for (let i = 0; i < 400; i++) await compareStep(randomStep(rng), i);
    await compareAllPcrs('final');
    sequenceCompleted = true;
  });

  it('PCR_Read pcrUpdateCounter advances like swtpm\'s', () => {
    assert.ok(sequenceCompleted, 'the random sequence did not complete, so no counters to compare');
    assert.deepEqual(counterMismatches.slice(0, 3), [], `${counterMismatches.length} PCR_Read counters differ`);
  });

  it('commands refused at locality 0 get identical error responses', async () => {
    const refused: Step[] = [
      ...[17, 18, 19, 20, 21, 22].map((pcr) => ({ description: `PCR_Extend(${pcr})`, command: commands.pcrExtend(pcr, [{ hash: 'sha256' as const, digest: Buffer.alloc(32, 1) }]) })),
      ...[0, 7, 15, 17, 22].map((pcr) => ({ description: `PCR_Reset(${pcr})`, command: commands.pcrReset(pcr) })),
      { description: 'PCR_Extend(24)', command: commands.pcrExtend(24, [{ hash: 'sha256', digest: Buffer.alloc(32, 1) }]) },
      { description: 'PCR_Event(17)', command: commands.pcrEvent(17, Buffer.from('x')) },
    ];
    for (const step of refused) {
      const [mine, theirs] = await both(step.command);
      assert.notEqual(responseCode(theirs), TPM_RC_SUCCESS, `swtpm accepted ${step.description}`);
      assert.deepEqual(mine, theirs, `${step.description}: mrtpm ${mine.toString('hex')} vs swtpm ${theirs.toString('hex')}`);
    }
    await compareAllPcrs('after refused commands');
  });
});
