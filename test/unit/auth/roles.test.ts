import { describe, expect, test } from 'vitest';
import {
  ACTION_TYPES,
  isActionType,
  isAuthorized,
  isAuthorizedForActions,
  isAuthorizedForAnyAction,
  isNormalCollection,
  matchTypeOf,
  mergePrivileges,
  normalizeActions,
  Pattern,
  Resource,
  resourceSearchList,
  type ActionType,
  type Privilege,
  type ResourceSpec,
} from '../../../src/auth/privileges.js';
import {
  ADMIN_ONLY_ROLE_NAMES,
  BUILTIN_ROLE_NAMES,
  builtinRole,
  builtinRoleNames,
  describeRole,
  isBuiltinRole,
  privilegesOf,
  type RoleName,
  type UserDefinedRole,
} from '../../../src/auth/roles.js';

const ns = (namespace: string): ResourceSpec => Resource.ns(namespace);
const db = (name: string): ResourceSpec => Resource.database(name);
const cluster = Resource.cluster();

/** The privileges of one built-in role; fails the test when it is not one. */
function privs(role: string, onDb: string): readonly Privilege[] {
  const found = builtinRole(role, onDb);
  expect(found, `${role}@${onDb} should be a built-in role`).toBeDefined();
  return found?.privileges ?? [];
}

function can(role: string, onDb: string, resource: ResourceSpec, action: ActionType): boolean {
  return isAuthorized(privs(role, onDb), resource, action);
}

const READ_ACTIONS: readonly ActionType[] = [
  'changeStream',
  'collStats',
  'dbHash',
  'dbStats',
  'find',
  'killCursors',
  'listCollections',
  'listIndexes',
  'listSearchIndexes',
  'planCacheRead',
];

describe('action types', () => {
  test('the union holds the actions the brief and the built-in roles use', () => {
    for (const action of [
      'find',
      'insert',
      'update',
      'remove',
      'createCollection',
      'dropCollection',
      'createIndex',
      'dropIndex',
      'listCollections',
      'listDatabases',
      'listIndexes',
      'killCursors',
      'killAnyCursor',
      'killAnySession',
      'listSessions',
      'impersonate',
      'createUser',
      'dropUser',
      'updateUser',
      'changePassword',
      'changeOwnPassword',
      'changeCustomData',
      'grantRole',
      'revokeRole',
      'viewUser',
      'viewRole',
      'serverStatus',
      'hostInfo',
      'getCmdLineOpts',
      'getLog',
      'getParameter',
      'setParameter',
      'shutdown',
      'connPoolStats',
      'dbStats',
      'collStats',
      'inprog',
      'killop',
      'useUUID',
      'anyAction',
      'internal',
    ]) {
      expect(isActionType(action), action).toBe(true);
    }
    expect(isActionType('findAndModify')).toBe(false);
    expect(isActionType(42)).toBe(false);
    expect(new Set(ACTION_TYPES).size).toBe(ACTION_TYPES.length);
  });

  test('normalizeActions sorts in action_type.idl order and collapses anyAction', () => {
    expect(normalizeActions(['update', 'find', 'changeStream', 'find'])).toEqual([
      'changeStream',
      'find',
      'update',
    ]);
    expect(normalizeActions(['find', 'anyAction'])).toEqual(['anyAction']);
  });
});

