/**
 * User-defined roles below the commands: role names as the commands take them, privilege
 * documents, the role store, the role graph (resolveRoles, the grant checks, rolesInfo's
 * documents) and the AuthManager's privileges through custom roles. Expected texts are mongod
 * 7.0's (auth_name.cpp, role_name_or_string.cpp, privilege.cpp, user_management_commands.cpp,
 * authz_manager_external_state_local.cpp).
 */
import { Double, Int32 } from 'bson';
import { describe, expect, test } from 'vitest';
import { AuthManager } from '../../../src/auth/manager.js';
import { Principal } from '../../../src/auth/principal.js';
import { checkPrivilegesFitRole, parsePrivilegeArray } from '../../../src/auth/privilegeDocument.js';
import { isAuthorized, Resource, type Privilege } from '../../../src/auth/privileges.js';
import {
  checkRolesExist,
  checkRolesFitRole,
  describeRolesByName,
  describeRolesOnDatabase,
  resolveRoles,
  rolesAsUserFragment,
} from '../../../src/auth/roleGraph.js';
import { parseRoleList, parseRoleName, parseRoleNameOrString } from '../../../src/auth/roleNames.js';
import { builtinRole, type RoleName } from '../../../src/auth/roles.js';
import { RoleStore } from '../../../src/auth/roleStore.js';
import { MongoError } from '../../../src/errors.js';

function fails(fn: () => unknown, code: number, message: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, message).toBeInstanceOf(MongoError);
  expect((caught as MongoError).code).toBe(code);
  expect((caught as MongoError).message).toBe(message);
}

const r = (role: string, db = 'test'): RoleName => ({ role, db });
const find = (store: RoleStore) => (name: RoleName) => store.find(name);
const FIND: Privilege = { resource: { db: 'test', collection: 'c' }, actions: ['find'] };

describe('role names', () => {
  test('RoleNameOrString: a string is a role on the command db, a document names any', () => {
    expect(parseRoleNameOrString('x', 'test')).toEqual(r('x'));
    expect(parseRoleNameOrString({ role: 'x', db: 'other', extra: 1 }, 'test')).toEqual(r('x', 'other'));
    fails(() => parseRoleNameOrString(new Int32(1), 'test'), 2, 'Role name must be either a document or string');
    fails(() => parseRoleNameOrString({ role: 'x' }, 'test'), 2, 'RoleName must contain a field named: db');
    fails(() => parseRoleNameOrString({ db: 'x' }, 'test'), 2, 'RoleName must contain a field named: role');
    fails(() => parseRoleNameOrString({ role: new Int32(1), db: 'x' }, 'test'), 2, 'RoleName must contain a string field named: role. But, has type int');
  });

  test('RoleName::parseFromBSON (rolesInfo elements): "db.role" or a document', () => {
    expect(parseRoleName('admin.r')).toEqual(r('r', 'admin'));
    fails(() => parseRoleName('nodot'), 2, "RoleName must contain a '.' separated database.role pair");
    fails(() => parseRoleName(true), 2, 'RoleName must be either a string or an object');
  });

  test('a roles array is de-duplicated, first occurrence kept; not an array is an IDL type error', () => {
    expect(parseRoleList(['a', { role: 'b', db: 'test' }, 'a', { role: 'a', db: 'x' }], 'createRole.roles', 'test')).toEqual([r('a'), r('b'), r('a', 'x')]);
    fails(() => parseRoleList('a', 'createRole.roles', 'test'), 14, "BSON field 'createRole.roles' is the wrong type 'string', expected type 'array'");
  });
});

