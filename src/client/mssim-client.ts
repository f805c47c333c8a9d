/**
 * A client of a serving vTPM's mssim TPM port (docs/transports.md): one connection, commands sent
 * one at a time as TPM_SEND_COMMAND frames, responses read back whole. What `mrtpm attest` uses to
 * reach the vTPM that holds the state directory.
 */
import { connect, type Socket } from 'node:net';

const TPM_SEND_COMMAND = 8;
const TPM_SESSION_END = 20;

export class MssimClient {
  private buffered = Buffer.alloc(0);
  private waiting: (() => void) | undefined;
  private failure: Error | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.waiting?.();
    });
    const fail = (err: Error): void => {
      this.failure = err;
      this.waiting?.();
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('the vTPM closed the connection')));
  }

  static connect(host: string, port: number): Promise<MssimClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      socket.once('connect', () => resolve(new MssimClient(socket)));
      socket.once('error', (err) => reject(new Error(`cannot reach the vTPM at ${host}:${port} (mssim): ${err.message}`)));
    });
  }

  /** Sends one TPM command at `locality` and resolves with the response bytes. */
  async execute(command: Uint8Array, locality = 0): Promise<Uint8Array> {
    const header = Buffer.alloc(9);
    header.writeUInt32BE(TPM_SEND_COMMAND, 0);
    header.writeUInt8(locality, 4);
    header.writeUInt32BE(command.length, 5);
    this.socket.write(Buffer.concat([header, command]));
    const size = (await this.take(4)).readUInt32BE(0);
    const response = await this.take(size);
    await this.take(4);
    return response;
  }

  /** Ends the session (the server then closes the connection). */
  close(): void {
    const end = Buffer.alloc(4);
    end.writeUInt32BE(TPM_SESSION_END, 0);
    this.socket.end(end);
  }

  private async take(n: number): Promise<Buffer> {
    while (this.buffered.length < n) {
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => { this.waiting = resolve; });
      this.waiting = undefined;
    }
    const out = this.buffered.subarray(0, n);
    this.buffered = this.buffered.subarray(n);
    return out;
  }
}
