/**
 * A configfs-tsm report entry laid out like the kernel's (provider, generation, inblob, outblob),
 * with an in-test "kernel" behind it: outblob is a FIFO, so a read of it blocks until the kernel
 * answers, as the real outblob makes the report when it is read. The kernel takes each inblob
 * write (it empties the file to see the next one), counts it in generation, and writes the
 * evidence for it into outblob. `racers` makes another writer's inblob land after ours that many
 * times: generation moves by 2 and outblob carries the other writer's report.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants, mkdirSync, writeFileSync } from 'node:fs';
import { open, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface FakeTsmOptions {
  readonly provider: string;
  /** The provider's evidence for an inblob. */
  readonly evidence: (inblob: Uint8Array) => Uint8Array | Promise<Uint8Array>;
  readonly racers?: number;
}

export class FakeTsmKernel {
  /** inblob writes the kernel answered (ours and the racers'). */
  requests = 0;
  private racers: number;
  private stopped = false;
  private readonly loop: Promise<void>;

  constructor(readonly dir: string, private readonly options: FakeTsmOptions) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'provider'), `${options.provider}\n`);
    writeFileSync(join(dir, 'generation'), '0\n');
    writeFileSync(join(dir, 'inblob'), '');
    execFileSync('mkfifo', [join(dir, 'outblob')]);
    this.racers = options.racers ?? 0;
    this.loop = this.serve();
  }

  private async serve(): Promise<void> {
    const inblob = join(this.dir, 'inblob');
    while (!this.stopped) {
      if ((await stat(inblob)).size === 0) {
        await sleep(1);
        continue;
      }
      const data = new Uint8Array(await readFile(inblob));
      await truncate(inblob, 0);
      this.requests++;
      let generation = Number(await readFile(join(this.dir, 'generation'), 'latin1')) + 1;
      let answered = data;
      if (this.racers > 0) {
        this.racers--;
        this.requests++;
        generation++;
        answered = randomBytes(data.length);
      }
      await writeFile(join(this.dir, 'generation'), `${generation}\n`);
      const evidence = await this.options.evidence(answered);
      // Blocks until the reader opens outblob; stop() opens it too, so a test never hangs here.
      const out = await open(join(this.dir, 'outblob'), 'w');
      try {
        await out.write(evidence);
      } finally {
        await out.close();
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const release = await open(join(this.dir, 'outblob'), constants.O_RDONLY | constants.O_NONBLOCK);
    await this.loop;
    await release.close();
  }
}