describe('resource matching', () => {
  test('match types of the pattern document forms', () => {
    expect(matchTypeOf({ db: '', collection: '' })).toBe('any_normal');
    expect(matchTypeOf({ db: 'x', collection: '' })).toBe('database');
    expect(matchTypeOf({ db: '', collection: 'c' })).toBe('collection');
    expect(matchTypeOf({ db: 'x', collection: 'c' })).toBe('exact_namespace');
    expect(matchTypeOf({ cluster: true })).toBe('cluster');
    expect(matchTypeOf({ anyResource: true })).toBe('any');
    expect(matchTypeOf({ system_buckets: '' })).toBe('any_system_buckets');
    expect(matchTypeOf({ db: 'x', system_buckets: '' })).toBe('any_system_buckets_in_db');
    expect(matchTypeOf({ system_buckets: 'b' })).toBe('system_buckets_in_any_db');
    expect(matchTypeOf({ db: 'x', system_buckets: 'b' })).toBe('system_buckets');
  });

  test('normal collections: not system.*, not local.replset.*', () => {
    expect(isNormalCollection('test', 'foo')).toBe(true);
    expect(isNormalCollection('test', 'system.js')).toBe(false);
    expect(isNormalCollection('local', 'replset.minvalid')).toBe(false);
    expect(isNormalCollection('test', 'replset.minvalid')).toBe(true);
    expect(isNormalCollection('local', 'oplog.rs')).toBe(true);
  });

  test('search lists as in resource_pattern_search_list.h', () => {
    expect(resourceSearchList(Resource.anyResource())).toEqual([{ anyResource: true }]);
    expect(resourceSearchList(cluster)).toEqual([{ anyResource: true }, { cluster: true }]);
    expect(resourceSearchList(db('admin'))).toEqual([
      { anyResource: true },
      { db: '', collection: '' },
      { db: 'admin', collection: '' },
    ]);
    expect(resourceSearchList(db('config'))).toEqual([
      { anyResource: true },
      { db: 'config', collection: '' },
    ]);
    expect(resourceSearchList(ns('test.foo'))).toEqual([
      { anyResource: true },
      { db: '', collection: '' },
      { db: 'test', collection: '' },
      { db: '', collection: 'foo' },
      { db: 'test', collection: 'foo' },
    ]);
    expect(resourceSearchList(ns('local.foo'))).toEqual([
      { anyResource: true },
      { db: 'local', collection: '' },
      { db: '', collection: 'foo' },
      { db: 'local', collection: 'foo' },
    ]);
    expect(resourceSearchList(ns('test.system.views'))).toEqual([
      { anyResource: true },
      { db: '', collection: 'system.views' },
      { db: 'test', collection: 'system.views' },
    ]);
    expect(resourceSearchList(ns('test.system.buckets.bar'))).toEqual([
      { anyResource: true },
      { db: 'test', system_buckets: 'bar' },
      { system_buckets: '' },
      { db: 'test', system_buckets: '' },
      { system_buckets: 'bar' },
      { db: '', collection: 'system.buckets.bar' },
      { db: 'test', collection: 'system.buckets.bar' },
    ]);
  });

  test('any normal resource reaches databases and normal collections outside local/config', () => {
    const p: Privilege[] = [{ resource: Pattern.anyNormal(), actions: ['find'] }];
    expect(isAuthorized(p, ns('test.foo'), 'find')).toBe(true);
    expect(isAuthorized(p, db('test'), 'find')).toBe(true);
    expect(isAuthorized(p, ns('test.system.js'), 'find')).toBe(false);
    expect(isAuthorized(p, ns('config.transactions'), 'find')).toBe(false);
    expect(isAuthorized(p, ns('local.oplog.rs'), 'find')).toBe(false);
    expect(isAuthorized(p, db('local'), 'find')).toBe(false);
    expect(isAuthorized(p, cluster, 'find')).toBe(false);
    expect(isAuthorized(p, ns('test.foo'), 'insert')).toBe(false);
  });

  test('a database privilege reaches the database and its normal collections only', () => {
    const p: Privilege[] = [{ resource: Pattern.database('local'), actions: ['find'] }];
    expect(isAuthorized(p, ns('local.oplog.rs'), 'find')).toBe(true);
    expect(isAuthorized(p, db('local'), 'find')).toBe(true);
    expect(isAuthorized(p, ns('local.replset.minvalid'), 'find')).toBe(false);
    expect(isAuthorized(p, ns('local.system.replset'), 'find')).toBe(false);
    expect(isAuthorized(p, ns('test.foo'), 'find')).toBe(false);
  });

  test('a collection-name privilege reaches that name in every database, system or not', () => {
    const p: Privilege[] = [{ resource: Pattern.collectionName('system.js'), actions: ['find'] }];
    expect(isAuthorized(p, ns('a.system.js'), 'find')).toBe(true);
    expect(isAuthorized(p, ns('config.system.js'), 'find')).toBe(true);
    expect(isAuthorized(p, ns('a.system.users'), 'find')).toBe(false);
    expect(isAuthorized(p, db('a'), 'find')).toBe(false);
  });

  test('the cluster and any resource', () => {
    const onCluster: Privilege[] = [{ resource: Pattern.cluster(), actions: ['serverStatus'] }];
    expect(isAuthorized(onCluster, cluster, 'serverStatus')).toBe(true);
    expect(isAuthorized(onCluster, db('admin'), 'serverStatus')).toBe(false);
    const anything: Privilege[] = [{ resource: Pattern.anyResource(), actions: ['find'] }];
    expect(isAuthorized(anything, ns('config.system.sessions'), 'find')).toBe(true);
    expect(isAuthorized(anything, cluster, 'find')).toBe(true);
    expect(isAuthorized(anything, Resource.anyResource(), 'find')).toBe(true);
    expect(isAuthorized(onCluster, Resource.anyResource(), 'serverStatus')).toBe(false);
  });

  test('anyAction grants every action; actions may come from several privileges', () => {
    const all: Privilege[] = [{ resource: Pattern.database('x'), actions: ['anyAction'] }];
    expect(isAuthorized(all, ns('x.y'), 'dropCollection')).toBe(true);
    const split: Privilege[] = [
      { resource: Pattern.database('x'), actions: ['find'] },
      { resource: Pattern.exactNamespace('x', 'y'), actions: ['insert'] },
    ];
    expect(isAuthorizedForActions(split, ns('x.y'), ['find', 'insert'])).toBe(true);
    expect(isAuthorizedForActions(split, ns('x.z'), ['find', 'insert'])).toBe(false);
    expect(isAuthorizedForAnyAction(split, ns('x.z'))).toBe(true);
    expect(isAuthorizedForAnyAction(split, ns('w.z'))).toBe(false);
  });

  test('mergePrivileges unites actions on equal patterns, keeping first-appearance order', () => {
    expect(
      mergePrivileges(
        [
          { resource: { db: 'a', collection: '' }, actions: ['insert'] },
          { resource: { cluster: true }, actions: ['top'] },
        ],
        [{ resource: { db: 'a', collection: '' }, actions: ['find', 'insert'] }],
      ),
    ).toEqual([
      { resource: { db: 'a', collection: '' }, actions: ['find', 'insert'] },
      { resource: { cluster: true }, actions: ['top'] },
    ]);
  });

  test('Resource.ns splits at the first dot', () => {
    expect(Resource.ns('a.b.c')).toEqual({ type: 'namespace', db: 'a', collection: 'b.c' });
    expect(() => Resource.ns('nodot')).toThrow(TypeError);
  });
});

