/**
 * mongod's authorization primitives: action types, resource patterns, privileges, and the
 * matching rule that decides whether a set of privileges authorizes one action on one resource.
 *
 * Sources (mongodb/mongo): src/mongo/db/auth/action_type.idl (the action names and their enum
 * order, which is the order mongod prints a privilege's `actions` in), resource_pattern.h (the
 * kinds of pattern), privilege.cpp (their document forms and how privileges merge),
 * action_set.cpp (`anyAction`), resource_pattern_search_list.h (formerly
 * `buildResourceSearchList` in authorization_session_impl.cpp: which patterns can match a
 * requested resource) and namespace_string.h (`isSystem`, `isNormalCollection`).
 *
 * The matching rule in short. A privilege names one resource *pattern*; a check names one
 * concrete *resource*: a namespace `db.coll`, a database, or the cluster. mongod lists the
 * patterns that may match the resource and looks each up verbatim among the privileges:
 *
 * - any resource:            `{anyResource: true}`
 * - the cluster:             `{anyResource: true}`, `{cluster: true}`
 * - database `d`:            `{anyResource: true}`, `{db: '', collection: ''}` (unless `d` is
 *                            `local` or `config`), `{db: d, collection: ''}`
 * - normal collection `d.c`: `{anyResource: true}`, `{db: '', collection: ''}` (unless `d` is
 *                            `local` or `config`), `{db: d, collection: ''}`,
 *                            `{db: '', collection: c}`, `{db: d, collection: c}`
 * - `d.system.buckets.b`:    `{anyResource: true}`, the four `system_buckets` patterns for
 *                            (d, b), `{db: '', collection: 'system.buckets.b'}`, the exact one
 * - other system `d.c`:      `{anyResource: true}`, `{db: '', collection: c}`,
 *                            `{db: d, collection: c}`
 *
 * A collection is "normal" unless its name starts with `system.`, or it lives in `local` and its
 * name starts with `replset.`. So neither a database privilege nor "any normal resource" ever
 * reaches `system.*` collections (or `local.replset.*`); those need a collection-name or
 * exact-namespace privilege (the built-in roles grant such ones for `system.js`,
 * `system.profile`, `system.users`, ...). And "any normal resource" reaches nothing at all in
 * `local` and `config`.
 */

/**
 * Every action mongod 7.0 knows, in action_type.idl's order (mongod prints the actions of a
 * privilege in this order). Some are "ID only" (used to name audit events, never checked):
 * auditLogRotate, authCheck, authenticate, createDatabase, dropAllRolesFromDatabase,
 * dropAllUsersFromDatabase, grantPrivilegesToRole, grantRolesToRole, grantRolesToUser,
 * renameCollection, replSetReconfig, revokePrivilegesFromRole, revokeRolesFromRole,
 * revokeRolesFromUser, shardCollection, updateRole, updateUser. `anyAction` stands for every
 * action; `internal` is held only by `__system`. checkFreeMonitoringStatus and setFreeMonitoring
 * are still accepted (free monitoring was decommissioned in 7.0; no role grants them).
 */
