/** Name of a document's first field, read from the bytes (a JS object may reorder integer-like keys). */
export function firstFieldName(bytes: Uint8Array): string | undefined {
  if (bytes.length < 6 || bytes[4] === 0) return undefined;
  const end = bytes.indexOf(0, 5);
  if (end < 0) return undefined;
  return Buffer.from(bytes.buffer, bytes.byteOffset + 5, end - 5).toString('utf8');
}

/** Bytes after an element's name for the fixed-size BSON types (-1: size read from the value). */
function valueSize(bytes: Uint8Array, type: number, at: number): number {
  const int32 = (): number => bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24);
  switch (type) {
    case 0x01: case 0x09: case 0x11: case 0x12:
      return 8;
    case 0x02: case 0x0d: case 0x0e:
      return 4 + int32();
    case 0x03: case 0x04: case 0x0f:
      return int32();
    case 0x05:
      return 5 + int32();
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
      return 4 + int32() + 12;
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
  const walk = (start: number, end: number, visit: (name: string, type: number, valueAt: number) => boolean): void => {
    let p = start;
    while (p < end && bytes[p] !== 0) {
      const type = bytes[p]!;
      const nameEnd = bytes.indexOf(0, p + 1);
      if (nameEnd < 0) return;
      const name = Buffer.from(bytes.buffer, bytes.byteOffset + p + 1, nameEnd - p - 1).toString('utf8');
      if (visit(name, type, nameEnd + 1)) return;
      const size = valueSize(bytes, type, nameEnd + 1);
      if (size < 0) return;
      p = nameEnd + 1 + size;
    }
  };
  let duplicate: string | undefined;
  walk(4, bytes.length, (name, type, valueAt) => {
    if (name !== field || type !== 0x03) return false;
    const seen = new Set<string>();
    walk(valueAt + 4, valueAt + valueSize(bytes, type, valueAt), (inner) => {
      if (seen.has(inner)) duplicate = inner;
      seen.add(inner);
      return duplicate !== undefined;
    });
    return true;
  });
  return duplicate;
}
