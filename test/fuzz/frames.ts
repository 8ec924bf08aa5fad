/**
 * Frame generation for the wire fuzzer, shared by test/fuzz/fuzz.test.ts and test/fuzz/run.ts.
 *
 * Seeds are the real client traffic recorded in test/fixtures/captures/*.jsonl, re-encoded as
 * OP_MSG / OP_QUERY (/ OP_COMPRESSED when recorded compressed), plus a few hand-made frames for the
 * corners the captures lack. A fast-check arbitrary then picks a seed (or a random command in
 * random BSON) and stacks mutations on it: bit flips, byte changes, insertions and deletions,
 * truncations, length-field changes, opcode changes, flag changes, section-kind changes,
 * splices of two messages, checksums (right or wrong) and OP_COMPRESSED wrappers (right or wrong).
 * Everything is deterministic for a given fast-check seed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  BSON,
  Binary,
  BSONRegExp,
  Decimal128,
  Double,
  EJSON,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
  type Document,
} from 'bson';
import fc from 'fast-check';
import {
  FLAG,
  header,
  message,
  OP,
  opCompressed,
  opMsg,
  opQuery,
  refCrc32c,
  type Section,
} from '../unit/wire/builders.js';

export const CAPTURES_DIR = resolve(import.meta.dirname, '../fixtures/captures');

/** A frame to send, with a short description of how it was made (for statistics and repros). */
export interface FuzzFrame {
  readonly bytes: Buffer;
  readonly label: string;
}

export interface SeedFrame {
  readonly name: string;
  readonly bytes: Buffer;
}

/** Commands the fuzzer never sends whole: they would stop the server under test. */
export const FORBIDDEN_COMMANDS: ReadonlySet<string> = new Set(['shutdown']);

// ---------------------------------------------------------------------------------------------
// Seeds from the captures.

interface CapturedSequence {
  identifier: string;
  documents: Document[];
}

function num(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (value instanceof Int32 || value instanceof Double) return value.valueOf();
  if (value instanceof Long) return value.toNumber();
  return undefined;
}

