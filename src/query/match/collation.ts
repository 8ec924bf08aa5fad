/**
 * String comparison under a query's collation, as mongod's matcher applies it: strings (and
 * symbols) compare with the collator, also inside embedded documents and arrays; every other value
 * compares as without a collation (bsonOrder.compareValues). Regular expressions ignore collation.
 *
 * mongod collates with ICU; here Intl.Collator (ICU inside V8) stands in. Only the options that map
 * onto Intl.Collator without changing results are taken; the others are refused (115) rather than
 * approximated: strength 4 and 5, caseLevel with strength 2 or 3, alternate "shifted", backwards.
 */
import { Int32, type Document } from 'bson';
import { canonicalTypeOrder, compareUtf8, compareValues } from '../../bson/bsonOrder.js';
import { bsonText } from '../../bson/bsonText.js';
import { badValue, notSupported } from '../queryErrors.js';
import { dbrefDocument, objectKind } from './values.js';

/** A comparison of two BSON values: -1, 0 or 1. */
export type ValueCompare = (a: unknown, b: unknown) => number;

/**
 * The collator for a collation spec; undefined for none, {} or {locale: "simple"} (binary comparison).
 * Throws BadValue for a locale that is not a string or that ICU does not know, 115 for options this
 * stand-in cannot reproduce exactly.
 */
export function collatorFor(collation: Document | undefined): Intl.Collator | undefined {
  if (collation === undefined || collation === null) return undefined;
  const locale = collation.locale;
  if (locale === undefined && Object.keys(collation).length === 0) return undefined;
  if (typeof locale !== 'string') throw badValue("Missing required field 'locale'");
  if (locale === 'simple') return undefined;
  const strength = collation.strength === undefined ? 3 : Number((collation.strength as { valueOf(): unknown }).valueOf());
  if (strength === 4 || strength === 5) throw notSupported(`collation strength ${strength}`);
  const caseLevel = collation.caseLevel === true;
  if (caseLevel && strength !== 1) throw notSupported(`collation caseLevel with strength ${strength}`);
  if (collation.alternate !== undefined && collation.alternate !== 'non-ignorable') throw notSupported(`collation alternate "${String(collation.alternate)}"`);
  if (collation.backwards === true) throw notSupported('collation backwards');
  const caseFirst = collation.caseFirst === 'upper' || collation.caseFirst === 'lower' ? collation.caseFirst : 'false';
  const tag = languageTag(locale);
  let supported: string[];
  try {
    supported = tag === undefined ? [] : tag.startsWith('und') ? [tag] : Intl.Collator.supportedLocalesOf(tag);
  } catch {
    supported = [];
  }
  if (supported.length === 0) throw badValue(`Field 'locale' is invalid in: ${bsonText(collation)}`);
  return new Intl.Collator(tag, {
    usage: 'sort',
    sensitivity: strength <= 1 ? (caseLevel ? 'case' : 'base') : strength === 2 ? 'accent' : 'variant',
    numeric: collation.numericOrdering === true,
    caseFirst,
  });
}

/**
 * The collation as mongod reports it for an index (listIndexes, DuplicateKey errors): every option
 * filled in, in CollationSpec::toBSON's order, `version` the ICU version mongod 7.0 ships (57.1);
 * undefined for the simple collation. The spec must already be accepted by collatorFor.
 */
export function fullCollationSpec(collation: Document | undefined): Document | undefined {
  if (collatorFor(collation) === undefined) return undefined;
  const c = collation!;
  const flag = (v: unknown): boolean => v === true;
  return {
    locale: c.locale,
    caseLevel: flag(c.caseLevel),
    caseFirst: typeof c.caseFirst === 'string' ? c.caseFirst : 'off',
    strength: new Int32(c.strength === undefined ? 3 : Number((c.strength as { valueOf(): unknown }).valueOf())),
    numericOrdering: flag(c.numericOrdering),
    alternate: typeof c.alternate === 'string' ? c.alternate : 'non-ignorable',
    maxVariable: typeof c.maxVariable === 'string' ? c.maxVariable : 'punct',
    normalization: flag(c.normalization),
    backwards: flag(c.backwards),
    version: '57.1',
  };
}

/** ICU collation keywords (locale@collation=x) as BCP 47 -u-co- types. */
const COLLATION_TYPES: Readonly<Record<string, string>> = { phonebook: 'phonebk', traditional: 'trad', dictionary: 'dict', gb2312han: 'gb2312' };

/**
 * mongod's ICU locale id ("en_US", "zh_Hant", "de@collation=phonebook", "root") as the BCP 47 tag
 * Intl takes ("en-US", "zh-Hant", "de-u-co-phonebk", "und"); undefined when it cannot be one.
 */
function languageTag(locale: string): string | undefined {
  const [base = '', keywords] = locale.split('@', 2);
  let tag = base === 'root' ? 'und' : base.replace(/_/g, '-');
  if (keywords !== undefined) {
    const m = /^collation=([A-Za-z0-9]+)$/.exec(keywords);
    if (m === null) return undefined;
    const type = COLLATION_TYPES[m[1]!] ?? m[1]!;
    if (type.length < 3 || type.length > 8) return undefined;
    tag += `-u-co-${type}`;
  }
  return tag;
}

function stringValue(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && (v as { _bsontype?: unknown })._bsontype === 'BSONSymbol') {
    return String((v as { value: unknown }).value);
  }
  return undefined;
}

function sign(x: number): number {
  return x < 0 ? -1 : x > 0 ? 1 : 0;
}

/** compareValues with strings compared by `collator` (at any depth of documents and arrays). */
export function collatedCompare(a: unknown, b: unknown, collator: Intl.Collator): number {
  const ra = canonicalTypeOrder(a);
  const rb = canonicalTypeOrder(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 15: // string, symbol
      return sign(collator.compare(stringValue(a)!, stringValue(b)!));
    case 20: {
      // object: field by field, type rank, then name, then value (BSONObj::woCompare)
      const x = objectKind(a) === 2 ? dbrefDocument(a) : (a as Record<string, unknown>);
      const y = objectKind(b) === 2 ? dbrefDocument(b) : (b as Record<string, unknown>);
      const kx = Object.keys(x);
      const ky = Object.keys(y);
      const n = Math.min(kx.length, ky.length);
      for (let i = 0; i < n; i++) {
        const va = x[kx[i]!];
        const vb = y[ky[i]!];
        const ta = canonicalTypeOrder(va);
        const tb = canonicalTypeOrder(vb);
        if (ta !== tb) return ta < tb ? -1 : 1;
        const names = compareUtf8(kx[i]!, ky[i]!);
        if (names !== 0) return names;
        const c = collatedCompare(va, vb, collator);
        if (c !== 0) return c;
      }
      return sign(kx.length - ky.length);
    }
    case 25: {
      const x = a as readonly unknown[];
      const y = b as readonly unknown[];
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) {
        const c = collatedCompare(x[i], y[i], collator);
        if (c !== 0) return c;
      }
      return sign(x.length - y.length);
    }
    default:
      return compareValues(a, b);
  }
}

/** The comparison for an optional collator. */
export function comparatorFor(collator: Intl.Collator | undefined): ValueCompare {
  return collator === undefined ? compareValues : (a, b) => collatedCompare(a, b, collator);
}
