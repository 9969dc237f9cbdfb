import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../server/src/observability/index.ts';
import { createWecomClient, type WecomClient } from '../../server/src/wecom/client/index.ts';
import { startWecomSimulator, type WecomSimulator } from '../../server/src/wecom-simulator/index.ts';

let sim: WecomSimulator;
let wecom: WecomClient;

beforeAll(async () => {
  sim = await startWecomSimulator({ seed: 'demo' });
  wecom = createWecomClient({ apiBase: sim.apiBase, corpId: sim.corp.corpId, secret: sim.corp.secret, logger: createLogger({ level: 'silent' }) });
});

afterAll(() => sim.close());

describe('demo corp', () => {
  it('has reps, customers with channel states and corp tags, tag groups and customer groups', async () => {
    const reps = await wecom.user.list();
    expect(reps).toEqual(expect.arrayContaining(['zhangwei', 'lina', 'wangfang', 'liuyang']));

    const groups = await wecom.tags.list();
    expect(groups.map((g) => g.group_name)).toEqual(expect.arrayContaining(['客户等级', '意向产品', '来源渠道']));

    const pairs = [];
    for await (const pair of wecom.externalContact.iterateByUser({ userid_list: reps })) pairs.push(pair);
    expect(pairs.length).toBeGreaterThanOrEqual(6);
    expect(pairs.every((p) => p.follow_info.state && p.follow_info.tag_id.length > 0)).toBe(true);

    const first = await wecom.externalContact.get(pairs[0]!.external_contact.external_userid);
    expect(first.external_contact.corp_name).toBeTruthy();
    expect(first.follow_user[0]?.tags.every((t) => t.group_name && t.tag_name)).toBe(true);

    const chats = [];
    for await (const chat of wecom.groupChat.iterate({ limit: 100 })) chats.push(chat);
    expect(chats.length).toBeGreaterThanOrEqual(2);
    const chat = await wecom.groupChat.get(chats[0]!.chat_id, true);
    expect(chat.member_list.some((m) => m.type === 2 && m.name)).toBe(true);
  });

  it('gives every seeded simulator its own corp credentials', async () => {
    const other = await startWecomSimulator({ seed: 'demo' });
    try {
      expect(other.corp.corpId).not.toBe(sim.corp.corpId);
      expect(other.corp.encodingAesKey).toHaveLength(43);
    } finally {
      await other.close();
    }
  });
});
