/**
 * Command and session audit, NV_Certify, GetTime and CertifyCreation with real tpm2-tools 5.4
 * through the mssim and cmd TCTIs. The test keeps its own model of the command audit (Part 1
 * §32: digest_new = H(digest_old || cpHash || rpHash), started from zeros and counted when
 * cleared) and of the session audit digest, recomputed from the commands it ran and their
 * outputs; every attestation is parsed field by field and its signature verified by openssl.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describeInterop, type InteropFixture } from '../helpers/interop-suite.js';
import { mrtpmCmdTcti, startPowerCyclableMrtpm } from '../helpers/mrtpm.js';
import { makeTempDir, removeDir } from '../helpers/state-dirs.js';
import { openssl } from '../helpers/openssl.js';
import { tpm2, tpm2Fails } from '../helpers/tpm2-tools.js';
import { parseFlatYaml, parseProperties } from '../helpers/tool-output.js';
import { objectName, parseAttestOf, qualifiedName, TPM_ST_ATTEST, u32 } from '../helpers/tpms-attest.js';

interface Target {
  tcti: string;
  dir: string;
  /** Power cycle (volatile state lost) and TPM2_Startup(CLEAR) through the tools. */
  powerCycleStartup(): Promise<void>;
}

type Case = [name: string, run: (t: Target) => Promise<void>];

const CC = {
  GetCommandAuditDigest: 0x133, SetCommandCodeAuditStatus: 0x140, GetRandom: 0x17b, PCR_Extend: 0x182,
} as const;
const TPM_RH_OWNER = 0x40000001;
const TPM_RH_ENDORSEMENT = 0x4000000b;
const TPM_RH_PLATFORM = 0x4000000c;
const HASH = { sha256: 0x0b, sha384: 0x0c, sha512: 0x0d } as const;
type HashName = keyof typeof HASH;
const hashNameOf = (alg: number): HashName => {
  const name = (Object.keys(HASH) as HashName[]).find((n) => HASH[n] === alg);
  assert.ok(name, `unexpected hash algorithm 0x${alg.toString(16)}`);
  return name;
};
const H = (alg: HashName, ...parts: Uint8Array[]): Buffer => {
  const h = createHash(alg);
  for (const part of parts) h.update(part);
  return h.digest();
};
const u16 = (v: number): Buffer => Buffer.from([v >> 8, v & 0xff]);
const tpm2b = (b: Uint8Array): Buffer => Buffer.concat([u16(b.length), b]);
const TPM_RC_SUCCESS = u32(0);

const file = (t: Target, name: string): string => path.join(t.dir, name);
const read = (t: Target, name: string): Promise<Buffer> => readFile(file(t, name));
const tool = (t: Target, name: string, args: string[]): Promise<string> => tpm2(t.tcti, name, args, { cwd: t.dir });
const fails = (t: Target, name: string, args: string[]) => tpm2Fails(t.tcti, name, args, { cwd: t.dir });
const verified = async (t: Target, pem: string, sig: string, msg: string): Promise<void> => {
  assert.match(await openssl(['dgst', '-sha256', '-verify', pem, '-signature', sig, msg], { cwd: t.dir }), /Verified OK/);
};

/** What the test knows of the TPM: the command audit as Part 1 §32 defines it, and the signing keys. */
interface Model {
  alg: HashName;
  counter: bigint;
  /** Undefined when cleared: the next audited command starts it from zeros and counts it. */
  digest: Buffer | undefined;
  audited: Set<number>;
  /** Qualified Names of the signing keys, computed from their public areas. */
  signer: Map<string, Buffer>;
  /** The session audit digest expected for the audit session. */
  session: Buffer | undefined;
}

const models = new Map<Target, Model>();
const model = (t: Target): Model => {
  let m = models.get(t);
  if (!m) models.set(t, (m = { alg: 'sha256', counter: 0n, digest: undefined, audited: new Set(), signer: new Map(), session: undefined }));
  return m;
};

