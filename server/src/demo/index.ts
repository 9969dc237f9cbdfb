import type { ContactModels, ContactPool } from '../contacts/index.ts';
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

/** Fills an empty pool from the demo corp, the same way a real install fills it: a sync. */
export async function seedDemoPool(deps: { client: WecomClient; pool: ContactPool; models: ContactModels; logger: Logger }) {
  const summary = await syncFromWecom(deps.client, deps.pool);
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
