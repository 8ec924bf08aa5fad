import type { Document } from 'bson';

/** Fields that carry secrets: passwords (createUser/updateUser) and SASL payloads. */
const SECRET_FIELDS = new Set(['pwd', 'payload', 'digestPassword']);

/**
 * A copy of a command fit for a log line: every secret replaced by "xxx", at any depth (a
 * speculativeAuthenticate inside hello holds a SASL payload), as mongod's redactForLogging does.
 */
export function redactForLog(value: Document): Document {
  const out: Document = {};
  for (const [key, v] of Object.entries(value)) {
    if (SECRET_FIELDS.has(key)) out[key] = 'xxx';
    else if (Array.isArray(v)) out[key] = v.map((e: unknown) => (isDocument(e) ? redactForLog(e) : e));
    else out[key] = isDocument(v) ? redactForLog(v) : v;
  }
  return out;
}

function isDocument(value: unknown): value is Document {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}
