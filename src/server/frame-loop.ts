import type { Duplex } from 'node:stream';
import { ByteReader } from './byte-reader.js';
import type { FrameParser } from './framing.js';

/** What a frame's handler asks of its connection: a reply to write (if any), then go on or end. */
export interface Outcome {
  reply?: Uint8Array;
  next: 'continue' | 'close' | 'abort' | 'stop';
}

/** Why a loop ended: the outcome that ended it, or the stream's end between frames or inside one. */
export type LoopEnd = Exclude<Outcome['next'], 'continue'> | 'eof' | 'truncated';

/**
 * Serves a framed protocol on one connection, frame after frame. Frames are cut from what has
 * arrived and handled synchronously inside the socket's 'data' callback: a command that arrived
 * whole is executed and its reply written before control returns to the event loop, with no
 * promise or microtask per command (a TPM client waits for every reply, so the time from read to
 * write is the round trip). A frame that is still incomplete just waits for the next chunk.
 *
 * A new frame is only handled once the previous reply has been handed to the kernel, so a peer
 * that never reads cannot grow our memory; meanwhile the reader buffers (and pauses the socket at
 * its high-water mark).
 */
export class FrameLoop<F> {
  readonly reader: ByteReader;
  /** Resolves when the loop is over; rejects with what a handler threw. */
  readonly ended: Promise<LoopEnd>;
  private settle!: (end: LoopEnd) => void;
  private fail!: (error: unknown) => void;
  private done = false;
  /** A reply is still queued in the socket; frames wait until it is written. */
  private writing = false;

  constructor(
    private readonly socket: Duplex,
    private readonly parse: FrameParser<F>,
    private readonly handle: (frame: F) => Outcome,
  ) {
    this.ended = new Promise((resolve, reject) => {
      this.settle = resolve;
      this.fail = reject;
    });
    this.reader = new ByteReader(socket, undefined, () => this.pump());
  }

  private pump(): void {
    if (this.done) return;
    if (this.writing) {
      if (this.socket.writableLength > 0 && !this.socket.destroyed) return;
      this.writing = false;
    }
    try {
      for (;;) {
        const frame = this.reader.frame(this.parse);
        if (frame === undefined) {
          if (this.reader.ended) this.end(this.reader.buffered > 0 ? 'truncated' : 'eof');
          return;
        }
        const { reply, next } = this.handle(frame);
        // Like writeAll(): a peer that has gone gets no reply, but its command has run.
        if (reply && !this.socket.destroyed && !this.socket.writableEnded) this.socket.write(reply, this.written);
        if (next !== 'continue') return this.end(next);
        if (this.socket.writableLength > 0) {
          this.writing = true;
          return;
        }
      }
    } catch (error) {
      this.done = true;
      this.fail(error);
    }
  }

  /** Write callback (also for replies the kernel took at once); resumes a loop that waited. */
  private readonly written = (): void => {
    if (this.writing) this.pump();
  };

  private end(why: LoopEnd): void {
    this.done = true;
    this.settle(why);
  }
}
