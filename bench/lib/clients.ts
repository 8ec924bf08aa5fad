/**
 * The two benchmark clients, run in the benchmark process against a server in another process:
 * the official driver, and a raw socket client sending pre-encoded OP_MSG frames.
 */
import type { Document } from 'bson';
import { MongoClient } from 'mongodb';
import { type Loop, measureThroughput, type Throughput, type Timing } from './measure.js';
import { LOOPBACK } from './processes.js';
import { decodeOpMsgBody, encodeOpMsg, RawConnection } from './wire.js';

export type ClientKind = 'driver' | 'raw';

export interface RoundTripRun {
  port: number;
  connections: number;
  /** The command document, without $db. */
  command: Document;
  db: string;
  timing: Timing;
}

export function runRoundTrips(client: ClientKind, run: RoundTripRun): Promise<Throughput> {
  return client === 'driver' ? driverRoundTrips(run) : rawRoundTrips(run);
}

/**
 * `connections` concurrent loops of `await db.command(command)` through one MongoClient whose
 * pool holds exactly that many connections. Heartbeats are pushed past the run so monitoring
 * traffic does not land inside the window (the same options for every server).
 */
async function driverRoundTrips(run: RoundTripRun): Promise<Throughput> {
  const client = new MongoClient(`mongodb://${LOOPBACK}:${run.port}/?directConnection=true`, {
    maxPoolSize: run.connections,
    minPoolSize: run.connections,
    maxConnecting: Math.min(run.connections, 8),
    heartbeatFrequencyMS: 120_000,
    serverSelectionTimeoutMS: 5_000,
    connectTimeoutMS: 5_000,
    socketTimeoutMS: 30_000,
  });
  try {
    await client.connect();
    const db = client.db(run.db);
    const loop: Loop = async (keepGoing, done) => {
      while (keepGoing()) {
        // Throws on {ok: 0}, so a failing command cannot pass for a fast one.
        await db.command(run.command);
        done();
      }
    };
    return await measureThroughput(
      Array.from({ length: run.connections }, () => loop),
      run.timing,
    );
  } finally {
    await client.close();
  }
}

/**
 * `connections` raw sockets, each with one request in flight: the pre-encoded frame is re-sent
 * (with a fresh requestId) as soon as the reply matching the previous one arrives.
 */
async function rawRoundTrips(run: RoundTripRun): Promise<Throughput> {
  const template = encodeOpMsg({ ...run.command, $db: run.db });
  const connections = await Promise.all(Array.from({ length: run.connections }, () => RawConnection.open(run.port)));
  try {
    const loops = connections.map((conn): Loop => {
      const frame = Buffer.from(template);
      let okLength = -1;
      return (keepGoing, done) =>
        new Promise<void>((resolve, reject) => {
          const onReply = (err: Error | undefined, reply: Buffer | undefined) => {
            if (err !== undefined) {
              reject(err);
              return;
            }
            // Decode the first reply, and any whose size differs from it: each must be {ok: 1}.
            if (reply!.length !== okLength) {
              checkOk(reply!);
              okLength = reply!.length;
            }
            done();
            if (keepGoing()) conn.send(frame, onReply);
            else resolve();
          };
          conn.send(frame, onReply);
        });
    });
    return await measureThroughput(loops, run.timing);
  } finally {
    for (const conn of connections) conn.close();
  }
}

/** Throws unless an OP_MSG reply's body has ok: 1. */
export function checkOk(reply: Buffer): void {
  const body = decodeOpMsgBody(reply);
  if (Number(body.ok) !== 1) throw new Error(`command failed: ${JSON.stringify(body)}`);
}
