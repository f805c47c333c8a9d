import assert from 'node:assert/strict';
import { Tpm } from '../../../src/tpm/engine/tpm.js';
import { manufacture } from '../../../src/tpm/state/initial-state.js';
import { command, rcOf, u16 } from '../helpers/tpm-wire.js';
import { RH } from '../helpers/pcr-cmd.js';
import { contextBytes, parseContext, parseResponse, saveCommand } from '../helpers/session-cmd.js';
import {
  SIGNING, TALG, create, createPrimary, eccTemplate, load, parseCreate, readPublic, sealTemplate, sensitiveCreate,
} from '../helpers/object-cmd.js';
import { fuzzRounds } from '../../helpers/fuzz-rounds.js';

const ROUNDS = 3000;

describe('objects fuzz: mutated object commands get a spec response code, never an internal failure', function () {
  this.timeout(120000);

  it(`${ROUNDS} mutated CreatePrimary / Create / Load / ContextLoad / ReadPublic commands (MRTPM_FUZZ_SEED replays)`, () => {
    const tpm = new Tpm(manufacture(), undefined, { now: () => 0, persistentChanged: () => undefined });
    tpm.powerOn();
    const run = (c: Buffer): Buffer => Buffer.from(tpm.execute(c, 0, 1).response);
    assert.equal(rcOf(run(command(0x144, [], [u16(0)]))), 0);
    const parentTemplate = eccTemplate();
    assert.equal(rcOf(run(createPrimary(RH.OWNER, parentTemplate))), 0);
    const parent = 0x80000000;
    const child = parseCreate(run(create(parent, sealTemplate(), sensitiveCreate(Buffer.from('pw'), Buffer.from('data')))));
    const context = contextBytes(parseContext(parseResponse(run(saveCommand(parent))).body));
    const corpus = [
      createPrimary(RH.OWNER, parentTemplate),
      createPrimary(RH.ENDORSEMENT, eccTemplate({ attributes: SIGNING, scheme: Buffer.concat([u16(TALG.ECDSA), u16(TALG.SHA256)]) })),
      createPrimary(RH.NULL, sealTemplate(), sensitiveCreate(Buffer.alloc(0), Buffer.from('sealed'))),
      create(parent, sealTemplate(), sensitiveCreate(Buffer.from('pw'), Buffer.from('data'))),
      create(parent, eccTemplate()),
      load(parent, child.outPrivate, child.outPublic),
      command(0x161, [], [context]),
      readPublic(parent),
    ];
    const codes = fuzzRounds(run, corpus, ROUNDS, 0x0b1ec7, () => {
      // Keep the slots from filling: this test is about the answers, not OBJECT_MEMORY.
      tpm.closeClient(2);
      if (tpm.tpmCore.objects.count > 8) for (const h of tpm.tpmCore.objects.handles()) if (h !== parent) tpm.tpmCore.objects.flush(h);
    });
    assert.equal(rcOf(run(readPublic(parent))), 0, 'the parent is still there');
    // The mutations reach the handlers: successes and many distinct parameter-level codes.
    assert.ok(codes.has(0), 'some mutated commands still succeed');
    assert.ok(codes.size >= 15, `only ${codes.size} distinct response codes: ${[...codes].map((c) => c.toString(16))}`);
  });
});
