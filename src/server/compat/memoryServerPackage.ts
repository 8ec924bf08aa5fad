/**
 * `pocketmongo/memory-server`: what a mongodb-memory-server suite imports, under the same names
 * (its default export is MongoMemoryServer, as there).
 */
export * from './memoryServer.js';
export * from './memoryReplSet.js';
export { default } from './memoryServer.js';
