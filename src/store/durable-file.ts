import { closeSync, fsyncSync, openSync, readFileSync, rmSync, constants } from 'node:fs';
import { dirname } from 'node:path';
import writeFileAtomic from 'write-file-atomic';

/**
 * Atomically replaces `path` with `data`, mode 0600: write-file-atomic writes a temp file in the
 * same directory, fsyncs it and renames it over `path`; the directory fsync that follows makes
 * the rename itself survive a crash.
 */
export function writeDurable(path: string, data: Uint8Array | string): void {
  writeFileAtomic.sync(path, typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength), {
    mode: 0o600,
    fsync: true,
  });
  fsyncDirectory(dirname(path));
}

export function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function readIfExists(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Removes `path` if present and fsyncs its directory so the removal is durable too. */
export function removeIfExists(path: string): void {
  let existed = true;
  try {
    rmSync(path);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    existed = false;
  }
  if (existed) fsyncDirectory(dirname(path));
}

function isNotFound(err: unknown): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === 'ENOENT';
}
