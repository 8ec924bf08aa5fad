import { BSON, Double, Int32, Long, ObjectId, type Document } from 'bson';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { decodeOpMsg, encodeOpMsg, OpMsgFlags, readOpMsgFlags } from '../../../src/wire/opMsg.js';
import { bson, FLAG, header, opMsg, opMsgBody, refCrc32c, type Section } from './builders.js';
import { expectMongoError, expectViolation } from './expect.js';

const ping = { ping: new Int32(1), $db: 'admin' };

describe('decodeOpMsg: bodies and document sequences', () => {
  test('a single body decodes with its BSON types kept', () => {
    const body = { find: 'c', filter: { a: new Long(5) }, batchSize: new Int32(2), x: new Double(1.5), $db: 'test' };
    const msg = decodeOpMsg(opMsgBody(body));
    expect(msg.body).toEqual(body);
    expect(msg.body.filter.a).toBeInstanceOf(Long);
    expect(msg.body.batchSize).toBeInstanceOf(Int32);
    expect(msg.commandName).toBe('find');
    expect(msg).toMatchObject({ flagBits: 0, checksumPresent: false, moreToCome: false, exhaustAllowed: false });
  });

  test('the command name is the first field as sent, even when JS would reorder integer-like keys', () => {
    const raw = Buffer.from(BSON.serialize(new Map<string, unknown>([['zcmd', 1], ['1', 2], ['$db', 'admin']])));
    const msg = decodeOpMsg(opMsgBody(raw));
    expect(Object.keys(msg.body)[0]).toBe('1');
    expect(msg.commandName).toBe('zcmd');
  });

  test('an empty body has an empty command name', () => {
    expect(decodeOpMsg(opMsgBody({})).commandName).toBe('');
  });

  test('kind-1 document sequences are merged into the body as arrays', () => {
    const id1 = new ObjectId();
    const id2 = new ObjectId();
    const frame = opMsg({
      sections: [
        { kind: 0, doc: { insert: 'c', ordered: true, $db: 'test' } },
        { kind: 1, name: 'documents', docs: [{ _id: id1, x: new Int32(1) }, { _id: id2, x: new Int32(2) }] },
      ],
    });
    const msg = decodeOpMsg(frame);
    expect(msg.commandName).toBe('insert');
    expect(msg.body).toEqual({
      insert: 'c',
      ordered: true,
      $db: 'test',
      documents: [
        { _id: id1, x: new Int32(1) },
        { _id: id2, x: new Int32(2) },
      ],
    });
  });

  test('sequences may come before the body, and two different ones are both merged', () => {
    const frame = opMsg({
      sections: [
        { kind: 1, name: 'updates', docs: [{ q: {}, u: { $set: { a: new Int32(1) } } }] },
        { kind: 0, doc: { update: 'c', $db: 'test' } },
        { kind: 1, name: 'extra', docs: [] },
      ],
    });
    const msg = decodeOpMsg(frame);
    expect(msg.commandName).toBe('update');
    expect(msg.body.updates).toEqual([{ q: {}, u: { $set: { a: new Int32(1) } } }]);
    expect(msg.body.extra).toEqual([]);
  });

  test('a third document sequence closes the connection (TooManyDocumentSequences)', () => {
    const sections: Section[] = [
      { kind: 0, doc: { insert: 'c', $db: 'test' } },
      { kind: 1, name: 'a', docs: [{}] },
      { kind: 1, name: 'b', docs: [{}] },
      { kind: 1, name: 'c', docs: [{}] },
    ];
    expectViolation(() => decodeOpMsg(opMsg({ sections })), 'Too many document sequences in OP_MSG');
  });

  test('two bodies => 40430', () => {
    const frame = opMsg({ sections: [{ kind: 0, doc: ping }, { kind: 0, doc: ping }] });
    expectMongoError(() => decodeOpMsg(frame), 40430, 'Multiple body sections in message');
  });

  test('no body => 40587', () => {
    const frame = opMsg({ sections: [{ kind: 1, name: 'documents', docs: [{ a: 1 }] }] });
    const err = expectMongoError(() => decodeOpMsg(frame), 40587, 'OP_MSG messages must have a body');
    expect(err.codeName).toBe('Location40587');
  });

  // mongod: OpMsg::parse loops over zero sections, then fails uassert 40587 (research notes §1 (c)).
  // Regression: pocketmongo used to answer 22 "OP_MSG message is too short".
  test('a flags-only OP_MSG (no sections at all) => 40587, as in mongod', () => {
    const frame = opMsg({ sections: [] });
    expect(frame.length).toBe(20);
    expectMongoError(() => decodeOpMsg(frame), 40587, 'OP_MSG messages must have a body');
  });

  test('two sequences with the same name => 40431', () => {
    const frame = opMsg({
      sections: [
        { kind: 0, doc: { insert: 'c', $db: 'test' } },
        { kind: 1, name: 'documents', docs: [{ a: 1 }] },
        { kind: 1, name: 'documents', docs: [{ a: 2 }] },
      ],
    });
    expectMongoError(() => decodeOpMsg(frame), 40431, 'Duplicate document sequence: documents');
  });

  test('a sequence named like a body field => 40433', () => {
    const frame = opMsg({
      sections: [
        { kind: 0, doc: { insert: 'c', documents: [], $db: 'test' } },
        { kind: 1, name: 'documents', docs: [{ a: 1 }] },
      ],
    });
    expectMongoError(() => decodeOpMsg(frame), 40433, 'Duplicate field between body and document sequence documents');
  });

  // mongod looks the sequence name up as a dotted path in the body, arrays traversed (research
  // notes §1 (d)). Regression: pocketmongo used to merge "a.b" in as a new top-level field.
  test('a sequence whose dotted name is a path into the body => 40433', () => {
    const frame = opMsg({
      sections: [
        { kind: 0, doc: { insert: 'c', a: { b: 1 }, $db: 'test' } },
        { kind: 1, name: 'a.b', docs: [{ x: 1 }] },
      ],
    });
    expectMongoError(() => decodeOpMsg(frame), 40433, 'Duplicate field between body and document sequence a.b');
  });

  // Regression: `body[name] = docs` with name "__proto__" ran the JS prototype setter instead of
  // adding a field (the sequence vanished and the body's prototype became an array).
  test('a sequence named "__proto__" becomes an own field of the body, not its prototype', () => {
    const frame = opMsg({
      sections: [
        { kind: 0, doc: ping },
        { kind: 1, name: '__proto__', docs: [{ x: new Int32(1) }] },
      ],
    });
    const msg = decodeOpMsg(frame);
    expect(Object.getPrototypeOf(msg.body)).toBe(Object.prototype);
    expect(Object.keys(msg.body)).toEqual(['ping', '$db', '__proto__']);
  });

  test.each([3, 4, 127, 255])('section kind %d => 40432', (kind) => {
    const frame = opMsg({ sections: [{ kind: 0, doc: ping }, { kind, raw: bson({ a: 1 }) }] });
    expectMongoError(() => decodeOpMsg(frame), 40432, `Unknown section kind ${kind}`);
  });

  // mongod 7.0 knows kind 2 (security token): without multitenancy it answers 13 Unauthorized (§1
  // table). Regression: pocketmongo used to answer 40432 "Unknown section kind 2".
  test('section kind 2 => 13 "Unsupported Security Token provided"', () => {
    const frame = opMsg({ sections: [{ kind: 0, doc: ping }, { kind: 2, raw: bson({ token: 'x' }) }] });
    expectMongoError(() => decodeOpMsg(frame), 13, 'Unsupported Security Token provided');
  });
});

