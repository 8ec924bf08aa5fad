/**
 * Property: multi-document transactions on the in-process replica set behave as a model of
 * snapshot isolation with first-writer-wins, checked reply by reply.
 *
 * fast-check generates random interleavings of 4 sessions' transactions and of plain writes
 * (no session) over 5 documents: _id 0..2 in iso.c0, _id 0..1 in iso.c1. Transaction statements:
 * read a key, read every key (through an index, or in natural order), insert, update, no-op
 * update, upsert, delete, commitTransaction, abortTransaction, and startTransaction over an open
 * transaction. In some runs iso.c1 does not exist at the start (the first insert or upsert, in a
 * transaction or not, creates it), and in some the documents sit among 700 filler documents, so
 * the copy-on-write trees a snapshot clones have several chunks and levels. Every transaction
 * still open at the end is committed. Each command goes through `dispatch`
 * (test/helpers/inProcess.ts) and its reply is compared with the model's.
 *
 * THE RULE MODELLED (src/commands/transactions.ts Transaction.claim, changedSinceSnapshot and
 * commit; src/commands/request/dispatch.ts; src/sessions/transactionRecord.ts):
 *
 *  1. Snapshot. A transaction's snapshot is the committed state (documents and collections)
 *     when its first statement (startTransaction) arrives, before that statement runs. Every
 *     read in it returns the snapshot plus its own writes, whatever commits or plain writes
 *     happen since. A collection created since the snapshot does not exist for it.
 *  2. A statement *writes* a document only when it changes it in the transaction's view: an
 *     insert of an absent _id, an update that matches and changes it (an upsert inserts when
 *     absent), a delete that matches. An update or delete matching nothing and an update that
 *     changes nothing write nothing and never conflict: they are reads. An insert or upsert into
 *     a collection the view lacks creates it in the view (a new UUID), before the write.
 *  3. The first write of a document D (collection UUID + _id) by transaction T fails with
 *     WriteConflict (112, label TransientTransactionError, top-level ok: 0) exactly when
 *       (a) another open transaction holds D — it wrote D and has not ended — or
 *       (b) D was written in the committed state since T's snapshot: its collection exists in
 *           the committed state and either has another UUID than in T's view (created since the
 *           snapshot, by a plain write or another transaction's commit), or D was inserted,
 *           replaced or deleted there since, by a commit or a plain write — even when it is
 *           back to what the snapshot holds (inserted and deleted again), as mongod's storage
 *           engine sees newer updates of the _id. A collection T created that the committed
 *           state still lacks never conflicts.
 *     Otherwise T holds D until it ends; its later writes of D never conflict. An insert of an
 *     _id present in T's view is a DuplicateKey write error (ok: 1, writeErrors 11000, no label)
 *     before any conflict check.
 *  4. Plain writes (no session) never wait and never fail because of a transaction: they apply
 *     to the committed state at once, even to a document an open transaction holds.
 *  5. commitTransaction fails with WriteConflict (112 + TransientTransactionError) when any
 *     document T holds fails check 3b again now; otherwise all of T's writes appear at once, and
 *     the collections it created with them. A transaction without writes always commits.
 *  6. An error of a statement that ran (WriteConflict, a DuplicateKey write error) and a failed
 *     commit abort the transaction: its holds are released, nothing of it ever shows, and every
 *     later statement, commitTransaction and abortTransaction of that txnNumber answers
 *     NoSuchTransaction (251 + TransientTransactionError). A commit of a committed transaction
 *     answers ok again, an abort of it TransactionCommitted (256). startTransaction with a
 *     higher txnNumber aborts the session's open transaction.
 *
 * Checked after every commit, abort and plain write, and at the end: the committed state seen
 * outside any transaction (which collections exist; their documents through the records, the
 * _id index and the secondary indexes, which must agree) equals the model's. At the end also: it
 * equals the initial state with every plain write and the writes of each committed transaction
 * applied serially in commit order, each replayed write meeting its document as the
 * transaction saw it (present or absent). That is snapshot isolation, not serializability:
 * reads are not validated at commit, so write skew is allowed and not looked for.
 *
 * A failure shows the shrunk scenario, the seed, and the trace of commands with expected and
 * actual replies. Replay one with ISOLATION_SEED=<seed> ISOLATION_PATH=<path>; ISOLATION_RUNS
 * changes the number of runs; ISOLATION_STATS=1 prints how often each outcome came up.
 */
import { Long, UUID, type Document } from 'bson';
import fc from 'fast-check';
import { afterEach, describe, expect, test } from 'vitest';
import type { Client } from '../../../src/commands/client.js';
import { plain, serverPool, type InProcessServer } from '../../helpers/inProcess.js';

