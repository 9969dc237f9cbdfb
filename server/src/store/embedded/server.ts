/** TCP listener: frames messages per connection and hands them to the command dispatcher. */
import net from 'node:net';
import type { Document } from 'bson';
import { dispatch } from './commands/index.ts';
import type { Engine, LogFn } from './engine.ts';
import { asFault } from './errors.ts';
import { MAX_MESSAGE_BYTES, ProtocolError, encodeMsg, encodeReply, parseMessage } from './wire.ts';
import type { Inbound } from './wire.ts';

export interface ConnectionInfo {
  id: number;
}

export class WireServer {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private nextConnectionId = 1;

  constructor(private readonly engine: Engine, private readonly log: LogFn) {
    this.server = net.createServer((socket) => this.accept(socket));
    this.server.on('error', (err) => this.log('error', 'listener error', { err: String(err) }));
  }

  get connections(): number {
    return this.sockets.size;
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        resolve((this.server.address() as net.AddressInfo).port);
      });
    });
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private accept(socket: net.Socket): void {
    const conn: ConnectionInfo = { id: this.nextConnectionId++ };
    this.sockets.add(socket);
    socket.setNoDelay(true);
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    // Bytes the message being received needs in all: chunks are joined only once it is complete, since
    // joining on every chunk copied a 2 MB insert batch some thirty times over.
    let need = 0;
    // Messages on one connection are answered strictly in order, one at a time.
    let chain: Promise<void> = Promise.resolve();

    socket.on('data', (chunk: Buffer) => {
      try {
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes < need) return;
        let buf = pending.length === 1 ? chunk : Buffer.concat(pending, pendingBytes);
        need = 4;
        while (buf.length >= 4) {
          const len = buf.readInt32LE(0);
          if (len < 16 || len > MAX_MESSAGE_BYTES) throw new ProtocolError(`invalid message length ${len}`);
          if (buf.length < len) {
            need = len;
            break;
          }
          const msg = buf.subarray(0, len);
          buf = buf.subarray(len);
          chain = chain.then(() => this.handle(socket, conn, msg));
        }
        pending = buf.length ? [buf] : [];
        pendingBytes = buf.length;
      } catch (err) {
        this.log('warn', 'closing connection after a malformed message', { connectionId: conn.id, err: String(err) });
        socket.destroy();
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket));
  }

  private async handle(socket: net.Socket, conn: ConnectionInfo, raw: Buffer): Promise<void> {
    if (socket.destroyed) return;
    let msg: Inbound;
    try {
      msg = parseMessage(raw);
    } catch (err) {
      this.log('warn', 'closing connection after an unparseable message', { connectionId: conn.id, err: String(err) });
      socket.destroy();
      return;
    }
    try {
      if (msg.kind === 'query') {
        // Legacy handshake: the command may be wrapped as {$query: {...}, $readPreference}.
        const q = msg.query.$query && typeof msg.query.$query === 'object' ? (msg.query.$query as Document) : msg.query;
        const db = msg.collection.endsWith('.$cmd') ? msg.collection.slice(0, -5) : msg.collection;
        const reply = await this.run({ ...q, $db: db }, conn);
        if (!socket.destroyed) socket.write(encodeReply(msg.header.requestId, reply));
        return;
      }
      const reply = await this.run(msg.body, conn);
      if (!msg.moreToCome && !socket.destroyed) socket.write(encodeMsg(msg.header.requestId, reply));
    } catch (err) {
      // Only encoding can fail here (e.g. a reply over 16 MiB); answer with an error instead.
      this.log('error', 'failed to send reply', { connectionId: conn.id, err: String(err) });
      if (!socket.destroyed && msg.kind === 'msg' && !msg.moreToCome) socket.write(encodeMsg(msg.header.requestId, asFault(err).toReply()));
    }
  }

  private async run(cmd: Document, conn: ConnectionInfo): Promise<Document> {
    try {
      return await dispatch(this.engine, cmd, conn);
    } catch (err) {
      const fault = asFault(err);
      if (fault.code === 1) this.log('error', 'command failed', { command: Object.keys(cmd)[0], err: String(err) });
      return fault.toReply();
    }
  }
}
