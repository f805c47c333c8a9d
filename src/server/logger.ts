/**
 * A tiny structured logger: one JSON object per line, to stderr by default. stdout is never used
 * because in tcti-cmd mode it carries TPM responses.
 */
export type LogLevel = 'silent' | 'error' | 'warn' | 'info' | 'debug';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

/** Severity rank; a message is written when its rank is at most the configured level's rank. */
const RANK: Readonly<Record<LogLevel, number>> = { silent: 0, error: 1, warn: 2, info: 3, debug: 4 };

export const LOG_LEVELS: readonly LogLevel[] = Object.keys(RANK) as LogLevel[];

export function isLogLevel(value: string): value is LogLevel {
  return Object.hasOwn(RANK, value);
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; default process.stderr. */
  sink?: { write(line: string): unknown };
  now?: () => Date;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const limit = RANK[options.level ?? 'warn'];
  const sink = options.sink ?? process.stderr;
  const now = options.now ?? (() => new Date());
  const at = (level: Exclude<LogLevel, 'silent'>) => (msg: string, fields?: LogFields): void => {
    if (RANK[level] > limit) return;
    sink.write(JSON.stringify({ time: now().toISOString(), level, msg, ...fields }, jsonSafe) + '\n');
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export const silentLogger: Logger = createLogger({ level: 'silent' });

/** Errors and bigints do not survive JSON.stringify on their own. */
function jsonSafe(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (typeof value === 'bigint') return value.toString();
  return value;
}
