/** Hash, HashSequenceStart, SequenceUpdate, SequenceComplete, EventSequenceComplete through Tpm.execute. */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import {
  ALG, BANKS, RH, ST_HASHCHECK, commands, digest, extendValue, parseDigestValues, Params, rcOf, startedTpm, u16,
} from '../helpers/pcr-cmd.js';
import { LIMITS } from '../../../src/tpm/spec/limits.js';

const RC = {
  MODE_H1: 0x189, MODE_H2: 0x289, HANDLE_H1: 0x18b, REFERENCE_H0: 0x910, REFERENCE_H1: 0x911, HASH_P2: 0x2c3, VALUE_P3: 0x3c4, SIZE_P1: 0x1d5,
  LOCALITY: 0x907, OBJECT_MEMORY: 0x902, VALUE_H1: 0x184,
};
const GENERATED = Buffer.from('ff544347', 'hex');

/** The reference's hash-check ticket: HMAC-SHA512(proof, TPM_ST_HASHCHECK || hashAlg || digest). */
const ticket = (proof: Uint8Array, alg: number, d: Uint8Array): Buffer =>
  createHmac('sha512', proof).update(u16(ST_HASHCHECK)).update(u16(alg)).update(d).digest();

function readResult(r: Uint8Array): { digest: Buffer; tag: number; hierarchy: number; ticket: Buffer } {
  const p = new Params(r);
  return { digest: p.b2(), tag: p.u16(), hierarchy: p.u32(), ticket: p.b2() };
}
const NULL_TICKET = { tag: ST_HASHCHECK, hierarchy: RH.NULL, ticket: Buffer.alloc(0) };

