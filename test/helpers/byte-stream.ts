import net from 'node:net';

export class ConnectionClosedError extends Error {
  constructor(readonly received: Buffer) {
    super(`connection closed by peer (${received.length} unread bytes)`);
  }
}

export class ReadTimeoutError extends Error {}

interface PendingRead {
  length: number;
  resolve: (data: Buffer) => void;
  reject: (error: Error) => void;
  timer?: NodeJS.Timeout;
}

/** A TCP socket with exact-length reads: `read(n)` resolves with exactly n bytes or rejects. */
export class ByteStream {
  private buffered: Buffer = Buffer.alloc(0);
  private pending: PendingRead | undefined;
  private ended = false;
  readonly closed: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
      this.settle();
    });
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.ended = true;
        this.settle();
        resolve();
      });
    });
    // Errors (e.g. ECONNRESET) are followed by 'close'; reads see ConnectionClosedError.
    socket.on('error', () => undefined);
  }

  static connect(port: number, host = '127.0.0.1', timeoutMs = 5000): Promise<ByteStream> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${host}:${port} timed out`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new ByteStream(socket));
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  get isClosed(): boolean {
    return this.ended;
  }

  write(data: Buffer): void {
    if (!this.ended && !this.socket.destroyed) this.socket.write(data);
  }

  /** Half-closes our side (FIN), so the peer sees end of input. */
  end(): void {
    this.socket.end();
  }

  read(length: number, timeoutMs = 10000): Promise<Buffer> {
    if (this.pending) throw new Error('concurrent reads on one ByteStream');
    return new Promise((resolve, reject) => {
      const pending: PendingRead = { length, resolve, reject };
      if (timeoutMs > 0) {
        pending.timer = setTimeout(() => {
          this.pending = undefined;
          reject(new ReadTimeoutError(`no ${length}-byte read within ${timeoutMs} ms (${this.buffered.length} bytes buffered)`));
        }, timeoutMs);
      }
      this.pending = pending;
      this.settle();
    });
  }

  /** Everything received until the peer closes (or the timeout passes, which rejects). */
  async readToEnd(timeoutMs = 5000): Promise<Buffer> {
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeoutMs).unref());
    if ((await Promise.race([this.closed, timeout])) === 'timeout') {
      throw new ReadTimeoutError(`peer did not close within ${timeoutMs} ms`);
    }
    const rest = this.buffered;
    this.buffered = Buffer.alloc(0);
    return rest;
  }

  /** Resolves true if the peer closes within `timeoutMs`. */
  async closesWithin(timeoutMs: number): Promise<boolean> {
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeoutMs).unref());
    return (await Promise.race([this.closed, timeout])) !== 'timeout';
  }

  destroy(): void {
    this.socket.destroy();
  }

  private settle(): void {
    const pending = this.pending;
    if (!pending) return;
    if (this.buffered.length >= pending.length) {
      const data = this.buffered.subarray(0, pending.length);
      this.buffered = this.buffered.subarray(pending.length);
      this.finish(pending);
      pending.resolve(data);
    } else if (this.ended) {
      this.finish(pending);
      pending.reject(new ConnectionClosedError(this.buffered));
    }
  }

  private finish(pending: PendingRead): void {
    if (pending.timer) clearTimeout(pending.timer);
    this.pending = undefined;
  }
}
