/**
 * Replica-set mode (--replSet): a one-member set that is primary from the start, as a mongod
 * looks once rs.initiate() has run and it has won its first election (replset-transactions-
 * semantics.md §1): the member's identity and config, what hello adds, cluster time on every
 * reply, and the oplog behind them.
 */
import { Binary, Int32, Long, ObjectId, Timestamp, UUID, type Document } from 'bson';
import { isPlainObject } from '../bson/args.js';
import { ClusterClock, Oplog, TERM, type OpTime } from '../storage/oplog.js';

/** ObjectId 7fffffff + the term as a big-endian int64 (OID::initFromTermNumber). */
function electionIdOf(term: Long): ObjectId {
  const bytes = Buffer.alloc(12);
  bytes.writeUInt32BE(0x7fffffff, 0);
  bytes.writeBigInt64BE(term.toBigInt(), 4);
  return new ObjectId(bytes);
}

/** A dummy-signed $clusterTime's signature (auth off, or a client allowed to advance the clock). */
const DUMMY_SIGNATURE = { hash: new Binary(Buffer.alloc(20), 0), keyId: Long.fromNumber(0) };

/** One replica set of one member, primary in term 1 for the life of the process. */
export class ReplicaSet {
  readonly clock: ClusterClock;
  readonly oplog: Oplog;
  readonly electionId = electionIdOf(TERM);
  readonly replicaSetId = new ObjectId();
  /** The UUIDs of local.oplog.rs and local.system.replset (listCollections shows them). */
  readonly oplogUuid = new UUID();
  readonly configUuid = new UUID();
  /** The member's host:port, known once the server listens (hello's hosts, me and primary). */
  me = 'localhost:27017';
  private electionTime: Timestamp;
  private readonly electionDate: Date;

  constructor(
    readonly setName: string,
    private readonly nowMs: () => number,
    oplogBytes: number,
  ) {
    this.clock = new ClusterClock(nowMs);
    this.oplog = new Oplog(this.clock, nowMs, oplogBytes);
    // mongod's initiate and step-up each write a no-op entry; the election time is the second.
    this.oplog.noop({ msg: 'initiating set' });
    this.oplog.noop({ msg: 'new primary' });
    this.electionTime = this.oplog.lastApplied.ts;
    this.electionDate = new Date(nowMs());
  }

  /** The replica-set fields of hello, in mongod's order (hello_response.cpp addToBSON), after topologyVersion. */
  helloFields(legacy: boolean): Document {
    const last = this.oplog.lastApplied;
    const lastWriteDate = wholeSeconds(this.oplog.lastWallTime);
    return {
      hosts: [this.me],
      setName: this.setName,
      setVersion: new Int32(1),
      [legacy ? 'ismaster' : 'isWritablePrimary']: true,
      secondary: false,
      primary: this.me,
      me: this.me,
      electionId: this.electionId,
      lastWrite: { opTime: opTimeDocument(last), lastWriteDate, majorityOpTime: opTimeDocument(last), majorityWriteDate: lastWriteDate },
    };
  }

  /** replSetGetConfig's config (repl_set_config.idl defaults), also local.system.replset's document. */
  config(): Document {
    return {
      _id: this.setName,
      version: new Int32(1),
      term: new Int32(1),
      members: [
        {
          _id: new Int32(0),
          host: this.me,
          arbiterOnly: false,
          buildIndexes: true,
          hidden: false,
          priority: 1,
          tags: {},
          secondaryDelaySecs: Long.fromNumber(0),
          votes: new Int32(1),
        },
      ],
      protocolVersion: Long.fromNumber(1),
      writeConcernMajorityJournalDefault: true,
      settings: {
        chainingAllowed: true,
        heartbeatIntervalMillis: new Int32(2000),
        heartbeatTimeoutSecs: new Int32(10),
        electionTimeoutMillis: new Int32(10000),
        catchUpTimeoutMillis: new Int32(-1),
        catchUpTakeoverDelayMillis: new Int32(30000),
        getLastErrorModes: {},
        getLastErrorDefaults: { w: new Int32(1), wtimeout: new Int32(0) },
        replicaSetId: this.replicaSetId,
      },
    };
  }

  /** replSetGetStatus for a one-node primary (topology_coordinator.cpp prepareStatusResponse). */
  status(startedAt: number): Document {
    const now = this.nowMs();
    const last = this.oplog.lastApplied;
    const wall = this.oplog.lastWallTime;
    const optime = opTimeDocument(last);
    return {
      set: this.setName,
      date: new Date(now),
      myState: new Int32(1),
      term: TERM,
      syncSourceHost: '',
      syncSourceId: new Int32(-1),
      heartbeatIntervalMillis: Long.fromNumber(2000),
      majorityVoteCount: new Int32(1),
      writeMajorityCount: new Int32(1),
      votingMembersCount: new Int32(1),
      writableVotingMembersCount: new Int32(1),
      optimes: {
        lastCommittedOpTime: optime,
        lastCommittedWallTime: wall,
        readConcernMajorityOpTime: optime,
        appliedOpTime: optime,
        durableOpTime: optime,
        lastAppliedWallTime: wall,
        lastDurableWallTime: wall,
      },
      members: [
        {
          _id: new Int32(0),
          name: this.me,
          health: 1,
          state: new Int32(1),
          stateStr: 'PRIMARY',
          uptime: new Int32(Math.floor((now - startedAt) / 1000)),
          optime,
          optimeDate: wholeSeconds(new Date(last.ts.t * 1000)),
          lastAppliedWallTime: wall,
          lastDurableWallTime: wall,
          syncSourceHost: '',
          syncSourceId: new Int32(-1),
          infoMessage: '',
          electionTime: this.electionTime,
          electionDate: this.electionDate,
          configVersion: new Int32(1),
          configTerm: new Int32(1),
          self: true,
          lastHeartbeatMessage: '',
        },
      ],
    };
  }

  /** $clusterTime, dummy-signed (we hold no signing keys: replset-transactions-semantics.md §7 allows it). */
  clusterTimeDocument(): Document {
    return { clusterTime: this.clock.time, signature: DUMMY_SIGNATURE };
  }
}

/** Whether a client's $clusterTime moves ours (VectorClock gossip in), read leniently as drivers send it. */
export function gossipedTime(value: unknown): Timestamp | undefined {
  if (!isPlainObject(value)) return undefined;
  const time = value.clusterTime;
  return time instanceof Timestamp ? time : undefined;
}

export function opTimeDocument(optime: OpTime): Document {
  return { ts: optime.ts, t: optime.t };
}

/** appendTimeT: a Date of whole seconds. */
function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}