describe('hash commands (engine)', () => {
  describe('Hash', () => {
    it('hashes and issues a ticket keyed with the hierarchy proof', () => {
      const t = startedTpm();
      const data = Buffer.from('some data to sign later');
      const proofs = [[RH.OWNER, t.tpm.persistent.shProof], [RH.ENDORSEMENT, t.tpm.persistent.ehProof], [RH.PLATFORM, t.tpm.persistent.phProof]] as const;
      for (const [hierarchy, proof] of proofs) {
        for (const bank of BANKS) {
          const out = readResult(t.ok(commands.hash(data, ALG[bank], hierarchy)));
          assert.deepEqual(out.digest, digest(bank, data));
          assert.deepEqual(out, { digest: out.digest, tag: ST_HASHCHECK, hierarchy, ticket: ticket(proof, ALG[bank], out.digest) });
        }
      }
    });

    it('gives the NULL ticket for TPM_RH_NULL and for data starting with TPM_GENERATED_VALUE', () => {
      const t = startedTpm();
      const r = t.ok(commands.hash(Buffer.from('abc'), ALG.sha256, RH.NULL));
      assert.equal(r.toString('hex'), '80010000003400000000' + '0020' + digest('sha256', Buffer.from('abc')).toString('hex') + '8024' + '40000007' + '0000');
      assert.deepEqual({ ...readResult(t.ok(commands.hash(Buffer.concat([GENERATED, Buffer.from('x')]), ALG.sha256, RH.OWNER))), digest: undefined }, { ...NULL_TICKET, digest: undefined });
      // shorter than TPM_GENERATED_VALUE: cannot be TPM-generated, so the ticket is issued
      const short = readResult(t.ok(commands.hash(GENERATED.subarray(0, 3), ALG.sha256, RH.OWNER)));
      assert.deepEqual(short.ticket, ticket(t.tpm.persistent.shProof, ALG.sha256, short.digest));
      const empty = readResult(t.ok(commands.hash(Buffer.alloc(0), ALG.sha384, RH.OWNER)));
      assert.equal(empty.ticket.length, 64);
    });

    it('numbers its parameter errors', () => {
      const t = startedTpm();
      assert.equal(rcOf(t.run(commands.hash(Buffer.alloc(1), ALG.null, RH.OWNER))), RC.HASH_P2);
      assert.equal(rcOf(t.run(commands.hash(Buffer.alloc(1), ALG.sha256, 0x4000000a))), RC.VALUE_P3);
      assert.equal(rcOf(t.run(commands.hash(Buffer.alloc(1025), ALG.sha256, RH.OWNER))), RC.SIZE_P1);
    });
  });

  describe('hash sequences', () => {
    it('hashes more than 1024 bytes in pieces and gives a ticket', () => {
      const t = startedTpm();
      const seq = new Params(t.ok(commands.hashSequenceStart(ALG.sha384)), 1).buf.readUInt32BE(10);
      assert.equal(seq, 0x80000000);
      const chunks = [Buffer.alloc(1024, 1), Buffer.alloc(1024, 2), Buffer.alloc(1000, 3)];
      for (const c of chunks) assert.equal(t.ok(commands.sequenceUpdate(seq, c)).toString('hex'), '80020000001300000000000000000000010000');
      const last = Buffer.from('tail');
      const out = readResult(t.ok(commands.sequenceComplete(seq, last, RH.ENDORSEMENT)));
      const expected = createHash('sha384').update(Buffer.concat([...chunks, last])).digest();
      assert.deepEqual(out, { digest: expected, tag: ST_HASHCHECK, hierarchy: RH.ENDORSEMENT, ticket: ticket(t.tpm.persistent.ehProof, ALG.sha384, expected) });
      assert.equal(rcOf(t.run(commands.sequenceUpdate(seq, Buffer.alloc(1)))), RC.REFERENCE_H0, 'completed sequence is flushed');
    });

    it('decides ticket safety on the first block, as the reference does', () => {
      const t = startedTpm();
      const run = (blocks: Buffer[], last: Buffer, hierarchy: number = RH.OWNER) => {
        const seq = t.ok(commands.hashSequenceStart(ALG.sha256)).readUInt32BE(10);
        for (const b of blocks) t.ok(commands.sequenceUpdate(seq, b));
        return readResult(t.ok(commands.sequenceComplete(seq, last, hierarchy)));
      };
      const safe = run([Buffer.from('first block'), GENERATED], GENERATED);
      assert.deepEqual(safe.ticket, ticket(t.tpm.persistent.shProof, ALG.sha256, safe.digest));
      const strip = ({ tag, hierarchy, ticket: tk }: ReturnType<typeof readResult>) => ({ tag, hierarchy, ticket: tk });
      assert.deepEqual(strip(run([Buffer.concat([GENERATED, Buffer.alloc(100)])], Buffer.from('later'))), NULL_TICKET);
      assert.deepEqual(strip(run([Buffer.from('ab')], Buffer.from('cdefgh'))), NULL_TICKET, 'a first block under 4 bytes is not safe');
      assert.deepEqual(strip(run([], Buffer.from('ab'))), NULL_TICKET);
      assert.deepEqual(strip(run([], GENERATED)), NULL_TICKET);
      assert.deepEqual(strip(run([Buffer.from('safe')], Buffer.alloc(0), RH.NULL)), NULL_TICKET);
      const direct = run([], Buffer.from('data'));
      assert.equal(direct.hierarchy, RH.OWNER);
      assert.deepEqual(direct.digest, digest('sha256', Buffer.from('data')));
    });

    it('authorizes with the sequence authValue; the Name of a sequence is empty', () => {
      const t = startedTpm();
      const auth = Buffer.from('secret');
      const seq = t.ok(commands.hashSequenceStart(ALG.sha1, auth)).readUInt32BE(10);
      assert.equal(t.tpm.tpmCore.name(seq).length, 0);
      const wrong = rcOf(t.run(commands.sequenceUpdate(seq, Buffer.from('x'), Buffer.from('guess'))));
      assert.ok((wrong & 0x800) !== 0 && (wrong & 0x700) === 0x100, `session 1 fails: 0x${wrong.toString(16)}`);
      t.ok(commands.sequenceUpdate(seq, Buffer.from('x'), auth));
      t.ok(commands.sequenceUpdate(seq, Buffer.from('y'), Buffer.concat([auth, Buffer.alloc(2)])));
      assert.deepEqual(readResult(t.ok(commands.sequenceComplete(seq, Buffer.alloc(0), RH.NULL, auth))).digest, digest('sha1', Buffer.from('xy')));
    });

    it('refuses the wrong kind of sequence with TPM_RC_MODE on that handle and keeps it', () => {
      const t = startedTpm();
      const hashSeq = t.ok(commands.hashSequenceStart(ALG.sha256)).readUInt32BE(10);
      const eventSeq = t.ok(commands.hashSequenceStart(ALG.null)).readUInt32BE(10);
      assert.equal(rcOf(t.run(commands.sequenceComplete(eventSeq, Buffer.alloc(0), RH.NULL))), RC.MODE_H1);
      assert.equal(rcOf(t.run(commands.eventSequenceComplete(16, hashSeq, Buffer.alloc(0)))), RC.MODE_H2);
      assert.equal(rcOf(t.run(commands.eventSequenceComplete(16, 0x80000005, Buffer.alloc(0)))), RC.REFERENCE_H1, 'not loaded: TPM_RC_REFERENCE_H0 + index');
      assert.equal(rcOf(t.run(commands.sequenceUpdate(0x81000000, Buffer.alloc(0)))), RC.HANDLE_H1);
      assert.equal(rcOf(t.run(commands.sequenceUpdate(0x40000001, Buffer.alloc(0)))), RC.VALUE_H1);
      t.ok(commands.sequenceComplete(hashSeq, Buffer.alloc(0), RH.NULL));
      t.ok(commands.eventSequenceComplete(RH.NULL, eventSeq, Buffer.alloc(0)));
    });

    it('runs out of object slots with TPM_RC_OBJECT_MEMORY; sequences belong to their client', () => {
      const t = startedTpm();
      for (let i = 0; i < LIMITS.MAX_LOADED_OBJECTS; i++) assert.equal(rcOf(t.run(commands.hashSequenceStart(ALG.sha256), 0, i % 2)), 0);
      assert.equal(rcOf(t.run(commands.hashSequenceStart(ALG.sha256))), RC.OBJECT_MEMORY);
      t.tpm.closeClient(1);
      assert.equal(t.tpm.tpmCore.sequences.count, Math.ceil(LIMITS.MAX_LOADED_OBJECTS / 2));
      assert.equal(t.ok(commands.hashSequenceStart(ALG.sha256)).readUInt32BE(10), 0x80000001, 'lowest free handle is reused');
      t.tpm.init();
      t.ok(commands.startup());
      assert.equal(t.tpm.tpmCore.sequences.count, 0);
    });
  });

  describe('event sequences', () => {
    it('EventSequenceComplete digests every hash, extends the allocated banks and flushes', () => {
      const t = startedTpm();
      const seq = t.ok(commands.hashSequenceStart(ALG.null, Buffer.from('a'))).readUInt32BE(10);
      const data = [Buffer.alloc(1024, 0xa5), Buffer.alloc(1024, 0x5a)];
      for (const d of data) t.ok(commands.sequenceUpdate(seq, d, Buffer.from('a')));
      const last = Buffer.alloc(952, 1);
      const r = t.ok(commands.eventSequenceComplete(16, seq, last, Buffer.from('a')));
      const results = parseDigestValues(new Params(r));
      const all = Buffer.concat([...data, last]);
      assert.deepEqual(results, BANKS.map((b) => [ALG[b], digest(b, all)]));
      assert.deepEqual(t.readOne('sha256', 16), extendValue('sha256', Buffer.alloc(32), digest('sha256', all)));
      assert.deepEqual(t.readOne('sha384', 16), extendValue('sha384', Buffer.alloc(48), digest('sha384', all)));
      assert.equal(rcOf(t.run(commands.sequenceUpdate(seq, Buffer.alloc(1)))), RC.REFERENCE_H0);
    });

    it('checks the locality before anything and leaves the sequence usable', () => {
      const t = startedTpm();
      const seq = t.ok(commands.hashSequenceStart(ALG.null)).readUInt32BE(10);
      t.ok(commands.sequenceUpdate(seq, Buffer.from('drtm')));
      assert.equal(rcOf(t.run(commands.eventSequenceComplete(17, seq, Buffer.alloc(0)))), RC.LOCALITY);
      assert.deepEqual(t.readOne('sha256', 17), Buffer.alloc(32, 0xff));
      const r = parseDigestValues(new Params(t.ok(commands.eventSequenceComplete(17, seq, Buffer.from('!')), 3)));
      assert.deepEqual(r[1], [ALG.sha256, digest('sha256', Buffer.from('drtm!'))]);
      assert.deepEqual(t.readOne('sha256', 17), extendValue('sha256', Buffer.alloc(32, 0xff), digest('sha256', Buffer.from('drtm!'))));
      const counter = new Params(t.ok(commands.read([]))).u32();
      const nullSeq = t.ok(commands.hashSequenceStart(ALG.null)).readUInt32BE(10);
      t.ok(commands.eventSequenceComplete(RH.NULL, nullSeq, Buffer.from('x')));
      assert.equal(new Params(t.ok(commands.read([]))).u32(), counter, 'TPM_RH_NULL extends nothing');
    });
  });
});
