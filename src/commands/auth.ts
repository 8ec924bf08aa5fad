import { Binary, Int32, type Document } from 'bson';
import { isScramMechanism, parseSaslStartOptions, ScramAuthenticationError, ScramServerConversation } from '../auth/scram.js';
import { ErrorCodes, LocationCodes, MongoError } from '../errors.js';
import type { Principal } from '../auth/principal.js';
import { isPlainObject, numberValue } from '../bson/args.js';
import { defineCommand, type CommandContext, type CommandSpec } from './command.js';

/** A SASL payload as sent: BinData, or a base64 string (mongod accepts both and answers in kind). */
function payloadBytes(payload: unknown): { bytes: Buffer; asString: boolean } {
  if (payload instanceof Binary) return { bytes: Buffer.from(payload.value()), asString: false };
  if (typeof payload === 'string') return { bytes: Buffer.from(payload, 'base64'), asString: true };
  throw new MongoError(ErrorCodes.BadValue, 'Missing "payload" field');
}

function encodePayload(bytes: Buffer, asString: boolean): Binary | string {
  return asString ? bytes.toString('base64') : new Binary(bytes);
}

/** What SASL steps use: the users, and the log. */
type SaslContext = CommandContext<'auth' | 'log'>;

function logAuth(ctx: SaslContext, attr: Record<string, unknown>, ok: boolean): void {
  ctx.services.log.info({
    c: 'ACCESS',
    id: ok ? 5286306 : 20249,
    ctx: `conn${ctx.client.id}`,
    msg: ok ? 'Authentication succeeded' : 'Authentication failed',
    attr: { ...attr, remote: ctx.client.remote },
  });
}

/** Records a finished conversation's user on the principal (one user per connection, as mongod 7.0). */
function authenticate(ctx: SaslContext, user: string, db: string): void {
  ctx.services.auth.users.get(db, user);
  ctx.client.principal.user = { user, db };
}

function checkNotOtherUser(principal: Principal, user: string | undefined, db: string): void {
  const current = principal.user;
  if (current === undefined) return;
  if (current.db !== db) {
    throw new MongoError(
      LocationCodes.AuthenticatedTwiceOtherDb,
      `Each client connection may only be authenticated once. Previously authenticated as: ${current.user}@${current.db}`,
    );
  }
  if (user !== undefined && current.user !== user) {
    throw new MongoError(
      LocationCodes.AuthenticatedTwiceAsOtherUser,
      `Each client connection may only be authenticated once. Previously authenticated as: ${current.user}@${current.db}`,
    );
  }
}

/** One SASL step on the connection's conversation, with mongod's bookkeeping and logging. */
function step(ctx: SaslContext, db: string, payload: unknown): Document {
  const principal = ctx.client.principal;
  const sasl = principal.sasl!;
  // A conversation begun inside hello stays "speculative" through its saslContinue (as mongod logs it).
  const speculative = sasl.speculative;
  const { bytes, asString } = payloadBytes(payload);
  try {
    const result = sasl.conversation.step(bytes);
    const principalName = sasl.conversation.principalName;
    if (result.done && principalName !== undefined) {
      checkNotOtherUser(principal, principalName, db);
      authenticate(ctx, principalName, db);
      principal.sasl = undefined;
      logAuth(ctx, { mechanism: sasl.conversation.mechanism, speculative, principalName, authenticationDatabase: db }, true);
    }
    return { conversationId: new Int32(1), done: result.done, payload: encodePayload(result.payload, asString) };
  } catch (err) {
    principal.sasl = undefined;
    const reason = err instanceof ScramAuthenticationError ? err.reason : undefined;
    logAuth(
      ctx,
      {
        mechanism: sasl.conversation.mechanism,
        speculative,
        principalName: sasl.conversation.principalName,
        authenticationDatabase: db,
        error: reason === undefined ? (err as Error).message : `${reason.codeName}: ${reason.errmsg}`,
      },
      false,
    );
    throw err;
  }
}

/** saslStart (sasl_commands.cpp): begins a SCRAM conversation on the connection. */
export function startSasl(
  ctx: SaslContext,
  db: string,
  body: Document,
  speculative: boolean,
): Document {
  const mechanism = body.mechanism;
  if (!isScramMechanism(mechanism)) {
    throw new MongoError(ErrorCodes.MechanismUnavailable, `Received authentication for mechanism ${String(mechanism)} which is not enabled`);
  }
  checkNotOtherUser(ctx.client.principal, undefined, db);
  const { skipEmptyExchange } = parseSaslStartOptions(isPlainObject(body.options) ? body.options : undefined);
  const conversation = new ScramServerConversation(mechanism, (user) => ctx.services.auth.users.credentialsOf(db, user), {
    skipEmptyExchange,
    db,
  });
  ctx.client.principal.sasl = { conversation, db, speculative };
  return step(ctx, db, body.payload);
}

function saslStart(ctx: SaslContext): Document {
  return startSasl(ctx, ctx.db, ctx.body, false);
}

/** saslContinue: the next step of the connection's conversation. */
function saslContinue(ctx: SaslContext): Document {
  const sasl = ctx.client.principal.sasl;
  if (sasl === undefined) throw new MongoError(ErrorCodes.ProtocolError, 'No SASL session state found');
  if (numberValue(ctx.body.conversationId) !== 1) {
    throw new MongoError(ErrorCodes.ProtocolError, 'sasl: Mismatched conversation id');
  }
  return step(ctx, sasl.db, ctx.body.payload);
}

/** logout: forgets the connection's user when it logged in on this database. */
function logout(ctx: CommandContext<never>): Document {
  if (ctx.client.principal.user?.db === ctx.db) ctx.client.principal.user = undefined;
  return {};
}

/** Authentication (sasl_commands.cpp). */
export const authenticationCommands: readonly CommandSpec[] = [
  defineCommand({ name: 'saslStart', run: saslStart, requiresAuth: false, opQuery: true, apiVersion1: true, help: 'Begins a SASL conversation' }),
  defineCommand({ name: 'saslContinue', run: saslContinue, requiresAuth: false, opQuery: true, apiVersion1: true, help: 'Subsequent steps in a SASL authentication conversation' }),
  defineCommand({ name: 'logout', run: logout, requiresAuth: false, help: 'de-authenticate' }),
];
