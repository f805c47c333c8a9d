/**
 * Command audit (Part 1 §32) through Tpm.execute: SetCommandCodeAuditStatus, the audit digest
 * chained here from cpHash / rpHash, the counter, GetCommandAuditDigest, TPM_CAP_AUDIT_COMMANDS,
 * and the digest's lifetime (TPM Reset clears it, a Restart keeps it).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { stateFromJson, stateToJson } from '../../../src/tpm/state/serialize.js';
import type { PersistentState } from '../../../src/tpm/state/tpm-state.js';
import { CAP, TestTpm, getCap, parseCap, propertyMap } from '../helpers/capability-cmd.js';
import { command, rcOf, u16, u32 } from '../helpers/tpm-wire.js';
import { OBJ, RH, createPrimaryCommand, eccKey, parseCreatePrimary, scheme } from '../helpers/key-cmd.js';
import {
  ATTEST_CC, ATTEST_ST, attestResponse, commandAuditCommand, commandAuditInfo, setAuditParams, setAuditStatusCommand, verifiesAttest,
} from '../helpers/attest-cmd.js';

const ALG = { SHA256: 0x0b, SHA512: 0x0d, NULL: 0x10, ECDSA: 0x18 } as const;
const CC = { PCR_Event: 0x13c, Startup: 0x144, Shutdown: 0x145, GetRandom: 0x17b, GetCapability: 0x17a, Vendor: 0x20000000 } as const;
const PT_AUDIT_COUNTER_0 = 0x213;
const RC = { VALUE_P1: 0x1c4, VALUE_H1: 0x184 };
const NODE: Record<number, string> = { [ALG.SHA256]: 'sha256', [ALG.SHA512]: 'sha512' };
const H = (alg: number, ...parts: Uint8Array[]): Buffer => {
  const h = createHash(NODE[alg]!);
  for (const p of parts) h.update(p);
  return h.digest();
};

/** The caller's copy of the command audit digest; `restart()` as after a clear. */
class CommandChain {
  digest: Buffer = Buffer.alloc(0);
  constructor(public alg: number) {}
  extend(cc: number, names: Buffer[], params: Buffer, responseParams: Buffer): void {
    if (this.digest.length === 0) this.digest = Buffer.alloc(H(this.alg).length);
    this.digest = H(this.alg, this.digest, H(this.alg, u32(cc), ...names, params), H(this.alg, u32(0), u32(cc), responseParams));
  }
}

function setup(persistent?: PersistentState) {
  const t = new TestTpm(persistent);
  /** SetCommandCodeAuditStatus by the owner, as the chain sees it (always audited itself). */
  const setStatus = (chain: CommandChain | undefined, alg: number, setList: number[], clearList: number[] = []): void => {
    t.ok(setAuditStatusCommand(RH.OWNER, alg, setList, clearList));
    chain?.extend(ATTEST_CC.SetCommandCodeAuditStatus, [u32(RH.OWNER)], setAuditParams(alg, setList, clearList), Buffer.alloc(0));
  };
  /** GetRandom without sessions; its response parameters follow the header. */
  const getRandom = (chain?: CommandChain): void => {
    const params = u16(16);
    const r = t.ok(command(CC.GetRandom, [], [params]));
    chain?.extend(CC.GetRandom, [], params, r.subarray(10));
  };
  const audit = () => commandAuditInfo(t.ok(commandAuditCommand(RH.NULL)));
  const auditList = (from = 0): number[] => parseCap(t.params(getCap(CAP.AUDIT_COMMANDS, from, 100))).items.map((b) => b.readUInt32BE(0));
  const counter = (): bigint => {
    const p = propertyMap(parseCap(t.params(getCap(CAP.TPM_PROPERTIES, PT_AUDIT_COUNTER_0, 2))).items);
    return (BigInt(p.get(PT_AUDIT_COUNTER_0)!) << 32n) | BigInt(p.get(PT_AUDIT_COUNTER_0 + 1)!);
  };
  return { t, setStatus, getRandom, audit, auditList, counter };
}

const listDigest = (alg: number, codes: number[]): Buffer => H(alg, ...codes.map(u32));

