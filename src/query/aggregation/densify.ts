/**
 * $densify: the documents sorted by the partition fields (not for "full" bounds) and the field,
 * with documents generated for the values of the range, step by step, that no document holds.
 *
 * Source: src/mongo/db/pipeline/document_source_densify.cpp/.h and document_source_densify.idl
 * (mongod 7.0). Parsing: a non-object spec is FailedToParse; the IDL (strict: unknown fields
 * 40415, wrong types 14, missing required fields 40414, null counting as absent) reads field
 * (string), partitionByFields (array of strings) and range {step (numeric), unit (string),
 * bounds}; then RangeStatement::parse: step > 0 (5733401), with a unit a whole step (6586400) and
 * a known unit (FailedToParse "unknown time unit value: <u>"), bounds "full" or "partition"
 * (5946802 for another string) or [lower, upper] (5733403 two elements, 5733402 ascending; numbers
 * of the step's own type without a unit: 5733409, 5733406, 5876900; dates with a unit: 5733405,
 * 5733410; 5946800 otherwise), 5733404 for any other bounds; then the field paths, then 5733408
 * for "partition" bounds without partition fields.
 *
 * Running ($densify desugars to a $sort then $_internalDensify, whose state machine this follows
 * state for state): documents whose field is missing or null pass through; others must hold a
 * number (without unit) or a date (with one): 5733201, 6053600. Values step from the range's
 * lower bound (explicit bounds), the partition's first value ("partition"), or the smallest value
 * of all ("full"); a generated document holds the partition fields of its partition (5733306,
 * 5733307, 5733308 when the field cannot be written there) and the value. Numbers step with
 * $add's promotion (ExpressionAdd::apply: an int step on ints stays an int until it overflows to
 * a long), dates with dateAdd in UTC (date_time_support.cpp, the expression module's $dateAdd: a
 * month added to the 31st lands on the month's last day). More than 500000 generated documents (internalQueryMaxAllowedDensifyDocs)
 * is 5897900. After the input, mongod finishes its partitions in the order of a hash table;
 * here, in the order they first appeared. The stage's memory limit (6007200) is not tracked.
 */
import { Long, type Document } from 'bson';
import { compareValues } from '../../bson/bsonOrder.js';
import { typeName } from '../../bson/typeName.js';
import { missingField, unknownField, wrongType } from '../../bson/idlErrors.js';
import { ErrorCodes, LocationCodes, MongoError } from '../../errors.js';
import { compileExpression, scopeFor, type CompiledExpression } from '../expression/compile.js';
import { integral64Bit, nullish } from '../expression/values.js';
import { objectKind } from '../match/values.js';
import { add, coerceToLong, isNumeric, mod, subtract, toDouble, type BsonNumber } from '../numeric.js';
import { sortDocuments } from '../sort.js';
import { compileExpr, scopeOf, type CompileContext, type CompiledStage, type RunContext } from './context.js';
import { fail } from './errors.js';
import { exactKeyFunction } from './group.js';
import { fieldPath, getNested, getOwn, MISSING, setField, setNested, type Obj } from './values.js';

// ---------------------------------------------------------------------------------------------
// Time units and dateAdd (UTC)

const TIME_UNITS = ['year', 'quarter', 'month', 'week', 'day', 'hour', 'minute', 'second', 'millisecond'] as const;
type TimeUnit = (typeof TIME_UNITS)[number];

/** Units whose steps vary in length (isOnStepRelativeTo steps through them). */
const CALENDAR_UNITS: ReadonlySet<string> = new Set(['year', 'quarter', 'month']);

/** dateAdd(date, unit, amount, UTC) as $dateAdd computes it (date_time_support.cpp), on milliseconds. */
function dateAdder(unit: TimeUnit): (ms: number, amount: bigint) => number {
  const expr = compileExpression({ $dateAdd: { startDate: '$$start', unit, amount: '$$amount' } }, { variables: ['start', 'amount'] });
  return (ms, amount) => {
    const variables = new Map<string, unknown>([
      ['start', new Date(ms)],
      ['amount', Long.fromBigInt(amount)],
    ]);
    return (expr.evaluate(scopeFor({}, new Date(0), variables)) as Date).getTime();
  };
}

// ---------------------------------------------------------------------------------------------
// Values (DensifyValue)

