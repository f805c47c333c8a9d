import type { AnyCommand } from '../engine/command-def.js';

export const CONTEXT_COMMANDS: AnyCommand[] = [];
