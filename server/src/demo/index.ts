import type { ContactModels, ContactPool } from '../contacts/index.ts';
import type { Identity } from '../identity/index.ts';
import type { OrderBook } from '../orders/index.ts';
import { createRepTask, type RepTaskModel } from '../tasks/index.ts';
import type { Logger } from '../observability/index.ts';
import { syncFromWecom, type WecomClient } from '../wecom/index.ts';
import { startWecomSimulator, type WecomSimulator } from '../wecom-simulator/index.ts';

/** The demo corp's 联系我 channels, each auto-tagging with its 来源渠道 tag. */
const DEMO_CHANNELS = [
  { state: 'douyin_618', name: '抖音 618 直播间', tag: '抖音', cost: 12_000 },
  { state: 'baidu_sem', name: '百度推广落地页', tag: '百度推广', cost: 8_000 },
  { state: 'expo_sh_2024', name: '上海零售展展位', tag: '线下展会', cost: 20_000 },
  { state: 'referral', name: '老客转介绍海报', tag: '老客转介绍', cost: 0 },
];

/**
 * A fixed corp, so the demo's ids (and the callback secrets a developer may paste into tools) are the
 * same on every start and a restart updates the demo pool instead of adding a second copy.
 */
const DEMO_CORP = {
  corpId: 'wwdemo0a1b2c3d4e5f',
  agentId: 1000002,
  secret: 'demo-app-secret-not-for-production',
  token: 'demoToken',
  encodingAesKey: 'ZGVtby1lbmNvZGluZy1hZXMta2V5LTMyLWJ5dGVzISE',
};

/** With no WeCom credentials, a simulator with a small realistic corp stands in for WeCom. */
export function startDemoWecom(logger: Logger): Promise<WecomSimulator> {
  return startWecomSimulator({ seed: 'demo', corp: DEMO_CORP, logger });
}

const DAY = 86_400_000;

/**
 * Some weeks of behaviour per demo customer (days before the first start), so stages, scores,
 * the sidebar timeline, script ranking by last messages and the dashboard have something to show.
 */
/**
 * Form sign-ups for the ONE_ID loop: 陈静 under her phone in another spelling (matched to her WeCom
 * contact), 孙丽 of the same company under another phone (probable: on the review page), and a
 * newcomer (a contact-to-be attributed to the form).
 */
const DEMO_LEADS: Array<[leadId: string, name: string, phone: string | null, company: string, title: string, daysAgo: number]> = [
  ['demo-lead-1', '陈静', '013805712233', '杭州云帆科技有限公司', 'CTO', 3],
  ['demo-lead-2', '孙丽', '139 0028 1234', '成都蜀香餐饮管理有限公司', '运营总监', 2],
  ['demo-lead-3', '钱多多', '+86 137 5555 0101', '宁波甬上贸易有限公司', '采购经理', 1],
];

const DEMO_HISTORY: Record<string, { messages: Array<[number, string]>; orders: Array<[number, number]>; task?: { title: string; dueInHours: number } }> = {
  陈静: { messages: [[3, '私有化部署大概多久能上线？'], [1, '预算已经批了，想看下报价']], orders: [[2, 12_800]], task: { title: '发报价单：陈静（杭州云帆科技）预算已批', dueInHours: 3 } },
  赵磊: { messages: [[9, '直播间说的优惠还有吗？多少钱']], orders: [] },
  孙丽: { messages: [[6, '12 家门店能一起用吗'], [2, '有没有餐饮行业的案例']], orders: [], task: { title: '给孙丽发餐饮行业案例', dueInHours: 26 } },
  周强: { messages: [[20, '续费有优惠吗'], [4, '发票怎么开']], orders: [[350, 12_800], [25, 3_980]], task: { title: '续费沟通：周强（启明教育）服务下月到期', dueInHours: 24 } },
  吴敏: { messages: [[8, '试用账号怎么加员工']], orders: [] },
  郑浩: { messages: [], orders: [] },
  黄婷: { messages: [[1, '体验包收到了，想了解专业版价格']], orders: [[4, 3_980]] },
  林涛: { messages: [[5, '社群 SOP 怎么配置？']], orders: [] },
};

/** Fills an empty pool from the demo corp, the same way a real install fills it: a sync; then demo behaviour. */
export async function seedDemoPool(deps: {
  client: WecomClient;
  pool: ContactPool;
  models: ContactModels;
  orders: OrderBook;
  tasks: RepTaskModel;
  logger: Logger;
  /** Where the demo's form sign-ups are matched (main.ts); without it the demo has no leads. */
  identity?: Pick<Identity, 'importLead'>;
  now?: () => Date;
}) {
  const summary = await syncFromWecom(deps.client, deps.pool);
  const now = (deps.now ?? (() => new Date()))().getTime();
  await seedDemoHistory(deps, now);
  // Idempotent on lead_id: a restart imports nothing twice.
  for (const [leadId, name, phone, company, title, daysAgo] of DEMO_LEADS) {
    await deps.identity?.importLead({ leadId, name, phone, company, title, email: '', source: '官网预约演示表单', submittedAt: new Date(now - daysAgo * DAY) });
  }
  for (const channel of DEMO_CHANNELS) {
    const tag = await deps.models.Tag.findOne({ name: channel.tag, groupName: '来源渠道' }).lean();
    await deps.models.Channel.updateOne(
      { state: channel.state },
      { $setOnInsert: { name: channel.name, tagIds: tag ? [tag.tagId] : [], cost: channel.cost } },
      { upsert: true },
    );
  }
  deps.logger.info({ ...summary, channels: DEMO_CHANNELS.length }, 'demo data synced from the WeCom simulator');
  return summary;
}

/**
 * Written once per customer: their `added` event goes last and marks them done, so a restart adds
 * nothing and leaves the first start's history (and its order times) as it was.
 */
async function seedDemoHistory(deps: { pool: ContactPool; models: ContactModels; orders: OrderBook; tasks: RepTaskModel }, now: number) {
  for (const [name, history] of Object.entries(DEMO_HISTORY)) {
    const contact = await deps.models.Contact.findOne({ name, origin: 'wecom' }, { externalUserId: 1 }).lean();
    const relation = contact && (await deps.models.FollowRelation.findOne({ externalUserId: contact.externalUserId }).lean());
    if (!contact || !relation) continue;
    const { externalUserId } = contact;
    const doneKey = `demo:${externalUserId}:added`;
    if (await deps.models.TimelineEvent.exists({ key: doneKey })) continue;
    for (const [i, [daysAgo, text]] of history.messages.entries()) {
      await deps.pool.addTimeline({ externalUserId, userId: relation.userId, at: new Date(now - daysAgo * DAY), kind: 'message_in', key: `demo:${externalUserId}:msg:${i}`, data: { text } });
    }
    await deps.orders.recordMany(
      history.orders.map(([daysAgo, yuan], i) => ({ orderId: `demo-${externalUserId}-${i}`, externalUserId, amountFen: yuan * 100, paidAt: new Date(now - daysAgo * DAY) })),
    );
    if (history.task) {
      await createRepTask(deps.tasks, { key: `demo:${externalUserId}:task`, externalUserId, userId: relation.userId, title: history.task.title, dueAt: new Date(now + history.task.dueInHours * 3_600_000), source: { demo: true } });
    }
    await deps.pool.addTimeline({ externalUserId, userId: relation.userId, at: relation.addedAt ?? new Date(now), kind: 'added', key: doneKey, data: { state: relation.state } });
  }
}