/** A number (its BSON value) or a date (its milliseconds). */
type DensifyValue = { readonly number: unknown; readonly date?: undefined } | { readonly date: number; readonly number?: undefined };

interface Range {
  readonly step: BsonNumber;
  readonly unit: TimeUnit | undefined;
  /** dateAdd in the unit (dates only). */
  readonly dateAdd: ((ms: number, amount: bigint) => number) | undefined;
}

type Bounds = 'full' | 'partition' | readonly [DensifyValue, DensifyValue];

function compare(a: DensifyValue, b: DensifyValue): number {
  if (a.date !== undefined) return Math.sign(a.date - b.date!);
  return compareValues(a.number, b.number);
}

function toValue(v: DensifyValue): unknown {
  return v.date !== undefined ? new Date(v.date) : v.number;
}

function increment(v: DensifyValue, range: Range): DensifyValue {
  if (v.date !== undefined) return { date: range.dateAdd!(v.date, coerceToLong(range.step)) };
  return { number: add(v.number, range.step) };
}

function decrement(v: DensifyValue, range: Range): DensifyValue {
  if (v.date !== undefined) return { date: range.dateAdd!(v.date, -coerceToLong(range.step)) };
  return { number: subtract(v.number, range.step) };
}

/** DensifyValue::isOnStepRelativeTo: whether a whole number of steps leads from `base` to `v`. */
function isOnStepRelativeTo(v: DensifyValue, base: DensifyValue, range: Range): boolean {
  if (v.date === undefined) return toDouble(mod(subtract(v.number, base.number), range.step)!) === 0;
  const dateAdd = range.dateAdd!;
  const step = coerceToLong(range.step);
  if (CALENDAR_UNITS.has(range.unit!)) {
    // Months vary in length: step from the base.
    let stepped = base.date!;
    while (stepped < v.date) stepped = dateAdd(stepped, step);
    return stepped === v.date;
  }
  return (v.date - base.date!) % dateAdd(0, step) === 0;
}

// ---------------------------------------------------------------------------------------------
// Parsing

interface DensifySpec {
  readonly field: readonly string[];
  readonly partitions: ReadonlyArray<readonly string[]>;
  readonly range: Range;
  readonly bounds: Bounds;
}

function present(v: unknown): boolean {
  return v !== undefined && v !== null;
}

/** The IDL's type list for a numeric field (its order as mongod 7.0 prints it). */
function stepWrongType(value: unknown): MongoError {
  return new MongoError(
    ErrorCodes.TypeMismatch,
    `BSON field '$densify.range.step' is the wrong type '${typeName(value)}', expected types '[long, double, int, decimal']`,
  );
}

/** RangeSpec (IDL), then RangeStatement::parse. */
function parseRange(spec: Obj): { range: Range; bounds: Bounds } {
  let step: unknown;
  let unitName: string | undefined;
  let bounds: unknown;
  let hasBounds = false;
  for (const name of Object.keys(spec)) {
    const value = spec[name];
    if (name === 'step') {
      if (!present(value)) continue;
      if (!isNumeric(value)) throw stepWrongType(value);
      step = value;
    } else if (name === 'unit') {
      if (!present(value)) continue;
      if (typeof value !== 'string') throw wrongType('$densify.range.unit', value, 'string');
      unitName = value;
    } else if (name === 'bounds') {
      bounds = value;
      hasBounds = true;
    } else {
      throw unknownField(`$densify.range.${name}`);
    }
  }
  if (step === undefined) throw missingField('$densify.range.step');
  if (!hasBounds) throw missingField('$densify.range.bounds');

  if (!(compareValues(step, 0) > 0)) fail(LocationCodes.DensifyStepNotPositive, 'The step parameter in a range statement must be a strictly positive numeric value');
  let unit: TimeUnit | undefined;
  if (unitName !== undefined) {
    if (!integral64Bit(step)) fail(LocationCodes.DensifyDateStepNotWhole, 'The step parameter in a range statement must be a whole number when densifying a date range');
    if (!(TIME_UNITS as readonly string[]).includes(unitName)) throw new MongoError(ErrorCodes.FailedToParse, `unknown time unit value: ${unitName}`);
    unit = unitName as TimeUnit;
  }
  const range: Range = { step: step as BsonNumber, unit, dateAdd: unit === undefined ? undefined : dateAdder(unit) };
  return { range, bounds: parseBounds(bounds, range) };
}

