import type { ClientId, PlatformSignal, StateBlobType, TpmDevice } from '../../src/server/device.js';

export interface Executed {
  command: Buffer;
  locality: number;
  client: ClientId;
}

/**
 * A stand-in TPM that records what the transports hand it. Its response is 16 bytes:
 * 80 01 | size 16 | rc 0 | locality u8 | client u8 | command length u32, so a test can see which
 * locality and client a command ran with. `respond` replaces that response.
 */
export class FakeDevice implements TpmDevice {
  poweredOn = true;
  established = false;
  readonly signals: PlatformSignal[] = [];
  readonly executed: Executed[] = [];
  readonly hashed: Buffer[] = [];
  readonly opened: ClientId[] = [];
  readonly closed: ClientId[] = [];
  readonly establishedResets: number[] = [];
  respond: ((command: Buffer) => Uint8Array) | undefined;
  private nextClient = 1;

  execute(command: Uint8Array, locality: number, client: ClientId): Uint8Array {
    const copy = Buffer.from(command);
    this.executed.push({ command: copy, locality, client });
    if (this.respond) return this.respond(copy);
    return fakeResponse(locality, client, copy.length);
  }

  signal(signal: PlatformSignal): void {
    this.signals.push(signal);
    if (signal === 'powerOn') this.poweredOn = true;
    if (signal === 'powerOff') this.poweredOn = false;
  }

  hashData(data: Uint8Array): void {
    this.hashed.push(Buffer.from(data));
  }

  resetEstablished(locality: number): void {
    this.establishedResets.push(locality);
    this.established = false;
  }

  openClient(): ClientId {
    const id = this.nextClient++;
    this.opened.push(id);
    return id;
  }

  closeClient(client: ClientId): void {
    this.closed.push(client);
  }

  /** Blobs kept as given; a blob starting with 0xff is refused. */
  readonly blobs = new Map<StateBlobType, Buffer>();

  stateBlob(type: StateBlobType): Uint8Array | undefined {
    return this.blobs.get(type);
  }

  setStateBlob(type: StateBlobType, blob: Uint8Array): boolean {
    if (blob[0] === 0xff) return false;
    if (blob.length === 0) this.blobs.delete(type);
    else this.blobs.set(type, Buffer.from(blob));
    return true;
  }
}

export function fakeResponse(locality: number, client: number, commandLength: number): Buffer {
  const out = Buffer.alloc(16);
  out.writeUInt16BE(0x8001, 0);
  out.writeUInt32BE(16, 2);
  out.writeUInt32BE(0, 6);
  out.writeUInt8(locality, 10);
  out.writeUInt8(client, 11);
  out.writeUInt32BE(commandLength, 12);
  return out;
}

/** TPM2_GetRandom(8): a well-formed 12-byte command. */
export const GET_RANDOM_8 = Buffer.from('80010000000c0000017b0008', 'hex');

/** A raw TPM command of any length >= 10 with a correct header size. */
export function command(length: number, code = 0x17b): Buffer {
  const out = Buffer.alloc(length, 0xab);
  out.writeUInt16BE(0x8001, 0);
  out.writeUInt32BE(length, 2);
  out.writeUInt32BE(code, 6);
  return out;
}
