/**
 * A cpio archive in the "newc" format (the kernel's initramfs format, Documentation/
 * driver-api/early-userspace/buffer-format.rst): per entry a 110-byte ASCII header of "070701"
 * and 13 eight-digit hex fields, the NUL-terminated name, the data; name and data each padded
 * to 4 bytes; a "TRAILER!!!" entry ends it.
 */
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

export type CpioEntry =
  | { kind: 'dir'; path: string; mode?: number }
  | { kind: 'file'; path: string; data: Uint8Array | string; mode?: number }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'chardev'; path: string; major: number; minor: number; mode?: number };

const hex8 = (n: number): string => n.toString(16).padStart(8, '0');
const pad4 = (n: number): Buffer => Buffer.alloc((4 - (n % 4)) % 4);

function modeAndData(e: CpioEntry): { mode: number; data: Buffer; rdev: [number, number] } {
  switch (e.kind) {
    case 'dir': return { mode: S_IFDIR | (e.mode ?? 0o755), data: Buffer.alloc(0), rdev: [0, 0] };
    case 'file': return { mode: S_IFREG | (e.mode ?? 0o644), data: Buffer.from(e.data), rdev: [0, 0] };
    case 'symlink': return { mode: S_IFLNK | 0o777, data: Buffer.from(e.target), rdev: [0, 0] };
    case 'chardev': return { mode: S_IFCHR | (e.mode ?? 0o600), data: Buffer.alloc(0), rdev: [e.major, e.minor] };
  }
}

function record(ino: number, name: string, mode: number, data: Buffer, rdev: [number, number], nlink: number): Buffer {
  const nameBytes = Buffer.from(`${name}\0`);
  // ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check
  const fields = [ino, mode, 0, 0, nlink, 0, data.length, 0, 0, rdev[0], rdev[1], nameBytes.length, 0];
  const header = Buffer.from(`070701${fields.map(hex8).join('')}`, 'ascii');
  return Buffer.concat([header, nameBytes, pad4(header.length + nameBytes.length), data, pad4(data.length)]);
}

/** The archive of `entries`, in order (a directory must come before what it holds). */
export function cpioNewc(entries: CpioEntry[]): Buffer {
  const parts = entries.map((e, i) => {
    const { mode, data, rdev } = modeAndData(e);
    return record(i + 1, e.path.replace(/^\/+/, ''), mode, data, rdev, e.kind === 'dir' ? 2 : 1);
  });
  parts.push(record(0, 'TRAILER!!!', 0, Buffer.alloc(0), [0, 0], 1));
  return Buffer.concat(parts);
}
