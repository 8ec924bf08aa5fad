/**
 * mongod 7.0's built-in roles and the privileges each grants.
 *
 * The facts come from mongodb/mongo src/mongo/db/auth/builtin_roles.yml (the generator input
 * since 6.1; builtin_roles.tpl.cpp turns it into code) cross-checked against the 7.0 manual's
 * "Built-In Roles" page. How a role expands:
 *
 * - A role's privileges are its sub-roles' privileges (in the listed order) followed by its own;
 *   privileges on the same resource pattern merge into the first (`Privilege::
 *   addPrivilegeToPrivilegeVector`). A sub-role named without a db is taken on the role's db.
 * - A `database` grant without a fixed db, and an `exact_namespace` grant without one, apply to
 *   the db the role is granted on (`read` on `test` grants `{db: 'test', collection: ''}` and
 *   `{db: 'test', collection: 'system.js'}`).
 * - Admin-only roles exist only on `admin`: `readAnyDatabase` on `test` is not a role at all.
 *   Every other built-in role exists on every valid database except `$external`
 *   (`isValidDB` in builtin_roles.tpl.cpp).
 * - `__system` holds every action on every resource: `{anyResource: true}` with `anyAction`.
 *
 * rolesInfo shows a built-in role flat: `roles` and `inheritedRoles` empty, `privileges` and
 * `inheritedPrivileges` both the fully expanded list (jstests/auth/builtin_roles.js).
 */
import {
  mergePrivileges,
  Pattern,
  type ActionType,
  type Privilege,
  type ResourcePattern,
} from './privileges.js';

/** A role's name: `role` defined on database `db` (role_name.h). */
export interface RoleName {
  readonly role: string;
  readonly db: string;
}

// ----- The action sets builtin_roles.yml names with YAML anchors. -----

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

const READ_WRITE_ACTIONS: readonly ActionType[] = [
  ...READ_ACTIONS,
  'cleanupStructuredEncryptionData',
  'compactStructuredEncryptionData',
  'convertToCapped',
  'createCollection',
  'createIndex',
  'createSearchIndexes',
  'dropCollection',
  'dropIndex',
  'dropSearchIndex',
  'insert',
  'remove',
  'renameCollectionSameDB',
  'update',
  // In the 7.0 manual's readWrite list; absent from an early-2023 7.0 development snapshot.
  'updateSearchIndex',
];

const USER_ADMIN_ACTIONS: readonly ActionType[] = [
  'changeCustomData',
  'changePassword',
  'createUser',
  'createRole',
  'dropUser',
  'dropRole',
  'grantRole',
  'revokeRole',
  'setAuthenticationRestriction',
  'viewUser',
  'viewRole',
];

const DB_ADMIN_ACTIONS: readonly ActionType[] = [
  'analyze',
  'bypassDocumentValidation',
  'collMod',
  'collStats',
  'compact',
  'configureQueryAnalyzer',
  'convertToCapped',
  'createCollection',
  'dbStats',
  'dropCollection',
  'dropDatabase',
  'dropIndex',
  'dropSearchIndex',
  'createIndex',
  'createSearchIndexes',
  'enableProfiler',
  'listCollections',
  'listIndexes',
  'listSearchIndexes',
  'updateSearchIndex',
  'planCacheIndexFilter',
  'planCacheRead',
  'planCacheWrite',
  'reIndex',
  'renameCollectionSameDB',
  'storageDetails',
  'validate',
];

/** What dbAdmin (and dbAdminAnyDatabase) grant on `system.profile`. */
const PROFILE_ACTIONS: readonly ActionType[] = [
  ...READ_ACTIONS,
  'convertToCapped',
  'createCollection',
  'dropCollection',
];

const READ_AND_INDEX_ACTIONS: readonly ActionType[] = [
  ...READ_ACTIONS,
  'createIndex',
  'createSearchIndexes',
  'dropIndex',
  'dropSearchIndex',
];

