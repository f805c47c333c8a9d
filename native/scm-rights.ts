/**
 * Receiving file descriptors passed with SCM_RIGHTS (unix(7)), which Node's `net` cannot do: QEMU's
 * TPM emulator backend hands swtpm its data channel as one end of a socketpair in the ancillary
 * data of CMD_SET_DATAFD. libuv reads stream sockets with read(2), which drops ancillary data (and
 * the kernel closes the passed fds), so a socket that may carry fds must never be read by libuv:
 * accept it with `pauseOnConnect` and read it only through `RightsReader`, which calls recvmsg(2)
 * by koffi. Writes may still go through the net.Socket: libuv writes only when asked to.
 *
 * The socket's fd comes from `socket._handle.fd`, Node's internal Pipe handle: on Linux it is the
 * accepted unix socket's descriptor (libuv's uv_fileno); there is no public API for it. The fd stays
 * O_NONBLOCK, as libuv set it, so each read waits with poll(2) on a koffi worker thread first.
 */
import type net from 'node:net';
import { PassThrough, type Readable } from 'node:stream';

/** <sys/socket.h>, Linux */
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const MSG_DONTWAIT = 0x40;
const MSG_CTRUNC = 0x08;
const MSG_CMSG_CLOEXEC = 0x40000000;
/** <poll.h> */
const POLLIN = 0x001;
/** <errno.h> */
const EAGAIN = 11;
const EINTR = 4;
/** Room for the ancillary data of one recvmsg: a cmsghdr (16 octets on LP64) and up to 8 fds. */
const CONTROL_SIZE = 64;
const CMSG_HEADER = 16;
/** How long one poll may hold a worker thread, so that close() is noticed. */
const POLL_SLICE_MS = 200;

interface Libc {
  recvmsg(fd: number, msg: MsgHdr, flags: number): number | bigint;
  poll: { async(fds: Buffer, nfds: number, timeout: number, done: (error: unknown, ready: number) => void): void };
  close(fd: number): number;
  errno(): number;
}

interface MsgHdr {
  msg_name: null;
  msg_namelen: number;
  msg_iov: { iov_base: Buffer; iov_len: number }[];
  msg_iovlen: number;
  msg_control: Buffer;
  msg_controllen: number;
  msg_flags: number;
}

let libc: Libc | undefined;
let loading: Promise<Libc> | undefined;

/**
 * Loads libc once. The promise is shared: two connections accepted together would otherwise both
 * declare koffi's structs, and the second declaration throws ("Duplicate type name").
 */
function loadLibc(): Promise<Libc> {
  loading ??= (async () => {
    const { default: koffi } = await import('koffi');
    const lib = koffi.load('libc.so.6');
    koffi.struct('iovec', { iov_base: 'void *', iov_len: 'size_t' });
    koffi.struct('msghdr', {
      msg_name: 'void *', msg_namelen: 'uint32_t', msg_iov: 'iovec *', msg_iovlen: 'size_t',
      msg_control: 'void *', msg_controllen: 'size_t', msg_flags: 'int',
    });
    libc = {
      recvmsg: lib.func('intptr_t recvmsg(int fd, _Inout_ msghdr *msg, int flags)') as Libc['recvmsg'],
      poll: lib.func('int poll(_Inout_ uint8_t *fds, unsigned long nfds, int timeout)') as unknown as Libc['poll'],
      close: lib.func('int close(int fd)') as Libc['close'],
      errno: () => koffi.errno(),
    };
    return libc;
  })();
  return loading;
}

/** What one recvmsg(2) returned: the bytes (none at end of stream) and the fds that came with them. */
export interface RightsMessage {
  bytes: Buffer;
  fds: number[];
}

/** The fd of an accepted unix-socket connection (see the file comment). */
export function socketFd(socket: net.Socket): number {
  const handle = (socket as unknown as { _handle?: { fd?: unknown } })._handle;
  const fd = handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('socket has no file descriptor (not a connected unix socket?)');
  return fd;
}

/** Waits up to `timeoutMs` for `fd` to be readable (or closed by the peer); false on timeout. */
export async function waitReadable(fd: number, timeoutMs: number): Promise<boolean> {
  const c = await loadLibc();
  const pollFd = Buffer.alloc(8);
  pollFd.writeInt32LE(fd, 0);
  pollFd.writeInt16LE(POLLIN, 4);
  const ready = await new Promise<number>((resolve, reject) => {
    c.poll.async(pollFd, 1, timeoutMs, (error, n) => (error ? reject(error) : resolve(n)));
  });
  if (ready < 0 && c.errno() !== EINTR) throw new Error(`poll failed (errno ${c.errno()})`);
  return ready > 0;
}