describe('privilege documents', () => {
  const parse = (value: unknown) => parsePrivilegeArray(value, 'createRole.privileges');

  test('each resource form becomes its pattern; actions come out in mongod order, anyAction alone', () => {
    expect(
      parse([
        { resource: { db: 'test', collection: '' }, actions: ['insert', 'find', 'find'] },
        { resource: { db: '', collection: 'c' }, actions: ['find'] },
        { resource: { cluster: true }, actions: ['serverStatus'] },
        { resource: { anyResource: new Int32(1) }, actions: ['find', 'anyAction'] },
        { resource: { db: 'test', system_buckets: 'b' }, actions: ['find'] },
      ]),
    ).toEqual([
      { resource: { db: 'test', collection: '' }, actions: ['find', 'insert'] },
      { resource: { db: '', collection: 'c' }, actions: ['find'] },
      { resource: { cluster: true }, actions: ['serverStatus'] },
      { resource: { anyResource: true }, actions: ['anyAction'] },
      { resource: { db: 'test', system_buckets: 'b' }, actions: ['find'] },
    ]);
  });

  test('shape errors are the IDL parser\'s, checked for every element before any is resolved', () => {
    fails(() => parse({}), 14, "BSON field 'createRole.privileges' is the wrong type 'object', expected type 'array'");
    fails(() => parse([1]), 14, "BSON field 'createRole.privileges.0' is the wrong type 'int', expected type 'object'");
    fails(() => parse([{ actions: ['find'] }]), 40414, "BSON field 'createRole.privileges.resource' is missing but a required field");
    fails(() => parse([{ resource: { cluster: true } }]), 40414, "BSON field 'createRole.privileges.actions' is missing but a required field");
    fails(() => parse([{ resource: 'x', actions: [] }]), 14, "BSON field 'createRole.privileges.resource' is the wrong type 'string', expected type 'object'");
    fails(() => parse([{ resource: { cluster: true }, actions: [new Int32(1)] }]), 14, "BSON field 'createRole.privileges.actions.0' is the wrong type 'int', expected type 'string'");
    fails(
      () => parse([{ resource: { cluster: 'yes' }, actions: ['find'] }]),
      14,
      "BSON field 'createRole.privileges.resource.cluster' is the wrong type 'string', expected types '[bool, long, int, decimal, double]'",
    );
    // A bad action in the first privilege loses to a shape error in the second.
    fails(() => parse([{ resource: { cluster: true }, actions: ['nope'] }, { resource: {} }]), 40414, "BSON field 'createRole.privileges.actions' is missing but a required field");
  });

  test('resource and action errors', () => {
    fails(() => parse([{ resource: { db: 'test', collection: 'c' }, actions: ['fakeAction'] }]), 9, 'Unrecognized action privilege string: fakeAction');
    fails(() => parse([{ resource: { db: 'test', collection: 'c' }, actions: [] }]), 2, "'actions' field of privilege resource must not be empty");
    fails(() => parse([{ resource: { cluster: false }, actions: ['find'] }]), 2, 'resource: {cluster: false} must be true');
    fails(() => parse([{ resource: { cluster: true, db: 'x' }, actions: ['find'] }]), 2, "resource: {cluster: true} conflicts with resource type 'db'");
    fails(() => parse([{ resource: { anyResource: new Double(0) }, actions: ['find'] }]), 2, 'resource: {anyResource: false} must be true');
    fails(() => parse([{ resource: { anyResource: true, collection: '' }, actions: ['find'] }]), 2, "resource: {anyResource: true} conflicts with resource type 'collection'");
    fails(() => parse([{ resource: { collection: 'c' }, actions: ['find'] }]), 2, "resource {collection: '...'} must include 'db' field as well");
    fails(() => parse([{ resource: { db: 'test' }, actions: ['find'] }]), 2, "resource pattern must contain 'collection' or 'systemBuckets' specifier");
    fails(() => parse([{ resource: { db: 'test', collection: '$cmd' }, actions: ['find'] }]), 2, "'$cmd' is not a valid collection name");
    expect(parse([{ resource: { db: 'local', collection: 'oplog.$main' }, actions: ['find'] }])).toHaveLength(1);
  });

  test('a role off admin holds privileges on its own database only', () => {
    expect(() => checkPrivilegesFitRole('test', [FIND, { resource: { db: 'test', collection: '' }, actions: ['find'] }])).not.toThrow();
    expect(() => checkPrivilegesFitRole('admin', [{ resource: { cluster: true }, actions: ['serverStatus'] }])).not.toThrow();
    for (const resource of [{ db: 'other', collection: '' }, { cluster: true }, { db: '', collection: 'c' }, { anyResource: true }] as const) {
      fails(
        () => checkPrivilegesFitRole('test', [{ resource, actions: ['find'] }]),
        49,
        "Roles on the 'test' database cannot be granted privileges that target other databases or the cluster",
      );
    }
  });
});

describe('the role store', () => {
  test('insert merges privileges, refuses a second role of the same name (51002); update and remove bump the generation', () => {
    const store = new RoleStore();
    const g0 = store.generation;
    const doc = store.insert(r('a'), [FIND, { resource: { db: 'test', collection: 'c' }, actions: ['insert'] }], [r('read')]);
    expect(doc).toEqual({ _id: 'test.a', role: 'a', db: 'test', privileges: [{ resource: { db: 'test', collection: 'c' }, actions: ['find', 'insert'] }], roles: [r('read')] });
    expect(store.generation).toBeGreaterThan(g0);
    fails(() => store.insert(r('a'), [], []), 51002, 'Role "a@test" already exists');
    fails(() => store.update(r('zz'), { roles: [] }), 31, 'Role zz@test not found');
    const g1 = store.generation;
    store.update(r('a'), { roles: [] });
    expect(store.find(r('a'))?.roles).toEqual([]);
    expect(store.generation).toBeGreaterThan(g1);
    store.insert(r('b', 'other'), [], [r('a')]);
    store.pullRoles((n) => n.role === 'a');
    expect(store.find(r('b', 'other'))?.roles).toEqual([]);
    expect(store.remove((d) => d.db === 'test')).toBe(1);
    expect(store.all().map((d) => d._id)).toEqual(['other.b']);
  });
});

