/** The error handling of the operator commands (`mrtpm mr`, `eventlog`, `ima`, `attest`, `verify`, `compare`). */

/**
 * Wraps a command action: a failure is reported as one line `mrtpm <command>: <message><hint>`
 * with exit status 2 (1 is left for "checked and found different"); output piped into `head` and
 * the like stops quietly when the reader goes away.
 */
export const operatorAction = (command: string, hint: (err: unknown) => string = () => '') =>
  <A extends unknown[]>(action: (...args: A) => void | Promise<void>) => async (...args: A): Promise<void> => {
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
    try {
      await action(...args);
    } catch (err) {
      process.stderr.write(`mrtpm ${command}: ${err instanceof Error ? err.message : String(err)}${hint(err)}\n`);
      process.exitCode = 2;
    }
  };
