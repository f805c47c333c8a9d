import assert from 'node:assert/strict';
import { requireInteropTools } from './interop-prereqs.js';

/** What an interop suite runs against, and how to take it down again. */
export interface InteropFixture<T> {
  target: T;
  teardown(): Promise<void>;
}

/**
 * A describe block whose `before` checks the interop prerequisites and sets the target up; the
 * cases get the target through `target()` (an assertion failure if setup failed).
 */
export function describeInterop<T>(
  title: string, setup: () => Promise<InteropFixture<T>>, defineCases: (target: () => T) => void, timeoutMs = 60000,
): void {
  describe(title, function () {
    this.timeout(timeoutMs);
    let fixture: InteropFixture<T> | undefined;
    before(async function () {
      this.timeout(60000);
      await requireInteropTools(this);
      fixture = await setup();
    });
    after(async () => {
      await fixture?.teardown();
    });
    defineCases(() => {
      assert.ok(fixture, 'setup failed');
      return fixture.target;
    });
  });
}