const servers = serverPool();
afterEach(() => servers.stopAll());

const DB = 'iso';
/** The collections and how many modelled documents (_id 0..n-1) each can hold. */
const COLLECTIONS = ['c0', 'c1'] as const;
const IDS_PER_COLLECTION = [3, 2] as const;
/** The collection that may not exist at the start. */
const MAYBE_ABSENT = 1;
const SESSIONS = 4;
/** Filler documents around the modelled ones in some runs: several chunks of records, several index levels. */
const FILLERS = 700;
const FILLER_BASE = 10_000;
/**
 * Documents are {_id, v, g}: v unique per write (index v_1: one document per key), g = v % GROUPS
 * (index g_1, shared with the fillers: many documents per key, and an update moves a document
 * from one key's postings to another's). Fillers are {_id, g}. A collection created after the
 * set-up has only the _id index.
 */
const GROUPS = 3;
const fields = (v: number): Document => ({ v, g: v % GROUPS });
const stored = (id: number, v: number): Document => ({ _id: id, ...fields(v) });

// ------------------------------------------------------------------------------------ scenario

type ReadKind = 'read' | 'scan' | 'naturalScan';
type WriteKind = 'insert' | 'update' | 'noopUpdate' | 'upsert' | 'delete';
type StatementKind = ReadKind | WriteKind;

type Op =
  /** A statement of the session's transaction; `fresh` starts a new one even over an open one. */
  | { readonly kind: 'statement'; readonly session: number; readonly statement: StatementKind; readonly coll: number; readonly id: number; readonly fresh: boolean }
  | { readonly kind: 'commit'; readonly session: number }
  | { readonly kind: 'abort'; readonly session: number }
  | { readonly kind: 'plain'; readonly statement: 'read' | Exclude<WriteKind, 'noopUpdate'>; readonly coll: number; readonly id: number };

interface Scenario {
  /** Whether c1 exists (with its indexes) at the start. */
  readonly c1Exists: boolean;
  /** The modelled documents present at the start ("c/id"; those of c1 only if it exists). */
  readonly initial: readonly string[];
  readonly fillers: boolean;
  readonly ops: readonly Op[];
}

const isRead = (statement: StatementKind): statement is ReadKind => statement === 'read' || statement === 'scan' || statement === 'naturalScan';

const ALL_KEYS: readonly string[] = COLLECTIONS.flatMap((_, c) => Array.from({ length: IDS_PER_COLLECTION[c]! }, (_, id) => `${c}/${id}`));

function keyParts(key: string): { coll: number; id: number } {
  const [coll, id] = key.split('/').map(Number);
  return { coll: coll!, id: id! };
}

const keyArb = fc.constantFrom(...ALL_KEYS).map(keyParts);
const sessionArb = fc.integer({ min: 0, max: SESSIONS - 1 });

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 14,
    arbitrary: fc
      .record({
        session: sessionArb,
        statement: fc.constantFrom<StatementKind>('read', 'read', 'scan', 'naturalScan', 'insert', 'insert', 'update', 'update', 'noopUpdate', 'upsert', 'delete', 'delete'),
        key: keyArb,
        // One statement in ten starts a new transaction whatever the session's state (shrinks to false).
        fresh: fc.integer({ min: 0, max: 9 }).map((roll) => roll === 9),
      })
      .map((r) => ({ kind: 'statement' as const, session: r.session, statement: r.statement, coll: r.key.coll, id: r.key.id, fresh: r.fresh })),
  },
  { weight: 3, arbitrary: sessionArb.map((session) => ({ kind: 'commit' as const, session })) },
  { weight: 1, arbitrary: sessionArb.map((session) => ({ kind: 'abort' as const, session })) },
  {
    weight: 3,
    arbitrary: fc
      .record({ statement: fc.constantFrom('read' as const, 'insert' as const, 'update' as const, 'upsert' as const, 'delete' as const), key: keyArb })
      .map((r) => ({ kind: 'plain' as const, statement: r.statement, coll: r.key.coll, id: r.key.id })),
  },
);

const scenarioArb: fc.Arbitrary<Scenario> = fc
  .record({
    // Rolls that shrink to the simpler case: c1 exists, no fillers.
    c1Exists: fc.integer({ min: 0, max: 2 }).map((roll) => roll !== 2),
    initial: fc.subarray([...ALL_KEYS]),
    fillers: fc.integer({ min: 0, max: 3 }).map((roll) => roll === 3),
    // size 'max': lengths up to maxLength (the default size stops near 10, too short for transactions to overlap much).
    ops: fc.array(opArb, { minLength: 1, maxLength: 50, size: 'max' }),
  })
  .map((s) => ({ ...s, initial: s.initial.filter((key) => s.c1Exists || keyParts(key).coll !== MAYBE_ABSENT) }));

