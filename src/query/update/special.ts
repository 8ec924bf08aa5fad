import { ErrorCodes, MongoError } from '../../errors.js';

import { asDocument, isDocument } from './values.js';

const SPECIAL = new Set(['$expr', '$where', '$text']);

/**
 * MatchExpressionParser::kBanAllSpecialFeatures, as $pull conditions and arrayFilters are parsed:
 * $expr, $where and $text (at the top of the filter or of its $and/$or/$nor) are
 * QueryFeatureNotAllowed (224) "<op> is not allowed in this context".
 */
export function checkNoSpecialFeatures(filter: Record<string, unknown>): void {
  for (const key of Object.keys(filter)) {
    if (SPECIAL.has(key)) throw new MongoError(ErrorCodes.QueryFeatureNotAllowed, `${key} is not allowed in this context`);
    if (key === '$and' || key === '$or' || key === '$nor') {
      const subs = filter[key];
      if (!Array.isArray(subs)) continue;
      for (const sub of subs) if (isDocument(sub)) checkNoSpecialFeatures(asDocument(sub));
    }
  }
}