function parseBounds(bounds: unknown, range: Range): Bounds {
  if (typeof bounds === 'string') {
    if (bounds === 'full' || bounds === 'partition') return bounds;
    return fail(LocationCodes.DensifyBoundsBadString, "Bounds string must either be 'full' or 'partition'");
  }
  if (!Array.isArray(bounds)) {
    return fail(
      LocationCodes.DensifyBoundsBadType,
      "The bounds in a range statement must be the string 'full', 'partition', or an ascending array of two numbers or two dates",
    );
  }
  if (bounds.length !== 2) fail(LocationCodes.DensifyBoundsNotTwo, 'A bounding array in a range statement must have exactly two elements');
  const [lower, upper] = bounds as [unknown, unknown];
  if (!(compareValues(lower, upper) <= 0)) fail(LocationCodes.DensifyBoundsNotAscending, 'A bounding array must be an ascending array of either two dates or two numbers');
  if (isNumeric(lower)) {
    if (range.unit !== undefined) fail(LocationCodes.DensifyNumericBoundsWithUnit, 'Numeric bounds may not have unit parameter');
    if (!isNumeric(upper)) fail(LocationCodes.DensifyBoundsNumberMixed, 'A bounding array must contain either both dates or both numeric types');
    if (typeName(lower) !== typeName(upper) || typeName(lower) !== typeName(range.step)) {
      fail(LocationCodes.DensifyBoundsTypesDiffer, 'Upper bound, lower bound, and step must all have the same type');
    }
    return [{ number: lower }, { number: upper }];
  }
  if (lower instanceof Date) {
    if (!(upper instanceof Date)) fail(LocationCodes.DensifyBoundsDateMixed, 'A bounding array must contain either both dates or both numeric types');
    if (range.unit === undefined) fail(LocationCodes.DensifyDateBoundsWithoutUnit, 'A bounding array of dates must specify a unit');
    return [{ date: lower.getTime() }, { date: upper.getTime() }];
  }
  return fail(LocationCodes.DensifyBoundsNotNumbersOrDates, 'Explicit bounds must be numeric or dates');
}

/** document_source_densify::createFromBsonInternal (DensifySpec IDL first). */
function parseDensify(spec: unknown): DensifySpec {
  if (objectKind(spec) !== 1) throw new MongoError(ErrorCodes.FailedToParse, `The $densify stage specification must be an object, found ${typeName(spec)}`);
  const obj = spec as Obj;
  let field: string | undefined;
  let partitionNames: string[] = [];
  let parsed: { range: Range; bounds: Bounds } | undefined;
  for (const name of Object.keys(obj)) {
    const value = obj[name];
    if (name === 'field') {
      if (!present(value)) continue;
      if (typeof value !== 'string') throw wrongType('$densify.field', value, 'string');
      field = value;
    } else if (name === 'partitionByFields') {
      if (!present(value)) continue;
      if (!Array.isArray(value)) throw wrongType('$densify.partitionByFields', value, 'array');
      partitionNames = [];
      value.forEach((element: unknown, i) => {
        if (!present(element)) return;
        if (typeof element !== 'string') throw wrongType(`$densify.partitionByFields.${i}`, element, 'string');
        partitionNames.push(element);
      });
    } else if (name === 'range') {
      if (!present(value)) continue;
      if (objectKind(value) !== 1) throw wrongType('$densify.range', value, 'object');
      parsed = parseRange(value as Obj);
    } else {
      throw unknownField(`$densify.${name}`);
    }
  }
  if (field === undefined) throw missingField('$densify.field');
  if (parsed === undefined) throw missingField('$densify.range');
  const partitions = partitionNames.map(fieldPath);
  const fieldParts = fieldPath(field);
  if (parsed.bounds === 'partition' && partitions.length === 0) {
    fail(
      LocationCodes.DensifyPartitionBoundsWithoutFields,
      "One cannot specify the bounds as 'partition' without specifying a non-empty array of partitionByFields. You may have meant to specify 'full' bounds.",
    );
  }
  return { field: fieldParts, partitions, range: parsed.range, bounds: parsed.bounds };
}

// ---------------------------------------------------------------------------------------------
// Running

/** internalQueryMaxAllowedDensifyDocs' default. */
const MAX_GENERATED = 500000;