const CLUSTER_MONITOR_CLUSTER_ACTIONS: readonly ActionType[] = [
  'connPoolStats',
  'getCmdLineOpts',
  'getDefaultRWConcern',
  'getLog',
  'getParameter',
  'getShardMap',
  'hostInfo',
  'listDatabases',
  'listSampledQueries',
  'listSessions',
  'listShards',
  'netstat',
  'operationMetrics',
  'replSetGetConfig',
  'replSetGetStatus',
  'serverStatus',
  'top',
  'useUUID',
  'inprog',
  'shardingState',
  'allCollectionStats',
  'shardedDataDistribution',
];

const CLUSTER_MONITOR_DATABASE_ACTIONS: readonly ActionType[] = [
  'collStats',
  'dbStats',
  'getDatabaseVersion',
  'getShardVersion',
  'indexStats',
];

const HOST_MANAGER_CLUSTER_ACTIONS: readonly ActionType[] = [
  'applicationMessage',
  'auditConfigure',
  'connPoolSync',
  'dropConnections',
  'logRotate',
  'oidReset',
  'setParameter',
  'shutdown',
  'touch',
  'unlock',
  'flushRouterConfig',
  'fsync',
  'invalidateUserCache',
  'killAnyCursor',
  'killAnySession',
  'killop',
  'replSetResizeOplog',
  'resync',
  'trafficRecord',
  'rotateCertificates',
  'oidcListKeys',
  'oidcRefreshKeys',
];

const CLUSTER_MANAGER_CLUSTER_ACTIONS: readonly ActionType[] = [
  'appendOplogNote',
  'applicationMessage',
  'replSetConfigure',
  'replSetGetConfig',
  'replSetGetStatus',
  'replSetStateChange',
  'resync',
  'addShard',
  'removeShard',
  'listSessions',
  'listShards',
  'flushRouterConfig',
  'cleanupOrphaned',
  'getDefaultRWConcern',
  'runTenantMigration',
  'setDefaultRWConcern',
  'setFeatureCompatibilityVersion',
  'setClusterParameter',
  'getClusterParameter',
  'setChangeStreamState',
  'getChangeStreamState',
  // $queryStats (backported to the 6.0 and 7.0 patch series); later versions moved these to
  // clusterMonitor.
  'queryStatsRead',
  'queryStatsReadTransformed',
  'checkMetadataConsistency',
];

const CLUSTER_MANAGER_DATABASE_ACTIONS: readonly ActionType[] = [
  'analyzeShardKey',
  'configureQueryAnalyzer',
  'clearJumboFlag',
  'splitChunk',
  'moveChunk',
  'enableSharding',
  'splitVector',
  'refineCollectionShardKey',
  'reshardCollection',
];

const CLUSTER_MANAGER_WRITE_ACTIONS: readonly ActionType[] = ['insert', 'update', 'remove'];

const RESTORE_WRITE_ACTIONS: readonly ActionType[] = [
  'bypassDocumentValidation',
  'collMod',
  'convertToCapped',
  'createCollection',
  'createIndex',
  'createSearchIndexes',
  'dropCollection',
  'insert',
  'updateSearchIndex',
];

// ----- Role definitions, in builtin_roles.yml's order. -----

/** One privilege of a role definition, by builtin_roles.yml's `matchType`. */
type Grant =
  | {
      readonly match: 'any' | 'any_normal' | 'cluster' | 'any_system_buckets';
      readonly actions: readonly ActionType[];
    }
  /** `db` omitted: the db the role is granted on. */
  | { readonly match: 'database'; readonly db?: string; readonly actions: readonly ActionType[] }
  | {
      readonly match: 'collection';
      readonly collection: string;
      readonly actions: readonly ActionType[];
    }
  /** `db` omitted: the db the role is granted on. */
  | {
      readonly match: 'exact_namespace';
      readonly db?: string;
      readonly collection: string;
      readonly actions: readonly ActionType[];
    };

