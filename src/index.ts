export { PocketMongo } from './server.js';
export type { ServerOptions } from './config.js';
export { VirtualClock, systemClock, type Clock } from './clock.js';
export { MongoError, ErrorCodes } from './errors.js';
export { SERVER_VERSION, PACKAGE_VERSION } from './version.js';
export { MongoMemoryServer } from './compat/memoryServer.js';