/** One command as the audit sees it: cpHash = H(cc || Names || parameters), rpHash = H(rc || cc || parameters). */
function audit(m: Model, cc: number, names: Buffer[], parameters: Buffer, response: Buffer = Buffer.alloc(0)): void {
  if (!m.audited.has(cc)) return;
  const cpHash = H(m.alg, u32(cc), ...names, parameters);
  const rpHash = H(m.alg, TPM_RC_SUCCESS, u32(cc), response);
  if (!m.digest) {
    m.digest = Buffer.alloc(createHash(m.alg).digest().length);
    m.counter += 1n;
  }
  m.digest = H(m.alg, m.digest, cpHash, rpHash);
}

const tpmlCc = (codes: number[]): Buffer => Buffer.concat([u32(codes.length), ...codes.map(u32)]);

/**
 * tpm2_setcommandauditstatus sends two commands: (auditAlg, [], []) to set the algorithm, then
 * (auditAlg, set, clear). A changed algorithm clears the digest and that command is not audited
 * (the reference's size-1 digest); SetCommandCodeAuditStatus is otherwise always audited.
 */
async function setAuditStatus(t: Target, alg: HashName, cc: number, clear: boolean, hierarchy: 'o' | 'p' = 'o'): Promise<void> {
  const m = model(t);
  await tool(t, 'setcommandauditstatus', ['-C', hierarchy, '-g', alg, ...(clear ? ['-c'] : []), `0x${cc.toString(16)}`]);
  // The auth handle's Name is the hierarchy handle.
  const auth = [u32(hierarchy === 'o' ? TPM_RH_OWNER : TPM_RH_PLATFORM)];
  if (alg !== m.alg) {
    m.alg = alg;
    m.digest = undefined;
  } else {
    audit(m, CC.SetCommandCodeAuditStatus, auth, Buffer.concat([u16(HASH[alg]), tpmlCc([]), tpmlCc([])]));
  }
  audit(m, CC.SetCommandCodeAuditStatus, auth, Buffer.concat([u16(HASH[alg]), tpmlCc(clear ? [] : [cc]), tpmlCc(clear ? [cc] : [])]));
  if (clear) m.audited.delete(cc);
  else m.audited.add(cc);
}

async function getRandom(t: Target, bytes: number, output: string, session?: string): Promise<Buffer> {
  await tool(t, 'getrandom', [String(bytes), '-o', output, ...(session ? ['-S', session] : [])]);
  const random = await read(t, output);
  assert.equal(random.length, bytes);
  audit(model(t), CC.GetRandom, [], u16(bytes), tpm2b(random));
  return random;
}

async function pcrExtend(t: Target, pcr: number): Promise<void> {
  const digest = randomBytes(32);
  await tool(t, 'pcrextend', [`${pcr}:sha256=${digest.toString('hex')}`]);
  // The PCR's Name is its handle; TPML_DIGEST_VALUES of one SHA-256 digest.
  audit(model(t), CC.PCR_Extend, [u32(pcr)], Buffer.concat([u32(1), u16(HASH.sha256), digest]));
}

/** TPMS_COMMAND_AUDIT_INFO from tpm2_getcommandauditdigest, every field checked against the model. */
async function checkCommandAuditDigest(t: Target, key: string): Promise<void> {
  const m = model(t);
  const nonce = randomBytes(16);
  await tool(t, 'getcommandauditdigest', ['-c', `${key}.ctx`, '-q', nonce.toString('hex'), '-m', 'cad.msg', '-s', 'cad.sig', '-f', 'plain', '-g', 'sha256']);
  const message = await read(t, 'cad.msg');
  const attest = parseAttestOf(message, TPM_ST_ATTEST.COMMAND_AUDIT);
  assert.deepEqual(attest.qualifiedSigner, m.signer.get(key), 'qualifiedSigner is the key\'s qualified Name');
  assert.deepEqual(attest.extraData, nonce, 'extraData is the qualifying data');
  const info = attest.attested;
  assert.equal(info.digestAlg, HASH[m.alg], 'digestAlg');
  assert.equal(info.auditCounter, m.counter, 'auditCounter');
  assert.equal(info.auditDigest.toString('hex'), (m.digest ?? Buffer.alloc(0)).toString('hex'), 'auditDigest recomputed from the audited commands');
  const list = [...m.audited].sort((a, b) => a - b);
  assert.deepEqual(info.commandDigest, H(m.alg, ...list.map(u32)), `commandDigest = H(${list.map((c) => `0x${c.toString(16)}`).join(' || ')})`);
  await verified(t, `${key}.pem`, 'cad.sig', 'cad.msg');
  // A signed digest is cleared; the next audited command starts a new one and bumps the counter.
  m.digest = undefined;
}

