/**
 * Byte builders for the few TPM 2.0 commands the interop tests send raw (TPM 2.0 Part 3), and
 * parsers for their responses. Independent of the engine on purpose: the tests must not share
 * the code under test.
 */

export const TPM_ST_NO_SESSIONS = 0x8001;
export const TPM_ST_SESSIONS = 0x8002;
export const TPM_RS_PW = 0x40000009;
export const TPM_RH_NULL = 0x40000007;
export const TPM_RC_SUCCESS = 0x000;
export const TPM_RC_INITIALIZE = 0x100;

export const TPM_CC = {
  Startup: 0x144,
  Shutdown: 0x145,
  SelfTest: 0x143,
  PCR_Extend: 0x182,
  PCR_Event: 0x13c,
  PCR_Reset: 0x13d,
  PCR_Read: 0x17e,
  GetRandom: 0x17b,
  GetCapability: 0x17a,
  ReadClock: 0x181,
  HashSequenceStart: 0x186,
  SequenceUpdate: 0x15c,
  SequenceComplete: 0x13e,
  FlushContext: 0x165,
} as const;

export const TPM_SU = { CLEAR: 0x0000, STATE: 0x0001 } as const;

export type HashName = 'sha1' | 'sha256' | 'sha384' | 'sha512';

export const TPM_ALG: Record<HashName, number> = { sha1: 0x0004, sha256: 0x000b, sha384: 0x000c, sha512: 0x000d };
export const DIGEST_SIZE: Record<HashName, number> = { sha1: 20, sha256: 32, sha384: 48, sha512: 64 };

export function hashNameOf(alg: number): HashName {
  const name = (Object.keys(TPM_ALG) as HashName[]).find((key) => TPM_ALG[key] === alg);
  if (!name) throw new Error(`unknown hash algorithm 0x${alg.toString(16)}`);
  return name;
}

const u16 = (value: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16BE(value); return b; };
const u32 = (value: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32BE(value >>> 0); return b; };
const u8 = (value: number): Buffer => Buffer.from([value & 0xff]);
const tpm2b = (data: Buffer): Buffer => Buffer.concat([u16(data.length), data]);

/** A complete command: header (tag, size, code) + handles + [auth area] + parameters. */
export function buildCommand(code: number, handles: number[], parameters: Buffer[], auth?: Buffer): Buffer {
  const body = Buffer.concat([
    ...handles.map(u32),
    ...(auth ? [u32(auth.length), auth] : []),
    ...parameters,
  ]);
  return Buffer.concat([u16(auth ? TPM_ST_SESSIONS : TPM_ST_NO_SESSIONS), u32(10 + body.length), u32(code), body]);
}

/** One TPMS_AUTH_COMMAND for the password session (empty password unless given). */
export function passwordAuth(password: Buffer = Buffer.alloc(0), attributes = 0x01): Buffer {
  return Buffer.concat([u32(TPM_RS_PW), tpm2b(Buffer.alloc(0)), u8(attributes), tpm2b(password)]);
}

export interface PcrSelection {
  hash: HashName;
  pcrs: number[];
}

function pcrSelectionList(selections: PcrSelection[]): Buffer {
  return Buffer.concat([
    u32(selections.length),
    ...selections.map(({ hash, pcrs }) => {
      const select = Buffer.alloc(3);
      for (const pcr of pcrs) select[pcr >> 3]! |= 1 << (pcr & 7);
      return Buffer.concat([u16(TPM_ALG[hash]), u8(select.length), select]);
    }),
  ]);
}

export interface TaggedDigest {
  hash: HashName;
  digest: Buffer;
}

export const commands = {
  startup: (su: number = TPM_SU.CLEAR): Buffer => buildCommand(TPM_CC.Startup, [], [u16(su)]),
  shutdown: (su: number = TPM_SU.CLEAR): Buffer => buildCommand(TPM_CC.Shutdown, [], [u16(su)]),
  getRandom: (bytes: number): Buffer => buildCommand(TPM_CC.GetRandom, [], [u16(bytes)]),
  readClock: (): Buffer => buildCommand(TPM_CC.ReadClock, [], []),
  getCapability: (capability: number, property: number, count: number): Buffer =>
    buildCommand(TPM_CC.GetCapability, [], [u32(capability), u32(property), u32(count)]),
  pcrExtend: (pcr: number, digests: TaggedDigest[]): Buffer =>
    buildCommand(TPM_CC.PCR_Extend, [pcr], [
      u32(digests.length),
      ...digests.map(({ hash, digest }) => Buffer.concat([u16(TPM_ALG[hash]), digest])),
    ], passwordAuth()),
  pcrEvent: (pcr: number, data: Buffer): Buffer => buildCommand(TPM_CC.PCR_Event, [pcr], [tpm2b(data)], passwordAuth()),
  pcrReset: (pcr: number): Buffer => buildCommand(TPM_CC.PCR_Reset, [pcr], [], passwordAuth()),
  pcrRead: (selections: PcrSelection[]): Buffer => buildCommand(TPM_CC.PCR_Read, [], [pcrSelectionList(selections)]),
  hashSequenceStart: (hash: HashName, auth: Buffer = Buffer.alloc(0)): Buffer =>
    buildCommand(TPM_CC.HashSequenceStart, [], [tpm2b(auth), u16(TPM_ALG[hash])]),
  sequenceUpdate: (sequence: number, data: Buffer): Buffer =>
    buildCommand(TPM_CC.SequenceUpdate, [sequence], [tpm2b(data)], passwordAuth()),
  sequenceComplete: (sequence: number, data: Buffer, hierarchy: number = TPM_RH_NULL): Buffer =>
    buildCommand(TPM_CC.SequenceComplete, [sequence], [tpm2b(data), u32(hierarchy)], passwordAuth()),
  flushContext: (handle: number): Buffer => buildCommand(TPM_CC.FlushContext, [], [u32(handle)]),
};

