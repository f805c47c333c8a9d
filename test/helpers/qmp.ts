/**
 * A minimal QMP client (QEMU Machine Protocol: JSON lines on a unix socket): the greeting,
 * qmp_capabilities, then one command at a time; asynchronous events are skipped.
 */
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Qmp {
  execute(command: string, args?: Record<string, unknown>): Promise<unknown>;
  close(): void;
}

/** `fn` on a QMP session that is closed after it, however it ends. */
export async function withQmp<T>(socketPath: string, fn: (qmp: Qmp) => Promise<T>): Promise<T> {
  const qmp = await connectQmp(socketPath);
  try {
    return await fn(qmp);
  } finally {
    qmp.close();
  }
}

function connectOnce(socketPath: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    socket.once('connect', () => resolve(socket)).once('error', reject);
  });
}

/** Connects once QEMU has made the socket (it does a moment after it starts). */
async function connectQmp(socketPath: string, timeoutMs = 10_000): Promise<Qmp> {
  const deadline = Date.now() + timeoutMs;
  let socket: net.Socket | undefined;
  while (!socket) {
    socket = await connectOnce(socketPath).catch(async (error: unknown) => {
      if (Date.now() > deadline) throw error;
      await sleep(50);
      return undefined;
    });
  }
  const lines: string[] = [];
  const waiters: ((line: string) => void)[] = [];
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      const waiter = waiters.shift();
      if (waiter) waiter(line);
      else lines.push(line);
    }
  });
  const nextLine = (): Promise<string> => {
    const line = lines.shift();
    return line !== undefined ? Promise.resolve(line) : new Promise((resolve) => waiters.push(resolve));
  };
  /** The next reply, past events. */
  const reply = async (): Promise<{ return?: unknown; error?: { desc: string } }> => {
    for (;;) {
      const message = JSON.parse(await nextLine()) as { event?: string; return?: unknown; error?: { desc: string } };
      if (message.event === undefined) return message;
    }
  };
  await nextLine();
  const execute = async (command: string, args?: Record<string, unknown>): Promise<unknown> => {
    socket.write(`${JSON.stringify({ execute: command, ...(args && { arguments: args }) })}\n`);
    const r = await reply();
    if (r.error) throw new Error(`QMP ${command}: ${r.error.desc}`);
    return r.return;
  };
  await execute('qmp_capabilities');
  return { execute, close: () => socket.destroy() };
}
