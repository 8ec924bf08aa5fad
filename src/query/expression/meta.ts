/**
 * $meta (ExpressionMeta, src/mongo/db/pipeline/expression.cpp) and the document metadata a run's
 * stages attach to the documents they output (DocumentMetadataFields).
 *
 * ExpressionMeta::parse: a string argument (17307) naming one of mongod 7.0's metadata types
 * (17308 otherwise). Without $text and $geoNear (which pocketmongo lacks), mongod's dependency
 * analysis (DepsTracker::setNeedsMetadata, kDefaultUnavailableMetadata) refuses the text score and
 * the $geoNear distance and point with 40218 "query requires <type> metadata, but it is not
 * available" before reading a document: raised here when the expression is parsed. The others
 * evaluate to the document's metadata, missing when it has none:
 * - randVal: set by $sample (document_source_sample.cpp) on the documents it outputs;
 * - searchScore, searchHighlights, searchScoreDetails, vectorSearchScore: set by $search and
 *   $vectorSearch only; timeseriesBucketMinTime/MaxTime: by time-series bucket unpacking only;
 * - indexKey: set by an index scan; a collection scan (the plan pocketmongo's reads are) has none
 *   (jstests/core/projection_meta_index_key.js).
 * recordId (the storage engine's record ids) and sortKey (set by a $sort when a later stage reads
 * it, kept across the stages that reshape documents) need plumbing outside this module: 115 when
 * a document is evaluated.
 *
 * Metadata lives beside a document object, not in it: only the stages that output the very
 * object (or attach it again) keep it.
 */
import { Double, type Document } from 'bson';
import { LocationCodes, type MongoError } from '../../errors.js';
import { fail, refuse, type Node, type OperatorTable } from './node.js';

/** The metadata pocketmongo's stages produce (DocumentMetadataFields). */
export interface DocumentMetadata {
  /** $sample's random value. */
  readonly randVal?: Double;
}

const METADATA = new WeakMap<object, DocumentMetadata>();

/** Attaches metadata to a document the calling stage made (never to a stored document: it would outlive the run). */
export function attachMetadata(doc: Document, metadata: DocumentMetadata): void {
  METADATA.set(doc, metadata);
}

/** The metadata of a document, if a stage attached any. */
export function metadataOf(doc: unknown): DocumentMetadata | undefined {
  return typeof doc === 'object' && doc !== null ? METADATA.get(doc) : undefined;
}

/** DocumentMetadataFields::typeNameToDebugString of the metadata mongod reports unavailable. */
const UNAVAILABLE: Readonly<Record<string, string>> = {
  textScore: 'text score',
  geoNearDistance: '$geoNear distance',
  geoNearPoint: '$geoNear point',
};

/** 40218 for metadata no stage of pocketmongo can provide ($text's score, $geoNear's data); undefined for the rest. */
export function unavailableMetadata(name: string): MongoError | undefined {
  const type = UNAVAILABLE[name];
  return type === undefined ? undefined : fail(LocationCodes.MetadataNotAvailable, `query requires ${type} metadata, but it is not available`);
}

/** The names ExpressionMeta::parse knows (kMetaNameToMetaType, 7.0). */
const META_NAMES = new Set([
  'geoNearDistance',
  'geoNearPoint',
  'indexKey',
  'randVal',
  'recordId',
  'searchHighlights',
  'searchScore',
  'searchScoreDetails',
  'sortKey',
  'textScore',
  'timeseriesBucketMinTime',
  'timeseriesBucketMaxTime',
  'vectorSearchScore',
]);

function parseMeta(arg: unknown): Node {
  if (typeof arg !== 'string') throw fail(LocationCodes.MetaNotString, '$meta only supports string arguments');
  if (!META_NAMES.has(arg)) throw fail(LocationCodes.MetaUnsupported, `Unsupported argument to $meta: ${arg}`);
  const unavailable = unavailableMetadata(arg);
  if (unavailable !== undefined) throw unavailable;
  if (arg === 'recordId' || arg === 'sortKey') {
    // Refused when a document needs it: with no document, mongod's answer is ours too (and a
    // refusal while parsing would send the stage to mingo, which knows no $meta).
    return {
      constant: false,
      evaluate() {
        throw refuse(`{$meta: "${arg}"}`);
      },
    };
  }
  if (arg === 'randVal') return { constant: false, evaluate(scope) { return metadataOf(scope.root)?.randVal; } };
  return { constant: false, evaluate() { return undefined; } };
}

export const metaOperators: OperatorTable = { $meta: parseMeta };
