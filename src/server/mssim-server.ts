import type net from 'node:net';
import type { ClientId, PlatformSignal, TpmDevice } from './device.js';
import { CommandResponseSizes } from './command-response-sizes.js';
import { FrameLoop, type LoopEnd, type Outcome } from './frame-loop.js';
import { type BadLength, type Parsed, badLength, withBody } from './framing.js';
import { type Logger, silentLogger } from './logger.js';
import { type BoundAddress, Listener, listenPair } from './listener.js';
import {
  HANDSHAKE_FLAGS, HANDSHAKE_SERVER_VERSION, MSSIM, PLATFORM_SIGNALS, PLATFORM_UNKNOWN_CODE_REPLY,
} from './mssim-codes.js';
import { Tasks } from './tasks.js';
import { DEFAULT_MAX_FRAME, envelope, u32, u32s } from './wire.js';

export interface MssimServerOptions {
  device: TpmDevice;
  /** TCP: TPM port `port`, platform port `port + 1` (port 0: any free pair). Unix: PATH and PATH.ctrl. */
  endpoint: { host?: string; port: number } | { path: string };
  /** Largest accepted length field; a larger one closes that connection. */
  maxFrame?: number;
  logger?: Logger;
  /** Called once after TPM_STOP has closed the server. */
  onStop?: () => void;
}

export interface MssimAddresses {
  tpm: BoundAddress;
  platform: BoundAddress;
}

/** What follows a code on the wire: nothing, a u32 argument, a u32-sized body, or a command. */
type Shape = 'bare' | 'u32' | 'sized' | 'command';

/** One frame: its code, the u32 argument or command locality, and the body of sized frames. */
interface Frame {
  code: number;
  arg: number;
  body: Buffer;
}

/** A code that the port does not serve; the frame is just the code. */
interface Unknown {
  unknown: number;
}

interface Connection {
  port: 'tpm' | 'platform';
  id: number;
  client: ClientId | undefined;
}

interface Handler {
  shape: Shape;
  run: (frame: Frame, conn: Connection) => Outcome;
}

const ACK: Outcome = { reply: u32(0), next: 'continue' };
const ABORT: Outcome = { next: 'abort' };
const NO_BODY = Buffer.alloc(0);
/** Bytes before the body: code | u32 length, or code | u8 locality | u32 length. */
const SIZED_HEAD = 8;
const COMMAND_HEAD = 9;
/** Idle time after our half-close before a peer that never closes is cut off. */
const LINGER_MS = 2000;

/**
 * The Microsoft/IBM simulator protocol: a TPM port (commands, hash signals, handshake) and a
 * platform port (power, NV, cancel, ... signals). Unlike the simulator, several clients may be
 * connected to each port at once; commands still run one at a time because execute() is
 * synchronous. Every TPM-port connection is one resource-manager client.
 */
export class MssimServer {
  private readonly device: TpmDevice;
  private readonly maxFrame: number;
  private readonly logger: Logger;
  private readonly tpm: Listener;
  private readonly platform: Listener;
  private readonly tasks: Tasks;
  private readonly sizes = new CommandResponseSizes();
  private readonly tpmHandlers: ReadonlyMap<number, Handler>;
  private readonly platformHandlers: ReadonlyMap<number, Handler>;
  private connections = 0;
  private stopping = false;

  constructor(private readonly options: MssimServerOptions) {
    this.device = options.device;
    this.maxFrame = options.maxFrame ?? DEFAULT_MAX_FRAME;
    this.logger = options.logger ?? silentLogger;
    this.tasks = new Tasks(this.logger);
    this.tpm = new Listener('mssim-tpm', (s) => this.accept(s, 'tpm'), this.logger);
    this.platform = new Listener('mssim-platform', (s) => this.accept(s, 'platform'), this.logger);

    const bare = (run: () => Outcome): Handler => ({ shape: 'bare', run });
    const ends: [number, Handler][] = [
      [MSSIM.SESSION_END, bare(() => ({ next: 'close' }))],
      [MSSIM.STOP, bare(() => ({ next: 'stop' }))],
    ];
    this.tpmHandlers = new Map<number, Handler>([
      [MSSIM.SEND_COMMAND, { shape: 'command', run: (f, c) => this.sendCommand(f, c) }],
      [MSSIM.SIGNAL_HASH_START, bare(() => this.signal('hashStart'))],
      [MSSIM.SIGNAL_HASH_DATA, { shape: 'sized', run: (f) => this.hashData(f.body) }],
      [MSSIM.SIGNAL_HASH_END, bare(() => this.signal('hashEnd'))],
      [MSSIM.REMOTE_HANDSHAKE, { shape: 'u32', run: (f, c) => this.remoteHandshake(f.arg, c) }],
      // The argument has no effect here.
      [MSSIM.SET_ALTERNATIVE_RESULT, { shape: 'u32', run: () => ACK }],
      ...ends,
    ]);
    this.platformHandlers = new Map<number, Handler>([
      ...[...PLATFORM_SIGNALS].map(([code, signal]): [number, Handler] => [code, bare(() => this.signal(signal))]),
      [MSSIM.GET_COMMAND_RESPONSE_SIZES, bare(() => ({ reply: envelope(this.sizes.takeReport()), next: 'continue' }))],
      // No Authenticated Countdown Timer ever fires here: signaled = 0.
      [MSSIM.ACT_GET_SIGNALED, { shape: 'u32', run: () => ({ reply: u32s(0, 0), next: 'continue' }) }],
      ...ends,
    ]);
  }

