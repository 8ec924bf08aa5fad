import { buildInfo, connectionStatus, getCmdLineOpts, getLog, hostInfo, listCommands, ping, serverStatus, whatsmyuri } from './diagnostics.js';
import { hello } from './hello.js';
import { getParameter, setParameter } from './parameters.js';
import { shutdown } from './shutdown.js';
import { aggregate, aggregatePrivileges } from './aggregate.js';
import { CREATE_OPTIONS, collStats, create, dbStats, drop, dropDatabase, listCollections, listCollectionsPrivileges, listDatabases, renameCollection } from './catalogCommands.js';
import { createIndexes, dropIndexes, listIndexes } from './indexes.js';
import { count, deleteCommand, distinct, find, findAndModify, insert, update } from './crud.js';
import { getMore, killCursors } from './cursors.js';
import { explain, explainAggregate, explainCount, explainDelete, explainDistinct, explainFind, explainFindAndModify, explainPrivileges, explainUpdate } from './explain.js';
import {
  endSessions,
  killAllSessions,
  killAllSessionsByPattern,
  killSessions,
  reapLogicalSessionCacheNow,
  refreshLogicalSessionCacheNow,
  refreshSessions,
  startSession,
} from './sessions.js';
import { rolesOfConnection, type Requirement } from '../auth/authorize.js';
import { Resource, type ActionType } from '../auth/privileges.js';
import { logout, saslContinue, saslStart } from './auth.js';
import type { CommandContext, CommandSpec } from './types.js';
import { createUser, dropAllUsersFromDatabase, dropUser, grantRolesToUser, revokeRolesFromUser, rolesInfo, updateUser, usersInfo } from './users.js';

/** A cluster-wide action (serverStatus, getLog, killAnySession ...). */
const onCluster =
  (action: ActionType) =>
  (): Requirement[] => [{ resource: Resource.cluster(), actions: [action] }];

/** An action on the command's database (createUser, dropUser ...). */
const onDatabase =
  (action: ActionType) =>
  (ctx: CommandContext): Requirement[] => [{ resource: Resource.database(ctx.db), actions: [action] }];

/** An action on the collection the command names in its first field (find ...). */
const onCollection =
  (action: ActionType) =>
  (ctx: CommandContext): Requirement[] => {
    const collection = ctx.body[ctx.name];
    return typeof collection === 'string' ? [{ resource: Resource.namespace(ctx.db, collection), actions: [action] }] : [];
  };

/** grantRole/revokeRole on the database of each role named in `roles`. */
const onRoleDatabases =
  (action: ActionType) =>
  (ctx: CommandContext): Requirement[] => {
    const roles = Array.isArray(ctx.body.roles) ? (ctx.body.roles as unknown[]) : [];
    return roles.map((r) => ({
      resource: Resource.database(typeof r === 'object' && r !== null && typeof (r as { db?: unknown }).db === 'string' ? (r as { db: string }).db : ctx.db),
      actions: [action],
    }));
  };

/**
 * Every command the server knows, with its traits as data. The dispatcher reads the traits;
 * handlers never re-check them. Defaults (mongod's): requiresAuth true, adminOnly false,
 * attachesSession true, allowedInTransaction false, apiVersion1 false, supportsWriteConcern false.
 */
