import { timingSafeEqual as nodeTimingSafeEqual } from 'node:crypto';

/** Constant-time comparison of secrets of possibly different lengths. */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && nodeTimingSafeEqual(a, b);
}
