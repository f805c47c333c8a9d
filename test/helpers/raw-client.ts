import { ByteStream } from './byte-stream.js';
import { LOOPBACK } from './ports.js';

/** Largest response the clients accept before declaring the stream broken. */
export const MAX_RESPONSE_SIZE = 1 << 20;

/** Anything that carries one TPM command to a TPM and returns its response. */
export interface TpmTransport {
  transmit(command: Buffer): Promise<Buffer>;
  close(): void;
}

async function readTpmResponse(stream: ByteStream, timeoutMs: number): Promise<Buffer> {
  const header = await stream.read(10, timeoutMs);
  const size = header.readUInt32BE(2);
  if (size < 10 || size > MAX_RESPONSE_SIZE) {
    throw new Error(`malformed response header ${header.toString('hex')}`);
  }
  const rest = await stream.read(size - 10, timeoutMs);
  return Buffer.concat([header, rest]);
}

/** swtpm data channel: raw command in, raw response out, over one persistent connection. */
export class SwtpmDataClient implements TpmTransport {
  private constructor(readonly stream: ByteStream, private readonly timeoutMs: number) {}

  static async connect(port: number, host = LOOPBACK, timeoutMs = 10000): Promise<SwtpmDataClient> {
    return new SwtpmDataClient(await ByteStream.connect(port, host), timeoutMs);
  }

  /** Writes arbitrary bytes (fuzzing) without reading. */
  send(bytes: Buffer): void {
    this.stream.write(bytes);
  }

  /** Reads one response: 10-byte header, then the rest by its size field. */
  receive(timeoutMs = this.timeoutMs): Promise<Buffer> {
    return readTpmResponse(this.stream, timeoutMs);
  }

  async transmit(command: Buffer): Promise<Buffer> {
    this.send(command);
    return this.receive();
  }

  close(): void {
    this.stream.destroy();
  }
}

/** mssim TPM-port codes (TpmTcpProtocol.h). */
export const MSSIM = {
  SEND_COMMAND: 8,
  POWER_ON: 1,
  POWER_OFF: 2,
  NV_ON: 11,
  NV_OFF: 12,
  SESSION_END: 20,
} as const;

const u32 = (value: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32BE(value >>> 0); return b; };

/** mssim TPM port: `u32 8 | u8 locality | u32 len | cmd` in, `u32 len | rsp | u32 0` out. */
export class MssimTpmClient implements TpmTransport {
  private constructor(readonly stream: ByteStream, private readonly timeoutMs: number) {}

  static async connect(port: number, host = LOOPBACK, timeoutMs = 10000): Promise<MssimTpmClient> {
    return new MssimTpmClient(await ByteStream.connect(port, host), timeoutMs);
  }

  static frame(command: Buffer, locality = 0): Buffer {
    return Buffer.concat([u32(MSSIM.SEND_COMMAND), Buffer.from([locality]), u32(command.length), command]);
  }

  send(bytes: Buffer): void {
    this.stream.write(bytes);
  }

  /**
   * Reads one enveloped response and checks the trailing u32 0. Returns the TPM response, which is
   * empty when the simulator is powered off.
   */
  async receive(timeoutMs = this.timeoutMs): Promise<Buffer> {
    const length = (await this.stream.read(4, timeoutMs)).readUInt32BE(0);
    if (length > MAX_RESPONSE_SIZE) throw new Error(`mssim response length ${length} too large`);
    const response = await this.stream.read(length, timeoutMs);
    const trailer = (await this.stream.read(4, timeoutMs)).readUInt32BE(0);
    if (trailer !== 0) throw new Error(`mssim trailer 0x${trailer.toString(16)} != 0`);
    return response;
  }

  async transmit(command: Buffer, locality = 0): Promise<Buffer> {
    this.send(MssimTpmClient.frame(command, locality));
    return this.receive();
  }

  close(): void {
    this.stream.destroy();
  }
}

/** mssim platform port: u32 signal codes, each acknowledged by u32 0. */
export class MssimPlatformClient {
  private constructor(readonly stream: ByteStream) {}

  static async connect(port: number, host = LOOPBACK): Promise<MssimPlatformClient> {
    return new MssimPlatformClient(await ByteStream.connect(port, host));
  }

  /** Sends a signal and returns its acknowledgement (0 = OK). */
  async signal(code: number, timeoutMs = 5000): Promise<number> {
    this.stream.write(u32(code));
    return (await this.stream.read(4, timeoutMs)).readUInt32BE(0);
  }

  /** What tcti-mssim does at init: POWER_ON, then NV_ON; both must be acknowledged with 0. */
  async powerOn(): Promise<void> {
    for (const code of [MSSIM.POWER_ON, MSSIM.NV_ON]) {
      const ack = await this.signal(code);
      if (ack !== 0) throw new Error(`platform signal ${code} answered ${ack}`);
    }
  }

  /** A power cycle: POWER_OFF, then POWER_ON + NV_ON (the TPM then needs Startup). */
  async powerCycle(): Promise<void> {
    const ack = await this.signal(MSSIM.POWER_OFF);
    if (ack !== 0) throw new Error(`POWER_OFF answered ${ack}`);
    await this.powerOn();
  }

  close(): void {
    this.stream.destroy();
  }
}

/** Opens platform + TPM connections to an mssim server and powers the TPM on, like tcti-mssim. */
export async function connectMssim(port: number, host = LOOPBACK): Promise<{ tpm: MssimTpmClient; platform: MssimPlatformClient }> {
  const tpm = await MssimTpmClient.connect(port, host);
  const platform = await MssimPlatformClient.connect(port + 1, host);
  await platform.powerOn();
  return { tpm, platform };
}
