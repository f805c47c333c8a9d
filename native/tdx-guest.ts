/**
 * /dev/tdx_guest's TDX_CMD_GET_REPORT0 (Linux uapi tdx-guest.h): TDG.MR.REPORT through an ioctl,
 * which Node cannot issue, so through libc by koffi. struct tdx_report_req is REPORTDATA (64
 * octets) followed by the TDREPORT (1024 octets) the kernel fills in. The fallback for kernels
 * without configfs-tsm; a TDREPORT's MAC is checkable only by the TDX module (docs/mr-backends.md).
 */
import { closeSync, openSync } from 'node:fs';

export const TDX_GUEST_DEVICE = '/dev/tdx_guest';
/** _IOWR('T', 1, struct tdx_report_req): the request number the uapi header computes. */
export const TDX_CMD_GET_REPORT0 = 0xc4405401;
const REPORT_DATA_LEN = 64;
const TDREPORT_LEN = 1024;

type Ioctl = (fd: number, request: number, arg: Buffer) => number;
let ioctl: { call: Ioctl; errno: () => number } | undefined;

async function libcIoctl(): Promise<{ call: Ioctl; errno: () => number }> {
  if (!ioctl) {
    const { default: koffi } = await import('koffi');
    const libc = koffi.load('libc.so.6');
    const call = libc.func('int ioctl(int fd, unsigned long request, _Inout_ uint8_t *arg)') as Ioctl;
    ioctl = { call, errno: () => koffi.errno() };
  }
  return ioctl;
}

/** The TDREPORT binding `reportData` (64 octets) from `device`. */
export async function tdxGuestReport(reportData: Uint8Array, device = TDX_GUEST_DEVICE): Promise<Uint8Array> {
  if (reportData.length !== REPORT_DATA_LEN) throw new RangeError(`report data must be ${REPORT_DATA_LEN} octets`);
  let fd: number;
  try {
    fd = openSync(device, 'r+');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`${device}: ${code === 'ENOENT' ? 'no such device (not a TDX guest, or the tdx_guest driver is not loaded)' : code}`);
  }
  try {
    const { call, errno } = await libcIoctl();
    const request = Buffer.alloc(REPORT_DATA_LEN + TDREPORT_LEN);
    request.set(reportData, 0);
    if (call(fd, TDX_CMD_GET_REPORT0, request) !== 0) throw new Error(`${device}: TDX_CMD_GET_REPORT0 failed (errno ${errno()})`);
    return new Uint8Array(request.subarray(REPORT_DATA_LEN));
  } finally {
    closeSync(fd);
  }
}
