import { closeSync } from 'node:fs';
import net from 'node:net';
import type { Readable } from 'node:stream';
import type { ClientId, TpmDevice } from './device.js';
import { ByteReader } from './byte-reader.js';
import { FrameLoop, type Outcome } from './frame-loop.js';
import type { BadLength, Parsed } from './framing.js';
import { type Logger, silentLogger } from './logger.js';
import { type BoundAddress, Listener, listenPair } from './listener.js';
import { PTM_RES, TPM_FAILURE_RESPONSE } from './swtpm-codes.js';
import { CONTROL_COMMANDS, type ControlCommand, type ControlConnection, type ControlContext, type SwtpmInfo } from './swtpm-control.js';
import { Tasks } from './tasks.js';
import { DEFAULT_MAX_FRAME, TPM_HEADER_SIZE, commandFrame, envelope, rawCommand, u32, writeAll } from './wire.js';

/** A unix control connection read by recvmsg(2) (native/scm-rights.ts RightsReader). */
export interface PassedFdChannel {
  /** The connection's bytes. */
  readonly readable: Readable;
  /** The oldest fd passed with SCM_RIGHTS and not yet taken; the caller owns it. */
  takeFd(): number | undefined;
  /** Stops reading; closes the fds nobody took. */
  close(): void;
}

export interface SwtpmServerOptions {
  device: TpmDevice;
  /**
   * TCP: data port `port`, control port `ctrlPort` (default port + 1; port 0: any free pair).
   * Unix: data socket PATH, control socket `ctrlPath` (default PATH.ctrl).
   * Control only (`ctrlOnly`, QEMU's way): a unix control socket, the data channel comes by
   * CMD_SET_DATAFD.
   */
  endpoint: { host?: string; port: number; ctrlPort?: number } | { path: string; ctrlPath?: string } | { ctrlOnly: string };
  /**
   * Reads a unix control connection so that fds passed with CMD_SET_DATAFD arrive (Node's net
   * drops them). Without it, CMD_SET_DATAFD answers TPM_BAD_PARAMETER, as on a TCP socket.
   */
  passedFds?: (socket: net.Socket) => PassedFdChannel;
  /** Largest accepted TPM command; a larger commandSize closes that data connection. */
  maxFrame?: number;
  /** The TPM I/O buffer size reported by CMD_SET_BUFFERSIZE. */
  bufferSize?: number;
  info?: Partial<SwtpmInfo>;
  /** Time a control request may take to arrive completely (swtpm: 500 ms). */
  ctrlTimeoutMs?: number;
  logger?: Logger;
  /** Called once after CMD_SHUTDOWN has been answered and the server closed. */
  onStop?: () => void;
  /** CMD_STORE_VOLATILE; a rejection answers TPM_FAIL. */
  onStoreVolatile?: () => void | Promise<void>;
}

export interface SwtpmAddresses {
  /** Absent in control-only mode. */
  data?: BoundAddress;
  ctrl: BoundAddress;
}

export const DEFAULT_SWTPM_INFO: SwtpmInfo = {
  specLevel: 0,
  specRevision: 159,
  manufacturer: 0x4d525450, // "MRTP"
  firmwareVersion: 0x00010000,
};

/** ESAPI's TPM2_MAX_COMMAND_SIZE / TPM2_MAX_RESPONSE_SIZE. */
const DEFAULT_BUFFER_SIZE = 4096;
const DEFAULT_CTRL_TIMEOUT_MS = 500;
/** The mssim TPM_SEND_COMMAND prefix swtpm accepts on its data channel: u32 8 | u8 locality | u32 size. */
const SEND_COMMAND = 8;
const SEND_COMMAND_PREFIX = 9;

/** A data-channel command; `locality` is set when it came with the mssim prefix. */
interface DataCommand {
  command: Buffer;
  locality: number | undefined;
}

/**
 * swtpm's two channels: raw TPM commands on the data socket, swtpm ioctl-style commands on the
 * control socket. It behaves like `swtpm --flags not-need-init`: the TPM runs from the start
 * (the CLI powers the device on) and "running" is the device's power state, so CMD_STOP powers
 * it off and CMD_INIT power-cycles it.
 *
 * Resource-manager client identity: tcti-swtpm opens a new data connection for every command, so
 * a connection cannot be the client. All data connections of one server share one client id,
 * except that a data connection opened and closed without a byte (tcti-swtpm's init "sanity
 * check") starts a new TCTI context: the current client is closed, and the next command opens a
 * new one.
 */
