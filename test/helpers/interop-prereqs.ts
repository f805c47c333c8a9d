import { fileURLToPath, pathToFileURL } from 'node:url';

/** scripts/test-deps.mjs holds the one list of required commands and libraries. */
const TEST_DEPS = fileURLToPath(new URL('../../../scripts/test-deps.mjs', import.meta.url));

async function missingTestDeps(): Promise<string[]> {
  const module = (await import(pathToFileURL(TEST_DEPS).href)) as { missingTestDeps(): string[] };
  return module.missingTestDeps();
}

/**
 * For a `before` hook of an interop suite: with CI=true missing tools fail the suite; otherwise
 * the suite is marked pending with a loud warning (never skipped silently).
 */
export async function requireInteropTools(context: Mocha.Context): Promise<void> {
  const missing = await missingTestDeps();
  if (missing.length === 0) return;
  const message = `interop prerequisites missing: ${missing.join(', ')} (run \`node scripts/test-deps.mjs\` as root)`;
  if (process.env.CI === 'true') throw new Error(message);
  console.warn(`\n!!!!!!!!!! ${message}; the interop tests below are PENDING, not passed !!!!!!!!!!\n`);
  context.skip();
}
