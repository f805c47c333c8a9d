/**
 * The policy commands through tpm2-tools 5.4: every tpm2_policy* tool (5.4 has none for
 * PolicyPhysicalPresence; the engine tests cover it) in a trial session on mrtpm
 * (mssim and cmd TCTIs) writes the same policy digest as on real swtpm for the same inputs; then
 * each assertion is satisfied for real on mrtpm (objects unsealed, NV written, objects created)
 * and fails where the policy says it must. Signatures come from openssl, never from mrtpm.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { requireInteropTools } from '../helpers/interop-prereqs.js';
import { MRTPM_TCTIS, describeInterop, type ToolTarget } from '../helpers/interop-suite.js';
import { mrtpmCmdTcti, startMrtpm } from '../helpers/mrtpm.js';
import { openssl } from '../helpers/openssl.js';
import { makeTempDir, removeDir } from '../helpers/state-dirs.js';
import { startSwtpm } from '../helpers/swtpm.js';
import { tpm2, tpm2Fails, type ToolResult } from '../helpers/tpm2-tools.js';

interface Target extends ToolTarget {
  label?: string;
}

/** TPM_RC_POLICY (PolicyNV's comparison failed), TPM_RC_POLICY_FAIL + S1, the TPM_RC_LOCALITY warning. */
const RC = { policy: /0x126\b|0x00000126/i, policyFailS1: /0x99d\b|0x0000099d/i, locality: /0x907\b|0x00000907/i } as const;
const POLICY_NV_INDEX = '0x01500021';
const AUTHORIZE_NV_INDEX = '0x01500020';

const run = (t: Target, tool: string, args: string[]): Promise<string> => tpm2(t.tcti, tool, args, { cwd: t.dir });
const fails = (t: Target, tool: string, args: string[]): Promise<ToolResult> => tpm2Fails(t.tcti, tool, args, { cwd: t.dir });
const file = (t: Target, name: string): string => path.join(t.dir, name);

/** Inputs shared by every TPM, so that the digests can be compared: a signing key, hashes, names, operands. */
async function writeInputs(dir: string): Promise<Record<string, string>> {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const files: Record<string, Buffer | string> = {
    'public.pem': publicKey.export({ type: 'spki', format: 'pem' }),
    'private.pem': privateKey.export({ type: 'pkcs8', format: 'pem' }),
    'cphash.bin': randomBytes(32),
    // --cphash-input reads a marshaled TPM2B_DIGEST.
    'cphash.tpm2b': Buffer.concat([Buffer.from('0020', 'hex'), randomBytes(32)]),
    'namehash.bin': randomBytes(32),
    'template.hash': randomBytes(32),
    'object.name': Buffer.concat([Buffer.from('000b', 'hex'), randomBytes(32)]),
    'parent.name': Buffer.concat([Buffer.from('000b', 'hex'), randomBytes(32)]),
    'qualification.bin': randomBytes(16),
    'operand.bin': Buffer.from('0000000000000007', 'hex'),
    'secret.dat': 'a secret behind a policy\n',
  };
  const paths: Record<string, string> = {};
  for (const [name, data] of Object.entries(files)) {
    paths[name] = path.join(dir, name);
    await writeFile(paths[name], data);
  }
  return paths;
}

/** The same NV indexes on every TPM (their Names enter PolicyNV and PolicyAuthorizeNV digests). */
async function defineIndexes(t: Target, inputs: Record<string, string>): Promise<void> {
  await run(t, 'nvdefine', ['-C', 'o', '-s', '8', '-a', 'authread|authwrite', POLICY_NV_INDEX]);
  await run(t, 'nvwrite', ['-C', POLICY_NV_INDEX, '-i', inputs['operand.bin']!, POLICY_NV_INDEX]);
  await run(t, 'nvdefine', ['-C', 'o', '-s', '34', '-a', 'authread|authwrite', AUTHORIZE_NV_INDEX]);
}

