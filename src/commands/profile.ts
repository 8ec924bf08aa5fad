import { Double, Int32, type Document } from 'bson';
import { numberValue } from '../bson/args.js';
import { missingField, unknownField, wrongType } from '../bson/idlErrors.js';
import { ErrorCodes, MongoError } from '../errors.js';
import { isGenericArgument } from './genericArguments.js';
import { onDatabase } from './requirements.js';
import { defineCommand, type CommandContext, type CommandSpec } from './command.js';

/**
 * profile (profile_common.cpp, profile.idl): reports the database's profiling level (always 0
 * here) with the server's slowms and sampleRate, then applies a new slowms / sampleRate (they
 * are server-wide in mongod too). Levels 1 and 2 write every operation to <db>.system.profile,
 * which pocketmongo does not do: they, and a profiling filter, are refused rather than ignored.
 */
function profile(ctx: CommandContext<'process'>): Document {
  for (const field of Object.keys(ctx.body)) {
    if (field !== 'profile' && field !== 'slowms' && field !== 'sampleRate' && field !== 'filter' && !isGenericArgument(field)) throw unknownField(`profile.${field}`);
  }
  const level = numberValue(ctx.body.profile);
  if (level === undefined) throw ctx.body.profile === undefined ? missingField('profile.profile') : wrongType('profile.profile', ctx.body.profile, 'int');
  const slowms = ctx.body.slowms === undefined ? undefined : numberValue(ctx.body.slowms);
  if (ctx.body.slowms !== undefined && slowms === undefined) throw wrongType('profile.slowms', ctx.body.slowms, 'long');
  const sampleRate = ctx.body.sampleRate === undefined ? undefined : numberValue(ctx.body.sampleRate);
  if (ctx.body.sampleRate !== undefined && sampleRate === undefined) throw wrongType('profile.sampleRate', ctx.body.sampleRate, 'double');
  if (sampleRate !== undefined && !(sampleRate >= 0 && sampleRate <= 1)) throw new MongoError(ErrorCodes.BadValue, "'sampleRate' must be between 0.0 and 1.0 inclusive");
  if (level === 1 || level === 2) throw new MongoError(ErrorCodes.CommandNotSupported, `pocketmongo does not support profiling level ${level} (writing operations to ${ctx.db}.system.profile)`);
  if (level !== 0 && level !== -1) throw new MongoError(ErrorCodes.BadValue, `Invalid profiling level: ${level}`);
  if (ctx.body.filter !== undefined) throw new MongoError(ErrorCodes.CommandNotSupported, 'pocketmongo does not support a profiling filter');
  const process = ctx.services.process;
  const reply: Document = { was: new Int32(0), slowms: new Int32(process.slowms), sampleRate: new Double(process.sampleRate) };
  if (slowms !== undefined) process.slowms = slowms;
  if (sampleRate !== undefined) process.sampleRate = sampleRate;
  return reply;
}

export const profileCommands: readonly CommandSpec[] = [
  defineCommand({ name: 'profile', run: profile, privileges: onDatabase('enableProfiler'), help: 'controls the behaviour of the performance profiler, the fraction of eligible operations which are sampled for logging/profiling, and the threshold duration at which ops become eligible. See http://docs.mongodb.org/manual/reference/command/profile' }),
];
