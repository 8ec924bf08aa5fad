/** mongod's maxBsonObjectSize: the largest document (hello reports it; cursor batches stay under it). */
export const MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024;
/** mongod's maxMessageSizeBytes; also the largest frame the framer accepts. */
export const MAX_MESSAGE_SIZE_BYTES = 48_000_000;