function isDocument(value: unknown): value is Document {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Re-encodes one captured client message ('in' direction) as the frame the client sent. */
export function encodeCaptured(line: Document): Buffer | undefined {
  const requestId = num(line.requestID) ?? 1;
  const doc = line.doc;
  if (!isDocument(doc)) return undefined;
  let frame: Buffer;
  if (line.opName === 'OP_MSG') {
    const sections: Section[] = [{ kind: 0, doc }];
    const sequences = Array.isArray(line.sequences) ? (line.sequences as CapturedSequence[]) : [];
    for (const seq of sequences) sections.push({ kind: 1, name: seq.identifier, docs: seq.documents });
    frame = opMsg({
      flags: (num(line.flagBits) ?? 0) & ~FLAG.checksumPresent,
      requestId,
      sections,
      checksum: line.checksum !== null && line.checksum !== undefined && line.checksum !== false,
    });
  } else if (line.opName === 'OP_QUERY') {
    frame = opQuery({
      flags: num(line.flags) ?? 0,
      ns: typeof line.fullCollectionName === 'string' ? line.fullCollectionName : 'admin.$cmd',
      skip: num(line.numberToSkip) ?? 0,
      limit: num(line.numberToReturn) ?? -1,
      query: doc,
      fields: isDocument(line.returnFieldsSelector) ? line.returnFieldsSelector : undefined,
      requestId,
    });
  } else {
    return undefined;
  }
  const compression = line.compression;
  if (isDocument(compression)) {
    const id = num(compression.compressorId);
    if (id !== undefined) frame = opCompressed(frame, id);
  }
  return frame;
}

/** Every client message of every capture, re-encoded, minus the forbidden commands. */
export function loadCaptureSeeds(dir: string = CAPTURES_DIR): SeedFrame[] {
  const seeds: SeedFrame[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort()) {
    const lines = readFileSync(join(dir, file), 'utf8').split('\n');
    lines.forEach((text, index) => {
      if (text.trim() === '') return;
      const line = EJSON.parse(text, { relaxed: false }) as Document;
      if (line.dir !== 'in') return;
      if (typeof line.command === 'string' && FORBIDDEN_COMMANDS.has(line.command)) return;
      const bytes = encodeCaptured(line);
      if (bytes !== undefined) seeds.push({ name: `${file}:${index + 1}:${String(line.command)}`, bytes });
    });
  }
  return seeds;
}

/** Hand-made frames for corners the captures do not reach. */
export function syntheticSeeds(): SeedFrame[] {
  const ping = { ping: new Int32(1), $db: 'admin' };
  const seeds: Array<[string, Buffer]> = [
    ['ping', opMsg({ sections: [{ kind: 0, doc: ping }] })],
    ['ping+checksum', opMsg({ sections: [{ kind: 0, doc: ping }], checksum: true })],
    ['ping+moreToCome', opMsg({ flags: FLAG.moreToCome, sections: [{ kind: 0, doc: ping }] })],
    ['buildInfo', opMsg({ sections: [{ kind: 0, doc: { buildInfo: 1, $db: 'admin' } }] })],
    ['serverStatus', opMsg({ sections: [{ kind: 0, doc: { serverStatus: 1, $db: 'admin' } }] })],
    ['getLog', opMsg({ sections: [{ kind: 0, doc: { getLog: 'global', $db: 'admin' } }] })],
    ['getParameter*', opMsg({ sections: [{ kind: 0, doc: { getParameter: '*', $db: 'admin' } }] })],
    ['listCommands', opMsg({ sections: [{ kind: 0, doc: { listCommands: 1, $db: 'admin' } }] })],
    ['connectionStatus', opMsg({ sections: [{ kind: 0, doc: { connectionStatus: 1, showPrivileges: true, $db: 'admin' } }] })],
    ['hello+compression', opMsg({ sections: [{ kind: 0, doc: { hello: 1, compression: ['zstd', 'snappy', 'zlib'], $db: 'admin' } }] })],
    [
      'awaitable hello (stale process)',
      opMsg({
        sections: [{ kind: 0, doc: { hello: 1, topologyVersion: { processId: new ObjectId(), counter: Long.fromNumber(0) }, maxAwaitTimeMS: new Int32(10), $db: 'admin' } }],
      }),
    ],
    [
      'insert with two sequences',
      opMsg({
        sections: [
          { kind: 0, doc: { insert: 'c', $db: 'test' } },
          { kind: 1, name: 'documents', docs: [{ a: 1 }, { b: 'x' }] },
          { kind: 1, name: 'other', docs: [] },
        ],
      }),
    ],
    ['OP_QUERY isMaster', opQuery({ flags: 4, ns: 'admin.$cmd', query: { isMaster: 1, helloOk: true } })],
    ['OP_QUERY $query', opQuery({ ns: 'admin.$cmd', query: { $query: { ismaster: 1 }, $readPreference: { mode: 'primary' } } })],
    ['OP_QUERY find', opQuery({ ns: 'test.coll', query: { a: 1 } })],
    ['snappy ping', opCompressed(opMsg({ sections: [{ kind: 0, doc: ping }] }), 1)],
    ['zlib ping', opCompressed(opMsg({ sections: [{ kind: 0, doc: ping }] }), 2)],
    ['noop ping', opCompressed(opMsg({ sections: [{ kind: 0, doc: ping }] }), 0)],
    ['OP_INSERT', message(OP.INSERT, Buffer.concat([Buffer.alloc(4), Buffer.from('test.c\0'), Buffer.from([5, 0, 0, 0, 0])]))],
    ['OP_GET_MORE', message(OP.GET_MORE, Buffer.concat([Buffer.alloc(4), Buffer.from('test.c\0'), Buffer.alloc(12)]))],
    ['OP_KILL_CURSORS', message(OP.KILL_CURSORS, Buffer.alloc(16))],
    ['OP_REPLY from a client', message(OP.REPLY, Buffer.alloc(20))],
    ['header only', header(16, 1, 0, OP.MSG)],
    ['HTTP GET', Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n')],
  ];
  return seeds.map(([name, bytes]) => ({ name: `synthetic:${name}`, bytes }));
}

export function allSeeds(dir: string = CAPTURES_DIR): SeedFrame[] {
  return [...loadCaptureSeeds(dir), ...syntheticSeeds()];
}

// ---------------------------------------------------------------------------------------------
// Random BSON commands.

const COMMAND_NAMES = [
  'hello', 'isMaster', 'ismaster', 'ping', 'buildInfo', 'buildinfo', 'getParameter', 'setParameter',
  'getCmdLineOpts', 'getLog', 'hostInfo', 'serverStatus', 'whatsmyuri', 'connectionStatus', 'listCommands',
  'find', 'insert', 'endSessions', 'startSession', 'saslStart', 'saslContinue', 'getnonce', 'fooBar',
  'killSessions', 'refreshSessions', 'aggregate', '', '$query', 'query',
];

const FIELD_NAMES = [
  '$db', 'client', 'compression', 'helloOk', 'topologyVersion', 'maxAwaitTimeMS', 'lsid', '$readPreference',
  'apiVersion', 'apiStrict', 'writeConcern', 'comment', 'maxTimeMS', 'documents', 'showPrivileges',
  'showDetails', 'logLevel', 'quiet', 'allParameters', 'featureCompatibilityVersion', '$clusterTime',
  'saslSupportedMechs', 'speculativeAuthenticate', 'processId', 'counter', 'application', 'driver', 'name',
  '__proto__', 'constructor', 'toString', 'a.b', '$', '',
];

const keyArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...FIELD_NAMES, ...COMMAND_NAMES) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }).filter((k) => !k.includes('\0')) },
);

const leafArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer().map((n) => new Int32(n)),
  fc.constantFrom(0, 1, -1, 2147483647).map((n) => new Int32(n)),
  fc.double().map((d) => new Double(d)),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((b) => Long.fromBigInt(b)),
  fc.string({ maxLength: 24 }),
  fc.constantFrom('admin', 'test', '*', 'global', 'startupWarnings', 'snappy', 'zlib', 'SCRAM-SHA-256'),
  fc.boolean(),
  fc.constant(null),
  fc.uint8Array({ minLength: 12, maxLength: 12 }).map((b) => new ObjectId(Buffer.from(b))),
  fc.tuple(fc.uint8Array({ maxLength: 24 }), fc.constantFrom(0, 3, 4, 5, 0x80)).map(([b, sub]) => new Binary(b, sub)),
  fc.date({ noInvalidDate: true }),
  fc.constantFrom<unknown>(new MinKey(), new MaxKey(), Decimal128.fromString('1.5'), new Timestamp({ t: 1, i: 2 })),
  fc.string({ maxLength: 8 }).map((s) => new BSONRegExp(s.replace(/\0/g, ''), 'i')),
);

const { value: valueArb } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafArb,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.array(fc.tuple(keyArb, tie('value')), { maxLength: 4 }).map((entries) => new Map(entries)),
  ),
}));

/** A command-shaped document (command name first, as a Map so key order survives). */
const commandArb: fc.Arbitrary<Map<string, unknown>> = fc
  .record({
    name: fc.constantFrom(...COMMAND_NAMES),
    value: fc.oneof(fc.constant<unknown>(new Int32(1)), valueArb),
    fields: fc.array(fc.tuple(keyArb, valueArb), { maxLength: 6 }),
    db: fc.oneof(fc.constantFrom<unknown>('admin', 'test', 'admin', undefined, '', 'a.b', new Int32(1)), fc.string({ maxLength: 8 })),
    hello: fc.option(
      fc.record({
        processId: fc.uint8Array({ minLength: 12, maxLength: 12 }),
        counter: fc.integer({ min: -1, max: 3 }),
        wait: fc.integer({ min: -1, max: 20 }),
      }),
      { nil: undefined },
    ),
  })
  .map(({ name, value, fields, db, hello }) => {
    const doc = new Map<string, unknown>([[name, value]]);
    for (const [k, v] of fields) if (k !== name) doc.set(k, v);
    if (hello !== undefined) {
      doc.set('topologyVersion', new Map<string, unknown>([['processId', new ObjectId(Buffer.from(hello.processId))], ['counter', Long.fromNumber(hello.counter)]]));
      doc.set('maxAwaitTimeMS', new Int32(hello.wait));
    }
    if (db !== undefined) doc.set('$db', db);
    else doc.delete('$db');
    return doc;
  });