/** The last value of each partition (ValueUnorderedMap under the collation), in first-seen order. */
class PartitionTable {
  private readonly exact = new Map<string, { key: unknown; value: DensifyValue }>();
  private readonly entries = new Set<{ key: unknown; value: DensifyValue }>();

  constructor(
    private readonly keyOf: ((v: unknown) => string) | undefined,
    private readonly compareKeys: (a: unknown, b: unknown) => number,
  ) {}

  find(key: unknown): { key: unknown; value: DensifyValue } | undefined {
    if (this.keyOf !== undefined) return this.exact.get(this.keyOf(key));
    for (const entry of this.entries) if (this.compareKeys(entry.key, key) === 0) return entry;
    return undefined;
  }

  set(key: unknown, value: DensifyValue): void {
    const entry = this.find(key);
    if (entry !== undefined) {
      entry.value = value;
      return;
    }
    const created = { key, value };
    this.entries.add(created);
    if (this.keyOf !== undefined) this.exact.set(this.keyOf(key), created);
  }

  first(): { key: unknown; value: DensifyValue } | undefined {
    return this.entries.values().next().value;
  }

  delete(entry: { key: unknown; value: DensifyValue }): void {
    this.entries.delete(entry);
    if (this.keyOf !== undefined) this.exact.delete(this.keyOf(entry.key));
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The run of one $_internalDensify over its sorted input (DocumentSourceInternalDensify). */
class Densifier {
  private state: 'uninitializedOrBelowRange' | 'needGenerator' | 'haveGenerator' | 'finishing' | 'done' = 'uninitializedOrBelowRange';
  /** The last value seen or generated that is on the step. */
  private current: DensifyValue | undefined;
  private globalMin: DensifyValue | undefined;
  private globalMax: DensifyValue | undefined;
  private partitioned = false;
  private generator: DocGenerator | undefined;
  private eof = false;
  private generated = 0;
  private readonly table: PartitionTable;

  constructor(
    private readonly source: Iterator<Document>,
    private readonly spec: DensifySpec,
    private readonly partitionExpr: CompiledExpression | undefined,
    private readonly run: RunContext,
    cc: CompileContext,
  ) {
    this.table = new PartitionTable(exactKeyFunction(cc), cc.compare);
  }

  private get range(): Range {
    return this.spec.range;
  }

  private get explicit(): readonly [DensifyValue, DensifyValue] {
    return this.spec.bounds as readonly [DensifyValue, DensifyValue];
  }

  private pull(): Document | undefined {
    const next = this.source.next();
    return next.done === true ? undefined : next.value;
  }

  private valueOf(doc: Document): DensifyValue {
    const v = getNested(doc, this.spec.field);
    let value: DensifyValue;
    if (isNumeric(v)) value = { number: v };
    else if (v instanceof Date) value = { date: v.getTime() };
    else return fail(LocationCodes.DensifyValueBadType, 'Densify field type must be numeric or a date');
    if ((this.range.unit === undefined) !== (value.date === undefined)) {
      fail(
        LocationCodes.DensifyValueUnitMismatch,
        value.date === undefined
          ? 'Encountered numeric densify value in collection when step has a date unit.'
          : 'Encountered date densify value in collection when step does not have a date unit.',
      );
    }
    return value;
  }

  private partitionOf(doc: Document): unknown {
    return this.partitionExpr!.evaluate(scopeOf(doc, this.run));
  }

  private setPartitionValue(doc: Document): void {
    if (this.partitioned) this.table.set(this.partitionOf(doc), this.valueOf(doc));
  }

  private makeGenerator(min: DensifyValue, max: DensifyValue, includeFields: unknown, finalDoc: Document | undefined): void {
    this.generator = new DocGenerator(min, max, this.range, this.spec.field, includeFields, finalDoc, () => this.generated++);
  }

  private includeFieldsOf(doc: Document): unknown {
    return this.partitioned ? this.partitionOf(doc) : undefined;
  }

  /** The next output document; undefined at the end. */
  next(): Document | undefined {
    if (this.generated > MAX_GENERATED) {
      fail(
        LocationCodes.DensifyTooManyDocuments,
        `Generated ${this.generated} documents in $densify, which is over the limit of ${MAX_GENERATED}. Increase the 'internalQueryMaxAllowedDensifyDocs' parameter to allow more generated documents`,
      );
    }
    switch (this.state) {
      case 'uninitializedOrBelowRange': {
        const doc = this.pull();
        if (doc === undefined) return this.sourceExhausted();
        if (this.isNullish(doc)) return doc;
        const val = this.valueOf(doc);
        if (this.spec.partitions.length > 0 && !this.partitioned) {
          this.partitioned = true;
          this.setPartitionValue(doc);
        }
        if (this.spec.bounds === 'full') {
          this.current = val;
          this.globalMin = val;
          this.globalMax = val;
          this.state = 'needGenerator';
          return doc;
        }
        if (this.spec.bounds === 'partition') {
          this.state = 'needGenerator';
          return doc;
        }
        return this.firstDocForExplicitRange(doc);
      }
      case 'needGenerator': {
        const doc = this.pull();
        if (doc === undefined) return this.sourceExhausted();
        if (this.isNullish(doc)) return doc;
        const val = this.valueOf(doc);
        if (this.spec.bounds === 'full') {
          if (this.partitioned) {
            this.globalMax = val;
            const found = this.table.find(this.partitionOf(doc));
            if (found === undefined) {
              // A new partition starts from the smallest value of all.
              this.current = decrement(this.globalMin!, this.range);
              this.setPartitionValue(doc);
              return this.handleNeedGenerator(doc);
            }
            this.current = found.value;
          }
          return this.handleNeedGenerator(doc);
        }
        if (this.spec.bounds === 'partition') {
          const found = this.table.find(this.partitionOf(doc));
          if (found === undefined) {
            this.setPartitionValue(doc);
            return doc;
          }
          this.current = found.value;
          return this.handleNeedGenerator(doc);
        }
        if (this.partitioned) {
          const found = this.table.find(this.partitionOf(doc));
          if (found === undefined) {
            this.setPartitionValue(doc);
            this.current = undefined;
            return this.firstDocForExplicitRange(doc);
          }
          this.current = found.value;
        }
        return this.handleNeedGeneratorExplicit(doc);
      }
      case 'haveGenerator': {
        const generator = this.generator!;
        const doc = generator.next();
        if (this.spec.bounds === 'full' || this.spec.bounds === 'partition') {
          if (generator.done) {
            this.generator = undefined;
            this.state = this.spec.bounds === 'full' && this.eof && this.partitioned ? 'finishing' : 'needGenerator';
          }
          // The generator's final document may not be on the step.
          const val = this.valueOf(doc);
          if (compare(val, increment(this.current!, this.range)) === 0) {
            this.current = val;
            this.setPartitionValue(doc);
          }
          return doc;
        }
        const val = this.valueOf(doc);
        if (isOnStepRelativeTo(val, this.current!, this.range)) {
          this.current = val;
          this.setPartitionValue(doc);
        }
        this.resetGenerator();
        return doc;
      }
      case 'finishing':
        return this.finishPartitions();
      case 'done':
        return this.pull();
    }
  }

  private isNullish(doc: Document): boolean {
    const v = getNested(doc, this.spec.field);
    return v === MISSING || nullish(v);
  }

  /** getPositionRelativeToRange. */
  private position(val: DensifyValue): 'below' | 'rangeMin' | 'inside' | 'above' {
    const [lower, upper] = this.explicit;
    const c = compare(val, lower);
    if (c < 0) return 'below';
    if (c === 0) return 'rangeMin';
    return compare(val, upper) < 0 ? 'inside' : 'above';
  }

  /** processFirstDocForExplicitRange. */
  private firstDocForExplicitRange(doc: Document): Document | undefined {
    const val = this.valueOf(doc);
    // Before a partition's first document, the last value is the lower bound less one step.
    this.current ??= decrement(this.explicit[0], this.range);
    switch (this.position(val)) {
      case 'inside':
      case 'above':
        return this.docAboveExplicitMinBound(doc);
      case 'rangeMin':
        this.state = 'needGenerator';
        this.current = val;
        return doc;
      case 'below':
        this.state = 'uninitializedOrBelowRange';
        return doc;
    }
  }

  /** processDocAboveExplicitMinBound. */
  private docAboveExplicitMinBound(doc: Document): Document {
    const upper = this.explicit[1];
    const val = this.valueOf(doc);
    if (!(compare(this.current!, upper) < 0)) fail(LocationCodes.DensifyCurrentAboveRange, 'Cannot be in this state if _current is greater than the upper bound.');
    const lowerBound = increment(this.current!, this.range);
    if (compare(val, lowerBound) === 0) {
      this.setPartitionValue(doc);
      this.current = lowerBound;
      return doc;
    }
    const upperBound = compare(val, upper) < 0 ? val : upper;
    this.makeGenerator(lowerBound, upperBound, this.includeFieldsOf(doc), doc);
    const generated = this.generator!.next();
    this.current = this.valueOf(generated);
    this.state = 'haveGenerator';
    this.resetGenerator();
    this.setPartitionValue(generated);
    return generated;
  }

  /** resetDocGen: once the generator is done, the state that follows it. */
  private resetGenerator(): void {
    if (!this.generator!.done) return;
    if (compare(this.current!, this.explicit[1]) >= 0 && !this.partitioned) this.state = 'done';
    else if (this.partitioned && this.eof) this.state = 'finishing';
    else this.state = 'needGenerator';
    this.generator = undefined;
  }

  /** handleNeedGen ("full" and "partition" bounds). */
  private handleNeedGenerator(doc: Document): Document {
    const val = this.valueOf(doc);
    const nextValue = increment(this.current!, this.range);
    if (compare(val, nextValue) === 0) {
      this.setPartitionValue(doc);
      this.current = val;
    }
    if (compare(val, nextValue) <= 0) return doc;
    this.makeGenerator(nextValue, val, this.includeFieldsOf(doc), doc);
    this.state = 'haveGenerator';
    const generated = this.generator!.next();
    if (this.generator!.done) {
      this.generator = undefined;
      this.state = 'needGenerator';
    }
    this.current = this.valueOf(generated);
    this.setPartitionValue(generated);
    return generated;
  }

  /** handleNeedGenExplicit. */
  private handleNeedGeneratorExplicit(doc: Document): Document {
    const val = this.valueOf(doc);
    switch (this.position(val)) {
      case 'inside': {
        const nextStep = increment(this.current!, this.range);
        const c = compare(val, nextStep);
        if (c === 0) {
          this.current = val;
          this.setPartitionValue(doc);
          return doc;
        }
        if (c < 0) return doc;
        return this.docAboveExplicitMinBound(doc);
      }
      case 'above': {
        const nextStep = increment(this.current!, this.range);
        if (compare(nextStep, this.explicit[1]) >= 0) {
          this.current = nextStep;
          // Other partitions may still need densifying.
          this.setPartitionValue(doc);
          if (!this.partitioned) this.state = 'done';
          return doc;
        }
        return this.docAboveExplicitMinBound(doc);
      }
      case 'rangeMin':
        this.setPartitionValue(doc);
        this.current = val;
        return doc;
      case 'below':
        this.setPartitionValue(doc);
        this.state = 'uninitializedOrBelowRange';
        return doc;
    }
  }

  /** handleSourceExhausted. */
  private sourceExhausted(): Document | undefined {
    this.eof = true;
    if (this.spec.bounds === 'partition' || (this.spec.bounds === 'full' && !this.partitioned)) {
      this.state = 'done';
      return undefined;
    }
    if (this.partitioned) return this.finishPartitions();
    return this.explicitRangeAfterEnd();
  }

  /** densifyExplicitRangeAfterEOF (no partitions). */
  private explicitRangeAfterEnd(): Document | undefined {
    const [lower, upper] = this.explicit;
    if (this.current === undefined) {
      this.current = lower;
      this.makeGenerator(lower, upper, undefined, undefined);
    } else {
      const next = increment(this.current, this.range);
      if (compare(next, upper) >= 0) {
        this.state = 'done';
        return undefined;
      }
      this.makeGenerator(next, upper, undefined, undefined);
    }
    this.state = 'haveGenerator';
    const generated = this.generator!.next();
    if (this.generator!.done) {
      this.state = 'done';
      this.generator = undefined;
    }
    return generated;
  }

  /** finishDensifyingPartitionedInput: each partition densified up to the end of the range. */
  private finishPartitions(): Document | undefined {
    if (this.table.size === 0) {
      this.state = 'done';
      return undefined;
    }
    if (this.spec.bounds === 'full') {
      // Up to the largest value of all, and to the step after it when it is on the step.
      const max = isOnStepRelativeTo(this.globalMax!, this.current!, this.range) ? increment(this.globalMax!, this.range) : this.globalMax!;
      return this.finishPartitionsUpTo(max, undefined);
    }
    const [lower, upper] = this.explicit;
    return this.finishPartitionsUpTo(upper, lower);
  }

  private finishPartitionsUpTo(max: DensifyValue, minOverride: DensifyValue | undefined): Document | undefined {
    for (let entry = this.table.first(); entry !== undefined; entry = this.table.first()) {
      let from = increment(entry.value, this.range);
      if (compare(from, max) >= 0) {
        this.table.delete(entry);
        continue;
      }
      if (minOverride !== undefined && compare(from, minOverride) < 0) from = minOverride;
      this.makeGenerator(from, max, entry.key, undefined);
      this.table.delete(entry);
      this.state = 'haveGenerator';
      const generated = this.generator!.next();
      if (this.generator!.done) {
        this.generator = undefined;
        this.state = 'finishing';
      }
      return generated;
    }
    this.state = 'done';
    return undefined;
  }
}

/** DocGenerator: the values from `min` (included) to `max` (excluded), then the final document. */
class DocGenerator {
  private state: 'generating' | 'final' | 'done' = 'generating';
  private readonly base: Obj;

  constructor(
    private min: DensifyValue,
    private readonly max: DensifyValue,
    private readonly range: Range,
    private readonly path: readonly string[],
    includeFields: unknown,
    private readonly finalDoc: Document | undefined,
    private readonly counted: () => void,
  ) {
    this.base = includeFields === undefined ? {} : (includeFields as Obj);
    if (includeFields !== undefined && getNested(this.base, path) !== MISSING) {
      fail(LocationCodes.DensifyGeneratorOnPartitionField, 'DocGenerator cannot include field that is being densified');
    }
    // The value is written along the path: no array on the way, no scalar before its end.
    let doc: unknown = this.base;
    for (let i = 0; i < path.length; i++) {
      const v = getOwn(doc, path[i]!);
      if (Array.isArray(v)) fail(LocationCodes.DensifyGeneratorThroughArray, '$densify cannot generate fields nested inside arrays');
      if (objectKind(v) !== 0) {
        doc = v;
        continue;
      }
      if (!(i === path.length - 1 || v === MISSING)) fail(LocationCodes.DensifyGeneratorOverwrite, '$densify cannot overwrite non-object values with objects');
      break;
    }
  }

  get done(): boolean {
    return this.state === 'done';
  }

  next(): Document {
    if (this.state === 'final') {
      this.state = 'done';
      return this.finalDoc!;
    }
    const value = this.min;
    const following = increment(this.min, this.range);
    if (compare(this.max, following) <= 0) this.state = this.finalDoc !== undefined ? 'final' : 'done';
    this.min = following;
    this.counted();
    return setNested(this.base, this.path, toValue(value));
  }
}

/** The partition expression ({a: "$a", x: {y: "$x.y"}} for ["a", "x.y"]), compiled. */
function partitionExpression(partitions: ReadonlyArray<readonly string[]>, cc: CompileContext): CompiledExpression | undefined {
  if (partitions.length === 0) return undefined;
  const spec: Obj = {};
  for (const parts of partitions) {
    let node = spec;
    for (const part of parts.slice(0, -1)) {
      const child = Object.hasOwn(node, part) && objectKind(node[part]) === 1 ? (node[part] as Obj) : {};
      setField(node, part, child);
      node = child;
    }
    setField(node, parts[parts.length - 1]!, `$${parts.join('.')}`);
  }
  return compileExpr(spec, cc);
}

export function compileDensify(spec: unknown, cc: CompileContext): CompiledStage {
  const parsed = parseDensify(spec);
  const partitionExpr = partitionExpression(parsed.partitions, cc);
  // getSortPatternForDensify: the partitions (not for "full" bounds), then the field, ascending.
  const sortFields = [...(parsed.bounds === 'full' ? [] : parsed.partitions), parsed.field].map((parts) => ({ parts, descending: false }));
  return {
    name: '$densify',
    fallback: false,
    *run(input, run) {
      const sorted = sortDocuments([...input], sortFields, cc.collation);
      const densifier = new Densifier(sorted[Symbol.iterator](), parsed, partitionExpr, run, cc);
      for (let doc = densifier.next(); doc !== undefined; doc = densifier.next()) yield doc;
    },
  };
}