/** Each trial policy: the tool and its arguments after `-S trial.ctx -L out.policy`; `key.ctx` is the loaded public key. */
function trialPolicies(i: Record<string, string>): [string, string, string[]][] {
  return [
    ['PolicyLocality(three)', 'policylocality', ['three']],
    ['PolicyLocality(0x21, extended)', 'policylocality', ['0x21']],
    ['PolicyCpHash', 'policycphash', ['--cphash-input', i['cphash.tpm2b']!]],
    ['PolicyNameHash', 'policynamehash', ['-n', i['namehash.bin']!]],
    ['PolicyDuplicationSelect with the object', 'policyduplicationselect', ['-n', i['object.name']!, '-N', i['parent.name']!, '--include-object']],
    ['PolicyDuplicationSelect without it', 'policyduplicationselect', ['-n', i['object.name']!, '-N', i['parent.name']!]],
    ['PolicyNvWritten(set)', 'policynvwritten', ['s']],
    ['PolicyNvWritten(clear)', 'policynvwritten', ['c']],
    ['PolicyTemplate', 'policytemplate', ['--template-hash', i['template.hash']!]],
    ['PolicyCounterTimer(time < 60 s)', 'policycountertimer', ['--ult', '60000']],
    ['PolicyCounterTimer(safe)', 'policycountertimer', ['safe']],
    ['PolicyNV(eq 7)', 'policynv', ['-i', i['operand.bin']!, POLICY_NV_INDEX, 'eq']],
    ['PolicyNV(signed >= 7)', 'policynv', ['-i', i['operand.bin']!, POLICY_NV_INDEX, 'sge']],
    ['PolicySigned', 'policysigned', ['-c', 'key.ctx', '-q', i['qualification.bin']!]],
    ['PolicyAuthorize', 'policyauthorize', ['-i', i['cphash.bin']!, '-q', i['qualification.bin']!, '-n', 'key.name']],
    ['PolicyAuthorizeNV', 'policyauthorizenv', ['-C', AUTHORIZE_NV_INDEX, AUTHORIZE_NV_INDEX]],
    ['PolicySecret(owner)', 'policysecret', ['-c', 'o']],
    ['PolicySecret(endorsement) with a policyRef', 'policysecret', ['-c', 'e', '-q', i['qualification.bin']!]],
    ['PolicyCommandCode(Unseal)', 'policycommandcode', ['TPM2_CC_Unseal']],
    ['PolicyAuthValue', 'policyauthvalue', []],
    ['PolicyPassword', 'policypassword', []],
  ];
}

async function trialDigest(t: Target, tool: string, args: string[]): Promise<Buffer> {
  await run(t, 'startauthsession', ['-S', 'trial.ctx']);
  try {
    await run(t, tool, ['-S', 'trial.ctx', '-L', 'out.policy', ...args]);
  } finally {
    await run(t, 'flushcontext', ['trial.ctx']);
  }
  return readFile(file(t, 'out.policy'));
}

/** Loads the shared public key into the owner hierarchy (a NULL-hierarchy key gets NULL tickets) as key.ctx, key.name. */
async function loadKey(t: Target, inputs: Record<string, string>): Promise<void> {
  await run(t, 'loadexternal', ['-C', 'o', '-G', 'rsa', '-u', inputs['public.pem']!, '-c', 'key.ctx', '-n', 'key.name']);
}

