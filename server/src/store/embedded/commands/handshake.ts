/** Handshake and server-information commands, answered as a standalone mongod 7.0 would. */
import type { Document } from 'bson';
import type { CommandHandler } from './types.ts';

const hello: CommandHandler = (cmd, ctx) => {
  const reply: Document = {
    isWritablePrimary: true,
    helloOk: true,
    maxBsonObjectSize: 16 * 1024 * 1024,
    maxMessageSizeBytes: 48_000_000,
    maxWriteBatchSize: 100_000,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId: ctx.conn.id,
    minWireVersion: 0,
    maxWireVersion: 21,
    readOnly: false,
    ok: 1,
  };
  if (!('hello' in cmd)) reply.ismaster = true;
  return reply;
};

const VERSION = '7.0.0';

export const handshakeCommands: Record<string, CommandHandler> = {
  hello,
  isMaster: hello,
  ismaster: hello,
  ping: () => ({ ok: 1 }),
  buildInfo: () => ({ version: VERSION, versionArray: [7, 0, 0, 0], gitVersion: 'embedded', bits: 64, maxBsonObjectSize: 16 * 1024 * 1024, storageEngines: ['embedded'], javascriptEngine: 'none', ok: 1 }),
  buildinfo: () => ({ version: VERSION, versionArray: [7, 0, 0, 0], ok: 1 }),
  getParameter: () => ({ featureCompatibilityVersion: { version: '7.0' }, ok: 1 }),
  getCmdLineOpts: () => ({ argv: ['mongod-embedded'], parsed: {}, ok: 1 }),
  hostInfo: () => ({ system: { hostname: '127.0.0.1' }, ok: 1 }),
  whatsmyuri: (_cmd, ctx) => ({ you: `127.0.0.1:${ctx.conn.id}`, ok: 1 }),
  serverStatus: (_cmd, ctx) => ({
    host: '127.0.0.1',
    version: VERSION,
    process: 'mongod-embedded',
    uptime: Math.floor(process.uptime()),
    localTime: new Date(),
    connections: { current: ctx.conn.id },
    ok: 1,
  }),
  endSessions: () => ({ ok: 1 }),
  killSessions: () => ({ ok: 1 }),
  refreshSessions: () => ({ ok: 1 }),
  getLastError: () => ({ err: null, n: 0, ok: 1 }),
};
