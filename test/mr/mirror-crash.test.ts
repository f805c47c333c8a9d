import assert from 'node:assert/strict';
import { crashRounds } from './helpers/crash-rounds.js';

describe('mr/mirror crash safety (SIGKILL during mirrored extends)', function () {
  this.timeout(120_000);
  it('20 kills: after each restart replay(log) == registers and no acknowledged extend is missing', async function () {
    const { acknowledged, recoveries } = await crashRounds(20, 0x5eed);
    assert.ok(acknowledged > 20, `only ${acknowledged} extends were acknowledged`);
    this.test!.title += ` (${acknowledged} acknowledged; recoveries ${JSON.stringify(recoveries)})`;
  });
});
