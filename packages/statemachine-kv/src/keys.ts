import { Buffer } from 'node:buffer';

/**
 * The map key for a byte string: one latin1 character per byte. The mapping is 1:1, and comparing two such
 * strings with `<` orders them as their bytes (unsigned, shorter prefix first), which the snapshot relies on.
 */
export function keyOf(bytes: Uint8Array): string {
  // A view, not a copy: the string itself is the one copy of the key.
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** The bytes of a map key (see {@link keyOf}). */
export function keyBytes(key: string): Uint8Array {
  return Buffer.from(key, 'latin1');
}

/** Whether two byte strings are equal. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}
