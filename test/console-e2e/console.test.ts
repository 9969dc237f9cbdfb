import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { DateTime } from 'luxon';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { System } from '../../server/src/main.ts';
import { launchChromium } from '../support/browser.ts';
import { startDemoSystem, type DemoSystem } from '../support/demo-system.ts';

let demo: DemoSystem;
let system: System;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  demo = await startDemoSystem('console-e2e');
  system = demo.system;
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await demo?.dispose();
});

/** Yesterday on the business clock, as the import CSV writes times. */
const yesterday = (time: string) => `${DateTime.now().setZone('Asia/Shanghai').minus({ days: 1 }).toFormat('yyyy-MM-dd')} ${time}`;
const text = async (selector: string) => ((await page.locator(selector).first().textContent({ timeout: 20_000 })) ?? '').trim();

describe('the operator console in a real browser, demo mode', () => {
  it('opens signed in (demo), and after signing out takes the admin token through its form', async () => {
    await page.goto(`${system.url}/console/`);
    await page.locator('[data-nav=dashboard]').waitFor();
    await page.click('[data-action=sign-out]');

    await page.locator('input[name=token]').fill('not-the-admin-token');
    await page.click('button[type=submit]');
    expect(await text('[role=alert]')).toBe('令牌不正确');
    expect(await page.locator('a[href^="/auth/wecom?as=admin"]').textContent()).toBe('企业微信登录');

    await page.locator('input[name=token]').fill(system.config.adminToken);
    await page.click('button[type=submit]');
    await page.locator('[data-nav=sop]').waitFor();
    const me = await page.evaluate(() => fetch('/auth/me').then((r) => r.json() as Promise<{ admin: string | null }>));
    expect(me.admin).toBe('token');
  });

  it('creates a plan from a template with a live preview, previews its audience and dry-runs it', async () => {
    await page.locator('select[name=templateId] option[value=nurture-7d]').waitFor({ state: 'attached' });
    await page.selectOption('select[name=templateId]', 'nurture-7d');
    await page.locator('input[name=name]').fill('E2E 培育计划');
    await page.locator('input[name=sampleName]').fill('测试客户');
    expect(await text('[data-preview]')).toContain('测试客户您好');
    // A tag-triggered journey: entering once per customer is the default the operator is shown.
    expect(await text('select[name=reentry] option[value=default]')).toBe('默认（每位客户只进入一次）');
    await page.selectOption('select[name=reentry]', 'per_days');
    await page.locator('input[name=reentryDays]').fill('90');
    await page.locator('input[name=maxScore]').fill('100');
    await page.click('form[data-form=new-plan] button[type=submit]');

    expect(await text('[data-plan-name]')).toBe('E2E 培育计划');
    expect(await text('[data-field=reentry]')).toBe('每 90 天最多进入一次');
    expect(await text('[data-field=audience]')).toBe('评分 ≤ 100');
    await page.click('[data-action=audience]');
    expect(await text('[data-audience-count]')).toMatch(/^受众人数：[1-9]\d*$/);
    await page.click('[data-action=dry-run]');
    await page.locator('[data-dry-run-row]').first().waitFor();
    expect(await page.locator('[data-dry-run-row]').count()).toBeGreaterThan(0);
    // Nothing was sent by the dry run.
    expect(system.simulator!.calls('/externalcontact/add_msg_template')).toHaveLength(0);

    const plans = await system.sop.models.Plan.find({ name: 'E2E 培育计划' }).lean();
    expect(plans).toHaveLength(1);
    expect(plans[0]).toMatchObject({ templateId: 'nurture-7d', enabled: false, reentry: { mode: 'per_days', days: 90 }, audience: { minScore: null, maxScore: 100 } });
  });

  it('uploads a contacts CSV on the Import page and shows inserted and rejected rows', async () => {
    await page.click('[data-nav=import]');
    await page.selectOption('select[name=kind]', 'contacts');
    const csv = [
      'external_userid,name,follow_userid,state,entered_at,added_at,removed_at',
      `wm-e2e-1,导入客户一,zhangwei,douyin_618,${yesterday('09:00:00')},${yesterday('09:05:00')},`,
      'wm-e2e-bad,坏行,zhangwei,,not a time,,',
      `wm-e2e-2,导入客户二,lina,,${yesterday('10:00:00')},,`,
    ].join('\n');
    await page.setInputFiles('input[name=file]', { name: 'contacts.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.click('form[data-form=import] button[type=submit]');
    expect(await text('[data-import-result]')).toBe('新增 2 条，更新 0 条，拒绝 1 条');
    expect(await text('[data-table=rejected] tbody tr td')).toBe('3');
    expect(await system.store.connection.db!.collection('follow_relations').findOne({ externalUserId: 'wm-e2e-1' })).toMatchObject({ state: 'douyin_618', status: 'active' });
  });

  it('shows the dashboard with figures and charts, and saves a screenshot', async () => {
    await page.click('[data-nav=dashboard]');
    const entered = Number(await text('[data-kpi=entered] .value'));
    // At least the two contacts imported above entered yesterday, inside the default last-30-days period.
    expect(entered).toBeGreaterThanOrEqual(2);
    expect(await text('[data-kpi=passRate] .value')).toMatch(/^\d+(\.\d)?%$/);
    await page.locator('.chart canvas').first().waitFor();
    expect(await page.locator('[data-table=channels] tbody tr').count()).toBeGreaterThan(0);
    // The imported contact wm-e2e-1 came through douyin_618: that channel's row counts it as entered.
    const douyin = page.locator('[data-table=channels] tbody tr', { hasText: 'douyin_618' });
    expect(Number(await douyin.locator('td').nth(1).textContent())).toBeGreaterThanOrEqual(1);
    await page.selectOption('select[name=scope]', 'douyin_618');
    await mkdir('test-results', { recursive: true });
    await page.screenshot({ path: path.join('test-results', 'console-dashboard.png'), fullPage: true });
  });

  it('manages scripts, shows the bot, and makes a channel QR code from the Channels page', async () => {
    await page.click('[data-nav=scripts]');
    await page.locator('[data-table=scripts] tbody tr').first().waitFor();
    await page.click('text=新建话术');
    await page.locator('form[data-form=script] input[name=key]').fill('e2e-hours');
    await page.locator('form[data-form=script] input[name=category]').fill('常见问题');
    await page.locator('form[data-form=script] input[name=title]').fill('营业时间');
    await page.locator('form[data-form=script] textarea[name=content]').fill('我们每天 9:00–21:00 营业。');
    await page.click('form[data-form=script] button[type=submit]');
    await page.locator('[data-table=scripts] td', { hasText: 'e2e-hours' }).waitFor();
    expect(await system.store.connection.db!.collection('scripts').findOne({ key: 'e2e-hours' })).toMatchObject({ title: '营业时间', category: '常见问题' });

    await page.click('[data-nav=bot]');
    // The bot API is always mounted (demo mode runs the mock puppet), so the page shows its state.
    await page.locator('[data-bot-state]').first().waitFor();

    await page.click('[data-nav=channels]');
    await page.click('text=新建渠道');
    await page.locator('form[data-form=channel] input[name=state]').fill('e2e_flyer');
    await page.locator('form[data-form=channel] input[name=name]').fill('传单');
    await page.locator('form[data-form=channel] input[name=cost]').fill('250');
    await page.locator('form[data-form=channel] input[name=reps]').fill('zhangwei');
    await page.click('form[data-form=channel] button[type=submit]');
    // The simulator's QR URL is not an image: the page draws the QR itself.
    await page.locator('[data-table=channels] img[alt=e2e_flyer][src^="data:image/png"]').waitFor();
    expect(await system.store.connection.db!.collection('channels').findOne({ state: 'e2e_flyer' })).toMatchObject({ name: '传单', cost: 250, qrCode: expect.stringMatching(/^https:/) });
    // The QR code came from WeCom's add_contact_way, carrying the channel's state.
    expect(system.simulator!.calls('/externalcontact/add_contact_way').at(-1)!.body).toMatchObject({ state: 'e2e_flyer', user: ['zhangwei'], scene: 2 });
  });

  it('records a channel’s spend by month on the Channels page (last day inclusive on the page)', async () => {
    await page.click('[data-nav=channels]');
    await page.click('text=新建渠道');
    await page.locator('form[data-form=channel] input[name=state]').fill('e2e_ads');
    await page.locator('form[data-form=channel] input[name=name]').fill('信息流');
    await page.click('[data-action=add-cost]');
    const row = page.locator('[data-cost-row]').first();
    await row.locator('input[name=costFrom]').fill('2026-11-01');
    await row.locator('input[name=costTo]').fill('2026-11-30');
    await row.locator('input[name=costAmount]').fill('3000');
    await row.locator('input[name=costNote]').fill('11 月');
    await page.click('form[data-form=channel] button[type=submit]');
    await page.locator('[data-table=channels] td[data-field=cost]:has-text("1 笔，共 3000 元")').waitFor();
    // Stored with `to` exclusive: the day after the last day the operator entered.
    expect(await system.store.connection.db!.collection('channels').findOne({ state: 'e2e_ads' })).toMatchObject({
      costs: [{ from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-12-01T00:00:00Z'), amount: 3000, note: '11 月' }],
    });
  });
});