async function auditCounterProperty(t: Target): Promise<bigint> {
  const props = parseProperties(await tool(t, 'getcap', ['properties-variable']));
  return (BigInt(props.get('TPM2_PT_AUDIT_COUNTER_0')!) << 32n) | BigInt(props.get('TPM2_PT_AUDIT_COUNTER_1')!);
}

/**
 * Signing keys: an ECDSA key under an owner primary (tpm2_create; after a TPM Reset the same key is
 * loaded again under the same primary), an RSASSA AK under the EK (tpm2_createak).
 */
async function signingKeys(t: Target, createKey = true): Promise<void> {
  const m = model(t);
  await tool(t, 'createprimary', ['-C', 'o', '-c', 'prim.ctx', '-Q']);
  await tool(t, 'readpublic', ['-c', 'prim.ctx', '-o', 'prim.pub', '-Q']);
  if (createKey) await tool(t, 'create', ['-C', 'prim.ctx', '-G', 'ecc:ecdsa-sha256', '-u', 'sk.pub', '-r', 'sk.priv', '-Q']);
  await tool(t, 'load', ['-C', 'prim.ctx', '-u', 'sk.pub', '-r', 'sk.priv', '-c', 'sk.ctx', '-Q']);
  await tool(t, 'readpublic', ['-c', 'sk.ctx', '-o', 'sk.pem', '-f', 'pem', '-n', 'sk.name', '-Q']);
  const primaryQn = qualifiedName(TPM_RH_OWNER, objectName(await read(t, 'prim.pub')));
  const skName = objectName(await read(t, 'sk.pub'));
  assert.deepEqual(await read(t, 'sk.name'), skName, 'the TPM\'s Name of the key is nameAlg || H(publicArea)');
  m.signer.set('sk', qualifiedName(primaryQn, skName));

  await tool(t, 'createek', ['-c', 'ek.ctx', '-G', 'rsa', '-u', 'ek.pub']);
  await tool(t, 'createak', ['-C', 'ek.ctx', '-c', 'ak.ctx', '-G', 'rsa', '-s', 'rsassa', '-g', 'sha256', '-u', 'ak.pub', '-n', 'ak.name']);
  await tool(t, 'readpublic', ['-c', 'ak.ctx', '-o', 'ak.pem', '-f', 'pem', '-Q']);
  await tool(t, 'readpublic', ['-c', 'ek.ctx', '-o', 'ek.tpub', '-Q']);
  await tool(t, 'readpublic', ['-c', 'ak.ctx', '-o', 'ak.tpub', '-Q']);
  const akName = objectName(await read(t, 'ak.tpub'));
  assert.deepEqual(await read(t, 'ak.name'), akName);
  m.signer.set('ak', qualifiedName(qualifiedName(TPM_RH_ENDORSEMENT, objectName(await read(t, 'ek.tpub'))), akName));
  await tool(t, 'flushcontext', ['-t']);
}

