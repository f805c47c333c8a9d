/**
 * A real Linux kernel as the TPM's client: Debian's kernel (linux-image-amd64) in QEMU
 * (qemu-system-x86, KVM when it runs, TCG otherwise) with the TPM on tpm-tis and on tpm-crb
 * through QEMU's TPM emulator backend, served by `mrtpm serve --qemu` (MRTPM_GUEST_TPM=swtpm: real
 * swtpm, for comparison), booted by SeaBIOS and by OVMF. The guest's init
 * (test/fixtures/guest/init) prints the firmware's TCG log, its IMA lists, its PCRs as the kernel
 * reads them and TPM properties. On the host: tpm2_eventlog replays the firmware log to PCRs 0-7
 * (and OVMF's to PCR 9, the EFI stub's), the IMA lists replay to PCR 10 (`mrtpm ima replay`,
 * evmctl), and `mrtpm mr replay` finds RTMR0-2 carrying that history (--mr tdx-sim). Also: a
 * guest reboot (QEMU's CMD_INIT), QEMU quitting under a live guest, a QEMU killed mid-run whose
 * state serves the next boot, the running guest live-migrated to a new TPM process, and a
 * savevm/loadvm around an IMA measurement (PCR 10 goes back with the guest, RTMR2 keeps it).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { EVMCTL_MATCHED, evmctlPcrFile } from '../helpers/evmctl.js';
import { expectedRtmrs, imaSha384Extends, readFirmwareLog, type BootMeasurements, type Sha384Method } from '../helpers/guest-measurements.js';
import { bootGuest, guestKernel, PROBE_PATH, qemuAccel, writeInitramfs, type AfterDump, type Firmware, type Guest, type GuestOptions, type TpmDevice } from '../helpers/guest-vm.js';
import { requireInteropTools } from '../helpers/interop-prereqs.js';
import { assertMrtpmBuilt, runMrtpm } from '../helpers/mrtpm.js';
import { runCommand } from '../helpers/processes.js';
import { startQemuTpm, type QemuTpm, type QemuTpmKind } from '../helpers/qemu-tpm.js';
import { makeTempDir, removeDir } from '../helpers/state-dirs.js';

const KIND: QemuTpmKind = process.env.MRTPM_GUEST_TPM === 'swtpm' ? 'swtpm' : 'mrtpm';
const BOOT_TIMEOUT = 150_000;

const run = runCommand;
const mrtpm = runMrtpm;

/** "N <hex>" lines of a pcr-<bank> section -> PCR index -> lower-case hex. */
function pcrSection(text: string): Map<number, string> {
  return new Map(text.split('\n').filter(Boolean).map((line) => {
    const [i, hex] = line.split(' ');
    return [Number(i), hex!.toLowerCase()];
  }));
}

interface ImaReplayJson { entries: number; violations: number; badTemplateHashes: number[]; pcrs: { bank: string; pcr: number; replayed: string; paddedSha1?: string }[] }

async function replayJson(list: string): Promise<ImaReplayJson> {
  const r = await mrtpm(['ima', 'replay', list, '--banks', 'sha1,sha256,sha384', '--json']);
  assert.ok(r.code === 0 || r.code === 1, r.stdout + r.stderr);
  return JSON.parse(r.stdout) as ImaReplayJson;
}
const pcr10 = (r: ImaReplayJson, bank: string): ImaReplayJson['pcrs'][number] => r.pcrs.find((p) => p.bank === bank && p.pcr === 10)!;
const replayed = (r: ImaReplayJson, bank: string): string => pcr10(r, bank).replayed;
/**
 * The kernel extends a bank whose hash its crypto lacks with padded SHA-1 template hashes:
 * Debian's kernel has sha384 as a module, which a bare initramfs never loads.
 */
const sha384By = (r: ImaReplayJson, method: Sha384Method): string => (method === 'bank-hash' ? pcr10(r, 'sha384').replayed : pcr10(r, 'sha384').paddedSha1!);

/** ReadClock's response hex -> resetCount (TPMS_TIME_INFO after the 10-byte header: time, clock, resetCount). */
function resetCountOf(hex: string): number {
  assert.match(hex, /^80010000002300000000[0-9a-f]{50}$/, `ReadClock response ${hex}`);
  return parseInt(hex.slice(52, 60), 16);
}

