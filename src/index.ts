export { PocketMongo, DataSnapshot } from './server/pocketMongo.js';
export type { ServerOptions } from './server/options.js';
export { VirtualClock, systemClock, type Clock } from './clock.js';
export { MongoError, ErrorCodes } from './errors.js';
export { SERVER_VERSION, PACKAGE_VERSION } from './version.js';
export { MongoMemoryServer } from './server/compat/memoryServer.js';
export { MongoMemoryReplSet } from './server/compat/memoryReplSet.js';
