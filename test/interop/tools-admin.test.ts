/**
 * The administrative and utility tools of tpm2-tools 5.4 that no other interop test drives,
 * through the mssim and cmd TCTIs: seeds changed (tpm2_changeeps / changepps), clear disabled and
 * enabled (tpm2_clearcontrol), hierarchies switched off and on (tpm2_hierarchycontrol), the next
 * PCR allocation (tpm2_pcrallocate), policies built offline and read back (tpm2_createpolicy,
 * tpm2_getpolicydigest, tpm2_policyrestart), self tests (tpm2_gettestresult,
 * tpm2_incrementalselftest), tpm2_stirrandom, a raw command (tpm2_send), curve parameters
 * (tpm2_geteccparameters, equal to swtpm's) and a TSS2 PEM key for tpm2-openssl (tpm2_encodeobject).
 */
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { requireInteropTools } from '../helpers/interop-prereqs.js';
import { MRTPM_TCTIS, describeInterop, type ToolTarget } from '../helpers/interop-suite.js';
import { startMrtpm } from '../helpers/mrtpm.js';
import { openssl } from '../helpers/openssl.js';
import { makeTempDir, removeDir } from '../helpers/state-dirs.js';
import { startSwtpm } from '../helpers/swtpm.js';
import { tpm2, tpm2Fails } from '../helpers/tpm2-tools.js';

type Target = ToolTarget;

/** TPM_RC_DISABLED; TPM_RC_HIERARCHY on handle 1. */
const RC = { disabled: /0x120\b|0x00000120/i, hierarchyH1: /0x185\b|0x00000185/i } as const;
/** The NIST P-256 prime (FIPS 186-4 D.1.2.3). */
const PARENT = '0x81000011';
const P256_P = 'ffffffff00000001000000000000000000000000ffffffffffffffffffffffff';

const run = (t: Target, tool: string, args: string[] = []): Promise<string> => tpm2(t.tcti, tool, args, { cwd: t.dir });
const file = (t: Target, name: string): string => path.join(t.dir, name);

/** The public area of a primary of `hierarchy` (same template each time), as bytes. */
async function primaryPublic(t: Target, hierarchy: string, stem: string): Promise<Buffer> {
  await run(t, 'flushcontext', ['-t']);
  await run(t, 'createprimary', ['-C', hierarchy, '-G', 'ecc', '-c', `${stem}.ctx`, '-Q']);
  await run(t, 'readpublic', ['-c', `${stem}.ctx`, '-o', `${stem}.pub`, '-Q']);
  return readFile(file(t, `${stem}.pub`));
}

async function variableProperty(t: Target, name: string): Promise<string> {
  const out = await run(t, 'getcap', ['properties-variable']);
  const m = new RegExp(`^\\s*${name}:\\s*(\\S+)`, 'm').exec(out);
  assert.ok(m, `getcap properties-variable has no ${name}:\n${out}`);
  return m[1]!;
}