/** GetCapability(TPM_PROPERTIES) response hex -> property -> value (TPML_TAGGED_TPM_PROPERTY after moreData, capability, count). */
function capabilityProperties(hex: string): Map<number, number> {
  assert.match(hex, /^8001[0-9a-f]{8}00000000[0-9a-f]{2}00000006/, `GetCapability response ${hex}`);
  const bytes = Buffer.from(hex, 'hex');
  const count = bytes.readUInt32BE(15);
  assert.equal(bytes.length, 19 + 8 * count, `GetCapability response ${hex}`);
  return new Map(Array.from({ length: count }, (_, i) => [bytes.readUInt32BE(19 + 8 * i), bytes.readUInt32BE(23 + 8 * i)]));
}
const PT_FAMILY_INDICATOR = 0x100;
const PT_MANUFACTURER = 0x105;
/** The TPM the guest must find: its TPM_PT_MANUFACTURER as text. */
const MANUFACTURER: Record<QemuTpmKind, string> = { mrtpm: 'MRTP', swtpm: 'IBM' };
const fourChars = (value: number): string => Buffer.from(value.toString(16).padStart(8, '0'), 'hex').toString('latin1').replace(/[\0 ]+$/, '');

interface CheckedBoot extends BootMeasurements { ascii: string[]; sha384: string; sha384Method: Sha384Method; resetCount: number; imaListAtMs: number; uptime: number }

/** What each firmware's log must hold besides EV_SEPARATOR in PCRs 0-7. */
const FIRMWARE_EVENTS: Record<Firmware, { pcr: number; type: string; what: string }[]> = {
  seabios: [{ pcr: 4, type: 'EV_ACTION', what: 'the boot attempt' }],
  ovmf: [
    { pcr: 7, type: 'EV_EFI_VARIABLE_DRIVER_CONFIG', what: 'the Secure Boot variables' },
    { pcr: 4, type: 'EV_EFI_BOOT_SERVICES_APPLICATION', what: 'the kernel\'s EFI stub' },
  ],
};

