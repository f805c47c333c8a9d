/**
 * The loop of the bounded fuzz tests: each round mutates one valid command of the corpus, and its
 * response must be well formed and no TPM_RC_FAILURE; the seed comes from MRTPM_FUZZ_SEED so a
 * failure replays. Returns the response codes seen, for the caller's coverage checks.
 */
import assert from 'node:assert/strict';
import { Prng, seedFromEnv } from './prng.js';
import { mutateCommand } from './command-mutator.js';
import { responseProblem } from './response-check.js';

const TPM_RC_FAILURE = 0x101;

export function fuzzRounds(
  run: (command: Buffer) => Buffer, corpus: readonly Buffer[], rounds: number, defaultSeed: number, afterEach: () => void,
): Set<number> {
  const seed = seedFromEnv('MRTPM_FUZZ_SEED', defaultSeed);
  const rng = new Prng(seed);
  const codes = new Set<number>();
  for (let i = 0; i < rounds; i++) {
    const input = mutateCommand(rng, corpus as Buffer[]);
    const response = run(input);
    const rc = response.readUInt32BE(6);
    codes.add(rc);
    const problem = responseProblem(response);
    assert.equal(problem, undefined, `round ${i} (seed ${seed}): ${problem} for ${input.toString('hex')}`);
    assert.notEqual(rc, TPM_RC_FAILURE, `round ${i} (seed ${seed}): TPM_RC_FAILURE for ${input.toString('hex')}`);
    afterEach();
  }
  return codes;
}