export const COMMAND_TABLE: readonly CommandSpec[] = [
  {
    name: 'hello',
    aliases: ['isMaster', 'ismaster'],
    run: hello,
    requiresAuth: false,
    apiVersion1: true,
    neverSlow: true,
    help: 'Check if this server is primary for a replica set\n{ hello : 1 }',
  },
  { name: 'ping', run: ping, requiresAuth: false, strict: true, apiVersion1: true, help: 'a way to check that the server is alive. responds immediately even if server is in a db lock.' },
  { name: 'buildInfo', aliases: ['buildinfo'], run: buildInfo, requiresAuth: false, help: 'get version #, etc.\n{ buildinfo:1 }' },
  { name: 'getParameter', run: getParameter, adminOnly: true, privileges: onCluster('getParameter'), help: 'get administrative option(s)\nexample:\n{ getParameter:1, notablescan:1 }\npass a document as the value for getParameter to request options\nexample:\n{ getParameter:{showDetails: true}, notablescan:1 }' },
  { name: 'setParameter', run: setParameter, adminOnly: true, privileges: onCluster('setParameter'), help: 'set administrative option(s)\n{ setParameter:1, <param>:<value> }' },
  { name: 'getCmdLineOpts', run: getCmdLineOpts, adminOnly: true, privileges: onCluster('getCmdLineOpts'), help: 'get argv' },
  { name: 'getLog', run: getLog, adminOnly: true, privileges: onCluster('getLog'), help: '{ getLog : \'*\' }  OR { getLog : \'global\' }' },
  { name: 'hostInfo', run: hostInfo, privileges: onCluster('hostInfo'), help: 'returns information about the daemon\'s host' },
  { name: 'serverStatus', run: serverStatus, privileges: onCluster('serverStatus'), help: 'returns lots of administrative server statistics' },
  { name: 'whatsmyuri', run: whatsmyuri, requiresAuth: false, help: '{whatsmyuri:1}' },
  { name: 'connectionStatus', run: connectionStatus, requiresAuth: false, help: 'Returns connection-specific information such as logged-in users and their roles' },
  { name: 'listCommands', run: listCommands, requiresAuth: false, help: 'get a list of all db commands' },
  { name: 'shutdown', run: shutdown, adminOnly: true, privileges: onCluster('shutdown'), help: 'shutdown the database.  must be ran against admin db and either (1) ran from localhost or (2) authenticated. If this is a primary in a replica set and there is no member within 10 seconds of its optime, it will not shutdown without force : true.  You can also specify timeoutSecs : N to wait N seconds for other members to catch up.' },

  // Logical sessions (sessions-semantics.md §2).
  { name: 'startSession', run: startSession, help: 'start a logical session' },
  { name: 'refreshSessions', run: refreshSessions, strict: true, apiVersion1: true, help: 'renew a set of logical sessions' },
  {
    name: 'endSessions',
    run: endSessions,
    strict: true,
    apiVersion1: true,
    // Drivers send it on close with writeConcern {w: 0} and moreToCome.
    supportsWriteConcern: true,
    help: 'end a set of logical sessions',
  },
  { name: 'killSessions', run: killSessions, attachesSession: false, help: 'kill a logical session and its operations' },
  { name: 'killAllSessions', run: killAllSessions, attachesSession: false, privileges: onCluster('killAnySession'), help: 'kill all logical sessions, for a user, and their operations' },
  {
    name: 'killAllSessionsByPattern',
    run: killAllSessionsByPattern,
    attachesSession: false,
    privileges: onCluster('killAnySession'),
    help: 'kill logical sessions by pattern',
  },
  { name: 'refreshLogicalSessionCacheNow', run: refreshLogicalSessionCacheNow, testOnly: true, help: 'force the logical session cache to refresh' },
  { name: 'reapLogicalSessionCacheNow', run: reapLogicalSessionCacheNow, testOnly: true, help: 'force a reap of the logical session transaction table' },

  // Reads and cursors (the sessions view is the only collection so far).
  { name: 'find', run: find, explain: explainFind, privileges: onCollection('find'), apiVersion1: true, allowedInTransaction: true, opcounter: 'query', help: 'query for documents' },
  { name: 'aggregate', run: aggregate, explain: explainAggregate, privileges: aggregatePrivileges, apiVersion1: true, allowedInTransaction: true, help: 'Runs the aggregation command. See http://dochub.mongodb.org/core/aggregation for more details.' },
  { name: 'getMore', run: getMore, apiVersion1: true, allowedInTransaction: true, opcounter: 'getmore', help: 'retrieve more results from an existing cursor' },
  { name: 'insert', run: insert, apiVersion1: true, allowedInTransaction: true, supportsWriteConcern: true, opcounter: 'self', privileges: onCollection('insert'), help: 'insert documents' },
  { name: 'delete', run: deleteCommand, explain: explainDelete, apiVersion1: true, allowedInTransaction: true, supportsWriteConcern: true, opcounter: 'self', privileges: onCollection('remove'), help: 'delete documents' },
  { name: 'update', run: update, explain: explainUpdate, apiVersion1: true, allowedInTransaction: true, supportsWriteConcern: true, opcounter: 'self', privileges: onCollection('update'), help: 'update documents' },
  {
    name: 'findAndModify',
    explain: explainFindAndModify,
    aliases: ['findandmodify'],
    run: findAndModify,
    apiVersion1: true,
    allowedInTransaction: true,
    supportsWriteConcern: true,
    opcounter: 'self',
    privileges: (ctx) => {
      const c = ctx.body[ctx.name];
      if (typeof c !== 'string') return [];
      const ns = Resource.namespace(ctx.db, c);
      return [{ resource: ns, actions: ctx.body.remove ? ['find', 'remove'] : ['find', 'update', ...(ctx.body.upsert ? (['insert'] as const) : [])] }];
    },
    help: '{ findAndModify: "collection", query: {processed:false}, update: {$set: {processed:true}}, new: true}',
  },
  { name: 'explain', run: explain, privileges: explainPrivileges, apiVersion1: true, help: 'explain database reads and writes' },
  { name: 'count', run: count, explain: explainCount, apiVersion1: true, opcounter: 'command', privileges: onCollection('find'), help: 'count objects in collection' },
  { name: 'distinct', run: distinct, explain: explainDistinct, allowedInTransaction: true, privileges: onCollection('find'), help: '{ distinct : \'collection name\' , key : \'a.b\' , query : {} }' },
  { name: 'createIndexes', run: createIndexes, apiVersion1: true, supportsWriteConcern: true, privileges: onCollection('createIndex'), help: 'create indexes' },
  { name: 'listIndexes', run: listIndexes, apiVersion1: true, allowedInTransaction: true, privileges: onCollection('listIndexes'), help: 'list indexes for a collection' },
  { name: 'dropIndexes', aliases: ['deleteIndexes'], run: dropIndexes, apiVersion1: true, supportsWriteConcern: true, privileges: onCollection('dropIndex'), help: 'drop indexes for a collection' },
  {
    name: 'renameCollection',
    run: renameCollection,
    adminOnly: true,
    supportsWriteConcern: true,
    privileges: (ctx) => {
      const [from, to] = [ctx.body.renameCollection, ctx.body.to];
      if (typeof from !== 'string' || typeof to !== 'string' || !from.includes('.') || !to.includes('.')) return [];
      return [
        { resource: Resource.ns(from), actions: ['renameCollectionSameDB', 'find', 'dropCollection'] },
        { resource: Resource.ns(to), actions: ['insert', 'createIndex'] },
      ];
    },
    help: ' example: { renameCollection: foo.a, to: bar.b }',
  },
  { name: 'dbStats', aliases: ['dbstats'], run: dbStats, privileges: onDatabase('dbStats'), help: 'Get stats on a database. Not instantaneous. Slower for databases with large .ns files.' },
  { name: 'collStats', aliases: ['collstats'], run: collStats, privileges: onCollection('collStats'), help: '{ collStats:"blog.posts" , scale : 1 } scale divides sizes e.g. for KB use 1024' },
  {
    name: 'create',
    run: create,
    apiVersion1: true,
    supportsWriteConcern: true,
    // create.idl is strict: another field is 40415.
    strict: true,
    fields: CREATE_OPTIONS,
    privileges: onCollection('createCollection'),
    help: 'explicitly creates a collection or view',
  },
  { name: 'drop', run: drop, apiVersion1: true, supportsWriteConcern: true, privileges: onCollection('dropCollection'), help: 'drop a collection' },
  { name: 'dropDatabase', run: dropDatabase, apiVersion1: true, supportsWriteConcern: true, privileges: onDatabase('dropDatabase'), help: 'drop (delete) this database' },
  // listDatabases checks nothing up front (it lists only what the caller may see); listCollections
  // has its own check, with mongod's own refusal message (see catalog.ts).
  { name: 'listDatabases', run: listDatabases, adminOnly: true, apiVersion1: true, privileges: () => [], help: 'list databases on this server' },
  { name: 'listCollections', run: listCollections, apiVersion1: true, privileges: listCollectionsPrivileges, help: 'list collections for this db' },
  { name: 'killCursors', run: killCursors, privileges: onCollection('killCursors'), apiVersion1: true, allowedInTransaction: true, help: 'Kill a list of cursor ids' },

  // Authentication and users (sasl_commands.cpp, user_management_commands.cpp).
  { name: 'saslStart', run: saslStart, requiresAuth: false, apiVersion1: true, help: 'Begins a SASL conversation' },
  { name: 'saslContinue', run: saslContinue, requiresAuth: false, apiVersion1: true, help: 'Subsequent steps in a SASL authentication conversation' },
  { name: 'logout', run: logout, requiresAuth: false, help: 'de-authenticate' },
  {
    name: 'createUser',
    run: createUser,
    localhostException: true,
    supportsWriteConcern: true,
    privileges: (ctx) => [...onDatabase('createUser')(ctx), ...onRoleDatabases('grantRole')(ctx)],
    help: 'Adds a user to the system',
  },
  {
    name: 'updateUser',
    run: updateUser,
    supportsWriteConcern: true,
    privileges: (ctx) => [
      ...(ctx.body.pwd !== undefined ? onDatabase('changePassword')(ctx) : []),
      ...(ctx.body.customData !== undefined ? onDatabase('changeCustomData')(ctx) : []),
      ...onRoleDatabases('grantRole')(ctx),
      ...onRoleDatabases('revokeRole')(ctx),
    ],
    help: 'Used to update a user, for example to change its password',
  },
  { name: 'dropUser', run: dropUser, supportsWriteConcern: true, privileges: onDatabase('dropUser'), help: 'Drops a single user.' },
  {
    name: 'dropAllUsersFromDatabase',
    run: dropAllUsersFromDatabase,
    supportsWriteConcern: true,
    privileges: onDatabase('dropUser'),
    help: 'Drops all users for a single database.',
  },
  { name: 'grantRolesToUser', run: grantRolesToUser, supportsWriteConcern: true, privileges: onRoleDatabases('grantRole'), help: 'Grants roles to a user.' },
  { name: 'revokeRolesFromUser', run: revokeRolesFromUser, supportsWriteConcern: true, privileges: onRoleDatabases('revokeRole'), help: 'Revokes roles from a user.' },
  {
    name: 'usersInfo',
    run: usersInfo,
    // Anyone may look at themselves; others need viewUser.
    privileges: (ctx) => {
      const me = ctx.connection.user;
      const arg = ctx.body.usersInfo;
      const self = me !== undefined && ((arg === me.user && ctx.db === me.db) || (typeof arg === 'object' && arg !== null && (arg as { user?: unknown }).user === me.user && (arg as { db?: unknown }).db === me.db));
      return self ? [] : onDatabase('viewUser')(ctx);
    },
    help: 'Returns information about users.',
  },
  {
    name: 'rolesInfo',
    run: rolesInfo,
    // A user may look at its own roles; anything else needs viewRole.
    privileges: (ctx) => {
      const mine = rolesOfConnection(ctx.server, ctx.connection);
      const arg = ctx.body.rolesInfo;
      const asked = (Array.isArray(arg) ? arg : [arg]).map((r: unknown) =>
        typeof r === 'string' ? { role: r, db: ctx.db } : (r as { role?: unknown; db?: unknown }),
      );
      const own = asked.length > 0 && asked.every((r) => mine.some((m) => m.role === r.role && m.db === r.db));
      return own ? [] : onDatabase('viewRole')(ctx);
    },
    help: 'Returns information about roles.',
  },
];

/** Name (and alias) lookup over the table, without the test-only commands unless they are enabled. */
export class CommandRegistry {
  private readonly byName = new Map<string, CommandSpec>();

  constructor(table: readonly CommandSpec[], options: { enableTestCommands: boolean }) {
    for (const spec of table) {
      if (spec.testOnly && !options.enableTestCommands) continue;
      this.byName.set(spec.name, spec);
      for (const alias of spec.aliases ?? []) this.byName.set(alias, spec);
    }
  }

  find(name: string): CommandSpec | undefined {
    return this.byName.get(name);
  }

  /** Each registered command once, by its canonical name. */
  specs(): CommandSpec[] {
    return [...new Set(this.byName.values())];
  }
}
