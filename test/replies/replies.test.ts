import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContactPool, REPLY_KINDS, registerContactModels, type ContactModels } from '../../server/src/contacts/index.ts';
import { requireAdmin } from '../../server/src/http/index.ts';
import { Replies, replySourcesModule, type ArchivedMessage, type ChatArchiveSource } from '../../server/src/replies/index.ts';
import { openTestStore } from '../support/db.ts';
import { serveModules } from '../support/http.ts';

const TOKEN = 'admin-token-for-tests-0123';
let store: Awaited<ReturnType<typeof openTestStore>>;
let models: ContactModels;
let pool: ContactPool;

/** A 会话存档 reader as a licensed deployment would plug it in: it hands over what it decrypted. */
class ArchiveFeed implements ChatArchiveSource {
  private deliver: ((message: ArchivedMessage) => Promise<void>) | null = null;
  stopped = false;
  async start(deliver: (message: ArchivedMessage) => Promise<void>) {
    this.deliver = deliver;
  }
  async stop() {
    this.stopped = true;
  }
  push(message: ArchivedMessage) {
    return this.deliver!(message);
  }
}

beforeAll(async () => {
  store = await openTestStore();
  models = registerContactModels(store.connection);
  await Promise.all(Object.values(models).map((m) => m.init()));
  pool = new ContactPool(models);
});
afterAll(() => store?.dispose());

describe('reply sources', () => {
  it('counts a chat-archive message as a reply (a kind the replied condition, score, funnel and churn read), once per msgid', async () => {
    const feed = new ArchiveFeed();
    const replies = new Replies({ pool, botEnabled: false, chatArchive: feed });
    await replies.start();
    const replied = async () => (await models.TimelineEvent.exists({ externalUserId: 'wm-archive-1', kind: mongoose.trusted({ $in: REPLY_KINDS }) })) !== null;
    expect(await replied()).toBe(false);
    const message = { msgId: 'msg-1', externalUserId: 'wm-archive-1', userId: 'zhangwei', at: new Date('2026-11-21T03:00:00Z') };
    await feed.push(message);
    await feed.push(message); // read twice by the archive (or by two instances): one reply
    expect(await replied()).toBe(true);
    expect(await models.TimelineEvent.find({ externalUserId: 'wm-archive-1' }, { _id: 0, kind: 1, userId: 1, data: 1 }).lean()).toEqual([
      { kind: 'replied', userId: 'zhangwei', data: { source: 'chat_archive' } },
    ]);
    await replies.stop();
    expect(feed.stopped).toBe(true);
  });

  it('tells the console which sources count in this deployment', async () => {
    const http = await serveModules([replySourcesModule({ replies: new Replies({ pool, botEnabled: true }), adminGuard: requireAdmin(TOKEN) })]);
    try {
      expect((await fetch(`${http.base}/api/admin/reply-sources`)).status).toBe(401);
      const res = await fetch(`${http.base}/api/admin/reply-sources`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(await res.json()).toEqual({
        sources: [
          { source: 'bot', active: true },
          { source: 'sidebar_mark', active: true },
          { source: 'chat_archive', active: false },
        ],
      });
    } finally {
      await http.close();
    }
  });
});
