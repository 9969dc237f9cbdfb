/** Server-side error carrying MongoDB's numeric code so replies look like mongod's. */
const CODE_NAMES: Record<number, string> = {
  1: 'InternalError',
  2: 'BadValue',
  9: 'FailedToParse',
  14: 'TypeMismatch',
  20: 'IllegalOperation',
  26: 'NamespaceNotFound',
  27: 'IndexNotFound',
  40: 'ConflictingUpdateOperators',
  43: 'CursorNotFound',
  48: 'NamespaceExists',
  52: 'DollarPrefixedFieldName',
  59: 'CommandNotFound',
  66: 'ImmutableField',
  67: 'CannotCreateIndex',
  72: 'InvalidOptions',
  73: 'InvalidNamespace',
  85: 'IndexOptionsConflict',
  86: 'IndexKeySpecsConflict',
  11000: 'DuplicateKey',
  40324: 'Location40324',
  40573: 'Location40573',
};

export class MongoServerFault extends Error {
  readonly code: number;
  readonly codeName: string;
  /** Extra top-level reply fields (e.g. keyPattern/keyValue for duplicate keys). */
  readonly extra: Record<string, unknown>;

  constructor(code: number, message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.code = code;
    this.codeName = CODE_NAMES[code] ?? 'UnknownError';
    this.extra = extra;
  }

  toReply(): Record<string, unknown> {
    return { ok: 0, errmsg: this.message, code: this.code, codeName: this.codeName, ...this.extra };
  }
}

export const badValue = (msg: string): MongoServerFault => new MongoServerFault(2, msg);

/** Any thrown value as a fault: unknown errors become InternalError rather than crashing the connection. */
export function asFault(err: unknown): MongoServerFault {
  if (err instanceof MongoServerFault) return err;
  const message = err instanceof Error ? err.message : String(err);
  // mingo reports unknown operators with plain Errors; surface them as BadValue so the client sees the name.
  if (/unknown|unregistered|not supported|invalid|expects/i.test(message)) return new MongoServerFault(2, message);
  return new MongoServerFault(1, message);
}
