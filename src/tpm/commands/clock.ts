import type { AnyCommand } from '../engine/command-def.js';

export const CLOCK_COMMANDS: AnyCommand[] = [];