// ------------------------------------------------------------------------------------ the model

/** With ISOLATION_STATS=1: how often each kind of outcome came up over the runs (printed at the end). */
const tally = new Map<string, number>();
const count = (outcome: string) => tally.set(outcome, (tally.get(outcome) ?? 0) + 1);

/** A stored version of a document: its value, and `stamp`, which stands for the object's identity. */
interface Version {
  readonly v: number;
  readonly stamp: number;
}

/** A catalog: each collection's identity (its UUID; undefined while it does not exist), and the documents by "c/id". */
interface CatalogState {
  readonly colls: Array<number | undefined>;
  readonly docs: Map<string, Version>;
}

const cloneState = (state: CatalogState): CatalogState => ({ colls: [...state.colls], docs: new Map(state.docs) });

/** A write that took effect (in a transaction, or a plain one), for the serial replay. */
interface Write {
  readonly op: 'insert' | 'update' | 'delete';
  readonly key: string;
  /** The value written (insert, update). */
  readonly v?: number;
}

/** A document a transaction holds: its collection's identity in the transaction's view, and how many committed writes it had at the snapshot. */
interface Held {
  readonly key: string;
  readonly ident: number;
  readonly writesAtSnapshot: number;
}

interface ModelTxn {
  readonly serial: number;
  readonly snapshot: CatalogState;
  readonly view: CatalogState;
  /** What it holds, by "ident|c/id". */
  readonly written: Map<string, Held>;
  readonly writes: Write[];
  /** How many times each document had been written when the snapshot was taken (for the tally only). */
  readonly snapshotWrites: Map<string, number>;
}

/** Where a session's client stands: its txnNumber, and what the server holds for it. */
interface SessionModel {
  readonly lsid: Document;
  txnNumber: number;
  /**
   * none: nothing started yet; open: in progress; failed: aborted by the server after an error,
   * the client keeps sending that txnNumber (expecting 251) until it commits or aborts;
   * aborted / committed: over, the next statement starts a new transaction.
   */
  state: 'none' | 'open' | 'failed' | 'aborted' | 'committed';
  txn: ModelTxn | undefined;
}

type Claim = 'ok' | 'held by another transaction' | 'collection created since the snapshot' | 'document written since the snapshot';

class Model {
  /** The committed state. */
  readonly live: CatalogState;
  readonly holders = new Map<string, ModelTxn>();
  readonly sessions: SessionModel[];
  /** How many times each document was written in the committed state (for the tally only). */
  readonly liveWrites = new Map<string, number>();
  /** Plain writes and committed transactions' writes, in the order they took effect. */
  readonly log: Array<{ kind: 'plain'; write: Write } | { kind: 'txn'; serial: number; writes: Write[] }> = [];
  private values = 0;
  private stamps = 0;
  private idents = 0;
  private transactions = 0;

  constructor(scenario: Scenario) {
    this.live = {
      colls: COLLECTIONS.map((_, c) => (c === MAYBE_ABSENT && !scenario.c1Exists ? undefined : this.ident())),
      docs: new Map(scenario.initial.map((key) => [key, this.version()])),
    };
    this.sessions = Array.from({ length: SESSIONS }, (_, i) => ({
      lsid: { id: new UUID(`00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`) },
      txnNumber: 0,
      state: 'none' as const,
      txn: undefined,
    }));
  }

  /** A new stored version (a new document object) with a value never used before. */
  version(): Version {
    return { v: ++this.values, stamp: ++this.stamps };
  }

  /** The committed version of `key` changed (rule 3b counts these). */
  wrote(key: string): void {
    this.liveWrites.set(key, (this.liveWrites.get(key) ?? 0) + 1);
  }

  /** A new collection identity (UUID). */
  ident(): number {
    return ++this.idents;
  }

  begin(session: SessionModel): ModelTxn {
    if (session.state === 'open') this.end(session.txn!);
    session.txnNumber += 1;
    const txn: ModelTxn = {
      serial: ++this.transactions,
      snapshot: cloneState(this.live),
      view: cloneState(this.live),
      written: new Map(),
      writes: [],
      snapshotWrites: new Map(this.liveWrites),
    };
    session.txn = txn;
    session.state = 'open';
    return txn;
  }

