/** Options that choose and locate the measurement registers, shared by `serve`, `stdio` and `mr`. */
import { Command, Option, InvalidArgumentError } from 'commander';
import { hashByName } from '../tpm/spec/hash-algs.js';
import { isHexBytes } from '../tpm/crypto/bytes.js';

export const MR_BACKENDS = ['tdx-sim', 'cca-sim', 'tsm-mr', 'none'] as const;
export type MrBackendName = (typeof MR_BACKENDS)[number];

export interface MrOptions {
  state: string;
  mr: MrBackendName;
  mrReset: boolean;
  mrRegisters?: string;
  mrInit: Record<string, Uint8Array>;
  mrHash?: number;
  mrLog?: string;
  mrMap?: string;
  mrSysfsRoot?: string;
  ccel?: string;
}

export function parseHex(value: string): Uint8Array {
  const hex = value.trim().replace(/^0x/i, '');
  if (!isHexBytes(hex)) throw new InvalidArgumentError(`"${value}" is not hex bytes`);
  return Buffer.from(hex, 'hex');
}

function parseInit(value: string, previous: Record<string, Uint8Array>): Record<string, Uint8Array> {
  const init = { ...previous };
  for (const entry of value.split(',').filter((e) => e !== '')) {
    const [name, hex] = entry.split('=');
    if (!name || hex === undefined) throw new InvalidArgumentError(`"${entry}" is not <register>=<hex>`);
    init[name.trim().toLowerCase()] = parseHex(hex);
  }
  return init;
}

function parseRealmHash(value: string): number {
  const info = hashByName(value);
  if (!info || info.digestSize < 32) throw new InvalidArgumentError('one of sha256, sha384, sha512');
  return info.alg;
}

export function addMrOptions(cmd: Command, defaultBackend: MrBackendName = 'tdx-sim'): Command {
  return cmd
    .addOption(new Option('--mr <backend>', 'measurement registers the PCRs are mirrored into').choices(MR_BACKENDS).default(defaultBackend))
    .addOption(new Option('--mr-reset', 'simulators: a TD/realm reboot - registers back to their creation values, new MR log').default(false))
    .addOption(new Option('--mr-registers <file>', 'simulators: the register file (default: <state>/<backend>.registers; not part of the TPM state, --reset keeps it)'))
    .addOption(new Option('--mr-init <list>', 'simulators, at creation: read-only register values, e.g. mrtd=<hex>,mrconfigid=<hex> (tdx) or rim=<hex> (cca)')
      .argParser(parseInit).default({}, 'zeros'))
    .addOption(new Option('--mr-hash <alg>', 'cca-sim, at creation: the realm hash, sha256, sha384 or sha512').argParser(parseRealmHash))
    .addOption(new Option('--mr-log <dir>', 'MR event log directory (default: <state>/<backend>.log for the simulators, next to their register file; /run/mrtpm for tsm-mr)'))
    .addOption(new Option('--mr-map <map>', 'PCR->register overrides of the UEFI map, e.g. 10:rtmr3,16-23:rtmr3 (none = not mirrored)'))
    .addOption(new Option('--mr-sysfs-root <dir>', 'tsm-mr: where the misc devices are (default: /sys/class/misc)'))
    .addOption(new Option('--ccel <file>', 'the firmware\'s CC event log (default: /sys/firmware/acpi/tables/data/CCEL when present)'));
}
