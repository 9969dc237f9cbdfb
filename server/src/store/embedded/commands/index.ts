/** Command dispatch: routes a command document to its handler and rejects what a standalone cannot do. */
import type { Document } from 'bson';
import type { Engine } from '../engine.ts';
import { MongoServerFault } from '../errors.ts';
import type { ConnectionInfo } from '../server.ts';
import { aggregateCommands } from './aggregate.ts';
import { catalogCommands } from './catalog.ts';
import { findAndModifyCommands } from './find-and-modify.ts';
import { handshakeCommands } from './handshake.ts';
import { readCommands } from './read.ts';
import type { CommandHandler } from './types.ts';
import { writeCommands } from './write.ts';

const HANDLERS = new Map<string, CommandHandler>(Object.entries({
  ...handshakeCommands,
  ...writeCommands,
  ...readCommands,
  ...aggregateCommands,
  ...findAndModifyCommands,
  ...catalogCommands,
}));

export async function dispatch(engine: Engine, cmd: Document, conn: ConnectionInfo): Promise<Document> {
  const name = Object.keys(cmd)[0];
  const handler = name === undefined ? undefined : HANDLERS.get(name);
  if (!handler) throw new MongoServerFault(59, `no such command: '${name ?? ''}'`);
  if (cmd.txnNumber !== undefined || cmd.startTransaction !== undefined || cmd.autocommit !== undefined) {
    throw new MongoServerFault(20, 'Transaction numbers are only allowed on a replica set member or mongos');
  }
  const db = typeof cmd.$db === 'string' ? cmd.$db : 'admin';
  return handler(cmd, { engine, db, conn });
}
