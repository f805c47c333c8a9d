/**
 * Hardware reports through the kernel's configfs-tsm ABI (Documentation/ABI/testing/configfs-tsm-report):
 * an entry /sys/kernel/config/tsm/report/<name>/ is made with mkdir; writing `inblob` asks for a
 * report, reading `outblob` makes it (TDX: a quote, CCA: a CCA token), `provider` names the
 * driver and `generation` counts the writes to the entry. Another writer to the same entry between
 * our inblob and outblob would hand us a report of its data: the ABI's remedy is to read
 * `generation` before and after and to expect exactly our one write, retrying otherwise.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { requireReportData, type HardwareReport, type HardwareReportFormat, type HardwareReportSource } from './hardware-report.js';
import { readHardwareReport } from './hardware-report-formats.js';
import { MrError, mrErrorOf } from './mr-backend.js';

export const CONFIGFS_TSM_REPORT_ROOT = '/sys/kernel/config/tsm/report';
/** Tries before a report that keeps racing with another writer is given up (EBUSY). */
const DEFAULT_ATTEMPTS = 3;

export interface ConfigfsTsmOptions {
  /** Where the report entries are (default /sys/kernel/config/tsm/report). */
  readonly root?: string;
  /** A fixed entry, made if missing and kept; default: an entry of this process's own, removed by close(). */
  readonly entry?: string;
  readonly attempts?: number;
}

export interface ConfigfsTsmSource extends HardwareReportSource {
  /** The entry's directory; close() removes it if this source made it. */
  readonly dir: string;
}

/** What each provider's outblob holds; other providers' evidence is kept unparsed. */
const PROVIDER_FORMATS: Readonly<Record<string, HardwareReportFormat>> = {
  tdx_guest: 'tdx-quote',
  arm_cca_guest: 'cca-token',
};

async function attempt<T>(file: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw mrErrorOf(err, file);
  }
}

const readText = (file: string): Promise<string> => attempt(file, async () => (await readFile(file, 'latin1')).trim());

async function readGeneration(dir: string): Promise<number> {
  const file = join(dir, 'generation');
  const text = await readText(file);
  if (!/^\d+$/.test(text)) throw new MrError('EIO', `${file}: "${text}" is not a generation count`);
  return Number(text);
}

export async function openConfigfsTsm(options: ConfigfsTsmOptions = {}): Promise<ConfigfsTsmSource> {
  const root = options.root ?? CONFIGFS_TSM_REPORT_ROOT;
  const attempts = options.attempts ?? DEFAULT_ATTEMPTS;
  const own = options.entry === undefined;
  const dir = join(root, options.entry ?? `mrtpm-${process.pid}-${randomBytes(4).toString('hex')}`);
  // mkdir fails with ENXIO when no TSM provider (tdx_guest, arm_cca_guest, sev_guest) is loaded.
  await attempt(dir, () => mkdir(dir, { recursive: !own }));
  const remove = (): Promise<void> => (own ? attempt(dir, () => rmdir(dir)) : Promise.resolve());
  const provider = await readText(join(dir, 'provider')).catch(async (err: unknown) => {
    await remove().catch(() => undefined); // the provider error is the one to report
    throw err;
  });
  const format = PROVIDER_FORMATS[provider] ?? 'opaque';

  return {
    provider,
    dir,
    async report(reportData: Uint8Array): Promise<HardwareReport> {
      requireReportData(reportData);
      const moves: number[] = [];
      for (let i = 0; i < attempts; i++) {
        const before = await readGeneration(dir);
        await attempt(join(dir, 'inblob'), () => writeFile(join(dir, 'inblob'), reportData));
        const raw = await attempt(join(dir, 'outblob'), () => readFile(join(dir, 'outblob')));
        const moved = (await readGeneration(dir)) - before;
        if (moved === 1) return readHardwareReport(provider, format, new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength));
        moves.push(moved);
      }
      throw new MrError('EBUSY', `${dir}: another writer raced for the report entry on each of ${attempts} tries (generation moved by ${moves.join(', ')} instead of 1)`);
    },
    close: remove,
  };
}
