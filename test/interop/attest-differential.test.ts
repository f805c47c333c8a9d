/**
 * Differential test of the attestation structures: the same tpm2-tools 5.4 commands, with the
 * same external signing key (tpm2_loadexternal of one private key into the NULL hierarchy, so its
 * Name and qualified Name do not depend on a TPM's seeds), run against `mrtpm serve` and real
 * swtpm. The TPMS_ATTEST of Quote, Certify, GetTime, NV_Certify, GetCommandAuditDigest and
 * GetSessionAuditDigest must agree in length, type, qualifiedSigner, extraData and every attested
 * field that does not depend on the TPM (clockInfo, firmwareVersion, time and signatures do).
 */
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { requireInteropTools } from '../helpers/interop-prereqs.js';
import { startMrtpm } from '../helpers/mrtpm.js';
import { startSwtpm } from '../helpers/swtpm.js';
import type { ServerProcess } from '../helpers/processes.js';
import { makeTempDir, removeDir } from '../helpers/state-dirs.js';
import { openssl } from '../helpers/openssl.js';
import { tpm2 } from '../helpers/tpm2-tools.js';
import { SwtpmDataClient } from '../helpers/raw-client.js';
import { commands, responseCode, TPM_RC_INITIALIZE, TPM_RC_SUCCESS, TPM_RH_NULL } from '../helpers/tpm-commands.js';
import { attestResponse, commandAuditCommand, nvCertifyCommand, setAuditStatusCommand } from '../tpm/helpers/attest-cmd.js';
import { NVA, NV_RC, nv } from '../tpm/helpers/nv-cmd.js';
import { ClientSession, parseResponse, splitSessionsResponse, startAuthSessionCommand } from '../tpm/helpers/session-cmd.js';
import { command, pwAuth, tpm2b, u16 } from '../tpm/helpers/tpm-wire.js';
import { objectName, parseAttest, TPM_GENERATED_VALUE, TPM_ST_ATTEST, u32, type TpmsAttest } from '../helpers/tpms-attest.js';

interface Side {
  label: string;
  tcti: string;
  dir: string;
}

const BANKS = ['sha256', 'sha384'];
const NV_INDEX = '0x1000020';
const TPM_RH_OWNER = 0x40000001;
const TPM_RH_ENDORSEMENT = 0x4000000b;
const CC_SetCommandCodeAuditStatus = 0x140;
const CC_Shutdown = 0x145;
const CC_GetSessionAuditDigest = 0x14d;
const CC_GetRandom = 0x17b;
const CC_PCR_Extend = 0x182;

/** Fixed inputs, the same for both TPMs. */
const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' });
const nvData = randomBytes(24);
const extends16 = [randomBytes(32), randomBytes(32), randomBytes(32)];

const sha = (alg: string, ...parts: Uint8Array[]): Buffer => {
  const h = createHash(alg);
  for (const part of parts) h.update(part);
  return h.digest();
};

/**
 * A tool run, then a flush of the transient objects it left loaded: swtpm has no resource
 * manager and three object slots (mrtpm gets the same flushes, so both see the same commands).
 */
async function tool(side: Side, name: string, args: string[]): Promise<string> {
  const out = await tpm2(side.tcti, name, args, { cwd: side.dir });
  await tpm2(side.tcti, 'flushcontext', ['-t'], { cwd: side.dir });
  return out;
}

const read = (side: Side, name: string): Promise<Buffer> => readFile(path.join(side.dir, name));

async function verified(side: Side, sig: string, msg: string): Promise<void> {
  assert.match(await openssl(['dgst', '-sha256', '-verify', 'key.pub.pem', '-signature', sig, msg], { cwd: side.dir }), /Verified OK/, side.label);
}

