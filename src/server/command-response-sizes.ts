import { headerCode } from './wire.js';

/**
 * The statistics behind mssim TPM_GET_COMMAND_RESPONSE_SIZES: the largest command and response
 * seen since the last report, with their command/response codes.
 *
 * The Microsoft simulator copies its struct raw from host memory (sizes native-endian, codes as
 * the wire bytes). We write all four fields big-endian like every other field of the protocol;
 * the codes come out as the same bytes the simulator sends, and the sizes are what a big-endian
 * host would send.
 */
export class CommandResponseSizes {
  private largestCommandSize = 0;
  private largestCommand = 0;
  private largestResponseSize = 0;
  private largestResponse = 0;

  record(command: Uint8Array, response: Uint8Array): void {
    if (command.length > this.largestCommandSize) {
      this.largestCommandSize = command.length;
      this.largestCommand = headerCode(command);
    }
    if (response.length > this.largestResponseSize) {
      this.largestResponseSize = response.length;
      this.largestResponse = headerCode(response);
    }
  }

  /** The 16-byte report; the counters start over, as in the simulator. */
  takeReport(): Buffer {
    const report = Buffer.alloc(16);
    report.writeUInt32BE(this.largestCommandSize, 0);
    report.writeUInt32BE(this.largestCommand, 4);
    report.writeUInt32BE(this.largestResponseSize, 8);
    report.writeUInt32BE(this.largestResponse, 12);
    this.largestCommandSize = this.largestCommand = this.largestResponseSize = this.largestResponse = 0;
    return report;
  }
}
