import type { Document } from 'bson';
import type { Engine } from '../engine.ts';
import type { ConnectionInfo } from '../server.ts';

export interface CommandContext {
  engine: Engine;
  db: string;
  conn: ConnectionInfo;
}

export type CommandHandler = (cmd: Document, ctx: CommandContext) => Document | Promise<Document>;
