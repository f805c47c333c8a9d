import { spawn } from 'node:child_process';

export interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface ToolOptions {
  cwd?: string;
  /** Milliseconds before the tool is killed (a hung TCTI must not hang the suite). */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** Runs `tpm2_<tool> args` against `tcti` (via TPM2TOOLS_TCTI); never throws on a non-zero exit. */
export function runTool(tcti: string, tool: string, args: string[], options: ToolOptions = {}): Promise<ToolResult> {
  const command = tool.startsWith('tpm2_') ? tool : `tpm2_${tool}`;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env, TPM2TOOLS_TCTI: tcti },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      stderr += `\n[harness] ${command} killed after ${options.timeoutMs ?? 30000} ms`;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 30000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command}: ${error.message}`));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function describeRun(tool: string, args: string[], result: ToolResult): string {
  return `tpm2_${tool.replace(/^tpm2_/, '')} ${args.join(' ')} exited ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
}

/** Runs a tool that must succeed; returns its stdout, or throws with its stderr. */
export async function tpm2(tcti: string, tool: string, args: string[] = [], options: ToolOptions = {}): Promise<string> {
  const result = await runTool(tcti, tool, args, options);
  if (result.code !== 0) throw new Error(describeRun(tool, args, result));
  return result.stdout;
}

/** Runs a tool that must fail; returns the result (stderr holds the TPM response code). */
export async function tpm2Fails(tcti: string, tool: string, args: string[] = [], options: ToolOptions = {}): Promise<ToolResult> {
  const result = await runTool(tcti, tool, args, options);
  if (result.code === 0) throw new Error(`expected failure, but ${describeRun(tool, args, result)}`);
  return result;
}