describe('built-in role names', () => {
  test('all of mongod 7.0 roles are known', () => {
    for (const role of [
      'read',
      'readWrite',
      'dbAdmin',
      'dbOwner',
      'userAdmin',
      'enableSharding',
      'clusterMonitor',
      'clusterManager',
      'hostManager',
      'clusterAdmin',
      'readAnyDatabase',
      'readWriteAnyDatabase',
      'userAdminAnyDatabase',
      'dbAdminAnyDatabase',
      'backup',
      'restore',
      'root',
      '__queryableBackup',
      'directShardOperations',
      '__system',
    ]) {
      expect(BUILTIN_ROLE_NAMES).toContain(role);
      expect(isBuiltinRole(role, 'admin'), role).toBe(true);
    }
    expect(BUILTIN_ROLE_NAMES).toHaveLength(20);
  });

  test('the database roles exist on every db; the rest only on admin', () => {
    const nonAdmin = builtinRoleNames('test').map((r) => r.role);
    expect(nonAdmin).toEqual([
      'read',
      'readWrite',
      'userAdmin',
      'dbAdmin',
      'dbOwner',
      'enableSharding',
    ]);
    expect(builtinRoleNames('admin')).toHaveLength(20);
    for (const role of ADMIN_ONLY_ROLE_NAMES) {
      expect(isBuiltinRole(role, 'test'), role).toBe(false);
      expect(builtinRole(role, 'test'), role).toBeUndefined();
    }
  });

  test('readAnyDatabase on a non-admin db is not a valid built-in role', () => {
    expect(isBuiltinRole('readAnyDatabase', 'test')).toBe(false);
    expect(builtinRole('readAnyDatabase', 'test')).toBeUndefined();
    expect(describeRole('readAnyDatabase', 'test')).toBeUndefined();
    expect(isBuiltinRole('readAnyDatabase', 'admin')).toBe(true);
  });

  test('unknown names, $external and invalid db names are not built-in roles', () => {
    expect(builtinRole('nosuchrole', 'admin')).toBeUndefined();
    expect(builtinRole('read', '$external')).toBeUndefined();
    expect(builtinRole('read', '')).toBeUndefined();
    expect(builtinRole('read', 'a.b')).toBeUndefined();
    expect(builtinRole('read', 'a b')).toBeUndefined();
    expect(builtinRole('read', 'x'.repeat(64))).toBeUndefined();
    expect(builtinRole('read', 'x'.repeat(63))).toBeDefined();
    expect(builtinRole('read', 'a$b')).toBeDefined();
    expect(builtinRoleNames('$external')).toEqual([]);
  });
});

