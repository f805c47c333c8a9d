import type { Writable } from 'node:stream';
import { type BadLength, type Parsed, badLength, withBody } from './framing.js';

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
  const out = Buffer.allocUnsafe(response.length + 8);
  out.writeUInt32BE(response.length, 0);
  out.set(response, 4);
  out.writeUInt32BE(0, response.length + 4);
  return out;
}

/** The TPM header is tag(2) | size(4) | code(4). */
export const TPM_HEADER_SIZE = 10;

/** The command or response code of a TPM header (bytes 6..9), 0 if the buffer is too short. */
export function headerCode(message: Uint8Array): number {
  if (message.length < TPM_HEADER_SIZE) return 0;
  return Buffer.from(message.buffer, message.byteOffset, message.byteLength).readUInt32BE(6);
}

/** Frame limit of the Microsoft simulator (MAX_BUFFER in TcpServer.c); used by every transport. */
export const DEFAULT_MAX_FRAME = 1 << 20;

/**
 * A TPM command of `size` bytes after `head` bytes of transport prefix, once buffered. A size that
 * cannot hold a TPM header or exceeds maxFrame is a bad frame.
 */
export function commandFrame<F>(
  bytes: Buffer, head: number, size: number, maxFrame: number, frame: (command: Buffer) => F,
): Parsed<F | BadLength> {
  if (size < TPM_HEADER_SIZE || size > maxFrame) return badLength(size);
  return withBody(bytes, head, size, frame);
}

/** A raw TPM command (tcti-cmd, swtpm data channel): framed by its header's size field. */
export function rawCommand<F>(bytes: Buffer, maxFrame: number, frame: (command: Buffer) => F): Parsed<F | BadLength> {
  if (bytes.length < TPM_HEADER_SIZE) return { need: TPM_HEADER_SIZE };
  return commandFrame(bytes, 0, bytes.readUInt32BE(2), maxFrame, frame);
}

/**
 * Writes and waits until the bytes are handed on (for a socket: to the kernel), so a client that
 * never reads cannot grow our memory and a close right after a reply does not lose it.
 */
export function writeAll(stream: Writable, bytes: Uint8Array): Promise<void> {
  if (stream.destroyed || stream.writableEnded) return Promise.resolve();
  return new Promise((resolve) => stream.write(bytes, () => resolve()));
}