  /** Rule 3b (and 5): whether the committed state has another version of the document than the snapshot. */
  private changed(held: Held): Claim {
    const liveIdent = this.live.colls[keyParts(held.key).coll];
    if (liveIdent === undefined) return 'ok';
    if (liveIdent !== held.ident) return 'collection created since the snapshot';
    return (this.liveWrites.get(held.key) ?? 0) !== held.writesAtSnapshot ? 'document written since the snapshot' : 'ok';
  }

  /** Rule 3: whether T may write `key` now (it then holds it), or why not. */
  claim(txn: ModelTxn, key: string): Claim {
    const ident = txn.view.colls[keyParts(key).coll]!;
    const heldKey = `${ident}|${key}`;
    if (txn.written.has(heldKey)) return 'ok';
    const holder = this.holders.get(heldKey);
    if (holder !== undefined && holder !== txn) return 'held by another transaction';
    const held: Held = {
      key,
      ident,
      writesAtSnapshot: txn.snapshotWrites.get(key) ?? 0,
    };
    const changed = this.changed(held);
    if (changed !== 'ok') return changed;
    txn.written.set(heldKey, held);
    this.holders.set(heldKey, txn);
    return 'ok';
  }

  /** The transaction ends (commit or abort): its holds are released. */
  end(txn: ModelTxn): void {
    for (const [heldKey] of txn.written) if (this.holders.get(heldKey) === txn) this.holders.delete(heldKey);
  }

  finish(session: SessionModel, state: 'failed' | 'aborted' | 'committed'): void {
    this.end(session.txn!);
    session.txn = undefined;
    session.state = state;
  }

  /** Rule 5: true when it commits. */
  commit(session: SessionModel): boolean {
    const txn = session.txn!;
    for (const held of txn.written.values()) {
      const changed = this.changed(held);
      if (changed !== 'ok') {
        count(`commit: WriteConflict, ${changed}`);
        this.finish(session, 'aborted');
        return false;
      }
    }
    for (const held of txn.written.values()) {
      const { coll } = keyParts(held.key);
      if (this.live.colls[coll] === undefined) {
        count('commit: creates a collection');
        this.live.colls[coll] = held.ident;
      }
      const version = txn.view.docs.get(held.key);
      if (version === undefined) this.live.docs.delete(held.key);
      else this.live.docs.set(held.key, version);
      this.wrote(held.key);
    }
    if (txn.writes.length > 0) this.log.push({ kind: 'txn', serial: txn.serial, writes: txn.writes });
    this.finish(session, 'committed');
    return true;
  }
}

// ------------------------------------------------------------------------------------ commands

/** A reply reduced to what the model predicts. */
type Summary =
  | { ok: 0; code: number; codeName: string; labels: string[] }
  | { ok: 1; docs: Document[] }
  | { ok: 1; n: number; nModified?: number; upserted?: unknown[]; writeErrors?: number[]; labels?: string[] };

const ERRORS = {
  writeConflict: { ok: 0, code: 112, codeName: 'WriteConflict', labels: ['TransientTransactionError'] },
  noSuchTransaction: { ok: 0, code: 251, codeName: 'NoSuchTransaction', labels: ['TransientTransactionError'] },
  committed: { ok: 0, code: 256, codeName: 'TransactionCommitted', labels: [] },
} as const satisfies Record<string, Summary>;

const byId = (a: Document, b: Document) => (a._id as number) - (b._id as number);

/** The modelled documents of collection `coll` in `state`, by _id. */
function documentsOf(state: CatalogState, coll: number): Document[] {
  return [...state.docs]
    .filter(([key]) => keyParts(key).coll === coll)
    .map(([key, version]) => stored(keyParts(key).id, version.v))
    .sort(byId);
}

interface Run {
  readonly model: Model;
  /** The collections made at the set-up, which have the indexes on v and g. */
  readonly indexed: readonly boolean[];
}

/**
 * read: find by _id (the _id index). scan: every modelled document through the index on g
 * (fillers have no v), else (no such index) unhinted. naturalScan: every one in natural order
 * (the records). The reply's documents are compared sorted by _id.
 */
function readStatement(run: Run, state: CatalogState, statement: ReadKind, key: string): { body: Document; expected: Summary } {
  const { coll, id } = keyParts(key);
  const name = COLLECTIONS[coll]!;
  if (statement === 'read') {
    const version = state.docs.get(key);
    return { body: { find: name, filter: { _id: id }, singleBatch: true }, expected: { ok: 1, docs: version === undefined ? [] : [stored(id, version.v)] } };
  }
  const expected: Summary = { ok: 1, docs: documentsOf(state, coll) };
  if (statement === 'scan') {
    return { body: { find: name, filter: { g: { $gte: 0 }, v: { $exists: true } }, ...(run.indexed[coll] ? { hint: { g: 1 } } : {}), sort: { _id: 1 }, singleBatch: true }, expected };
  }
  return { body: { find: name, filter: { v: { $exists: true } }, hint: { $natural: 1 }, singleBatch: true }, expected };
}