describe('database roles', () => {
  test('read: find on its db, not insert, not another db', () => {
    expect(can('read', 'test', ns('test.foo'), 'find')).toBe(true);
    expect(can('read', 'test', ns('test.foo'), 'insert')).toBe(false);
    expect(can('read', 'test', ns('other.foo'), 'find')).toBe(false);
    expect(can('read', 'test', db('test'), 'listCollections')).toBe(true);
    expect(can('read', 'test', ns('test.system.js'), 'find')).toBe(true);
    expect(can('read', 'test', ns('test.system.users'), 'find')).toBe(false);
    expect(can('read', 'test', ns('test.system.profile'), 'find')).toBe(false);
    expect(can('read', 'test', ns('test.system.views'), 'find')).toBe(false);
  });

  test('read privileges as mongod lists them', () => {
    expect(privs('read', 'test')).toEqual([
      { resource: { db: 'test', collection: '' }, actions: READ_ACTIONS },
      { resource: { db: 'test', collection: 'system.js' }, actions: READ_ACTIONS },
    ]);
  });

  test('read on config does not reach config.system.sessions (a system collection)', () => {
    expect(can('read', 'config', ns('config.transactions'), 'find')).toBe(true);
    expect(can('read', 'config', ns('config.system.sessions'), 'find')).toBe(false);
  });

  test('readWrite: insert/update/remove/createCollection on its db', () => {
    for (const action of [
      'find',
      'insert',
      'update',
      'remove',
      'createCollection',
      'dropCollection',
      'createIndex',
      'dropIndex',
    ] as const) {
      expect(can('readWrite', 'test', ns('test.foo'), action), action).toBe(true);
      expect(can('readWrite', 'test', ns('other.foo'), action), action).toBe(false);
    }
    expect(can('readWrite', 'test', ns('test.system.js'), 'insert')).toBe(true);
    expect(can('readWrite', 'test', db('test'), 'dropDatabase')).toBe(false);
    expect(can('readWrite', 'test', db('test'), 'createUser')).toBe(false);
  });

  test('dbAdmin: schema and stats actions, system.profile, but no find on data', () => {
    expect(can('dbAdmin', 'test', db('test'), 'dropDatabase')).toBe(true);
    expect(can('dbAdmin', 'test', ns('test.foo'), 'collMod')).toBe(true);
    expect(can('dbAdmin', 'test', ns('test.foo'), 'find')).toBe(false);
    expect(can('dbAdmin', 'test', ns('test.system.profile'), 'find')).toBe(true);
    expect(can('dbAdmin', 'test', ns('test.system.profile'), 'dropCollection')).toBe(true);
  });

  test('userAdmin grants createUser (and friends) on its db only', () => {
    expect(can('userAdmin', 'test', db('test'), 'createUser')).toBe(true);
    expect(can('userAdmin', 'test', db('test'), 'grantRole')).toBe(true);
    expect(can('userAdmin', 'test', db('test'), 'viewUser')).toBe(true);
    expect(can('userAdmin', 'test', db('other'), 'createUser')).toBe(false);
    expect(can('userAdmin', 'test', ns('test.foo'), 'find')).toBe(false);
  });

  test('dbOwner = readWrite + dbAdmin + userAdmin', () => {
    const owner = privs('dbOwner', 'test');
    expect(owner).toEqual(
      mergePrivileges(
        privs('readWrite', 'test'),
        privs('dbAdmin', 'test'),
        privs('userAdmin', 'test'),
      ),
    );
    expect(owner.map((p) => p.resource)).toEqual([
      { db: 'test', collection: '' },
      { db: 'test', collection: 'system.js' },
      { db: 'test', collection: 'system.profile' },
    ]);
    for (const action of [
      'createUser',
      'dropUser',
      'grantRole',
      'revokeRole',
      'createRole',
      'viewRole',
      'changePassword',
    ] as const) {
      expect(isAuthorized(owner, db('test'), action), action).toBe(true);
    }
    expect(isAuthorized(owner, ns('test.foo'), 'insert')).toBe(true);
    expect(isAuthorized(owner, db('test'), 'dropDatabase')).toBe(true);
    expect(builtinRole('dbOwner', 'test')?.roles).toEqual([
      { role: 'readWrite', db: 'test' },
      { role: 'dbAdmin', db: 'test' },
      { role: 'userAdmin', db: 'test' },
    ]);
  });

  test('enableSharding exists on any db and acts on any normal resource', () => {
    expect(can('enableSharding', 'test', db('other'), 'enableSharding')).toBe(true);
    expect(can('enableSharding', 'test', ns('other.c'), 'reshardCollection')).toBe(true);
  });
});

