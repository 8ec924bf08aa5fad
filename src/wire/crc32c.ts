import { createRequire } from 'node:module';

// crc-32 ships CRC-32C (Castagnoli, the OP_MSG checksum) as a CommonJS file without its own types.
const require = createRequire(import.meta.url);
const { buf: crc32cSigned } = require('crc-32/crc32c.js') as { buf(data: Uint8Array, seed?: number): number };

/** CRC-32C of `data` as an unsigned 32-bit integer. */
export function crc32c(data: Uint8Array): number {
  return crc32cSigned(data) >>> 0;
}
