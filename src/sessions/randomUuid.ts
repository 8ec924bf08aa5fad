import { randomFillSync } from 'node:crypto';

/**
 * Random bytes drawn from the OS in blocks: one system call per 256 session ids instead of one
 * each. Each id is a slice of its block (no copy); a block is never refilled, so an id handed out
 * keeps its bytes, and a used-up block is freed once its last id is.
 */
const BLOCK_BYTES = 4096;
let block = Buffer.allocUnsafeSlow(BLOCK_BYTES);
let next = BLOCK_BYTES;

/**
 * A fresh version-4 UUID (RFC 9562: 122 random bits, the version and variant bits set), as
 * a 16-byte slice of a block no one else writes, for startSession's session ids (mongod's UUID::gen from SecureRandom).
 */
export function randomUuidBytes(): Buffer {
  if (next + 16 > BLOCK_BYTES) {
    block = randomFillSync(Buffer.allocUnsafeSlow(BLOCK_BYTES));
    next = 0;
  }
  const bytes = block.subarray(next, next + 16);
  next += 16;
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  return bytes;
}
