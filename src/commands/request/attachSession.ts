import { Long, type Document } from 'bson';
import { numberValue } from '../../bson/args.js';
import { wrongType } from '../../bson/idlErrors.js';
import { ErrorCodes, LocationCodes, MongoError } from '../../errors.js';
import { isChildSession, parseLsidFromClient } from '../../sessions/logicalSessionId.js';
import { makeLogicalSessionId } from '../../sessions/owner.js';
import type { SessionRecord } from '../../sessions/sessionRegistry.js';
import type { Client } from '../client.js';
import type { CommandSpec } from '../command.js';
import type { Services } from '../services.js';
import { usesLocalhostException } from './authenticate.js';
import { TransactionRecord } from '../../sessions/transactionRecord.js';
import { beginOrContinue, checkTransactionStatement } from '../transactions.js';
import { lsidText } from '../../sessions/logicalSessionId.js';

/**
 * validateSessionOptions and beginOrContinue on a replica set (transaction_validation.cpp,
 * transaction_participant.cpp): a txnNumber with autocommit: false is a statement of a
 * transaction (begun or continued: commands/transactions.ts); without autocommit it is a
 * retryable write, which only the retryable write commands take (50768).
 */
function beginTransactionOrRetryableWrite(services: Services, spec: CommandSpec, session: SessionRecord, txnNumber: Long, body: Document): void {
  if (txnNumber.isNegative()) throw new MongoError(ErrorCodes.InvalidOptions, 'Transaction number cannot be negative');
  if (present(body.startTransaction) && !present(body.autocommit)) {
    throw new MongoError(ErrorCodes.InvalidOptions, "'startTransaction' field requires 'autocommit' field to also be specified");
  }
  if (present(body.autocommit)) {
    checkTransactionStatement(spec, body, String(body.$db));
    beginOrContinue(services, spec, session, (session.txn ??= new TransactionRecord()), txnNumber, body);
    return;
  }
  if (!spec.retryableWrite) {
    throw new MongoError(
      ErrorCodes.NotARetryableWriteCommand,
      `txnNumber may only be provided for multi-document transactions and retryable write commands. autocommit:false was not provided, and ${spec.name} is not a retryable write command.`,
    );
  }
  const record = (session.txn ??= new TransactionRecord());
  record.beginRetryableWrite(txnNumber, lsidText(session.lsid));
}

const CONTEXT = 'OperationSessionInfo';

function present(value: unknown): boolean {
  return value !== undefined && value !== null;
}

function checkType(field: string, value: unknown, expected: 'long' | 'bool'): void {
  const ok = expected === 'bool' ? typeof value === 'boolean' : numberValue(value) !== undefined;
  if (!ok) throw wrongType(`${CONTEXT}.${field}`, value, expected);
}

/**
 * Stage 3, attach session: the session fields of any command, handled once for all of them
 * (mongod's initializeOperationSessionInfo, sessions-semantics.md §3.1): parse and validate the
 * lsid, resolve its owner from the client's Principal, vivify the session (which may fail with
 * 261), and refuse the transaction fields a standalone cannot honour. Returns the session the
 * command runs in, if any.
 */
export function attachSession(
  services: Services,
  client: Client,
  spec: CommandSpec,
  body: Document,
  /** A field the client repeated inside its lsid (found in the bytes: decoding keeps the last). */
  lsidDuplicateField?: string,
): SessionRecord | undefined {
  const { lsid: rawLsid, txnNumber, autocommit, startTransaction } = body;
  const hasLsid = present(rawLsid);
  const hasTxnNumber = present(txnNumber);
  if (hasTxnNumber) checkType('txnNumber', txnNumber, 'long');
  if (present(autocommit)) checkType('autocommit', autocommit, 'bool');
  if (present(startTransaction)) checkType('startTransaction', startTransaction, 'bool');
  if (!hasLsid && !hasTxnNumber && !present(autocommit) && !present(startTransaction)) return undefined;
  if (hasLsid && lsidDuplicateField !== undefined) {
    throw new MongoError(LocationCodes.IdlDuplicateField, `BSON field '${CONTEXT}.lsid.${lsidDuplicateField}' is a duplicate field`);
  }
  const fromClient = hasLsid ? parseLsidFromClient(rawLsid, `${CONTEXT}.lsid`) : undefined;

  if (!spec.requiresAuth) {
    if (present(autocommit)) {
      throw new MongoError(ErrorCodes.OperationNotSupportedInTransaction, 'This command is not supported in transactions');
    }
    if (hasTxnNumber) throw new MongoError(LocationCodes.TxnNumberNotAllowed, 'It is illegal to provide a txnNumber for this command');
  }
  // Auth on, nobody logged in, a command that needs no login (hello, saslStart ...): the session
  // fields are ignored altogether, with no session created (step 5 of §3.1).
  // The localhost exception's commands likewise ignore them (step 4).
  const { auth } = services;
  if (auth.enforced && client.principal.user === undefined && (!spec.requiresAuth || usesLocalhostException(auth, client, spec))) {
    return undefined;
  }

  let session: SessionRecord | undefined;
  if (fromClient !== undefined) {
    const owner = services.owners.resolve(client.principal);
    const lsid = makeLogicalSessionId(fromClient, owner, false);
    // The kill commands validate an attached lsid but do not run in it (attachLogicalSessionsToOpCtx).
    if (!spec.attachesSession) return undefined;
    if (isChildSession(lsid)) {
      throw new MongoError(ErrorCodes.InvalidOptions, 'Internal sessions are only allowed for internal clients');
    }
    session = services.sessions.vivify(lsid, owner.user);
  }

  if (hasTxnNumber) {
    if (session === undefined) {
      throw new MongoError(ErrorCodes.InvalidOptions, 'Transaction number requires a session ID to also be specified');
    }
    if (services.replication === undefined) {
      throw new MongoError(ErrorCodes.IllegalOperation, 'Transaction numbers are only allowed on a replica set member or mongos');
    }
    // Long.fromValue would read an Int32 as 0: the number goes through numberValue.
    const number = txnNumber instanceof Long ? txnNumber : Long.fromNumber(numberValue(txnNumber)!);
    beginTransactionOrRetryableWrite(services, spec, session, number, body);
    return session;
  }
  if (present(autocommit)) {
    throw new MongoError(ErrorCodes.InvalidOptions, "'autocommit' field requires a transaction number to also be specified");
  }
  if (present(startTransaction)) {
    throw new MongoError(ErrorCodes.InvalidOptions, "'startTransaction' field requires 'autocommit' field to also be specified");
  }
  return session;
}
