import { execFile } from 'node:child_process';

export interface OpensslOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Runs `openssl args`; resolves with its stdout, rejects with its output on a non-zero exit. */
export function openssl(args: string[], options: OpensslOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { cwd: options.cwd, env: { ...process.env, ...options.env }, timeout: 60000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`openssl ${args.join(' ')} failed (${error.code ?? error.signal})\nstdout:\n${stdout}\nstderr:\n${stderr}`));
      else resolve(stdout);
    });
  });
}
