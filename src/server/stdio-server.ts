import type { Readable, Writable } from 'node:stream';
import type { ClientId, TpmDevice } from './device.js';
import { ByteReader } from './byte-reader.js';
import { type Logger, silentLogger } from './logger.js';
import { DEFAULT_MAX_FRAME, rawCommand, writeAll } from './wire.js';

export interface StdioServerOptions {
  device: TpmDevice;
  /** Raw TPM commands (process.stdin). */
  input: Readable;
  /** Raw TPM responses and nothing else (process.stdout). */
  output: Writable;
  /** Largest accepted commandSize; a larger one ends the session. */
  maxFrame?: number;
  /** tcti-cmd carries no locality; commands run at this one. */
  locality?: number;
  logger?: Logger;
  /** Called once when the session is over, with why. */
  onEnd?: (reason: StdioEndReason) => void;
}

/** 'eof': stdin ended; 'bad-frame': an unusable header; 'output': stdout failed; 'closed': close(). */
export type StdioEndReason = 'eof' | 'bad-frame' | 'output' | 'closed';

/**
 * tcti-cmd's transport: one process per TCTI context, raw commands on stdin (10-byte header, then
 * commandSize - 10), raw responses on stdout. The whole process is one resource-manager client.
 * SIGTERM is the CLI's business; this ends on stdin EOF.
 */
export class StdioServer {
  private readonly device: TpmDevice;
  private readonly logger: Logger;
  private readonly maxFrame: number;
  private readonly reader: ByteReader;
  private client: ClientId | undefined;
  private session: Promise<StdioEndReason> | undefined;
  private closeRequested: (() => void) | undefined;

  constructor(private readonly options: StdioServerOptions) {
    this.device = options.device;
    this.logger = options.logger ?? silentLogger;
    this.maxFrame = options.maxFrame ?? DEFAULT_MAX_FRAME;
    this.reader = new ByteReader(options.input);
  }

  /** Starts serving; resolves once started. run() tells when and why it stops. */
  async start(): Promise<void> {
    this.session ??= this.serve();
  }

  /** Serves (starting if needed) until the session is over. */
  run(): Promise<StdioEndReason> {
    this.session ??= this.serve();
    return this.session;
  }

  /** Ends the session (if running) and closes the client. */
  async close(): Promise<void> {
    if (!this.session) return;
    this.closeRequested?.();
    await this.session;
  }

  private async serve(): Promise<StdioEndReason> {
    const { input, output } = this.options;
    const closed = new Promise<StdioEndReason>((resolve) => {
      this.closeRequested = () => resolve('closed');
    });
    const outputFailed = new Promise<StdioEndReason>((resolve) => {
      output.on('error', (error) => {
        this.logger.warn('stdio output failed', { error });
        resolve('output');
      });
    });
    this.client = this.device.openClient();
    this.logger.debug('stdio session started', { client: this.client });
    const reason = await Promise.race([this.loop(output), closed, outputFailed]);
    this.device.closeClient(this.client);
    this.client = undefined;
    input.pause();
    this.logger.debug('stdio session ended', { reason });
    this.options.onEnd?.(reason);
    return reason;
  }

  private async loop(output: Writable): Promise<StdioEndReason> {
    for (;;) {
      const frame = await this.reader.nextFrame((bytes) => rawCommand(bytes, this.maxFrame, (command) => command));
      if (frame === 'end') return 'eof';
      if ('badLength' in frame) {
        this.logger.warn('stdio bad command size; ending session', { size: frame.badLength, max: this.maxFrame });
        return 'bad-frame';
      }
      const client = this.client;
      if (client === undefined) return 'closed';
      await writeAll(output, this.device.execute(frame, this.options.locality ?? 0, client));
    }
  }
}
