import type { AnyCommand } from '../engine/command-def.js';

export const INTEGRITY_COMMANDS: AnyCommand[] = [];