export const ACTION_TYPES = [
  'addShard',
  'advanceClusterTime',
  'allCollectionStats',
  'analyze',
  'analyzeShardKey',
  'anyAction',
  'appendOplogNote',
  'applicationMessage',
  'auditConfigure',
  'auditLogRotate',
  'authCheck',
  'authenticate',
  'authSchemaUpgrade',
  'bypassDocumentValidation',
  'bypassWriteBlockingMode',
  'changeCustomData',
  'changePassword',
  'changeOwnPassword',
  'changeOwnCustomData',
  'changeStream',
  'checkFreeMonitoringStatus',
  'checkMetadataConsistency',
  'cleanupOrphaned',
  'clearJumboFlag',
  'cleanupStructuredEncryptionData',
  'closeAllDatabases',
  'collMod',
  'collStats',
  'compact',
  'compactStructuredEncryptionData',
  'configureQueryAnalyzer',
  'connPoolStats',
  'connPoolSync',
  'convertToCapped',
  'cpuProfiler',
  'createCollection',
  'createDatabase',
  'createIndex',
  'createRole',
  'createSearchIndexes',
  'createUser',
  'dbCheck',
  'dbHash',
  'dbStats',
  'dropAllRolesFromDatabase',
  'dropAllUsersFromDatabase',
  'dropCollection',
  'dropConnections',
  'dropDatabase',
  'dropIndex',
  'dropRole',
  'dropSearchIndex',
  'dropUser',
  'emptycapped',
  'enableProfiler',
  'enableSharding',
  'exportCollection',
  'find',
  'flushRouterConfig',
  'forceUUID',
  'fsync',
  'fsyncUnlock',
  'getClusterParameter',
  'getDatabaseVersion',
  'getDefaultRWConcern',
  'getCmdLineOpts',
  'getLog',
  'getParameter',
  'getShardMap',
  'getShardVersion',
  'grantRole',
  'grantPrivilegesToRole',
  'grantRolesToRole',
  'grantRolesToUser',
  'hostInfo',
  'impersonate',
  'importCollection',
  'indexStats',
  'inprog',
  'insert',
  'internal',
  'invalidateUserCache',
  'killAnyCursor',
  'killAnySession',
  'killCursors',
  'killop',
  'listCachedAndActiveUsers',
  'listCollections',
  'listCursors',
  'listDatabases',
  'listIndexes',
  'listSampledQueries',
  'listSearchIndexes',
  'listSessions',
  'listShards',
  'logRotate',
  'updateSearchIndex',
  'moveChunk',
  'netstat',
  'oidcListKeys',
  'oidcRefreshKeys',
  'oidReset',
  'operationMetrics',
  'planCacheIndexFilter',
  'planCacheRead',
  'planCacheWrite',
  'queryStatsRead',
  'queryStatsReadTransformed',
  'refineCollectionShardKey',
  'reIndex',
  'remove',
  'removeShard',
  'renameCollection',
  'renameCollectionSameDB',
  'repairDatabase',
  'replSetConfigure',
  'replSetGetConfig',
  'replSetGetStatus',
  'replSetHeartbeat',
  'replSetReconfig',
  'replSetResizeOplog',
  'replSetStateChange',
  'reshardCollection',
  'resync',
  'revokeRole',
  'revokePrivilegesFromRole',
  'revokeRolesFromRole',
  'revokeRolesFromUser',
  'rotateCertificates',
  'runAsLessPrivilegedUser',
  'runTenantMigration',
  'serverStatus',
  'setAuthenticationRestriction',
  'setClusterParameter',
  'setDefaultRWConcern',
  'setFeatureCompatibilityVersion',
  'setFreeMonitoring',
  'setParameter',
  'setUserWriteBlockMode',
  'shardCollection',
  'shardedDataDistribution',
  'shardingState',
  'shutdown',
  'splitChunk',
  'splitVector',
  'storageDetails',
  'top',
  'touch',
  'trafficRecord',
  'unlock',
  'useTenant',
  'useUUID',
  'update',
  'updateRole',
  'updateUser',
  'validate',
  'viewRole',
  'viewUser',
  'applyOps',
  'setChangeStreamState',
  'getChangeStreamState',
] as const;

export type ActionType = (typeof ACTION_TYPES)[number];

const ACTION_ORDER = new Map<string, number>(ACTION_TYPES.map((action, index) => [action, index]));

export function isActionType(name: unknown): name is ActionType {
  return typeof name === 'string' && ACTION_ORDER.has(name);
}

/**
 * A resource pattern in the document form mongod accepts and prints (privilege.cpp):
 *
 * - `{db: '', collection: ''}`: any normal resource (every database and normal collection,
 *   except anything in `local` and `config`)
 * - `{db: 'd', collection: ''}`: database `d` and its normal collections
 * - `{db: '', collection: 'c'}`: collection `c` in every database (system ones included)
 * - `{db: 'd', collection: 'c'}`: exactly `d.c`
 * - `{cluster: true}`: the cluster
 * - `{anyResource: true}`: absolutely anything
 * - `{system_buckets: ''}`, `{db: 'd', system_buckets: ''}`, `{system_buckets: 'b'}`,
 *   `{db: 'd', system_buckets: 'b'}`: time-series bucket collections `system.buckets.*` (any,
 *   any in `d`, `system.buckets.b` in any database, exactly `d.system.buckets.b`)
 */
export type ResourcePattern =
  | { readonly db: string; readonly collection: string }
  | { readonly cluster: true }
  | { readonly anyResource: true }
  | { readonly db?: string; readonly system_buckets: string };

/** One privilege: actions granted on the resources a pattern matches. */
export interface Privilege {
  readonly resource: ResourcePattern;
  readonly actions: readonly ActionType[];
}

/** A concrete resource an operation needs an action on. */
export type ResourceSpec =
  | { readonly type: 'namespace'; readonly db: string; readonly collection: string }
  | { readonly type: 'database'; readonly db: string }
  | { readonly type: 'cluster' }
  /** `ResourcePattern::forAnyNormalResource()` as a check target (updateRole, updateUser roles). */
  | { readonly type: 'anyNormalResource' }
  | { readonly type: 'anyResource' };

