import type { AnyCommand } from '../engine/command-def.js';

export const CAPABILITY_COMMANDS: AnyCommand[] = [];