function safeBson(doc: Map<string, unknown>): Buffer {
  try {
    // bson serializes a Map (keeping its key order) at run time; its types only name Document.
    return Buffer.from(BSON.serialize(doc as unknown as Document));
  } catch {
    return Buffer.from([5, 0, 0, 0, 0]);
  }
}

const randomFrameArb: fc.Arbitrary<{ bytes: Buffer; label: string }> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(commandArb, fc.constantFrom(0, 0, 0, FLAG.moreToCome, FLAG.exhaustAllowed, FLAG.checksumPresent), fc.array(fc.tuple(keyArb, fc.array(commandArb, { maxLength: 3 })), { maxLength: 2 }), fc.integer())
      .map(([doc, flags, seqs, requestId]) => {
        const sections: Section[] = [{ kind: 0, doc: safeBson(doc) }];
        for (const [name, docs] of seqs) sections.push({ kind: 1, name, docs: docs.map(safeBson) });
        const checksum = (flags & FLAG.checksumPresent) !== 0;
        return { bytes: opMsg({ flags: flags & ~FLAG.checksumPresent, sections, checksum, requestId }), label: 'random-bson:OP_MSG' };
      }),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(commandArb, fc.constantFrom('admin.$cmd', 'test.$cmd', 'test.coll', 'admin', '', '.$cmd'), fc.integer({ min: -1, max: 10 }))
      .map(([doc, ns, flags]) => {
        doc.delete('$db');
        return { bytes: opQuery({ ns, flags, query: safeBson(doc) }), label: 'random-bson:OP_QUERY' };
      }),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom(OP.MSG, OP.QUERY, OP.COMPRESSED, OP.REPLY, OP.INSERT, 2010, 0), fc.uint8Array({ maxLength: 64 }))
      .map(([opCode, payload]) => ({ bytes: message(opCode, Buffer.from(payload)), label: `random-bytes:${opCode}` })),
  },
);

// ---------------------------------------------------------------------------------------------
// Mutations.

export type Mutation =
  | { readonly t: 'flip'; readonly pos: number; readonly bit: number }
  | { readonly t: 'byte'; readonly pos: number; readonly value: number }
  | { readonly t: 'insert'; readonly pos: number; readonly bytes: Uint8Array }
  | { readonly t: 'delete'; readonly pos: number; readonly len: number }
  | { readonly t: 'truncate'; readonly keep: number }
  | { readonly t: 'length'; readonly value: number }
  | { readonly t: 'lengthDelta'; readonly delta: number }
  | { readonly t: 'opcode'; readonly value: number }
  | { readonly t: 'flags'; readonly value: number }
  | { readonly t: 'kind'; readonly index: number; readonly value: number }
  | { readonly t: 'splice'; readonly other: number; readonly whole: boolean }
  | { readonly t: 'compress'; readonly id: number; readonly sizeDelta: number }
  | { readonly t: 'checksum'; readonly corrupt: boolean }
  | { readonly t: 'int32'; readonly pos: number; readonly value: number };