/** TPMT_SIGNATURE of RSASSA: sigAlg, hash, TPM2B signature; the last is what openssl checks. */
function rsassaSignature(tpmtSignature: Buffer): Buffer {
  assert.equal(tpmtSignature.readUInt16BE(0), 0x0014, 'sigAlg RSASSA');
  assert.equal(tpmtSignature.readUInt16BE(2), HASH.sha256, 'hash SHA-256');
  const size = tpmtSignature.readUInt16BE(4);
  assert.equal(tpmtSignature.length, 6 + size);
  return tpmtSignature.subarray(6);
}

const NV_INDEX = 0x01000010;
const TPMA_NV_WRITTEN = 0x20000000;

const cases: Case[] = [
  ['tpm2_startup -c', async (t) => void await tool(t, 'startup', ['-c'])],
  ['signing keys: their Names are H(publicArea) and their qualified Names follow from the parents', (t) => signingKeys(t)],
  ['as manufactured: only SetCommandCodeAuditStatus is audited, the digest is empty, the counter as TPM_PT_AUDIT_COUNTER', async (t) => {
    const m = model(t);
    m.counter = await auditCounterProperty(t);
    const nonce = randomBytes(8);
    await tool(t, 'getcommandauditdigest', ['-c', 'sk.ctx', '-q', nonce.toString('hex'), '-m', 'cad0.msg', '-s', 'cad0.sig', '-f', 'plain']);
    await verified(t, 'sk.pem', 'cad0.sig', 'cad0.msg');
    const attest = parseAttestOf(await read(t, 'cad0.msg'), TPM_ST_ATTEST.COMMAND_AUDIT);
    assert.deepEqual(attest.qualifiedSigner, m.signer.get('sk'));
    assert.deepEqual(attest.extraData, nonce);
    const info = attest.attested;
    m.alg = hashNameOf(info.digestAlg);
    m.audited = new Set([CC.SetCommandCodeAuditStatus]);
    assert.equal(info.auditCounter, m.counter);
    assert.equal(info.auditDigest.length, 0, 'no audited command has run');
    assert.deepEqual(info.commandDigest, H(m.alg, u32(CC.SetCommandCodeAuditStatus)));
  }],
  ['tpm2_setcommandauditstatus -g sha256 adds GetRandom and PCR_Extend; the digest recomputed from their cpHash/rpHash', async (t) => {
    const m = model(t);
    await setAuditStatus(t, 'sha256', CC.GetRandom, false);
    await setAuditStatus(t, 'sha256', CC.PCR_Extend, false);
    assert.equal(await auditCounterProperty(t), m.counter, 'TPM_PT_AUDIT_COUNTER counts the new digest');
    await getRandom(t, 8, 'r1');
    await pcrExtend(t, 16);
    await getRandom(t, 16, 'r2');
    // Commands not in the list leave the digest alone.
    await tool(t, 'readclock', []);
    await tool(t, 'pcrread', ['sha256:16']);
    await checkCommandAuditDigest(t, 'sk');
  }],
  ['a signed digest restarts: the next GetCommandAuditDigest (RSA AK) reports an empty digest, the next audited command counts a new one', async (t) => {
    const m = model(t);
    const before = m.counter;
    await checkCommandAuditDigest(t, 'ak');
    assert.equal(m.counter, before);
    await pcrExtend(t, 16);
    assert.equal(m.counter, before + 1n);
    assert.equal(await auditCounterProperty(t), m.counter);
    await checkCommandAuditDigest(t, 'ak');
  }],
  ['GetCommandAuditDigest audited itself: its rpHash covers the attestation and the TPMT_SIGNATURE it returned', async (t) => {
    const m = model(t);
    await setAuditStatus(t, 'sha256', CC.GetCommandAuditDigest, false);
    await pcrExtend(t, 16);
    const nonce = randomBytes(12);
    await tool(t, 'getcommandauditdigest', ['-c', 'ak.ctx', '-q', nonce.toString('hex'), '-m', 'self.msg', '-s', 'self.sig', '-g', 'sha256']);
    const message = await read(t, 'self.msg');
    const signature = await read(t, 'self.sig');
    await writeFile(file(t, 'self.raw'), rsassaSignature(signature));
    await verified(t, 'ak.pem', 'self.raw', 'self.msg');
    const info = parseAttestOf(message, TPM_ST_ATTEST.COMMAND_AUDIT).attested;
    // The digest it reports was taken before its own audit, which then starts the next digest.
    assert.equal(info.auditDigest.toString('hex'), m.digest!.toString('hex'));
    assert.equal(info.auditCounter, m.counter);
    m.digest = undefined;
    const akName = objectName(await read(t, 'ak.tpub'));
    const inScheme = Buffer.concat([u16(0x0014), u16(HASH.sha256)]);
    audit(m, CC.GetCommandAuditDigest, [u32(TPM_RH_ENDORSEMENT), akName], Buffer.concat([tpm2b(nonce), inScheme]), Buffer.concat([tpm2b(message), signature]));
    await setAuditStatus(t, 'sha256', CC.GetCommandAuditDigest, true);
    await checkCommandAuditDigest(t, 'sk');
  }],
  ['tpm2_setcommandauditstatus -C p -c removes GetRandom (platform auth): it no longer extends the digest', async (t) => {
    await setAuditStatus(t, 'sha256', CC.GetRandom, true, 'p');
    await getRandom(t, 8, 'r3');
    await pcrExtend(t, 16);
    await getRandom(t, 8, 'r4');
    await checkCommandAuditDigest(t, 'sk');
  }],
  ['-g sha384 changes the digest algorithm: the digest restarts in SHA-384, the change itself is not audited', async (t) => {
    const m = model(t);
    await pcrExtend(t, 16);
    await setAuditStatus(t, 'sha384', CC.GetRandom, false);
    assert.equal(m.alg, 'sha384');
    await getRandom(t, 8, 'r5');
    await pcrExtend(t, 16);
    await checkCommandAuditDigest(t, 'ak');
    await setAuditStatus(t, 'sha256', CC.GetRandom, true);
    await checkCommandAuditDigest(t, 'sk');
  }],
  ['persistence: a TPM Restart keeps the digest, a TPM Reset clears it; list, algorithm and counter survive both', async (t) => {
    const m = model(t);
    await pcrExtend(t, 16);
    await tool(t, 'shutdown', []);
    await t.powerCycleStartup();
    await pcrExtend(t, 16);
    await checkCommandAuditDigest(t, 'sk');
    await pcrExtend(t, 16);
    const counter = m.counter;
    await tool(t, 'shutdown', ['-c']);
    await t.powerCycleStartup();
    m.digest = undefined;
    assert.equal(await auditCounterProperty(t), counter);
    // The TPM Reset flushed the keys.
    await signingKeys(t, false);
    await checkCommandAuditDigest(t, 'sk');
    await pcrExtend(t, 16);
    assert.equal(m.counter, counter + 1n);
    await checkCommandAuditDigest(t, 'sk');
  }],
  ['session audit: tpm2_startauthsession --audit-session, two audited GetRandoms, tpm2_getsessionauditdigest', async (t) => {
    const m = model(t);
    await tool(t, 'startauthsession', ['--audit-session', '-S', 'audit.ctx']);
    assert.match(await tool(t, 'sessionconfig', ['audit.ctx']), /Session-Attributes: continuesession\|audit/);
    const extendSession = (random: Buffer): void => {
      const cpHash = H('sha256', u32(CC.GetRandom), u16(random.length));
      const rpHash = H('sha256', TPM_RC_SUCCESS, u32(CC.GetRandom), tpm2b(random));
      m.session = H('sha256', m.session ?? Buffer.alloc(32), cpHash, rpHash);
    };
    extendSession(await getRandom(t, 8, 's1', 'audit.ctx'));
    extendSession(await getRandom(t, 12, 's2', 'audit.ctx'));
    await checkSessionAuditDigest(t, 'sk');
    // auditReset starts the digest again from zeros.
    await tool(t, 'sessionconfig', ['--enable-auditreset', 'audit.ctx']);
    m.session = undefined;
    extendSession(await getRandom(t, 8, 's3', 'audit.ctx'));
    await tool(t, 'sessionconfig', ['--disable-auditreset', 'audit.ctx']);
    extendSession(await getRandom(t, 8, 's4', 'audit.ctx'));
    await checkSessionAuditDigest(t, 'ak');
    await tool(t, 'flushcontext', ['audit.ctx']);
  }],
  ['tpm2_getsessionauditdigest of an HMAC session never used for audit: TPM_RC_TYPE (handle 3)', async (t) => {
    await tool(t, 'startauthsession', ['--hmac-session', '-S', 'hmac.ctx']);
    // The tool refuses a session file without the audit attribute before asking the TPM.
    await tool(t, 'sessionconfig', ['--enable-audit', 'hmac.ctx']);
    const refused = await fails(t, 'getsessionauditdigest', ['-c', 'sk.ctx', '-m', 'x.msg', '-s', 'x.sig', '-S', 'hmac.ctx']);
    assert.match(refused.stderr, /0x38a\b/i, refused.stderr);
    await tool(t, 'flushcontext', ['hmac.ctx']);
  }],
  ['tpm2_nvcertify: a part of an index (TPMS_NV_CERTIFY_INFO) and the whole (TPMS_NV_DIGEST_CERTIFY_INFO)', async (t) => {
    const data = randomBytes(32);
    await writeFile(file(t, 'nvdata'), data);
    await tool(t, 'nvdefine', [`0x${NV_INDEX.toString(16)}`, '-C', 'o', '-s', '32', '-a', 'ownerread|ownerwrite|authread|authwrite']);
    await tool(t, 'nvwrite', [`0x${NV_INDEX.toString(16)}`, '-C', 'o', '-i', 'nvdata']);
    const readPublic = await tool(t, 'nvreadpublic', [`0x${NV_INDEX.toString(16)}`]);
    const attributes = Number(/attributes:\s*\n\s*friendly:[^\n]*\n\s*value:\s*(0x[0-9a-fA-F]+)/.exec(readPublic)?.[1]);
    const pub = parseFlatYaml(readPublic);
    assert.ok(attributes & TPMA_NV_WRITTEN, 'written');
    // TPMS_NV_PUBLIC: nvIndex, nameAlg, attributes, authPolicy (empty), dataSize.
    const nvPublic = Buffer.concat([u32(NV_INDEX), u16(HASH.sha256), u32(attributes), tpm2b(Buffer.alloc(0)), u16(32)]);
    const indexName = Buffer.concat([u16(HASH.sha256), H('sha256', nvPublic)]);
    assert.equal(pub.get('name'), indexName.toString('hex'));
    const nonce = randomBytes(10);
    await tool(t, 'nvcertify', ['-C', 'sk.ctx', '-g', 'sha256', '-f', 'plain', '-o', 'nv.sig', '--attestation', 'nv.msg', '-q', nonce.toString('hex'), '--size', '16', '--offset', '4', `0x${NV_INDEX.toString(16)}`]);
    await verified(t, 'sk.pem', 'nv.sig', 'nv.msg');
    const part = parseAttestOf(await read(t, 'nv.msg'), TPM_ST_ATTEST.NV);
    assert.deepEqual(part.qualifiedSigner, model(t).signer.get('sk'));
    assert.deepEqual(part.extraData, nonce);
    assert.deepEqual(part.attested.indexName, indexName);
    assert.equal(part.attested.offset, 4);
    assert.deepEqual(part.attested.nvContents, data.subarray(4, 20));
    // The tool sends size 0 and offset 0 when --size is not given: the digest of the whole index.
    await tool(t, 'nvcertify', ['-C', 'ak.ctx', '-g', 'sha256', '-f', 'plain', '-o', 'nvd.sig', '--attestation', 'nvd.msg', '-q', nonce.toString('hex'), `0x${NV_INDEX.toString(16)}`]);
    await verified(t, 'ak.pem', 'nvd.sig', 'nvd.msg');
    const whole = parseAttestOf(await read(t, 'nvd.msg'), TPM_ST_ATTEST.NV_DIGEST);
    assert.deepEqual(whole.qualifiedSigner, model(t).signer.get('ak'));
    assert.deepEqual(whole.extraData, nonce);
    assert.deepEqual(whole.attested.indexName, indexName);
    assert.deepEqual(whole.attested.nvDigest, H('sha256', data));
    await tool(t, 'nvundefine', [`0x${NV_INDEX.toString(16)}`, '-C', 'o']);
  }],
  ['tpm2_gettime: TPMS_TIME_ATTEST_INFO in plain text (clock, resetCount, firmwareVersion) whatever the signer\'s hierarchy', async (t) => {
    const clock = parseFlatYaml(await tool(t, 'readclock', []));
    const props = parseProperties(await tool(t, 'getcap', ['properties-fixed']));
    const firmware = (BigInt(props.get('TPM2_PT_FIRMWARE_VERSION_1')!) << 32n) | BigInt(props.get('TPM2_PT_FIRMWARE_VERSION_2')!);
    for (const key of ['sk', 'ak']) {
      const nonce = randomBytes(8);
      await tool(t, 'gettime', ['-c', `${key}.ctx`, '-q', nonce.toString('hex'), '-o', 'time.sig', '--attestation', 'time.msg', '-f', 'plain']);
      await verified(t, `${key}.pem`, 'time.sig', 'time.msg');
      const attest = parseAttestOf(await read(t, 'time.msg'), TPM_ST_ATTEST.TIME);
      assert.deepEqual(attest.qualifiedSigner, model(t).signer.get(key));
      assert.deepEqual(attest.extraData, nonce);
      const time = attest.attested;
      assert.equal(time.firmwareVersion, firmware, 'firmwareVersion of the attested TPMS_TIME_ATTEST_INFO is not obfuscated');
      assert.equal(time.timeClockInfo.resetCount, Number(clock.get('reset_count')));
      assert.equal(time.timeClockInfo.restartCount, Number(clock.get('restart_count')));
      assert.ok(time.timeClockInfo.clock >= BigInt(clock.get('clock')!), 'clock does not go back');
      assert.ok(time.timeClockInfo.clock === attest.clockInfo.clock, 'the header\'s clock is the same reading');
      // The header hides reset/restart counts and firmware from a key outside endorsement/platform (Part 1 §36.6).
      if (key === 'ak') {
        assert.equal(attest.clockInfo.resetCount, time.timeClockInfo.resetCount);
        assert.equal(attest.firmwareVersion, firmware);
      } else {
        assert.notEqual(attest.firmwareVersion, firmware);
      }
    }
  }],
  ['tpm2_certifycreation: objectName and creationHash of a key from tpm2_create; a wrong creation hash is TPM_RC_TICKET (parameter 4)', async (t) => {
    await tool(t, 'create', ['-C', 'prim.ctx', '-G', 'ecc', '-u', 'obj.pub', '-r', 'obj.priv', '--creation-data', 'obj.cd', '-d', 'obj.ch', '-t', 'obj.tk', '-Q']);
    await tool(t, 'load', ['-C', 'prim.ctx', '-u', 'obj.pub', '-r', 'obj.priv', '-c', 'obj.ctx', '-Q']);
    const creationData = await read(t, 'obj.cd');
    const creationHash = await read(t, 'obj.ch');
    // The tool's files are TPM2B_CREATION_DATA and TPM2B_DIGEST.
    assert.deepEqual(creationHash.subarray(2), H('sha256', creationData.subarray(2)), 'creationHash = H(TPMS_CREATION_DATA)');
    const nonce = randomBytes(6);
    await tool(t, 'certifycreation', ['-C', 'sk.ctx', '-c', 'obj.ctx', '-d', 'obj.ch', '-t', 'obj.tk', '-g', 'sha256', '-o', 'cc.sig', '-f', 'plain', '--attestation', 'cc.msg', '-q', nonce.toString('hex')]);
    await verified(t, 'sk.pem', 'cc.sig', 'cc.msg');
    const attest = parseAttestOf(await read(t, 'cc.msg'), TPM_ST_ATTEST.CREATION);
    assert.deepEqual(attest.qualifiedSigner, model(t).signer.get('sk'));
    assert.deepEqual(attest.extraData, nonce);
    assert.deepEqual(attest.attested.objectName, objectName(await read(t, 'obj.pub')));
    assert.deepEqual(attest.attested.creationHash, creationHash.subarray(2));
    const wrong = Buffer.from(creationHash);
    wrong[wrong.length - 1]! ^= 1;
    await writeFile(file(t, 'wrong.ch'), wrong);
    const refused = await fails(t, 'certifycreation', ['-C', 'sk.ctx', '-c', 'obj.ctx', '-d', 'wrong.ch', '-t', 'obj.tk', '-g', 'sha256', '-o', 'w.sig', '--attestation', 'w.msg']);
    assert.match(refused.stderr, /0x4e0\b/i, refused.stderr);
    await tool(t, 'flushcontext', ['-t']);
  }],
];

