import { buildInfo, connectionStatus, getCmdLineOpts, getLog, hostInfo, listCommands, ping, serverStatus, whatsmyuri } from './diagnostics.js';
import { hello } from './hello.js';
import { getParameter, setParameter } from './parameters.js';
import { shutdown } from './shutdown.js';
import { aggregate } from './aggregate.js';
import { find } from './crud.js';
import { getMore, killCursors } from './cursors.js';
import {
  endSessions,
  killAllSessions,
  killAllSessionsByPattern,
  killSessions,
  reapLogicalSessionCacheNow,
  refreshLogicalSessionCacheNow,
  refreshSessions,
  startSession,
} from './sessions.js';
import type { CommandSpec } from './types.js';

/**
 * Every command the server knows, with its traits as data. The dispatcher reads the traits;
 * handlers never re-check them. Defaults (mongod's): requiresAuth true, adminOnly false,
 * attachesSession true, allowedInTransaction false, apiVersion1 false, supportsWriteConcern false.
 */
export const COMMAND_TABLE: readonly CommandSpec[] = [
  {
    name: 'hello',
    aliases: ['isMaster', 'ismaster'],
    run: hello,
    requiresAuth: false,
    apiVersion1: true,
    neverSlow: true,
    help: 'Check if this server is primary for a replica set\n{ hello : 1 }',
  },
  { name: 'ping', run: ping, requiresAuth: false, strict: true, apiVersion1: true, help: 'a way to check that the server is alive. responds immediately even if server is in a db lock.' },
  { name: 'buildInfo', aliases: ['buildinfo'], run: buildInfo, requiresAuth: false, help: 'get version #, etc.\n{ buildinfo:1 }' },
  { name: 'getParameter', run: getParameter, adminOnly: true, help: 'get administrative option(s)\nexample:\n{ getParameter:1, notablescan:1 }\npass a document as the value for getParameter to request options\nexample:\n{ getParameter:{showDetails: true}, notablescan:1 }' },
  { name: 'setParameter', run: setParameter, adminOnly: true, help: 'set administrative option(s)\n{ setParameter:1, <param>:<value> }' },
  { name: 'getCmdLineOpts', run: getCmdLineOpts, adminOnly: true, help: 'get argv' },
  { name: 'getLog', run: getLog, adminOnly: true, help: '{ getLog : \'*\' }  OR { getLog : \'global\' }' },
  { name: 'hostInfo', run: hostInfo, help: 'returns information about the daemon\'s host' },
  { name: 'serverStatus', run: serverStatus, help: 'returns lots of administrative server statistics' },
  { name: 'whatsmyuri', run: whatsmyuri, requiresAuth: false, help: '{whatsmyuri:1}' },
  { name: 'connectionStatus', run: connectionStatus, requiresAuth: false, help: 'Returns connection-specific information such as logged-in users and their roles' },
  { name: 'listCommands', run: listCommands, requiresAuth: false, help: 'get a list of all db commands' },
  { name: 'shutdown', run: shutdown, adminOnly: true, help: 'shutdown the database.  must be ran against admin db and either (1) ran from localhost or (2) authenticated. If this is a primary in a replica set and there is no member within 10 seconds of its optime, it will not shutdown without force : true.  You can also specify timeoutSecs : N to wait N seconds for other members to catch up.' },

  // Logical sessions (sessions-semantics.md §2).
  { name: 'startSession', run: startSession, help: 'start a logical session' },
  { name: 'refreshSessions', run: refreshSessions, strict: true, apiVersion1: true, help: 'renew a set of logical sessions' },
  {
    name: 'endSessions',
    run: endSessions,
    strict: true,
    apiVersion1: true,
    // Drivers send it on close with writeConcern {w: 0} and moreToCome.
    supportsWriteConcern: true,
    help: 'end a set of logical sessions',
  },
  { name: 'killSessions', run: killSessions, attachesSession: false, help: 'kill a logical session and its operations' },
  { name: 'killAllSessions', run: killAllSessions, attachesSession: false, help: 'kill all logical sessions, for a user, and their operations' },
  {
    name: 'killAllSessionsByPattern',
    run: killAllSessionsByPattern,
    attachesSession: false,
    help: 'kill logical sessions by pattern',
  },
  { name: 'refreshLogicalSessionCacheNow', run: refreshLogicalSessionCacheNow, testOnly: true, help: 'force the logical session cache to refresh' },
  { name: 'reapLogicalSessionCacheNow', run: reapLogicalSessionCacheNow, testOnly: true, help: 'force a reap of the logical session transaction table' },

  // Reads and cursors (the sessions view is the only collection so far).
  { name: 'find', run: find, apiVersion1: true, allowedInTransaction: true, opcounter: 'query', help: 'query for documents' },
  { name: 'aggregate', run: aggregate, apiVersion1: true, allowedInTransaction: true, help: 'Runs the aggregation command. See http://dochub.mongodb.org/core/aggregation for more details.' },
  { name: 'getMore', run: getMore, apiVersion1: true, allowedInTransaction: true, opcounter: 'getmore', help: 'retrieve more results from an existing cursor' },
  { name: 'killCursors', run: killCursors, apiVersion1: true, allowedInTransaction: true, help: 'Kill a list of cursor ids' },
];

/** Name (and alias) lookup over the table, without the test-only commands unless they are enabled. */
export class CommandRegistry {
  private readonly byName = new Map<string, CommandSpec>();

  constructor(table: readonly CommandSpec[], options: { enableTestCommands: boolean }) {
    for (const spec of table) {
      if (spec.testOnly && !options.enableTestCommands) continue;
      this.byName.set(spec.name, spec);
      for (const alias of spec.aliases ?? []) this.byName.set(alias, spec);
    }
  }

  find(name: string): CommandSpec | undefined {
    return this.byName.get(name);
  }

  /** Each registered command once, by its canonical name. */
  specs(): CommandSpec[] {
    return [...new Set(this.byName.values())];
  }
}