/**
 * One recvmsg(2) of at most `maxBytes` on the non-blocking `fd`; undefined if nothing is there.
 * Passed fds are close-on-exec and owned by the caller. Must be loaded (a waitReadable first).
 */
export function receiveNow(fd: number, maxBytes: number): RightsMessage | undefined {
  if (!libc) throw new Error('libc not loaded: call waitReadable first');
  const c = libc;
  const data = Buffer.alloc(maxBytes);
  const control = Buffer.alloc(CONTROL_SIZE);
  const msg: MsgHdr = {
    msg_name: null, msg_namelen: 0, msg_iov: [{ iov_base: data, iov_len: data.length }], msg_iovlen: 1,
    msg_control: control, msg_controllen: control.length, msg_flags: 0,
  };
  const n = Number(c.recvmsg(fd, msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC));
  if (n < 0) {
    const errno = c.errno();
    if (errno === EAGAIN || errno === EINTR) return undefined;
    throw new Error(`recvmsg failed (errno ${errno})`);
  }
  const fds = rightsIn(control.subarray(0, msg.msg_controllen));
  if (msg.msg_flags & MSG_CTRUNC) {
    // Fds beyond our buffer were closed by the kernel; say so rather than pretend all arrived.
    for (const passed of fds) c.close(passed);
    throw new Error('recvmsg: ancillary data truncated (more fds than expected)');
  }
  return { bytes: data.subarray(0, n), fds };
}

/** waitReadable, then receiveNow: undefined when nothing came within `timeoutMs`. */
export async function receiveWithRights(fd: number, maxBytes: number, timeoutMs: number): Promise<RightsMessage | undefined> {
  return (await waitReadable(fd, timeoutMs)) ? receiveNow(fd, maxBytes) : undefined;
}

/** The fds of the SCM_RIGHTS messages in a control buffer (CMSG_FIRSTHDR/CMSG_NXTHDR on LP64). */
function rightsIn(control: Buffer): number[] {
  const fds: number[] = [];
  for (let at = 0; at + CMSG_HEADER <= control.length;) {
    const length = Number(control.readBigUInt64LE(at));
    if (length < CMSG_HEADER || at + length > control.length) break;
    if (control.readInt32LE(at + 8) === SOL_SOCKET && control.readInt32LE(at + 12) === SCM_RIGHTS) {
      for (let p = at + CMSG_HEADER; p + 4 <= at + length; p += 4) fds.push(control.readInt32LE(p));
    }
    at += (length + 7) & ~7;
  }
  return fds;
}

/** Closes an fd this process received and will not use. */
export async function closeFd(fd: number): Promise<void> {
  (await loadLibc()).close(fd);
}

/**
 * A unix-socket connection read only by recvmsg(2): its bytes as a Readable, its passed fds in a
 * queue. The socket must have been accepted paused (`pauseOnConnect`) and never resumed.
 */
export class RightsReader {
  /** The connection's bytes, in order; ends at end of stream, errors if recvmsg fails. */
  readonly readable: Readable = new PassThrough();
  private readonly fds: number[] = [];
  private stopped = false;

  constructor(private readonly socket: net.Socket, private readonly maxRead = 64 * 1024) {
    void this.pump(socketFd(socket));
  }

  /** The oldest passed fd not yet taken; the caller owns it. */
  takeFd(): number | undefined {
    return this.fds.shift();
  }

  /** Stops reading and closes the fds nobody took. */
  close(): void {
    this.stopped = true;
    for (const fd of this.fds.splice(0)) void closeFd(fd);
  }

  private async pump(fd: number): Promise<void> {
    const out = this.readable as PassThrough;
    try {
      while (!this.stopped && !this.socket.destroyed) {
        if (!(await waitReadable(fd, POLL_SLICE_MS))) continue;
        // The fd number may have been closed and reused meanwhile: recvmsg only on a live socket,
        // checked synchronously right before the call.
        if (this.stopped || this.socket.destroyed) break;
        const message = receiveNow(fd, this.maxRead);
        if (!message) continue;
        this.fds.push(...message.fds);
        if (message.bytes.length === 0) break;
        out.write(message.bytes);
      }
      out.end();
    } catch (error) {
      out.destroy(error as Error);
    }
  }
}