const cases: [string, (t: Target) => Promise<void>][] = [
  ['tpm2_changeeps gives a new endorsement seed (another EK-hierarchy primary), the owner seed stays; tpm2_changepps likewise for the platform', async (t) => {
    const e1 = await primaryPublic(t, 'e', 'e1');
    const o1 = await primaryPublic(t, 'o', 'o1');
    const p1 = await primaryPublic(t, 'p', 'p1');
    await run(t, 'changeeps');
    assert.notDeepEqual(await primaryPublic(t, 'e', 'e2'), e1, 'endorsement primary after ChangeEPS');
    assert.deepEqual(await primaryPublic(t, 'o', 'o2'), o1, 'owner primary after ChangeEPS');
    await run(t, 'changepps');
    assert.notDeepEqual(await primaryPublic(t, 'p', 'p2'), p1, 'platform primary after ChangePPS');
    assert.deepEqual(await primaryPublic(t, 'o', 'o3'), o1, 'owner primary after ChangePPS');
  }],
  ['tpm2_clearcontrol -C l s disables tpm2_clear (TPM_RC_DISABLED); -C p c enables it again', async (t) => {
    await run(t, 'clearcontrol', ['-C', 'l', 's']);
    assert.equal(await variableProperty(t, 'disableClear'), '1');
    assert.match((await tpm2Fails(t.tcti, 'clear', [], { cwd: t.dir })).stderr, RC.disabled);
    await run(t, 'clearcontrol', ['-C', 'p', 'c']);
    assert.equal(await variableProperty(t, 'disableClear'), '0');
    await run(t, 'clear');
  }],
  ['tpm2_hierarchycontrol switches the storage and endorsement hierarchies off (TPM_RC_HIERARCHY) and the platform on again', async (t) => {
    await run(t, 'hierarchycontrol', ['-C', 'p', 'shEnable', 'clear']);
    assert.equal(await variableProperty(t, 'shEnable'), '0');
    await run(t, 'flushcontext', ['-t']);
    assert.match((await tpm2Fails(t.tcti, 'createprimary', ['-C', 'o', '-c', 'off.ctx'], { cwd: t.dir })).stderr, RC.hierarchyH1);
    await run(t, 'hierarchycontrol', ['-C', 'p', 'shEnable', 'set']);
    assert.equal(await variableProperty(t, 'shEnable'), '1');
    await run(t, 'hierarchycontrol', ['-C', 'e', 'ehEnable', 'clear']);
    assert.match((await tpm2Fails(t.tcti, 'createprimary', ['-C', 'e', '-c', 'off.ctx'], { cwd: t.dir })).stderr, RC.hierarchyH1);
    await run(t, 'hierarchycontrol', ['-C', 'p', 'ehEnable', 'set']);
    await primaryPublic(t, 'e', 'on-again');
  }],
  ['tpm2_pcrallocate records the next allocation; the banks in use change only at the next TPM Reset', async (t) => {
    const before = await run(t, 'getcap', ['pcrs']);
    const out = await run(t, 'pcrallocate', ['sha1:all+sha256:all']);
    assert.match(out, /sha1: \[ 0, 1, .*23 \]/);
    assert.match(out, /sha256: \[ 0, 1, .*23 \]/);
    assert.equal(await run(t, 'getcap', ['pcrs']), before, 'still the old banks');
    // Put the allocation back for the cases that follow (a Reset may come with the next tool).
    const banks = [...before.matchAll(/-\s*(sha\d+):/g)].map((m) => `${m[1]}:all`).join('+');
    await run(t, 'pcrallocate', [banks]);
  }],
  ['tpm2_createpolicy --policy-pcr equals a trial session\'s tpm2_policypcr and tpm2_getpolicydigest; tpm2_policyrestart zeroes the digest', async (t) => {
    await run(t, 'createpolicy', ['--policy-pcr', '-l', 'sha256:16,23', '-L', 'offline.policy']);
    await run(t, 'startauthsession', ['-S', 'trial.ctx']);
    await run(t, 'policypcr', ['-S', 'trial.ctx', '-l', 'sha256:16,23', '-L', 'trial.policy']);
    await run(t, 'getpolicydigest', ['-S', 'trial.ctx', '-o', 'read.policy']);
    await run(t, 'policyrestart', ['-S', 'trial.ctx']);
    await run(t, 'getpolicydigest', ['-S', 'trial.ctx', '-o', 'restarted.policy']);
    await run(t, 'flushcontext', ['trial.ctx']);
    const offline = await readFile(file(t, 'offline.policy'));
    assert.equal(offline.length, 32);
    assert.deepEqual(await readFile(file(t, 'trial.policy')), offline);
    assert.deepEqual(await readFile(file(t, 'read.policy')), offline);
    assert.deepEqual(await readFile(file(t, 'restarted.policy')), Buffer.alloc(32));
  }],
  ['tpm2_gettestresult reports success; tpm2_incrementalselftest has nothing left to test', async (t) => {
    assert.match(await run(t, 'gettestresult'), /status:\s+success/);
    assert.match(await run(t, 'incrementalselftest', ['rsa', 'aes', 'sha256']), /status:\s+complete/);
  }],
  ['tpm2_stirrandom takes up to 128 octets of input', async (t) => {
    await writeFile(file(t, 'entropy.bin'), Buffer.alloc(128, 0x5a));
    await run(t, 'stirrandom', ['entropy.bin']);
    assert.match(await run(t, 'getrandom', ['--hex', '8']), /^[0-9a-f]{16}$/);
  }],
  ['tpm2_send passes a raw GetRandom(8) and writes the raw response', async (t) => {
    await writeFile(file(t, 'cmd.bin'), Buffer.from('80010000000c0000017b0008', 'hex'));
    await run(t, 'send', ['-o', 'rsp.bin', 'cmd.bin']);
    const rsp = await readFile(file(t, 'rsp.bin'));
    assert.equal(rsp.readUInt16BE(0), 0x8001);
    assert.equal(rsp.readUInt32BE(2), 20);
    assert.equal(rsp.readUInt32BE(6), 0);
    assert.equal(rsp.readUInt16BE(10), 8);
  }],
  ['tpm2_geteccparameters ecc256: TPMS_ALGORITHM_DETAIL_ECC of NIST P-256', async (t) => {
    await run(t, 'geteccparameters', ['ecc256', '-o', 'p256.params']);
    const params = await readFile(file(t, 'p256.params'));
    assert.equal(params.readUInt16BE(0), 0x0003, 'curveID');
    assert.equal(params.readUInt16BE(2), 256, 'keySize');
    assert.ok(params.toString('hex').includes(`0020${P256_P}`), 'p');
  }],
  ['tpm2_encodeobject writes a TSS2 PRIVATE KEY PEM that tpm2-openssl loads under its persistent parent: the public key is the TPM\'s', async (t) => {
    await run(t, 'flushcontext', ['-t']);
    await run(t, 'createprimary', ['-C', 'o', '-c', 'enc-prim.ctx', '-Q']);
    await run(t, 'evictcontrol', ['-C', 'o', '-c', 'enc-prim.ctx', PARENT]);
    try {
      await run(t, 'create', ['-C', PARENT, '-G', 'ecc256', '-u', 'k.pub', '-r', 'k.priv', '-Q']);
      await run(t, 'encodeobject', ['-C', PARENT, '-u', 'k.pub', '-r', 'k.priv', '-o', 'k.pem']);
      assert.match(await readFile(file(t, 'k.pem'), 'utf8'), /-----BEGIN TSS2 PRIVATE KEY-----/);
      await run(t, 'flushcontext', ['-t']);
      // The provider asks for the key's password (encodeobject 5.4 does not mark it empty): it is.
      const fromProvider = await openssl(['pkey', '-provider', 'tpm2', '-provider', 'default', '-in', file(t, 'k.pem'), '-passin', 'pass:', '-pubout'],
        { env: { TPM2OPENSSL_TCTI: t.tcti } });
      await run(t, 'load', ['-C', PARENT, '-u', 'k.pub', '-r', 'k.priv', '-c', 'k.ctx', '-Q']);
      await run(t, 'readpublic', ['-c', 'k.ctx', '-f', 'pem', '-o', 'k-public.pem', '-Q']);
      const fromTpm = await readFile(file(t, 'k-public.pem'), 'utf8');
      const der = (pem: string): Buffer => createPublicKey(pem).export({ type: 'spki', format: 'der' });
      assert.deepEqual(der(fromProvider), der(fromTpm));
    } finally {
      await run(t, 'evictcontrol', ['-C', 'o', '-c', PARENT]);
    }
  }],
];