function writeBody(statement: WriteKind, key: string, v: number): Document {
  const { coll, id } = keyParts(key);
  const name = COLLECTIONS[coll]!;
  if (statement === 'insert') return { insert: name, documents: [stored(id, v)] };
  if (statement === 'delete') return { delete: name, deletes: [{ q: { _id: id }, limit: 1 }] };
  return { update: name, updates: [{ q: { _id: id }, u: { $set: fields(v) }, ...(statement === 'upsert' ? { upsert: true } : {}) }] };
}

/**
 * A write statement against `state` (a transaction's view, or the committed state): its command,
 * the reply expected, and its effect on `state`. `allowed` (rule 3 in a transaction; always for a
 * plain write) is asked only when the statement would write.
 */
function writeStatement(model: Model, state: CatalogState, statement: WriteKind, key: string, allowed: () => boolean): { body: Document; expected: Summary; write?: Write; denied?: true } {
  const { coll, id } = keyParts(key);
  const present = state.docs.get(key);
  if (statement === 'noopUpdate') {
    // Sets the fields to the values they have: matches (or not), modifies nothing, writes nothing.
    return { body: writeBody(statement, key, present?.v ?? 0), expected: { ok: 1, n: present === undefined ? 0 : 1, nModified: 0 } };
  }
  const version = model.version();
  const body = writeBody(statement, key, version.v);
  const inserting = present === undefined && (statement === 'insert' || statement === 'upsert');
  if (statement === 'insert' && present !== undefined) return { body, expected: { ok: 1, n: 0, writeErrors: [11000] } };
  if (present === undefined && !inserting) return { body, expected: statement === 'delete' ? { ok: 1, n: 0 } : { ok: 1, n: 0, nModified: 0 } };
  // An insert creates a missing collection first (catalog.ensure), conflict or not.
  if (inserting && state.colls[coll] === undefined) state.colls[coll] = model.ident();
  if (!allowed()) return { body, expected: ERRORS.writeConflict, denied: true };
  if (statement === 'delete') {
    state.docs.delete(key);
    return { body, expected: { ok: 1, n: 1 }, write: { op: 'delete', key } };
  }
  state.docs.set(key, version);
  if (statement === 'insert') return { body, expected: { ok: 1, n: 1 }, write: { op: 'insert', key, v: version.v } };
  if (inserting) return { body, expected: { ok: 1, n: 1, nModified: 0, upserted: [id] }, write: { op: 'insert', key, v: version.v } };
  return { body, expected: { ok: 1, n: 1, nModified: 1 }, write: { op: 'update', key, v: version.v } };
}

interface Step {
  readonly command: Document;
  readonly expected: Summary;
  /** Compare the committed state afterwards. */
  readonly checkState: boolean;
}

