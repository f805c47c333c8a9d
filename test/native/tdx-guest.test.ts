/**
 * /dev/tdx_guest through koffi: no TDX guest here, so what is tested is the FFI boundary itself
 * (libc's ioctl is reached and its errno reported, on a device that is not tdx_guest) and the
 * error for an absent device; the TDREPORT the ioctl returns is parsed by the tests of tdreport.ts.
 */
import assert from 'node:assert/strict';
import { TDX_CMD_GET_REPORT0, tdxGuestReport } from '../../native/tdx-guest.js';

describe('native/tdx-guest: TDX_CMD_GET_REPORT0', () => {
  it('is the request number of _IOWR(\'T\', 1, struct tdx_report_req) (64 + 1024 octets)', () => {
    const IOC_WRITE_READ = 3;
    const expected = ((IOC_WRITE_READ << 30) | ((64 + 1024) << 16) | ('T'.charCodeAt(0) << 8) | 1) >>> 0;
    assert.equal(TDX_CMD_GET_REPORT0, expected);
  });

  it('an absent device is a clear error; a device that is not tdx_guest fails in the ioctl with its errno (ENOTTY 25)', async () => {
    await assert.rejects(tdxGuestReport(new Uint8Array(64), '/dev/no-such-tdx-guest'), /no such device/);
    await assert.rejects(tdxGuestReport(new Uint8Array(64), '/dev/null'), /TDX_CMD_GET_REPORT0 failed \(errno 25\)/);
    await assert.rejects(tdxGuestReport(new Uint8Array(63)), RangeError);
  });
});
