import net from 'node:net';
import { chmod, lstat, rm } from 'node:fs/promises';
import type { Logger } from './logger.js';

/** Where a listener is bound. */
export type BoundAddress = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

export type TcpEndpoint = { host: string; port: number };
export type UnixEndpoint = { path: string };
export type Endpoint = TcpEndpoint | UnixEndpoint;

/**
 * Where a two-socket server (mssim TPM + platform, swtpm data + control) listens. TCP: the second
 * port defaults to port+1, as every TCTI assumes; port 0 picks a free pair P, P+1. Unix: the second
 * path defaults to PATH.ctrl, as tpm2-tss's socket_connect_unix() assumes.
 */
export type PairEndpoint =
  | { host?: string; port: number; secondPort?: number }
  | { path: string; secondPath?: string };

export const DEFAULT_HOST = '127.0.0.1';

/** Tries to get two adjacent free ports this many times before giving up. */
const PAIR_ATTEMPTS = 32;

/**
 * A listening socket plus the connections it accepted, so close() can end them all and remove the
 * unix socket file it created.
 */
export class Listener {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private unixPath: string | undefined;

  constructor(
    readonly name: string,
    onConnection: (socket: net.Socket) => void,
    private readonly logger: Logger,
    /** Accept connections unread: a socket that carries fds must be read by recvmsg, never by libuv. */
    pauseOnConnect = false,
  ) {
    // noDelay: every reply is one complete message the client waits for; Nagle would only delay it.
    this.server = net.createServer({ noDelay: true, pauseOnConnect }, (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      onConnection(socket);
    });
    // Errors while binding reject listen(); later ones (accept failures) must not crash the process.
    this.server.on('error', (error) => {
      if (this.server.listening) this.logger.error('listener failed', { listener: name, error });
    });
  }

  async listen(endpoint: Endpoint): Promise<BoundAddress> {
    if ('path' in endpoint) return this.listenUnix(endpoint.path);
    await this.bind({ host: endpoint.host, port: endpoint.port });
    const address = this.server.address() as net.AddressInfo;
    return { kind: 'tcp', host: address.address, port: address.port };
  }

  async close(): Promise<void> {
    const wasListening = this.server.listening;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    if (wasListening) await closed;
    if (this.unixPath !== undefined) {
      await rm(this.unixPath, { force: true });
      this.unixPath = undefined;
    }
  }

  private async listenUnix(path: string): Promise<BoundAddress> {
    await removeStaleSocket(path, this.logger);
    // The socket file is created by bind(), synchronously inside listen(); a umask around it
    // makes it 0600 from birth, and the chmod covers platforms where bind is deferred.
    const previous = process.umask(0o177);
    let bound: Promise<void>;
    try {
      bound = this.bind({ path });
    } finally {
      process.umask(previous);
    }
    await bound;
    this.unixPath = path;
    await chmod(path, 0o600);
    return { kind: 'unix', path };
  }

  private bind(options: net.ListenOptions): Promise<void> {
    return new Promise((resolve, reject) => {
      const fail = (error: Error): void => reject(error);
      this.server.once('error', fail);
      this.server.listen(options, () => {
        this.server.off('error', fail);
        resolve();
      });
    });
  }
}

/** A socket file nobody accepts on (left by a crash) would make bind fail with EADDRINUSE. */
async function removeStaleSocket(path: string, logger: Logger): Promise<void> {
  const stat = await lstat(path).catch(() => undefined);
  if (!stat?.isSocket()) return;
  const alive = await new Promise<boolean>((resolve) => {
    const probe = net.connect({ path }, () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive) return;
  logger.info('removing stale unix socket', { path });
  await rm(path, { force: true });
}

/** Binds two listeners at the pair endpoint; returns their addresses in order. */
export async function listenPair(
  first: Listener,
  second: Listener,
  endpoint: PairEndpoint,
): Promise<[BoundAddress, BoundAddress]> {
  if ('path' in endpoint) {
    const a = await first.listen({ path: endpoint.path });
    const b = await listenOrUndo(first, second, { path: endpoint.secondPath ?? `${endpoint.path}.ctrl` });
    return [a, b];
  }
  const host = endpoint.host ?? DEFAULT_HOST;
  if (endpoint.port !== 0 || endpoint.secondPort !== undefined) {
    const a = await first.listen({ host, port: endpoint.port });
    const port = endpoint.secondPort ?? endpoint.port + 1;
    return [a, await listenOrUndo(first, second, { host, port })];
  }
  for (let attempt = 1; ; attempt++) {
    const a = await first.listen({ host, port: 0 });
    const port = (a as TcpEndpoint).port + 1;
    try {
      if (port > 0xffff) throw Object.assign(new Error('no port above 65535'), { code: 'EADDRINUSE' });
      return [a, await second.listen({ host, port })];
    } catch (error) {
      await first.close();
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt === PAIR_ATTEMPTS) throw error;
    }
  }
}

async function listenOrUndo(first: Listener, second: Listener, endpoint: Endpoint): Promise<BoundAddress> {
  try {
    return await second.listen(endpoint);
  } catch (error) {
    await first.close();
    throw error;
  }
}
