import assert from 'node:assert/strict';
import { crashRounds } from './helpers/crash-rounds.js';

describe('soak: mr/mirror crash safety', function () {
  this.timeout(30 * 60_000);
  it('200 kills: after each restart replay(log) == registers and no acknowledged extend is missing', async function () {
    const seed = Number(process.env.SOAK_SEED ?? Date.now() % 0x7fffffff);
    const { acknowledged, recoveries } = await crashRounds(200, seed);
    assert.ok(acknowledged > 200, `only ${acknowledged} extends were acknowledged`);
    this.test!.title += ` (seed ${seed}; ${acknowledged} acknowledged; recoveries ${JSON.stringify(recoveries)})`;
  });
});
