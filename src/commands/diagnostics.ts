import { missingField, wrongType } from '../bson/idlErrors.js';
import { cpus, freemem, hostname, release, totalmem, type as osType, arch, version as osVersion } from 'node:os';
import { Double, Int32, Long, Timestamp, type Document } from 'bson';
import { ErrorCodes, MongoError } from '../errors.js';
import { MAX_BSON_OBJECT_SIZE } from '../bson/limits.js';
import { SERVER_VERSION, VERSION_ARRAY } from '../version.js';
import { trueValue } from '../bson/args.js';
import { onCluster } from './requirements.js';
import { defineCommand, type CommandContext, type CommandSpec } from './command.js';

function ping(): Document {
  return {};
}

/** buildInfo as mongod 7.0 answers it (src/mongo/util/version.cpp appendBuildInfo). */
function buildInfo(): Document {
  return {
    version: SERVER_VERSION,
    gitVersion: '0000000000000000000000000000000000000000',
    modules: [],
    allocator: 'system',
    javascriptEngine: 'none',
    sysInfo: 'deprecated',
    versionArray: VERSION_ARRAY.map((n) => new Int32(n)),
    openssl: { running: 'disabled', compiled: 'disabled' },
    buildEnvironment: {
      distmod: '',
      distarch: arch() === 'x64' ? 'x86_64' : arch(),
      cc: '',
      ccflags: '',
      cxx: '',
      cxxflags: '',
      linkflags: '',
      target_arch: arch() === 'x64' ? 'x86_64' : arch(),
      target_os: process.platform,
      cppdefines: '',
    },
    bits: new Int32(64),
    debug: false,
    maxBsonObjectSize: new Int32(MAX_BSON_OBJECT_SIZE),
    storageEngines: ['inMemory'],
  };
}

function getCmdLineOpts(ctx: CommandContext<'process'>): Document {
  return { argv: [...ctx.services.process.cmdLine.argv], parsed: ctx.services.process.cmdLine.parsed };
}

/** getLog: '*' lists the logs; 'global' and 'startupWarnings' return their RamLog lines. */
function getLog(ctx: CommandContext<'log'>): Document {
  const which = ctx.body.getLog;
  if (which === null || which === undefined) {
    throw missingField('getLog.getLog');
  }
  if (typeof which !== 'string') {
    throw wrongType(`getLog.getLog`, which, 'string');
  }
  if (which === '*') return { names: ['global', 'startupWarnings'] };
  const ramLog =
    which === 'global' ? ctx.services.log.global : which === 'startupWarnings' ? ctx.services.log.startupWarnings : undefined;
  if (ramLog === undefined) throw new MongoError(ErrorCodes.OperationFailed, `No log named '${which}'`);
  return { totalLinesWritten: Long.fromNumber(ramLog.totalLinesWritten), log: [...ramLog.all()] };
}

function hostInfo(ctx: CommandContext<'clock'>): Document {
  const cores = cpus();
  const memMB = Math.floor(totalmem() / (1024 * 1024));
  return {
    system: {
      currentTime: new Date(ctx.services.clock.now()),
      hostname: hostname(),
      cpuAddrSize: new Int32(64),
      memSizeMB: Long.fromNumber(memMB),
      memLimitMB: Long.fromNumber(memMB),
      numCores: new Int32(cores.length),
      cpuArch: arch() === 'x64' ? 'x86_64' : arch(),
      numaEnabled: false,
    },
    os: { type: osType(), name: osType(), version: release() },
    extra: {
      versionString: osVersion(),
      kernelVersion: release(),
      cpuFrequencyMHz: String(cores[0]?.speed ?? 0),
      cpuString: cores[0]?.model ?? '',
      freeMemMB: Long.fromNumber(Math.floor(freemem() / (1024 * 1024))),
      nodeVersion: process.version,
    },
  };
}

