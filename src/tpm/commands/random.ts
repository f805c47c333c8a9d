import type { AnyCommand } from '../engine/command-def.js';

export const RANDOM_COMMANDS: AnyCommand[] = [];
