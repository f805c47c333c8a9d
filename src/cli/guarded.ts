/** Operator commands report a failure as one line and exit status 2 (1 means "does not match"). */
export const guardedAction = (prefix: string, hint: (err: unknown) => string = () => '') =>
  <A extends unknown[]>(action: (...args: A) => void | Promise<void>) => async (...args: A): Promise<void> => {
    // Output piped into `head` and the like: stop quietly when the reader goes away.
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
    try {
      await action(...args);
    } catch (err) {
      process.stderr.write(`${prefix}: ${err instanceof Error ? err.message : String(err)}${hint(err)}\n`);
      process.exitCode = 2;
    }
  };
