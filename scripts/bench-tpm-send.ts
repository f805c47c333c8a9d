/**
 * What the key and attestation rows of the bench share: sending a command that must succeed (with
 * the retries a TPM may ask for), the shape of one measured operation, and a primary key it loads.
 */
import type { SwtpmDataClient } from '../test/helpers/raw-client.js';
import { responseCode } from '../test/helpers/tpm-commands.js';
import { createPrimaryCommand, parseCreatePrimary, type CreatedKey, type Template } from '../test/tpm/helpers/key-cmd.js';
import type { Step } from './bench-round-trips.js';

/** A TPM error response, kept apart so that a missing command is a line of the table, not a crash. */
export class TpmFailure extends Error {
  constructor(readonly what: string, readonly rc: number) {
    super(`${what}: TPM_RC 0x${rc.toString(16)}`);
  }
}

export const TPM_RC_COMMAND_CODE = 0x143;

/** TPM_RC_YIELDED, TPM_RC_TESTING, TPM_RC_RETRY: "send it again" (swtpm answers the first ECDSA Sign with RETRY). */
const RETRY_CODES = [0x908, 0x90a, 0x922];
const MAX_TRIES = 5;

export async function send(client: SwtpmDataClient, what: string, bytes: Buffer): Promise<Buffer> {
  for (let tries = 1; ; tries++) {
    const response = await client.transmit(bytes);
    const rc = responseCode(response);
    if (rc === 0) return response;
    if (!RETRY_CODES.includes(rc) || tries === MAX_TRIES) throw new TpmFailure(what, rc);
  }
}

export interface KeyOp {
  name: string;
  /** Target mrtpm/swtpm speed. */
  target: number;
  /** Loads what the operation needs (handles it loads go to `loaded`, flushed afterwards) and returns it. */
  prepare(client: SwtpmDataClient, loaded: number[]): Promise<Step>;
}

export async function createPrimary(client: SwtpmDataClient, template: Template, loaded: number[]): Promise<CreatedKey> {
  const made = parseCreatePrimary(template, await send(client, 'CreatePrimary', createPrimaryCommand(template)));
  loaded.push(made.handle);
  return made;
}