describe('tpm2_policy* trial digests: mrtpm (mssim and cmd) equal swtpm', function () {
  this.timeout(240000);
  let inputs: Record<string, string> = {};
  const targets: Target[] = [];
  const stops: (() => Promise<unknown>)[] = [];

  before(async function () {
    this.timeout(120000);
    await requireInteropTools(this);
    const shared = await makeTempDir('mrtpm-policy-inputs');
    stops.push(() => removeDir(shared));
    inputs = await writeInputs(shared);
    const swtpm = await startSwtpm();
    stops.push(() => swtpm.stop());
    const mssim = await startMrtpm({ protocol: 'mssim' });
    stops.push(() => mssim.stop());
    await tpm2(mssim.tcti, 'startup', ['-c']);
    const cmdState = await makeTempDir('mrtpm-policy-cmd-state');
    stops.push(() => removeDir(cmdState));
    const cmd = mrtpmCmdTcti(cmdState);
    await tpm2(cmd, 'startup', ['-c']);
    for (const [label, tcti] of [['swtpm', swtpm.tcti], ['mrtpm mssim', mssim.tcti], ['mrtpm cmd', cmd]] as const) {
      const dir = await makeTempDir('mrtpm-policy');
      stops.push(() => removeDir(dir));
      const t = { label, tcti, dir };
      await defineIndexes(t, inputs);
      await loadKey(t, inputs);
      targets.push(t);
    }
  });
  after(async () => {
    for (const stop of stops.reverse()) await stop();
  });

  it('every policy tool writes the same digest on each TPM', async () => {
    const mismatches: string[] = [];
    for (const [what, tool, args] of trialPolicies(inputs)) {
      const [reference, ...subjects] = targets;
      const expected = await trialDigest(reference!, tool, args);
      for (const t of subjects) {
        const got = await trialDigest(t, tool, args);
        if (!got.equals(expected)) mismatches.push(`${what} on ${t.label}: ${got.toString('hex')}, swtpm ${expected.toString('hex')}`);
      }
    }
    assert.deepEqual(mismatches, []);
  });
});

/** A sealed object under `policy` (no userwithauth, so only the policy authorizes it) as sealed.ctx. */
async function sealUnder(t: Target, policy: string, inputs: Record<string, string>): Promise<void> {
  await run(t, 'flushcontext', ['-t']);
  await run(t, 'createprimary', ['-C', 'o', '-c', 'prim.ctx', '-Q']);
  await run(t, 'create', ['-C', 'prim.ctx', '-u', 'sealed.pub', '-r', 'sealed.priv', '-i', inputs['secret.dat']!, '-L', policy, '-a', 'fixedtpm|fixedparent', '-Q']);
  await run(t, 'flushcontext', ['-t']);
  await run(t, 'load', ['-C', 'prim.ctx', '-u', 'sealed.pub', '-r', 'sealed.priv', '-c', 'sealed.ctx', '-Q']);
}

/** Trial policy of `steps` (tool, args) into `out`. */
async function trial(t: Target, out: string, steps: [string, string[]][]): Promise<string> {
  await run(t, 'startauthsession', ['-S', 'trial.ctx']);
  for (const [i, [tool, args]] of steps.entries()) {
    await run(t, tool, ['-S', 'trial.ctx', ...(i === steps.length - 1 ? ['-L', out] : []), ...args]);
  }
  await run(t, 'flushcontext', ['trial.ctx']);
  return out;
}

/** A policy session satisfied by `steps`, then tpm2_unseal through it; resolves with the unsealed text. */
async function unsealWith(t: Target, steps: [string, string[]][]): Promise<string> {
  await run(t, 'startauthsession', ['--policy-session', '-S', 'use.ctx']);
  try {
    for (const [tool, args] of steps) await run(t, tool, ['-S', 'use.ctx', ...args]);
    return await run(t, 'unseal', ['-c', 'sealed.ctx', '-p', 'session:use.ctx']);
  } finally {
    await run(t, 'flushcontext', ['use.ctx']);
  }
}

/** As unsealWith, for a use that must fail; resolves with the failing tool's stderr. */
async function unsealFails(t: Target, steps: [string, string[]][], failingStep = steps.length): Promise<string> {
  await run(t, 'startauthsession', ['--policy-session', '-S', 'use.ctx']);
  try {
    for (const [i, [tool, args]] of steps.entries()) {
      if (i === failingStep) return (await fails(t, tool, ['-S', 'use.ctx', ...args])).stderr;
      await run(t, tool, ['-S', 'use.ctx', ...args]);
    }
    return (await fails(t, 'unseal', ['-c', 'sealed.ctx', '-p', 'session:use.ctx'])).stderr;
  } finally {
    await run(t, 'flushcontext', ['use.ctx']);
  }
}

