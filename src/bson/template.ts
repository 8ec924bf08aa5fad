import type { Document } from 'bson';
import { encodeDocument } from './codec.js';

/**
 * A document's BSON made once by bson with one binary value left to fill: each copy is the same
 * bytes with that value's bytes replaced, so a reply that differs only there is not serialised
 * again. The template document holds `marker` as the value's bytes, exactly once in its BSON.
 */
export class BinaryTemplate {
  private readonly bytes: Buffer;
  private readonly offset: number;

  constructor(
    template: Document,
    private readonly marker: Uint8Array,
  ) {
    this.bytes = encodeDocument(template);
    this.offset = this.bytes.indexOf(marker);
    if (this.offset < 0 || this.bytes.indexOf(marker, this.offset + 1) >= 0) throw new RangeError('BinaryTemplate: the marker must occur exactly once in the encoded template');
  }

  /** The template's BSON with `value` (as long as the marker) in the marker's place. */
  fill(value: Uint8Array): Buffer {
    if (value.length !== this.marker.length) throw new RangeError(`BinaryTemplate: ${value.length} bytes for a ${this.marker.length}-byte value`);
    const out = Buffer.allocUnsafe(this.bytes.length);
    this.bytes.copy(out);
    out.set(value, this.offset);
    return out;
  }
}