/** Applies one op to the model: the command to send and the reply expected (undefined: nothing to send). */
function step(run: Run, op: Op): Step | undefined {
  const { model } = run;
  if (op.kind === 'plain') {
    const key = `${op.coll}/${op.id}`;
    if (op.statement === 'read') {
      const { body, expected } = readStatement(run, model.live, 'read', key);
      return { command: { ...body, $db: DB }, expected, checkState: false };
    }
    const result = writeStatement(model, model.live, op.statement, key, () => true);
    if (result.write !== undefined) {
      model.log.push({ kind: 'plain', write: result.write });
      model.wrote(key);
    }
    return { command: { ...result.body, $db: DB }, expected: result.expected, checkState: true };
  }

  const session = model.sessions[op.session]!;
  const txnFields = (start: boolean): Document => ({
    lsid: session.lsid,
    txnNumber: Long.fromNumber(session.txnNumber),
    autocommit: false,
    ...(start ? { startTransaction: true } : {}),
  });

  if (op.kind === 'commit' || op.kind === 'abort') {
    if (session.state === 'none') return undefined;
    const command = { [op.kind === 'commit' ? 'commitTransaction' : 'abortTransaction']: 1, ...txnFields(false), $db: 'admin' };
    let expected: Summary;
    if (session.state === 'failed' || session.state === 'aborted') {
      expected = ERRORS.noSuchTransaction;
      session.state = 'aborted';
    } else if (session.state === 'committed') {
      expected = op.kind === 'commit' ? { ok: 1, n: 0 } : ERRORS.committed;
    } else if (op.kind === 'abort') {
      model.finish(session, 'aborted');
      expected = { ok: 1, n: 0 };
    } else {
      expected = model.commit(session) ? { ok: 1, n: 0 } : ERRORS.writeConflict;
    }
    return { command, expected, checkState: true };
  }

  // A statement: a new transaction unless one is open or failed (then it goes on with that txnNumber).
  const key = `${op.coll}/${op.id}`;
  const start = op.fresh || session.state === 'none' || session.state === 'aborted' || session.state === 'committed';
  if (start) model.begin(session);
  const txnPart = txnFields(start);
  if (session.state === 'failed') {
    const body = isRead(op.statement) ? readStatement(run, model.live, op.statement, key).body : writeBody(op.statement, key, 0);
    return { command: { ...body, ...txnPart, $db: DB }, expected: ERRORS.noSuchTransaction, checkState: false };
  }
  const txn = session.txn!;
  if (isRead(op.statement)) {
    const { body, expected } = readStatement(run, txn.view, op.statement, key);
    if (JSON.stringify(expected) !== JSON.stringify(readStatement(run, model.live, op.statement, key).expected)) count(`txn ${op.statement}: differs from the committed state`);
    return { command: { ...body, ...txnPart, $db: DB }, expected, checkState: false };
  }
  const createsCollection = txn.view.colls[op.coll] === undefined;
  let conflict: Claim = 'ok';
  const result = writeStatement(model, txn.view, op.statement, key, () => (conflict = model.claim(txn, key)) === 'ok');
  if (conflict !== 'ok') count(`txn write: WriteConflict, ${conflict}`);
  if (createsCollection && txn.view.colls[op.coll] !== undefined) count('txn write: creates a collection in its view');
  if (result.write !== undefined) txn.writes.push(result.write);
  // Rule 6: a WriteConflict or a write error aborts the transaction.
  if (result.denied === true || (result.expected.ok === 1 && 'writeErrors' in result.expected)) model.finish(session, 'failed');
  return { command: { ...result.body, ...txnPart, $db: DB }, expected: result.expected, checkState: false };
}

// ------------------------------------------------------------------------------------ running

function summarize(reply: Document, expected: Summary): Summary {
  const r = plain(reply);
  if (Number(r.ok) !== 1) return { ok: 0, code: r.code as number, codeName: r.codeName as string, labels: (r.errorLabels as string[] | undefined) ?? [] };
  if ('docs' in expected) return { ok: 1, docs: [...(((r.cursor as Document | undefined)?.firstBatch as Document[] | undefined) ?? [])].sort(byId) };
  const out: Summary = { ok: 1, n: Number(r.n ?? 0) };
  if ('nModified' in expected || r.nModified !== undefined) out.nModified = Number(r.nModified);
  if (r.upserted !== undefined) out.upserted = (r.upserted as Document[]).map((u) => u._id);
  if (r.writeErrors !== undefined) out.writeErrors = (r.writeErrors as Document[]).map((e) => e.code as number);
  if (r.errorLabels !== undefined) out.labels = r.errorLabels as string[];
  return out;
}

/** A committed state as compared: which collections exist, and each one's modelled documents by _id. */
interface Shown {
  readonly exists: boolean[];
  readonly docs: Document[][];
}

/**
 * The committed state as a client outside any transaction sees it, the documents read through
 * each structure that holds them — the records in natural order, the _id index, and the indexes
 * on v and g where they exist — which must agree.
 */
async function committedState(server: InProcessServer, client: Client, run: Run): Promise<Shown> {
  const listed = plain(await server.run(client, { listCollections: 1, nameOnly: true, $db: DB }));
  const names = new Set(((listed.cursor as Document).firstBatch as Document[]).map((c) => c.name as string));
  const docs: Document[][] = [];
  for (const [c, name] of COLLECTIONS.entries()) {
    const read = async (query: Document) => {
      const reply = plain(await server.run(client, { find: name, ...query, singleBatch: true, $db: DB }));
      if (Number(reply.ok) !== 1) throw new Error(`find ${JSON.stringify(query)}: ${JSON.stringify(reply)}`);
      return [...((reply.cursor as Document).firstBatch as Document[])].sort(byId);
    };
    const natural = await read({ filter: { v: { $exists: true } }, hint: { $natural: 1 } });
    const viaIndexes: Record<string, Document[]> = { _id_: await read({ filter: { _id: { $lt: FILLER_BASE } }, hint: { _id: 1 } }) };
    if (run.indexed[c]) {
      viaIndexes.v_1 = await read({ filter: { v: { $gte: 0 } }, hint: { v: 1 } });
      viaIndexes.g_1 = await read({ filter: { g: { $gte: 0 }, v: { $exists: true } }, hint: { g: 1 } });
    }
    expect(viaIndexes, `${name}: the indexes disagree with the records`).toEqual(Object.fromEntries(Object.keys(viaIndexes).map((index) => [index, natural])));
    docs.push(natural);
  }
  return { exists: COLLECTIONS.map((name) => names.has(name)), docs };
}

