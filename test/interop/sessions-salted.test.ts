/**
 * tpm2-tools against mrtpm with salted, bound HMAC sessions and parameter encryption (Part 1 §19,
 * §21), through the mssim TCTI (`serve`) and the cmd TCTI (`stdio`, one process per tool, so the
 * session lives on between tools as a saved context).
 *
 * `tpm2_startauthsession --hmac-session -c key` makes tpmKey and bind the same primary: the salt is
 * RSA-OAEP or ECDH-encrypted to it and the session uses AES-128-CFB. tss2-esys computes every
 * nonce, key and HMAC on its own, so a wrong salt, bind value, cpHash over the encrypted parameters
 * or response HMAC makes the tool fail.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describeInterop, type InteropFixture } from '../helpers/interop-suite.js';
import { mrtpmCmdTcti, startMrtpm } from '../helpers/mrtpm.js';
import { makeTempDir, removeDir } from '../helpers/state-dirs.js';
import { runTool, tpm2 } from '../helpers/tpm2-tools.js';

interface Target {
  tcti: string;
  dir: string;
}

const SESSION_FLAGS = [['--enable-encrypt'], ['--enable-decrypt'], ['--enable-encrypt', '--enable-decrypt']];

async function saltedSession(t: Target, primaryArgs: string[], name: string): Promise<void> {
  await tpm2(t.tcti, 'createprimary', ['-C', 'o', ...primaryArgs, '-c', `${name}.ctx`], { cwd: t.dir });
  await tpm2(t.tcti, 'startauthsession', ['--hmac-session', '-c', `${name}.ctx`, '-S', `${name}-s.ctx`], { cwd: t.dir });
}

/** Flushes the session and every transient object (object context files cannot be flushed by name). */
async function flush(t: Target, session?: string): Promise<void> {
  if (session) await tpm2(t.tcti, 'flushcontext', [session], { cwd: t.dir });
  await tpm2(t.tcti, 'flushcontext', ['-t'], { cwd: t.dir });
}

function cases(target: () => Target): void {
  for (const [kind, primaryArgs] of [['RSA', []], ['ECC', ['-G', 'ecc']]] as const) {
    it(`salted and bound to an ${kind} primary: tpm2_getrandom with encrypt / decrypt sessions`, async () => {
      const t = target();
      const name = `${kind.toLowerCase()}-rand`;
      await saltedSession(t, [...primaryArgs], name);
      for (const flags of SESSION_FLAGS) {
        await tpm2(t.tcti, 'sessionconfig', [`${name}-s.ctx`, ...flags], { cwd: t.dir });
        const out = await tpm2(t.tcti, 'getrandom', ['-S', `${name}-s.ctx`, '--hex', '16'], { cwd: t.dir });
        assert.match(out.trim(), /^[0-9a-f]{32}$/, `getrandom ${flags.join(' ')}`);
      }
      await flush(t, `${name}-s.ctx`);
    });

    /*
     * Why this can fail: Create's first parameter (inSensitive, holding the secret) travels
     * AES-CFB-encrypted by esys; decrypted with a wrong key or IV it is noise that does not
     * unmarshal as a TPM2B_SENSITIVE_CREATE of exactly its size, and Create fails. Create's first
     * response parameter (outPrivate) comes back encrypted by mrtpm; if esys decrypted it to
     * anything but the TPM's blob, Load's integrity check of that blob (an HMAC keyed from the
     * parent's seed) fails. So create and load both succeeding means both directions were right.
     */
    it(`salted ${kind} session: tpm2_create -P session: with encrypted inSensitive and outPrivate, then tpm2_load`, async () => {
      const t = target();
      const name = `${kind.toLowerCase()}-create`;
      await saltedSession(t, [...primaryArgs], name);
      await tpm2(t.tcti, 'sessionconfig', [`${name}-s.ctx`, '--enable-encrypt', '--enable-decrypt'], { cwd: t.dir });
      const attributes = await tpm2(t.tcti, 'sessionconfig', [`${name}-s.ctx`], { cwd: t.dir });
      assert.match(attributes, /continuesession\|decrypt\|encrypt/);
      await writeFile(path.join(t.dir, 'secret.txt'), 'a secret that travels encrypted');
      await tpm2(t.tcti, 'create', ['-C', `${name}.ctx`, '-i', 'secret.txt', '-u', `${name}-k.pub`, '-r', `${name}-k.priv`,
        '-P', `session:${name}-s.ctx`], { cwd: t.dir });
      await tpm2(t.tcti, 'load', ['-C', `${name}.ctx`, '-u', `${name}-k.pub`, '-r', `${name}-k.priv`, '-c', `${name}-k.ctx`], { cwd: t.dir });
      // The check the argument above relies on: a blob that is off by one bit does not load.
      const priv = path.join(t.dir, `${name}-k.priv`);
      const blob = await readFile(priv);
      blob[blob.length - 1]! ^= 1;
      await writeFile(priv, blob);
      const tampered = await runTool(t.tcti, 'load', ['-C', `${name}.ctx`, '-u', `${name}-k.pub`, '-r', `${name}-k.priv`, '-c', 'bad.ctx'], { cwd: t.dir });
      assert.notEqual(tampered.code, 0, 'tpm2_load of a changed outPrivate');
      await flush(t, `${name}-s.ctx`);
    });
  }
}

type Fixture = InteropFixture<Target>;

function describeWith(label: string, setup: () => Promise<Fixture>): void {
  const started = async (): Promise<Fixture> => {
    const fixture = await setup();
    await tpm2(fixture.target.tcti, 'startup', ['-c']);
    return fixture;
  };
  describeInterop(`salted sessions and parameter encryption with tpm2-tools via ${label}`, started, cases, 120000);
}

describeWith('mssim TCTI (mrtpm serve)', async () => {
  const server = await startMrtpm({ protocol: 'mssim' });
  const dir = await makeTempDir('mrtpm-salted');
  return {
    target: { tcti: server.tcti, dir },
    teardown: async () => {
      await server.stop();
      await removeDir(dir);
    },
  };
});

describeWith('cmd TCTI (mrtpm stdio, one process per tool)', async () => {
  const stateDir = await makeTempDir('mrtpm-salted-state');
  const dir = await makeTempDir('mrtpm-salted');
  return {
    target: { tcti: mrtpmCmdTcti(stateDir), dir },
    teardown: async () => {
      await removeDir(dir);
      await removeDir(stateDir);
    },
  };
});
