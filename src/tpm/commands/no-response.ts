import type { Codec } from '../marshal/codec.js';

/** Response codec of commands that return no parameters. */
export const NO_RESPONSE: Codec<void> = { read: () => undefined, write: () => undefined };