function shownOf(state: CatalogState): Shown {
  return { exists: state.colls.map((ident) => ident !== undefined), docs: COLLECTIONS.map((_, c) => documentsOf(state, c)) };
}

/** The initial state with the log applied serially (rule 5's "all at once", in commit order). */
function serialReplay(initial: CatalogState, log: Model['log']): Shown {
  const exists = initial.colls.map((ident) => ident !== undefined);
  const docs = new Map([...initial.docs].map(([key, version]) => [key, version.v]));
  const apply = (write: Write, origin: string) => {
    const present = docs.has(write.key);
    if ((write.op === 'insert') === present) throw new Error(`serial replay: ${origin} ${write.op}s ${write.key}, which is ${present ? 'present' : 'absent'} at its commit`);
    if (write.op === 'insert') exists[keyParts(write.key).coll] = true;
    if (write.op === 'delete') docs.delete(write.key);
    else docs.set(write.key, write.v!);
  };
  for (const entry of log) {
    if (entry.kind === 'plain') apply(entry.write, 'a plain write');
    else for (const write of entry.writes) apply(write, `transaction #${entry.serial}`);
  }
  const state: CatalogState = { colls: exists.map((e) => (e ? 0 : undefined)), docs: new Map([...docs].map(([key, v]) => [key, { v, stamp: 0 }])) };
  return shownOf(state);
}

async function setUp(server: InProcessServer, client: Client, scenario: Scenario, run: Run): Promise<void> {
  const ok = (reply: Document) => {
    if (Number(reply.ok) !== 1 || reply.writeErrors !== undefined) throw new Error(`set-up failed: ${JSON.stringify(plain(reply))}`);
  };
  for (const [c, name] of COLLECTIONS.entries()) {
    if (!run.indexed[c]) continue;
    ok(await server.run(client, { create: name, $db: DB }));
    ok(await server.run(client, { createIndexes: name, indexes: [{ key: { v: 1 }, name: 'v_1' }, { key: { g: 1 }, name: 'g_1' }], $db: DB }));
    // The modelled documents spread among the fillers, so they sit in different chunks and leaves.
    const documents: Document[] = [];
    const mine = [...run.model.live.docs].filter(([key]) => keyParts(key).coll === c);
    const fillers = scenario.fillers ? FILLERS : 0;
    for (let f = 0; f < fillers; f++) {
      if (mine.length > 0 && f % Math.ceil(fillers / mine.length) === 0) {
        const [key, version] = mine.shift()!;
        documents.push(stored(keyParts(key).id, version.v));
      }
      documents.push({ _id: FILLER_BASE + ((f * 389) % fillers), g: f % GROUPS });
    }
    for (const [key, version] of mine) documents.push(stored(keyParts(key).id, version.v));
    if (documents.length > 0) ok(await server.run(client, { insert: name, documents, $db: DB }));
  }
}

