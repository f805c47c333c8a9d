import type { TpmDevice } from './device.js';
import type { StateBlobType } from './device.js';
import { CMD, GETINFO_SIZE, MAX_LOCALITY, PTM_BLOB_TYPE, PTM_CAP_BIT, PTM_RES, SWTPM_INFO } from './swtpm-codes.js';
import { u32, u32s } from './wire.js';

/** What CMD_GET_INFO reports about us (never swtpm's IBM identity). */
export interface SwtpmInfo {
  specLevel: number;
  specRevision: number;
  /** TPM_PT_MANUFACTURER as a number, shown as id:XXXXXXXX. */
  manufacturer: number;
  /** TPM_PT_FIRMWARE_VERSION_1, shown as id:XXXXXXXX. */
  firmwareVersion: number;
}

/** The state control commands read and change; owned by the swtpm server. */
export interface ControlContext {
  readonly device: TpmDevice;
  /** Locality of later raw data-channel commands. */
  locality: number;
  /** The TPM I/O buffer size CMD_SET_BUFFERSIZE reports; this TPM cannot change it. */
  readonly bufferSize: number;
  readonly info: SwtpmInfo;
  storeVolatile(): Promise<void>;
  /**
   * CMD_SET_DATAFD: serves `fd` as the data channel and answers the PTM result: TPM_IOERROR while
   * a passed data channel is still open (swtpm checks that first; `fd` is then closed), and
   * TPM_BAD_PARAMETER when no fd came.
   */
  useDataFd(fd: number | undefined): number;
}

/** The control connection a request came on. */
export interface ControlConnection {
  /** The oldest fd passed with SCM_RIGHTS on this connection and not yet taken (unix sockets only). */
  takePassedFd(): number | undefined;
}

export interface ControlCommand {
  name: string;
  /** PTM_CAP bit this command earns in CMD_GET_CAPABILITY. */
  capability?: number;
  /** Request bytes after the code that must arrive before the command runs. */
  body: number;
  /** More bytes announced by the fixed body (CMD_HASH_DATA's length). */
  variableBody?: (fixed: Buffer) => number;
  /** Largest variable body; default the server's largest frame. */
  maxVariableBody?: number;
  /**
   * swtpm checks some requests with `n != size`: any extra byte answers TPM_BAD_PARAMETER.
   * The others (`n < size`) tolerate and drop extra bytes.
   */
  exact: boolean;
  /** Answers TPM_BAD_ORDINAL while the TPM is stopped. */
  needsRunning: boolean;
  run(ctx: ControlContext, body: Buffer, connection: ControlConnection): Uint8Array | Promise<Uint8Array>;
  /** After the reply, the server stops (CMD_SHUTDOWN). */
  stopsServer?: true;
}

const result = (code: number): Uint8Array => u32(code);
const OK = result(PTM_RES.SUCCESS);

/** Largest CMD_HASH_DATA chunk swtpm takes in one request (ptm_hdata's buffer). */
const HASH_DATA_MAX = 4096;

/** Largest CMD_SET_STATEBLOB blob taken (swtpm mallocs any length; an mrtpm state is far smaller). */
const STATE_BLOB_MAX = 64 << 20;

const BLOB_TYPES: ReadonlyMap<number, StateBlobType> = new Map([
  [PTM_BLOB_TYPE.PERMANENT, 'permanent'],
  [PTM_BLOB_TYPE.VOLATILE, 'volatile'],
  [PTM_BLOB_TYPE.SAVESTATE, 'savestate'],
]);

/**
 * The control commands, declared once each; the field values follow swtpm 0.7.1's
 * ctrlchannel_process_fd(). State blobs are mrtpm's own serialisation (see TpmDevice.stateBlob),
 * not libtpms'; SET_DATAFD needs the server to read the unix control socket with recvmsg.
 */
