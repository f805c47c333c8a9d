/**
 * Raw TPM command bytes for engine tests, built independently of the engine's own codecs so the
 * tests check the engine's marshalling rather than reuse it.
 */
export const u8 = (v: number): Buffer => Buffer.from([v & 0xff]);
export const u16 = (v: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16BE(v); return b; };
export const u32 = (v: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32BE(v >>> 0); return b; };
export const u64 = (v: bigint): Buffer => { const b = Buffer.alloc(8); b.writeBigUInt64BE(v); return b; };
export const tpm2b = (data: Uint8Array): Buffer => Buffer.concat([u16(data.length), data]);

const TPM_RS_PW = 0x40000009;
const CONTINUE_SESSION = 0x01;

/** TPMS_AUTH_COMMAND of the password session. */
export const pwAuth = (password: Uint8Array = Buffer.alloc(0), attributes = CONTINUE_SESSION): Buffer =>
  Buffer.concat([u32(TPM_RS_PW), u16(0), u8(attributes), tpm2b(password)]);

/** A command: header (size filled in), handles, the authorization area if `auths` is given, parameters. */
export function command(cc: number, handles: number[], params: Uint8Array[], auths?: Uint8Array[]): Buffer {
  const area = auths ? Buffer.concat(auths) : undefined;
  const body = Buffer.concat([...handles.map(u32), ...(area ? [u32(area.length), area] : []), ...params]);
  return Buffer.concat([u16(area ? 0x8002 : 0x8001), u32(10 + body.length), u32(cc), body]);
}

export const rcOf = (response: Uint8Array): number => Buffer.from(response).readUInt32BE(6);
