/**
 * The client side of the mssim TPM port, for mrtpm's own tools (`mrtpm ima measure` against a
 * running `mrtpm serve`): `u32 SEND_COMMAND | u8 locality | u32 size | command` out,
 * `u32 size | response | u32 0` back; `u32 SESSION_END` before closing, as tpm2-tss does.
 */
import net from 'node:net';
import { MSSIM } from './mssim-codes.js';

/** Where an mssim TPM port is, from a tpm2-tss TCTI string: `mssim:host=H,port=P` or `mssim:path=P`. */
export type MssimEndpoint = { host: string; port: number } | { path: string };

export function parseMssimTcti(tcti: string): MssimEndpoint {
  const [name, conf = ''] = tcti.split(/:(.*)/s, 2);
  if (name !== 'mssim') throw new Error(`unsupported TCTI "${tcti}": use mssim:host=H,port=P or mssim:path=P`);
  const kv = new Map(conf.split(',').filter((s) => s !== '').map((s) => s.split('=', 2) as [string, string]));
  const path = kv.get('path');
  if (path !== undefined) return { path };
  const port = Number(kv.get('port') ?? 2321);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`bad port in TCTI "${tcti}"`);
  return { host: kv.get('host') ?? '127.0.0.1', port };
}

const MAX_RESPONSE = 1 << 20;

export class MssimClient {
  private buffered = Buffer.alloc(0);
  private waiting: (() => void) | undefined;
  private failure: Error | undefined;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.waiting?.();
    });
    const fail = (err: Error): void => {
      this.failure ??= err;
      this.waiting?.();
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('the TPM closed the connection')));
  }

  static connect(endpoint: MssimEndpoint): Promise<MssimClient> {
    return new Promise((resolve, reject) => {
      const socket = 'path' in endpoint ? net.connect(endpoint.path) : net.connect(endpoint.port, endpoint.host);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new MssimClient(socket));
      });
      socket.once('error', reject);
    });
  }

  private async read(n: number): Promise<Buffer> {
    while (this.buffered.length < n) {
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => { this.waiting = resolve; });
      this.waiting = undefined;
    }
    const out = this.buffered.subarray(0, n);
    this.buffered = this.buffered.subarray(n);
    return out;
  }

  async execute(command: Uint8Array, locality = 0): Promise<Uint8Array> {
    const head = Buffer.alloc(9);
    head.writeUInt32BE(MSSIM.SEND_COMMAND, 0);
    head.writeUInt8(locality, 4);
    head.writeUInt32BE(command.length, 5);
    this.socket.write(Buffer.concat([head, command]));
    const size = (await this.read(4)).readUInt32BE(0);
    if (size > MAX_RESPONSE) throw new Error(`mssim response of ${size} bytes`);
    const response = Uint8Array.from(await this.read(size));
    const ack = (await this.read(4)).readUInt32BE(0);
    if (ack !== 0) throw new Error(`mssim acknowledged with ${ack}`);
    return response;
  }

  close(): void {
    const end = Buffer.alloc(4);
    end.writeUInt32BE(MSSIM.SESSION_END, 0);
    this.socket.end(end);
  }
}
