import { UUID, type Document } from 'bson';
import { ErrorCodes, LocationCodes, MongoError } from '../errors.js';
import type { RoleName } from './roles.js';
import { createScramCredentials, type CreateScramCredentialsOptions, type ScramMechanism, type StoredCredentials } from './credentials.js';

export type { RoleName };

/** A user as mongod stores it in admin.system.users (never the password). */
export interface UserDocument {
  readonly _id: string;
  readonly userId: UUID;
  readonly user: string;
  readonly db: string;
  credentials: StoredCredentials;
  customData?: Document;
  /** Replaced, never mutated: privileges are cached per roles array. */
  roles: RoleName[];
  mechanisms: ScramMechanism[];
}

export interface NewUser {
  user: string;
  db: string;
  pwd: string;
  roles: RoleName[];
  customData?: Document;
  mechanisms?: readonly ScramMechanism[];
}

function userKey(db: string, user: string): string {
  return `${db}.${user}`;
}

/** The users, keyed as admin.system.users is: `_id` "<db>.<user>". */
export class UserStore {
  private readonly users = new Map<string, UserDocument>();
  private changes = 0;

  /** Bumped by every change to any user (durable storage saves the users when it moves). */
  get generation(): number {
    return this.changes;
  }

  /** A user document was edited in place (updateUser, grantRolesToUser, revokeRolesFromUser). */
  touch(): void {
    this.changes += 1;
  }

  /** Puts back a user read from durable storage (start-up). */
  restore(doc: UserDocument): void {
    this.users.set(doc._id, doc);
  }

  get size(): number {
    return this.users.size;
  }

  find(db: string, user: string): UserDocument | undefined {
    return this.users.get(userKey(db, user));
  }

  credentialsOf(db: string, user: string): StoredCredentials | undefined {
    return this.find(db, user)?.credentials;
  }

  create(spec: NewUser, scram: CreateScramCredentialsOptions): UserDocument {
    const key = userKey(spec.db, spec.user);
    if (this.users.has(key)) {
      throw new MongoError(LocationCodes.UserAlreadyExists, `User "${spec.user}@${spec.db}" already exists`);
    }
    const mechanisms = [...(spec.mechanisms ?? ['SCRAM-SHA-1', 'SCRAM-SHA-256'])] as ScramMechanism[];
    // Built in mongod's field order (createUser): customData before roles. A later updateUser
    // that adds customData appends it, as mongod's $set does; readers follow the key order.
    const fields: Omit<UserDocument, 'roles' | 'mechanisms'> = {
      _id: key,
      userId: new UUID(),
      user: spec.user,
      db: spec.db,
      credentials: createScramCredentials(spec.user, spec.pwd, { ...scram, mechanisms }),
      ...(spec.customData === undefined ? {} : { customData: spec.customData }),
    };
    const doc: UserDocument = { ...fields, roles: [...spec.roles], mechanisms };
    this.users.set(key, doc);
    this.changes += 1;
    return doc;
  }

  /** The user or mongod's UserNotFound (11). */
  get(db: string, user: string): UserDocument {
    const doc = this.find(db, user);
    if (doc === undefined) throw new MongoError(ErrorCodes.UserNotFound, `Could not find user "${user}" for db "${db}"`);
    return doc;
  }

  drop(db: string, user: string): void {
    if (!this.users.delete(userKey(db, user))) {
      throw new MongoError(ErrorCodes.UserNotFound, `Could not find user "${user}" for db "${db}"`);
    }
    this.changes += 1;
  }

  dropAll(db: string): number {
    let n = 0;
    for (const [key, doc] of this.users) {
      if (doc.db === db) {
        this.users.delete(key);
        n += 1;
      }
    }
    if (n > 0) this.changes += 1;
    return n;
  }

  /**
   * Takes the roles `pull` selects out of every user's roles (mongod's `$pull` on system.users
   * when a role is dropped). The roles array is replaced, never mutated.
   */
  pullRoles(pull: (role: RoleName) => boolean): void {
    for (const doc of this.users.values()) {
      if (!doc.roles.some(pull)) continue;
      doc.roles = doc.roles.filter((r) => !pull(r));
      this.changes += 1;
    }
  }

  all(): UserDocument[] {
    return [...this.users.values()];
  }
}
