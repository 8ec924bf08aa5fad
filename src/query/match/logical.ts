/**
 * $and $or $nor $not $alwaysTrue $alwaysFalse (expression_tree.cpp, expression_parser.cpp
 * parseTreeTopLevel / parseNot / parseAlwaysBoolean).
 *
 * - $and/$or/$nor take a non-empty array of documents, each parsed like a whole filter at the same
 *   level (checkFilter has already refused the malformed ones with mongod's texts).
 * - $and records the positional match position of its children (the last child that records one
 *   wins; a failing child clears it); $or, $nor and $not match their children without recording.
 * - {field: {$not: /re/}} is NOT(regex); {field: {$not: {ops}}} is NOT(AND(ops)) on the field:
 *   "$not needs a regex or a document", "$not cannot be empty".
 * - {$alwaysTrue: 1} / {$alwaysFalse: 1}: the argument must be the whole number 1
 *   (parseIntegerElementToLong, FailedToParse "<name> must be an integer value of 1").
 */
import { failedToParse } from '../queryErrors.js';
import { ALWAYS_FALSE, ALWAYS_TRUE, andNode, norNode, notNode, orNode, type MatchNode } from './node.js';
import { parseIntegerElement } from './values.js';

export function logicalNode(op: '$and' | '$or' | '$nor', children: readonly MatchNode[]): MatchNode {
  if (op === '$and') return andNode(children);
  if (op === '$or') return orNode(children);
  return children.length === 1 ? notNode(children[0]!) : norNode(children);
}

export function alwaysNode(op: '$alwaysTrue' | '$alwaysFalse', arg: unknown): MatchNode {
  const n = parseIntegerElement(op, arg, 'long');
  if (typeof n === 'string') throw failedToParse(n);
  if (n !== 1n) throw failedToParse(`${op} must be an integer value of 1`);
  return op === '$alwaysTrue' ? ALWAYS_TRUE : ALWAYS_FALSE;
}