interface RoleDefinition {
  readonly adminOnly: boolean;
  /** Sub-roles; a bare name means that role on the same db. */
  readonly roles: readonly (string | RoleName)[];
  readonly grants: readonly Grant[];
}

const any = (actions: readonly ActionType[]): Grant => ({ match: 'any', actions });
const anyNormal = (actions: readonly ActionType[]): Grant => ({ match: 'any_normal', actions });
const cluster = (actions: readonly ActionType[]): Grant => ({ match: 'cluster', actions });
const anySystemBuckets = (actions: readonly ActionType[]): Grant => ({
  match: 'any_system_buckets',
  actions,
});
const database = (actions: readonly ActionType[], db?: string): Grant =>
  db === undefined ? { match: 'database', actions } : { match: 'database', db, actions };
const collection = (name: string, actions: readonly ActionType[]): Grant => ({
  match: 'collection',
  collection: name,
  actions,
});
const exact = (db: string | undefined, name: string, actions: readonly ActionType[]): Grant =>
  db === undefined
    ? { match: 'exact_namespace', collection: name, actions }
    : { match: 'exact_namespace', db, collection: name, actions };

const ROLE_DEFINITIONS: ReadonlyMap<string, RoleDefinition> = new Map<string, RoleDefinition>([
  [
    'read',
    {
      adminOnly: false,
      roles: [],
      grants: [database(READ_ACTIONS), exact(undefined, 'system.js', READ_ACTIONS)],
    },
  ],
  [
    'readWrite',
    {
      adminOnly: false,
      roles: [],
      grants: [database(READ_WRITE_ACTIONS), exact(undefined, 'system.js', READ_WRITE_ACTIONS)],
    },
  ],
  ['userAdmin', { adminOnly: false, roles: [], grants: [database(USER_ADMIN_ACTIONS)] }],
  [
    'dbAdmin',
    {
      adminOnly: false,
      roles: [],
      grants: [database(DB_ADMIN_ACTIONS), exact(undefined, 'system.profile', PROFILE_ACTIONS)],
    },
  ],
  ['dbOwner', { adminOnly: false, roles: ['readWrite', 'dbAdmin', 'userAdmin'], grants: [] }],
  [
    'enableSharding',
    {
      adminOnly: false,
      roles: [],
      grants: [
        anyNormal([
          'analyzeShardKey',
          'enableSharding',
          'refineCollectionShardKey',
          'reshardCollection',
        ]),
      ],
    },
  ],
  [
    'readAnyDatabase',
    {
      adminOnly: true,
      roles: [],
      grants: [
        anyNormal(READ_ACTIONS),
        cluster(['listDatabases']),
        collection('system.js', READ_ACTIONS),
        anySystemBuckets(READ_ACTIONS),
      ],
    },
  ],
  [
    'readWriteAnyDatabase',
    {
      adminOnly: true,
      roles: ['readAnyDatabase'],
      grants: [
        anyNormal(READ_WRITE_ACTIONS),
        collection('system.js', READ_WRITE_ACTIONS),
        anySystemBuckets(READ_WRITE_ACTIONS),
      ],
    },
  ],
  [
    'userAdminAnyDatabase',
    {
      adminOnly: true,
      roles: [],
      grants: [
        anyNormal([...USER_ADMIN_ACTIONS, 'listCachedAndActiveUsers']),
        database(USER_ADMIN_ACTIONS, 'local'),
        database(USER_ADMIN_ACTIONS, 'config'),
        cluster(['listDatabases', 'authSchemaUpgrade', 'invalidateUserCache', 'viewUser']),
        exact('admin', 'system.users', READ_AND_INDEX_ACTIONS),
        exact('admin', 'system.roles', READ_AND_INDEX_ACTIONS),
        collection('system.users', READ_ACTIONS),
        exact('admin', 'system.version', READ_ACTIONS),
        exact('admin', 'system.backup_users', READ_ACTIONS),
      ],
    },
  ],
  [
    'dbAdminAnyDatabase',
    {
      adminOnly: true,
      roles: [],
      grants: [
        cluster(['listDatabases', 'applyOps']),
        anyNormal(DB_ADMIN_ACTIONS),
        collection('system.profile', PROFILE_ACTIONS),
        anySystemBuckets(DB_ADMIN_ACTIONS),
      ],
    },
  ],
  [
    'clusterMonitor',
    {
      adminOnly: true,
      roles: [
        { role: 'read', db: 'config' },
        { role: 'read', db: 'local' },
      ],
      grants: [
        cluster(CLUSTER_MONITOR_CLUSTER_ACTIONS),
        anyNormal(CLUSTER_MONITOR_DATABASE_ACTIONS),
        database(CLUSTER_MONITOR_DATABASE_ACTIONS, 'config'),
        exact('config', 'system.sessions', CLUSTER_MONITOR_DATABASE_ACTIONS),
        database(CLUSTER_MONITOR_DATABASE_ACTIONS, 'local'),
        exact('local', 'system.replset', ['find']),
        exact('local', 'replset.election', ['find']),
        exact('local', 'replset.minvalid', ['find']),
        collection('system.profile', ['find']),
      ],
    },
  ],
  [
    'hostManager',
    {
      adminOnly: true,
      roles: [],
      grants: [cluster(HOST_MANAGER_CLUSTER_ACTIONS), anyNormal(['killCursors'])],
    },
  ],
  [
    'clusterManager',
    {
      adminOnly: true,
      roles: [{ role: 'read', db: 'config' }],
      grants: [
        cluster(CLUSTER_MANAGER_CLUSTER_ACTIONS),
        anyNormal(CLUSTER_MANAGER_DATABASE_ACTIONS),
        anySystemBuckets(CLUSTER_MANAGER_DATABASE_ACTIONS),
        database(CLUSTER_MANAGER_DATABASE_ACTIONS, 'config'),
        database(CLUSTER_MANAGER_DATABASE_ACTIONS, 'local'),
        exact('local', 'system.replset', READ_ACTIONS),
        any(['dbCheck']),
        exact('local', 'system.healthlog', READ_ACTIONS),
        database(CLUSTER_MANAGER_WRITE_ACTIONS, 'config'),
        database(CLUSTER_MANAGER_WRITE_ACTIONS, 'local'),
        exact('local', 'replset.election', CLUSTER_MANAGER_WRITE_ACTIONS),
        exact('local', 'replset.minvalid', CLUSTER_MANAGER_WRITE_ACTIONS),
      ],
    },
  ],
  [
    'clusterAdmin',
    {
      adminOnly: true,
      roles: ['clusterMonitor', 'hostManager', 'clusterManager'],
      grants: [anyNormal(['dropDatabase']), any(['importCollection', 'exportCollection'])],
    },
  ],
  [
    '__queryableBackup',
    {
      adminOnly: true,
      roles: [],
      grants: [
        any(['collStats', 'listCollections', 'listIndexes', 'listSearchIndexes']),
        anyNormal(['find']),
        anySystemBuckets(['find']),
        cluster(['getParameter', 'listDatabases', 'useUUID']),
        database(['find'], 'config'),
        database(['find'], 'local'),
        exact('local', 'replset.election', ['find']),
        exact('local', 'replset.minvalid', ['find']),
        collection('system.js', ['find']),
        collection('system.users', ['find']),
        collection('system.profile', ['find']),
        exact('admin', 'system.backup_users', ['find']),
        exact('admin', 'system.roles', ['find']),
        exact('admin', 'system.version', ['find']),
        exact('config', 'settings', ['find']),
      ],
    },
  ],
  [
    'backup',
    {
      adminOnly: true,
      roles: ['__queryableBackup'],
      grants: [
        cluster(['appendOplogNote', 'serverStatus', 'setUserWriteBlockMode']),
        exact('config', 'settings', ['insert', 'update']),
      ],
    },
  ],
  [
    'restore',
    {
      adminOnly: true,
      roles: [],
      grants: [
        cluster([
          'getParameter',
          'forceUUID',
          'useUUID',
          'bypassWriteBlockingMode',
          'setUserWriteBlockMode',
          'applyOps',
        ]),
        database(RESTORE_WRITE_ACTIONS, 'local'),
        database(RESTORE_WRITE_ACTIONS, 'config'),
        anySystemBuckets(RESTORE_WRITE_ACTIONS),
        exact('local', 'system.replset', RESTORE_WRITE_ACTIONS),
        exact('local', 'replset.election', RESTORE_WRITE_ACTIONS),
        exact('local', 'replset.minvalid', RESTORE_WRITE_ACTIONS),
        any(['listCollections']),
        anyNormal([...RESTORE_WRITE_ACTIONS, ...USER_ADMIN_ACTIONS]),
        collection('system.js', RESTORE_WRITE_ACTIONS),
        exact('admin', 'tempusers', ['find']),
        exact('admin', 'temproles', ['find']),
        exact('admin', 'system.backup_users', RESTORE_WRITE_ACTIONS),
        exact('admin', 'system.version', [...RESTORE_WRITE_ACTIONS, 'find']),
        collection('system.users', [...RESTORE_WRITE_ACTIONS, 'find', 'update', 'remove']),
        exact('admin', 'system.roles', ['createIndex']),
      ],
    },
  ],
  [
    'root',
    {
      adminOnly: true,
      roles: [
        'clusterAdmin',
        'userAdminAnyDatabase',
        'dbAdminAnyDatabase',
        'readWriteAnyDatabase',
        'backup',
        'restore',
      ],
      grants: [
        any(['validate']),
        cluster(['useTenant']),
        exact('config', 'system.preimages', ['find', 'remove']),
        exact('config', 'system.change_collection', ['find', 'insert', 'remove', 'update']),
      ],
    },
  ],
  // A placeholder since 6.0: no privileges in 7.0 (8.0 gives it issueDirectShardOperations).
  ['directShardOperations', { adminOnly: true, roles: [], grants: [] }],
  // Special-cased in builtin_roles.tpl.cpp: every action on every resource.
  ['__system', { adminOnly: true, roles: [], grants: [any(['anyAction'])] }],
]);

