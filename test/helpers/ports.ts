import net from 'node:net';

export const LOOPBACK = '127.0.0.1';

function listenOn(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ port, host: LOOPBACK, exclusive: true }, () => resolve(server));
  });
}

function close(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A free ephemeral port on 127.0.0.1 (the OS picks it). */
export async function findFreePort(): Promise<number> {
  const server = await listenOn(0);
  const port = (server.address() as net.AddressInfo).port;
  await close(server);
  return port;
}

/**
 * A port P such that P and P+1 are both free on 127.0.0.1: the simulator protocols put the
 * platform/control channel on P+1. Retries because the OS picks P without regard for P+1.
 */
export async function findFreePortPair(attempts = 50): Promise<number> {
  for (let i = 0; i < attempts; i++) {
    const first = await listenOn(0);
    const port = (first.address() as net.AddressInfo).port;
    if (port >= 65535) {
      await close(first);
      continue;
    }
    try {
      const second = await listenOn(port + 1);
      await close(second);
      await close(first);
      return port;
    } catch {
      await close(first);
    }
  }
  throw new Error(`no free port pair found on ${LOOPBACK} after ${attempts} attempts`);
}