describe('command audit (Part 1 §32)', () => {
  it('as manufactured: only SetCommandCodeAuditStatus audited, SHA-512, counter 0, empty digest', () => {
    const { audit, auditList, counter } = setup();
    assert.deepEqual(auditList(), [ATTEST_CC.SetCommandCodeAuditStatus]);
    assert.deepEqual(audit(), {
      auditCounter: 0n, digestAlg: ALG.SHA512, auditDigest: Buffer.alloc(0), commandDigest: listDigest(ALG.SHA512, [ATTEST_CC.SetCommandCodeAuditStatus]),
    });
    assert.equal(counter(), 0n);
  });

  it('audited commands extend the digest with cpHash || rpHash; the first one starts it and bumps the counter; others are not audited', () => {
    const { setStatus, getRandom, audit, auditList, counter, t } = setup();
    const chain = new CommandChain(ALG.SHA512);
    setStatus(chain, ALG.NULL, [CC.GetRandom, CC.PCR_Event]);
    assert.deepEqual(auditList(), [CC.PCR_Event, ATTEST_CC.SetCommandCodeAuditStatus, CC.GetRandom]);
    assert.deepEqual(auditList(0x141), [CC.GetRandom]);
    getRandom(chain);
    t.ok(command(CC.GetCapability, [], [u32(CAP.AUDIT_COMMANDS), u32(0), u32(1)]));
    getRandom(chain);
    // A failing audited command is not audited.
    assert.notEqual(rcOf(t.run(command(CC.GetRandom, [], [Buffer.from([0])]))), 0);
    assert.deepEqual(audit(), {
      auditCounter: 1n, digestAlg: ALG.SHA512, auditDigest: chain.digest,
      commandDigest: listDigest(ALG.SHA512, [CC.PCR_Event, ATTEST_CC.SetCommandCodeAuditStatus, CC.GetRandom]),
    });
    assert.equal(counter(), 1n);
  });

  it('a signed GetCommandAuditDigest (verified with node:crypto) clears the digest; the next audited command starts a new one and counts it', () => {
    const { t, setStatus, getRandom, audit } = setup();
    const template = eccKey(OBJ.sign, scheme(ALG.ECDSA, ALG.SHA256));
    const key = parseCreatePrimary(template, t.ok(createPrimaryCommand(template)));
    const chain = new CommandChain(ALG.SHA512);
    setStatus(chain, ALG.NULL, [CC.GetRandom]);
    getRandom(chain);
    const qualifying = randomBytes(12);
    const { attest, info, signature } = attestResponse(t.ok(commandAuditCommand(key.handle, qualifying)));
    assert.deepEqual([info.type, info.extraData], [ATTEST_ST.COMMAND_AUDIT, qualifying]);
    assert.ok(verifiesAttest(key, attest, signature));
    const signed = commandAuditInfo(t.ok(commandAuditCommand(RH.NULL)));
    assert.deepEqual([signed.auditCounter, signed.auditDigest], [1n, Buffer.alloc(0)]);
    const next = new CommandChain(ALG.SHA512);
    getRandom(next);
    assert.deepEqual([audit().auditCounter, audit().auditDigest], [2n, next.digest]);
  });

  it('changing the algorithm clears the digest without auditing that command; with a list as well it is VALUE + P1', () => {
    const { t, setStatus, getRandom, audit } = setup();
    setStatus(undefined, ALG.NULL, [CC.GetRandom]);
    assert.equal(rcOf(t.run(setAuditStatusCommand(RH.OWNER, ALG.SHA256, [CC.PCR_Event]))), RC.VALUE_P1);
    setStatus(undefined, ALG.SHA256, []);
    assert.deepEqual([audit().auditCounter, audit().digestAlg, audit().auditDigest], [1n, ALG.SHA256, Buffer.alloc(0)]);
    const chain = new CommandChain(ALG.SHA256);
    getRandom(chain);
    setStatus(chain, ALG.SHA256, []);
    assert.deepEqual(audit(), {
      auditCounter: 2n, digestAlg: ALG.SHA256, auditDigest: chain.digest, commandDigest: listDigest(ALG.SHA256, [ATTEST_CC.SetCommandCodeAuditStatus, CC.GetRandom]),
    });
  });

  it('the list: SetCommandCodeAuditStatus cannot be cleared, Shutdown and unimplemented commands cannot be set; auth is owner or platform', () => {
    const { t, setStatus, auditList } = setup();
    setStatus(undefined, ALG.NULL, [CC.Shutdown, CC.Vendor, 0x1ff, CC.GetRandom], [ATTEST_CC.SetCommandCodeAuditStatus]);
    assert.deepEqual(auditList(), [ATTEST_CC.SetCommandCodeAuditStatus, CC.GetRandom]);
    t.ok(setAuditStatusCommand(0x4000000c, ALG.NULL, [], [CC.GetRandom]));
    assert.deepEqual(auditList(), [ATTEST_CC.SetCommandCodeAuditStatus]);
    assert.equal(rcOf(t.run(setAuditStatusCommand(0x4000000b, ALG.NULL, []))), RC.VALUE_H1);
  });

  it('the list, algorithm and counter persist; a TPM Restart keeps the digest, a TPM Reset clears it', () => {
    const first = setup();
    const chain = new CommandChain(ALG.SHA512);
    first.setStatus(chain, ALG.NULL, [CC.GetRandom]);
    first.t.ok(command(CC.Shutdown, [], [u16(1)]));
    const saved = stateFromJson<PersistentState>(stateToJson(first.t.tpm.persistent));
    const { t, audit, auditList, getRandom } = setup(saved);
    assert.deepEqual(auditList(), [ATTEST_CC.SetCommandCodeAuditStatus, CC.GetRandom]);
    assert.deepEqual([audit().auditCounter, audit().auditDigest], [1n, chain.digest], 'TPM Restart');
    getRandom(chain);
    t.ok(command(CC.Shutdown, [], [u16(0)]));
    t.tpm.init();
    t.ok(command(CC.Startup, [], [u16(0)]));
    assert.deepEqual([audit().auditCounter, audit().auditDigest], [1n, Buffer.alloc(0)], 'TPM Reset');
  });
});
