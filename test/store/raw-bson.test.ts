import { Binary, BSON, BSONRegExp, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp, UUID } from 'bson';
import { describe, expect, it } from 'vitest';
import { checkDocument, decodeStored, fieldPicker, readField } from '../../server/src/store/embedded/raw-bson.ts';
import { compileProjection, topLevelInclusion } from '../../server/src/store/embedded/query.ts';
import { canonicalKey } from '../../server/src/store/embedded/bson-order.ts';
import { bsonType } from '../../server/src/store/embedded/values.ts';

const sample = {
  _id: new ObjectId('65a1b2c3d4e5f60718293a4b'),
  str: '企业微信 🙂',
  empty: '',
  int: new Int32(-7),
  dbl: new Double(2.5),
  integralDouble: new Double(3),
  negZero: new Double(-0),
  long: Long.fromString('9007199254740993'),
  dec: Decimal128.fromString('12.50'),
  date: new Date('2026-11-23T10:00:00Z'),
  yes: true,
  no: false,
  nil: null,
  bin: new Binary(Buffer.from([1, 2, 3]), 0),
  uuid: new UUID('0e3c3a5e-8a0e-4c47-9b0c-3f2a55e1b1a1'),
  re: new BSONRegExp('^wm', 'i'),
  ts: new Timestamp({ t: 1700000000, i: 2 }),
  min: new MinKey(),
  max: new MaxKey(),
  sub: { a: [1, { b: 'c' }], n: new Int32(1) },
  arr: ['x', new Int32(2), { y: null }],
};

describe('reading one field of a stored document', () => {
  const bytes = BSON.serialize(sample);
  const whole = decodeStored(bytes);

  it.each(Object.keys(sample))('reads %s exactly as a full decode does', (name) => {
    const value = readField(bytes, name);
    // Same BSON type and same value in mongod's eyes; regexes compare by source and flags.
    expect(bsonType(value)).toBe(bsonType(whole[name]));
    expect(canonicalKey(value)).toBe(canonicalKey(whole[name]));
  });

  it('reads dates on either side of 1970 and at the ends of the Date range as the decoder does', () => {
    const dates = { early: new Date(-1), epoch: new Date(0), ms: new Date(1_700_000_000_123), min: new Date(-8.64e15), max: new Date(8.64e15) };
    const doc = BSON.serialize(dates);
    for (const name of Object.keys(dates)) expect((readField(doc, name) as Date).getTime()).toBe((decodeStored(doc)[name] as Date).getTime());
  });

  it('keeps the stored hybrid form: int32 as a number, an integral double as a Double, -0 as a Double', () => {
    expect(readField(bytes, 'int')).toBe(-7);
    expect(readField(bytes, 'dbl')).toBe(2.5);
    expect(readField(bytes, 'integralDouble')).toBeInstanceOf(Double);
    expect(readField(bytes, 'negZero')).toBeInstanceOf(Double);
    expect(readField(bytes, 'long')).toBeInstanceOf(Long);
  });

  it('answers undefined for a missing field and takes the last of a repeated name, like the decoder', () => {
    expect(readField(bytes, 'absent')).toBeUndefined();
    // BSON.serialize cannot repeat a key, so splice a second `k` element in by hand.
    const first = BSON.serialize({ k: 'first' });
    const second = BSON.serialize({ k: 'second' });
    const twice = Buffer.concat([first.subarray(0, first.length - 1), second.subarray(4)]);
    twice.writeInt32LE(twice.length, 0);
    checkDocument(twice);
    expect(readField(twice, 'k')).toBe('second');
    expect(decodeStored(twice).k).toBe('second');
  });

  it('reads fields of different documents in turn without mixing them up', () => {
    const a = BSON.serialize({ owner: 'a', n: 1 });
    const b = BSON.serialize({ owner: 'b', n: 2 });
    expect([readField(a, 'owner'), readField(b, 'owner'), readField(a, 'n'), readField(b, 'n')]).toEqual(['a', 'b', 1, 2]);
  });
});

describe('projecting top-level fields on the BSON', () => {
  const bytes = BSON.serialize(sample);

  it.each([
    [{ str: 1, long: 1, sub: 1 }],
    [{ _id: 0, dec: true, arr: 1, absent: 1 }],
    [{ _id: 1, date: 1, nil: 1, re: 1 }],
  ])('matches the decoded projection for %j, in document order', (projection) => {
    const pick = topLevelInclusion(projection);
    if (!pick) throw new Error('expected a top-level inclusion');
    const picked = decodeStored(fieldPicker(pick.fields, pick.withId)(bytes));
    const projected = compileProjection(projection)!(decodeStored(bytes));
    expect(Object.keys(picked)).toEqual(Object.keys(sample).filter((k) => k in projected));
    for (const k of Object.keys(projected)) expect(canonicalKey(picked[k])).toBe(canonicalKey(projected[k]));
  });

  it.each([[{ 'sub.a': 1 }], [{ a: 0 }], [{ arr: { $slice: 1 } }], [{ _id: 1 }], [{ a: 1, b: 0 }]])('leaves %j to the general projection', (projection) => {
    expect(topLevelInclusion(projection)).toBeUndefined();
  });
});

describe('checking a document without decoding it', () => {
  /** A valid document and a copy with one byte changed (or one size rewritten), to hit each rule. */
  function corrupt(doc: object, edit: (bytes: Buffer) => void): [Buffer, Buffer] {
    const bytes = Buffer.from(BSON.serialize(doc));
    const bad = Buffer.from(bytes);
    edit(bad);
    return [bytes, bad];
  }
  const at = (bytes: Buffer, text: string) => bytes.indexOf(Buffer.from(text));

  it('accepts every type the store keeps', () => {
    expect(() => checkDocument(BSON.serialize(sample))).not.toThrow();
  });

  it.each([
    ['a size that disagrees with the bytes', corrupt({ a: 1 }, (b) => b.writeInt32LE(b.length + 1, 0))],
    ['a missing terminator', corrupt({ a: 1 }, (b) => (b[b.length - 1] = 1))],
    ['an unknown element type', corrupt({ a: 1 }, (b) => (b[4] = 0x42))],
    ['a nested document whose size overruns its parent', corrupt({ sub: { x: 'y' } }, (b) => b.writeInt32LE(200, at(b, 'sub') + 4))],
    ['a nested document of impossible size', corrupt({ sub: { x: 'y' } }, (b) => b.writeInt32LE(3, at(b, 'sub') + 4))],
    ['a string without its NUL', corrupt({ sub: { s: 'abc' } }, (b) => (b[at(b, 'abc') + 3] = 0x41))],
    ['a string of size zero', corrupt({ sub: { s: 'abc' } }, (b) => b.writeInt32LE(0, at(b, 'abc') - 4))],
    ['a boolean that is neither 0 nor 1', corrupt({ sub: [true] }, (b) => (b[at(b, '0\u0000') + 2] = 7))],
    ['a bad binary inside an array, left to the full decoder', corrupt({ arr: [new Binary(Buffer.from('abcd'), 2)] }, (b) => b.writeInt32LE(99, at(b, 'abcd') - 4))],
  ])('rejects %s', (_what, [good, bad]) => {
    expect(() => checkDocument(good)).not.toThrow();
    expect(() => checkDocument(bad)).toThrow();
  });
});
