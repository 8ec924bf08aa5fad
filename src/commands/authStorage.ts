import { readRoles, readUsers, rolesDocument, usersDocument } from '../auth/authDocuments.js';
import type { Services } from './services.js';

// With --dbpath the users and user-defined roles persist as mongod's admin.system.users and
// admin.system.roles do. The stores only count their changes; after a command that moved the
// count, both are saved whole (a few documents) with that turn's other changes.

const USERS = 'admin.system.users';
const ROLES = 'admin.system.roles';

/** The auth generation last saved, per server. */
const saved = new WeakMap<Services['auth'], number>();

/** Start-up: the stored users and roles into the (empty) stores. */
export function loadAuth(services: Pick<Services, 'auth' | 'durable'>): void {
  const { auth, durable } = services;
  if (durable === undefined) return;
  const users = durable.state(USERS);
  const roles = durable.state(ROLES);
  if (roles !== undefined) for (const role of readRoles(roles)) auth.roles.restore(role);
  if (users !== undefined) for (const user of readUsers(users)) auth.users.restore(user);
  saved.set(auth, auth.generation);
}

/** Saves the users and roles when they changed since the last save. */
export function saveAuthIfChanged(services: Pick<Services, 'auth' | 'durable'>): void {
  const { auth, durable } = services;
  if (durable === undefined || saved.get(auth) === auth.generation) return;
  durable.saveState(USERS, usersDocument(auth.users.all()));
  durable.saveState(ROLES, rolesDocument(auth.roles.all()));
  saved.set(auth, auth.generation);
}
