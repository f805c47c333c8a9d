import type { AnyCommand } from '../engine/command-def.js';

export const SESSION_COMMANDS: AnyCommand[] = [];
