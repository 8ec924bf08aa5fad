import type { Document } from 'bson';
import { Parameters, PARAMETERS } from '../config.js';
import { ErrorCodes, MongoError } from '../errors.js';
import { isPlainObject, trueValue } from '../bson/args.js';
import { isGenericArgument } from './genericArguments.js';
import type { CommandContext } from './types.js';

/**
 * getParameter (src/mongo/db/commands/parameters.cpp): the named parameters, or all of them for
 * `'*'` / `{allParameters: true}`, in alphabetical order; `{showDetails: true}` adds where each
 * may be set.
 */
export function getParameter(ctx: CommandContext): Document {
  const arg = ctx.body.getParameter;
  const all = arg === '*' || (isPlainObject(arg) && trueValue(arg.allParameters));
  const details = isPlainObject(arg) && trueValue(arg.showDetails);
  const reply: Document = {};
  for (const name of ctx.server.params.names()) {
    if (!all && !(name in ctx.body)) continue;
    const value = ctx.server.params.get(name);
    if (!details) {
      reply[name] = value;
      continue;
    }
    const spec = PARAMETERS[name];
    reply[name] = {
      value,
      settableAtRuntime: spec?.runtime ?? true,
      settableAtStartup: spec?.startup ?? false,
    };
  }
  if (Object.keys(reply).length === 0) throw new MongoError(ErrorCodes.InvalidOptions, 'no option found to get');
  return reply;
}

/** setParameter: runtime-settable parameters only; replies `{was: <old value of the first>}`. */
export function setParameter(ctx: CommandContext): Document {
  const names = Object.keys(ctx.body).filter((k) => k !== 'setParameter' && !isGenericArgument(k));
  if (names.length === 0) {
    throw new MongoError(ErrorCodes.InvalidOptions, 'no option found to set, use help:true to see options ');
  }
  // Validate every name before changing anything, so a bad second parameter leaves the first alone.
  for (const name of names) {
    if (!Parameters.isKnown(name)) {
      throw new MongoError(ErrorCodes.InvalidOptions, `attempted to set unrecognized parameter [${name}], use help:true to see options `);
    }
  }
  let was: unknown;
  for (const name of names.sort()) {
    const old = ctx.server.params.setAtRuntime(name, ctx.body[name]);
    if (was === undefined) was = old;
    ctx.server.log.info({
      c: 'COMMAND',
      id: 23435,
      ctx: `conn${ctx.connection.id}`,
      msg: 'Successfully set parameter to new value',
      attr: { parameterName: name, newValue: String(ctx.body[name]), oldValue: String(old) },
    });
  }
  return { was };
}
