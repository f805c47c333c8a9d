import type { AnyCommand } from '../engine/command-def.js';

export const TESTING_COMMANDS: AnyCommand[] = [];
