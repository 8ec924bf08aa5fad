import { closeSync, fsyncSync, ftruncateSync, openSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { BSON, type Document } from 'bson';
import { ErrorCodes, LocationCodes, MongoError } from '../../errors.js';

// A data directory as mongod checks and holds it at start-up (durability-semantics.md §2:
// storage_engine_lock_file_posix.cpp, storage_engine_metadata.cpp): the directory must exist,
// `mongod.lock` holds the pid while a server runs and is truncated (not deleted) at a clean
// shutdown, `storage.bson` names the engine. Node has no flock(), so "another server holds the
// lock" is told by the pid in the lock file being a live process (or this process).

/** The file names mongod uses; the store's own file sits beside them. */
const LOCK_FILE = 'mongod.lock';
const METADATA_FILE = 'storage.bson';
const STORE_FILE = 'pocketmongo.mdb';
/** Written at a clean shutdown: the store file's size and time as they were left. */
const SHUTDOWN_FILE = 'pocketmongo.shutdown';

/** The version of pocketmongo's on-disk format; a directory written by a newer one is refused. */
const FORMAT_VERSION = 1;

/** The engine name storage.bson records (the durable engine a mongod user asks for by name). */
const ENGINE_NAME = 'wiredTiger';

/** Data directories this process holds: a second server in the same process is refused too. */
const heldHere = new Set<string>();

/** A data directory held by this server until release(). */
export class DataDirectory {
  private constructor(
    readonly path: string,
    private readonly realPath: string,
    private lockFd: number | undefined,
    /** The lock file was not empty: the last server did not shut down cleanly. */
    readonly uncleanShutdown: boolean,
    /**
     * The store file may not be as a clean shutdown left it: the last server did not stop
     * cleanly, or the file changed since (size or modification time): it is read through once
     * before use.
     */
    readonly storeNeedsCheck: boolean,
  ) {}

  get storePath(): string {
    return join(this.path, STORE_FILE);
  }

  get lockPath(): string {
    return join(this.path, LOCK_FILE);
  }

  /** Checks and locks `dbPath` as mongod does at start-up; throws mongod's start-up errors. */
  static open(dbPath: string): DataDirectory {
    const lockPath = join(dbPath, LOCK_FILE);
    try {
      statSync(dbPath);
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') {
        throw new MongoError(
          ErrorCodes.NonExistentPath,
          `Data directory ${dbPath} not found. Create the missing directory or specify another path using (1) the --dbpath command line option, or (2) by adding the 'storage.dbPath' option in the configuration file.`,
        );
      }
      throw lockFileError(lockPath, dbPath, err);
    }
    let fd: number;
    try {
      fd = openSync(lockPath, 'a+', 0o644);
    } catch (err) {
      throw lockFileError(lockPath, dbPath, err);
    }
    try {
      const realPath = realpathSync(dbPath);
      const previous = readFileSync(fd, 'utf8').trim();
      const pid = Number.parseInt(previous, 10);
      if (heldHere.has(realPath) || (previous !== '' && pid !== process.pid && processAlive(pid))) {
        throw new MongoError(
          ErrorCodes.DBPathInUse,
          `Unable to lock the lock file: ${lockPath} (Resource temporarily unavailable). Another mongod instance is already running on the ${dbPath} directory`,
        );
      }
      checkMetadata(dbPath);
      const storeNeedsCheck = !storeAsLeft(dbPath, previous === '');
      // The pid, written as mongod writes it: truncate, write, fsync.
      ftruncateSync(fd, 0);
      writeSync(fd, `${process.pid}\n`, 0);
      fsyncSync(fd);
      heldHere.add(realPath);
      return new DataDirectory(dbPath, realPath, fd, previous !== '', storeNeedsCheck);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /**
   * Releases the directory. After a clean shutdown (the store closed) the store file's state is
   * recorded first; then the lock file is truncated, not deleted (mongod's "shutdown: removing
   * fs lock").
   */
  release(clean: boolean): void {
    if (this.lockFd === undefined) return;
    if (clean) recordShutdown(this.path);
    ftruncateSync(this.lockFd, 0);
    fsyncSync(this.lockFd);
    closeSync(this.lockFd);
    this.lockFd = undefined;
    heldHere.delete(this.realPath);
  }
}

/** The store file's size and modification time, or undefined when there is none. */
function storeState(dbPath: string): { size: number; mtimeMs: number } | undefined {
  try {
    const stat = statSync(join(dbPath, STORE_FILE));
    return { size: stat.size, mtimeMs: stat.mtimeMs };
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Whether the store file is as the last clean shutdown recorded it (or there is none yet). The
 * record is used once: removed here, so only the next clean shutdown writes a new one.
 */
function storeAsLeft(dbPath: string, cleanLock: boolean): boolean {
  const recordPath = join(dbPath, SHUTDOWN_FILE);
  let record: Document | undefined;
  try {
    record = parseMetadata(readFileSync(recordPath));
    rmSync(recordPath);
  } catch (err) {
    if (errnoOf(err) !== 'ENOENT') throw err;
  }
  const state = storeState(dbPath);
  if (state === undefined) return true;
  return cleanLock && record !== undefined && record.size === state.size && record.mtimeMs === state.mtimeMs;
}

function recordShutdown(dbPath: string): void {
  const state = storeState(dbPath);
  if (state === undefined) return;
  const recordPath = join(dbPath, SHUTDOWN_FILE);
  writeFileSync(`${recordPath}.tmp`, BSON.serialize(state));
  renameSync(`${recordPath}.tmp`, recordPath);
}

/**
 * storage.bson: ours (engine and format version) is accepted, a newer format refused as mongod
 * refuses data of a newer version (MustDowngrade), anything else written by someone else refused
 * as another engine's files. A directory with no storage.bson must hold nothing but the lock file;
 * then storage.bson is written (through a temporary file and a rename, as mongod writes it).
 */
function checkMetadata(dbPath: string): void {
  const metadataPath = join(dbPath, METADATA_FILE);
  let bytes: Buffer | undefined;
  try {
    bytes = readFileSync(metadataPath);
  } catch (err) {
    if (errnoOf(err) !== 'ENOENT') throw err;
  }
  if (bytes !== undefined) {
    const metadata = parseMetadata(bytes);
    const format = metadata?.pocketmongo?.formatVersion;
    if (typeof format !== 'number') {
      const engine = typeof metadata?.storage?.engine === 'string' ? metadata.storage.engine : 'unknown';
      throw new MongoError(
        LocationCodes.StorageEngineMismatch,
        `Cannot start server. Detected data files in ${dbPath} created by the '${engine}' storage engine of another server, which pocketmongo cannot read. Use an empty directory for pocketmongo's data.`,
      );
    }
    if (format > FORMAT_VERSION) {
      throw new MongoError(
        ErrorCodes.MustDowngrade,
        `UPGRADE PROBLEM: Found data files in ${dbPath} written by a newer pocketmongo (on-disk format ${format}; this version reads format ${FORMAT_VERSION}). Start the newer version on this directory instead.`,
      );
    }
    return;
  }
  const others = readdirSync(dbPath).filter((name) => name !== LOCK_FILE && name !== SHUTDOWN_FILE);
  if (others.length > 0) {
    throw new MongoError(
      LocationCodes.StorageEngineMismatch,
      `Cannot start server. Detected files in ${dbPath} that pocketmongo did not write (${others.slice(0, 3).join(', ')}${others.length > 3 ? ', ...' : ''}). Use an empty directory for pocketmongo's data.`,
    );
  }
  const metadata: Document = { storage: { engine: ENGINE_NAME, options: {} }, pocketmongo: { formatVersion: FORMAT_VERSION } };
  const temporary = `${metadataPath}.tmp`;
  writeFileSync(temporary, BSON.serialize(metadata));
  renameSync(temporary, metadataPath);
}

function parseMetadata(bytes: Buffer): Document | undefined {
  try {
    return BSON.deserialize(bytes);
  } catch {
    return undefined;
  }
}

function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return errnoOf(err) === 'EPERM';
  }
}

function errnoOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** The OS's text for the errors a lock file meets (strerror), as mongod prints them. */
const OS_TEXT: Readonly<Record<string, string>> = {
  ENOTDIR: 'Not a directory',
  EACCES: 'Permission denied',
  EROFS: 'Read-only file system',
  EISDIR: 'Is a directory',
  ENOENT: 'No such file or directory',
  ENOSPC: 'No space left on device',
};

function lockFileError(lockPath: string, dbPath: string, err: unknown): MongoError {
  const code = errnoOf(err);
  if (code === 'EACCES' || code === 'EROFS') {
    return new MongoError(ErrorCodes.IllegalOperation, `Attempted to create a lock file on a read-only directory: ${dbPath}`);
  }
  const text = (code !== undefined ? OS_TEXT[code] : undefined) ?? (err as Error).message;
  return new MongoError(
    ErrorCodes.DBPathInUse,
    `Unable to create/open the lock file: ${lockPath} (${text}). Ensure the user executing mongod is the owner of the lock file and has the appropriate permissions. Also make sure that another mongod instance is not already running on the ${dbPath} directory`,
  );
}