export interface ResponseHeader {
  tag: number;
  size: number;
  code: number;
}

export function parseHeader(response: Buffer): ResponseHeader {
  if (response.length < 10) throw new Error(`response shorter than a header: ${response.toString('hex')}`);
  return { tag: response.readUInt16BE(0), size: response.readUInt32BE(2), code: response.readUInt32BE(6) };
}

/** The response code, after checking the header describes exactly `response`. */
export function responseCode(response: Buffer): number {
  const header = parseHeader(response);
  if (header.size !== response.length) throw new Error(`header size ${header.size} != ${response.length} bytes received`);
  return header.code;
}

/** Throws unless the response is TPM_RC_SUCCESS; returns the bytes after the header. */
export function expectSuccess(response: Buffer, what: string): Buffer {
  const code = responseCode(response);
  if (code !== TPM_RC_SUCCESS) throw new Error(`${what} failed: TPM_RC 0x${code.toString(16)}`);
  return response.subarray(10);
}

/** Parameter area of a successful response with `handleCount` handles (skips parameterSize for 0x8002). */
function parameters(response: Buffer, what: string, handleCount = 0): Buffer {
  const body = expectSuccess(response, what).subarray(4 * handleCount);
  if (parseHeader(response).tag !== TPM_ST_SESSIONS) return body;
  const size = body.readUInt32BE(0);
  return body.subarray(4, 4 + size);
}

export interface PcrReadResult {
  updateCounter: number;
  selection: { hash: HashName; select: Buffer }[];
  digests: Buffer[];
}

export function parsePcrRead(response: Buffer): PcrReadResult {
  const body = parameters(response, 'PCR_Read');
  let offset = 0;
  const updateCounter = body.readUInt32BE(offset); offset += 4;
  const selectionCount = body.readUInt32BE(offset); offset += 4;
  const selection: PcrReadResult['selection'] = [];
  for (let i = 0; i < selectionCount; i++) {
    const hash = hashNameOf(body.readUInt16BE(offset)); offset += 2;
    const sizeofSelect = body.readUInt8(offset); offset += 1;
    selection.push({ hash, select: Buffer.from(body.subarray(offset, offset + sizeofSelect)) });
    offset += sizeofSelect;
  }
  const digestCount = body.readUInt32BE(offset); offset += 4;
  const digests: Buffer[] = [];
  for (let i = 0; i < digestCount; i++) {
    const size = body.readUInt16BE(offset); offset += 2;
    digests.push(Buffer.from(body.subarray(offset, offset + size)));
    offset += size;
  }
  return { updateCounter, selection, digests };
}

export function parseGetRandom(response: Buffer): Buffer {
  const body = parameters(response, 'GetRandom');
  return Buffer.from(body.subarray(2, 2 + body.readUInt16BE(0)));
}

export function parsePcrEvent(response: Buffer): TaggedDigest[] {
  const body = parameters(response, 'PCR_Event');
  const count = body.readUInt32BE(0);
  const digests: TaggedDigest[] = [];
  let offset = 4;
  for (let i = 0; i < count; i++) {
    const hash = hashNameOf(body.readUInt16BE(offset)); offset += 2;
    digests.push({ hash, digest: Buffer.from(body.subarray(offset, offset + DIGEST_SIZE[hash])) });
    offset += DIGEST_SIZE[hash];
  }
  return digests;
}

/** The sequence handle returned by HashSequenceStart. */
export function parseHashSequenceStart(response: Buffer): number {
  return expectSuccess(response, 'HashSequenceStart').readUInt32BE(0);
}

/** The digest returned by SequenceComplete. */
export function parseSequenceComplete(response: Buffer): Buffer {
  const body = parameters(response, 'SequenceComplete');
  return Buffer.from(body.subarray(2, 2 + body.readUInt16BE(0)));
}
