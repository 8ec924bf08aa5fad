import { ErrorCodes, LocationCodes, MongoError } from '../errors.js';
import { mergePrivileges, type Privilege } from './privileges.js';
import { roleText } from './roleNames.js';
import type { RoleName } from './roles.js';

/**
 * A user-defined role as mongod keeps it in admin.system.roles: `_id` "<db>.<role>", its own
 * privileges (merged, in mongod's printed form) and the roles it inherits from. mongod also
 * stores `authenticationRestrictions`; pocketmongo refuses them (they would have to be enforced
 * at login), so a role here never has any.
 */
export interface RoleDocument {
  readonly _id: string;
  readonly role: string;
  readonly db: string;
  readonly privileges: readonly Privilege[];
  readonly roles: readonly RoleName[];
}

function roleId(name: RoleName): string {
  return `${name.db}.${name.role}`;
}

/**
 * The user-defined roles of one server, in memory beside its users, in insertion order (the
 * order a scan of admin.system.roles returns them). Documents are replaced, never mutated, and
 * every change bumps `generation`, so privileges computed from them can be cached.
 */
export class RoleStore {
  private readonly roles = new Map<string, RoleDocument>();
  private changes = 0;

  /** Bumped by every change to any role. */
  get generation(): number {
    return this.changes;
  }

  get size(): number {
    return this.roles.size;
  }

  /** Puts back a role read from durable storage (start-up). */
  restore(doc: RoleDocument): void {
    this.roles.set(doc._id, doc);
    this.changes += 1;
  }

  find(name: RoleName): RoleDocument | undefined {
    return this.roles.get(roleId(name));
  }

  /** A new role; mongod's 51002 when one of that name exists on that database. */
  insert(name: RoleName, privileges: readonly Privilege[], roles: readonly RoleName[]): RoleDocument {
    const _id = roleId(name);
    if (this.roles.has(_id)) throw new MongoError(LocationCodes.RoleAlreadyExists, `Role "${roleText(name)}" already exists`);
    const doc: RoleDocument = { _id, role: name.role, db: name.db, privileges: mergePrivileges(privileges), roles: roles.map((r) => ({ role: r.role, db: r.db })) };
    this.roles.set(_id, doc);
    this.changes += 1;
    return doc;
  }

  /** Replaces a role's privileges and/or roles; RoleNotFound "Role x@db not found" when it does not exist. */
  update(name: RoleName, change: { privileges?: readonly Privilege[]; roles?: readonly RoleName[] }): RoleDocument {
    const current = this.find(name);
    if (current === undefined) throw new MongoError(ErrorCodes.RoleNotFound, `Role ${roleText(name)} not found`);
    const doc: RoleDocument = {
      ...current,
      privileges: change.privileges === undefined ? current.privileges : mergePrivileges(change.privileges),
      roles: change.roles === undefined ? current.roles : change.roles.map((r) => ({ role: r.role, db: r.db })),
    };
    this.roles.set(current._id, doc);
    this.changes += 1;
    return doc;
  }

  /** Removes the role documents `drop` selects; their number. */
  remove(drop: (doc: RoleDocument) => boolean): number {
    let n = 0;
    for (const [id, doc] of this.roles) {
      if (drop(doc)) {
        this.roles.delete(id);
        n += 1;
      }
    }
    if (n > 0) this.changes += 1;
    return n;
  }

  /** Takes the roles `pull` selects out of every role's `roles` (mongod's `$pull` on system.roles). */
  pullRoles(pull: (name: RoleName) => boolean): void {
    let changed = false;
    for (const [id, doc] of this.roles) {
      if (!doc.roles.some(pull)) continue;
      this.roles.set(id, { ...doc, roles: doc.roles.filter((r) => !pull(r)) });
      changed = true;
    }
    if (changed) this.changes += 1;
  }

  /** Every role, in insertion order. */
  all(): RoleDocument[] {
    return [...this.roles.values()];
  }

  /** The roles defined on `db`, in insertion order. */
  onDatabase(db: string): RoleDocument[] {
    return this.all().filter((doc) => doc.db === db);
  }

  /** Whether `name` is a user-defined role here. */
  has(name: RoleName): boolean {
    return this.roles.has(roleId(name));
  }
}
