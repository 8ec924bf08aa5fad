/** Name of a document's first field, read from the bytes (a JS object may reorder integer-like keys). */
export function firstFieldName(bytes: Buffer): string | undefined {
  if (bytes.length < 6 || bytes[4] === 0) return undefined;
  const end = bytes.indexOf(0, 5);
  if (end < 0) return undefined;
  return bytes.toString('utf8', 5, end);
}

function readInt32(bytes: Uint8Array, at: number): number {
  return bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24);
}

/** Bytes after an element's name for the fixed-size BSON types (-1: size read from the value). */
function valueSize(bytes: Uint8Array, type: number, at: number): number {
  switch (type) {
    case 0x01: case 0x09: case 0x11: case 0x12:
      return 8;
    case 0x02: case 0x0d: case 0x0e:
      return 4 + readInt32(bytes, at);
    case 0x03: case 0x04: case 0x0f:
      return readInt32(bytes, at);
    case 0x05:
      return 5 + readInt32(bytes, at);
    case 0x06: case 0x0a: case 0xff: case 0x7f:
      return 0;
    case 0x07:
      return 12;
    case 0x08:
      return 1;
    case 0x0b: {
      const pattern = bytes.indexOf(0, at);
      return bytes.indexOf(0, pattern + 1) + 1 - at;
    }
    case 0x0c:
      return 4 + readInt32(bytes, at) + 12;
    case 0x10:
      return 4;
    case 0x13:
      return 16;
    default:
      return -1;
  }
}

/**
 * The first field name repeated inside the sub-document `field` of a (valid) BSON document, or
 * undefined. Decoding keeps only the last of repeated names, so mongod's IDL duplicate-field
 * check (40413) is made on the bytes.
 */
export function duplicateFieldIn(bytes: Uint8Array, field: string): string | undefined {
  // Names are compared as bytes: this runs on every command that carries the field, so it makes
  // no string for a name that is not the one looked for.
  const wanted = fieldBytes(field);
  let p = 4;
  while (p < bytes.length && bytes[p] !== 0) {
    const type = bytes[p]!;
    const nameEnd = zeroAfter(bytes, p + 1);
    if (nameEnd < 0) return undefined;
    const valueAt = nameEnd + 1;
    if (type === 0x03 && nameEnd - p - 1 === wanted.length && sameBytes(bytes, p + 1, wanted)) {
      return repeatedName(bytes, valueAt + 4, valueAt + valueSize(bytes, type, valueAt));
    }
    const size = valueSize(bytes, type, valueAt);
    if (size < 0) return undefined;
    p = valueAt + size;
  }
  return undefined;
}

const fieldNames = new Map<string, Uint8Array>();

function fieldBytes(field: string): Uint8Array {
  let bytes = fieldNames.get(field);
  if (bytes === undefined) fieldNames.set(field, (bytes = Buffer.from(field, 'utf8')));
  return bytes;
}

/** The index of the next 0 byte from `from` (a name's end), or -1; a loop beats indexOf's call for names this short. */
function zeroAfter(bytes: Uint8Array, from: number): number {
  for (let i = from; i < bytes.length; i++) if (bytes[i] === 0) return i;
  return -1;
}

function sameRange(bytes: Uint8Array, aStart: number, aEnd: number, bStart: number, bEnd: number): boolean {
  if (aEnd - aStart !== bEnd - bStart) return false;
  for (let i = 0; i < aEnd - aStart; i++) if (bytes[aStart + i] !== bytes[bStart + i]) return false;
  return true;
}

function sameBytes(bytes: Uint8Array, at: number, wanted: Uint8Array): boolean {
  for (let i = 0; i < wanted.length; i++) if (bytes[at + i] !== wanted[i]) return false;
  return true;
}

/** The first name repeated among the elements between `start` and `end` (a sub-document's few fields). */
function repeatedName(bytes: Uint8Array, start: number, end: number): string | undefined {
  /** Where each name seen so far starts and ends. */
  const seen: number[] = [];
  let p = start;
  while (p < end && bytes[p] !== 0) {
    const type = bytes[p]!;
    const nameEnd = zeroAfter(bytes, p + 1);
    if (nameEnd < 0) return undefined;
    for (let i = 0; i < seen.length; i += 2) {
      if (sameRange(bytes, seen[i]!, seen[i + 1]!, p + 1, nameEnd)) return Buffer.from(bytes.buffer, bytes.byteOffset + p + 1, nameEnd - p - 1).toString('utf8');
    }
    seen.push(p + 1, nameEnd);
    const size = valueSize(bytes, type, nameEnd + 1);
    if (size < 0) return undefined;
    p = nameEnd + 1 + size;
  }
  return undefined;
}
