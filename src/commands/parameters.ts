import type { Document } from 'bson';
import { Parameters, PARAMETERS } from './serverParameters.js';
import { ErrorCodes, MongoError } from '../errors.js';
import { isPlainObject, trueValue } from '../bson/args.js';
import { isGenericArgument } from './genericArguments.js';
import { onCluster } from './requirements.js';
import { defineCommand, type CommandContext, type CommandSpec } from './command.js';

/**
 * getParameter (src/mongo/db/commands/parameters.cpp): the named parameters, or all of them for
 * `'*'` / `{allParameters: true}`, in alphabetical order; `{showDetails: true}` adds where each
 * may be set.
 */
function getParameter(ctx: CommandContext<'params'>): Document {
  const arg = ctx.body.getParameter;
  const all = arg === '*' || (isPlainObject(arg) && trueValue(arg.allParameters));
  const details = isPlainObject(arg) && trueValue(arg.showDetails);
  const reply: Document = {};
  for (const name of ctx.services.params.names()) {
    if (!all && !(name in ctx.body)) continue;
    const value = ctx.services.params.get(name);
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
function setParameter(ctx: CommandContext<'log' | 'params'>): Document {
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
    const old = ctx.services.params.setAtRuntime(name, ctx.body[name]);
    if (was === undefined) was = old;
    ctx.services.log.info({
      c: 'COMMAND',
      id: 23435,
      ctx: `conn${ctx.client.id}`,
      msg: 'Successfully set parameter to new value',
      attr: { parameterName: name, newValue: String(ctx.body[name]), oldValue: String(old) },
    });
  }
  return { was };
}

/** Server parameters. */
export const parameterCommands: readonly CommandSpec[] = [
  defineCommand({ name: 'getParameter', run: getParameter, adminOnly: true, privileges: onCluster('getParameter'), help: 'get administrative option(s)\nexample:\n{ getParameter:1, notablescan:1 }\npass a document as the value for getParameter to request options\nexample:\n{ getParameter:{showDetails: true}, notablescan:1 }' }),
  defineCommand({ name: 'setParameter', run: setParameter, adminOnly: true, privileges: onCluster('setParameter'), help: 'set administrative option(s)\n{ setParameter:1, <param>:<value> }' }),
];