/** Runs `step` on both TPMs, then parses and verifies the attestation each wrote to `msg` (signature in `sig`). */
async function onBoth(sides: Side[], step: (side: Side) => Promise<void>, msg: string, sig: string): Promise<[TpmsAttest, TpmsAttest]> {
  const out: TpmsAttest[] = [];
  const lengths: number[] = [];
  for (const side of sides) {
    await step(side);
    await verified(side, sig, msg);
    const bytes = await read(side, msg);
    lengths.push(bytes.length);
    out.push(parseAttest(bytes));
  }
  const [mine, theirs] = out as [TpmsAttest, TpmsAttest];
  assert.equal(lengths[0], lengths[1], 'TPMS_ATTEST lengths');
  assert.equal(mine.magic, TPM_GENERATED_VALUE);
  assert.equal(theirs.magic, TPM_GENERATED_VALUE);
  assert.equal(mine.type, theirs.type, 'type');
  assert.equal(mine.qualifiedSigner.toString('hex'), theirs.qualifiedSigner.toString('hex'), 'qualifiedSigner');
  assert.equal(mine.extraData.toString('hex'), theirs.extraData.toString('hex'), 'extraData');
  assert.equal(mine.clockInfo.safe, theirs.clockInfo.safe, 'clockInfo.safe');
  return [mine, theirs];
}

