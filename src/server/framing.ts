/**
 * How a length-prefixed protocol cuts frames off the bytes received so far. A parser looks at
 * everything buffered, consumes nothing, and answers either with the first frame and its length
 * on the wire, or with how many bytes must be buffered before it can tell. Parsers are synchronous,
 * so one set of framing rules serves a frame that arrived whole (answered inside the socket's
 * 'data' callback) and one that arrives piecemeal.
 */
export type Parsed<F> = { frame: F; length: number } | { need: number };

export type FrameParser<F> = (bytes: Buffer) => Parsed<F>;

/** A frame whose length field is out of range; the connection (session) is closed on it. */
export interface BadLength {
  badLength: number;
}

/** A bad length is known from the length field alone: no need to wait for the body. */
export function badLength(length: number): Parsed<BadLength> {
  return { frame: { badLength: length }, length: 0 };
}

/**
 * The frame made of `head` bytes and a `size`-byte body, once all of it is buffered; `frame` builds
 * the protocol's frame from the body (a view into the received bytes, not a copy).
 */
export function withBody<F>(bytes: Buffer, head: number, size: number, frame: (body: Buffer) => F): Parsed<F> {
  const length = head + size;
  return bytes.length < length ? { need: length } : { frame: frame(bytes.subarray(head, length)), length };
}