describe('the role graph', () => {
  function graph(): RoleStore {
    const store = new RoleStore();
    store.insert(r('base'), [FIND], []);
    store.insert(r('mid'), [{ resource: { db: 'test', collection: 'c' }, actions: ['insert'] }], [r('base'), r('read')]);
    store.insert(r('top'), [], [r('mid')]);
    return store;
  }

  test('resolveRoles walks user-defined roles breadth first; built-in ones bring their whole privilege list', () => {
    const store = graph();
    const data = resolveRoles([r('top')], find(store), { roles: true, privileges: true });
    expect(data.roles).toEqual([r('mid'), r('base'), r('read')]);
    const read = builtinRole('read', 'test')!.privileges;
    expect(isAuthorized(data.privileges, Resource.namespace('test', 'c'), 'insert')).toBe(true);
    expect(isAuthorized(data.privileges, Resource.namespace('test', 'x'), 'find')).toBe(true);
    expect(data.privileges.length).toBe(new Set([...read, FIND].map((p) => JSON.stringify(p.resource))).size);
    // Direct only: the starting role's roles, not theirs.
    expect(resolveRoles([r('top')], find(store), { roles: true, directOnly: true }).roles).toEqual([r('mid')]);
    // A role that does not exist adds nothing.
    expect(resolveRoles([r('ghost')], find(store), { roles: true, privileges: true })).toEqual({ roles: [], privileges: [] });
  });

  test('rolesExist and checkOkayToGrantRolesToRole', () => {
    const store = graph();
    expect(() => checkRolesExist([r('read'), r('top')], find(store))).not.toThrow();
    fails(() => checkRolesExist([r('x')], find(store)), 31, 'Could not find role: x@test');
    fails(() => checkRolesExist([r('x'), r('readAnyDatabase'), r('x')], find(store)), 31, 'Could not find roles: x@test, readAnyDatabase@test');
    fails(() => checkRolesFitRole(r('top'), [r('top')], find(store)), 49, 'Cannot grant role top@test to itself.');
    fails(() => checkRolesFitRole(r('top'), [r('read', 'other')], find(store)), 49, "Roles on the 'test' database cannot be granted roles from other databases");
    fails(() => checkRolesFitRole(r('top'), [r('nope')], find(store)), 31, "Cannot grant roles to 'top@test': Could not find role: nope@test");
    fails(() => checkRolesFitRole(r('base'), [r('top')], find(store)), 49, 'Granting roles to base@test would introduce a cycle in the role graph');
    // admin roles may take roles from anywhere.
    expect(() => checkRolesFitRole(r('x', 'admin'), [r('top'), r('root', 'admin')], find(store))).not.toThrow();
  });

  test('rolesInfo by name: the stored fields, then inheritedRoles (direct first), then isBuiltin last', () => {
    const store = graph();
    const [mid] = describeRolesByName([r('mid')], find(store), { showPrivileges: false, showAuthenticationRestrictions: false });
    expect(Object.keys(mid!)).toEqual(['_id', 'role', 'db', 'roles', 'inheritedRoles', 'isBuiltin']);
    expect(mid).toEqual({ _id: 'test.mid', role: 'mid', db: 'test', roles: [r('base'), r('read')], inheritedRoles: [r('base'), r('read')], isBuiltin: false });

    const [top] = describeRolesByName([r('top')], find(store), { showPrivileges: true, showAuthenticationRestrictions: true });
    expect(Object.keys(top!)).toEqual([
      '_id',
      'role',
      'db',
      'privileges',
      'roles',
      'authenticationRestrictions',
      'inheritedRoles',
      'inheritedPrivileges',
      'inheritedAuthenticationRestrictions',
      'isBuiltin',
    ]);
    expect(top!.inheritedRoles).toEqual([r('mid'), r('base'), r('read')]);
    expect(top!.privileges).toEqual([]);
    expect(top!.authenticationRestrictions).toEqual([]);
    // Unknown names are left out; built-in ones keep their own shape.
    const described = describeRolesByName([r('nope'), r('read')], find(store), { showPrivileges: false, showAuthenticationRestrictions: false });
    expect(described).toEqual([{ db: 'test', role: 'read', roles: [], inheritedRoles: [], isBuiltin: true }]);
  });

  test('inheritedPrivileges: the role\'s own privileges as stored, then its sub-roles\' merged among themselves', () => {
    const store = new RoleStore();
    store.insert(r('sub'), [{ resource: { db: 'test', collection: 'c' }, actions: ['update'] }], []);
    store.insert(r('own'), [FIND], [r('sub')]);
    const [own] = describeRolesByName([r('own')], find(store), { showPrivileges: true, showAuthenticationRestrictions: false });
    expect(own!.inheritedPrivileges).toEqual([FIND, { resource: { db: 'test', collection: 'c' }, actions: ['update'] }]);
  });

  test('rolesInfo: 1 lists built-in roles first when asked, isBuiltin before the inherited fields', () => {
    const store = graph();
    const listed = describeRolesOnDatabase('test', store.onDatabase('test'), find(store), false, { showPrivileges: false, showAuthenticationRestrictions: false });
    expect(listed.map((d) => d._id)).toEqual(['test.base', 'test.mid', 'test.top']);
    expect(Object.keys(listed[0]!)).toEqual(['_id', 'role', 'db', 'roles', 'isBuiltin', 'inheritedRoles']);
    const withBuiltins = describeRolesOnDatabase('test', store.onDatabase('test'), find(store), true, { showPrivileges: false, showAuthenticationRestrictions: false });
    expect(withBuiltins[0]).toEqual({ role: 'read', db: 'test', isBuiltin: true, roles: [], inheritedRoles: [] });
    expect(withBuiltins.slice(-3).map((d) => d.role)).toEqual(['base', 'mid', 'top']);
  });

  test('asUserFragment: the roles as a user holding them', () => {
    const store = graph();
    const fragment = rolesAsUserFragment([r('top')], find(store), false);
    expect(Object.keys(fragment)).toEqual(['roles', 'inheritedRoles', 'inheritedPrivileges']);
    expect(fragment.roles).toEqual([r('top')]);
    expect(fragment.inheritedRoles).toEqual([r('top'), r('mid'), r('base'), r('read')]);
  });
});

