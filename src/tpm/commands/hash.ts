import type { AnyCommand } from '../engine/command-def.js';

export const HASH_COMMANDS: AnyCommand[] = [];
