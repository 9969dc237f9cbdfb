/**
 * A stored document. Documents inserted from the wire or loaded from a snapshot keep their BSON and
 * are decoded on first read of anything but a top-level field: inserts, snapshots and recovery then
 * never build objects for documents nobody reads, and snapshots write the bytes as they are.
 */
import type { Document } from 'bson';
import { decodeStored, readField } from './raw-bson.ts';
import { hasProtoField, toView } from './values.ts';

/** Lets $type see the typed document even when mingo runs over its numeric view. */
const TYPED = Symbol('typed');

export class DocRecord {
  private decoded: Document | undefined;
  private plain: Document | undefined;
  private aliased = false;
  /** The exact BSON of the document, while known; a changed document drops it. */
  private bytes: Uint8Array | undefined;

  private constructor(doc: Document | undefined, bytes: Uint8Array | undefined) {
    this.decoded = doc;
    this.bytes = bytes;
  }

  static of(doc: Document): DocRecord {
    return new DocRecord(doc, undefined);
  }

  /** `bytes` must already be checked (checkDocument) and must never be written to afterwards. */
  static fromBson(bytes: Uint8Array): DocRecord {
    return new DocRecord(undefined, bytes);
  }

  get doc(): Document {
    return (this.decoded ??= decodeStored(this.bytes as Uint8Array));
  }

  /** The plain-number copy mingo reads when the document holds numeric wrappers (else the document). */
  get view(): Document {
    if (this.plain === undefined) {
      const doc = this.doc;
      const view = toView(doc) as Document;
      if (view !== doc) {
        Object.defineProperty(view, TYPED, { value: doc, enumerable: false });
        this.aliased = hasProtoField(doc);
      }
      this.plain = view;
    }
    return this.plain;
  }

  /** Whether the view names a `__proto__` field PROTO_ALIAS, so what mingo builds from it needs fromView. */
  get viewAliases(): boolean {
    return this.view !== undefined && this.aliased;
  }

  get bson(): Uint8Array | undefined {
    return this.bytes;
  }

  /**
   * A top-level field, read from the BSON when the document has not been decoded. Own fields only:
   * a missing `constructor` must read as missing before and after decoding alike.
   */
  field(name: string): unknown {
    if (this.decoded === undefined && this.bytes !== undefined) return readField(this.bytes, name);
    const doc = this.doc;
    return Object.hasOwn(doc, name) ? doc[name] : undefined;
  }

  /** Takes another record's document: records are updated in place so unchanged index entries need no work. */
  assume(next: DocRecord): void {
    this.decoded = next.decoded;
    this.plain = next.plain;
    this.aliased = next.aliased;
    this.bytes = next.bytes;
  }
}

/** The typed document behind a mingo view. */
export const typedRoot = (view: Document): Document => (view as Record<symbol, Document | undefined>)[TYPED] ?? view;
