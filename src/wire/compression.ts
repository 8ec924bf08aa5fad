import { createRequire } from 'node:module';
import { MongoError, ErrorCodes } from '../errors.js';

const require = createRequire(import.meta.url);

/**
 * snappy: the codec the Node driver itself uses (Rust, prebuilt for each platform inside the npm
 * package: nothing to download or compile). A pure-JS codec hung on crafted input. Loaded at the
 * first snappy message: finding and loading its native binding costs ~5 ms of start-up.
 */
interface Snappy {
  compressSync(data: Buffer): Buffer;
  uncompressSync(data: Buffer, options: { asBuffer: true }): Buffer;
}
let snappyCodec: Snappy | undefined;
const snappy = (): Snappy => (snappyCodec ??= require('snappy') as Snappy);

/** node:zlib, loaded at the first zlib message (Node itself does not load it at start). */
let zlibModule: typeof import('node:zlib') | undefined;
const zlib = (): typeof import('node:zlib') => (zlibModule ??= require('node:zlib') as typeof import('node:zlib'));

/** The uncompressed length a snappy stream declares (its leading varint), or -1 if malformed. */
function snappyDeclaredLength(data: Buffer): number {
  let value = 0;
  for (let i = 0; i < 5 && i < data.length; i++) {
    const byte = data[i]!;
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) return value;
  }
  return -1;
}

/** Compressor ids of OP_COMPRESSED (the wire protocol's table). */
export const CompressorId = { noop: 0, snappy: 1, zlib: 2 } as const;
export type CompressorName = keyof typeof CompressorId;

/** What we can both decode and encode, in no particular order. zstd (3) is absent: Node 20 lacks it. */
export const SUPPORTED_COMPRESSORS: readonly CompressorName[] = ['snappy', 'zlib', 'noop'];

const namesById = new Map<number, CompressorName>(
  Object.entries(CompressorId).map(([name, id]) => [id, name as CompressorName]),
);

export function compressorName(id: number): CompressorName | undefined {
  return namesById.get(id);
}

/** The hello `compression` answer: the client's list, in the client's order, minus what we lack. */
export function negotiateCompressors(requested: readonly unknown[]): CompressorName[] {
  const chosen: CompressorName[] = [];
  for (const name of requested) {
    if (typeof name === 'string' && (SUPPORTED_COMPRESSORS as readonly string[]).includes(name)) {
      if (!chosen.includes(name as CompressorName)) chosen.push(name as CompressorName);
    }
  }
  return chosen;
}

export function compress(id: number, data: Buffer): Buffer {
  switch (id) {
    case CompressorId.noop:
      return data;
    case CompressorId.snappy:
      return snappy().compressSync(data);
    case CompressorId.zlib:
      return zlib().deflateSync(data);
    default:
      throw new MongoError(ErrorCodes.InternalError, `Unknown compressor id ${id}`);
  }
}

/** Decompresses to exactly `size` bytes; anything else (corrupt data, wrong size, a bomb) is an error. */
export function decompress(id: number, data: Buffer, size: number): Buffer {
  let out: Buffer;
  try {
    switch (id) {
      case CompressorId.noop:
        out = data;
        break;
      case CompressorId.snappy:
        // Checked first, so a stream claiming gigabytes is refused before anything is allocated.
        if (snappyDeclaredLength(data) !== size) {
          throw new MongoError(ErrorCodes.BadValue, 'Decompressing message returned less data than expected');
        }
        out = snappy().uncompressSync(data, { asBuffer: true });
        break;
      case CompressorId.zlib:
        out = zlib().inflateSync(data, { maxOutputLength: Math.max(size, 1) });
        break;
      default:
        throw new MongoError(ErrorCodes.BadValue, `Cannot decompress message with unknown compressor id ${id}`);
    }
  } catch (err) {
    if (err instanceof MongoError) throw err;
    throw new MongoError(ErrorCodes.BadValue, `Could not decompress message: ${(err as Error).message}`);
  }
  if (out.length !== size) {
    throw new MongoError(ErrorCodes.BadValue, 'Decompressing message returned less data than expected');
  }
  return out;
}