describe('any-database roles', () => {
  test('readAnyDatabase reads every normal db but nothing in local/config', () => {
    expect(can('readAnyDatabase', 'admin', ns('a.b'), 'find')).toBe(true);
    expect(can('readAnyDatabase', 'admin', ns('admin.foo'), 'find')).toBe(true);
    expect(can('readAnyDatabase', 'admin', ns('a.b'), 'insert')).toBe(false);
    expect(can('readAnyDatabase', 'admin', cluster, 'listDatabases')).toBe(true);
    expect(can('readAnyDatabase', 'admin', ns('a.system.js'), 'find')).toBe(true);
    expect(can('readAnyDatabase', 'admin', ns('a.system.buckets.m'), 'find')).toBe(true);
    expect(can('readAnyDatabase', 'admin', ns('a.system.users'), 'find')).toBe(false);
    expect(can('readAnyDatabase', 'admin', ns('config.transactions'), 'find')).toBe(false);
    expect(can('readAnyDatabase', 'admin', ns('config.system.sessions'), 'find')).toBe(false);
    expect(can('readAnyDatabase', 'admin', ns('local.oplog.rs'), 'find')).toBe(false);
  });

  test('readWriteAnyDatabase includes readAnyDatabase and writes normal collections', () => {
    expect(can('readWriteAnyDatabase', 'admin', ns('a.b'), 'insert')).toBe(true);
    expect(can('readWriteAnyDatabase', 'admin', cluster, 'listDatabases')).toBe(true);
    expect(can('readWriteAnyDatabase', 'admin', ns('config.foo'), 'insert')).toBe(false);
    expect(privs('readWriteAnyDatabase', 'admin').map((p) => p.resource)).toEqual([
      { db: '', collection: '' },
      { cluster: true },
      { db: '', collection: 'system.js' },
      { system_buckets: '' },
    ]);
  });

  test('userAdminAnyDatabase manages users everywhere, including local and config', () => {
    expect(can('userAdminAnyDatabase', 'admin', db('x'), 'createUser')).toBe(true);
    expect(can('userAdminAnyDatabase', 'admin', db('config'), 'createUser')).toBe(true);
    expect(can('userAdminAnyDatabase', 'admin', ns('admin.system.users'), 'find')).toBe(true);
    expect(can('userAdminAnyDatabase', 'admin', ns('admin.system.users'), 'insert')).toBe(false);
    expect(can('userAdminAnyDatabase', 'admin', cluster, 'invalidateUserCache')).toBe(true);
  });

  test('dbAdminAnyDatabase', () => {
    expect(can('dbAdminAnyDatabase', 'admin', db('x'), 'dropDatabase')).toBe(true);
    expect(can('dbAdminAnyDatabase', 'admin', ns('x.system.profile'), 'find')).toBe(true);
    expect(can('dbAdminAnyDatabase', 'admin', ns('x.y'), 'find')).toBe(false);
    expect(can('dbAdminAnyDatabase', 'admin', cluster, 'applyOps')).toBe(true);
  });
});

