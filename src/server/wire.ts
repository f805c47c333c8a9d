import type { Writable } from 'node:stream';

/** All simulator wire integers are big-endian. */
export function u32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value >>> 0, 0);
  return out;
}

export function u32s(...values: number[]): Buffer {
  return Buffer.concat(values.map(u32));
}

/** mssim's TPM_SEND_COMMAND answer (also swtpm's for a prefixed command): u32 len | rsp | u32 0. */
export function envelope(response: Uint8Array): Buffer {
  return Buffer.concat([u32(response.length), response, u32(0)]);
}

/** The TPM header is tag(2) | size(4) | code(4); this reads the size field. */
export const TPM_HEADER_SIZE = 10;

export function headerSize(header: Uint8Array): number {
  return Buffer.from(header.buffer, header.byteOffset, header.byteLength).readUInt32BE(2);
}

/** The command or response code of a TPM header (bytes 6..9), 0 if the buffer is too short. */
export function headerCode(message: Uint8Array): number {
  if (message.length < TPM_HEADER_SIZE) return 0;
  return Buffer.from(message.buffer, message.byteOffset, message.byteLength).readUInt32BE(6);
}

/** Frame limit of the Microsoft simulator (MAX_BUFFER in TcpServer.c); used by every transport. */
export const DEFAULT_MAX_FRAME = 1 << 20;

/**
 * Writes and waits until the bytes are handed on (for a socket: to the kernel), so a client that
 * never reads cannot grow our memory and a close right after a reply does not lose it.
 */
export function writeAll(stream: Writable, bytes: Uint8Array): Promise<void> {
  if (stream.destroyed || stream.writableEnded) return Promise.resolve();
  return new Promise((resolve) => stream.write(bytes, () => resolve()));
}
