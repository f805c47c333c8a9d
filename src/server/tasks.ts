import type { Logger } from './logger.js';

/**
 * The running connection loops of a server, so close() can wait until every loop has finished
 * its cleanup (closing resource-manager clients) before it resolves.
 */
export class Tasks {
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly logger: Logger) {}

  run(name: string, task: () => Promise<void>): void {
    const promise = task()
      .catch((error: unknown) => this.logger.error(`${name} failed`, { error }))
      .finally(() => this.running.delete(promise));
    this.running.add(promise);
  }

  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
  }
}
