import { createRequire } from 'node:module';

/** The mongod release whose behaviour we reproduce; buildInfo and serverStatus report it. */
export const SERVER_VERSION = '7.0.14';
export const VERSION_ARRAY: readonly number[] = [7, 0, 14, 0];

const require = createRequire(import.meta.url);
/** pocketmongo's own version, from package.json. */
export const PACKAGE_VERSION: string = (require('../package.json') as { version: string }).version;
