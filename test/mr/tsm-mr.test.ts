import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { layoutOf, TDX_LAYOUT } from './helpers/tdx-layout.js';
import { attributes } from './helpers/fake-sysfs.js';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MrError } from '../../src/mr/mr-backend.js';
import { openTsmMr } from '../../src/mr/tsm-mr.js';
import { TPM_ALG } from '../../src/tpm/spec/constants.js';

const bytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);

const TDX_FILES: Record<string, [number, number, number]> = {
  'mrtd:sha384': [48, 0o444, 0x10],
  'rtmr0:sha384': [48, 0o644, 0x20],
  'rtmr1:sha384': [48, 0o644, 0x21],
  'rtmr2:sha384': [48, 0o644, 0x22],
  'rtmr3:sha384': [48, 0o644, 0x23],
  mrconfigid: [48, 0o444, 0x30],
  mrowner: [48, 0o444, 0x31],
  mrownerconfig: [48, 0o444, 0x32],
};
const CCA_FILES: Record<string, [number, number, number]> = {
  'rim:sha256': [32, 0o444, 0x40],
  ...Object.fromEntries([0, 1, 2, 3].map((n) => [`rem${n}:sha256`, [32, 0o644, 0x50 + n]])),
};

function assertMrError(f: () => unknown, code: string): void {
  assert.throws(f, (err: unknown) => err instanceof MrError && err.code === code);
}