const interestingInt32 = fc.constantFrom(0, 1, -1, 4, 5, 15, 16, 17, 255, 256, 0x7fffffff, -0x80000000, 16 * 1024 * 1024, 48_000_000, 48_000_001);
const headerPos = fc.oneof(fc.nat(31), fc.nat(100_000));

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant('flip' as const), pos: headerPos, bit: fc.nat(7) }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('byte' as const), pos: headerPos, value: fc.oneof(fc.nat(255), fc.constantFrom(0, 0xff, 0x7f, 0x80, 1, 2, 3)) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('insert' as const), pos: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('delete' as const), pos: fc.nat(), len: fc.integer({ min: 1, max: 16 }) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('truncate' as const), keep: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('length' as const), value: fc.oneof(interestingInt32, fc.integer()) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('lengthDelta' as const), delta: fc.integer({ min: -8, max: 8 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('opcode' as const),
      value: fc.oneof(fc.constantFrom(1, 2001, 2002, 2003, 2004, 2005, 2006, 2007, 2010, 2011, 2012, 2013, 2014, 0, -1), fc.integer()),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('flags' as const),
      value: fc.oneof(
        fc.constantFrom(0, 1, 2, 3, 1 << 16, (1 << 16) | 2, 1 << 2, 1 << 15, 1 << 17, 1 << 31, 0xffffffff),
        fc.nat(31).map((bit) => (1 << bit) >>> 0),
        fc.integer({ min: 0, max: 0xffffffff }),
      ),
    }),
  },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('kind' as const), index: fc.nat(4), value: fc.oneof(fc.constantFrom(0, 1, 2, 3, 255), fc.nat(255)) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('splice' as const), other: fc.nat(), whole: fc.boolean() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('compress' as const),
      id: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(0, 1, 2) }, { weight: 1, arbitrary: fc.constantFrom(3, 4, 255) }),
      sizeDelta: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -20, max: 20 }) }, { weight: 1, arbitrary: interestingInt32 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('checksum' as const), corrupt: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('int32' as const), pos: fc.nat(), value: interestingInt32 }) },
);

/** Offsets of the section-kind bytes of an OP_MSG, as far as the section sizes can be followed. */
function sectionKindOffsets(frame: Buffer): number[] {
  const offsets: number[] = [];
  if (frame.length < 21 || frame.readInt32LE(12) !== OP.MSG) return offsets;
  let offset = 20;
  while (offset < frame.length && offsets.length < 8) {
    offsets.push(offset);
    if (offset + 5 > frame.length) break;
    const size = frame.readInt32LE(offset + 1);
    if (size < 4) break;
    offset += 1 + size;
  }
  return offsets;
}

function fixLength(frame: Buffer): Buffer {
  if (frame.length >= 4) frame.writeInt32LE(frame.length, 0);
  return frame;
}

function padTo(frame: Buffer, min: number): Buffer {
  return frame.length >= min ? frame : Buffer.concat([frame, Buffer.alloc(min - frame.length)]);
}

