import type net from 'node:net';
import type { ClientId, PlatformSignal, TpmDevice } from './device.js';
import { ByteReader } from './byte-reader.js';
import { CommandResponseSizes } from './command-response-sizes.js';
import { type Logger, silentLogger } from './logger.js';
import { type BoundAddress, Listener, listenPair } from './listener.js';
import {
  HANDSHAKE_FLAGS, HANDSHAKE_SERVER_VERSION, MSSIM, PLATFORM_SIGNALS, PLATFORM_UNKNOWN_CODE_REPLY,
} from './mssim-codes.js';
import { Tasks } from './tasks.js';
import { DEFAULT_MAX_FRAME, envelope, u32, u32s, writeAll } from './wire.js';

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

/** What a handler asks of its connection loop after its reply (if any) is written. */
type Outcome = { reply?: Uint8Array; next: 'continue' | 'close' | 'abort' | 'stop' };

interface Connection {
  id: number;
  reader: ByteReader;
  client: ClientId | undefined;
}

type Handler = (conn: Connection) => Promise<Outcome>;

const ACK: Outcome = { reply: u32(0), next: 'continue' };
const ABORT: Outcome = { next: 'abort' };
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

    const ends: [number, Handler][] = [
      [MSSIM.SESSION_END, async () => ({ next: 'close' })],
      [MSSIM.STOP, async () => ({ next: 'stop' })],
    ];
    this.tpmHandlers = new Map<number, Handler>([
      [MSSIM.SEND_COMMAND, (c) => this.sendCommand(c)],
      [MSSIM.SIGNAL_HASH_START, async () => this.signal('hashStart')],
      [MSSIM.SIGNAL_HASH_DATA, (c) => this.hashData(c)],
      [MSSIM.SIGNAL_HASH_END, async () => this.signal('hashEnd')],
      [MSSIM.REMOTE_HANDSHAKE, (c) => this.remoteHandshake(c)],
      [MSSIM.SET_ALTERNATIVE_RESULT, (c) => this.ignoreU32(c, u32(0))],
      ...ends,
    ]);
    this.platformHandlers = new Map<number, Handler>([
      ...[...PLATFORM_SIGNALS].map(([code, signal]): [number, Handler] => [code, async () => this.signal(signal)]),
      [MSSIM.GET_COMMAND_RESPONSE_SIZES, async () => ({ reply: envelope(this.sizes.takeReport()), next: 'continue' })],
      // No Authenticated Countdown Timer ever fires here: signaled = 0.
      [MSSIM.ACT_GET_SIGNALED, (c) => this.ignoreU32(c, u32s(0, 0))],
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
    const conn: Connection = {
      id,
      reader: new ByteReader(socket),
      client: port === 'tpm' ? this.device.openClient() : undefined,
    };
    this.logger.debug('mssim connection opened', { port, id, client: conn.client, remote: socket.remoteAddress });
    let next: Outcome['next'] = 'close';
    try {
      for (;;) {
        const code = await conn.reader.readU32();
        if (typeof code === 'string') {
          next = 'close';
          break;
        }
        const handler = handlers.get(code);
        const outcome = handler ? await handler(conn) : this.unknownCode(port, id, code);
        if (outcome.reply) await writeAll(socket, outcome.reply);
        next = outcome.next;
        if (next !== 'continue') break;
      }
    } catch (error) {
      this.logger.error('mssim connection failed', { port, id, error });
      next = 'abort';
    } finally {
      if (conn.client !== undefined) this.device.closeClient(conn.client);
    }
    if (next === 'abort') {
      socket.destroy();
    } else {
      socket.end();
      socket.setTimeout(LINGER_MS, () => socket.destroy());
    }
    this.logger.debug('mssim connection closed', { port, id, how: next });
    // Not awaited: close() waits for this very loop to finish.
    if (next === 'stop') void this.stop();
  }

  /** The simulator answers 1 on the platform port and nothing on the TPM port, then closes. */
  private unknownCode(port: 'tpm' | 'platform', id: number, code: number): Outcome {
    this.logger.warn('mssim unknown command code; closing connection', { port, id, code });
    return port === 'platform' ? { reply: u32(PLATFORM_UNKNOWN_CODE_REPLY), next: 'close' } : ABORT;
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

  /** Reads a u32 length and that many bytes; undefined (after a warning) if it cannot. */
  private async readSized(conn: Connection, what: string): Promise<Buffer | undefined> {
    const length = await conn.reader.readU32();
    if (typeof length === 'string') return undefined;
    if (length > this.maxFrame) {
      this.logger.warn('mssim frame too large; closing connection', { id: conn.id, what, length, max: this.maxFrame });
      return undefined;
    }
    const body = await conn.reader.read(length);
    return typeof body === 'string' ? undefined : body;
  }

  private async sendCommand(conn: Connection): Promise<Outcome> {
    const locality = await conn.reader.read(1);
    if (typeof locality === 'string') return ABORT;
    const command = await this.readSized(conn, 'command');
    if (!command) return ABORT;
    // A powered-off simulator answers with an empty response (_rpc__Send_Command).
    let response: Uint8Array = new Uint8Array(0);
    if (this.device.poweredOn) {
      response = this.device.execute(command, locality[0]!, conn.client!);
      this.sizes.record(command, response);
    }
    return { reply: envelope(response), next: 'continue' };
  }

  private async hashData(conn: Connection): Promise<Outcome> {
    const data = await this.readSized(conn, 'hash data');
    if (!data) return ABORT;
    this.device.hashData(data);
    return ACK;
  }

  private async remoteHandshake(conn: Connection): Promise<Outcome> {
    const clientVersion = await conn.reader.readU32();
    if (typeof clientVersion === 'string') return ABORT;
    if (clientVersion === 0) {
      this.logger.warn('mssim handshake with client version 0; closing connection', { id: conn.id });
      return { next: 'close' };
    }
    return { reply: u32s(HANDSHAKE_SERVER_VERSION, HANDSHAKE_FLAGS, 0), next: 'continue' };
  }

  /** Codes whose u32 argument has no effect here. */
  private async ignoreU32(conn: Connection, reply: Uint8Array): Promise<Outcome> {
    const argument = await conn.reader.readU32();
    return typeof argument === 'string' ? ABORT : { reply, next: 'continue' };
  }
}
