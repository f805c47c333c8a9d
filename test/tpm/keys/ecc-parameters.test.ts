/** ECC_Parameters (Part 3 §14.7) answered byte for byte like libtpms (swtpm) for every curve both implement. */
import assert from 'node:assert/strict';
import { useSwtpmClient } from '../../helpers/swtpm-client.js';
import { command, rcOf, u16 } from '../helpers/tpm-wire.js';
import { startedTpm } from '../helpers/pcr-cmd.js';

const TPM_CC_ECC_Parameters = 0x178;
const CURVES = { 'NIST P-256': 0x0003, 'NIST P-384': 0x0004, 'NIST P-521': 0x0005 } as const;
const TPM_RC_CURVE_P1 = 0x0a6 | 0x40 | 0x100;

describe('ECC_Parameters against swtpm', function () {
  this.timeout(60000);
  const swtpm = useSwtpmClient(['sha256']);
  before(async () => void await swtpm().transmit(command(0x144, [], [u16(0)])));

  for (const [name, curveID] of Object.entries(CURVES)) {
    it(`${name}: the same TPMS_ALGORITHM_DETAIL_ECC as libtpms`, async () => {
      const { run } = startedTpm();
      const request = command(TPM_CC_ECC_Parameters, [], [u16(curveID)]);
      const ours = run(request);
      assert.equal(rcOf(ours), 0);
      assert.deepEqual(ours, await swtpm().transmit(request));
    });
  }

  it('an unknown curve is TPM_RC_CURVE + P1', () => {
    const { run } = startedTpm();
    assert.equal(rcOf(run(command(TPM_CC_ECC_Parameters, [], [u16(0x0010)]))), TPM_RC_CURVE_P1);
  });
});