const useCases: [string, (t: Target, i: Record<string, string>) => Promise<void>][] = [
  ['PolicySigned: an openssl RSASSA signature over the TPM nonce unseals; its ticket unseals again through PolicyTicket', async (t, i) => {
    await loadKey(t, i);
    await sealUnder(t, await trial(t, 'signed.policy', [['policysigned', ['-c', 'key.ctx']]]), i);
    await run(t, 'startauthsession', ['--policy-session', '-S', 'use.ctx']);
    await run(t, 'policysigned', ['-S', 'use.ctx', '-c', 'key.ctx', '-x', '-t', '-500', '--raw-data', 'to_sign.bin']);
    await openssl(['dgst', '-sha256', '-sign', i['private.pem']!, '-out', file(t, 'signature.dat'), file(t, 'to_sign.bin')]);
    await run(t, 'policysigned', ['-S', 'use.ctx', '-g', 'sha256', '-s', 'signature.dat', '-f', 'rsassa', '-c', 'key.ctx', '-x', '-t', '-500',
      '--ticket', 'signed.ticket', '--timeout', 'signed.timeout']);
    assert.match(await run(t, 'unseal', ['-c', 'sealed.ctx', '-p', 'session:use.ctx']), /a secret behind a policy/);
    await run(t, 'flushcontext', ['use.ctx']);
    const text = await unsealWith(t, [['policyticket', ['-n', 'key.name', '--ticket', 'signed.ticket', '--timeout', 'signed.timeout']]]);
    assert.match(text, /a secret behind a policy/);
    // A signature by another key is no PolicySigned.
    await run(t, 'startauthsession', ['--policy-session', '-S', 'use.ctx']);
    await run(t, 'policysigned', ['-S', 'use.ctx', '-c', 'key.ctx', '--raw-data', 'to_sign.bin']);
    await openssl(['genrsa', '-out', file(t, 'other.pem'), '2048']);
    await openssl(['dgst', '-sha256', '-sign', file(t, 'other.pem'), '-out', file(t, 'bad.sig'), file(t, 'to_sign.bin')]);
    const bad = await fails(t, 'policysigned', ['-S', 'use.ctx', '-g', 'sha256', '-s', 'bad.sig', '-f', 'rsassa', '-c', 'key.ctx']);
    assert.match(bad.stderr, /0x5db\b|0x000005db/i, 'TPM_RC_SIGNATURE + P5');
    await run(t, 'flushcontext', ['use.ctx']);
  }],
  ['PolicyAuthorize: a policy approved by an openssl signature (tpm2_verifysignature ticket) unseals; an unapproved one does not', async (t, i) => {
    await loadKey(t, i);
    await trial(t, 'approved.policy', [['policycommandcode', ['TPM2_CC_Unseal']]]);
    await trial(t, 'other.policy', [['policycommandcode', ['TPM2_CC_Unseal']], ['policypassword', []]]);
    await sealUnder(t, await trial(t, 'authorized.policy', [['policyauthorize', ['-i', 'approved.policy', '-n', 'key.name']]]), i);
    await openssl(['dgst', '-sha256', '-sign', i['private.pem']!, '-out', file(t, 'approved.sig'), file(t, 'approved.policy')]);
    await run(t, 'verifysignature', ['-c', 'key.ctx', '-g', 'sha256', '-m', 'approved.policy', '-s', 'approved.sig', '-f', 'rsassa', '-t', 'approved.ticket']);
    const text = await unsealWith(t, [
      ['policycommandcode', ['TPM2_CC_Unseal']],
      ['policyauthorize', ['-i', 'approved.policy', '-n', 'key.name', '-t', 'approved.ticket']],
    ]);
    assert.match(text, /a secret behind a policy/);
    const err = await unsealFails(t, [
      ['policycommandcode', ['TPM2_CC_Unseal']], ['policypassword', []],
      ['policyauthorize', ['-i', 'other.policy', '-n', 'key.name', '-t', 'approved.ticket']],
    ], 2);
    assert.match(err, /0x4c4\b|0x000004c4/i, 'the ticket is for another policy: TPM_RC_VALUE + P4');
  }],
  ['PolicyAuthorizeNV: the policy held in an NV index unseals', async (t, i) => {
    const password = await trial(t, 'password.policy', [['policypassword', []]]);
    await writeFile(file(t, 'nv-policy.bin'), Buffer.concat([Buffer.from('000b', 'hex'), await readFile(file(t, password))]));
    await run(t, 'nvwrite', ['-C', AUTHORIZE_NV_INDEX, '-i', 'nv-policy.bin', AUTHORIZE_NV_INDEX]);
    await sealUnder(t, await trial(t, 'nv.policy', [['policyauthorizenv', ['-C', AUTHORIZE_NV_INDEX, AUTHORIZE_NV_INDEX]]]), i);
    await run(t, 'startauthsession', ['--policy-session', '-S', 'use.ctx']);
    await run(t, 'policypassword', ['-S', 'use.ctx']);
    await run(t, 'policyauthorizenv', ['-S', 'use.ctx', '-C', AUTHORIZE_NV_INDEX, AUTHORIZE_NV_INDEX]);
    assert.match(await run(t, 'unseal', ['-c', 'sealed.ctx', '-p', 'session:use.ctx']), /a secret behind a policy/);
    await run(t, 'flushcontext', ['use.ctx']);
    // PolicyAuthValue extends the same digest as PolicyPassword, so another assertion it must be.
    const err = await unsealFails(t, [['policycommandcode', ['TPM2_CC_Unseal']], ['policyauthorizenv', ['-C', AUTHORIZE_NV_INDEX, AUTHORIZE_NV_INDEX]]], 1);
    assert.match(err, /0x84\b|0x00000084/i, 'another policy than the index holds: TPM_RC_VALUE');
  }],
  ['PolicyNV: unseals while the index holds 7, not after it changes (TPM_RC_POLICY)', async (t, i) => {
    await sealUnder(t, await trial(t, 'nv-eq.policy', [['policynv', ['-i', i['operand.bin']!, POLICY_NV_INDEX, 'eq']]]), i);
    assert.match(await unsealWith(t, [['policynv', ['-i', i['operand.bin']!, POLICY_NV_INDEX, 'eq']]]), /a secret behind a policy/);
    await writeFile(file(t, 'eight.bin'), Buffer.from('0000000000000008', 'hex'));
    await run(t, 'nvwrite', ['-C', POLICY_NV_INDEX, '-i', 'eight.bin', POLICY_NV_INDEX]);
    assert.match(await unsealFails(t, [['policynv', ['-i', i['operand.bin']!, POLICY_NV_INDEX, 'eq']]], 0), RC.policy);
    assert.match(await unsealWith(t, [['policynv', ['-i', i['operand.bin']!, POLICY_NV_INDEX, 'ugt']]]).catch((e: Error) => e.message), RC.policyFailS1,
      'ugt holds but is another policy');
    await run(t, 'nvwrite', ['-C', POLICY_NV_INDEX, '-i', i['operand.bin']!, POLICY_NV_INDEX]);
  }],
  ['PolicyCounterTimer: unseals while the TPM time is below a bound, fails above it', async (t, i) => {
    await sealUnder(t, await trial(t, 'ct.policy', [['policycountertimer', ['--ult', '86400000']]]), i);
    assert.match(await unsealWith(t, [['policycountertimer', ['--ult', '86400000']]]), /a secret behind a policy/);
    assert.match(await unsealFails(t, [['policycountertimer', ['--ugt', '86400000']]], 0), RC.policy);
  }],
  ['PolicyLocality: locality zero unseals from the tool\'s locality 0; three does not (TPM_RC_LOCALITY)', async (t, i) => {
    await sealUnder(t, await trial(t, 'loc0.policy', [['policylocality', ['zero']]]), i);
    assert.match(await unsealWith(t, [['policylocality', ['zero']]]), /a secret behind a policy/);
    await sealUnder(t, await trial(t, 'loc3.policy', [['policylocality', ['three']]]), i);
    assert.match(await unsealFails(t, [['policylocality', ['three']]]), RC.locality);
  }],
  ['PolicyNvWritten(c) + PolicyCommandCode(NV_Write): a write-once index takes one write', async (t) => {
    const policy = await trial(t, 'once.policy', [['policycommandcode', ['TPM2_CC_NV_Write']], ['policynvwritten', ['c']]]);
    await run(t, 'nvdefine', ['-C', 'o', '-s', '1', '-a', 'authread|policywrite', '-L', policy, '0x01500022']);
    await writeFile(file(t, 'aa.bin'), Buffer.from([0xaa]));
    const write = async (expectOk: boolean): Promise<void> => {
      await run(t, 'startauthsession', ['--policy-session', '-S', 'use.ctx']);
      try {
        await run(t, 'policycommandcode', ['-S', 'use.ctx', 'TPM2_CC_NV_Write']);
        await run(t, 'policynvwritten', ['-S', 'use.ctx', 'c']);
        const args = ['-i', 'aa.bin', '-P', 'session:use.ctx', '0x01500022'];
        if (expectOk) await run(t, 'nvwrite', args);
        else assert.match((await fails(t, 'nvwrite', args)).stderr, RC.policyFailS1);
      } finally {
        await run(t, 'flushcontext', ['use.ctx']);
      }
    };
    await write(true);
    await write(false);
    await run(t, 'nvundefine', ['-C', 'o', '0x01500022']);
  }],
  ['PolicyTemplate: the owner policy admits tpm2_createprimary of the template named only', async (t) => {
    await run(t, 'flushcontext', ['-t']);
    await run(t, 'createprimary', ['-C', 'o', '-c', 'tp.ctx', '--template-data', 'template.data', '-Q']);
    await writeFile(file(t, 'template.hash'), (await openssl(['dgst', '-sha256', '-r', file(t, 'template.data')])).slice(0, 64), 'hex');
    const policy = await trial(t, 'template.policy', [['policytemplate', ['--template-hash', 'template.hash']]]);
    // The last case: tpm2_setprimarypolicy cannot clear the policy again (an empty SHA-256 policy is TPM_RC_SIZE, on swtpm too).
    await run(t, 'setprimarypolicy', ['-C', 'o', '-g', 'sha256', '-L', policy]);
    for (const [alg, ok] of [['rsa', true], ['ecc', false]] as const) {
      await run(t, 'flushcontext', ['-t']);
      await run(t, 'startauthsession', ['--policy-session', '-S', 'use.ctx']);
      await run(t, 'policytemplate', ['-S', 'use.ctx', '--template-hash', 'template.hash']);
      const args = ['-C', 'o', '-G', alg, '-c', 'tp2.ctx', '-P', 'session:use.ctx', '-Q'];
      if (ok) await run(t, 'createprimary', args);
      else assert.match((await fails(t, 'createprimary', args)).stderr, RC.policyFailS1);
      await run(t, 'flushcontext', ['use.ctx']);
    }
  }],
];

for (const [label, target] of MRTPM_TCTIS) {
  let inputs: Record<string, string> = {};
  describeInterop(`policy assertions at use via ${label}`, async () => {
    const fixture = await target('mrtpm-policy-use');
    await tpm2(fixture.target.tcti, 'startup', ['-c']);
    inputs = await writeInputs(fixture.target.dir);
    await defineIndexes(fixture.target, inputs);
    return fixture;
  }, (t) => {
    for (const [name, body] of useCases) it(name, () => body(t(), inputs));
  }, 120000);
}
