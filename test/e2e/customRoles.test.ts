/**
 * End-to-end: user-defined roles through the official driver over TCP and through mongosh.
 * createRole, updateRole, dropRole, dropAllRolesFromDatabase, grantRolesToRole,
 * revokeRolesFromRole, grantPrivilegesToRole, revokePrivilegesFromRole and rolesInfo, with
 * mongod 7.0's replies and errors (user_management_commands.cpp, .idl, the local authorization
 * backend); then, under --auth, users holding custom roles: their privileges through the role
 * graph, usersInfo showPrivileges, what each role command requires.
 */
import { Binary, MongoClient, type Document } from 'mongodb';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { PocketMongo } from '../../src/index.js';
import { expectExactError, serverError, useDriver } from '../helpers/driver.js';
import { runMongosh, startServer } from '../helpers/server.js';

const FAST_SCRAM = { scramIterationCount: '5000', scramSHA256IterationCount: '5000' } as const;
const READ_ACTIONS = ['changeStream', 'collStats', 'dbHash', 'dbStats', 'find', 'killCursors', 'listCollections', 'listIndexes', 'listSearchIndexes', 'planCacheRead'];

describe('role management (auth off)', () => {
  const t = useDriver('shop');
  const run = (command: Document, db = 'shop') => t.client.db(db).command(command);

  test('createRole, then rolesInfo by name: the stored role and what it inherits', async () => {
    expect(
      await run({
        createRole: 'reporter',
        privileges: [
          { resource: { db: 'shop', collection: 'orders' }, actions: ['find', 'find'] },
          { resource: { db: 'shop', collection: 'orders' }, actions: ['collStats'] },
        ],
        roles: ['read'],
      }),
    ).toEqual({ ok: 1 });

    const info = await run({ rolesInfo: 'reporter' });
    expect(info).toEqual({
      roles: [{ _id: 'shop.reporter', role: 'reporter', db: 'shop', roles: [{ role: 'read', db: 'shop' }], inheritedRoles: [{ role: 'read', db: 'shop' }], isBuiltin: false }],
      ok: 1,
    });
    expect(Object.keys(info.roles[0])).toEqual(['_id', 'role', 'db', 'roles', 'inheritedRoles', 'isBuiltin']);

    const shown = (await run({ rolesInfo: { role: 'reporter', db: 'shop' }, showPrivileges: true, showAuthenticationRestrictions: true })).roles[0];
    expect(Object.keys(shown)).toEqual([
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
    // Privileges on one resource are merged; actions in mongod's order.
    expect(shown.privileges).toEqual([{ resource: { db: 'shop', collection: 'orders' }, actions: ['collStats', 'find'] }]);
    expect(shown.inheritedPrivileges).toEqual([
      { resource: { db: 'shop', collection: 'orders' }, actions: ['collStats', 'find'] },
      { resource: { db: 'shop', collection: '' }, actions: READ_ACTIONS },
      { resource: { db: 'shop', collection: 'system.js' }, actions: READ_ACTIONS },
    ]);
    expect(shown.authenticationRestrictions).toEqual([]);
    expect(shown.inheritedAuthenticationRestrictions).toEqual([]);

    // From another database, by {role, db}; a built-in role keeps its own shape; unknown ones are left out.
    const mixed = await run({ rolesInfo: [{ role: 'reporter', db: 'shop' }, 'read', 'nope'] }, 'other');
    expect(mixed.roles.map((r: Document) => [r.role, r.db, r.isBuiltin])).toEqual([
      ['reporter', 'shop', false],
      ['read', 'other', true],
    ]);
  });

  test('createRole errors: duplicate (51002), built-in name, local, unknown role (31), bad action, cross-db, IDL', async () => {
    await run({ createRole: 'dup', privileges: [], roles: [] });
    await expectExactError(run({ createRole: 'dup', privileges: [], roles: [] }), 51002, 'Location51002', 'Role "dup@shop" already exists');
    await expectExactError(run({ createRole: 'read', privileges: [], roles: [] }), 2, 'BadValue', 'Cannot create roles with the same name as a built-in role');
    // readAnyDatabase is built in on admin only: on shop it is a free name.
    expect(await run({ createRole: 'readAnyDatabase', privileges: [], roles: [] })).toEqual({ ok: 1 });
    await expectExactError(run({ createRole: '', privileges: [], roles: [] }), 2, 'BadValue', 'Role name must be non-empty');
    await expectExactError(run({ createRole: 'x', privileges: [], roles: [] }, 'local'), 2, 'BadValue', 'Cannot create roles in the local database');
    await expectExactError(run({ createRole: 'x', privileges: [], roles: ['nope', 'alsoNope'] }), 31, 'RoleNotFound', "Cannot grant roles to 'x@shop': Could not find roles: nope@shop, alsoNope@shop");
    await expectExactError(
      run({ createRole: 'x', privileges: [{ resource: { db: 'shop', collection: 'c' }, actions: ['fakeAction'] }], roles: [] }),
      9,
      'FailedToParse',
      'Unrecognized action privilege string: fakeAction',
    );
    await expectExactError(
      run({ createRole: 'x', privileges: [], roles: [{ role: 'read', db: 'other' }] }),
      49,
      'InvalidRoleModification',
      "Roles on the 'shop' database cannot be granted roles from other databases",
    );
    await expectExactError(
      run({ createRole: 'x', privileges: [{ resource: { cluster: true }, actions: ['serverStatus'] }], roles: [] }),
      49,
      'InvalidRoleModification',
      "Roles on the 'shop' database cannot be granted privileges that target other databases or the cluster",
    );
    await expectExactError(run({ createRole: 'x', roles: [] }), 40414, 'Location40414', "BSON field 'createRole.privileges' is missing but a required field");
    await expectExactError(run({ createRole: 'x', privileges: [] }), 40414, 'Location40414', "BSON field 'createRole.roles' is missing but a required field");
    await expectExactError(run({ createRole: 'x', privileges: [], roles: [], color: 'red' }), 40415, 'Location40415', "BSON field 'createRole.color' is an unknown field.");
    await expectExactError(run({ createRole: 'x', privileges: [], roles: [1] }), 2, 'BadValue', 'Role name must be either a document or string');
    await expectExactError(
      run({ createRole: 'x', privileges: [], roles: [], authenticationRestrictions: [{ clientSource: ['127.0.0.1'] }] }),
      115,
      'CommandNotSupported',
      'authenticationRestrictions are not supported by pocketmongo',
    );
    expect((await run({ rolesInfo: 'x' })).roles).toEqual([]);
  });

  test('roles on admin may take roles and privileges from anywhere', async () => {
    expect(
      await run(
        {
          createRole: 'opsWatcher',
          privileges: [
            { resource: { cluster: true }, actions: ['serverStatus'] },
            { resource: { db: '', collection: 'logs' }, actions: ['find'] },
          ],
          roles: [{ role: 'read', db: 'shop' }, 'clusterMonitor'],
        },
        'admin',
      ),
    ).toEqual({ ok: 1 });
    const [role] = (await run({ rolesInfo: 'opsWatcher', showPrivileges: true }, 'admin')).roles;
    expect(role.privileges).toEqual([
      { resource: { cluster: true }, actions: ['serverStatus'] },
      { resource: { db: '', collection: 'logs' }, actions: ['find'] },
    ]);
    expect(role.inheritedRoles).toEqual([
      { role: 'read', db: 'shop' },
      { role: 'clusterMonitor', db: 'admin' },
    ]);
  });

  test('grantRolesToRole / revokeRolesFromRole, and the cycle check', async () => {
    await run({ createRole: 'a', privileges: [], roles: [] });
    await run({ createRole: 'b', privileges: [], roles: ['a'] });
    await run({ createRole: 'c', privileges: [], roles: ['b'] });
    expect((await run({ rolesInfo: 'c' })).roles[0].inheritedRoles).toEqual([
      { role: 'b', db: 'shop' },
      { role: 'a', db: 'shop' },
    ]);
    await expectExactError(run({ grantRolesToRole: 'a', roles: ['c'] }), 49, 'InvalidRoleModification', 'Granting roles to a@shop would introduce a cycle in the role graph');
    await expectExactError(run({ grantRolesToRole: 'a', roles: ['a'] }), 49, 'InvalidRoleModification', 'Cannot grant role a@shop to itself.');
    await expectExactError(run({ grantRolesToRole: 'a', roles: [] }), 2, 'BadValue', 'grantRolesToRole command requires a non-empty "roles" array');
    await expectExactError(run({ grantRolesToRole: 'read', roles: ['a'] }), 2, 'BadValue', 'read@shop is a built-in role and cannot be modified');
    await expectExactError(run({ grantRolesToRole: 'ghost', roles: ['a'] }), 31, 'RoleNotFound', 'Role ghost@shop not found');

    expect(await run({ grantRolesToRole: 'a', roles: ['readWrite', 'read', 'readWrite'] })).toEqual({ ok: 1 });
    expect((await run({ rolesInfo: 'a' })).roles[0].roles).toEqual([
      { role: 'readWrite', db: 'shop' },
      { role: 'read', db: 'shop' },
    ]);
    expect((await run({ rolesInfo: 'c' })).roles[0].inheritedRoles).toEqual([
      { role: 'b', db: 'shop' },
      { role: 'a', db: 'shop' },
      { role: 'readWrite', db: 'shop' },
      { role: 'read', db: 'shop' },
    ]);
    expect(await run({ revokeRolesFromRole: 'a', roles: ['read', 'notThere'] })).toEqual({ ok: 1 });
    expect((await run({ rolesInfo: 'a' })).roles[0].roles).toEqual([{ role: 'readWrite', db: 'shop' }]);
    await expectExactError(run({ revokeRolesFromRole: 'a', roles: [] }), 2, 'BadValue', 'revokeRolesFromRole command requires a non-empty "roles" array');
  });

  test('grantPrivilegesToRole merges, revokePrivilegesFromRole removes actions (a privilege left with none goes)', async () => {
    await run({ createRole: 'editor', privileges: [{ resource: { db: 'shop', collection: 'items' }, actions: ['find'] }], roles: [] });
    expect(
      await run({
        grantPrivilegesToRole: 'editor',
        privileges: [
          { resource: { db: 'shop', collection: 'items' }, actions: ['update', 'insert'] },
          { resource: { db: 'shop', collection: '' }, actions: ['listCollections'] },
        ],
      }),
    ).toEqual({ ok: 1 });
    const privileges = async () => (await run({ rolesInfo: 'editor', showPrivileges: true })).roles[0].privileges;
    expect(await privileges()).toEqual([
      { resource: { db: 'shop', collection: 'items' }, actions: ['find', 'insert', 'update'] },
      { resource: { db: 'shop', collection: '' }, actions: ['listCollections'] },
    ]);
    expect(
      await run({
        revokePrivilegesFromRole: 'editor',
        privileges: [
          { resource: { db: 'shop', collection: 'items' }, actions: ['insert', 'remove'] },
          { resource: { db: 'shop', collection: '' }, actions: ['listCollections'] },
          { resource: { db: 'shop', collection: 'elsewhere' }, actions: ['find'] },
        ],
      }),
    ).toEqual({ ok: 1 });
    expect(await privileges()).toEqual([{ resource: { db: 'shop', collection: 'items' }, actions: ['find', 'update'] }]);
    await expectExactError(run({ grantPrivilegesToRole: 'editor', privileges: [] }), 2, 'BadValue', 'grantPrivilegesToRole command requires a non-empty "privileges" array');
    await expectExactError(
      run({ grantPrivilegesToRole: 'editor', privileges: [{ resource: { db: 'other', collection: '' }, actions: ['find'] }] }),
      49,
      'InvalidRoleModification',
      "Roles on the 'shop' database cannot be granted privileges that target other databases or the cluster",
    );
    await expectExactError(
      run({ grantPrivilegesToRole: 'ghost', privileges: [{ resource: { db: 'shop', collection: '' }, actions: ['find'] }] }),
      31,
      'RoleNotFound',
      'Role ghost@shop not found',
    );
    await expectExactError(
      run({ revokePrivilegesFromRole: 'dbOwner', privileges: [{ resource: { db: 'shop', collection: '' }, actions: ['find'] }] }),
      2,
      'BadValue',
      'dbOwner@shop is a built-in role and cannot be modified',
    );
  });

  test('updateRole replaces privileges and roles; needs a field; the role must exist', async () => {
    await run({ createRole: 'u1', privileges: [{ resource: { db: 'shop', collection: 'x' }, actions: ['find'] }], roles: ['read'] });
    expect(await run({ updateRole: 'u1', roles: [], privileges: [{ resource: { db: 'shop', collection: 'y' }, actions: ['insert'] }] })).toEqual({ ok: 1 });
    const [role] = (await run({ rolesInfo: 'u1', showPrivileges: true })).roles;
    expect(role.roles).toEqual([]);
    expect(role.privileges).toEqual([{ resource: { db: 'shop', collection: 'y' }, actions: ['insert'] }]);
    await expectExactError(run({ updateRole: 'u1' }), 2, 'BadValue', 'Must specify at least one field to update in updateRole');
    await expectExactError(run({ updateRole: 'ghost', roles: [] }), 31, 'RoleNotFound', 'Could not find role: ghost@shop');
    await expectExactError(run({ updateRole: 'read', roles: [] }), 31, 'RoleNotFound', 'Role read@shop not found');
  });

  test('dropRole takes the role from the users and roles that held it; dropAllRolesFromDatabase counts', async () => {
    const drops = t.client.db('drops');
    await drops.command({ createRole: 'gone', privileges: [], roles: [] });
    await drops.command({ createRole: 'holder', privileges: [], roles: ['gone', 'read'] });
    await drops.command({ createUser: 'dropper', pwd: 'pw', roles: ['gone', 'read'] });
    expect(await drops.command({ dropRole: 'gone' })).toEqual({ ok: 1 });
    expect((await drops.command({ rolesInfo: 'holder' })).roles[0].roles).toEqual([{ role: 'read', db: 'drops' }]);
    expect((await drops.command({ usersInfo: 'dropper' })).users[0].roles).toEqual([{ role: 'read', db: 'drops' }]);
    await expectExactError(drops.command({ dropRole: 'gone' }), 31, 'RoleNotFound', 'Could not find role: gone@drops');
    await expectExactError(drops.command({ dropRole: 'read' }), 2, 'BadValue', 'read@drops is a built-in role and cannot be modified');

    await drops.command({ createRole: 'second', privileges: [], roles: [] });
    await t.client.db('admin').command({ createRole: 'outside', privileges: [], roles: [{ role: 'holder', db: 'drops' }, { role: 'read', db: 'drops' }] });
    expect(await drops.command({ dropAllRolesFromDatabase: 1 })).toEqual({ n: 2, ok: 1 });
    expect(await drops.command({ dropAllRolesFromDatabase: 1 })).toEqual({ n: 0, ok: 1 });
    // mongod pulls every role named on the database, built-in ones included.
    expect((await drops.command({ usersInfo: 'dropper' })).users[0].roles).toEqual([]);
    expect((await t.client.db('admin').command({ rolesInfo: 'outside' })).roles[0].roles).toEqual([]);
  });

  test('rolesInfo: 1 lists the database\'s roles (built-in ones with showBuiltinRoles); asUserFragment; argument errors', async () => {
    const listing = t.client.db('listing');
    await listing.command({ createRole: 'l1', privileges: [], roles: ['read'] });
    await listing.command({ createRole: 'l2', privileges: [], roles: ['l1'] });
    const custom = await listing.command({ rolesInfo: 1 });
    expect(custom.roles).toEqual([
      { _id: 'listing.l1', role: 'l1', db: 'listing', roles: [{ role: 'read', db: 'listing' }], isBuiltin: false, inheritedRoles: [{ role: 'read', db: 'listing' }] },
      {
        _id: 'listing.l2',
        role: 'l2',
        db: 'listing',
        roles: [{ role: 'l1', db: 'listing' }],
        isBuiltin: false,
        inheritedRoles: [
          { role: 'l1', db: 'listing' },
          { role: 'read', db: 'listing' },
        ],
      },
    ]);
    const all = await listing.command({ rolesInfo: 1, showBuiltinRoles: true });
    expect(all.roles.map((r: Document) => r.role)).toEqual(['read', 'readWrite', 'userAdmin', 'dbAdmin', 'dbOwner', 'enableSharding', 'l1', 'l2']);

    const fragment = await listing.command({ rolesInfo: 'l2', showPrivileges: 'asUserFragment' });
    expect(Object.keys(fragment)).toEqual(['userFragment', 'ok']);
    expect(fragment.userFragment.roles).toEqual([{ role: 'l2', db: 'listing' }]);
    expect(fragment.userFragment.inheritedRoles).toEqual([
      { role: 'l2', db: 'listing' },
      { role: 'l1', db: 'listing' },
      { role: 'read', db: 'listing' },
    ]);
    expect(fragment.userFragment.inheritedPrivileges).toEqual([
      { resource: { db: 'listing', collection: '' }, actions: READ_ACTIONS },
      { resource: { db: 'listing', collection: 'system.js' }, actions: READ_ACTIONS },
    ]);
    await expectExactError(listing.command({ rolesInfo: 1, showPrivileges: 'asUserFragment' }), 20, 'IllegalOperation', 'Cannot get user fragment for all roles in a database');
    await expectExactError(
      listing.command({ rolesInfo: 1, showPrivileges: 'yes' }),
      2,
      'BadValue',
      `Failed to parse 'showPrivileges'. 'showPrivileges' should either be a boolean or the string 'asUserFragment', given: showPrivileges: "yes"`,
    );
    await expectExactError(listing.command({ rolesInfo: true }), 2, 'BadValue', 'RoleName must be either a string or an object');
    await expectExactError(listing.command({ rolesInfo: { role: 'l1' } }), 2, 'BadValue', 'RoleName must contain a field named: db');
    await expectExactError(
      listing.command({ rolesInfo: 1, showBuiltinRoles: 'yes' }),
      14,
      'TypeMismatch',
      "BSON field 'rolesInfo.showBuiltinRoles' is the wrong type 'string', expected types '[bool, long, int, decimal, double]'",
    );
  });
});

describe('custom roles under --auth', () => {
  let server: PocketMongo;
  const clients: MongoClient[] = [];
  let root: MongoClient;

  async function login(user: string, pwd: string, db: string): Promise<MongoClient> {
    const c = new MongoClient(`mongodb://${user}:${pwd}@127.0.0.1:${server.port}/${db}?authSource=${db}`);
    clients.push(c);
    await c.connect();
    return c;
  }

  beforeAll(async () => {
    server = await startServer({ auth: true, setParameter: FAST_SCRAM, users: [{ user: 'root', pwd: 'rootpw' }] });
    root = await login('root', 'rootpw', 'admin');
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await server?.stop();
  });

  test('a user holding a custom role gets its privileges through the graph, and role changes apply at once', async () => {
    const shop = root.db('shop');
    await shop.collection('orders').insertOne({ _id: 1 as never, total: 5 });
    await shop.command({ createRole: 'orderReader', privileges: [{ resource: { db: 'shop', collection: 'orders' }, actions: ['find'] }], roles: [] });
    await shop.command({ createRole: 'clerk', privileges: [], roles: ['orderReader'] });
    await shop.command({ createUser: 'clara', pwd: 'pw-clara', roles: ['clerk'] });
    const clara = await login('clara', 'pw-clara', 'shop');
    const orders = clara.db('shop').collection('orders');
    expect(await orders.find({}).toArray()).toEqual([{ _id: 1, total: 5 }]);
    const refused = await serverError(orders.insertOne({ _id: 2 as never }));
    expect(refused.code).toBe(13);
    expect(refused.errmsg).toMatch(/^not authorized on shop to execute command \{ insert: "orders"/);

    // Granting a privilege to the inner role applies to the open connection.
    await shop.command({ grantPrivilegesToRole: 'orderReader', privileges: [{ resource: { db: 'shop', collection: 'orders' }, actions: ['insert'] }] });
    await orders.insertOne({ _id: 2 as never });
    await shop.command({ revokeRolesFromRole: 'clerk', roles: ['orderReader'] });
    expect((await serverError(orders.find({}).toArray())).code).toBe(13);
    await shop.command({ grantRolesToRole: 'clerk', roles: ['orderReader'] });
    expect(await orders.countDocuments()).toBe(2);
    // Dropping the role takes it from the user.
    await shop.command({ dropRole: 'clerk' });
    expect((await serverError(orders.find({}).toArray())).code).toBe(13);
    expect((await shop.command({ usersInfo: 'clara' })).users[0].roles).toEqual([]);
  });

  test('usersInfo showPrivileges: the roles held (own and inherited) and every privilege they grant', async () => {
    const shop = root.db('shop');
    await shop.command({ createRole: 'counter', privileges: [{ resource: { db: 'shop', collection: 'stock' }, actions: ['find', 'update'] }], roles: ['read'] });
    await shop.command({ createUser: 'carl', pwd: 'pw-carl', roles: ['counter'], customData: { team: 'floor' } });
    const info = await shop.command({ usersInfo: 'carl', showPrivileges: true });
    const user = info.users[0];
    expect(Object.keys(user)).toEqual(['_id', 'userId', 'user', 'db', 'mechanisms', 'customData', 'roles', 'inheritedRoles', 'inheritedPrivileges', 'inheritedAuthenticationRestrictions']);
    expect(user.userId).toBeInstanceOf(Binary);
    expect(user.roles).toEqual([{ role: 'counter', db: 'shop' }]);
    expect(user.inheritedRoles).toEqual([
      { role: 'counter', db: 'shop' },
      { role: 'read', db: 'shop' },
    ]);
    expect(user.inheritedPrivileges).toEqual([
      { resource: { db: 'shop', collection: 'stock' }, actions: ['find', 'update'] },
      { resource: { db: 'shop', collection: '' }, actions: READ_ACTIONS },
      { resource: { db: 'shop', collection: 'system.js' }, actions: READ_ACTIONS },
    ]);
    expect(user.inheritedAuthenticationRestrictions).toEqual([]);
    await expectExactError(shop.command({ usersInfo: 1, showPrivileges: true }), 20, 'IllegalOperation', 'Privilege or restriction details require exact-match usersInfo queries');

    // The user may look at its own role, not at others.
    const carl = await login('carl', 'pw-carl', 'shop');
    expect((await carl.db('shop').command({ rolesInfo: 'counter' })).roles).toHaveLength(1);
    const refused = await serverError(carl.db('shop').command({ rolesInfo: 'orderReader' }));
    expect(refused.code).toBe(13);
    expect(refused.errmsg).toMatch(/^not authorized on shop to execute command \{ rolesInfo: "orderReader"/);
    expect((await serverError(carl.db('shop').command({ rolesInfo: 1 }))).code).toBe(13);
  });

  test('what the role commands require: createRole on the db, grantRole on each role and privilege', async () => {
    const admin = root.db('admin');
    await admin.command({
      createRole: 'shopRoleMaker',
      privileges: [{ resource: { db: 'shop', collection: '' }, actions: ['createRole', 'dropRole', 'viewRole'] }],
      roles: [],
    });
    await root.db('shop').command({ createUser: 'maker', pwd: 'pw-maker', roles: [{ role: 'shopRoleMaker', db: 'admin' }] });
    const makerClient = await login('maker', 'pw-maker', 'shop');
    const maker = makerClient.db('shop');
    // No roles, no privileges: createRole on shop is enough.
    expect(await maker.command({ createRole: 'empty', privileges: [], roles: [] })).toEqual({ ok: 1 });
    expect((await maker.command({ rolesInfo: 1 })).roles.map((r: Document) => r.role)).toContain('empty');
    // Granting a role or a privilege needs grantRole on its database.
    const noGrant = await serverError(maker.command({ createRole: 'withRole', privileges: [], roles: ['read'] }));
    expect(noGrant.code).toBe(13);
    expect(noGrant.errmsg).toMatch(/^not authorized on shop to execute command \{ createRole: "withRole"/);
    expect((await serverError(maker.command({ createRole: 'p', privileges: [{ resource: { db: 'shop', collection: '' }, actions: ['find'] }], roles: [] }))).code).toBe(13);
    expect((await serverError(maker.command({ grantRolesToRole: 'empty', roles: ['read'] }))).code).toBe(13);
    expect((await serverError(maker.command({ updateRole: 'empty', roles: [] }))).code).toBe(13);
    expect((await serverError(makerClient.db('other').command({ createRole: 'x', privileges: [], roles: [] }))).code).toBe(13);
    expect(await maker.command({ dropRole: 'empty' })).toEqual({ ok: 1 });
    // Parse errors come before the authorization check, as in mongod.
    await expectExactError(maker.command({ createRole: 'x', roles: [] }), 40414, 'Location40414', "BSON field 'createRole.privileges' is missing but a required field");

    await admin.command({ grantPrivilegesToRole: 'shopRoleMaker', privileges: [{ resource: { db: 'shop', collection: '' }, actions: ['grantRole'] }] });
    expect(await maker.command({ createRole: 'withRole', privileges: [{ resource: { db: 'shop', collection: 'c' }, actions: ['find'] }], roles: ['read'] })).toEqual({ ok: 1 });
  });
});

describe('mongosh', () => {
  const t = useDriver('shell');

  test('db.createRole, db.grantRolesToRole, db.getRole(..., {showPrivileges: true})', async () => {
    const code = [
      "db.createRole({role: 'base', privileges: [{resource: {db: 'shell', collection: 'logs'}, actions: ['find']}], roles: []});",
      "db.createRole({role: 'viewer', privileges: [], roles: ['read']});",
      "db.grantRolesToRole('viewer', ['base']);",
      "const r = db.getRole('viewer', {showPrivileges: true});",
      'print(JSON.stringify({roles: r.roles, inheritedRoles: r.inheritedRoles, inheritedPrivileges: r.inheritedPrivileges, isBuiltin: r.isBuiltin}));',
      "print(JSON.stringify(db.getRole('nothing')));",
      "try { db.grantRolesToRole('base', ['viewer']); } catch (e) { print(e.codeName + ': ' + e.message); }",
    ].join('\n');
    const result = await runMongosh(`${t.server.uri}shell`, code);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(JSON.parse(lines[0]!)).toEqual({
      roles: [
        { role: 'read', db: 'shell' },
        { role: 'base', db: 'shell' },
      ],
      inheritedRoles: [
        { role: 'read', db: 'shell' },
        { role: 'base', db: 'shell' },
      ],
      inheritedPrivileges: [
        { resource: { db: 'shell', collection: '' }, actions: READ_ACTIONS },
        { resource: { db: 'shell', collection: 'system.js' }, actions: READ_ACTIONS },
        { resource: { db: 'shell', collection: 'logs' }, actions: ['find'] },
      ],
      isBuiltin: false,
    });
    expect(lines[1]).toBe('null');
    expect(lines[2]).toBe('InvalidRoleModification: Granting roles to base@shell would introduce a cycle in the role graph');
  });
});