/** Runs one scenario, comparing every reply with the model's; throws with the trace at the first difference. */
async function runScenario(scenario: Scenario): Promise<void> {
  const server = servers.make({ replSet: 'rs0' });
  try {
    const client = server.client();
    const model = new Model(scenario);
    const run: Run = { model, indexed: model.live.colls.map((ident) => ident !== undefined) };
    const initial = cloneState(model.live);
    await setUp(server, client, scenario, run);

    const trace: string[] = [];
    const check = (what: string, actual: unknown, expected: unknown) => {
      try {
        expect(actual).toEqual(expected);
      } catch (err) {
        throw new Error(`${what}\n--- trace ---\n${trace.join('\n')}\n--- ${(err as Error).message}`);
      }
    };
    const checkCommitted = async (what: string) => check(what, await committedState(server, client, run), shownOf(model.live));

    // The generated ops, then a commit of each transaction still open.
    for (let i = 0; i < scenario.ops.length || model.sessions.some((s) => s.state === 'open'); i++) {
      const op: Op = i < scenario.ops.length ? scenario.ops[i]! : { kind: 'commit', session: model.sessions.findIndex((s) => s.state === 'open') };
      const next = step(run, op);
      if (next === undefined) continue;
      count(outcomeOf(op, next.expected));
      const reply = await server.run(client, next.command);
      const actual = summarize(reply, next.expected);
      const { lsid: _lsid, ...shown } = next.command;
      trace.push(`#${i} ${JSON.stringify(op)}\n     sent     ${JSON.stringify(plain(shown))}\n     expected ${JSON.stringify(next.expected)}\n     actual   ${JSON.stringify(actual)}`);
      check(`step #${i}: the reply differs from the model's`, actual, next.expected);
      if (next.checkState) await checkCommitted(`after step #${i}: the committed state differs from the model's`);
    }
    await checkCommitted('at the end: the committed state differs from the model');
    let serial: Shown;
    try {
      serial = serialReplay(initial, model.log);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- trace ---\n${trace.join('\n')}`);
    }
    check('at the end: the committed state is not the serial application of the committed writes', shownOf(model.live), serial);
  } finally {
    server.stop();
  }
}

function outcomeOf(op: Op, expected: Summary): string {
  const what = op.kind === 'statement' ? `txn ${op.statement}` : op.kind === 'plain' ? `plain ${op.statement}` : op.kind;
  if (expected.ok === 0) return `${what}: ${expected.codeName}`;
  if ('docs' in expected) return `${what}: ${expected.docs.length} docs`;
  if (expected.writeErrors !== undefined) return `${what}: DuplicateKey`;
  return `${what}: n=${expected.n}`;
}

function runParameters(): fc.Parameters<[Scenario]> {
  const { ISOLATION_SEED: seed, ISOLATION_PATH: path, ISOLATION_RUNS: runs } = process.env;
  return {
    numRuns: runs === undefined ? 150 : Number(runs),
    ...(seed === undefined ? {} : { seed: Number(seed) }),
    ...(path === undefined ? {} : { path }),
  };
}

describe('transactions: snapshot isolation with first-writer-wins, against a model', () => {
  test('random interleavings of 4 sessions and plain writes over 5 documents in 2 collections', async () => {
    await fc.assert(fc.asyncProperty(scenarioArb, runScenario), runParameters());
    if (process.env.ISOLATION_STATS !== undefined) {
      console.log([...tally].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, n]) => `${k.padEnd(56)} ${n}`).join('\n'));
    }
  });
});

/**
 * A document inserted and deleted again since the snapshot was written since (rule 3b): T1's
 * insert of it is a WriteConflict, as in mongod (WiredTiger finds committed updates of the _id
 * key newer than T1's snapshot), although the committed state holds what T1's snapshot held.
 */
describe('a document inserted and deleted since the snapshot', () => {
  test('T1 inserts an _id that T2 inserted and T3 deleted, both committed after T1 began: mongod answers WriteConflict', async () => {
    const server = servers.make({ replSet: 'rs0' });
    const client = server.client();
    const sessions = [1, 2, 3].map((i) => ({ id: new UUID(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`) }));
    const inTxn = (session: number, start = false): Document => ({
      lsid: sessions[session - 1],
      txnNumber: Long.fromNumber(1),
      autocommit: false,
      ...(start ? { startTransaction: true } : {}),
    });
    const run = async (body: Document) => summarize(await server.run(client, body), { ok: 1, n: 0 });
    expect(await run({ create: 'c', $db: DB })).toEqual({ ok: 1, n: 0 });
    // T1's snapshot: _id 'j' absent.
    expect(summarize(await server.run(client, { find: 'c', filter: { _id: 'j' }, ...inTxn(1, true), $db: DB }), { ok: 1, docs: [] })).toEqual({ ok: 1, docs: [] });
    expect(await run({ insert: 'c', documents: [{ _id: 'j', by: 'T2' }], ...inTxn(2, true), $db: DB })).toEqual({ ok: 1, n: 1 });
    expect(await run({ commitTransaction: 1, ...inTxn(2), $db: 'admin' })).toEqual({ ok: 1, n: 0 });
    expect(await run({ delete: 'c', deletes: [{ q: { _id: 'j' }, limit: 1 }], ...inTxn(3, true), $db: DB })).toEqual({ ok: 1, n: 1 });
    expect(await run({ commitTransaction: 1, ...inTxn(3), $db: 'admin' })).toEqual({ ok: 1, n: 0 });
    expect(await run({ insert: 'c', documents: [{ _id: 'j', by: 'T1' }], ...inTxn(1), $db: DB })).toEqual(ERRORS.writeConflict);
  });
});
