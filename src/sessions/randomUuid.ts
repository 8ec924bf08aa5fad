import { randomFillSync } from 'node:crypto';

/** Random bytes drawn from the OS in blocks: one system call per 256 session ids instead of one each. */
const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let next = POOL_BYTES;

/**
 * A fresh version-4 UUID (RFC 9562: 122 random bits, the version and variant bits set), as
 * 16 bytes of its own, for startSession's session ids (mongod's UUID::gen from SecureRandom).
 */
export function randomUuidBytes(): Buffer {
  if (next + 16 > POOL_BYTES) {
    randomFillSync(pool);
    next = 0;
  }
  const bytes = Buffer.allocUnsafe(16);
  pool.copy(bytes, 0, next, next + 16);
  next += 16;
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  return bytes;
}