describe('cluster roles', () => {
  test('clusterMonitor: read-only monitoring on the cluster', () => {
    for (const action of [
      'serverStatus',
      'getLog',
      'getCmdLineOpts',
      'hostInfo',
      'getParameter',
      'connPoolStats',
      'inprog',
      'listSessions',
      'listDatabases',
      'top',
      'useUUID',
    ] as const) {
      expect(can('clusterMonitor', 'admin', cluster, action), action).toBe(true);
    }
    for (const action of [
      'killop',
      'killAnySession',
      'shutdown',
      'setParameter',
      'impersonate',
    ] as const) {
      expect(can('clusterMonitor', 'admin', cluster, action), action).toBe(false);
    }
    expect(can('clusterMonitor', 'admin', ns('x.y'), 'collStats')).toBe(true);
    expect(can('clusterMonitor', 'admin', ns('x.y'), 'find')).toBe(false);
    expect(can('clusterMonitor', 'admin', ns('config.chunks'), 'find')).toBe(true);
    expect(can('clusterMonitor', 'admin', ns('local.oplog.rs'), 'find')).toBe(true);
    expect(can('clusterMonitor', 'admin', ns('local.system.replset'), 'find')).toBe(true);
    expect(can('clusterMonitor', 'admin', ns('x.system.profile'), 'find')).toBe(true);
    expect(can('clusterMonitor', 'admin', ns('config.system.sessions'), 'collStats')).toBe(true);
    expect(can('clusterMonitor', 'admin', ns('config.system.sessions'), 'find')).toBe(false);
  });

  test('hostManager kills sessions, cursors and ops but cannot list sessions', () => {
    for (const action of [
      'killAnySession',
      'killAnyCursor',
      'killop',
      'shutdown',
      'setParameter',
      'logRotate',
      'fsync',
    ] as const) {
      expect(can('hostManager', 'admin', cluster, action), action).toBe(true);
    }
    expect(can('hostManager', 'admin', cluster, 'listSessions')).toBe(false);
    expect(can('hostManager', 'admin', ns('x.y'), 'killCursors')).toBe(true);
  });

  test('clusterManager lists sessions and writes config/local', () => {
    expect(can('clusterManager', 'admin', cluster, 'listSessions')).toBe(true);
    expect(can('clusterManager', 'admin', cluster, 'killAnySession')).toBe(false);
    expect(can('clusterManager', 'admin', ns('config.settings'), 'update')).toBe(true);
    expect(can('clusterManager', 'admin', ns('config.settings'), 'find')).toBe(true);
    expect(can('clusterManager', 'admin', ns('local.replset.minvalid'), 'update')).toBe(true);
    expect(can('clusterManager', 'admin', db('x'), 'dbCheck')).toBe(true);
  });

  test('clusterAdmin = clusterMonitor + hostManager + clusterManager + dropDatabase', () => {
    const admin = privs('clusterAdmin', 'admin');
    for (const role of ['clusterMonitor', 'hostManager', 'clusterManager']) {
      for (const p of privs(role, 'admin')) {
        for (const action of p.actions) {
          const covered = admin.some(
            (q) =>
              JSON.stringify(q.resource) === JSON.stringify(p.resource) &&
              q.actions.includes(action),
          );
          expect(covered, `${role} ${JSON.stringify(p.resource)} ${action}`).toBe(true);
        }
      }
    }
    expect(isAuthorized(admin, db('x'), 'dropDatabase')).toBe(true);
    expect(isAuthorized(admin, cluster, 'killAnySession')).toBe(true);
    expect(isAuthorized(admin, cluster, 'listSessions')).toBe(true);
  });
});