  async start(): Promise<MssimAddresses> {
    const endpoint = this.options.endpoint;
    const pair = 'path' in endpoint ? { path: endpoint.path } : { host: endpoint.host, port: endpoint.port };
    const [tpm, platform] = await listenPair(this.tpm, this.platform, pair);
    this.logger.info('mssim listening', { tpm, platform });
    return { tpm, platform };
  }

  /** Stops listening, drops every connection (closing its client) and removes socket files. */
  async close(): Promise<void> {
    await Promise.all([this.tpm.close(), this.platform.close()]);
    await this.tasks.settled();
  }

  private accept(socket: net.Socket, port: 'tpm' | 'platform'): void {
    const id = ++this.connections;
    this.tasks.run(`mssim ${port} connection ${id}`, () => this.serve(socket, port, id));
  }

  private async serve(socket: net.Socket, port: 'tpm' | 'platform', id: number): Promise<void> {
    const handlers = port === 'tpm' ? this.tpmHandlers : this.platformHandlers;
    const conn: Connection = { port, id, client: port === 'tpm' ? this.device.openClient() : undefined };
    this.logger.debug('mssim connection opened', { port, id, client: conn.client, remote: socket.remoteAddress });
    const loop = new FrameLoop(socket, (bytes) => this.parse(handlers, bytes), (frame) => this.run(handlers, frame, conn));
    let end: LoopEnd;
    try {
      end = await loop.ended;
    } catch (error) {
      this.logger.error('mssim connection failed', { port, id, error });
      end = 'abort';
    } finally {
      if (conn.client !== undefined) this.device.closeClient(conn.client);
    }
    // A frame cut off by the end of the stream is dropped with the connection.
    if (end === 'abort' || end === 'truncated') {
      socket.destroy();
    } else {
      socket.end();
      socket.setTimeout(LINGER_MS, () => socket.destroy());
    }
    this.logger.debug('mssim connection closed', { port, id, how: end });
    // Not awaited: close() waits for this very loop to finish.
    if (end === 'stop') void this.stop();
  }

  /** The framing of every code, from its handler's shape; an unknown code is a frame of its own. */
  private parse(handlers: ReadonlyMap<number, Handler>, bytes: Buffer): Parsed<Frame | Unknown | BadLength> {
    if (bytes.length < 4) return { need: 4 };
    const code = bytes.readUInt32BE(0);
    const shape = handlers.get(code)?.shape;
    switch (shape) {
      case undefined:
        return { frame: { unknown: code }, length: 4 };
      case 'bare':
        return { frame: { code, arg: 0, body: NO_BODY }, length: 4 };
      case 'u32':
        return bytes.length < 8 ? { need: 8 } : { frame: { code, arg: bytes.readUInt32BE(4), body: NO_BODY }, length: 8 };
      case 'sized':
      case 'command': {
        const head = shape === 'sized' ? SIZED_HEAD : COMMAND_HEAD;
        if (bytes.length < head) return { need: head };
        const length = bytes.readUInt32BE(head - 4);
        if (length > this.maxFrame) return badLength(length);
        const arg = shape === 'command' ? bytes[4]! : 0;
        return withBody(bytes, head, length, (body) => ({ code, arg, body }));
      }
    }
  }

  private run(handlers: ReadonlyMap<number, Handler>, frame: Frame | Unknown | BadLength, conn: Connection): Outcome {
    if ('unknown' in frame) return this.unknownCode(conn, frame.unknown);
    if ('badLength' in frame) {
      this.logger.warn('mssim frame too large; closing connection', { id: conn.id, length: frame.badLength, max: this.maxFrame });
      return ABORT;
    }
    return handlers.get(frame.code)!.run(frame, conn);
  }

  /** The simulator answers 1 on the platform port and nothing on the TPM port, then closes. */
  private unknownCode(conn: Connection, code: number): Outcome {
    this.logger.warn('mssim unknown command code; closing connection', { port: conn.port, id: conn.id, code });
    return conn.port === 'platform' ? { reply: u32(PLATFORM_UNKNOWN_CODE_REPLY), next: 'close' } : ABORT;
  }

  private async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.logger.info('mssim TPM_STOP received; stopping');
    await this.close();
    this.options.onStop?.();
  }

  private signal(signal: PlatformSignal): Outcome {
    this.device.signal(signal);
    return ACK;
  }

  private sendCommand(frame: Frame, conn: Connection): Outcome {
    // A powered-off simulator answers with an empty response (_rpc__Send_Command).
    let response: Uint8Array = NO_BODY;
    if (this.device.poweredOn) {
      response = this.device.execute(frame.body, frame.arg, conn.client!);
      this.sizes.record(frame.body, response);
    }
    return { reply: envelope(response), next: 'continue' };
  }

  private hashData(data: Buffer): Outcome {
    this.device.hashData(data);
    return ACK;
  }

  private remoteHandshake(clientVersion: number, conn: Connection): Outcome {
    if (clientVersion === 0) {
      this.logger.warn('mssim handshake with client version 0; closing connection', { id: conn.id });
      return { next: 'close' };
    }
    return { reply: u32s(HANDSHAKE_SERVER_VERSION, HANDSHAKE_FLAGS, 0), next: 'continue' };
  }
}
