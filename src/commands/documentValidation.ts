import { type Document } from 'bson';
import type { Requirement } from '../auth/authorize.js';
import { isPlainObject, trueValue } from '../bson/args.js';
import { wrongType } from '../bson/idlErrors.js';
import { ErrorCodes, MongoError } from '../errors.js';
import type { CompiledValidator } from '../query/validator.js';
import type { ValidationAction, ValidationLevel, ValidationOptions, ValidationWarning, WriteValidation } from '../storage/validation.js';
import type { Log } from '../log.js';
import type { CommandContext } from './command.js';

// Document validation in the commands (the engine's part is storage/validation.ts): the
// validator options of create and collMod (create.idl, coll_mod.idl: `validator` an object,
// `validationLevel` and `validationAction` the ValidationLevel / ValidationAction enums), what a
// writing command brings to the check, and the bypassDocumentValidation privilege.

const LEVELS: readonly string[] = ['off', 'strict', 'moderate'];
const ACTIONS: readonly string[] = ['error', 'warn'];

/** An IDL enum field: a string among `values` ("Enumeration value 'x' for field 'create.validationLevel' is not a valid value."). */
function enumValue<T extends string>(path: string, value: unknown, values: readonly string[]): T {
  if (typeof value !== 'string') throw wrongType(path, value, 'string');
  if (!values.includes(value)) throw new MongoError(ErrorCodes.BadValue, `Enumeration value '${value}' for field '${path}' is not a valid value.`);
  return value as T;
}

/**
 * The validation options a create or collMod command sets (only the ones it names), read in the
 * command's field order as the IDL parser reads them.
 */
export function validationArguments(body: Document, command: string): ValidationOptions {
  let validator: Document | undefined;
  let validationLevel: ValidationLevel | undefined;
  let validationAction: ValidationAction | undefined;
  for (const [field, value] of Object.entries(body)) {
    if (value === undefined) continue;
    if (field === 'validator') {
      if (!isPlainObject(value)) throw wrongType(`${command}.validator`, value, 'object');
      validator = value;
    } else if (field === 'validationLevel') {
      validationLevel = enumValue<ValidationLevel>(`${command}.validationLevel`, value, LEVELS);
    } else if (field === 'validationAction') {
      validationAction = enumValue<ValidationAction>(`${command}.validationAction`, value, ACTIONS);
    }
  }
  return {
    ...(validator === undefined ? {} : { validator }),
    ...(validationLevel === undefined ? {} : { validationLevel }),
    ...(validationAction === undefined ? {} : { validationAction }),
  };
}

/** What a writing command (insert, update, findAndModify, aggregate with $out/$merge) brings to the validation of what it stores. */
export function writeValidation(ctx: CommandContext<'log'>, now: Date): WriteValidation {
  return new CommandValidation(trueValue(ctx.body.bypassDocumentValidation), now, ctx.services.log, `conn${ctx.client.id}`);
}

/**
 * A class rather than an object literal with a closure: no closure (named with a defineProperty
 * in the bundle, which keeps names) and no Map made for each write command.
 */
class CommandValidation implements WriteValidation {
  private compiledValidators: Map<Document, CompiledValidator> | undefined;

  constructor(
    readonly bypass: boolean,
    readonly now: Date,
    private readonly log: Log,
    private readonly context: string,
  ) {}

  /** Made at the first validator: most collections have none. */
  get compiled(): Map<Document, CompiledValidator> {
    return (this.compiledValidators ??= new Map());
  }

  warn(entry: ValidationWarning): void {
    this.log.warn({ c: 'STORAGE', ctx: this.context, ...entry });
  }
}

/**
 * A write's privileges plus, with bypassDocumentValidation: true, the bypassDocumentValidation
 * action on the same namespaces (write_ops' and aggregate's auth checks).
 */
export function withBypass<C extends { body: Document }>(privileges: (ctx: C) => readonly Requirement[]): (ctx: C) => readonly Requirement[] {
  return (ctx) => {
    const requirements = privileges(ctx);
    if (!trueValue(ctx.body.bypassDocumentValidation)) return requirements;
    return requirements.map((r) => ({ resource: r.resource, actions: [...r.actions, 'bypassDocumentValidation'] }));
  };
}
