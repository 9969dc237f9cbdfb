import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { System } from '../../server/src/main.ts';
import { launchChromium } from '../support/browser.ts';
import { startDemoSystem, type DemoSystem } from '../support/demo-system.ts';
import { eventually } from '../support/eventually.ts';
import { openConsolePage, textUntil } from '../support/e2e.ts';

/** The demo's WeCom customer group (wecom-simulator demo-seed). */
const GROUP = '云帆客户企业版交流群';

let demo: DemoSystem;
let system: System;
let browser: Browser;
let page: Page;
const dialogs: string[] = [];
const browserErrors: string[] = [];

beforeAll(async () => {
  demo = await startDemoSystem('group-welcome-e2e');
  system = demo.system;
  browser = await launchChromium();
  page = await openConsolePage(browser, { timezoneId: 'Asia/Shanghai', dialogs, errors: browserErrors, confirm: 'accept' });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await demo?.dispose();
});

describe('入群欢迎语 on the Groups page', () => {
  it('saves a group welcome with the nickname placeholder, and WeCom gets the template', async () => {
    await page.goto(`${system.url}/console/#/groups`);
    const row = page.locator('[data-table=groups] tr', { hasText: GROUP });
    const editor = row.locator('[data-group-welcome]');
    await editor.waitFor({ timeout: 20_000 });
    expect((await editor.locator('[data-welcome-status]').textContent())?.trim()).toBe('未设置');
    expect(await page.locator('section.card').first().textContent()).toContain('群主在企业微信的群设置里选用该欢迎语');

    await editor.locator('[data-welcome-text]').fill('欢迎 ');
    await editor.locator('[data-insert-nickname]').click();
    await editor.locator('[data-welcome-text]').press('End');
    await editor.locator('[data-welcome-text]').pressSequentially(' 加入企业版交流群！');
    await editor.locator('[data-welcome-save]').click();
    await textUntil(editor.locator('[data-welcome-note]'), (seen) => seen === '已保存到企业微信', 'the save note');
    await textUntil(editor.locator('[data-welcome-status]'), (seen) => seen === '已设置', 'the welcome status');

    const chatId = (await row.getAttribute('data-group'))!;
    const stored = await eventually(() => system.store.connection.collection('group_welcomes').findOne({ chatId }), 'the stored welcome');
    const template = system.simulator!.state.groupWelcomeTemplates.get(String(stored.templateId));
    expect(template).toMatchObject({ text: { content: '欢迎 %NICKNAME% 加入企业版交流群！' }, notify: 1 });
    expect(system.simulator!.calls('/externalcontact/group_welcome_template/add')).toHaveLength(1);
    expect(browserErrors).toEqual([]);
  });
});
