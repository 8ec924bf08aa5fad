import { Decimal128, Double, Int32, Long, type Document } from 'bson';

/**
 * mingo computes on plain JS numbers (see toQueryValue), which BSON would store as int32 or
 * double by value alone. This gives a computed value back the numeric type mongod would keep:
 * the type of the value it came from (`hint`): a double stays a double even when whole, a long
 * stays a long; an int32 result that outgrows int32 becomes a long, or a double when fractional
 * (mongod's arithmetic promotes the same way).
 */
function numberLike(result: number, hint: unknown): unknown {
  const whole = Number.isInteger(result);
  if (hint instanceof Double) return new Double(result);
  // Decimal arithmetic is exact in mongod; 15 significant digits undo the double's rounding (0.1 + 0.2).
  if (hint instanceof Decimal128) return Decimal128.fromString(String(Number(result.toPrecision(15))));
  if (hint instanceof Long) return whole && Number.isSafeInteger(result) ? Long.fromNumber(result) : new Double(result);
  if (hint instanceof Int32) {
    if (!whole) return new Double(result);
    return result >= -0x80000000 && result <= 0x7fffffff ? new Int32(result) : Long.fromNumber(result);
  }
  return result;
}

function hintValue(hint: unknown): number | undefined {
  if (hint instanceof Int32 || hint instanceof Double) return hint.value;
  if (hint instanceof Long) return hint.toNumber();
  if (hint instanceof Decimal128) return Number(hint.toString());
  return undefined;
}

function isPlainObject(value: unknown): value is Document {
  return value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype;
}

/**
 * `result` with each plain number at a path where `hint` holds a BSON number given that number's
 * type; with `sameValueOnly`, only where the numbers are equal (a projection moves values, it
 * does not compute them). Other values pass through untouched.
 */
export function retype(result: unknown, hint: unknown, sameValueOnly: boolean): unknown {
  if (typeof result === 'number') {
    const previous = hintValue(hint);
    if (previous === undefined || (sameValueOnly && previous !== result)) return result;
    return numberLike(result, hint);
  }
  if (Array.isArray(result)) {
    if (!Array.isArray(hint)) return result;
    return result.map((v, i) => retype(v, hint[i], sameValueOnly));
  }
  if (isPlainObject(result) && isPlainObject(hint)) {
    const out: Document = {};
    for (const [k, v] of Object.entries(result)) {
      const value = retype(v, Object.hasOwn(hint, k) ? hint[k] : undefined, sameValueOnly);
      if (k === '__proto__') Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
      else out[k] = value;
    }
    return out;
  }
  return result;
}
