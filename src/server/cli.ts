import { Command, InvalidArgumentError, Option } from 'commander';
import type { InitialUser, ServerOptions } from './options.js';
import { PocketMongo } from './pocketMongo.js';
import { ErrorCodes, MongoError } from '../errors.js';
import { PACKAGE_VERSION, SERVER_VERSION } from '../version.js';

function integer(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || n < min || n > max) {
      throw new InvalidArgumentError(`must be an integer between ${min} and ${max}`);
    }
    return n;
  };
}

function setParameterPair(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected name=value, got '${value}'`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/** mongod's flag names mapped onto ServerOptions (commander). */
export function buildProgram(): Command {
  return new Command('pocketmongo')
    .description('A MongoDB wire-protocol server (a mongod-compatible subset) in Node.js')
    .version(`pocketmongo ${PACKAGE_VERSION} (db version v${SERVER_VERSION})`, '--version', 'show version information')
    .helpOption('-h, --help', 'show this usage information')
    .addOption(new Option('--port <port>', 'port to listen on (0 picks a free one)').default(27017).argParser(integer(0, 65535)))
    .option('--bind_ip <addresses>', 'comma-separated IP addresses to listen on', '127.0.0.1')
    .option('--bind_ip_all', 'listen on all IP addresses')
    .option('--ipv6', 'enable IPv6 support')
    .addOption(new Option('--maxConns <n>', 'max number of simultaneous connections').argParser(integer(1, 10_000_000)))
    .option('--setParameter <name=value>', 'set a server parameter (repeatable)', setParameterPair)
    .option('--auth', 'run with security (authentication and authorization)')
    .option('--transitionToAuth', 'accept both authenticated and unauthenticated clients')
    .option('--initUser <user:pwd>', 'create a root user on admin at start (or the POCKETMONGO_INITDB_ROOT_* variables)')
    .option('--dbpath <directory>', 'keep data in this directory across restarts (it must exist); default: in memory only')
    .option('--replSet <name>', 'run as a one-member replica set of this name, primary at once (transactions need it)')
    .addOption(new Option('--oplogSize <mb>', 'size of the oplog in megabytes (with --replSet)').argParser(integer(1, 1024 * 1024)))
    .option('--quiet', 'quieter output')
    .option('--logpath <file>', 'log file to send writes to instead of stdout')
    .option('--logappend', 'append to logpath instead of over-writing')
    .addOption(new Option('--slowms <ms>', 'value of slow for profile and console log').argParser(integer(0, 2_147_483_647)))
    .showHelpAfterError()
    .allowExcessArguments(false);
}

/** The command line as getCmdLineOpts shows it: the --initUser password replaced, as mongod redacts secrets. */
function redactArgv(args: readonly string[]): string[] {
  return args.map((arg, i) => {
    if (arg.startsWith('--initUser=')) return `--initUser=${arg.slice(11).split(':')[0]}:<password>`;
    if (args[i - 1] === '--initUser') return `${arg.split(':')[0]}:<password>`;
    return arg;
  });
}

/** --initUser user:password, else the container-style environment variables. */
function initialUsers(opts: Record<string, unknown>, env: NodeJS.ProcessEnv): InitialUser[] {
  const flag = opts.initUser as string | undefined;
  if (flag !== undefined) {
    const colon = flag.indexOf(':');
    if (colon <= 0 || colon === flag.length - 1) throw new InvalidArgumentError('--initUser expects user:password');
    return [{ user: flag.slice(0, colon), pwd: flag.slice(colon + 1) }];
  }
  const user = env.POCKETMONGO_INITDB_ROOT_USERNAME;
  const pwd = env.POCKETMONGO_INITDB_ROOT_PASSWORD;
  if (user && pwd) return [{ user, pwd }];
  return [];
}

export function toServerOptions(opts: Record<string, unknown>, argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ServerOptions {
  return {
    auth: opts.auth === true,
    transitionToAuth: opts.transitionToAuth === true,
    users: initialUsers(opts, env),
    port: opts.port as number,
    bindIp: opts.bind_ip as string,
    bindIpAll: opts.bind_ip_all === true,
    ipv6: opts.ipv6 === true,
    maxConns: opts.maxConns as number | undefined,
    setParameter: (opts.setParameter as Record<string, string> | undefined) ?? {},
    quiet: opts.quiet === true,
    logpath: opts.logpath as string | undefined,
    logappend: opts.logappend === true,
    logToStdout: true,
    slowms: opts.slowms as number | undefined,
    ...(opts.dbpath === undefined ? {} : { dbPath: opts.dbpath as string }),
    ...(opts.replSet === undefined ? {} : { replSet: opts.replSet as string }),
    ...(opts.oplogSize === undefined ? {} : { oplogSize: opts.oplogSize as number }),
    argv,
  };
}

/**
 * mongod's exit codes for a failed start (durability-semantics.md §2.2): data files of an
 * incompatible version 62, any other uncaught DBException 100.
 */
function startupExitCode(err: unknown): number {
  if (!(err instanceof MongoError)) return 1;
  return err.code === ErrorCodes.MustDowngrade ? 62 : 100;
}

export async function main(argv: readonly string[] = process.argv): Promise<void> {
  const program = buildProgram();
  program.parse([...argv]);
  let options: ServerOptions | undefined;
  try {
    options = toServerOptions(program.opts(), ['pocketmongo', ...redactArgv(argv.slice(2))]);
  } catch (err) {
    program.error(`error: ${(err as Error).message}`);
  }
  if (options === undefined) return;
  let server: PocketMongo;
  try {
    server = await PocketMongo.start(options);
  } catch (err) {
    process.stderr.write(`pocketmongo: ${(err as Error).message}\n`);
    process.exit(startupExitCode(err));
  }
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) return;
    signalled = true;
    server.services.log.info({ c: 'CONTROL', id: 23377, ctx: 'SignalHandler', msg: 'Received signal', attr: { signal } });
    void server.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  await server.closed;
  process.exit(0);
}