/** Applies one mutation; returns a new buffer (never mutates its input). */
export function applyMutation(input: Buffer, m: Mutation, seeds: readonly SeedFrame[]): Buffer {
  let frame: Buffer = Buffer.from(input);
  switch (m.t) {
    case 'flip':
      if (frame.length > 0) frame[m.pos % frame.length]! ^= 1 << m.bit;
      return frame;
    case 'byte':
      if (frame.length > 0) frame[m.pos % frame.length] = m.value;
      return frame;
    case 'insert': {
      const pos = m.pos % (frame.length + 1);
      return fixLength(Buffer.concat([frame.subarray(0, pos), Buffer.from(m.bytes), frame.subarray(pos)]));
    }
    case 'delete': {
      if (frame.length <= 16) return frame;
      const pos = 16 + (m.pos % (frame.length - 16));
      return fixLength(Buffer.concat([frame.subarray(0, pos), frame.subarray(Math.min(frame.length, pos + m.len))]));
    }
    case 'truncate':
      return Buffer.from(frame.subarray(0, m.keep % (frame.length + 1)));
    case 'length':
      frame = padTo(frame, 4);
      frame.writeInt32LE(m.value | 0, 0);
      return frame;
    case 'lengthDelta':
      frame = padTo(frame, 4);
      frame.writeInt32LE((frame.readInt32LE(0) + m.delta) | 0, 0);
      return frame;
    case 'opcode':
      frame = fixLength(padTo(frame, 16));
      frame.writeInt32LE(m.value | 0, 12);
      return frame;
    case 'flags':
      frame = fixLength(padTo(frame, 20));
      frame.writeUInt32LE(m.value >>> 0, 16);
      return frame;
    case 'kind': {
      const offsets = sectionKindOffsets(frame);
      if (offsets.length === 0) return frame;
      frame[offsets[m.index % offsets.length]!] = m.value;
      return frame;
    }
    case 'splice': {
      const other = seeds[m.other % seeds.length]!.bytes;
      // whole: a second message glued on as if it were more sections; otherwise its sections only.
      const tail = m.whole ? other : other.subarray(Math.min(other.length, 20));
      return fixLength(Buffer.concat([frame, tail]));
    }
    case 'compress': {
      const inner = fixLength(padTo(frame, 16));
      const size = inner.length - 16 + m.sizeDelta;
      return opCompressed(inner, m.id, m.sizeDelta === 0 ? {} : { uncompressedSize: size | 0, payload: m.id > 2 ? inner.subarray(16) : undefined });
    }
    case 'checksum': {
      frame = padTo(frame, 20);
      frame.writeUInt32LE((frame.readUInt32LE(16) | FLAG.checksumPresent) >>> 0, 16);
      frame = fixLength(Buffer.concat([frame, Buffer.alloc(4)]));
      let sum = refCrc32c(frame.subarray(0, frame.length - 4));
      if (m.corrupt) sum = (sum ^ 0x10) >>> 0;
      frame.writeUInt32LE(sum, frame.length - 4);
      return frame;
    }
    case 'int32': {
      if (frame.length < 4) return frame;
      const pos = m.pos % (frame.length - 3);
      frame.writeInt32LE(m.value | 0, pos);
      return frame;
    }
  }
}

function describeMutation(m: Mutation): string {
  return m.t === 'compress' ? `compress${m.id}${m.sizeDelta === 0 ? '' : '!'}` : m.t;
}

/** The arbitrary of fuzz frames over the given seeds. */
export function fuzzFrameArbitrary(seeds: readonly SeedFrame[]): fc.Arbitrary<FuzzFrame> {
  if (seeds.length === 0) throw new Error('no seed frames');
  const sourceArb = fc.oneof(
    { weight: 5, arbitrary: fc.nat(seeds.length - 1).map((i) => ({ bytes: seeds[i]!.bytes, label: 'seed' })) },
    { weight: 2, arbitrary: randomFrameArb },
  );
  return fc
    .record({
      source: sourceArb,
      mutations: fc.oneof(
        { weight: 1, arbitrary: fc.constant<Mutation[]>([]) },
        { weight: 6, arbitrary: fc.array(mutationArb, { minLength: 1, maxLength: 4 }) },
      ),
      // Most frames keep a consistent length so the server reads them whole; some lie.
      keepLength: fc.oneof({ weight: 6, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    })
    .map(({ source, mutations, keepLength }) => {
      let bytes = source.bytes;
      for (const m of mutations) bytes = applyMutation(bytes, m, seeds);
      const lies = mutations.some((m) => m.t === 'length' || m.t === 'lengthDelta' || m.t === 'truncate');
      if (keepLength && !lies && mutations.length > 0) bytes = fixLength(Buffer.from(bytes));
      const label = [source.label, ...mutations.map(describeMutation)].join('+');
      return { bytes, label };
    });
}

/** `count` frames, deterministic for `seed`. */
export function generateFrames(seeds: readonly SeedFrame[], count: number, seed: number): FuzzFrame[] {
  return fc.sample(fuzzFrameArbitrary(seeds), { seed, numRuns: count });
}

/** Frames in batches (bounded memory for long runs); batch i uses seed `seed + i`. */
export function* frameBatches(seeds: readonly SeedFrame[], total: number, seed: number, batchSize = 1000): Generator<FuzzFrame[]> {
  const arb = fuzzFrameArbitrary(seeds);
  for (let done = 0, batch = 0; done < total; batch++) {
    const n = Math.min(batchSize, total - done);
    yield fc.sample(arb, { seed: (seed + batch) | 0, numRuns: n });
    done += n;
  }
}
