/** Wire protocol opcodes (https://www.mongodb.com/docs/manual/reference/mongodb-wire-protocol/). */
export const OpCode = {
  OP_REPLY: 1,
  OP_UPDATE: 2001,
  OP_INSERT: 2002,
  OP_RESERVED: 2003,
  OP_QUERY: 2004,
  OP_GET_MORE: 2005,
  OP_DELETE: 2006,
  OP_KILL_CURSORS: 2007,
  OP_COMPRESSED: 2012,
  OP_MSG: 2013,
} as const;

export const HEADER_SIZE = 16;

export function opCodeName(opCode: number): string {
  for (const [name, value] of Object.entries(OpCode)) if (value === opCode) return name;
  return `opcode ${opCode}`;
}