/** The fields of `attested` (both sides) except those named, which depend on the TPM. */
function sameAttested(mine: TpmsAttest, theirs: TpmsAttest, except: string[] = []): void {
  // Octets as hex, so that a difference reads as one.
  const strip = (a: TpmsAttest): string => JSON.stringify(
    Object.fromEntries(Object.entries(a.attested).filter(([field]) => !except.includes(field))),
    (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' ? Buffer.from((v as { data: number[] }).data).toString('hex') : v), 1);
  assert.equal(strip(mine), strip(theirs), 'attested: mrtpm (actual) vs swtpm (expected)');
}

describe('differential: TPMS_ATTEST of mrtpm vs swtpm through tpm2-tools', function () {
  this.timeout(180000);
  const servers: ServerProcess[] = [];
  const sides: Side[] = [];
  let signer: Buffer | undefined;

  before(async function () {
    this.timeout(60000);
    await requireInteropTools(this);
    const mrtpm = await startMrtpm({ protocol: 'mssim', pcrBanks: BANKS, logLevel: 'error' });
    servers.push(mrtpm);
    const swtpm = await startSwtpm({ pcrBanks: BANKS });
    servers.push(swtpm);
    for (const [label, tcti] of [['mrtpm', mrtpm.tcti], ['swtpm', swtpm.tcti]] as const) {
      const dir = await makeTempDir(`attest-diff-${label}`);
      sides.push({ label, tcti, dir });
      await writeFile(path.join(dir, 'key.pem'), key);
    }
    await tpm2(sides[0]!.tcti, 'startup', ['-c']);
  });

  after(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await Promise.all(sides.map((side) => removeDir(side.dir)));
  });

  const nonce = (): string => randomBytes(16).toString('hex');

  it('the same external key has the same Name on both; its qualified Name is that Name', async () => {
    const names: Buffer[] = [];
    for (const side of sides) {
      await tool(side, 'loadexternal', ['-C', 'n', '-G', 'ecc', '-r', 'key.pem', '-a', 'sign|userwithauth', '-c', 'key.ctx', '-n', 'key.name']);
      await tool(side, 'readpublic', ['-c', 'key.ctx', '-o', 'key.tpub', '-Q']);
      await tool(side, 'readpublic', ['-c', 'key.ctx', '-o', 'key.pub.pem', '-f', 'pem', '-Q']);
      const name = await read(side, 'key.name');
      assert.deepEqual(name, objectName(await read(side, 'key.tpub')), side.label);
      names.push(name);
    }
    assert.deepEqual(names[0], names[1]);
    // An external object has no parent to qualify it: its qualified Name is its Name (as the reference sets it).
    signer = names[0]!;
    for (const side of sides) {
      const out = await tool(side, 'readpublic', ['-c', 'key.ctx']);
      assert.match(out, new RegExp(`^qualified name: ${signer.toString('hex')}$`, 'm'), side.label);
    }
  });

  it('Quote of PCRs 16 and 23 after the same resets and extends: same pcrSelect and pcrDigest', async () => {
    const q = nonce();
    const [mine, theirs] = await onBoth(sides, async (side) => {
      await tool(side, 'pcrreset', ['16', '23']);
      for (const digest of extends16) await tool(side, 'pcrextend', [`16:sha256=${digest.toString('hex')}`]);
      await tool(side, 'quote', ['-c', 'key.ctx', '-l', 'sha256:16,23', '-q', q, '-m', 'quote.msg', '-s', 'quote.sig', '-f', 'plain', '-g', 'sha256']);
    }, 'quote.msg', 'quote.sig');
    assert.equal(mine.type, TPM_ST_ATTEST.QUOTE);
    assert.deepEqual(mine.qualifiedSigner, signer);
    assert.equal(mine.extraData.toString('hex'), q);
    sameAttested(mine, theirs);
    let pcr16: Buffer = Buffer.alloc(32);
    for (const digest of extends16) pcr16 = sha('sha256', pcr16, digest);
    assert.deepEqual(mine.attested, {
      type: TPM_ST_ATTEST.QUOTE, pcrSelect: [{ hash: 0x0b, pcrSelect: Buffer.from([0x00, 0x00, 0x81]) }], pcrDigest: sha('sha256', pcr16, Buffer.alloc(32)),
    });
  });

  it('Certify of the key by itself: same name and qualifiedName, the tool\'s fixed extraData', async () => {
    const [mine, theirs] = await onBoth(sides, async (side) => {
      await tool(side, 'certify', ['-c', 'key.ctx', '-C', 'key.ctx', '-g', 'sha256', '-o', 'certify.msg', '-s', 'certify.sig', '-f', 'plain']);
    }, 'certify.msg', 'certify.sig');
    assert.equal(mine.type, TPM_ST_ATTEST.CERTIFY);
    // tpm2_certify has no -q: it always qualifies with these four octets.
    assert.equal(mine.extraData.toString('hex'), '00ff55aa');
    sameAttested(mine, theirs);
    assert.deepEqual(mine.attested, { type: TPM_ST_ATTEST.CERTIFY, name: await read(sides[0]!, 'key.name'), qualifiedName: signer });
  });

  it('GetTime: same structure; time, clock and firmware are the TPM\'s own', async () => {
    const q = nonce();
    const [mine, theirs] = await onBoth(sides, async (side) => {
      await tool(side, 'gettime', ['-c', 'key.ctx', '-q', q, '-o', 'time.sig', '--attestation', 'time.msg', '-f', 'plain']);
    }, 'time.msg', 'time.sig');
    assert.equal(mine.type, TPM_ST_ATTEST.TIME);
    assert.equal(mine.extraData.toString('hex'), q);
    sameAttested(mine, theirs, ['time', 'timeClockInfo', 'firmwareVersion']);
  });

  it('NV_Certify of part of an index and of the whole (size 0): same indexName, offset, nvContents, nvDigest', async () => {
    for (const side of sides) {
      await writeFile(path.join(side.dir, 'nvdata'), nvData);
      await tool(side, 'nvdefine', [NV_INDEX, '-C', 'o', '-s', String(nvData.length), '-a', 'ownerread|ownerwrite|authread|authwrite']);
      await tool(side, 'nvwrite', [NV_INDEX, '-C', 'o', '-i', 'nvdata']);
    }
    const q = nonce();
    const [part, partRef] = await onBoth(sides, async (side) => {
      await tool(side, 'nvcertify', ['-C', 'key.ctx', '-g', 'sha256', '-f', 'plain', '-o', 'nv.sig', '--attestation', 'nv.msg', '-q', q, '--size', '10', '--offset', '3', NV_INDEX]);
    }, 'nv.msg', 'nv.sig');
    assert.equal(part.type, TPM_ST_ATTEST.NV);
    sameAttested(part, partRef);
    assert.equal(part.attested.type === TPM_ST_ATTEST.NV && part.attested.nvContents.toString('hex'), nvData.subarray(3, 13).toString('hex'));
    const [whole, wholeRef] = await onBoth(sides, async (side) => {
      await tool(side, 'nvcertify', ['-C', 'key.ctx', '-g', 'sha256', '-f', 'plain', '-o', 'nvd.sig', '--attestation', 'nvd.msg', '-q', q, NV_INDEX]);
    }, 'nvd.msg', 'nvd.sig');
    assert.equal(whole.type, wholeRef.type, 'size 0 and offset 0: both certify a digest (or both the contents)');
    sameAttested(whole, wholeRef);
  });

  it('GetCommandAuditDigest as manufactured, then with PCR_Extend audited: same counter, algorithm, auditDigest and commandDigest', async () => {
    const q = nonce();
    const [first, firstRef] = await onBoth(sides, async (side) => {
      await tool(side, 'getcommandauditdigest', ['-c', 'key.ctx', '-q', q, '-m', 'cad.msg', '-s', 'cad.sig', '-f', 'plain', '-g', 'sha256']);
    }, 'cad.msg', 'cad.sig');
    assert.equal(first.type, TPM_ST_ATTEST.COMMAND_AUDIT);
    sameAttested(first, firstRef);
    const [mine, theirs] = await onBoth(sides, async (side) => {
      await tool(side, 'setcommandauditstatus', ['-g', 'sha256', 'TPM2_CC_PCR_Extend']);
      for (const digest of extends16) await tool(side, 'pcrextend', [`16:sha256=${digest.toString('hex')}`]);
      await tool(side, 'getcommandauditdigest', ['-c', 'key.ctx', '-q', q, '-m', 'cad.msg', '-s', 'cad.sig', '-f', 'plain', '-g', 'sha256']);
    }, 'cad.msg', 'cad.sig');
    sameAttested(mine, theirs);
    assert.ok(mine.attested.type === TPM_ST_ATTEST.COMMAND_AUDIT);
    assert.equal(mine.attested.digestAlg, 0x0b);
    assert.equal(mine.attested.auditDigest.length, 32, 'the audited PCR_Extends started a digest');
    assert.deepEqual(mine.attested.commandDigest, sha('sha256', u32(CC_SetCommandCodeAuditStatus), u32(CC_PCR_Extend)));
    // The signed digest was cleared on both: reported empty, same counter.
    const [again, againRef] = await onBoth(sides, async (side) => {
      await tool(side, 'getcommandauditdigest', ['-c', 'key.ctx', '-q', q, '-m', 'cad.msg', '-s', 'cad.sig', '-f', 'plain', '-g', 'sha256']);
    }, 'cad.msg', 'cad.sig');
    sameAttested(again, againRef);
    assert.ok(again.attested.type === TPM_ST_ATTEST.COMMAND_AUDIT && again.attested.auditDigest.length === 0);
  });

  it('GetSessionAuditDigest after NV_ReadPublic twice in an audit session: same sessionDigest and exclusiveSession', async () => {
    const q = nonce();
    const [mine, theirs] = await onBoth(sides, async (side) => {
      await tool(side, 'startauthsession', ['--audit-session', '-S', 'audit.ctx']);
      await tool(side, 'nvreadpublic', ['-S', 'audit.ctx', NV_INDEX]);
      await tool(side, 'nvreadpublic', ['-S', 'audit.ctx', NV_INDEX]);
      await tool(side, 'getsessionauditdigest', ['-c', 'key.ctx', '-q', q, '-S', 'audit.ctx', '-m', 'sad.msg', '-s', 'sad.sig', '-f', 'plain', '-g', 'sha256']);
      await tool(side, 'flushcontext', ['audit.ctx']);
    }, 'sad.msg', 'sad.sig');
    assert.equal(mine.type, TPM_ST_ATTEST.SESSION_AUDIT);
    sameAttested(mine, theirs);
  });
});

/**
 * The audit commands and NV_Certify byte for byte: the same raw commands to mrtpm (`serve
 * --protocol swtpm`) and swtpm give the same responses (error codes, the audited-commands
 * capability, audit session attributes) and, signed by TPM_RH_NULL, the same attested fields.
 */
describe('differential: audit commands and NV_Certify, raw, mrtpm vs swtpm', function () {
  this.timeout(60000);
  const servers: ServerProcess[] = [];
  const clients: SwtpmDataClient[] = [];

  before(async function () {
    await requireInteropTools(this);
    const swtpm = await startSwtpm({ pcrBanks: BANKS });
    servers.push(swtpm);
    const mrtpm = await startMrtpm({ protocol: 'swtpm', pcrBanks: BANKS, logLevel: 'error' });
    servers.push(mrtpm);
    for (const server of [mrtpm, swtpm]) {
      const client = await SwtpmDataClient.connect(server.port);
      clients.push(client);
      const code = responseCode(await client.transmit(commands.startup()));
      assert.ok(code === TPM_RC_SUCCESS || code === TPM_RC_INITIALIZE, `Startup(CLEAR) answered 0x${code.toString(16)}`);
    }
  });

  after(async () => {
    for (const client of clients) client.close();
    await Promise.all(servers.map((server) => server.stop()));
  });

  async function both(command: Buffer): Promise<[Buffer, Buffer]> {
    return [await clients[0]!.transmit(command), await clients[1]!.transmit(command)];
  }

  async function same(label: string, command: Buffer, expectedCode?: number): Promise<Buffer> {
    const [mine, theirs] = await both(command);
    assert.equal(mine.toString('hex'), theirs.toString('hex'), `${label}: mrtpm (actual) vs swtpm (expected)`);
    if (expectedCode !== undefined) assert.equal(responseCode(theirs), expectedCode, `${label}: swtpm's response code`);
    return mine;
  }

  const AUDIT_COMMANDS_CAP = commands.getCapability(4, 0, 64);
  const unsignedAudit = commandAuditCommand(TPM_RH_NULL, Buffer.from('qualifying'));

  it('SetCommandCodeAuditStatus: a new algorithm with a list is TPM_RC_VALUE + P1; the current one (SHA-512 as manufactured) with a list is not', async () => {
    await same('sha384 + setList', setAuditStatusCommand(TPM_RH_OWNER, 0x0c, [CC_GetRandom]), 0x1c4);
    await same('sha512 + setList', setAuditStatusCommand(TPM_RH_OWNER, 0x0d, [CC_GetRandom]), TPM_RC_SUCCESS);
    await same('audited commands', AUDIT_COMMANDS_CAP, TPM_RC_SUCCESS);
  });

  it('SetCommandCodeAuditStatus: endorsement is no TPMI_RH_PROVISION; Shutdown and unimplemented codes are not listed, SetCommandCodeAuditStatus not cleared', async () => {
    const refused = await same('endorsement auth', setAuditStatusCommand(TPM_RH_ENDORSEMENT, 0x10, [CC_PCR_Extend]));
    assert.notEqual(responseCode(refused), TPM_RC_SUCCESS);
    await same('set/clear', setAuditStatusCommand(TPM_RH_OWNER, 0x10, [CC_Shutdown, 0x1ff, CC_PCR_Extend], [CC_SetCommandCodeAuditStatus, CC_GetRandom]), TPM_RC_SUCCESS);
    const list = await same('audited commands', AUDIT_COMMANDS_CAP, TPM_RC_SUCCESS);
    // TPMS_CAPABILITY_DATA: moreData, capability, TPML_CC.
    assert.equal(list.subarray(15).toString('hex'), Buffer.concat([u32(2), u32(CC_SetCommandCodeAuditStatus), u32(CC_PCR_Extend)]).toString('hex'));
  });

  it('audited PCR_Extends, then unsigned GetCommandAuditDigest (twice: not cleared): the same TPMS_COMMAND_AUDIT_INFO', async () => {
    for (const digest of extends16) await same('PCR_Extend', commands.pcrExtend(16, [{ hash: 'sha512', digest: Buffer.concat([digest, digest]) }]), TPM_RC_SUCCESS);
    for (let i = 0; i < 2; i++) {
      const [mine, theirs] = await both(unsignedAudit);
      const [a, b] = [attestResponse(mine), attestResponse(theirs)];
      assert.equal(a.info.type, b.info.type);
      assert.equal(a.info.qualifiedSigner.toString('hex'), '40000007');
      assert.equal(b.info.qualifiedSigner.toString('hex'), '40000007');
      assert.equal(a.info.extraData.toString(), 'qualifying');
      const [mineAttest, theirAttest] = [parseAttest(a.attest), parseAttest(b.attest)];
      sameAttested(mineAttest, theirAttest);
      assert.ok(mineAttest.attested.type === TPM_ST_ATTEST.COMMAND_AUDIT && mineAttest.attested.digestAlg === 0x0d && mineAttest.attested.auditDigest.length === 64);
      assert.equal(a.signature.toString('hex'), b.signature.toString('hex'), 'TPM_ALG_NULL signature');
    }
  });

  it('audit session exclusivity: auditExclusive in the responses, exclusiveSession and sessionDigest, TPM_RC_EXCLUSIVE, auditReset', async () => {
    const AUDIT = 0x81;
    const AUDIT_EXCLUSIVE = 0x02;
    const AUDIT_RESET = 0x04;
    const nonceCaller = Buffer.alloc(32, 0x5a);
    const sessions = await Promise.all(clients.map(async (client) => {
      const r = await client.transmit(startAuthSessionCommand({ nonceCaller }));
      assert.equal(responseCode(r), TPM_RC_SUCCESS);
      // Unbound and unsalted: an empty session key.
      return new ClientSession(r.readUInt32BE(10), 0x0b, Buffer.from(r.subarray(16, 16 + r.readUInt16BE(14))), Buffer.alloc(0), nonceCaller);
    }));
    const params = Buffer.concat([u32(1), u16(0x0b), extends16[0]!]);
    /** PCR_Extend(16) with the password session and the audit session: the response code and the audit session's response attributes. */
    const auditedExtend = async (attributes: number): Promise<[number, number | undefined]> => {
      const out: [number, number | undefined][] = [];
      for (const [i, client] of clients.entries()) {
        const s = sessions[i]!;
        const raw = await client.transmit(command(CC_PCR_Extend, [16], [params], [pwAuth(), s.authCommand(CC_PCR_Extend, [u32(16)], params, { attributes })]));
        const r = parseResponse(raw);
        if (r.rc !== TPM_RC_SUCCESS) {
          out.push([r.rc, undefined]);
          continue;
        }
        const { params: responseParams, auths } = splitSessionsResponse(r, false);
        assert.ok(s.acceptResponse(CC_PCR_Extend, responseParams, auths[1]!), 'response HMAC');
        out.push([r.rc, auths[1]!.attributes]);
      }
      assert.deepEqual(out[0], out[1], 'mrtpm (actual) vs swtpm (expected): [response code, attributes]');
      return out[1]!;
    };
    const sessionAudit = async (): Promise<Extract<TpmsAttest['attested'], { type: 0x8016 }>> => {
      const responses = await Promise.all(sessions.map((s, i) => clients[i]!.transmit(
        command(CC_GetSessionAuditDigest, [TPM_RH_ENDORSEMENT, TPM_RH_NULL, s.handle], [tpm2b(Buffer.alloc(0)), u16(0x10)], [pwAuth(), pwAuth()]))));
      const [mine, theirs] = responses.map((r) => parseAttest(attestResponse(r).attest));
      sameAttested(mine!, theirs!);
      assert.ok(mine!.attested.type === TPM_ST_ATTEST.SESSION_AUDIT);
      return mine!.attested;
    };
    assert.deepEqual(await auditedExtend(AUDIT), [TPM_RC_SUCCESS, AUDIT | AUDIT_EXCLUSIVE]);
    assert.deepEqual(await auditedExtend(AUDIT), [TPM_RC_SUCCESS, AUDIT | AUDIT_EXCLUSIVE]);
    assert.equal((await sessionAudit()).exclusiveSession, 1);
    // GetSessionAuditDigest allows sessions and had no audit session: exclusivity is gone.
    assert.deepEqual(await auditedExtend(AUDIT), [TPM_RC_SUCCESS, AUDIT]);
    assert.equal((await sessionAudit()).exclusiveSession, 0);
    assert.deepEqual(await auditedExtend(AUDIT | AUDIT_EXCLUSIVE), [0x121, undefined], 'TPM_RC_EXCLUSIVE');
    // The response echoes auditReset.
    assert.deepEqual(await auditedExtend(AUDIT | AUDIT_RESET), [TPM_RC_SUCCESS, AUDIT | AUDIT_RESET | AUDIT_EXCLUSIVE]);
    const restarted = await sessionAudit();
    assert.equal(restarted.exclusiveSession, 1);
    const cpHash = createHash('sha256').update(u32(CC_PCR_Extend)).update(u32(16)).update(params).digest();
    const rpHash = createHash('sha256').update(u32(0)).update(u32(CC_PCR_Extend)).digest();
    assert.equal(restarted.sessionDigest.toString('hex'), sha('sha256', Buffer.alloc(32), cpHash, rpHash).toString('hex'), 'auditReset: one command from zeros');
    await Promise.all(sessions.map((s, i) => clients[i]!.transmit(commands.flushContext(s.handle))));
  });

  it('NV_Certify unsigned (TPM_RH_NULL): the same errors (uninitialized, range, size past NV_BUFFER_MAX) and the same attested contents and digest', async () => {
    const small = 0x01000030;
    const large = 0x01000031;
    const attributes = NVA.OWNERWRITE | NVA.OWNERREAD | NVA.AUTHREAD;
    const data = randomBytes(32);
    const certify = (index: number, size: number, offset: number): Buffer =>
      nvCertifyCommand(TPM_RH_NULL, TPM_RH_OWNER, index, { qualifying: Buffer.from('nv'), size, offset });
    await same('define', nv.define(TPM_RH_OWNER, { index: small, attributes, size: 32 }), TPM_RC_SUCCESS);
    await same('define 2048', nv.define(TPM_RH_OWNER, { index: large, attributes, size: 2048 }), TPM_RC_SUCCESS);
    await same('not written', certify(small, 8, 0), NV_RC.NV_UNINITIALIZED);
    await same('write', nv.write(TPM_RH_OWNER, small, data), TPM_RC_SUCCESS);
    await same('write 2048', nv.write(TPM_RH_OWNER, large, Buffer.alloc(1024, 7)), TPM_RC_SUCCESS);
    await same('past the end', certify(small, 16, 20), NV_RC.NV_RANGE);
    await same('larger than NV_BUFFER_MAX', certify(large, 1100, 0), 0x3c4);
    for (const [size, offset] of [[10, 3], [0, 0]] as const) {
      const [mine, theirs] = (await both(certify(small, size, offset))).map((r) => attestResponse(r));
      const [a, b] = [parseAttest(mine!.attest), parseAttest(theirs!.attest)];
      assert.equal(a.type, b.type);
      assert.equal(a.qualifiedSigner.toString('hex'), b.qualifiedSigner.toString('hex'));
      sameAttested(a, b);
    }
    for (const index of [small, large]) await same('undefine', nv.undefine(TPM_RH_OWNER, index), TPM_RC_SUCCESS);
  });

  it('GetSessionAuditDigest of an HMAC session not (yet) audited: the same error', async () => {
    const [mine, theirs] = await both(startAuthSessionCommand());
    assert.equal(responseCode(mine), TPM_RC_SUCCESS);
    assert.equal(responseCode(theirs), TPM_RC_SUCCESS);
    const handles = [mine.readUInt32BE(10), theirs.readUInt32BE(10)];
    const refused = await Promise.all(handles.map((h, i) => clients[i]!.transmit(
      command(CC_GetSessionAuditDigest, [TPM_RH_ENDORSEMENT, TPM_RH_NULL, h], [tpm2b(Buffer.alloc(0)), u16(0x10)], [pwAuth(), pwAuth()]))));
    assert.equal(refused[0]!.toString('hex'), refused[1]!.toString('hex'));
    assert.equal(responseCode(refused[1]!), 0x38a, 'TPM_RC_TYPE + H3');
    await Promise.all(handles.map((h, i) => clients[i]!.transmit(commands.flushContext(h))));
  });
});
