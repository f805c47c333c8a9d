import { TPM_ST_NO_SESSIONS, TPM_ST_SESSIONS } from './tpm-commands.js';

const TPM_ST_RSP_COMMAND = 0x00c4;
const TPM_RC_BAD_TAG = 0x01e;

/**
 * Whether `rc` has a valid TPM 2.0 response-code format (Part 2, TPM_RC): success, format one
 * (bit 7), format zero with the version bit (bit 8), or the 1.2-style TPM_RC_BAD_TAG.
 */
export function isValidResponseCode(rc: number): boolean {
  if (rc === 0 || rc === TPM_RC_BAD_TAG) return true;
  if (rc > 0xfff) return false;
  return (rc & 0x080) !== 0 || (rc & 0x100) !== 0;
}

/**
 * Why `response` is not a well-formed TPM 2.0 response, or undefined if it is: tag 0x8001/0x8002
 * (0x00C4 only for TPM_RC_BAD_TAG), size field equal to the bytes received, a valid response code,
 * and an error response is a bare 10-byte header with TPM_ST_NO_SESSIONS.
 */
export function responseProblem(response: Buffer): string | undefined {
  if (response.length < 10) return `only ${response.length} bytes`;
  const tag = response.readUInt16BE(0);
  const size = response.readUInt32BE(2);
  const rc = response.readUInt32BE(6);
  if (size !== response.length) return `size field ${size} != ${response.length} bytes`;
  if (!isValidResponseCode(rc)) return `invalid response code 0x${rc.toString(16)}`;
  if (tag === TPM_ST_RSP_COMMAND) return rc === TPM_RC_BAD_TAG && size === 10 ? undefined : `tag 0x00c4 with rc 0x${rc.toString(16)}`;
  if (tag !== TPM_ST_NO_SESSIONS && tag !== TPM_ST_SESSIONS) return `bad tag 0x${tag.toString(16)}`;
  if (rc !== 0 && (size !== 10 || tag !== TPM_ST_NO_SESSIONS)) return `error 0x${rc.toString(16)} with tag 0x${tag.toString(16)} and size ${size}`;
  return undefined;
}

/** Splits a byte stream into TPM responses; returns a problem if it is not a sequence of whole, well-formed ones. */
export function responseStreamProblem(stream: Buffer): string | undefined {
  let offset = 0;
  while (offset < stream.length) {
    if (stream.length - offset < 10) return `trailing ${stream.length - offset} bytes`;
    const size = stream.readUInt32BE(offset + 2);
    if (size < 10 || offset + size > stream.length) return `response at ${offset} claims ${size} bytes`;
    const problem = responseProblem(stream.subarray(offset, offset + size));
    if (problem) return `response at ${offset}: ${problem}`;
    offset += size;
  }
  return undefined;
}