describe('decodeOpMsg: flags', () => {
  test('moreToCome and exhaustAllowed are reported', () => {
    expect(decodeOpMsg(opMsgBody(ping, FLAG.moreToCome))).toMatchObject({ moreToCome: true, exhaustAllowed: false, flagBits: 2 });
    expect(decodeOpMsg(opMsgBody(ping, FLAG.exhaustAllowed))).toMatchObject({ moreToCome: false, exhaustAllowed: true, flagBits: 1 << 16 });
    expect(readOpMsgFlags(opMsgBody(ping, FLAG.moreToCome | FLAG.exhaustAllowed))).toBe(0x10002);
    expect(readOpMsgFlags(header(16, 1, 0, 2013))).toBe(0);
  });

  test('unknown optional bits (16..31) are ignored', () => {
    for (const bit of [17, 20, 31]) {
      const msg = decodeOpMsg(opMsgBody(ping, (1 << bit) >>> 0));
      expect(msg.body).toEqual(ping);
      expect(msg.flagBits).toBe((1 << bit) >>> 0);
    }
  });

  test('an unknown required bit (2..15) closes the connection with mongod\'s message', () => {
    expectViolation(() => decodeOpMsg(opMsgBody(ping, 1 << 2)), 'Message contains illegal flags value: Ob00000000000000000000000000000100');
    for (let bit = 2; bit < 16; bit++) {
      const flags = (1 << bit) | FLAG.moreToCome;
      expectViolation(
        () => decodeOpMsg(opMsgBody(ping, flags)),
        `Message contains illegal flags value: Ob${flags.toString(2).padStart(32, '0')}`,
      );
    }
  });

  test('the illegal-flags message prints all 32 bits, high bits included', () => {
    const flags = ((1 << 31) | (1 << 16) | (1 << 15)) >>> 0;
    expectViolation(() => decodeOpMsg(opMsgBody(ping, flags)), 'Message contains illegal flags value: Ob10000000000000011000000000000000');
  });

  test('flags are checked before the sections', () => {
    const frame = opMsg({ flags: 1 << 3, sections: [{ kind: 0, doc: ping }, { kind: 0, doc: ping }] });
    expectViolation(() => decodeOpMsg(frame));
  });
});

