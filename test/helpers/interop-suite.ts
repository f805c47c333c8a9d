import assert from 'node:assert/strict';
import { requireInteropTools } from './interop-prereqs.js';

export interface Fixture<T> {
  target: T;
  teardown(): Promise<void>;
}

/**
 * A mocha suite that checks the interop prerequisites, sets up one target, runs the cases in
 * order against it and tears it down.
 */
export function describeInterop<T>(
  title: string, timeoutMs: number, setup: () => Promise<Fixture<T>>, cases: readonly (readonly [string, (target: T) => Promise<void>])[],
): void {
  describe(title, function () {
    this.timeout(timeoutMs);
    let fixture: Fixture<T> | undefined;

    before(async function () {
      this.timeout(60000);
      await requireInteropTools(this);
      fixture = await setup();
    });

    after(async () => {
      await fixture?.teardown();
    });

    for (const [name, run] of cases) {
      it(name, async () => {
        assert.ok(fixture, 'setup failed');
        await run(fixture.target);
      });
    }
  });
}
