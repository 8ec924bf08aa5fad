import type { Binary, Document } from 'bson';
import type { ScramCredential, StoredCredentials } from './credentials.js';
import type { RoleDocument } from './roleStore.js';
import type { UserDocument } from './userStore.js';

// Users and user-defined roles as durable storage keeps them: the documents mongod keeps in
// admin.system.users and admin.system.roles, read back with their BSON types (customData as the
// client gave it) and the few server-made numbers (SCRAM iteration counts) as numbers again.

export function usersDocument(users: readonly UserDocument[]): Document {
  return { users: users.map((user) => ({ ...user })) };
}

export function rolesDocument(roles: readonly RoleDocument[]): Document {
  return { roles: roles.map((role) => ({ ...role })) };
}

/** The users of a stored `usersDocument`, decoded with promoteValues: false. */
export function readUsers(stored: Document): UserDocument[] {
  return (stored.users as Document[]).map((doc) => {
    const user: UserDocument = {
      _id: String(doc._id),
      userId: (doc.userId as Binary).toUUID(),
      user: String(doc.user),
      db: String(doc.db),
      credentials: readCredentials(doc.credentials as Document),
      roles: (doc.roles as Document[]).map((r) => ({ role: String(r.role), db: String(r.db) })),
      mechanisms: (doc.mechanisms as string[]).map(String) as UserDocument['mechanisms'],
    };
    if (doc.customData !== undefined) user.customData = doc.customData as Document;
    return user;
  });
}

function readCredentials(doc: Document): StoredCredentials {
  const credentials: StoredCredentials = {};
  for (const mechanism of ['SCRAM-SHA-1', 'SCRAM-SHA-256'] as const) {
    const stored = doc[mechanism] as Document | undefined;
    if (stored === undefined) continue;
    const credential: ScramCredential = {
      iterationCount: Number((stored.iterationCount as { valueOf(): unknown }).valueOf()),
      salt: String(stored.salt),
      storedKey: String(stored.storedKey),
      serverKey: String(stored.serverKey),
    };
    credentials[mechanism] = credential;
  }
  return credentials;
}

/** The roles of a stored `rolesDocument`, decoded with promoteValues: false. */
export function readRoles(stored: Document): RoleDocument[] {
  return (stored.roles as Document[]).map((doc) => ({
    _id: String(doc._id),
    role: String(doc.role),
    db: String(doc.db),
    privileges: doc.privileges as RoleDocument['privileges'],
    roles: (doc.roles as Document[]).map((r) => ({ role: String(r.role), db: String(r.db) })),
  }));
}