describe('mr/tsm-mr', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'mrtpm-sysfs-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /** The fake sysfs of one guest device, and the backend opened over it. */
  function guest(device: string, files: Record<string, [number, number, number]>) {
    const dir = join(root, device, 'measurements');
    attributes(dir, files);
    return { dir, mr: openTsmMr({ sysfsRoot: root }) };
  }

  it('auto-detects tdx_guest and lists its registers from the file names and modes', () => {
    attributes(join(root, 'tdx_guest', 'measurements'), TDX_FILES);
    const mr = openTsmMr({ sysfsRoot: root });
    assert.equal(mr.kind, 'tsm-mr');
    assert.equal(mr.platform, 'tdx');
    assert.deepEqual(layoutOf(mr.registers), TDX_LAYOUT);
    assert.deepEqual(mr.read('mrconfigid'), bytes(48, 0x30));
    assert.equal(mr.register('rtmr1')?.ccMrIndex, 2);
  });

  it('auto-detects arm_cca_guest, and takes an explicit device', () => {
    attributes(join(root, 'arm_cca_guest', 'measurements'), CCA_FILES);
    const mr = openTsmMr({ sysfsRoot: root });
    assert.equal(mr.platform, 'cca');
    assert.deepEqual(
      mr.registers.map((r) => [r.name, r.hashAlg, r.size, r.ccMrIndex, r.extendable]),
      [['rim', TPM_ALG.SHA256, 32, 0, false], ...[0, 1, 2, 3].map((n) => [`rem${n}`, TPM_ALG.SHA256, 32, n + 1, true])],
    );
    attributes(join(root, 'tdx_guest', 'measurements'), TDX_FILES);
    assert.equal(openTsmMr({ sysfsRoot: root }).platform, 'tdx', 'tdx_guest is looked at first');
    assert.equal(openTsmMr({ sysfsRoot: root, device: 'arm_cca_guest' }).platform, 'cca');
  });

  it('writes exactly the digest, in one write at offset 0, and computes nothing', () => {
    const { dir, mr } = guest('tdx_guest', TDX_FILES);
    const digest = Uint8Array.from({ length: 48 }, (_, i) => i);
    mr.extend('rtmr2', digest);
    assert.deepEqual(new Uint8Array(readFileSync(join(dir, 'rtmr2:sha384'))), digest);
    assert.deepEqual(new Uint8Array(readFileSync(join(dir, 'rtmr3:sha384'))), bytes(48, 0x23));
  });

  it('prepareExtend reads the live value and predicts the kernel\'s; only commit writes, exactly the digest', () => {
    const { dir, mr } = guest('tdx_guest', TDX_FILES);
    const digest = bytes(48, 0x77);
    const prepared = mr.prepareExtend('rtmr3', digest);
    assert.deepEqual(prepared.old, bytes(48, 0x23));
    assert.deepEqual(Buffer.from(prepared.value), createHash('sha384').update(bytes(48, 0x23)).update(digest).digest());
    assert.deepEqual(new Uint8Array(readFileSync(join(dir, 'rtmr3:sha384'))), bytes(48, 0x23), 'nothing written before commit');
    prepared.commit();
    assert.deepEqual(new Uint8Array(readFileSync(join(dir, 'rtmr3:sha384'))), digest);
    assertMrError(() => mr.prepareExtend('rtmr3', bytes(47, 1)), 'EINVAL');
    assertMrError(() => mr.prepareExtend('mrtd', bytes(48, 1)), 'EACCES');
  });

  it('rejects shorter and longer data with EINVAL and leaves the file unchanged', () => {
    const { dir, mr } = guest('arm_cca_guest', CCA_FILES);
    assertMrError(() => mr.extend('rem0', bytes(31, 1)), 'EINVAL');
    assertMrError(() => mr.extend('rem0', bytes(33, 1)), 'EINVAL');
    assertMrError(() => mr.extend('rem0', bytes(48, 1)), 'EINVAL');
    assert.deepEqual(new Uint8Array(readFileSync(join(dir, 'rem0:sha256'))), bytes(32, 0x50));
  });

  it('refuses a register whose attribute is not owner-writable (EACCES), whoever runs the test', () => {
    const { dir, mr } = guest('tdx_guest', TDX_FILES);
    assertMrError(() => mr.extend('mrtd', bytes(48, 1)), 'EACCES');
    assertMrError(() => mr.extend('mrconfigid', bytes(48, 1)), 'EACCES');
    assertMrError(() => mr.extend('rtmr9', bytes(48, 1)), 'ENOENT');
    assert.deepEqual(new Uint8Array(readFileSync(join(dir, 'mrtd:sha384'))), bytes(48, 0x10));
  });

  it('re-reads the attribute on every read (registers are live)', () => {
    const { dir, mr } = guest('tdx_guest', TDX_FILES);
    assert.deepEqual(mr.read('rtmr0'), bytes(48, 0x20));
    writeFileSync(join(dir, 'rtmr0:sha384'), bytes(48, 0x99));
    assert.deepEqual(mr.read('rtmr0'), bytes(48, 0x99));
  });

  it('a short read is EIO; a vanished attribute keeps its errno; other errnos become EIO with their message', () => {
    const { dir, mr } = guest('tdx_guest', TDX_FILES);
    writeFileSync(join(dir, 'rtmr1:sha384'), bytes(10, 0));
    assertMrError(() => mr.read('rtmr1'), 'EIO');
    rmSync(join(dir, 'rtmr3:sha384'));
    assertMrError(() => mr.read('rtmr3'), 'ENOENT');
    assertMrError(() => mr.extend('rtmr3', bytes(48, 0)), 'ENOENT');
    rmSync(join(dir, 'rtmr2:sha384'));
    mkdirSync(join(dir, 'rtmr2:sha384'));
    assert.throws(() => mr.read('rtmr2'), (err: unknown) => err instanceof MrError && err.code === 'EIO' && /EISDIR/.test(err.message));
  });

  it('keeps the largest digest of a name listed under several hashes and skips unknown hashes', () => {
    attributes(join(root, 'arm_cca_guest', 'measurements'), {
      ...CCA_FILES,
      'rem3:sha512': [64, 0o644, 0x60],
      'rem2:sm3-256': [32, 0o644, 0x61],
      'extra:sm3-256': [32, 0o644, 0x62],
    });
    const mr = openTsmMr({ sysfsRoot: root });
    assert.deepEqual(mr.registers.map((r) => `${r.name}/${r.size}`), ['rim/32', 'rem0/32', 'rem1/32', 'rem2/32', 'rem3/64']);
    assert.deepEqual(mr.read('rem3'), bytes(64, 0x60));
  });

  it('a clear Error when no device has a measurements directory, or the device is unknown', () => {
    mkdirSync(join(root, 'tdx_guest'));
    assert.throws(() => openTsmMr({ sysfsRoot: root }), /no measurement registers: .*tdx_guest\/measurements or .*arm_cca_guest\/measurements does not exist/);
    assert.throws(() => openTsmMr({ sysfsRoot: root, device: 'arm_cca_guest' }), /arm_cca_guest\/measurements does not exist/);
    assert.throws(() => openTsmMr({ sysfsRoot: root, device: 'sev_guest' }), /unknown measurement device sev_guest/);
  });
});
