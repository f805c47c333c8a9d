import { timingSafeEqual as nodeTimingSafeEqual } from 'node:crypto';

/** Constant-time comparison of secrets of possibly different lengths (the length is not secret; two empty ones need no call). */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && (a.length === 0 || nodeTimingSafeEqual(a, b));
}
