/**
 * Arithmetic and comparison operators: $inc $mul (arithmetic_node.cpp, through numeric.ts's exact
 * SafeNum arithmetic), $min $max (compare_node.cpp), $bit (bit_node.cpp).
 */
import { Int32, Long } from 'bson';
import { typeName } from '../../bson/typeName.js';
import { checkArithmeticUpdateArgument, incValue, mulValue, numericType, type ArithmeticUpdateOperator } from '../numeric.js';
import { badValue, typeMismatch } from '../queryErrors.js';
import { setValue, valueOf, type ApplyContext, type Elem } from './paths.js';
import { ModifierNode } from './tree.js';
import { asDocument, elementText, idText, isDocument } from './values.js';

/**
 * $inc / $mul: the stored number and the argument combine in mongod's promotion (int+int stays int
 * or widens to long, long+long stays long, a long overflow is BadValue, double or decimal as soon
 * as one is); a result identical to the stored value (same type and value) is a no-op. A missing
 * field is created with the argument ($inc) or a zero of the argument's type ($mul).
 */
export class ArithmeticNode extends ModifierNode {
  constructor(
    private readonly op: ArithmeticUpdateOperator,
    fieldPath: string,
    private readonly by: unknown,
  ) {
    super();
    checkArithmeticUpdateArgument(op, fieldPath, by);
  }

  private compute(ctx: ApplyContext, current: unknown, fieldName: string) {
    const context = { idText: idText(ctx.doc), fieldName };
    return this.op === '$inc' ? incValue(current, this.by, context) : mulValue(current, this.by, context);
  }

  protected override updateExisting(ctx: ApplyContext, at: Elem): boolean {
    const current = valueOf(ctx, at);
    if (current === undefined) {
      // A stored BSON undefined (type 6) is a value, not a missing field.
      throw typeMismatch(
        `Cannot apply ${this.op} to a value of non-numeric type. {${idText(ctx.doc)}} has the field '${at.name}' of non-numeric type undefined`,
      );
    }
    const result = this.compute(ctx, current, at.name);
    if (result.noop) return false;
    setValue(ctx, at, result.value);
    return true;
  }

  protected override newValue(ctx: ApplyContext): unknown {
    return this.compute(ctx, undefined, '').value;
  }
}

/**
 * $min / $max: the argument replaces the stored value when it is smaller (larger) in BSON order
 * (strings under the operation's collation); an equal value is a no-op, whatever its type.
 */
export class CompareNode extends ModifierNode {
  constructor(
    private readonly mode: '$min' | '$max',
    private readonly value: unknown,
    private readonly compare: (a: unknown, b: unknown) => number,
  ) {
    super();
  }

  protected override updateExisting(ctx: ApplyContext, at: Elem): boolean {
    const c = this.compare(valueOf(ctx, at), this.value);
    if (c === 0 || (this.mode === '$max' ? c > 0 : c < 0)) return false;
    setValue(ctx, at, this.value);
    return true;
  }

  protected override newValue(): unknown {
    return this.value;
  }
}

type BitOp = 'and' | 'or' | 'xor';

interface BitOperation {
  readonly op: BitOp;
  readonly operand: Int32 | Long;
  readonly long: boolean;
  readonly bits: bigint;
}

/** An int or long as SafeNum holds it. */
interface Integral {
  readonly long: boolean;
  readonly bits: bigint;
}

function integralOf(v: unknown): Integral | undefined {
  switch (numericType(v)) {
    case 'int':
      return { long: false, bits: BigInt(typeof v === 'number' ? v : (v as Int32).value) };
    case 'long':
      return { long: true, bits: typeof v === 'bigint' ? BigInt.asIntN(64, v) : (v as Long).toBigInt() };
    default:
      return undefined;
  }
}

/**
 * $bit: and/or/xor with int or long operands, applied in the order given, on an int or long field
 * (SafeNum: int with int stays int, anything with a long is a long). A missing field starts from
 * int 0; an unchanged result (same type and value) is a no-op.
 */
export class BitNode extends ModifierNode {
  private constructor(private readonly ops: readonly BitOperation[]) {
    super();
  }

  /** BitNode::init. */
  static parse(value: unknown): BitNode {
    if (!isDocument(value)) {
      throw badValue(
        `The $bit modifier is not compatible with a ${typeName(value)}. You must pass in an embedded document: {$bit: {field: {and/or/xor: #}}`,
      );
    }
    const spec = asDocument(value);
    const ops: BitOperation[] = [];
    for (const name of Object.keys(spec)) {
      const operand = spec[name];
      if (name !== 'and' && name !== 'or' && name !== 'xor') {
        throw badValue(
          `The $bit modifier only supports 'and', 'or', and 'xor', not '${name}' which is an unknown operator: {${elementText(name, operand)}}`,
        );
      }
      const integral = integralOf(operand);
      if (integral === undefined) {
        throw badValue(
          `The $bit modifier field must be an Integer(32/64 bit); a '${typeName(operand)}' is not supported here: {${elementText(name, operand)}}`,
        );
      }
      ops.push({ op: name, operand: operand as Int32 | Long, long: integral.long, bits: integral.bits });
    }
    if (ops.length === 0) {
      throw badValue('You must pass in at least one bitwise operation. The format is: {$bit: {field: {and/or/xor: #}}');
    }
    return new BitNode(ops);
  }

  private applyOps(start: Integral): Integral {
    let long = start.long;
    let bits = start.bits;
    for (const o of this.ops) {
      long = long || o.long;
      bits = o.op === 'and' ? bits & o.bits : o.op === 'or' ? bits | o.bits : bits ^ o.bits;
      bits = long ? BigInt.asIntN(64, bits) : BigInt.asIntN(32, bits);
    }
    return { long, bits };
  }

  private static toValue(v: Integral): Int32 | Long {
    return v.long ? Long.fromBigInt(v.bits) : new Int32(Number(v.bits));
  }

  protected override updateExisting(ctx: ApplyContext, at: Elem): boolean {
    const current = valueOf(ctx, at);
    const integral = integralOf(current);
    if (integral === undefined) {
      throw badValue(
        `Cannot apply $bit to a value of non-integral type.${idText(ctx.doc)} has the field ${at.name} of non-integer type ${typeName(current)}`,
      );
    }
    const result = this.applyOps(integral);
    if (result.long === integral.long && result.bits === integral.bits) return false;
    setValue(ctx, at, BitNode.toValue(result));
    return true;
  }

  protected override newValue(): unknown {
    return BitNode.toValue(this.applyOps({ long: false, bits: 0n }));
  }
}