/** The built-in role names, in builtin_roles.yml's order. */
export const BUILTIN_ROLE_NAMES: readonly string[] = [...ROLE_DEFINITIONS.keys()];

/** The built-in roles that exist only on `admin`. */
export const ADMIN_ONLY_ROLE_NAMES: readonly string[] = BUILTIN_ROLE_NAMES.filter(
  (name) => ROLE_DEFINITIONS.get(name)?.adminOnly === true,
);

/** `DatabaseName::kMaxDatabaseNameLength`. */
const MAX_DATABASE_NAME_LENGTH = 63;

/**
 * builtin_roles.tpl.cpp `isValidDB`: a valid database name (`NamespaceString::validDBName`,
 * `$` allowed) other than `$external`, the virtual database of externally authenticated users.
 */
export function isValidBuiltinRoleDb(db: string): boolean {
  if (db.length === 0 || db.length > MAX_DATABASE_NAME_LENGTH || db === '$external') return false;
  return !/[\0/\\. "]/.test(db);
}

/** Whether `role` on `db` names a built-in role (`auth::isBuiltinRole`). */
export function isBuiltinRole(role: string, db: string): boolean {
  const definition = ROLE_DEFINITIONS.get(role);
  return (
    definition !== undefined &&
    isValidBuiltinRoleDb(db) &&
    (!definition.adminOnly || db === 'admin')
  );
}

/**
 * The built-in roles that exist on `db` (`auth::getBuiltinRoleNamesForDB`): all of them on
 * `admin`, the non-admin-only ones elsewhere, none on an invalid db or `$external`. mongod keeps
 * them in an unordered set; these come in builtin_roles.yml's order.
 */
export function builtinRoleNames(db: string): RoleName[] {
  return BUILTIN_ROLE_NAMES.filter((role) => isBuiltinRole(role, db)).map((role) => ({ role, db }));
}

export interface BuiltinRole {
  /** The roles builtin_roles.yml composes this one from (informational: rolesInfo shows []). */
  readonly roles: readonly RoleName[];
  /** Every privilege the role grants, sub-roles included, merged as mongod merges them. */
  readonly privileges: readonly Privilege[];
}

function subRoleName(entry: string | RoleName, db: string): RoleName {
  return typeof entry === 'string' ? { role: entry, db } : entry;
}

function grantResource(grant: Grant, db: string): ResourcePattern {
  switch (grant.match) {
    case 'any':
      return Pattern.anyResource();
    case 'any_normal':
      return Pattern.anyNormal();
    case 'cluster':
      return Pattern.cluster();
    case 'any_system_buckets':
      return Pattern.anySystemBuckets();
    case 'database':
      return Pattern.database(grant.db ?? db);
    case 'collection':
      return Pattern.collectionName(grant.collection);
    case 'exact_namespace':
      return Pattern.exactNamespace(grant.db ?? db, grant.collection);
  }
}

/** Unmerged privileges of a role in generation order: sub-roles first, then its own grants. */
function expand(role: string, db: string): Privilege[] {
  const definition = ROLE_DEFINITIONS.get(role);
  if (definition === undefined) return [];
  const out: Privilege[] = [];
  for (const entry of definition.roles) {
    const sub = subRoleName(entry, db);
    out.push(...expand(sub.role, sub.db));
  }
  for (const grant of definition.grants) {
    out.push({ resource: grantResource(grant, db), actions: grant.actions });
  }
  return out;
}

const cache = new Map<string, BuiltinRole>();

/**
 * The built-in role `role` on `db`, or undefined when there is none: an unknown name, an
 * admin-only role on another db (e.g. `readAnyDatabase` on `test`), or an invalid db.
 */
export function builtinRole(role: string, db: string): BuiltinRole | undefined {
  if (!isBuiltinRole(role, db)) return undefined;
  const key = `${role}\0${db}`;
  let found = cache.get(key);
  if (found === undefined) {
    const definition = ROLE_DEFINITIONS.get(role) as RoleDefinition;
    found = Object.freeze({
      roles: Object.freeze(definition.roles.map((entry) => Object.freeze(subRoleName(entry, db)))),
      privileges: Object.freeze(
        mergePrivileges(expand(role, db)).map((privilege) => Object.freeze(privilege)),
      ),
    });
    cache.set(key, found);
  }
  return found;
}

/** A user-defined role as stored in `admin.system.roles`: its direct roles and privileges. */
export interface UserDefinedRole {
  readonly roles: readonly RoleName[];
  readonly privileges: readonly Privilege[];
}

/** Finds a user-defined role; undefined when it does not exist (mongod then skips it). */
export type RoleLookup = (name: RoleName) => UserDefinedRole | undefined;

/**
 * Every privilege the given roles grant, merged. Built-in roles expand to their full privilege
 * lists; other roles are looked up with `lookup` (when given) and their sub-roles followed,
 * each role visited once, so cycles end. Roles that are neither built in nor found are skipped,
 * as mongod skips a role document that no longer exists.
 */
export function privilegesOf(roles: readonly RoleName[], lookup?: RoleLookup): Privilege[] {
  const lists: (readonly Privilege[])[] = [];
  const visited = new Set<string>();
  const visit = (name: RoleName): void => {
    const key = `${name.role}\0${name.db}`;
    if (visited.has(key)) return;
    visited.add(key);
    const builtin = builtinRole(name.role, name.db);
    if (builtin !== undefined) {
      lists.push(builtin.privileges);
      return;
    }
    const defined = lookup?.(name);
    if (defined === undefined) return;
    lists.push(defined.privileges);
    for (const sub of defined.roles) visit(sub);
  };
  for (const name of roles) visit(name);
  return mergePrivileges(...lists);
}

export interface DescribeRoleOptions {
  /** rolesInfo `showPrivileges: true`: include `privileges` and `inheritedPrivileges`. */
  readonly showPrivileges?: boolean;
  /**
   * rolesInfo `showAuthenticationRestrictions: true`: include `authenticationRestrictions` and
   * `inheritedAuthenticationRestrictions` (always empty for built-in roles).
   */
  readonly showAuthenticationRestrictions?: boolean;
  /**
   * The field order. `'byName'` (default): rolesInfo naming the role (`getRolesDescription`):
   * db, role, roles, privileges, authenticationRestrictions, inheritedRoles,
   * inheritedPrivileges, inheritedAuthenticationRestrictions, isBuiltin. `'listing'`: rolesInfo
   * `1` with `showBuiltinRoles` (`getRoleDescriptionsForDB`): role, db, isBuiltin, roles,
   * inheritedRoles, privileges, inheritedPrivileges, authenticationRestrictions,
   * inheritedAuthenticationRestrictions.
   */
  readonly form?: 'byName' | 'listing';
}

/** A rolesInfo entry for a built-in role (field order as `DescribeRoleOptions.form` says). */
export interface BuiltinRoleDescription {
  role: string;
  db: string;
  isBuiltin: true;
  roles: RoleName[];
  inheritedRoles: RoleName[];
  privileges?: Privilege[];
  inheritedPrivileges?: Privilege[];
  authenticationRestrictions?: unknown[];
  inheritedAuthenticationRestrictions?: unknown[];
}

function copyPrivileges(privileges: readonly Privilege[]): Privilege[] {
  return privileges.map((privilege) => ({
    resource: { ...privilege.resource },
    actions: [...privilege.actions],
  }));
}

/** mongod's rolesInfo document for a built-in role, or undefined when it is not one. */
export function describeRole(
  role: string,
  db: string,
  options: DescribeRoleOptions = {},
): BuiltinRoleDescription | undefined {
  const builtin = builtinRole(role, db);
  if (builtin === undefined) return undefined;
  const privileges = options.showPrivileges === true;
  const restrictions = options.showAuthenticationRestrictions === true;
  const withPrivileges = (): Pick<BuiltinRoleDescription, 'privileges'> =>
    privileges ? { privileges: copyPrivileges(builtin.privileges) } : {};
  const withInheritedPrivileges = (): Pick<BuiltinRoleDescription, 'inheritedPrivileges'> =>
    privileges ? { inheritedPrivileges: copyPrivileges(builtin.privileges) } : {};
  const withRestrictions = (): Pick<BuiltinRoleDescription, 'authenticationRestrictions'> =>
    restrictions ? { authenticationRestrictions: [] } : {};
  const withInheritedRestrictions = (): Pick<
    BuiltinRoleDescription,
    'inheritedAuthenticationRestrictions'
  > => (restrictions ? { inheritedAuthenticationRestrictions: [] } : {});
  if (options.form === 'listing') {
    return {
      role,
      db,
      isBuiltin: true,
      roles: [],
      inheritedRoles: [],
      ...withPrivileges(),
      ...withInheritedPrivileges(),
      ...withRestrictions(),
      ...withInheritedRestrictions(),
    };
  }
  return {
    db,
    role,
    roles: [],
    ...withPrivileges(),
    ...withRestrictions(),
    inheritedRoles: [],
    ...withInheritedPrivileges(),
    ...withInheritedRestrictions(),
    isBuiltin: true,
  };
}