describe('decodeOpMsg: checksum', () => {
  test('a correct CRC-32C is accepted and reported', () => {
    const frame = opMsg({ sections: [{ kind: 0, doc: ping }], checksum: true });
    const msg = decodeOpMsg(frame);
    expect(msg.checksumPresent).toBe(true);
    expect(msg.body).toEqual(ping);
  });

  test('a checksum covers the document sequences too', () => {
    const frame = opMsg({
      sections: [
        { kind: 0, doc: { insert: 'c', $db: 'test' } },
        { kind: 1, name: 'documents', docs: [{ a: new Int32(1) }] },
      ],
      checksum: true,
    });
    expect(decodeOpMsg(frame).body.documents).toEqual([{ a: new Int32(1) }]);
    const corrupted = Buffer.from(frame);
    corrupted[corrupted.length - 8] ^= 0x01; // inside the sequence's document
    expectViolation(() => decodeOpMsg(corrupted), 'OP_MSG checksum does not match contents');
  });

  test('a wrong checksum closes the connection', () => {
    expectViolation(
      () => decodeOpMsg(opMsg({ sections: [{ kind: 0, doc: ping }], checksum: 'corrupt' })),
      'OP_MSG checksum does not match contents',
    );
  });

  test('every single-bit corruption of a checksummed message is detected (property)', () => {
    const frame = opMsg({ sections: [{ kind: 0, doc: { ping: new Int32(1), $db: 'admin', pad: 'abcdef' } }], checksum: true });
    fc.assert(
      fc.property(fc.integer({ min: 20, max: frame.length * 8 - 1 }), (bitIndex) => {
        const corrupted = Buffer.from(frame);
        corrupted[bitIndex >> 3] ^= 1 << (bitIndex & 7);
        let outcome: unknown;
        try {
          decodeOpMsg(corrupted);
          outcome = 'accepted';
        } catch (err) {
          outcome = err;
        }
        // Flipping the flag bits is covered above; here: never silently accepted.
        expect(outcome).not.toBe('accepted');
      }),
      { seed: 7, numRuns: 400 },
    );
  });

  test('the checksum is verified last: a structural error is reported first', () => {
    const frame = opMsg({ sections: [{ kind: 0, doc: ping }, { kind: 0, doc: ping }], checksum: 'corrupt' });
    expectMongoError(() => decodeOpMsg(frame), 40430);
  });

  test('checksumPresent on a message too short to hold one => 51252', () => {
    const frame = Buffer.concat([header(24, 1, 0, 2013), Buffer.from([1, 0, 0, 0, 0xaa, 0xbb, 0xcc, 0xdd])]);
    expectMongoError(() => decodeOpMsg(frame), 51252, 'Invalid message size for an OpMsg containing a checksum');
  });
});

