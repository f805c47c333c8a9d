/** `mrtpm serve` and `mrtpm stdio`: run the TPM behind a transport until told to stop. */
import { createLogger } from '../server/logger.js';
import { MssimServer } from '../server/mssim-server.js';
import { SwtpmServer, type SwtpmServerOptions } from '../server/swtpm-server.js';
import { StdioServer } from '../server/stdio-server.js';
import { EngineDevice } from './engine-device.js';
import type { TpmOptions } from './options.js';
import type { MrOptions } from './mr-options.js';
import { controlSocketPath, openMr, type MrSetup } from './mr-setup.js';
import { MrControlServer } from '../server/mr-control.js';
import type { Logger } from '../server/logger.js';
import { TPM_IDENTITY } from '../tpm/capability/properties.js';
import { RightsReader } from '../../native/scm-rights.js';

export type RunOptions = TpmOptions & MrOptions;

export interface ServeOptions extends RunOptions {
  protocol: 'mssim' | 'swtpm';
  bind: string;
  port: number;
  ctrlPort?: number;
  unix?: string;
  /** swtpm control socket only; the data channel comes by CMD_SET_DATAFD. */
  ctrlUnix?: string;
  /** --protocol swtpm --ctrl-unix PATH */
  qemu?: string;
}

interface Running {
  close(): Promise<void>;
}

/** Runs until SIGTERM/SIGINT (or the transport's own stop), then exits orderly. */
function runUntilStopped(device: EngineDevice, mr: MrSetup | undefined, server: Running, logger: Logger): (why: string) => void {
  let stopping = false;
  const stop = (why: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping', { why });
    server.close()
      .catch((e: unknown) => logger.error('closing transport failed', { error: e }))
      .finally(() => {
        device.close();
        mr?.close();
        process.exit(0);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => stop('SIGHUP'));
  return stop;
}

/** The TPM with its mirror; exits with a message if either cannot be opened (registers, a locked state). */
async function openDevice(o: RunOptions, logger: Logger): Promise<{ device: EngineDevice; mr: MrSetup | undefined }> {
  let mr: MrSetup | undefined;
  try {
    mr = openMr(o, logger);
    const device = await EngineDevice.open({
      stateDir: o.state, pcrBanks: o.pcrBanks, reset: o.reset, trace: o.trace, logger, ...(mr && { pcrObserver: mr.mirror }),
    });
    return { device, mr };
  } catch (e) {
    mr?.close();
    logger.error('cannot start', { error: e });
    process.exit(1);
  }
}

/** `mrtpm mr extend` while this vTPM runs: the operator's extend goes through its mirror. */
async function listenForOperators(o: ServeOptions, mr: MrSetup, logger: Logger): Promise<MrControlServer | undefined> {
  const control = new MrControlServer({
    extend: (register, digest) => {
      mr.mirror.operatorExtend(register, digest);
      return mr.backend.read(register);
    },
  }, logger);
  try {
    await control.listen(controlSocketPath(o));
    return control;
  } catch (e) {
    // The vTPM serves without it; `mr extend` then has to wait until it stops.
    logger.warn('no operator socket for `mrtpm mr extend`', { path: controlSocketPath(o), error: e });
    return undefined;
  }
}

/** Where the swtpm server listens: a control socket alone (QEMU), a unix pair, or TCP. */
function swtpmEndpoint(o: ServeOptions): SwtpmServerOptions['endpoint'] {
  const ctrlOnly = o.qemu ?? o.ctrlUnix;
  if (ctrlOnly !== undefined) return { ctrlOnly };
  return o.unix ? { path: o.unix } : { host: o.bind, port: o.port, ctrlPort: o.ctrlPort };
}

export async function serve(o: ServeOptions): Promise<void> {
  const logger = createLogger({ level: o.logLevel });
  if (o.qemu !== undefined) o.protocol = 'swtpm';
  if (o.ctrlUnix !== undefined && o.protocol !== 'swtpm') {
    logger.error('--ctrl-unix needs --protocol swtpm');
    process.exit(2);
  }
  const { device, mr } = await openDevice(o, logger);
  const endpoint = o.protocol === 'swtpm' ? swtpmEndpoint(o) : undefined;
  // QEMU's way: like swtpm without --flags not-need-init, the TPM runs from CMD_INIT on (a fresh
  // boot, or the state blobs of an incoming migration); nothing of the last run resumes by itself.
  if (endpoint && 'ctrlOnly' in endpoint) device.signal('powerOff');
  let stop: (why: string) => void = () => undefined;
  const onStop = (): void => stop('transport stop');
  const server = endpoint
    ? new SwtpmServer({
      device, logger, onStop, endpoint,
      // Unix control sockets are read by recvmsg, so that QEMU's CMD_SET_DATAFD fd arrives.
      passedFds: (socket) => new RightsReader(socket),
      info: TPM_IDENTITY,
      onStoreVolatile: () => device.saveVolatile(),
    })
    : new MssimServer({ device, logger, onStop, endpoint: o.unix ? { path: o.unix } : { host: o.bind, port: o.port } });
  let control: MrControlServer | undefined;
  const transports: Running = { close: async () => { await Promise.all([server.close(), control?.close()]); } };
  stop = runUntilStopped(device, mr, transports, logger);
  try {
    // Operators' socket first: once the TPM port accepts, `mr extend` reaches this vTPM too.
    if (mr) control = await listenForOperators(o, mr, logger);
    const addresses = await server.start();
    logger.info('listening', { protocol: o.protocol, addresses, state: o.state });
  } catch (e) {
    logger.error('cannot listen', { error: e });
    await control?.close();
    device.close();
    mr?.close();
    process.exit(1);
  }
}

export async function stdio(o: RunOptions): Promise<void> {
  const logger = createLogger({ level: o.logLevel });
  const { device, mr } = await openDevice(o, logger);
  const server = new StdioServer({
    device, logger, input: process.stdin, output: process.stdout,
    onEnd: (reason) => stop(`stdin ${reason}`),
  });
  const stop = runUntilStopped(device, mr, server, logger);
  await server.start();
}
