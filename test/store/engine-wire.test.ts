import net from 'node:net';
import { BSON } from 'bson';
import { MongoClient } from 'mongodb';
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedMongo } from '../../server/src/store/embedded/index.ts';
import type { EmbeddedMongo } from '../../server/src/store/embedded/index.ts';
import { crc32c } from '../../server/src/store/embedded/crc.ts';

let mongo: EmbeddedMongo;
let client: MongoClient;

beforeAll(async () => {
  mongo = await startEmbeddedMongo();
  client = await MongoClient.connect(`${mongo.uri}/wire`);
});

afterAll(async () => {
  await client?.close();
  await mongo?.close();
});

/** Sends raw bytes and collects whatever comes back until the server closes or goes quiet. */
function rawExchange(bytes: Buffer, quietMs = 300): Promise<{ data: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const sock = net.connect(mongo.port, '127.0.0.1', () => sock.write(bytes));
    let timer = setTimeout(finish, quietMs);
    let closed = false;
    function finish(): void {
      sock.destroy();
      resolve({ data: Buffer.concat(chunks), closed });
    }
    sock.on('data', (c) => {
      chunks.push(c);
      clearTimeout(timer);
      timer = setTimeout(finish, quietMs);
    });
    sock.on('close', () => {
      closed = true;
      clearTimeout(timer);
      finish();
    });
    sock.on('error', () => undefined);
  });
}

function opMsg(body: object, { flags = 0, checksum = false }: { flags?: number; checksum?: boolean } = {}): Buffer {
  const doc = BSON.serialize(body);
  const len = 21 + doc.length + (checksum ? 4 : 0);
  const buf = Buffer.alloc(len);
  buf.writeInt32LE(len, 0);
  buf.writeInt32LE(7, 4);
  buf.writeInt32LE(0, 8);
  buf.writeInt32LE(2013, 12);
  buf.writeUInt32LE(flags | (checksum ? 1 : 0), 16);
  buf[20] = 0;
  buf.set(doc, 21);
  if (checksum) buf.writeUInt32LE(crc32c(buf.subarray(0, len - 4)), len - 4);
  return buf;
}

const replyBody = (data: Buffer): Record<string, unknown> => BSON.deserialize(data.subarray(21));

/** OP_MSG with a body section and one document sequence (kind 1), as the driver sends inserts. */
function opMsgWithSequence(body: object, id: string, docs: Buffer[]): Buffer {
  const head = BSON.serialize(body);
  const name = Buffer.from(`${id}\0`);
  const seqSize = 4 + name.length + docs.reduce((n, d) => n + d.length, 0);
  const len = 21 + head.length + 1 + seqSize;
  const buf = Buffer.alloc(len);
  buf.writeInt32LE(len, 0);
  buf.writeInt32LE(8, 4);
  buf.writeInt32LE(2013, 12);
  buf[20] = 0;
  buf.set(head, 21);
  let at = 21 + head.length;
  buf[at++] = 1;
  buf.writeInt32LE(seqSize, at);
  name.copy(buf, at + 4);
  at += 4 + name.length;
  for (const d of docs) at += d.copy(buf, at);
  return buf;
}