describe(`a Linux guest kernel as the TPM client (QEMU tpm emulator backend, ${KIND})`, function () {
  this.timeout(600_000);
  let kernel: string;
  let accel: 'kvm' | 'tcg';
  let work: string;
  let initrd: string;
  const probe = randomBytes(64);
  const probeDigest = createHash('sha256').update(probe).digest('hex');
  const dirs: string[] = [];
  const tpms: QemuTpm[] = [];
  const guests: Guest[] = [];

  before(async function () {
    await requireInteropTools(this);
    assertMrtpmBuilt();
    kernel = guestKernel()!;
    accel = await qemuAccel(kernel);
    work = await makeTempDir('mrtpm-guest');
    dirs.push(work);
    initrd = path.join(work, 'initramfs.cpio');
    writeInitramfs(initrd, probe);
    console.log(`      guest: ${kernel}, accel ${accel}, TPM ${KIND}`);
  });
  // A failed test leaves its guest running: TCG would spend a core on it for the rest of the run.
  afterEach(async () => {
    await Promise.all(guests.splice(0).map((g) => g.stop('SIGKILL')));
  });
  after(async () => {
    await Promise.all(tpms.map((t) => t.stop()));
    await Promise.all(dirs.map(removeDir));
  });

  async function freshState(): Promise<string> {
    const dir = await makeTempDir('mrtpm-guest-state');
    dirs.push(dir);
    return dir;
  }

  /** The TPM serving `stateDir`, started again if the previous one ended with its QEMU. */
  async function tpmFor(stateDir: string): Promise<QemuTpm> {
    const live = tpms.find((t) => t.stateDir === stateDir && !t.child.hasExited());
    if (live) return live;
    const tpm = await startQemuTpm(KIND, stateDir);
    tpms.push(tpm);
    return tpm;
  }

  /** QEMU sends CMD_SHUTDOWN when it exits (poweroff, SIGTERM): the TPM then ends by itself, as swtpm does. */
  async function tpmEndsWithQemu(stateDir: string): Promise<void> {
    const tpm = tpms.filter((t) => t.stateDir === stateDir).at(-1);
    assert.ok(tpm, 'a TPM served this state');
    const ended = await Promise.race([tpm.child.exited, new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), 15_000))]);
    assert.notEqual(ended, 'running', `${KIND} still runs 15 s after its QEMU exited`);
    assert.deepEqual(ended, { code: 0, signal: null }, `${KIND} ends cleanly after CMD_SHUTDOWN; stderr:\n${tpm.child.stderr()}`);
  }

  async function boot(stateDir: string, device: TpmDevice, after: AfterDump, firmware: Firmware = 'seabios', vm: Pick<GuestOptions, 'qmp' | 'incoming' | 'snapshots'> = {}): Promise<Guest> {
    const tpm = await tpmFor(stateDir);
    const dataFile = path.join(stateDir, `guest-${Date.now()}.out`);
    const guest = bootGuest({ kernel, initrd, tpmSocket: tpm.socket, device, dataFile, after, accel, firmware, ...vm });
    guests.push(guest);
    return guest;
  }

  /** What every boot must show; returns its list and the SHA-384 replay (RTMR2's share). */
  async function checkBoot(sections: Map<string, string>, device: TpmDevice, imaListAtMs: number, tag: string, firmware: Firmware = 'seabios'): Promise<CheckedBoot> {
    const get = (name: string): string => {
      const text = sections.get(name);
      assert.ok(text !== undefined, `section ${name} missing`);
      return text;
    };
    const base64 = (name: string): Buffer => Buffer.from(get(name).replace(/\s/g, ''), 'base64');
    assert.equal(get('tpm-version'), '2');
    assert.match(get('tpm-driver'), device === 'tpm-crb' ? /\/tpm_crb$/ : /\/tpm_tis$/);
    assert.equal(get('tpm-acpi-hid'), 'MSFT0101');
    const resetCount = resetCountOf(get('tpm-readclock'));
    const properties = capabilityProperties(get('tpm-properties'));
    assert.equal(fourChars(properties.get(PT_FAMILY_INDICATOR)!), '2.0');
    assert.equal(fourChars(properties.get(PT_MANUFACTURER)!), MANUFACTURER[KIND], `the guest talks to ${KIND}`);

    const ascii = get('ima-ascii').split('\n').filter(Boolean);
    assert.match(ascii[0]!, /^10 [0-9a-f]{40} ima-sig sha256:[0-9a-f]{64} boot_aggregate $/);
    assert.ok(ascii.some((l) => l.endsWith(` ima-sig sha256:${probeDigest} ${PROBE_PATH} `)), `the probe file's digest is in the list:\n${ascii.join('\n')}`);
    assert.equal(Number(get('ima-count')), ascii.length);
    assert.equal(get('ima-violations'), '0');

    const sha1 = pcrSection(get('pcr-sha1'));
    const sha256 = pcrSection(get('pcr-sha256'));
    const sha384 = pcrSection(get('pcr-sha384'));
    const fw = await readFirmwareLog(base64('bios-log-base64'), path.join(work, `${tag}.bios-log`));
    const guestPcrs = new Map([['sha1', sha1], ['sha256', sha256], ['sha384', sha384]]);
    for (const [bank, pcrs] of guestPcrs) {
      const fromLog = fw.pcrs.get(bank);
      assert.ok(fromLog, `tpm2_eventlog replays the ${bank} bank of the ${firmware} log`);
      for (let pcr = 0; pcr <= 7; pcr++) assert.ok(fromLog.has(pcr), `${firmware}'s log has ${bank} PCR ${pcr}`);
      for (const [pcr, value] of fromLog) if (pcr !== 10) assert.equal(value, pcrs.get(pcr), `${firmware}'s log replays to the guest's ${bank} PCR ${pcr}`);
    }
    for (let pcr = 0; pcr <= 7; pcr++) assert.ok(fw.events.some((e) => e.pcrIndex === pcr && e.eventType === 'EV_SEPARATOR'), `${firmware} ends PCR ${pcr} with EV_SEPARATOR`);
    for (const want of FIRMWARE_EVENTS[firmware]) {
      assert.ok(fw.events.some((e) => e.pcrIndex === want.pcr && e.eventType === want.type), `${firmware} measured ${want.what} (${want.type} in PCR ${want.pcr})`);
    }
    const asciiFile = path.join(work, `${tag}.ascii`);
    writeFileSync(asciiFile, `${ascii.join('\n')}\n`);
    const fromAscii = await replayJson(asciiFile);
    assert.equal(fromAscii.entries, ascii.length);
    assert.deepEqual(fromAscii.badTemplateHashes, []);
    assert.equal(replayed(fromAscii, 'sha1'), sha1.get(10), 'the ascii list replays to the guest\'s sha1 PCR 10');
    assert.equal(replayed(fromAscii, 'sha256'), sha256.get(10), 'the ascii list replays to the guest\'s sha256 PCR 10');
    const sha384Method = (['bank-hash', 'padded-sha1'] as const).find((m) => sha384By(fromAscii, m) === sha384.get(10));
    assert.ok(sha384Method, `the ascii list replays to the guest's sha384 PCR 10 ${sha384.get(10)}: ${JSON.stringify(pcr10(fromAscii, 'sha384'))}`);

    const binary = path.join(work, `${tag}.binary`);
    const binaryList = base64('ima-binary-base64');
    writeFileSync(binary, binaryList);
    const fromBinary = await replayJson(binary);
    assert.deepEqual(fromBinary.pcrs.map((p) => p.replayed), fromAscii.pcrs.map((p) => p.replayed));

    const sha1File = evmctlPcrFile(path.join(work, `${tag}.pcrs-sha1`), sha1);
    const sha256File = evmctlPcrFile(path.join(work, `${tag}.pcrs-sha256`), sha256);
    const evm = await run('evmctl', ['ima_measurement', '--pcrs', `sha1,${sha1File}`, '--pcrs', `sha256,${sha256File}`, binary]);
    assert.equal(evm.code, 0, evm.stdout + evm.stderr);
    assert.ok(evm.stderr.includes(EVMCTL_MATCHED), evm.stdout + evm.stderr);
    const aggregate = await run('evmctl', ['ima_boot_aggregate', '--pcrs', `sha256,${sha256File}`]);
    assert.equal(aggregate.stdout.match(/sha256:[0-9a-f]{64}/)?.[0], ascii[0]!.split(' ')[3], 'evmctl computes the guest\'s boot_aggregate');

    const uptime = Number(get('uptime').split(' ')[0]);
    return { ascii, sha384: sha384.get(10)!, sha384Method, resetCount, imaListAtMs, uptime, firmware: fw.events, ima: imaSha384Extends(binaryList, sha384Method) };
  }

  /**
   * The registers after these boots on a fresh state: RTMR0-1 carry the firmware's logs, RTMR2
   * each boot's firmware events in PCRs 8-15 and then its IMA entries, all as one SHA-384 chain.
   */
  async function expectRtmrs(stateDir: string, boots: CheckedBoot[]): Promise<string> {
    const methods = new Set(boots.map((b) => b.sha384Method));
    assert.equal(methods.size, 1, `one kernel, one way to extend sha384: ${[...methods].join(', ')}`);
    const mr = await mrtpm(['mr', 'replay', '--state', stateDir]);
    assert.equal(mr.code, 0, mr.stdout + mr.stderr);
    expectedRtmrs(boots).forEach((value, i) => assert.match(mr.stdout, new RegExp(`^rtmr${i} +matches ${value}$`, 'm'), `RTMR${i} carries the guest's history:\n${mr.stdout}`));
    return mr.stdout;
  }

  const RUNS: { device: TpmDevice; firmware: Firmware }[] = [
    { device: 'tpm-tis', firmware: 'seabios' },
    { device: 'tpm-crb', firmware: 'seabios' },
    { device: 'tpm-crb', firmware: 'ovmf' },
  ];
  for (const { device, firmware } of RUNS) {
    it(`${device}, ${firmware}: the firmware log and the kernel's IMA list replay to its PCRs (tpm2_eventlog, mrtpm ima replay, evmctl) and RTMR0-2 carry them`, async () => {
      const state = await freshState();
      const guest = await boot(state, device, 'poweroff', firmware);
      const { boots, imaListAtMs } = await guest.waitForBoots(1, BOOT_TIMEOUT);
      const status = await guest.child.exited;
      assert.equal(status.code, 0, `QEMU exits when the guest powers off: ${guest.child.stderr()}`);
      const checked = await checkBoot(boots[0]!, device, imaListAtMs[0]!, `${device}-${firmware}`, firmware);
      console.log(`      ${device}, ${firmware}: ${checked.firmware.length} firmware events, ${checked.ascii.length} IMA entries, list after ${checked.imaListAtMs} ms (guest uptime ${checked.uptime} s), PCR 10 sha384 ${checked.sha384} (${checked.sha384Method})`);
      await tpmEndsWithQemu(state);
      if (KIND !== 'mrtpm') return;
      const report = await expectRtmrs(state, [checked]);
      console.log(report.split('\n').filter((l) => /^rtmr[0-2]/.test(l)).map((l) => `      ${l}`).join('\n'));
    });
  }

  it('tpm-tis: a guest reboot (CMD_INIT), QEMU quitting under a live guest, QEMU killed -9 mid-run: each next boot works', async () => {
    const state = await freshState();
    const checked: CheckedBoot[] = [];

    const first = await boot(state, 'tpm-tis', 'ask');
    let seen = await first.waitForBoots(1, BOOT_TIMEOUT);
    checked.push(await checkBoot(seen.boots[0]!, 'tpm-tis', seen.imaListAtMs[0]!, 'reboot-1'));
    first.send('reboot');
    seen = await first.waitForBoots(2, BOOT_TIMEOUT);
    checked.push(await checkBoot(seen.boots[1]!, 'tpm-tis', seen.imaListAtMs[1]!, 'reboot-2'));
    // QEMU ends under a running guest (SIGTERM: its orderly exit, no guest Shutdown).
    const quit = await first.stop('SIGTERM');
    assert.equal(quit.signal ?? null, null, `QEMU exits on SIGTERM by itself: ${JSON.stringify(quit)}`);
    await tpmEndsWithQemu(state);

    const second = await boot(state, 'tpm-tis', 'ask');
    seen = await second.waitForBoots(1, BOOT_TIMEOUT);
    checked.push(await checkBoot(seen.boots[0]!, 'tpm-tis', seen.imaListAtMs[0]!, 'killed'));
    second.child.process.kill('SIGKILL');
    await second.child.exited;
    // No CMD_SHUTDOWN from a killed QEMU: the TPM keeps serving, and the next QEMU reconnects.
    const survivor = tpms.find((t) => t.stateDir === state && !t.child.hasExited());
    assert.ok(survivor, `${KIND} outlives a QEMU killed with SIGKILL`);
    const started = tpms.length;

    const third = await boot(state, 'tpm-tis', 'poweroff');
    seen = await third.waitForBoots(1, BOOT_TIMEOUT);
    assert.equal((await third.child.exited).code, 0);
    assert.equal(tpms.length, started, 'the boot after the kill ran on the same TPM process');
    await tpmEndsWithQemu(state);
    checked.push(await checkBoot(seen.boots[0]!, 'tpm-tis', seen.imaListAtMs[0]!, 'after-kill'));

    // Every boot is a TPM Reset of the same TPM: Startup(CLEAR) after a reset of the platform.
    const counts = checked.map((c) => c.resetCount);
    assert.deepEqual(counts, counts.map((_, i) => counts[0]! + i), `resetCount per boot: ${counts.join(', ')}`);
    console.log(`      resetCount per boot: ${counts.join(', ')}; IMA entries per boot: ${checked.map((c) => c.ascii.length).join(', ')}`);
    if (KIND !== 'mrtpm') return;
    await expectRtmrs(state, checked);
  });

  it('tpm-tis: live migration to a new TPM process (state blobs out of one, into the other): the running guest keeps its PCRs and IMA list', async () => {
    const source = await freshState();
    const target = await freshState();
    const qmp = path.join(source, 'qmp.sock');
    const first = await boot(source, 'tpm-tis', 'ask', 'seabios', { qmp });
    let seen = await first.waitForBoots(1, BOOT_TIMEOUT);
    const before = await checkBoot(seen.boots[0]!, 'tpm-tis', seen.imaListAtMs[0]!, 'migrate-before');
    const stream = path.join(work, 'migration.bin');
    await first.migrate(stream);
    await first.stop('SIGTERM');
    await tpmEndsWithQemu(source);

    // QEMU on the target sends CMD_SET_STATEBLOB (permanent, volatile) and CMD_INIT before the guest resumes.
    const second = await boot(target, 'tpm-tis', 'ask', 'seabios', { incoming: stream, qmp: path.join(target, 'qmp.sock') });
    await second.running(BOOT_TIMEOUT);
    second.send('dump');
    seen = await second.waitForBoots(1, BOOT_TIMEOUT);
    const after = await checkBoot(seen.boots[0]!, 'tpm-tis', seen.imaListAtMs[0]!, 'migrate-after');
    assert.ok(after.uptime > before.uptime, `the same guest runs on (uptime ${before.uptime} s, then ${after.uptime} s)`);
    assert.deepEqual(after.ascii, before.ascii, 'the IMA list carries over, and the TPM PCR 10 it replays to with it');
    assert.equal(after.sha384, before.sha384);
    assert.equal(after.resetCount, before.resetCount, 'no TPM Reset: the migrated TPM resumed');
    second.send('poweroff');
    assert.equal((await second.child.exited).code, 0, `QEMU exits when the migrated guest powers off: ${second.child.stderr()}`);
    await tpmEndsWithQemu(target);
    console.log(`      migrated after ${before.uptime} s of guest uptime; on the new TPM at ${after.uptime} s: ${after.ascii.length} IMA entries, resetCount ${after.resetCount}`);
  });

  it('tpm-tis: savevm, one more IMA measurement, loadvm: the TPM goes back with the guest (state blobs into the running TPM), RTMR2 does not', async () => {
    const state = await freshState();
    const snapshots = path.join(work, 'snapshots.qcow2');
    const img = await run('qemu-img', ['create', '-f', 'qcow2', snapshots, '64M']);
    assert.equal(img.code, 0, img.stderr);
    const guest = await boot(state, 'tpm-tis', 'ask', 'seabios', { qmp: path.join(state, 'qmp.sock'), snapshots });
    let seen = await guest.waitForBoots(1, BOOT_TIMEOUT);
    const saved = await checkBoot(seen.boots[0]!, 'tpm-tis', seen.imaListAtMs[0]!, 'snapshot-saved');
    assert.equal(await guest.monitor('savevm mrtpm'), '');
    guest.send('measure');
    seen = await guest.waitForBoots(2, BOOT_TIMEOUT);
    const measured = await checkBoot(seen.boots[1]!, 'tpm-tis', seen.imaListAtMs[1]!, 'snapshot-measured');
    assert.deepEqual(measured.ascii.slice(0, -1), saved.ascii);
    assert.match(measured.ascii.at(-1)!, / \/etc\/mrtpm-new $/);
    assert.notEqual(measured.sha384, saved.sha384);

    assert.equal(await guest.monitor('loadvm mrtpm'), '');
    await guest.running(BOOT_TIMEOUT);
    guest.send('dump');
    seen = await guest.waitForBoots(3, BOOT_TIMEOUT);
    const restored = await checkBoot(seen.boots[2]!, 'tpm-tis', seen.imaListAtMs[2]!, 'snapshot-restored');
    assert.deepEqual(restored.ascii, saved.ascii, 'the guest went back to the list it had at savevm');
    assert.equal(restored.sha384, saved.sha384, 'and the TPM to the PCR 10 it had then');
    assert.equal(restored.resetCount, saved.resetCount);
    guest.send('poweroff');
    assert.equal((await guest.child.exited).code, 0);
    await tpmEndsWithQemu(state);
    if (KIND !== 'mrtpm') return;
    // Registers never go back: RTMR2 and the MR log keep the measurement the TPM's PCR 10 lost.
    const report = await expectRtmrs(state, [measured]);
    assert.match(report, new RegExp(`^sha384:10 ${measured.sha384}$`, 'm'), 'the MR log replays PCR 10 as it was before loadvm');
  });
});
