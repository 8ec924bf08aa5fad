/** serverStatus counters (opcounters, network, metrics), bumped on the per-command path: plain integers only. */
export class ServerCounters {
  readonly opcounters = { insert: 0, query: 0, update: 0, delete: 0, getmore: 0, command: 0 };
  bytesIn = 0;
  bytesOut = 0;
  numRequests = 0;
  physicalBytesIn = 0;
  physicalBytesOut = 0;
  /** metrics.document: documents written by inserts, updates and deletes, and returned by cursors. */
  readonly document = { deleted: 0, inserted: 0, returned: 0, updated: 0 };
  /** metrics.queryExecutor: keys and documents examined, and collection scans run. */
  readonly queryExecutor = { scanned: 0, scannedObjects: 0, collectionScans: 0, collectionScansNonTailable: 0 };
  /** metrics.operation.scanAndOrder: operations that sorted in memory (no index gave the order). */
  scanAndOrder = 0;

  /** `n` documents inserted by an insert command (mongod's ninserted; upserts do not count). */
  documentsInserted(n: number): void {
    this.document.inserted += n;
  }

  /**
   * `n` documents matched by an update or findAndModify update (mongod adds the operation's
   * nMatched, modified or not; an upsert that inserts matches nothing).
   */
  documentsUpdated(n: number): void {
    this.document.updated += n;
  }

  /** `n` documents deleted (delete, findAndModify remove, TTL). */
  documentsDeleted(n: number): void {
    this.document.deleted += n;
  }

  /** `n` documents returned to a client in a cursor batch (find, aggregate, getMore). */
  documentsReturned(n: number): void {
    this.document.returned += n;
  }

  /** An operation that sorted its results in memory (a SORT stage). */
  sortedInMemory(): void {
    this.scanAndOrder += 1;
  }

  /**
   * One query plan's examination: index keys (`scanned`), documents (`scannedObjects`), and
   * whether it was a collection scan (tailable ones are not "nonTailable").
   */
  queryExamined(keysExamined: number, docsExamined: number, collectionScan: boolean, tailable = false): void {
    this.queryExecutor.scanned += keysExamined;
    this.queryExecutor.scannedObjects += docsExamined;
    if (collectionScan) {
      this.queryExecutor.collectionScans += 1;
      if (!tailable) this.queryExecutor.collectionScansNonTailable += 1;
    }
  }
}