for (const [label, target] of MRTPM_TCTIS) {
  describeInterop(`administrative tools via ${label}`, async () => {
    const fixture = await target('mrtpm-admin');
    await tpm2(fixture.target.tcti, 'startup', ['-c']);
    return fixture;
  }, (t) => {
    for (const [name, body] of cases) it(name, () => body(t()));
  }, 120000);
}

describe('tpm2_geteccparameters and tpm2_gettestresult: mrtpm equals swtpm', function () {
  this.timeout(60000);
  it('the same TPMS_ALGORITHM_DETAIL_ECC for every curve both implement', async function () {
    await requireInteropTools(this);
    const swtpm = await startSwtpm();
    const mrtpm = await startMrtpm({ protocol: 'mssim' });
    const dir = await makeTempDir('mrtpm-ecc-params');
    try {
      await tpm2(mrtpm.tcti, 'startup', ['-c']);
      for (const curve of ['ecc256', 'ecc384', 'ecc521']) {
        const out = (name: string): string => path.join(dir, `${curve}-${name}`);
        await tpm2(swtpm.tcti, 'geteccparameters', [curve, '-o', out('swtpm')]);
        await tpm2(mrtpm.tcti, 'geteccparameters', [curve, '-o', out('mrtpm')]);
        assert.deepEqual(await readFile(out('mrtpm')), await readFile(out('swtpm')), curve);
      }
      assert.equal(await tpm2(mrtpm.tcti, 'gettestresult'), await tpm2(swtpm.tcti, 'gettestresult'));
    } finally {
      await mrtpm.stop();
      await swtpm.stop();
      await removeDir(dir);
    }
  });
});
