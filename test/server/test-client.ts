import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ByteReader } from '../../src/server/byte-reader.js';
import type { BoundAddress } from '../../src/server/listener.js';

/** A raw socket client for driving the servers byte by byte. */
export class TestClient {
  readonly closed: Promise<void>;
  private readonly reader: ByteReader;

  private constructor(readonly socket: net.Socket) {
    this.reader = new ByteReader(socket);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static connect(address: BoundAddress): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const options = address.kind === 'tcp' ? { host: address.host, port: address.port } : { path: address.path };
      const socket = net.connect(options, () => {
        socket.off('error', reject);
        resolve(new TestClient(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Writes hex (spaces allowed) or bytes as one segment, then lets it leave. */
  async send(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data.replace(/\s+/g, ''), 'hex') : data;
    await new Promise<void>((resolve, reject) => this.socket.write(bytes, (e) => (e ? reject(e) : resolve())));
    await sleep(5);
  }

  /** Exactly n bytes as hex; fails on EOF or after timeoutMs. */
  async read(n: number, timeoutMs = 2000): Promise<string> {
    const bytes = await this.reader.read(n, Date.now() + timeoutMs);
    if (typeof bytes === 'string') throw new Error(`read(${n}): ${bytes}`);
    return bytes.toString('hex');
  }

  /** Waits for the server to close the connection and checks that nothing more came. */
  async expectClosed(timeoutMs = 2000): Promise<void> {
    const outcome = await Promise.race([this.closed.then(() => 'closed'), sleep(timeoutMs, 'open')]);
    if (outcome !== 'closed') throw new Error('connection still open');
    if (this.reader.buffered > 0) throw new Error(`unexpected bytes: ${this.reader.takeAll().toString('hex')}`);
  }

  /** Checks that the connection stays open with nothing to read for a while. */
  async expectSilent(ms = 100): Promise<void> {
    const outcome = await Promise.race([this.closed.then(() => 'closed'), sleep(ms, 'open')]);
    if (outcome !== 'open') throw new Error('connection closed');
    if (this.reader.buffered > 0) throw new Error(`unexpected bytes: ${this.reader.takeAll().toString('hex')}`);
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Polls until check() is true. */
export async function eventually(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not reached');
    await sleep(5);
  }
}