export class SwtpmServer {
  private readonly device: TpmDevice;
  private readonly maxFrame: number;
  private readonly ctrlTimeoutMs: number;
  private readonly logger: Logger;
  private readonly data: Listener;
  private readonly ctrl: Listener;
  private readonly tasks: Tasks;
  private readonly context: ControlContext;
  private client: ClientId | undefined;
  private connections = 0;
  private closing = false;
  private stopping = false;
  /** The data channel QEMU passed with CMD_SET_DATAFD, while it is open. */
  private passedData: net.Socket | undefined;
  private readonly fdsOnCtrl: boolean;

  constructor(private readonly options: SwtpmServerOptions) {
    this.device = options.device;
    this.maxFrame = options.maxFrame ?? DEFAULT_MAX_FRAME;
    this.ctrlTimeoutMs = options.ctrlTimeoutMs ?? DEFAULT_CTRL_TIMEOUT_MS;
    this.logger = options.logger ?? silentLogger;
    this.tasks = new Tasks(this.logger);
    this.data = new Listener('swtpm-data', (s) => this.accept(s, 'data'), this.logger);
    const e = options.endpoint;
    this.fdsOnCtrl = options.passedFds !== undefined && !('port' in e);
    this.ctrl = new Listener('swtpm-ctrl', (s) => this.accept(s, 'ctrl'), this.logger, this.fdsOnCtrl);
    this.context = {
      device: options.device,
      locality: 0,
      bufferSize: options.bufferSize ?? DEFAULT_BUFFER_SIZE,
      info: { ...DEFAULT_SWTPM_INFO, ...options.info },
      storeVolatile: async () => {
        await options.onStoreVolatile?.();
      },
      useDataFd: (fd) => this.useDataFd(fd),
    };
  }

  /** Current locality of raw data-channel commands. */
  get locality(): number {
    return this.context.locality;
  }

  async start(): Promise<SwtpmAddresses> {
    const e = this.options.endpoint;
    if ('ctrlOnly' in e) {
      const ctrl = await this.ctrl.listen({ path: e.ctrlOnly });
      this.logger.info('swtpm listening (control only; data by CMD_SET_DATAFD)', { ctrl });
      return { ctrl };
    }
    const pair = 'path' in e
      ? { path: e.path, secondPath: e.ctrlPath }
      : { host: e.host, port: e.port, secondPort: e.ctrlPort };
    const [data, ctrl] = await listenPair(this.data, this.ctrl, pair);
    this.logger.info('swtpm listening', { data, ctrl });
    return { data, ctrl };
  }

  /** Stops listening, drops every connection, closes the client and removes socket files. */
  async close(): Promise<void> {
    this.closing = true;
    this.passedData?.destroy();
    await Promise.all([this.data.close(), this.ctrl.close()]);
    await this.tasks.settled();
    this.endClient();
  }

  private accept(socket: net.Socket, channel: 'data' | 'ctrl'): void {
    const id = ++this.connections;
    this.logger.debug('swtpm connection opened', { channel, id, remote: socket.remoteAddress });
    this.tasks.run(`swtpm ${channel} connection ${id}`,
      () => (channel === 'data' ? this.serveData(socket, id) : this.serveCtrl(socket, id)));
  }

  private currentClient(): ClientId {
    this.client ??= this.device.openClient();
    return this.client;
  }

  private endClient(): void {
    if (this.client === undefined) return;
    this.device.closeClient(this.client);
    this.client = undefined;
  }

  /** CMD_SET_DATAFD (see ControlContext.useDataFd). */
  private useDataFd(fd: number | undefined): number {
    if (this.passedData) {
      if (fd !== undefined) closeSync(fd);
      return PTM_RES.IOERROR;
    }
    if (fd === undefined) return PTM_RES.BAD_PARAMETER;
    let socket: net.Socket;
    try {
      socket = new net.Socket({ fd, readable: true, writable: true });
    } catch (error) {
      this.logger.warn('swtpm CMD_SET_DATAFD: not a socket', { fd, error });
      closeSync(fd);
      return PTM_RES.BAD_PARAMETER;
    }
    this.passedData = socket;
    const id = ++this.connections;
    this.logger.debug('swtpm data channel passed by CMD_SET_DATAFD', { id, fd });
    this.tasks.run(`swtpm passed data channel ${id}`, async () => {
      await this.serveData(socket, id);
      this.passedData = undefined;
      // The peer (QEMU) is gone: so is its TCTI context.
      if (!this.closing) this.endClient();
    });
    return PTM_RES.SUCCESS;
  }

  private async serveData(socket: net.Socket, id: number): Promise<void> {
    const loop = new FrameLoop(socket, (bytes) => this.parseData(bytes), (frame) => this.dataCommand(frame, id));
    try {
      await loop.ended;
    } catch (error) {
      this.logger.error('swtpm data connection failed', { id, error });
    }
    socket.destroy();
    if (loop.reader.received === 0 && !this.closing) {
      this.logger.debug('swtpm empty data connection: new client context', { id, ended: this.client });
      this.endClient();
    }
    this.logger.debug('swtpm connection closed', { channel: 'data', id });
  }

