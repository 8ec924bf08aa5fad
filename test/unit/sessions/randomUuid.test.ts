import { describe, expect, test } from 'vitest';
import { randomUuidBytes } from '../../../src/sessions/randomUuid.js';

describe('randomUuidBytes', () => {
  test('version-4 UUIDs with RFC 9562 variant bits, 16 bytes each, all distinct across pool refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const bytes = randomUuidBytes();
      expect(bytes.length).toBe(16);
      expect(bytes[6]! >> 4).toBe(4);
      expect(bytes[8]! >> 6).toBe(2);
      seen.add(bytes.toString('hex'));
    }
    expect(seen.size).toBe(1000);
  });

  test('each id is its own buffer: later draws do not change it', () => {
    const first = randomUuidBytes();
    const copy = Buffer.from(first);
    for (let i = 0; i < 600; i++) randomUuidBytes();
    expect(first.equals(copy)).toBe(true);
  });
});