describe('backup, restore, root, __system', () => {
  test('backup reads everything a dump needs', () => {
    expect(can('backup', 'admin', ns('x.y'), 'find')).toBe(true);
    expect(can('backup', 'admin', ns('config.chunks'), 'find')).toBe(true);
    expect(can('backup', 'admin', ns('admin.system.users'), 'find')).toBe(true);
    expect(can('backup', 'admin', ns('admin.system.roles'), 'find')).toBe(true);
    expect(can('backup', 'admin', ns('x.system.views'), 'listCollections')).toBe(true);
    expect(can('backup', 'admin', cluster, 'serverStatus')).toBe(true);
    expect(can('backup', 'admin', ns('config.settings'), 'update')).toBe(true);
    expect(can('backup', 'admin', ns('x.y'), 'insert')).toBe(false);
  });

  test('restore writes data and users but cannot read normal collections', () => {
    expect(can('restore', 'admin', ns('x.y'), 'insert')).toBe(true);
    expect(can('restore', 'admin', ns('x.y'), 'find')).toBe(false);
    expect(can('restore', 'admin', db('x'), 'createUser')).toBe(true);
    expect(can('restore', 'admin', ns('admin.system.users'), 'remove')).toBe(true);
    expect(can('restore', 'admin', ns('config.foo'), 'insert')).toBe(true);
  });

  test('root has killAnySession and listSessions but not impersonate', () => {
    expect(can('root', 'admin', cluster, 'killAnySession')).toBe(true);
    expect(can('root', 'admin', cluster, 'listSessions')).toBe(true);
    expect(can('root', 'admin', cluster, 'killAnyCursor')).toBe(true);
    expect(can('root', 'admin', cluster, 'shutdown')).toBe(true);
    // Only __system holds impersonate (no role in builtin_roles.yml lists it).
    expect(can('root', 'admin', cluster, 'impersonate')).toBe(false);
    expect(can('root', 'admin', cluster, 'internal')).toBe(false);
  });

  test('root = clusterAdmin + the AnyDatabase roles + backup + restore (+ a few of its own)', () => {
    expect(builtinRole('root', 'admin')?.roles).toEqual([
      { role: 'clusterAdmin', db: 'admin' },
      { role: 'userAdminAnyDatabase', db: 'admin' },
      { role: 'dbAdminAnyDatabase', db: 'admin' },
      { role: 'readWriteAnyDatabase', db: 'admin' },
      { role: 'backup', db: 'admin' },
      { role: 'restore', db: 'admin' },
    ]);
    expect(can('root', 'admin', ns('x.y'), 'find')).toBe(true);
    expect(can('root', 'admin', ns('x.y'), 'insert')).toBe(true);
    expect(can('root', 'admin', db('x'), 'createUser')).toBe(true);
    expect(can('root', 'admin', ns('x.system.js'), 'validate')).toBe(true);
    expect(can('root', 'admin', cluster, 'useTenant')).toBe(true);
    expect(can('root', 'admin', ns('config.system.preimages'), 'remove')).toBe(true);
    expect(can('root', 'admin', ns('config.system.sessions'), 'collStats')).toBe(true);
    // config.system.sessions is a system collection in config: no root privilege names it for find.
    expect(can('root', 'admin', ns('config.system.sessions'), 'find')).toBe(false);
  });

  test('__system has every action on every resource', () => {
    expect(privs('__system', 'admin')).toEqual([
      { resource: { anyResource: true }, actions: ['anyAction'] },
    ]);
    const targets = [
      cluster,
      db('local'),
      ns('config.system.sessions'),
      ns('x.y'),
      Resource.anyResource(),
    ];
    for (const target of targets) {
      for (const action of ACTION_TYPES) {
        expect(can('__system', 'admin', target, action)).toBe(true);
      }
    }
  });

  test('directShardOperations is a privilege-less placeholder in 7.0', () => {
    expect(privs('directShardOperations', 'admin')).toEqual([]);
  });
});

