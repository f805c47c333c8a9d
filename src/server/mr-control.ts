/**
 * The operator channel of a running vTPM's MR mirror: a unix socket (0600, in the MR log directory
 * the vTPM has locked) that takes one JSON request per line and answers one JSON line. It lets
 * `mrtpm mr extend` reach registers a running vTPM holds; each request runs in the event loop
 * between TPM commands, so an operator extend is ordered and logged with the mirrored PCR extends.
 */
import net from 'node:net';
import type { Logger } from './logger.js';
import { Listener } from './listener.js';
import { isHexBytes, toHex } from '../tpm/crypto/bytes.js';

export interface MrControlHandler {
  /** Extends `register` with `digest`; returns the register's new value. Throws to refuse. */
  extend(register: string, digest: Uint8Array): Uint8Array;
}

export interface MrExtendRequest {
  op: 'extend';
  register: string;
  /** Hex. */
  digest: string;
}

export type MrControlResponse =
  | { ok: true; register: string; value: string }
  | { ok: false; error: string; code?: string };

/** A request line longer than this is not an operator's; the connection is closed. */
const MAX_LINE = 16 * 1024;

function parseRequest(line: string): MrExtendRequest {
  const r = JSON.parse(line) as Partial<MrExtendRequest> | null;
  if (r?.op !== 'extend') throw new Error(`unknown request ${JSON.stringify(r?.op)}`);
  if (typeof r.register !== 'string' || typeof r.digest !== 'string' || !isHexBytes(r.digest)) {
    throw new Error('an extend request needs "register" and a hex "digest"');
  }
  return { op: 'extend', register: r.register, digest: r.digest };
}

function answer(handler: MrControlHandler, line: string): MrControlResponse {
  try {
    const request = parseRequest(line);
    const value = handler.extend(request.register, Buffer.from(request.digest, 'hex'));
    return { ok: true, register: request.register, value: toHex(value) };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return { ok: false, error: err instanceof Error ? err.message : String(err), ...(typeof code === 'string' && { code }) };
  }
}

export class MrControlServer {
  private readonly listener: Listener;

  constructor(handler: MrControlHandler, private readonly logger: Logger) {
    this.listener = new Listener('mr-control', (socket) => this.serve(socket, handler), logger);
  }

  async listen(path: string): Promise<void> {
    await this.listener.listen({ path });
  }

  close(): Promise<void> {
    return this.listener.close();
  }

  private serve(socket: net.Socket, handler: MrControlHandler): void {
    let pending = '';
    socket.setEncoding('utf8');
    socket.on('error', (error) => this.logger.debug('mr-control connection failed', { error }));
    socket.on('data', (chunk: string) => {
      pending += chunk;
      for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
        const line = pending.slice(0, end);
        pending = pending.slice(end + 1);
        if (line.trim() !== '') socket.write(`${JSON.stringify(answer(handler, line))}\n`);
      }
      if (pending.length > MAX_LINE) {
        this.logger.warn('mr-control request line too long; closing the connection', { bytes: pending.length });
        socket.destroy();
      }
    });
  }
}

/** A vTPM answers between two TPM commands; one that has not answered by then is stuck. */
const ANSWER_TIMEOUT_MS = 10_000;

/**
 * Sends one request to the control socket at `path`. Rejects with the connect error (ENOENT,
 * ECONNREFUSED: no vTPM serves there), when the connection ends without an answer, or when none
 * comes within `timeoutMs`.
 */
export function mrControlRequest(path: string, request: MrExtendRequest, timeoutMs = ANSWER_TIMEOUT_MS): Promise<MrControlResponse> {
  return new Promise((resolve, reject) => {
    let received = '';
    const socket = net.connect({ path }, () => socket.write(`${JSON.stringify(request)}\n`));
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`${path}: no answer from the vTPM in ${timeoutMs} ms`)));
    socket.setEncoding('utf8');
    socket.on('error', reject);
    socket.on('data', (chunk: string) => {
      received += chunk;
      const end = received.indexOf('\n');
      if (end < 0) return;
      socket.end();
      try {
        resolve(JSON.parse(received.slice(0, end)) as MrControlResponse);
      } catch (err) {
        reject(err as Error);
      }
    });
    socket.on('close', () => reject(new Error(`${path}: the vTPM closed the connection without an answer`)));
  });
}
