import assert from 'node:assert/strict';
import { requireInteropTools } from './interop-prereqs.js';
import { mrtpmCmdTcti, startMrtpm } from './mrtpm.js';
import { makeTempDir, removeDir } from './state-dirs.js';

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

/** What tpm2-tools runs against: a TCTI, and a working directory for the files the tools write. */
export interface ToolTarget {
  tcti: string;
  dir: string;
}

/** `mrtpm serve` over mssim, fresh state, with a working directory named after `prefix`. */
async function mssimTarget(prefix: string): Promise<InteropFixture<ToolTarget>> {
  const server = await startMrtpm({ protocol: 'mssim' });
  const dir = await makeTempDir(prefix);
  return { target: { tcti: server.tcti, dir }, teardown: async () => { await server.stop(); await removeDir(dir); } };
}

/** tcti-cmd: one `mrtpm stdio` process per tool run, state kept in a fresh directory. */
async function cmdTarget(prefix: string): Promise<InteropFixture<ToolTarget>> {
  const stateDir = await makeTempDir(`${prefix}-state`);
  const dir = await makeTempDir(prefix);
  return { target: { tcti: mrtpmCmdTcti(stateDir), dir }, teardown: async () => { await removeDir(dir); await removeDir(stateDir); } };
}

/** The two ways tpm2-tools reach mrtpm in the interop suites, with the label each suite's title carries. */
export const MRTPM_TCTIS: readonly [string, (prefix: string) => Promise<InteropFixture<ToolTarget>>][] = [
  ['mssim TCTI (mrtpm serve)', mssimTarget],
  ['cmd TCTI (mrtpm stdio)', cmdTarget],
];
