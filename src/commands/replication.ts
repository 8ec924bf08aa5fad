import type { Document } from 'bson';
import { ErrorCodes, MongoError } from '../errors.js';
import { onCluster } from './requirements.js';
import { defineCommand, type CommandContext, type CommandSpec } from './command.js';
import type { ReplicaSet } from './replicaSet.js';

// The replica-set commands mongosh's rs.* helpers send (replset-transactions-semantics.md §1.5).
// Without --replSet they answer as a standalone mongod does (repl_set_commands.cpp,
// ReplicationCoordinatorImpl::checkReplEnabledForCommand): NoReplicationEnabled (76).

type ReplicationContext = CommandContext<'replication' | 'process'>;

function replicaSetOf(ctx: ReplicationContext): ReplicaSet {
  const rs = ctx.services.replication;
  if (rs === undefined) throw new MongoError(ErrorCodes.NoReplicationEnabled, 'not running with --replSet');
  return rs;
}

/** The set is initiated as the server starts (it is primary at once), so a later initiate finds it done. */
function replSetInitiate(ctx: ReplicationContext): Document {
  if (ctx.services.replication === undefined) {
    throw new MongoError(ErrorCodes.NoReplicationEnabled, 'This node was not started with the replSet option');
  }
  throw new MongoError(ErrorCodes.AlreadyInitialized, 'already initialized');
}

function replSetGetStatus(ctx: ReplicationContext): Document {
  return replicaSetOf(ctx).status(ctx.services.process.startedAt);
}

function replSetGetConfig(ctx: ReplicationContext): Document {
  return { config: replicaSetOf(ctx).config() };
}

/** replSetInitiate, replSetGetStatus, replSetGetConfig. */
export const replicationCommands: readonly CommandSpec[] = [
  defineCommand({
    name: 'replSetInitiate',
    run: replSetInitiate,
    adminOnly: true,
    privileges: onCluster('replSetConfigure'),
    help: 'Initiate/christen a replica set.\nhttp://dochub.mongodb.org/core/replicasetcommands',
  }),
  defineCommand({
    name: 'replSetGetStatus',
    run: replSetGetStatus,
    adminOnly: true,
    privileges: onCluster('replSetGetStatus'),
    help: 'Report status of a replica set from the POV of this server\n{ replSetGetStatus : 1 }\nhttp://dochub.mongodb.org/core/replicasetcommands',
  }),
  defineCommand({
    name: 'replSetGetConfig',
    run: replSetGetConfig,
    adminOnly: true,
    privileges: onCluster('replSetGetConfig'),
    help: 'Returns the current replica set configuration{ replSetGetConfig : 1 }\nhttp://dochub.mongodb.org/core/replicasetcommands',
  }),
];
