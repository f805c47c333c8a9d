import assert from 'node:assert/strict';
import { type LogLevel, createLogger, isLogLevel } from '../../src/server/logger.js';

describe('server/logger', () => {
  const capture = (level?: LogLevel) => {
    const lines: string[] = [];
    const logger = createLogger({ level, sink: { write: (l: string) => lines.push(l) }, now: () => new Date(0) });
    return { logger, lines };
  };

  it('writes one JSON object per line with time, level, msg and fields', () => {
    const { logger, lines } = capture('debug');
    logger.debug('connected', { port: 'tpm', id: 3 });
    logger.error('failed', { error: new Error('boom'), big: 5n });
    assert.deepEqual(lines.map((l) => l.endsWith('\n')), [true, true]);
    assert.deepEqual(JSON.parse(lines[0]!), { time: '1970-01-01T00:00:00.000Z', level: 'debug', msg: 'connected', port: 'tpm', id: 3 });
    assert.deepEqual(JSON.parse(lines[1]!).error, { name: 'Error', message: 'boom' });
    assert.equal(JSON.parse(lines[1]!).big, '5');
  });

  it('defaults to warn and filters by level', () => {
    const { logger, lines } = capture();
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    assert.deepEqual(lines.map((l) => JSON.parse(l).msg), ['w', 'e']);
    const silent = capture('silent');
    silent.logger.error('e');
    assert.deepEqual(silent.lines, []);
  });

  it('recognises level names', () => {
    assert.ok(isLogLevel('debug'));
    assert.ok(!isLogLevel('verbose'));
    assert.ok(!isLogLevel('toString'));
  });
});
