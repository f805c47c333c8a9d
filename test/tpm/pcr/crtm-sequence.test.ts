import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Tpm } from '../../../src/tpm/engine/tpm.js';
import { manufacture } from '../../../src/tpm/state/initial-state.js';
import { TPM_ALG } from '../../../src/tpm/spec/constants.js';

const sha256 = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
const STARTUP_CLEAR = Buffer.from('80010000000c000001440000', 'hex');

function freshTpm(): Tpm {
  const tpm = new Tpm(manufacture([TPM_ALG.SHA256]), undefined, { now: () => 0, persistentChanged: () => undefined });
  tpm.powerOn();
  return tpm;
}

describe('_TPM_Hash_Start/Data/End', () => {
  const code = Buffer.from('measured code');

  it('before Startup (H-CRTM): PCR 0 = H(0...04 || H(data)) once Startup runs', () => {
    const tpm = freshTpm();
    tpm.hashStart();
    tpm.hashData(code);
    tpm.hashEnd();
    assert.equal(Buffer.from(tpm.execute(STARTUP_CLEAR).response).readUInt32BE(6), 0);
    const init = Buffer.alloc(32);
    init[31] = 4;
    assert.deepEqual(Buffer.from(tpm.volatile.pcrs.get(TPM_ALG.SHA256)![0]!), sha256(init, sha256(code)));
  });

  it('after Startup (DRTM): PCRs 17-22 reset to zero, PCR 17 = H(0 || H(data)), counter moves', () => {
    const tpm = freshTpm();
    tpm.execute(STARTUP_CLEAR);
    const bank = tpm.volatile.pcrs.get(TPM_ALG.SHA256)!;
    assert.deepEqual(Buffer.from(bank[18]!), Buffer.alloc(32, 0xff));
    const before = tpm.volatile.pcrUpdateCounter;
    tpm.hashStart();
    tpm.hashData(code);
    tpm.hashEnd();
    const after = tpm.volatile.pcrs.get(TPM_ALG.SHA256)!;
    assert.deepEqual(Buffer.from(after[17]!), sha256(Buffer.alloc(32), sha256(code)));
    for (const i of [18, 19, 20, 21, 22]) assert.deepEqual(Buffer.from(after[i]!), Buffer.alloc(32), `PCR ${i}`);
    assert.ok(tpm.volatile.pcrUpdateCounter > before);
  });
});