/** serverStatus: mongod's header fields, then its sections in alphabetical order. */
function serverStatus(ctx: CommandContext<'clock' | 'process' | 'counters' | 'clients' | 'topology' | 'cursors' | 'sessions' | 'durable' | 'transactions'>): Document {
  const server = ctx.services;
  const now = server.clock.now();
  const uptimeMillis = Math.max(0, now - server.process.startedAt);
  const memory = process.memoryUsage();
  const { counters } = server;
  const port = server.process.listen.port;
  const reply: Document = {
    host: port === 27017 ? hostname() : `${hostname()}:${port}`,
    version: SERVER_VERSION,
    process: 'mongod',
    pid: Long.fromNumber(process.pid),
    uptime: new Double(Math.floor(uptimeMillis / 1000)),
    uptimeMillis: Long.fromNumber(uptimeMillis),
    uptimeEstimate: Long.fromNumber(Math.floor(uptimeMillis / 1000)),
    localTime: new Date(now),
  };
  const sections: Record<string, () => Document> = {
    connections: () => {
      let exhaustHello = 0;
      for (const c of server.clients.open.values()) if (c.streaming) exhaustHello += 1;
      return {
        current: new Int32(server.clients.open.size),
        available: new Int32(Math.max(0, server.process.listen.maxConns - server.clients.open.size)),
        totalCreated: new Int32(server.clients.totalCreated),
        rejected: new Int32(server.clients.rejected),
        active: new Int32(server.clients.open.size),
        exhaustIsMaster: new Int32(0),
        exhaustHello: new Int32(exhaustHello),
        awaitingTopologyChanges: new Int32(server.topology.waiting),
      };
    },
    mem: () => ({
      bits: new Int32(64),
      resident: new Int32(Math.round(memory.rss / (1024 * 1024))),
      virtual: new Int32(Math.round((memory.rss + memory.external) / (1024 * 1024))),
      supported: true,
    }),
    network: () => ({
      bytesIn: Long.fromNumber(counters.bytesIn),
      bytesOut: Long.fromNumber(counters.bytesOut),
      physicalBytesIn: Long.fromNumber(counters.physicalBytesIn),
      physicalBytesOut: Long.fromNumber(counters.physicalBytesOut),
      numSlowDNSOperations: Long.fromNumber(0),
      numSlowSSLOperations: Long.fromNumber(0),
      numRequests: Long.fromNumber(counters.numRequests),
    }),
    opcounters: () =>
      Object.fromEntries(Object.entries(counters.opcounters).map(([k, v]) => [k, Long.fromNumber(v)])),
    // mongod's metric tree prints a node's own counters first, then its subtrees, each group in
    // name order; every counter is a 64-bit Counter64 (a BSON long).
    metrics: () => {
      const long = (n: number) => Long.fromNumber(n);
      const { cursors } = server;
      const lifespan = Object.fromEntries(Object.keys(cursors.lifespan).sort().map((k) => [k, long(cursors.lifespan[k as keyof typeof cursors.lifespan])]));
      const { document, queryExecutor } = counters;
      return {
        cursor: {
          moreThanOneBatch: long(cursors.moreThanOneBatch),
          timedOut: long(cursors.totalTimedOut),
          totalOpened: long(cursors.totalOpened),
          lifespan,
          open: { noTimeout: long(cursors.openNoTimeout), pinned: long(0), total: long(cursors.size) },
        },
        document: { deleted: long(document.deleted), inserted: long(document.inserted), returned: long(document.returned), updated: long(document.updated) },
        operation: { scanAndOrder: long(counters.scanAndOrder), writeConflicts: long(0) },
        queryExecutor: {
          scanned: long(queryExecutor.scanned),
          scannedObjects: long(queryExecutor.scannedObjects),
          collectionScans: { nonTailable: long(queryExecutor.collectionScansNonTailable), total: long(queryExecutor.collectionScans) },
        },
      };
    },
    // What mongod's in-memory storage engine (storage.engine: inMemory, WiredTiger-based) reports,
    // and with --dbpath what its durable engine reports (durability-semantics.md §5).
    storageEngine: () => ({
      name: server.durable === undefined ? 'inMemory' : 'wiredTiger',
      supportsCommittedReads: true,
      oldestRequiredTimestampForCrashRecovery: new Timestamp({ t: 0, i: 0 }),
      supportsPendingDrops: true,
      dropPendingIdents: Long.fromNumber(0),
      supportsSnapshotReadConcern: true,
      readOnly: false,
      persistent: server.durable !== undefined,
      backupCursorOpen: false,
    }),
    logicalSessionRecordCache: () => server.sessions.statusSection(),
    transactions: () => server.transactions.statusSection(),
  };
  for (const name of Object.keys(sections).sort()) {
    // {serverStatus: 1, <section>: 0} leaves a section out, as mongod allows.
    if (name in ctx.body && !trueValue(ctx.body[name])) continue;
    reply[name] = sections[name]!();
  }
  return reply;
}

