import { ErrorCodes, MongoError } from '../errors.js';
import { compress, compressorName, decompress } from './compression.js';
import { HEADER_SIZE, writeHeader } from './header.js';
import { MAX_MESSAGE_SIZE_BYTES } from '../bson/limits.js';
import { OpCode } from './opcodes.js';

const COMPRESSED_PREFIX = 9; // originalOpcode int32, uncompressedSize int32, compressorId uint8

/** Unwraps an OP_COMPRESSED frame into the original message (header included) and its compressor. */
export function decodeOpCompressed(frame: Buffer): { inner: Buffer; compressorId: number } {
  if (frame.length < HEADER_SIZE + COMPRESSED_PREFIX) {
    throw new MongoError(ErrorCodes.BadValue, 'OP_COMPRESSED message is too short');
  }
  const originalOpCode = frame.readInt32LE(HEADER_SIZE);
  const uncompressedSize = frame.readInt32LE(HEADER_SIZE + 4);
  const compressorId = frame[HEADER_SIZE + 8]!;
  if (compressorName(compressorId) === undefined) {
    throw new MongoError(ErrorCodes.BadValue, `Cannot decompress message with unknown compressor id ${compressorId}`);
  }
  if (originalOpCode === OpCode.OP_COMPRESSED) {
    throw new MongoError(ErrorCodes.BadValue, 'Cannot decompress a message that is itself OP_COMPRESSED');
  }
  if (uncompressedSize < 0 || uncompressedSize + HEADER_SIZE > MAX_MESSAGE_SIZE_BYTES) {
    throw new MongoError(ErrorCodes.BadValue, 'Decompressed message would be larger than maximum message size');
  }
  const payload = decompress(compressorId, frame.subarray(HEADER_SIZE + COMPRESSED_PREFIX), uncompressedSize);
  const inner = Buffer.allocUnsafe(HEADER_SIZE + uncompressedSize);
  writeHeader(inner, inner.length, frame.readInt32LE(4), frame.readInt32LE(8), originalOpCode);
  payload.copy(inner, HEADER_SIZE);
  return { inner, compressorId };
}

/** Wraps a whole encoded message (header included) in OP_COMPRESSED with the given compressor. */
export function encodeOpCompressed(message: Buffer, compressorId: number): Buffer {
  const payload = compress(compressorId, message.subarray(HEADER_SIZE));
  const length = HEADER_SIZE + COMPRESSED_PREFIX + payload.length;
  const out = Buffer.allocUnsafe(length);
  writeHeader(out, length, message.readInt32LE(4), message.readInt32LE(8), OpCode.OP_COMPRESSED);
  out.writeInt32LE(message.readInt32LE(12), HEADER_SIZE);
  out.writeInt32LE(message.length - HEADER_SIZE, HEADER_SIZE + 4);
  out[HEADER_SIZE + 8] = compressorId;
  payload.copy(out, HEADER_SIZE + COMPRESSED_PREFIX);
  return out;
}