describe('privilegesOf', () => {
  test('resolves several built-in roles and merges their privileges', () => {
    const p = privilegesOf([
      { role: 'read', db: 'a' },
      { role: 'readWrite', db: 'b' },
      { role: 'clusterMonitor', db: 'admin' },
    ]);
    expect(isAuthorized(p, ns('a.x'), 'find')).toBe(true);
    expect(isAuthorized(p, ns('a.x'), 'insert')).toBe(false);
    expect(isAuthorized(p, ns('b.x'), 'insert')).toBe(true);
    expect(isAuthorized(p, cluster, 'serverStatus')).toBe(true);
  });

  test('skips names that are not built in when there is no lookup', () => {
    expect(
      privilegesOf([
        { role: 'readAnyDatabase', db: 'test' },
        { role: 'mine', db: 'test' },
      ]),
    ).toEqual([]);
  });

  test('follows user-defined roles through a lookup, cycles included', () => {
    const defined = new Map<string, UserDefinedRole>([
      [
        'a@test',
        {
          roles: [
            { role: 'b', db: 'test' },
            { role: 'read', db: 'test' },
          ],
          privileges: [{ resource: { db: 'test', collection: 'c' }, actions: ['insert'] }],
        },
      ],
      [
        'b@test',
        {
          roles: [{ role: 'a', db: 'test' }],
          privileges: [{ resource: { cluster: true }, actions: ['serverStatus'] }],
        },
      ],
    ]);
    const lookup = (name: RoleName): UserDefinedRole | undefined =>
      defined.get(`${name.role}@${name.db}`);
    const p = privilegesOf([{ role: 'a', db: 'test' }], lookup);
    expect(isAuthorized(p, ns('test.c'), 'insert')).toBe(true);
    expect(isAuthorized(p, ns('test.d'), 'insert')).toBe(false);
    expect(isAuthorized(p, ns('test.d'), 'find')).toBe(true);
    expect(isAuthorized(p, cluster, 'serverStatus')).toBe(true);
  });
});

describe('describeRole (rolesInfo)', () => {
  const readPrivileges = [
    { resource: { db: 'test', collection: '' }, actions: READ_ACTIONS },
    { resource: { db: 'test', collection: 'system.js' }, actions: READ_ACTIONS },
  ];

  test('by name, without privileges', () => {
    const doc = describeRole('read', 'test');
    expect(doc).toEqual({
      db: 'test',
      role: 'read',
      roles: [],
      inheritedRoles: [],
      isBuiltin: true,
    });
    expect(Object.keys(doc ?? {})).toEqual(['db', 'role', 'roles', 'inheritedRoles', 'isBuiltin']);
  });

  test('by name, with privileges and restrictions', () => {
    const doc = describeRole('read', 'test', {
      showPrivileges: true,
      showAuthenticationRestrictions: true,
    });
    expect(Object.keys(doc ?? {})).toEqual([
      'db',
      'role',
      'roles',
      'privileges',
      'authenticationRestrictions',
      'inheritedRoles',
      'inheritedPrivileges',
      'inheritedAuthenticationRestrictions',
      'isBuiltin',
    ]);
    expect(doc?.privileges).toEqual(readPrivileges);
    expect(doc?.inheritedPrivileges).toEqual(readPrivileges);
    expect(doc?.authenticationRestrictions).toEqual([]);
    expect(doc?.inheritedAuthenticationRestrictions).toEqual([]);
  });

  test('listing form (rolesInfo: 1, showBuiltinRoles)', () => {
    const doc = describeRole('dbOwner', 'test', { showPrivileges: true, form: 'listing' });
    expect(Object.keys(doc ?? {})).toEqual([
      'role',
      'db',
      'isBuiltin',
      'roles',
      'inheritedRoles',
      'privileges',
      'inheritedPrivileges',
    ]);
    // Built-in roles are flat in rolesInfo: no roles, and privileges = inheritedPrivileges.
    expect(doc?.roles).toEqual([]);
    expect(doc?.privileges).toEqual(doc?.inheritedPrivileges);
  });

  test('__system shows anyAction on anyResource; results are copies', () => {
    const doc = describeRole('__system', 'admin', { showPrivileges: true });
    expect(doc?.privileges).toEqual([{ resource: { anyResource: true }, actions: ['anyAction'] }]);
    expect(doc?.privileges?.[0]?.actions).not.toBe(privs('__system', 'admin')[0]?.actions);
    expect(doc?.privileges?.[0]?.resource).not.toBe(privs('__system', 'admin')[0]?.resource);
  });
});