/** Constructors for `ResourceSpec`. */
export const Resource = {
  /** The namespace `db.collection`. */
  namespace(db: string, collection: string): ResourceSpec {
    return { type: 'namespace', db, collection };
  },
  /** The namespace `'db.coll'`, split at its first dot. */
  ns(namespace: string): ResourceSpec {
    const dot = namespace.indexOf('.');
    if (dot <= 0 || dot === namespace.length - 1) {
      throw new TypeError(`not a collection namespace: '${namespace}'`);
    }
    return { type: 'namespace', db: namespace.slice(0, dot), collection: namespace.slice(dot + 1) };
  },
  database(db: string): ResourceSpec {
    return { type: 'database', db };
  },
  cluster(): ResourceSpec {
    return { type: 'cluster' };
  },
  /** mongod's `forAnyNormalResource()` target: `{anyResource: true}` or `{db: '', collection: ''}`. */
  anyNormalResource(): ResourceSpec {
    return { type: 'anyNormalResource' };
  },
  /** mongod's `forAnyResource()` target: only `{anyResource: true}` matches it. */
  anyResource(): ResourceSpec {
    return { type: 'anyResource' };
  },
} as const;

/** Constructors for the `ResourcePattern` document forms. */
export const Pattern = {
  anyResource(): ResourcePattern {
    return { anyResource: true };
  },
  cluster(): ResourcePattern {
    return { cluster: true };
  },
  anyNormal(): ResourcePattern {
    return { db: '', collection: '' };
  },
  database(db: string): ResourcePattern {
    return { db, collection: '' };
  },
  collectionName(collection: string): ResourcePattern {
    return { db: '', collection };
  },
  exactNamespace(db: string, collection: string): ResourcePattern {
    return { db, collection };
  },
  anySystemBuckets(): ResourcePattern {
    return { system_buckets: '' };
  },
  systemBucketsInDatabase(db: string): ResourcePattern {
    return { db, system_buckets: '' };
  },
  systemBucketsInAnyDatabase(bucket: string): ResourcePattern {
    return { system_buckets: bucket };
  },
  exactSystemBuckets(db: string, bucket: string): ResourcePattern {
    return { db, system_buckets: bucket };
  },
} as const;

/** mongod's ResourcePattern match types (action_type.idl `MatchType`). */
export type MatchType =
  | 'any'
  | 'cluster'
  | 'any_normal'
  | 'database'
  | 'collection'
  | 'exact_namespace'
  | 'any_system_buckets'
  | 'any_system_buckets_in_db'
  | 'system_buckets_in_any_db'
  | 'system_buckets';

export function matchTypeOf(pattern: ResourcePattern): MatchType {
  if ('anyResource' in pattern) return 'any';
  if ('cluster' in pattern) return 'cluster';
  if ('system_buckets' in pattern) {
    const db = pattern.db ?? '';
    if (db === '')
      return pattern.system_buckets === '' ? 'any_system_buckets' : 'system_buckets_in_any_db';
    return pattern.system_buckets === '' ? 'any_system_buckets_in_db' : 'system_buckets';
  }
  if (pattern.db === '') return pattern.collection === '' ? 'any_normal' : 'collection';
  return pattern.collection === '' ? 'database' : 'exact_namespace';
}

/** A string equal for equal patterns (mongod compares patterns by match type and namespace). */
export function patternKey(pattern: ResourcePattern): string {
  const type = matchTypeOf(pattern);
  switch (type) {
    case 'any':
    case 'cluster':
    case 'any_normal':
    case 'any_system_buckets':
      return type;
    case 'database':
    case 'any_system_buckets_in_db':
      return `${type}\0${(pattern as { db: string }).db}`;
    case 'collection':
      return `${type}\0${(pattern as { collection: string }).collection}`;
    case 'system_buckets_in_any_db':
      return `${type}\0${(pattern as { system_buckets: string }).system_buckets}`;
    case 'exact_namespace': {
      const p = pattern as { db: string; collection: string };
      return `${type}\0${p.db}\0${p.collection}`;
    }
    case 'system_buckets': {
      const p = pattern as { db: string; system_buckets: string };
      return `${type}\0${p.db}\0${p.system_buckets}`;
    }
  }
}

/** `NamespaceString::isSystem`: the collection name starts with `system.`. */
export function isSystemCollection(collection: string): boolean {
  return collection.startsWith('system.');
}

/**
 * `NamespaceString::isNormalCollection`: not `system.*`, and not `local.replset.*`. Only normal
 * collections are reached by database and any-normal-resource privileges.
 */
export function isNormalCollection(db: string, collection: string): boolean {
  return !isSystemCollection(collection) && !(db === 'local' && collection.startsWith('replset.'));
}

const SYSTEM_BUCKETS_PREFIX = 'system.buckets.';

/**
 * The patterns that can match `target`, in mongod's search-list order
 * (resource_pattern_search_list.h). A privilege applies to `target` exactly when its resource is
 * one of these.
 */
