/**
 * Arguments any command may carry (src/mongo/idl/generic_argument.idl). Strict commands ignore
 * these when they reject unknown fields; setParameter does not treat them as parameter names.
 */
const GENERIC_ARGUMENTS = new Set([
  '$db',
  'lsid',
  'txnNumber',
  'txnRetryCounter',
  'autocommit',
  'startTransaction',
  'stmtId',
  '$readPreference',
  '$clusterTime',
  '$audit',
  '$client',
  '$configServerState',
  '$configTime',
  '$topologyTime',
  '$oplogQueryData',
  '$queryOptions',
  '$replData',
  'apiVersion',
  'apiStrict',
  'apiDeprecationErrors',
  'comment',
  'maxTimeMS',
  'readConcern',
  'writeConcern',
  'databaseVersion',
  'shardVersion',
  'clientOperationKey',
  'mayBypassWriteBlocking',
  'allowImplicitCollectionCreation',
  'help',
]);

export function isGenericArgument(name: string): boolean {
  return GENERIC_ARGUMENTS.has(name);
}