describe('the AuthManager through user-defined roles', () => {
  function managerWithUser(roles: RoleName[]): { auth: AuthManager; principal: Principal } {
    const auth = new AuthManager(true, false);
    auth.users.create({ user: 'u', db: 'test', pwd: 'pw', roles }, { scramIterationCount: 5000, scramSHA256IterationCount: 5000 });
    const principal = new Principal();
    principal.user = { user: 'u', db: 'test' };
    return { auth, principal };
  }

  test('a user\'s privileges follow the role graph, and change when a role changes', () => {
    const { auth, principal } = managerWithUser([r('top')]);
    expect(auth.mayDo(principal, Resource.namespace('test', 'c'), 'find')).toBe(false);
    auth.roles.insert(r('top'), [], [r('inner')]);
    expect(auth.mayDo(principal, Resource.namespace('test', 'c'), 'find')).toBe(false);
    auth.roles.insert(r('inner'), [FIND], []);
    expect(auth.mayDo(principal, Resource.namespace('test', 'c'), 'find')).toBe(true);
    expect(auth.allRolesOf(principal)).toEqual([r('top'), r('inner')]);
    auth.roles.update(r('inner'), { privileges: [] });
    expect(auth.mayDo(principal, Resource.namespace('test', 'c'), 'find')).toBe(false);
  });

  test('dropRole takes the role out of users and roles; dropAllRoles pulls every role named on the db', () => {
    const { auth } = managerWithUser([r('a'), r('read'), r('read', 'other')]);
    auth.roles.insert(r('a'), [], []);
    auth.roles.insert(r('b', 'admin'), [], [r('a'), r('read')]);
    auth.dropRole(r('a'));
    expect(auth.users.find('test', 'u')?.roles).toEqual([r('read'), r('read', 'other')]);
    expect(auth.roles.find(r('b', 'admin'))?.roles).toEqual([r('read')]);
    auth.roles.insert(r('c'), [], []);
    expect(auth.dropAllRoles('test')).toBe(1);
    expect(auth.users.find('test', 'u')?.roles).toEqual([r('read', 'other')]);
    expect(auth.roles.find(r('b', 'admin'))?.roles).toEqual([]);
  });

  test('a role closes the localhost exception as a user does', () => {
    const auth = new AuthManager(true, false);
    expect(auth.localhostExceptionFor('127.0.0.1:5000')).toBe(true);
    auth.roles.insert(r('x', 'admin'), [], []);
    expect(auth.localhostExceptionFor('127.0.0.1:5000')).toBe(false);
  });
});