  private parseData(bytes: Buffer): Parsed<DataCommand | BadLength> {
    if (bytes.length < TPM_HEADER_SIZE) return { need: TPM_HEADER_SIZE };
    // swtpm's tpmlib_handle_tcg_tpm2_cmd_header(): a first u32 of 8 cannot start a TPM 2 command
    // (tag 0x0000), so it is the mssim prefix u32 8 | u8 locality | u32 size.
    if (bytes.readUInt32BE(0) === SEND_COMMAND) {
      const locality = bytes[4]!;
      return commandFrame(bytes, SEND_COMMAND_PREFIX, bytes.readUInt32BE(5), this.maxFrame, (command) => ({ command, locality }));
    }
    return rawCommand(bytes, this.maxFrame, (command) => ({ command, locality: undefined }));
  }

  private dataCommand(frame: DataCommand | BadLength, id: number): Outcome {
    if ('badLength' in frame) {
      this.logger.warn('swtpm bad command size; closing connection', { id, size: frame.badLength, max: this.maxFrame });
      return { next: 'abort' };
    }
    // The prefix's locality sticks, as in swtpm.
    if (frame.locality !== undefined) this.context.locality = frame.locality;
    const response = this.device.poweredOn
      ? this.device.execute(frame.command, this.context.locality, this.currentClient())
      : TPM_FAILURE_RESPONSE;
    return { reply: frame.locality === undefined ? response : envelope(response), next: 'continue' };
  }

  private async serveCtrl(socket: net.Socket, id: number): Promise<void> {
    const channel = this.fdsOnCtrl ? this.options.passedFds?.(socket) : undefined;
    const reader = new ByteReader(channel?.readable ?? socket);
    const connection: ControlConnection = { takePassedFd: () => channel?.takeFd() };
    let stop = false;
    try {
      while (!stop && (await reader.waitForData())) {
        // swtpm's deadline starts when a request's first bytes are there.
        const request = await this.readCtrlRequest(reader, Date.now() + this.ctrlTimeoutMs, id);
        if (!request) break;
        const { command, body, extra } = request;
        const reply = command ? await this.runCtrl(command, body, extra, connection) : u32(PTM_RES.BAD_ORDINAL);
        this.logger.debug('swtpm control command', { id, command: command?.name ?? request.code, reply: Buffer.from(reply).toString('hex') });
        await writeAll(socket, reply);
        stop = command?.stopsServer === true && Buffer.from(reply).readUInt32BE(0) === PTM_RES.SUCCESS;
      }
    } catch (error) {
      this.logger.error('swtpm control connection failed', { id, error });
    }
    channel?.close();
    if (stop && !this.stopping) {
      this.stopping = true;
      socket.end();
      this.logger.info('swtpm CMD_SHUTDOWN received; stopping');
      // Not awaited: close() waits for this very loop to finish.
      void this.close().then(() => this.options.onStop?.());
    } else {
      socket.destroy();
    }
    this.logger.debug('swtpm connection closed', { channel: 'ctrl', id });
  }

  /** The whole request, or undefined (connection to be closed without an answer). */
  private async readCtrlRequest(reader: ByteReader, deadline: number, id: number): Promise<
    { code: number; command: ControlCommand | undefined; body: Buffer; extra: number } | undefined
  > {
    const fail = (why: string, fields: Record<string, unknown> = {}): undefined => {
      if (why !== 'end') this.logger.warn(`swtpm control request ${why}; closing connection`, { id, ...fields });
      return undefined;
    };
    const code = await reader.readU32(deadline);
    if (typeof code === 'string') return fail(code);
    const command = CONTROL_COMMANDS.get(code);
    let body = Buffer.alloc(0);
    if (command) {
      const fixed = await reader.read(command.body, deadline);
      if (typeof fixed === 'string') return fail(fixed, { code });
      const more = command.variableBody?.(fixed) ?? 0;
      if (more > (command.maxVariableBody ?? this.maxFrame)) return fail('too large', { code, more });
      const rest = await reader.read(more, deadline);
      if (typeof rest === 'string') return fail(rest, { code });
      body = Buffer.concat([fixed, rest]);
    }
    // What came along with the request counts as part of it, as in swtpm's single recvmsg().
    const extra = reader.takeAll().length;
    return { code, command, body, extra };
  }

  private async runCtrl(command: ControlCommand, body: Buffer, extra: number, connection: ControlConnection): Promise<Uint8Array> {
    if (command.needsRunning && !this.device.poweredOn) return u32(PTM_RES.BAD_ORDINAL);
    if (command.exact && extra > 0) return u32(PTM_RES.BAD_PARAMETER);
    return command.run(this.context, body, connection);
  }
}