describe('decodeOpMsg: truncated and invalid BSON => 22', () => {
  const body = bson(ping);

  test.each<[string, Buffer]>([
    ['a 16-byte header only', header(16, 1, 0, 2013)],
    ['a body whose size runs past the end', opMsg({ sections: [{ kind: 0, raw: body.subarray(0, body.length - 3) }] })],
    ['a body size under 5', opMsg({ sections: [{ kind: 0, raw: Buffer.from([4, 0, 0, 0]) }] })],
    ['a negative body size', opMsg({ sections: [{ kind: 0, raw: Buffer.from([0xff, 0xff, 0xff, 0xff, 0]) }] })],
    ['a kind byte with nothing after it', opMsg({ sections: [{ kind: 0, doc: ping }, { kind: 1, raw: Buffer.alloc(0) }] })],
    ['a body with an invalid element type', opMsg({ sections: [{ kind: 0, raw: Buffer.from([8, 0, 0, 0, 0x7e, 0x61, 0, 0]) }] })],
    ['a body without its terminating 0', opMsg({ sections: [{ kind: 0, raw: Buffer.from([10, 0, 0, 0, 0x10, 0x61, 0, 1, 0, 0]) }] })],
    ['a string element whose length runs past the document', opMsg({ sections: [{ kind: 0, raw: bsonWithBadString() }] })],
    [
      'a sequence identifier without its terminating 0',
      opMsg({ sections: [{ kind: 0, doc: ping }, { kind: 1, raw: Buffer.from([7, 0, 0, 0, 0x61, 0x62, 0x63]) }] }),
    ],
    [
      'a sequence whose size runs past the end',
      opMsg({ sections: [{ kind: 0, doc: ping }, { kind: 1, raw: Buffer.from([100, 0, 0, 0, 0x61, 0]) }] }),
    ],
    [
      'a truncated document inside a sequence',
      opMsg({
        sections: [
          { kind: 0, doc: { insert: 'c', $db: 'test' } },
          { kind: 1, raw: sequenceRaw('documents', [bson({ a: 1 }).subarray(0, 8)]) },
        ],
      }),
    ],
    [
      'an invalid document inside a sequence',
      opMsg({
        sections: [
          { kind: 0, doc: { insert: 'c', $db: 'test' } },
          { kind: 1, raw: sequenceRaw('documents', [Buffer.from([8, 0, 0, 0, 0x7e, 0x61, 0, 0])]) },
        ],
      }),
    ],
  ])('%s', (_name, frame) => {
    expectMongoError(() => decodeOpMsg(frame), 22);
  });

  test('every truncation of a valid message (length fixed up) is an error, never a crash', () => {
    const body = bson({ insert: 'c', $db: 'test', lsid: { id: new ObjectId() } });
    const frame = opMsg({
      sections: [
        { kind: 0, doc: body },
        { kind: 1, name: 'documents', docs: [{ a: new Int32(1) }, { b: 'two' }] },
      ],
    });
    const bodyOnly = 16 + 4 + 1 + body.length; // cut exactly between sections: a valid message
    expect(decodeOpMsg(opMsg({ sections: [{ kind: 0, doc: body }] })).body.documents).toBeUndefined();
    for (let length = 16; length < frame.length; length++) {
      if (length === bodyOnly) continue;
      const cut = Buffer.from(frame.subarray(0, length));
      cut.writeInt32LE(length, 0);
      let err: unknown;
      try {
        decodeOpMsg(cut);
      } catch (e) {
        err = e;
      }
      expect(err, `truncated to ${length}`).toBeDefined();
      expect((err as Error).name, `truncated to ${length}: ${(err as Error).message}`).toMatch(/^(MongoError|ProtocolViolation)$/);
    }
  });
});

