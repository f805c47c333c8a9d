/**
 * QEMU's TPM emulator backend against a real `mrtpm serve --qemu SOCK`, and the same sequence
 * against real swtpm (`swtpm socket --tpm2 --ctrl type=unixio,path=SOCK`). The fake QEMU is
 * test/fixtures/fake-qemu.py (/usr/bin/python3: Node cannot send fds): CMD_SET_DATAFD with a
 * socketpair end, QEMU's start-up, a guest's TPM2_Startup / PCR_Extend / PCR_Read on the passed
 * channel, a migration through the state blobs, CMD_SHUTDOWN. Every control answer must equal
 * swtpm's byte for byte except where the two TPMs legitimately differ (buffer minimum, blob
 * contents, PCR update counter), and those are checked field by field.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { requireInteropTools } from '../helpers/interop-prereqs.js';
import { startMrtpmQemu, type CtrlSocketServer } from '../helpers/mrtpm.js';
import { startSwtpmCtrlUnix } from '../helpers/swtpm.js';

const PYTHON = '/usr/bin/python3';
const FAKE_QEMU = fileURLToPath(new URL('../../../test/fixtures/fake-qemu.py', import.meta.url));

interface Step {
  step: string;
  response: string;
  blobLength?: number;
}

function fakeQemu(ctrlPath: string): Promise<Map<string, Step>> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [FAKE_QEMU, ctrlPath], { timeout: 30000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`fake QEMU failed: ${error.message}\n${stderr}`));
      const { steps } = JSON.parse(stdout) as { steps: Step[] };
      resolve(new Map(steps.map((s) => [s.step, s])));
    });
  });
}

/** Answers that must be identical to swtpm 0.7.1's. */
const SAME_AS_SWTPM = [
  'SET_DATAFD', 'probe ReadClock', 'GET_CAPABILITY', 'GET_TPMESTABLISHED before INIT', 'STOP', 'STOP again', 'INIT',
  'SET_BUFFERSIZE 4096 while running', 'GET_CONFIG', 'SET_LOCALITY 0', 'TPM2_Startup', 'TPM2_PCR_Extend',
  'GET_TPMESTABLISHED', 'RESET_TPMESTABLISHED 3', 'SET_LOCALITY 5', 'SET_LOCALITY 3', 'SET_LOCALITY 0 again',
  'SET_DATAFD while one is open', 'GET_STATEBLOB savestate', 'SET_STATEBLOB while running', 'STOP for migration',
  'command while stopped', 'SET_STATEBLOB permanent', 'SET_STATEBLOB volatile', 'INIT DELETE_VOLATILE',
  'TPM2_Startup after migration', 'SHUTDOWN', 'control channel after SHUTDOWN',
];

describe('server/qemu-ctrl: QEMU\'s tpm-emulator backend on `mrtpm serve --qemu` vs swtpm', function () {
  this.timeout(60000);
  let mrtpm: Map<string, Step>;
  let swtpm: Map<string, Step>;
  let mrtpmExit: { code: number | null };

  before(async function () {
    await requireInteropTools(this);
    let server: CtrlSocketServer | undefined;
    let sw: CtrlSocketServer | undefined;
    try {
      server = await startMrtpmQemu();
      mrtpm = await fakeQemu(server.ctrlPath);
      // CMD_SHUTDOWN ends the process by itself.
      mrtpmExit = await Promise.race([server.child.exited, new Promise<{ code: null }>((r) => setTimeout(() => r({ code: null }), 10000))]);
      sw = await startSwtpmCtrlUnix();
      swtpm = await fakeQemu(sw.ctrlPath);
    } finally {
      await server?.stop();
      await sw?.stop();
    }
  });

  for (const step of SAME_AS_SWTPM) {
    it(`${step}: the same answer as swtpm`, () => {
      const ours = mrtpm.get(step);
      const theirs = swtpm.get(step);
      assert.ok(ours && theirs, `step ${step} missing`);
      assert.equal(ours.response, theirs.response);
    });
  }

  it('spot checks of what swtpm answers (so that "equal" means right): caps 0xffff, fatal before INIT, IOERROR, RETRY', () => {
    assert.equal(mrtpm.get('GET_CAPABILITY')?.response, '000000000000ffff');
    assert.equal(mrtpm.get('probe ReadClock')?.response, '80010000000a00000101');
    assert.equal(mrtpm.get('SET_DATAFD while one is open')?.response, '0000001f');
    assert.equal(mrtpm.get('GET_STATEBLOB savestate')?.response, '00000800' + '0'.repeat(24));
    assert.equal(mrtpm.get('TPM2_Startup after migration')?.response, '80010000000a00000100');
    assert.equal(mrtpm.get('control channel after SHUTDOWN')?.response, '');
  });

  it('CMD_SET_BUFFERSIZE: success and the 4096-byte buffer as swtpm; mrtpm\'s minimum is its fixed size', () => {
    for (const step of ['SET_BUFFERSIZE query', 'SET_BUFFERSIZE 4096 while stopped']) {
      const ours = mrtpm.get(step)!.response;
      const theirs = swtpm.get(step)!.response;
      assert.equal(ours.slice(0, 16), theirs.slice(0, 16), step);
      assert.equal(ours, '00000000' + '00001000'.repeat(3), step);
    }
  });

  it('PCR 16 after the extend, and again after the migration, is SHA-256(zeros || digest) on both', () => {
    const expected = createHash('sha256').update(Buffer.alloc(32)).update(Buffer.from([...Array(32).keys()])).digest('hex');
    for (const [name, steps] of [['mrtpm', mrtpm], ['swtpm', swtpm]] as const) {
      for (const step of ['TPM2_PCR_Read', 'TPM2_PCR_Read after migration']) {
        const response = steps.get(step)!.response;
        assert.equal(response.slice(12, 20), '00000000', `${name} ${step}`);
        assert.equal(response.slice(-64), expected, `${name} ${step}`);
      }
    }
  });

  it('CMD_GET_STATEBLOB permanent and volatile: success, totlength = length, the blob follows', () => {
    for (const kind of ['permanent', 'volatile']) {
      const step = mrtpm.get(`GET_STATEBLOB ${kind}`)!;
      const length = parseInt(step.response.slice(24, 32), 16);
      assert.equal(step.response.slice(0, 16), '0'.repeat(16), kind);
      assert.equal(step.response.slice(16, 24), step.response.slice(24, 32), kind);
      assert.ok(length > 0 && step.blobLength === length, kind);
    }
  });

  it('CMD_SHUTDOWN ends `mrtpm serve --qemu` with exit code 0', () => {
    assert.equal(mrtpmExit.code, 0);
  });
});