async function checkSessionAuditDigest(t: Target, key: string): Promise<void> {
  const m = model(t);
  const nonce = randomBytes(16);
  await tool(t, 'getsessionauditdigest', ['-c', `${key}.ctx`, '-q', nonce.toString('hex'), '-S', 'audit.ctx', '-m', 'sad.msg', '-s', 'sad.sig', '-f', 'plain', '-g', 'sha256']);
  await verified(t, `${key}.pem`, 'sad.sig', 'sad.msg');
  const attest = parseAttestOf(await read(t, 'sad.msg'), TPM_ST_ATTEST.SESSION_AUDIT);
  assert.deepEqual(attest.qualifiedSigner, m.signer.get(key));
  assert.deepEqual(attest.extraData, nonce);
  assert.equal(attest.attested.sessionDigest.toString('hex'), m.session!.toString('hex'), 'sessionDigest recomputed from the audited GetRandoms');
  // Not exclusive: the tools run GetCapability, StartAuthSession and ReadPublic (which allow sessions) in between.
  assert.equal(attest.attested.exclusiveSession, 0);
}

function describeWith(label: string, setup: () => Promise<InteropFixture<Target>>): void {
  describeInterop(`audit, NV_Certify, GetTime, CertifyCreation via ${label}`, setup, (target) => {
    for (const [name, run] of cases) it(name, () => run(target()));
  }, 180000);
}

describeWith('mssim TCTI (mrtpm serve)', async () => {
  const stateDir = await makeTempDir('mrtpm-audit-state');
  const dir = await makeTempDir('mrtpm-audit');
  const server = await startPowerCyclableMrtpm(stateDir);
  const target: Target = {
    tcti: server.tcti, dir,
    powerCycleStartup: async () => {
      target.tcti = await server.powerCycle();
      await tool(target, 'startup', ['-c']);
    },
  };
  return { target, teardown: async () => { await server.stop(); await removeDir(dir); await removeDir(stateDir); } };
});

describeWith('cmd TCTI (mrtpm stdio, one process per tool)', async () => {
  const stateDir = await makeTempDir('mrtpm-audit-state');
  const dir = await makeTempDir('mrtpm-audit');
  const target: Target = {
    tcti: mrtpmCmdTcti(stateDir), dir,
    powerCycleStartup: async () => void await tpm2(mrtpmCmdTcti(stateDir, { reset: true }), 'startup', ['-c'], { cwd: dir }),
  };
  return { target, teardown: async () => { await removeDir(dir); await removeDir(stateDir); } };
});