export const CONTROL_COMMANDS: ReadonlyMap<number, ControlCommand> = new Map<number, ControlCommand>([
  [CMD.GET_CAPABILITY, {
    name: 'GET_CAPABILITY', body: 0, exact: false, needsRunning: false,
    // 8 bytes of bitmask and no result code (swtpm 0.7.1 layout).
    run: () => {
      const out = Buffer.alloc(8);
      out.writeBigUInt64BE(capabilities());
      return out;
    },
  }],
  [CMD.INIT, {
    name: 'INIT', capability: PTM_CAP_BIT.INIT, body: 4, exact: true, needsRunning: false,
    // A power cycle is _TPM_Init, or the resumption of a volatile blob set while stopped, as
    // libtpms resumes its volatile state. PTM_INIT_FLAG_DELETE_VOLATILE needs nothing more: that
    // blob is good for this one power-on, and no volatile-state file is restored.
    run: (ctx) => {
      ctx.device.signal('powerOff');
      ctx.device.signal('powerOn');
      return OK;
    },
  }],
  [CMD.SHUTDOWN, {
    name: 'SHUTDOWN', capability: PTM_CAP_BIT.SHUTDOWN, body: 0, exact: true, needsRunning: false,
    run: () => OK, stopsServer: true,
  }],
  [CMD.GET_TPMESTABLISHED, {
    name: 'GET_TPMESTABLISHED', capability: PTM_CAP_BIT.GET_TPMESTABLISHED, body: 0, exact: true,
    needsRunning: true,
    run: (ctx) => Buffer.from([0, 0, 0, 0, ctx.device.established ? 1 : 0, 0, 0, 0]),
  }],
  [CMD.SET_LOCALITY, {
    name: 'SET_LOCALITY', capability: PTM_CAP_BIT.SET_LOCALITY, body: 1, exact: false, needsRunning: false,
    run: (ctx, body) => {
      const locality = body[0]!;
      if (locality > MAX_LOCALITY) return result(PTM_RES.BAD_LOCALITY);
      ctx.locality = locality;
      return OK;
    },
  }],
  [CMD.HASH_START, {
    name: 'HASH_START', capability: PTM_CAP_BIT.HASHING, body: 0, exact: true, needsRunning: true,
    run: (ctx) => {
      ctx.device.signal('hashStart');
      return OK;
    },
  }],
  [CMD.HASH_DATA, {
    name: 'HASH_DATA', capability: PTM_CAP_BIT.HASHING, body: 4, exact: false, needsRunning: true,
    variableBody: (fixed) => fixed.readUInt32BE(0),
    run: (ctx, body) => {
      const data = body.subarray(4);
      if (data.length > HASH_DATA_MAX) return result(PTM_RES.BAD_PARAMETER);
      ctx.device.hashData(data);
      return OK;
    },
  }],
  [CMD.HASH_END, {
    name: 'HASH_END', capability: PTM_CAP_BIT.HASHING, body: 0, exact: true, needsRunning: true,
    run: (ctx) => {
      ctx.device.signal('hashEnd');
      return OK;
    },
  }],
  [CMD.CANCEL_TPM_CMD, {
    name: 'CANCEL_TPM_CMD', capability: PTM_CAP_BIT.CANCEL_TPM_CMD, body: 0, exact: true, needsRunning: true,
    // execute() is synchronous, so no command is ever running while a control request is served:
    // there is nothing to cancel, and raising the cancel flag would fail the next command instead.
    run: () => OK,
  }],
  [CMD.STORE_VOLATILE, {
    name: 'STORE_VOLATILE', capability: PTM_CAP_BIT.STORE_VOLATILE, body: 0, exact: true, needsRunning: true,
    run: async (ctx) => {
      try {
        await ctx.storeVolatile();
        return OK;
      } catch {
        return result(PTM_RES.FAIL);
      }
    },
  }],
  [CMD.RESET_TPMESTABLISHED, {
    name: 'RESET_TPMESTABLISHED', capability: PTM_CAP_BIT.RESET_TPMESTABLISHED, body: 1, exact: false,
    needsRunning: true,
    run: (ctx, body) => {
      const locality = body[0]!;
      if (locality > MAX_LOCALITY) return result(PTM_RES.BAD_LOCALITY);
      ctx.device.resetEstablished(locality);
      return OK;
    },
  }],
  [CMD.STOP, {
    name: 'STOP', capability: PTM_CAP_BIT.STOP, body: 0, exact: true, needsRunning: false,
    run: (ctx) => {
      if (ctx.device.poweredOn) ctx.device.signal('powerOff');
      return OK;
    },
  }],
  [CMD.GET_STATEBLOB, {
    name: 'GET_STATEBLOB', capability: PTM_CAP_BIT.GET_STATEBLOB, body: 12, exact: false, needsRunning: true,
    // state_flags (PTM_STATE_FLAG_DECRYPTED) does not matter: nothing here is encrypted.
    run: (ctx, body) => stateBlob(ctx, body.readUInt32BE(4), body.readUInt32BE(8)),
  }],
  [CMD.SET_STATEBLOB, {
    name: 'SET_STATEBLOB', capability: PTM_CAP_BIT.SET_STATEBLOB, body: 12, exact: false, needsRunning: false,
    variableBody: (fixed) => fixed.readUInt32BE(8), maxVariableBody: STATE_BLOB_MAX,
    run: (ctx, body) => {
      // swtpm answers "running" before looking at the blob; the blob was read all the same.
      if (ctx.device.poweredOn) return result(PTM_RES.BAD_ORDINAL);
      const type = BLOB_TYPES.get(body.readUInt32BE(4));
      const accepted = type !== undefined && ctx.device.setStateBlob(type, body.subarray(12));
      return result(accepted ? PTM_RES.SUCCESS : PTM_RES.BAD_PARAMETER);
    },
  }],
  [CMD.GET_CONFIG, {
    name: 'GET_CONFIG', capability: PTM_CAP_BIT.GET_CONFIG, body: 0, exact: true, needsRunning: false,
    // No file key, no migration key.
    run: () => u32s(PTM_RES.SUCCESS, 0),
  }],
  [CMD.SET_DATAFD, {
    name: 'SET_DATAFD', capability: PTM_CAP_BIT.SET_DATAFD, body: 0, exact: false, needsRunning: false,
    run: (ctx, _body, connection) => result(ctx.useDataFd(connection.takePassedFd())),
  }],
  [CMD.SET_BUFFERSIZE, {
    name: 'SET_BUFFERSIZE', capability: PTM_CAP_BIT.SET_BUFFERSIZE, body: 4, exact: false, needsRunning: false,
    // 0 queries. A size may only be set while stopped; it is clamped to [min, max] like libtpms
    // does, and min = max here because this TPM's I/O buffer is fixed.
    run: (ctx, body) => {
      if (body.readUInt32BE(0) > 0 && ctx.device.poweredOn) return result(PTM_RES.BAD_ORDINAL);
      return u32s(PTM_RES.SUCCESS, ctx.bufferSize, ctx.bufferSize, ctx.bufferSize);
    },
  }],
  [CMD.GET_INFO, {
    name: 'GET_INFO', capability: PTM_CAP_BIT.GET_INFO, body: 16, exact: false, needsRunning: false,
    run: (ctx, body) => getInfo(ctx.info, body.readBigUInt64BE(0), body.readUInt32BE(8)),
  }],
]);

