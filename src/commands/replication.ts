import type { Document } from 'bson';
import { ErrorCodes, MongoError } from '../errors.js';
import { onCluster } from './requirements.js';
import { defineCommand, type CommandSpec } from './command.js';

// The replica-set commands mongosh's rs.* helpers send (replset-transactions-semantics.md §1.5),
// as a server started without --replSet answers them (repl_set_commands.cpp,
// ReplicationCoordinatorImpl::checkReplEnabledForCommand): NoReplicationEnabled (76).

function notRunningWithReplSet(): Document {
  throw new MongoError(ErrorCodes.NoReplicationEnabled, 'not running with --replSet');
}

function replSetInitiate(): Document {
  throw new MongoError(ErrorCodes.NoReplicationEnabled, 'This node was not started with the replSet option');
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
    run: notRunningWithReplSet,
    adminOnly: true,
    privileges: onCluster('replSetGetStatus'),
    help: 'Report status of a replica set from the POV of this server\n{ replSetGetStatus : 1 }\nhttp://dochub.mongodb.org/core/replicasetcommands',
  }),
  defineCommand({
    name: 'replSetGetConfig',
    run: notRunningWithReplSet,
    adminOnly: true,
    privileges: onCluster('replSetGetConfig'),
    help: 'Returns the current replica set configuration{ replSetGetConfig : 1 }\nhttp://dochub.mongodb.org/core/replicasetcommands',
  }),
];
