/** `mrtpm serve` and `mrtpm stdio`: run the TPM behind a transport until told to stop. */
import { createLogger } from '../server/logger.js';
import { MssimServer } from '../server/mssim-server.js';
import { SwtpmServer } from '../server/swtpm-server.js';
import { StdioServer } from '../server/stdio-server.js';
import { EngineDevice } from './engine-device.js';
import type { TpmOptions } from './options.js';
import { TPM_IDENTITY } from '../tpm/capability/properties.js';

export interface ServeOptions extends TpmOptions {
  protocol: 'mssim' | 'swtpm';
  bind: string;
  port: number;
  ctrlPort?: number;
  unix?: string;
}

interface Running {
  close(): Promise<void>;
}

/** Runs until SIGTERM/SIGINT (or the transport's own stop), then exits orderly. */
function runUntilStopped(device: EngineDevice, server: Running, logger: ReturnType<typeof createLogger>): (why: string) => void {
  let stopping = false;
  const stop = (why: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping', { why });
    server.close()
      .catch((e: unknown) => logger.error('closing transport failed', { error: e }))
      .finally(() => {
        device.close();
        process.exit(0);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => stop('SIGHUP'));
  return stop;
}

export async function serve(o: ServeOptions): Promise<void> {
  const logger = createLogger({ level: o.logLevel });
  const device = new EngineDevice({ stateDir: o.state, pcrBanks: o.pcrBanks, reset: o.reset, trace: o.trace, logger });
  let stop: (why: string) => void = () => undefined;
  const onStop = (): void => stop('transport stop');
  const server = o.protocol === 'swtpm'
    ? new SwtpmServer({
      device, logger, onStop,
      endpoint: o.unix ? { path: o.unix } : { host: o.bind, port: o.port, ctrlPort: o.ctrlPort },
      info: TPM_IDENTITY,
      onStoreVolatile: () => device.saveVolatile(),
    })
    : new MssimServer({ device, logger, onStop, endpoint: o.unix ? { path: o.unix } : { host: o.bind, port: o.port } });
  stop = runUntilStopped(device, server, logger);
  try {
    const addresses = await server.start();
    logger.info('listening', { protocol: o.protocol, addresses, state: o.state });
  } catch (e) {
    logger.error('cannot listen', { error: e });
    device.close();
    process.exit(1);
  }
}

export async function stdio(o: TpmOptions): Promise<void> {
  const logger = createLogger({ level: o.logLevel });
  const device = new EngineDevice({ stateDir: o.state, pcrBanks: o.pcrBanks, reset: o.reset, trace: o.trace, logger });
  const server = new StdioServer({
    device, logger, input: process.stdin, output: process.stdout,
    onEnd: (reason) => stop(`stdin ${reason}`),
  });
  const stop = runUntilStopped(device, server, logger);
  await server.start();
}
