/** Decodes command and response headers for `--trace`: command name, handles, response code name. */
import { ccName } from '../spec/tpm-cc.js';
import { rcName } from '../spec/tpm-rc.js';
import { COMMANDS } from '../commands/command-table.js';

const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;

export function describeCommand(cmd: Uint8Array): string {
  if (cmd.length < 10) return `malformed command (${cmd.length} bytes)`;
  const v = new DataView(cmd.buffer, cmd.byteOffset, cmd.byteLength);
  const cc = v.getUint32(6);
  const def = COMMANDS.get(cc);
  const handles: string[] = [];
  for (let i = 0; i < (def?.handles.length ?? 0) && 10 + 4 * i + 4 <= cmd.length; i++) handles.push(hex(v.getUint32(10 + 4 * i)));
  const sessions = v.getUint16(0) === 0x8002 ? ' +auth' : '';
  return `${ccName(cc)}(${handles.join(', ')})${sessions} [${cmd.length} bytes]`;
}

export function describeResponse(rsp: Uint8Array): string {
  if (rsp.length < 10) return `no response (${rsp.length} bytes)`;
  const rc = new DataView(rsp.buffer, rsp.byteOffset, rsp.byteLength).getUint32(6);
  return `${rcName(rc)} [${rsp.length} bytes]`;
}