/** The PTM_CAP bitmask: exactly the commands declared above, plus the data-channel mssim prefix. */
export function capabilities(): bigint {
  let caps = 1n << BigInt(PTM_CAP_BIT.SEND_COMMAND_HEADER);
  for (const command of CONTROL_COMMANDS.values()) {
    if (command.capability !== undefined) caps |= 1n << BigInt(command.capability);
  }
  return caps;
}

/**
 * u32 result, u32 state_flags, u32 totlength, u32 length, then the blob from `offset`. Like swtpm's
 * ctrlchannel_return_state(), totlength and length are both what is left from `offset`, and a part
 * that does not exist answers TPM_RETRY (QEMU takes that as an empty blob).
 */
function stateBlob(ctx: ControlContext, typeCode: number, offset: number): Uint8Array {
  const type = BLOB_TYPES.get(typeCode);
  if (type === undefined) return u32s(PTM_RES.BAD_PARAMETER, 0, 0, 0);
  const blob = ctx.device.stateBlob(type);
  if (!blob) return u32s(PTM_RES.RETRY, 0, 0, 0);
  const rest = blob.subarray(Math.min(offset, blob.length));
  return Buffer.concat([u32s(PTM_RES.SUCCESS, 0, rest.length, rest.length), rest]);
}

/** JSON as libtpms' TPMLIB_GetInfo builds it: the requested members, in this order. */
export function infoJson(info: SwtpmInfo, flags: bigint): string {
  const members: string[] = [];
  if (flags & SWTPM_INFO.TPMSPECIFICATION) {
    members.push(`"TPMSpecification":${JSON.stringify({ family: '2.0', level: info.specLevel, revision: info.specRevision })}`);
  }
  if (flags & SWTPM_INFO.TPMATTRIBUTES) {
    members.push(`"TPMAttributes":${JSON.stringify({
      manufacturer: `id:${hex8(info.manufacturer)}`,
      version: `id:${hex8(info.firmwareVersion)}`,
      model: 'mrtpm',
    })}`);
  }
  return `{${members.join(',')}}`;
}

/** u32 result, u32 total length, u32 length, then that part of the NUL-terminated JSON. */
function getInfo(info: SwtpmInfo, flags: bigint, offset: number): Uint8Array {
  const text = Buffer.from(infoJson(info, flags) + '\0');
  const textLength = text.length - 1;
  if (offset >= textLength) return result(PTM_RES.BAD_PARAMETER);
  const part = text.subarray(offset, offset + GETINFO_SIZE);
  return Buffer.concat([u32s(PTM_RES.SUCCESS, text.length, part.length), part]);
}

function hex8(value: number): string {
  return (value >>> 0).toString(16).toUpperCase().padStart(8, '0');
}
