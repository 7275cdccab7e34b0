import * as zlib from 'node:zlib';

/** CRC-32 (IEEE 802.3 polynomial, as zlib computes it) lookup table, for Node versions without `zlib.crc32`. */
const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** The portable CRC-32, used when `zlib.crc32` (Node >= 20.15) is missing. Same results. */
export function crc32Portable(data: Uint8Array, previous = 0): number {
  let c = ~previous >>> 0;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/**
 * CRC-32 of `data`, continuing from `previous` (the CRC of the bytes before it), so a checksum can be
 * computed chunk by chunk.
 */
export const crc32: (data: Uint8Array, previous?: number) => number =
  native === undefined
    ? crc32Portable
    : // Node 20's zlib.crc32 returns 0 for some empty arrays (over a zero-length ArrayBuffer) whatever `previous` is.
      (data, previous = 0) => (data.byteLength === 0 ? previous : native(data, previous));
