import type { Document } from 'bson';
import type { Requirement } from '../auth/authorize.js';
import { Resource, type ActionType } from '../auth/privileges.js';

/** The parts of a command its privilege rules read. */
interface Named {
  readonly db: string;
  readonly name: string;
  readonly body: Document;
}

/** A cluster-wide action (serverStatus, getLog, killAnySession ...). */
export const onCluster =
  (action: ActionType) =>
  (): Requirement[] => [{ resource: Resource.cluster(), actions: [action] }];

/** An action on the command's database (createUser, dropUser ...). */
export const onDatabase =
  (action: ActionType) =>
  (ctx: Named): Requirement[] => [{ resource: Resource.database(ctx.db), actions: [action] }];

/** An action on the collection the command names in its first field (find ...). */
export const onCollection =
  (action: ActionType) =>
  (ctx: Named): Requirement[] => {
    const collection = ctx.body[ctx.name];
    return typeof collection === 'string' ? [{ resource: Resource.namespace(ctx.db, collection), actions: [action] }] : [];
  };

/** grantRole/revokeRole on the database of each role named in `roles`. */
export const onRoleDatabases =
  (action: ActionType) =>
  (ctx: Named): Requirement[] => {
    const roles = Array.isArray(ctx.body.roles) ? (ctx.body.roles as unknown[]) : [];
    return roles.map((r) => ({
      resource: Resource.database(typeof r === 'object' && r !== null && typeof (r as { db?: unknown }).db === 'string' ? (r as { db: string }).db : ctx.db),
      actions: [action],
    }));
  };