describe('encodeOpMsg', () => {
  test('round-trips a body through decodeOpMsg with the header filled in', () => {
    const body: Document = { ok: new Double(1), n: new Int32(3), cursor: { id: Long.fromNumber(0), firstBatch: [] } };
    const frame = encodeOpMsg(body, { requestId: 77, responseTo: 12 });
    expect(frame.readInt32LE(0)).toBe(frame.length);
    expect(frame.readInt32LE(4)).toBe(77);
    expect(frame.readInt32LE(8)).toBe(12);
    expect(frame.readInt32LE(12)).toBe(2013);
    expect(frame.readUInt32LE(16)).toBe(0);
    expect(frame[20]).toBe(0);
    const msg = decodeOpMsg(frame);
    expect(msg.body).toEqual(body);
    expect(msg.commandName).toBe('ok');
  });

  test('is byte-identical to the reference builder', () => {
    const body = { ok: new Double(1) };
    expect(encodeOpMsg(body, { requestId: 1, responseTo: 0 }).equals(opMsgBody(body))).toBe(true);
    expect(encodeOpMsg(body, { requestId: 1, responseTo: 0, checksum: true }).equals(opMsg({ sections: [{ kind: 0, doc: body }], checksum: true }))).toBe(true);
  });

  test('moreToCome and checksum set their flag bits; the checksum is a valid CRC-32C', () => {
    const frame = encodeOpMsg({ ok: 1 }, { requestId: 5, responseTo: 4, moreToCome: true, checksum: true });
    expect(frame.readUInt32LE(16)).toBe(OpMsgFlags.moreToCome | OpMsgFlags.checksumPresent);
    expect(frame.readUInt32LE(frame.length - 4)).toBe(refCrc32c(frame.subarray(0, frame.length - 4)));
    const msg = decodeOpMsg(frame);
    expect(msg).toMatchObject({ moreToCome: true, checksumPresent: true, body: { ok: new Int32(1) } });
  });

  test('accepts pre-encoded BSON', () => {
    const raw = bson({ ok: new Double(1), note: 'pre' });
    expect(decodeOpMsg(encodeOpMsg(raw, { requestId: 1, responseTo: 1 })).body).toEqual({ ok: new Double(1), note: 'pre' });
  });

  test('round-trips arbitrary JSON-like bodies (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1 }).filter((k) => !k.includes('\0') && k !== '__proto__'), fc.jsonValue()), fc.boolean(), (doc, checksum) => {
        const frame = encodeOpMsg(doc, { requestId: 1, responseTo: 2, checksum });
        const expected = BSON.deserialize(BSON.serialize(doc), { promoteValues: false, bsonRegExp: true });
        expect(decodeOpMsg(frame).body).toEqual(expected);
      }),
      { seed: 99, numRuns: 200 },
    );
  });
});

function sequenceRaw(name: string, docs: Buffer[]): Buffer {
  const nameBytes = Buffer.from(`${name}\0`);
  const size = Buffer.alloc(4);
  size.writeInt32LE(4 + nameBytes.length + docs.reduce((n, d) => n + d.length, 0), 0);
  return Buffer.concat([size, nameBytes, ...docs]);
}

function bsonWithBadString(): Buffer {
  const doc = bson({ s: 'hello' });
  // {s: "hello"}: int32 size, 0x02, "s\0", int32 strlen at offset 7.
  doc.writeInt32LE(1000, 7);
  return doc;
}
