import { createRequire } from 'node:module';

// sorted-btree is CommonJS with `exports.default`: Node's ESM loader and vitest's disagree on
// what a default import of it is, and require() gives both the same module object.
export const BTree = (createRequire(import.meta.url)('sorted-btree') as typeof import('sorted-btree')).default;

export type Tree<K, V> = import('sorted-btree').default<K, V>;