describe('wire protocol', () => {
  it('answers hello as a writable standalone', async () => {
    const hello = await client.db('admin').command({ hello: 1 });
    expect(hello).toMatchObject({ isWritablePrimary: true, helloOk: true, maxWireVersion: 21, minWireVersion: 0, maxWriteBatchSize: 100000, logicalSessionTimeoutMinutes: 30 });
    expect(hello.setName).toBeUndefined();
    expect(hello.topologyVersion).toBeUndefined();
    const legacy = await client.db('admin').command({ isMaster: 1 });
    expect(legacy.ismaster).toBe(true);
  });

  it('assembles messages however the bytes are split: inside the length, mid-body, and two in one write', async () => {
    const pings = Buffer.concat([opMsg({ ping: 1, $db: 'admin' }), opMsg({ ping: 1, $db: 'admin' }), opMsg({ ping: 1, $db: 'admin' })]);
    const cuts = [2, 3, 30, pings.length / 3 + 1, (2 * pings.length) / 3 + 5, pings.length];
    const replies = await new Promise<Buffer>((resolve, reject) => {
      const got: Buffer[] = [];
      const sock = net.connect(mongo.port, '127.0.0.1', async () => {
        let from = 0;
        for (const to of cuts) {
          sock.write(pings.subarray(from, to));
          from = to;
          await new Promise((r) => setTimeout(r, 20));
        }
      });
      sock.on('data', (c) => {
        got.push(c);
        const all = Buffer.concat(got);
        let n = 0;
        for (let at = 0; at + 4 <= all.length; at += all.readInt32LE(at)) n++;
        if (n === 3 && all.length === [0, 1, 2].reduce((at) => at + all.readInt32LE(at), 0)) {
          sock.destroy();
          resolve(all);
        }
      });
      sock.on('error', reject);
    });
    const messages: Buffer[] = [];
    for (let at = 0; at < replies.length; at += replies.readInt32LE(at)) messages.push(replies.subarray(at, at + replies.readInt32LE(at)));
    expect(messages.map((m) => replyBody(m).ok)).toEqual([1, 1, 1]);
  });

  it('verifies OP_MSG checksums and honours moreToCome', async () => {
    const good = await rawExchange(opMsg({ ping: 1, $db: 'admin' }, { checksum: true }));
    expect(replyBody(good.data).ok).toBe(1);
    const corrupt = opMsg({ ping: 1, $db: 'admin' }, { checksum: true });
    corrupt.writeUInt32LE((corrupt.readUInt32LE(corrupt.length - 4) + 1) >>> 0, corrupt.length - 4);
    expect((await rawExchange(corrupt)).closed).toBe(true);
    const silent = await rawExchange(opMsg({ insert: 'quiet', documents: [{ a: 1 }], $db: 'wire' }, { flags: 2 }));
    expect(silent.data.length).toBe(0);
    expect(await client.db('wire').collection('quiet').countDocuments()).toBe(1);
  });

  it('survives garbage, unknown opcodes, oversize and invalid BSON, then still serves mongoose', async () => {
    const garbage = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect((await rawExchange(garbage)).closed).toBe(true);
    const unknownOp = Buffer.alloc(20);
    unknownOp.writeInt32LE(20, 0);
    unknownOp.writeInt32LE(9999, 12);
    expect((await rawExchange(unknownOp)).closed).toBe(true);
    const huge = Buffer.alloc(16);
    huge.writeInt32LE(60_000_000, 0);
    expect((await rawExchange(huge)).closed).toBe(true);
    const badBson = opMsg({ ping: 1 });
    badBson.writeInt32LE(9999, 21);
    expect((await rawExchange(badBson)).closed).toBe(true);

    const conn = await mongoose.createConnection(`${mongo.uri}/wire_mongoose`).asPromise();
    try {
      const Thing = conn.model('Thing', new mongoose.Schema({ n: Number }));
      await Thing.create({ n: 1 });
      expect(await Thing.countDocuments()).toBe(1);
    } finally {
      await conn.close();
    }
  });

  it('stores an insert\'s document sequence as sent, and refuses the whole message when one document is malformed inside', async () => {
    const doc = (n: number) => Buffer.from(BSON.serialize({ _id: n, name: `客户 ${n}`, followUsers: [{ userid: 'lina', tagIds: ['a'] }] }));
    const ok = await rawExchange(opMsgWithSequence({ insert: 'seq_ok', $db: 'wire' }, 'documents', [doc(1), doc(2)]));
    expect(replyBody(ok.data)).toMatchObject({ ok: 1, n: 2 });
    expect(await client.db('wire').collection('seq_ok').find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 1, name: '客户 1', followUsers: [{ userid: 'lina', tagIds: ['a'] }] },
      { _id: 2, name: '客户 2', followUsers: [{ userid: 'lina', tagIds: ['a'] }] },
    ]);

    // The second document's nested string loses its NUL: only a walk into followUsers can see it.
    const broken = doc(4);
    broken[broken.indexOf(Buffer.from('lina')) + 4] = 0x41;
    const bad = await rawExchange(opMsgWithSequence({ insert: 'seq_bad', $db: 'wire' }, 'documents', [doc(3), broken]));
    expect(bad.closed).toBe(true);
    expect(await client.db('wire').collection('seq_bad').countDocuments()).toBe(0);
  });

  it('decodes and checks a sequence document with a top-level $ name the way an inline one is', async () => {
    const dbRefShaped = { _id: 1, $ref: 'x', $id: 2, n: 5 };
    const inline = await client.db('wire').command({ insert: 'dollar_inline', documents: [dbRefShaped] });
    const sent = await rawExchange(opMsgWithSequence({ insert: 'dollar_seq', $db: 'wire' }, 'documents', [Buffer.from(BSON.serialize(dbRefShaped))]));
    const reply = replyBody(sent.data) as { n: number; writeErrors?: Array<{ code: number }> };
    expect(inline.writeErrors?.[0]?.code).toBeDefined();
    expect(reply.n).toBe(0);
    expect(reply.writeErrors?.[0]?.code).toBe(inline.writeErrors[0].code);
    expect(await client.db('wire').collection('dollar_seq').countDocuments()).toBe(0);
  });

  it('answers a find sent as legacy OP_QUERY with the documents themselves', async () => {
    await client.db('wire').collection('legacy_find').insertMany([{ _id: 1, name: '甲' }, { _id: 2, name: '乙' }] as never[]);
    const query = BSON.serialize({ find: 'legacy_find', filter: {}, sort: { _id: 1 } });
    const ns = Buffer.from('wire.$cmd\0');
    const msg = Buffer.alloc(16 + 4 + ns.length + 8 + query.length);
    msg.writeInt32LE(msg.length, 0);
    msg.writeInt32LE(9, 4);
    msg.writeInt32LE(2004, 12);
    ns.copy(msg, 20);
    msg.writeInt32LE(-1, 20 + ns.length + 4); // numberToReturn
    msg.set(query, 20 + ns.length + 8);
    const { data } = await rawExchange(msg);
    const reply = BSON.deserialize(data.subarray(36)) as { cursor: { firstBatch: unknown[] } };
    expect(reply.cursor.firstBatch).toEqual([{ _id: 1, name: '甲' }, { _id: 2, name: '乙' }]);
  });

  it('names unknown commands and rejects transactions and change streams like a standalone', async () => {
    await expect(client.db('wire').command({ frobnicate: 1 })).rejects.toMatchObject({ code: 59, codeName: 'CommandNotFound', message: "no such command: 'frobnicate'" });
    const session = client.startSession();
    try {
      session.startTransaction();
      // The driver rewords this error (as it does against a real standalone) but keeps the server's reply.
      const err = await client.db('wire').collection('t').insertOne({ a: 1 }, { session }).catch((e: unknown) => e);
      expect(err).toMatchObject({ errorResponse: { originalError: { code: 20, codeName: 'IllegalOperation' } } });
    } finally {
      await session.endSession();
    }
    await expect(client.db('wire').command({ aggregate: 't', pipeline: [{ $changeStream: {} }], cursor: {} })).rejects.toMatchObject({ code: 40573 });
    await expect(client.db('wire').collection('t').aggregate([{ $out: 'x' }]).toArray()).rejects.toThrow(/\$out/);
  });
});