export function resourceSearchList(target: ResourceSpec): ResourcePattern[] {
  const list: ResourcePattern[] = [Pattern.anyResource()];
  switch (target.type) {
    case 'anyResource':
      return list;
    case 'cluster':
      list.push(Pattern.cluster());
      return list;
    case 'anyNormalResource':
      list.push(Pattern.anyNormal());
      return list;
    case 'database':
      if (target.db !== 'local' && target.db !== 'config') list.push(Pattern.anyNormal());
      list.push(Pattern.database(target.db));
      return list;
    case 'namespace': {
      const { db, collection } = target;
      if (isNormalCollection(db, collection)) {
        // local and config hold special system collections that user-level administrators
        // must not manipulate: "any normal resource" never reaches them.
        if (db !== 'local' && db !== 'config') list.push(Pattern.anyNormal());
        list.push(Pattern.database(db));
      } else if (
        collection.length > SYSTEM_BUCKETS_PREFIX.length &&
        collection.startsWith(SYSTEM_BUCKETS_PREFIX)
      ) {
        const bucket = collection.slice(SYSTEM_BUCKETS_PREFIX.length);
        list.push(
          Pattern.exactSystemBuckets(db, bucket),
          Pattern.anySystemBuckets(),
          Pattern.systemBucketsInDatabase(db),
          Pattern.systemBucketsInAnyDatabase(bucket),
        );
      }
      list.push(Pattern.collectionName(collection), Pattern.exactNamespace(db, collection));
      return list;
    }
  }
}

/** Whether `actions` contains `action` (`anyAction` contains every action). */
export function actionsInclude(actions: readonly ActionType[], action: ActionType): boolean {
  return actions.includes(action) || actions.includes('anyAction');
}

/** Whether `privileges` grant `action` on `resource`, by mongod's matching rule. */
export function isAuthorized(
  privileges: readonly Privilege[],
  resource: ResourceSpec,
  action: ActionType,
): boolean {
  const keys = new Set(resourceSearchList(resource).map(patternKey));
  return privileges.some(
    (privilege) =>
      keys.has(patternKey(privilege.resource)) && actionsInclude(privilege.actions, action),
  );
}

/**
 * Whether `privileges` grant every one of `actions` on `resource`. As in mongod, the actions may
 * come from different matching privileges.
 */
export function isAuthorizedForActions(
  privileges: readonly Privilege[],
  resource: ResourceSpec,
  actions: readonly ActionType[],
): boolean {
  return actions.every((action) => isAuthorized(privileges, resource, action));
}

/** Whether `privileges` grant any action at all on `resource`. */
export function isAuthorizedForAnyAction(
  privileges: readonly Privilege[],
  resource: ResourceSpec,
): boolean {
  const keys = new Set(resourceSearchList(resource).map(patternKey));
  return privileges.some(
    (privilege) => keys.has(patternKey(privilege.resource)) && privilege.actions.length > 0,
  );
}

/**
 * An action list as mongod's ActionSet prints it: no duplicates, in action_type.idl's order, and
 * just `['anyAction']` when it holds `anyAction`.
 */
export function normalizeActions(actions: Iterable<ActionType>): ActionType[] {
  const set = new Set(actions);
  if (set.has('anyAction')) return ['anyAction'];
  return [...set].sort((a, b) => (ACTION_ORDER.get(a) ?? 0) - (ACTION_ORDER.get(b) ?? 0));
}

/**
 * `Privilege::addPrivilegesToPrivilegeVector`: privileges on the same pattern merge into the
 * first one (their actions united); the order of first appearance is kept. Actions come out
 * normalized (see `normalizeActions`); resources are copied into their canonical document form.
 */
export function mergePrivileges(...lists: readonly (readonly Privilege[])[]): Privilege[] {
  const merged = new Map<string, { resource: ResourcePattern; actions: Set<ActionType> }>();
  for (const list of lists) {
    for (const privilege of list) {
      const key = patternKey(privilege.resource);
      const entry = merged.get(key);
      if (entry) {
        for (const action of privilege.actions) entry.actions.add(action);
      } else {
        merged.set(key, {
          resource: canonicalPattern(privilege.resource),
          actions: new Set(privilege.actions),
        });
      }
    }
  }
  return [...merged.values()].map(({ resource, actions }) => ({
    resource,
    actions: normalizeActions(actions),
  }));
}

/** A pattern in the exact document form mongod prints (privilege.cpp `toParsedPrivilege`). */
export function canonicalPattern(pattern: ResourcePattern): ResourcePattern {
  if ('anyResource' in pattern) return Pattern.anyResource();
  if ('cluster' in pattern) return Pattern.cluster();
  if ('system_buckets' in pattern) {
    const db = pattern.db ?? '';
    return db === ''
      ? { system_buckets: pattern.system_buckets }
      : { db, system_buckets: pattern.system_buckets };
  }
  return { db: pattern.db, collection: pattern.collection };
}
