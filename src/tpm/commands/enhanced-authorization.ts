import type { AnyCommand } from '../engine/command-def.js';

export const ENHANCED_AUTHORIZATION_COMMANDS: AnyCommand[] = [];
