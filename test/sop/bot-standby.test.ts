import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BotChannel } from '../../server/src/sop/index.ts';
import { startWecomSimulator, type WecomSimulator } from '../../server/src/wecom-simulator/index.ts';
import { openTestStore } from '../support/db.ts';
import { TestClock, buildSop, planFromYaml, type SopHarness } from './harness.ts';

// Monday 2026-11-23 10:00 in Asia/Shanghai: outside quiet hours.
const clock = new TestClock(new Date('2026-11-23T02:00:00Z').getTime());
let store: Awaited<ReturnType<typeof openTestStore>>;
let sim: WecomSimulator;
let h: SopHarness;
let state: 'standby' | 'logged_out' = 'standby';
const pushed: string[] = [];

/** This instance's view of the bot: logged in nowhere here; on standby while another instance has it. */
const bot: BotChannel = {
  available: () => false,
  elsewhere: () => state === 'standby',
  sendToContact: async (externalUserId) => void pushed.push(externalUserId),
  sendToRoom: async (chatId) => void pushed.push(chatId),
};

beforeAll(async () => {
  store = await openTestStore();
  sim = await startWecomSimulator({ seed: 'demo', now: clock.ms });
  h = await buildSop(store.connection, sim, clock, { bot });
});
afterAll(async () => {
  await h?.sop.engine.stop();
  await sim?.close();
  await store?.dispose();
});

const JOURNEY = `
id: bot-push
name: 机器人推送
trigger: { type: contact_tagged, tag: A类-高意向 }
steps:
  - id: push
    type: bot_send
    content: { text: "您好，这是机器人发来的资料" }
`;

describe('a bot step on an instance where the bot is on standby', () => {
  it('waits for the instance that has the bot instead of dropping the push; with the bot logged out nowhere, it is bot_unavailable', async () => {
    await planFromYaml(h.sop, JOURNEY);
    const relation = (await h.contacts.FollowRelation.findOne({ status: 'active' }).lean())!;
    await h.sop.engine.onContactTagged({ externalUserId: relation.externalUserId, userId: relation.userId, tagIds: relation.tagIds, at: clock.now() });
    await h.sop.engine.worker.drain();
    const job = (await h.sop.models.Job.findOne({ stepId: 'push' }).lean())!;
    expect(job).toMatchObject({ status: 'pending', outcome: null, attempts: 0 });
    expect(job.runAt!.getTime()).toBe(clock.ms() + 30_000);

    state = 'logged_out';
    clock.advance(30_000);
    await h.sop.engine.worker.drain();
    expect(await h.sop.models.Job.findOne({ stepId: 'push' }).lean()).toMatchObject({ status: 'done', outcome: 'bot_unavailable' });
    expect(pushed).toEqual([]);
  });
});
