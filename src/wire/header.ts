import { HEADER_SIZE } from './opcodes.js';

export interface MessageHeader {
  messageLength: number;
  requestId: number;
  responseTo: number;
  opCode: number;
}

export function readHeader(frame: Buffer): MessageHeader {
  return {
    messageLength: frame.readInt32LE(0),
    requestId: frame.readInt32LE(4),
    responseTo: frame.readInt32LE(8),
    opCode: frame.readInt32LE(12),
  };
}

export function writeHeader(out: Buffer, length: number, requestId: number, responseTo: number, opCode: number): void {
  out.writeInt32LE(length, 0);
  out.writeInt32LE(requestId, 4);
  out.writeInt32LE(responseTo, 8);
  out.writeInt32LE(opCode, 12);
}

let lastRequestId = 0;
/** Request ids for server-originated messages; they only need to be distinct per connection. */
export function nextRequestId(): number {
  lastRequestId = (lastRequestId + 1) | 0;
  return lastRequestId;
}

export { HEADER_SIZE };
