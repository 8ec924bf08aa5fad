import { Binary, Int32, type Document } from 'bson';
import { isScramMechanism, parseSaslStartOptions, ScramAuthenticationError, ScramServerConversation } from '../auth/scram.js';
import { ErrorCodes, LocationCodes, MongoError } from '../errors.js';
import type { ConnectionState } from '../net/connectionState.js';
import type { ServerContext } from '../serverContext.js';
import { isPlainObject, numberValue } from '../bson/args.js';
import type { CommandContext } from './types.js';

/** A SASL payload as sent: BinData, or a base64 string (mongod accepts both and answers in kind). */
function payloadBytes(payload: unknown): { bytes: Buffer; asString: boolean } {
  if (payload instanceof Binary) return { bytes: Buffer.from(payload.value()), asString: false };
  if (typeof payload === 'string') return { bytes: Buffer.from(payload, 'base64'), asString: true };
  throw new MongoError(ErrorCodes.BadValue, 'Missing "payload" field');
}

function encodePayload(bytes: Buffer, asString: boolean): Binary | string {
  return asString ? bytes.toString('base64') : new Binary(bytes);
}

function logAuth(server: ServerContext, connection: ConnectionState, attr: Record<string, unknown>, ok: boolean): void {
  server.log.info({
    c: 'ACCESS',
    id: ok ? 5286306 : 20249,
    ctx: `conn${connection.id}`,
    msg: ok ? 'Authentication succeeded' : 'Authentication failed',
    attr: { ...attr, remote: connection.remote },
  });
}

/** Records a finished conversation's user on the connection (one user per connection, as mongod 7.0). */
function authenticate(server: ServerContext, connection: ConnectionState, user: string, db: string): void {
  server.auth.users.get(db, user);
  connection.user = { user, db };
}

function checkNotOtherUser(connection: ConnectionState, user: string | undefined, db: string): void {
  const current = connection.user;
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
function step(ctx: { server: ServerContext; connection: ConnectionState }, db: string, payload: unknown): Document {
  const { server, connection } = ctx;
  const sasl = connection.sasl!;
  // A conversation begun inside hello stays "speculative" through its saslContinue (as mongod logs it).
  const speculative = sasl.speculative;
  const { bytes, asString } = payloadBytes(payload);
  try {
    const result = sasl.conversation.step(bytes);
    const principalName = sasl.conversation.principalName;
    if (result.done && principalName !== undefined) {
      checkNotOtherUser(connection, principalName, db);
      authenticate(server, connection, principalName, db);
      connection.sasl = undefined;
      logAuth(server, connection, { mechanism: sasl.conversation.mechanism, speculative, principalName, authenticationDatabase: db }, true);
    }
    return { conversationId: new Int32(1), done: result.done, payload: encodePayload(result.payload, asString) };
  } catch (err) {
    connection.sasl = undefined;
    const reason = err instanceof ScramAuthenticationError ? err.reason : undefined;
    logAuth(
      server,
      connection,
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
  ctx: { server: ServerContext; connection: ConnectionState },
  db: string,
  body: Document,
  speculative: boolean,
): Document {
  const mechanism = body.mechanism;
  if (!isScramMechanism(mechanism)) {
    throw new MongoError(ErrorCodes.MechanismUnavailable, `Received authentication for mechanism ${String(mechanism)} which is not enabled`);
  }
  checkNotOtherUser(ctx.connection, undefined, db);
  const { skipEmptyExchange } = parseSaslStartOptions(isPlainObject(body.options) ? body.options : undefined);
  const conversation = new ScramServerConversation(mechanism, (user) => ctx.server.auth.users.credentialsOf(db, user), {
    skipEmptyExchange,
    db,
  });
  ctx.connection.sasl = { conversation, db, speculative };
  return step(ctx, db, body.payload);
}

export function saslStart(ctx: CommandContext): Document {
  return startSasl(ctx, ctx.db, ctx.body, false);
}

/** saslContinue: the next step of the connection's conversation. */
export function saslContinue(ctx: CommandContext): Document {
  const sasl = ctx.connection.sasl;
  if (sasl === undefined) throw new MongoError(ErrorCodes.ProtocolError, 'No SASL session state found');
  if (numberValue(ctx.body.conversationId) !== 1) {
    throw new MongoError(ErrorCodes.ProtocolError, 'sasl: Mismatched conversation id');
  }
  return step(ctx, sasl.db, ctx.body.payload);
}

/** logout: forgets the connection's user when it logged in on this database. */
export function logout(ctx: CommandContext): Document {
  if (ctx.connection.user?.db === ctx.db) ctx.connection.user = undefined;
  return {};
}