function whatsmyuri(ctx: CommandContext<never>): Document {
  return { you: ctx.client.remote };
}

/** connectionStatus: who this connection is logged in as, with their roles (and privileges on request). */
function connectionStatus(ctx: CommandContext<'auth'>): Document {
  const user = ctx.client.principal.user;
  const authInfo: Document = {
    authenticatedUsers: user === undefined ? [] : [{ user: user.user, db: user.db }],
    // AuthorizationSession::getAuthenticatedRoleNames: the roles held and every role they inherit.
    authenticatedUserRoles: ctx.services.auth.allRolesOf(ctx.client.principal).map((r) => ({ role: r.role, db: r.db })),
  };
  if (trueValue(ctx.body.showPrivileges)) {
    authInfo.authenticatedUserPrivileges = ctx.services.auth.privilegesOf(ctx.client.principal).map((p) => ({
      resource: p.resource,
      actions: [...p.actions],
    }));
  }
  return { authInfo };
}

/** listCommands, generated from the registry (src/mongo/db/commands/generic.cpp). */
function listCommands(ctx: CommandContext<'commands'>): Document {
  const commands: Document = {};
  const specs = ctx.services.commands.specs().sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const spec of specs) {
    commands[spec.name] = {
      help: spec.help,
      requiresAuth: spec.requiresAuth ?? true,
      secondaryOk: true,
      adminOnly: spec.adminOnly ?? false,
      apiVersions: spec.apiVersion1 ? ['1'] : [],
      deprecatedApiVersions: [],
    };
  }
  return { commands };
}

/** Diagnostics: liveness, build and host facts, server status, logs, the command list. */
export const diagnosticCommands: readonly CommandSpec[] = [
  defineCommand({ name: 'ping', run: ping, requiresAuth: false, strict: true, apiVersion1: true, help: 'a way to check that the server is alive. responds immediately even if server is in a db lock.' }),
  defineCommand({ name: 'buildInfo', aliases: ['buildinfo'], run: buildInfo, requiresAuth: false, opQuery: true, help: 'get version #, etc.\n{ buildinfo:1 }' }),
  defineCommand({ name: 'getCmdLineOpts', run: getCmdLineOpts, adminOnly: true, privileges: onCluster('getCmdLineOpts'), help: 'get argv' }),
  defineCommand({ name: 'getLog', run: getLog, adminOnly: true, privileges: onCluster('getLog'), help: '{ getLog : \'*\' }  OR { getLog : \'global\' }' }),
  defineCommand({ name: 'hostInfo', run: hostInfo, privileges: onCluster('hostInfo'), help: 'returns information about the daemon\'s host' }),
  defineCommand({ name: 'serverStatus', run: serverStatus, privileges: onCluster('serverStatus'), help: 'returns lots of administrative server statistics' }),
  defineCommand({ name: 'whatsmyuri', run: whatsmyuri, requiresAuth: false, help: '{whatsmyuri:1}' }),
  defineCommand({ name: 'connectionStatus', run: connectionStatus, requiresAuth: false, help: 'Returns connection-specific information such as logged-in users and their roles' }),
  defineCommand({ name: 'listCommands', run: listCommands, requiresAuth: false, help: 'get a list of all db commands' }),
];
