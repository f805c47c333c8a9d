/**
 * A tcti-cmd child for tests: StdioServer on this process's stdin/stdout with a fake TPM that
 * answers every command with success and appends each command's hex to the file in argv[2].
 */
import { appendFileSync } from 'node:fs';
import { StdioServer } from '../../src/server/stdio-server.js';
import { FakeDevice } from './fake-device.js';

const record = process.argv[2]!;
const device = new FakeDevice();
device.respond = (command) => {
  appendFileSync(record, `${command.toString('hex')}\n`);
  return Buffer.from('80010000000a00000000', 'hex');
};
const server = new StdioServer({ device, input: process.stdin, output: process.stdout });
process.once('SIGTERM', () => void server.close());
const reason = await server.run();
appendFileSync(record, `end ${reason}\n`);
