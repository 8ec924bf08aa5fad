import type { Binary, Document } from 'bson';
import { numberValue } from '../bson/args.js';
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

/**
 * The users of a stored `usersDocument`, decoded with promoteValues: false, their fields in the
 * stored order (usersInfo shows them in that order: customData given to createUser comes before
 * roles, one added by updateUser after mechanisms).
 */
export function readUsers(stored: Document): UserDocument[] {
  return (stored.users as Document[]).map((doc) => {
    const user: Document = {};
    for (const [field, value] of Object.entries(doc)) {
      if (field === 'userId') user.userId = (value as Binary).toUUID();
      else if (field === 'credentials') user.credentials = readCredentials(value as Document);
      else user[field] = value;
    }
    return user as UserDocument;
  });
}

function readCredentials(doc: Document): StoredCredentials {
  const credentials: StoredCredentials = {};
  for (const mechanism of ['SCRAM-SHA-1', 'SCRAM-SHA-256'] as const) {
    const stored = doc[mechanism] as Document | undefined;
    if (stored === undefined) continue;
    const credential: ScramCredential = {
      iterationCount: numberValue(stored.iterationCount) ?? Number.NaN,
      salt: String(stored.salt),
      storedKey: String(stored.storedKey),
      serverKey: String(stored.serverKey),
    };
    credentials[mechanism] = credential;
  }
  return credentials;
}

/** The roles of a stored `rolesDocument` (strings, booleans and arrays of them: nothing to convert). */
export function readRoles(stored: Document): RoleDocument[] {
  return stored.roles as RoleDocument[];
}
