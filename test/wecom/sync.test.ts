import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContactPool, registerContactModels, type ContactModels } from '../../server/src/contacts/index.ts';
import { createLogger } from '../../server/src/observability/index.ts';
import { createWecomClient, syncFromWecom, type SyncProgress } from '../../server/src/wecom/index.ts';
import { startWecomSimulator, type WecomSimulator } from '../../server/src/wecom-simulator/index.ts';
import { openTestStore } from '../support/db.ts';

const logger = createLogger({ level: 'silent' });
let store: Awaited<ReturnType<typeof openTestStore>>;
let sim: WecomSimulator;
let models: ContactModels;
let pool: ContactPool;
let client: ReturnType<typeof createWecomClient>;

beforeAll(async () => {
  store = await openTestStore();
  sim = await startWecomSimulator({ seed: 'demo' });
  // Enough customers for several batch/get_by_user pages (100 per page).
  for (let i = 0; i < 230; i++) {
    sim.state.addContact({ name: `客户${i}` }, [{ userid: i % 2 ? 'lina' : 'zhangwei', state: 'referral' }]);
  }
  models = registerContactModels(store.connection);
  await Promise.all(Object.values(models).map((m) => m.init()));
  pool = new ContactPool(models);
  client = createWecomClient({
    apiBase: sim.apiBase,
    corpId: sim.corp.corpId,
    secret: sim.corp.secret,
    logger,
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
  });
});

afterAll(async () => {
  await sim?.close();
  await store?.dispose();
});

describe('full sync from WeCom', () => {
  it('pulls every tag, customer relation and group across pages, reporting progress', async () => {
    const progress: SyncProgress[] = [];
    const summary = await syncFromWecom(client, pool, (p) => progress.push(p));
    expect(summary).toMatchObject({ reps: 4, contacts: 238, relations: 238, tags: 14, groups: 2, failedGroups: [] });
    expect(await models.Contact.countDocuments()).toBe(238);
    expect(await models.FollowRelation.countDocuments({ status: 'active' })).toBe(238);
    expect(await models.Tag.countDocuments()).toBe(14);
    expect(await models.CustomerGroup.countDocuments()).toBe(2);
    expect(sim.calls('/externalcontact/batch/get_by_user').length).toBeGreaterThanOrEqual(3);

    const contactSteps = progress.filter((p) => p.phase === 'contacts').map((p) => p.done);
    expect(contactSteps.at(-1)).toBe(238);
    expect(contactSteps).toEqual([...contactSteps].sort((a, b) => a - b));
    expect(progress.at(-1)).toEqual({ phase: 'groups', done: 2, total: 2 });
  });

  it('is idempotent: a second run changes no counts and keeps the tags of each relation', async () => {
    const chen = await models.Contact.findOne({ name: '陈静' }).lean();
    const before = await models.FollowRelation.findOne({ externalUserId: chen!.externalUserId }).lean();
    await syncFromWecom(client, pool);
    expect(await models.Contact.countDocuments()).toBe(238);
    expect(await models.FollowRelation.countDocuments()).toBe(238);
    const after = await models.FollowRelation.findOne({ externalUserId: chen!.externalUserId }).lean();
    expect(after!.tagIds).toHaveLength(4);
    expect(after!.tagIds).toEqual(before!.tagIds);
    expect(after!.state).toBe('expo_sh_2024');
  });

  it('skips a group it may not read and syncs the rest, naming the skipped one', async () => {
    sim.inject({ api: '/externalcontact/groupchat/get', errcode: 48002, times: 1 });
    const summary = await syncFromWecom(client, pool);
    expect(summary.groups).toBe(1);
    expect(summary.failedGroups).toEqual([{ chatId: expect.stringMatching(/^wr/), error: expect.stringMatching(/48002/) }]);
  });

  it('rides out WeCom being busy', async () => {
    sim.inject({ api: '/externalcontact/batch/get_by_user', errcode: -1, times: 2 });
    const summary = await syncFromWecom(client, pool);
    expect(summary.relations).toBe(238);
  });
});

describe('the rep roster a sync records', () => {
  it('lists every rep WeCom has (with or without customers), confirming a placeholder an import made', async () => {
    await models.Rep.updateOne({ userId: 'lina' }, { $set: { placeholder: true } }, { upsert: true });
    await syncFromWecom(client, pool);
    const reps = await models.Rep.find({}, { _id: 0, userId: 1, placeholder: 1 }).sort({ userId: 1 }).lean();
    expect(reps).toHaveLength(4);
    expect(reps.every((r) => r.placeholder === false)).toBe(true);
    expect(reps.map((r) => r.userId)).toContain('lina');
  });
});
