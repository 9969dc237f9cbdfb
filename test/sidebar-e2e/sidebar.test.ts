import { mkdir } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { System } from '../../server/src/main.ts';
import { launchChromium } from '../support/browser.ts';
import { startDemoSystem, type DemoSystem } from '../support/demo-system.ts';
import { eventually } from '../support/eventually.ts';

let demo: DemoSystem;
let system: System;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  demo = await startDemoSystem('sidebar-e2e');
  system = demo.system;
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 400, height: 860 }, locale: 'zh-CN' });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await demo?.dispose();
});

const db = () => system.store.connection.db!;

describe('the sidebar in a real browser, demo mode', () => {
  it('signs a demo rep in and shows the profile of one of their customers', async () => {
    await page.goto(`${system.url}/sidebar/`);
    const name = (await page.locator('[data-test=customer-name]').textContent({ timeout: 15_000 }))!.trim();
    const contact = await db().collection('contacts').findOne({ name });
    expect(contact).not.toBeNull();
    const relation = await db().collection('follow_relations').findOne({ externalUserId: contact!.externalUserId });
    expect(relation!.userId).toBe('zhangwei');
    expect(new URL(page.url()).searchParams.get('customer')).toBe(contact!.externalUserId);
    await expect(page.locator('[data-test=score]').textContent()).resolves.toMatch(/^\s*\d+\s*$/);
    await expect(page.locator('[data-test=profile]').textContent()).resolves.toContain(relation!.remark);
  });

  it('records 客户已回复 with one tap, on the timeline with the rep', async () => {
    const externalUserId = new URL(page.url()).searchParams.get('customer')!;
    await page.click('[data-test=mark-replied]');
    await page.locator('[data-test=replied-at]').waitFor();
    expect(await page.locator('[data-test=replied-at]').textContent()).toMatch(/^已记录回复 /);
    expect(await db().collection('timeline_events').findOne({ externalUserId, kind: 'replied' })).toMatchObject({ userId: 'zhangwei', data: { source: 'sidebar_mark' } });
  });

  it('toggles a tag: written to WeCom with mark_tag and to the store', async () => {
    const externalUserId = new URL(page.url()).searchParams.get('customer')!;
    const douyin = (await db().collection('tags').findOne({ name: '抖音' }))!.tagId as string;
    await page.click('[data-test=tab-tags]');
    const chip = page.locator('[data-tag="抖音"]');
    await chip.waitFor();
    expect(await chip.getAttribute('aria-pressed')).toBe('false');
    await chip.click();
    await page.locator('[data-tag="抖音"][aria-pressed=true]').waitFor();

    const relation = await db().collection('follow_relations').findOne({ externalUserId, userId: 'zhangwei' });
    expect(relation!.tagIds).toContain(douyin);
    const calls = system.simulator!.calls('/externalcontact/mark_tag').map((c) => c.body as { external_userid: string; add_tag: string[] });
    expect(calls.some((c) => c.external_userid === externalUserId && c.add_tag.includes(douyin))).toBe(true);
  });

  it('sends the top script through the dev bridge, filled in, and records the use', async () => {
    const externalUserId = new URL(page.url()).searchParams.get('customer')!;
    await page.click('[data-test=tab-scripts]');
    const first = page.locator('[data-test=scripts] > li').first();
    await first.waitFor();
    const shown = (await first.locator('.text').textContent())!;
    expect(shown).not.toContain('{{');
    await first.locator('[data-test=send]').click();
    // The dev bridge's record of sent messages (declared in sidebar/src/sidebar/bridge.ts, not visible to this tsconfig).
    const sent = await page.waitForFunction(() => (window as unknown as { __devBridgeSent?: unknown[] }).__devBridgeSent?.[0] ?? null);
    const message = (await sent.jsonValue()) as { text: string; to: { kind: string; externalUserId: string } };
    expect(message.text).toBe(shown);
    expect(message.to).toEqual({ kind: 'contact', externalUserId });
    const usage = await eventually(() => db().collection('script_usages').findOne({ externalUserId, action: 'send' }), 'script usage');
    expect(usage.userId).toBe('zhangwei');
    await page.locator('[data-test=scripts] > li').first().locator('text=已发送').waitFor();
    // A script's link attachments follow its text as link cards.
    const withLinks = page.locator('[data-test=scripts] > li', { has: page.locator('.attachments a') }).first();
    const links = await withLinks.locator('.attachments a').evaluateAll((anchors) => anchors.map((a) => (a as HTMLAnchorElement).href));
    expect(links.length).toBeGreaterThan(0);
    const before = await page.evaluate(() => (window as unknown as { __devBridgeSent: unknown[] }).__devBridgeSent.length);
    await withLinks.locator('[data-test=send]').click();
    const sentAfter = await page.waitForFunction(
      (n) => {
        const all = (window as unknown as { __devBridgeSent?: Array<{ link?: { url: string } }> }).__devBridgeSent ?? [];
        return all.length >= n ? all : null;
      },
      before + 1 + links.length,
    );
    const all = (await sentAfter.jsonValue()) as Array<{ text?: string; link?: { url: string } }>;
    expect(all.slice(before + 1).map((m) => m.link?.url)).toEqual(links);

    await mkdir('test-results', { recursive: true });
    await page.screenshot({ path: 'test-results/sidebar.png', fullPage: true });
  });

  it("shows a group chat's profile and sends a script to the group", async () => {
    const group = (await db().collection('customer_groups').findOne({ owner: 'zhangwei' }))!;
    await page.goto(`${system.url}/sidebar/?group=${group.chatId}`);
    await page.locator('[data-test=group]').waitFor();
    const text = (await page.locator('[data-test=group]').textContent())!;
    expect(text).toContain(group.name);
    expect(text).toContain('张伟');
    await page.locator('[data-test=scripts] [data-test=send]').first().click();
    const sent = await page.waitForFunction(() => (window as unknown as { __devBridgeSent?: unknown[] }).__devBridgeSent?.[0] ?? null);
    expect(((await sent.jsonValue()) as { to: unknown }).to).toEqual({ kind: 'group', chatId: group.chatId });
    await eventually(() => db().collection('script_usages').findOne({ chatId: group.chatId, action: 'send' }), 'group script usage');
    await page.screenshot({ path: 'test-results/sidebar-group.png' });
  });

  it("shows 我的待办 across the rep's customers, opens a task's customer and finishes a task", async () => {
    // The demo gives zhangwei one task; one more, later, on another of his customers.
    const demoTask = (await db().collection('rep_tasks').findOne({ userId: 'zhangwei', status: 'open' }))!;
    const other = (await db().collection('follow_relations').findOne({ userId: 'zhangwei', externalUserId: { $ne: demoTask.externalUserId } }))!;
    const later = new Date(demoTask.dueAt.getTime() + 86_400_000);
    await db().collection('rep_tasks').insertOne({ key: 'e2e-inbox', externalUserId: other.externalUserId, userId: 'zhangwei', title: '约下周演示', detail: '', dueAt: later, status: 'open', source: {}, remindAt: later });
    const open = await db().collection('rep_tasks').find({ userId: 'zhangwei', status: 'open' }).sort({ dueAt: 1 }).toArray();
    expect(open.length).toBe(2);
    await page.goto(`${system.url}/sidebar/`);
    await page.locator('[data-test=customer-name]').waitFor();
    await page.click('[data-test=inbox-toggle]');
    const items = page.locator('[data-test=inbox] [data-test=tasks] > li');
    await items.first().waitFor();
    expect(new URL(page.url()).searchParams.get('view')).toBe('tasks');
    expect(await items.count()).toBe(open.length);
    const first = open[0]!;
    const customer = (await db().collection('contacts').findOne({ externalUserId: first.externalUserId }))!;
    expect(await items.first().textContent()).toContain(customer.name);
    expect(await items.first().textContent()).toContain(first.title);
    await page.screenshot({ path: 'test-results/sidebar-inbox.png' });

    await items.first().locator('button.primary').click();
    await eventually(async () => (await db().collection('rep_tasks').findOne({ _id: first._id }))?.status === 'done' || null, 'task done from the inbox');
    await eventually(async () => ((await items.count()) === open.length - 1) || null, 'finished task leaves the inbox');

    const next = open[1]!;
    await items.first().locator('[data-test=open-customer]').click();
    await page.locator('[data-test=customer-name]').waitFor();
    expect(new URL(page.url()).searchParams.get('customer')).toBe(next.externalUserId);
    expect(await page.locator('[data-test=inbox]').count()).toBe(0);
  });
});
