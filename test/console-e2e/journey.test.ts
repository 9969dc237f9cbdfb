import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { DateTime } from 'luxon';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { System } from '../../server/src/main.ts';
import { launchChromium } from '../support/browser.ts';
import { startDemoSystem, type DemoSystem } from '../support/demo-system.ts';
import { eventually } from '../support/eventually.ts';
import { morningClock, openConsolePage, textUntil } from '../support/e2e.ts';

/**
 * Issue 13, first "Done when": a journey written from scratch on the console's journey editor
 * (新客添加 via one channel → 欢迎语 with {{name}} → wait 2 days → branch on replied → a different
 * 群发 in each lane → rep task) runs for a demo customer added through that channel, with the SOP
 * engine's clock moved past the wait, and the plan page shows each step's outcome.
 */

const DAY = 86_400_000;
const ZONE = 'Asia/Shanghai';
/** A demo 联系我 channel (server/src/demo) and the demo rep its QR code belongs to (wecom-simulator demo-seed). */
const CHANNEL = 'baidu_sem';
const REP = 'liuyang';
const CUSTOMER = 'E2E 测试新客';
const JOURNEY_NAME = 'E2E 百度新客旅程';
const WELCOME_TAIL = '您好，欢迎了解我们的私域运营系统！';
const WELCOME_TEXT = `{{name}}${WELCOME_TAIL}`;
const YES_TEXT = '感谢回复！这是为您准备的专业版方案（是）。';
const NO_TEXT = '好久没收到您的消息，送您一份上手指南（否）。';
const TASK_TITLE = '电话回访百度新客';

/** Two days and a minute after its start the clock is still mid-morning, out of the journey's quiet hours. */
const clock = morningClock(ZONE);

let demo: DemoSystem;
let system: System;
let browser: Browser;
let page: Page;
const dialogs: string[] = [];
const browserErrors: string[] = [];

beforeAll(async () => {
  demo = await startDemoSystem('journey-e2e', { now: clock.now });
  system = demo.system;
  browser = await launchChromium();
  // An operator in China writes the journey.
  page = await openPage(ZONE);
}, 60_000);

// The editor asks with window.confirm only when deleting a branch or leaving unsaved work: neither should happen here.
const openPage = (timezoneId: string): Promise<Page> => openConsolePage(browser, { timezoneId, dialogs, errors: browserErrors, confirm: 'dismiss' });

afterAll(async () => {
  await browser?.close();
  await demo?.dispose();
});

const text = async (target: string | Locator) => {
  const locator = typeof target === 'string' ? page.locator(target).first() : target;
  return ((await locator.textContent({ timeout: 20_000 })) ?? '').trim();
};
const sidePanel = () => page.locator('[data-side-panel]');
/** The step the side panel shows: adding a step selects it. */
const panelStep = async () => (await sidePanel().locator('[data-panel]').getAttribute('data-panel', { timeout: 20_000 }))!;

async function addStep(lane: string, type: string): Promise<string> {
  await page.locator(`[data-action="add-step"][data-lane="${lane}"]`).click();
  await page.locator(`[data-add-menu="${lane}"] [data-add-type="${type}"]`).click();
  const id = await panelStep();
  await page.locator(`[data-lane="${lane}"] > [data-step="${id}"]`).waitFor();
  expect(await page.locator(`[data-step="${id}"]`).getAttribute('data-step-type')).toBe(type);
  return id;
}

interface MessageBody {
  welcome_code?: string;
  external_userid?: string[];
  sender?: string;
  text?: { content?: string };
}
const callsTo = (api: string) => system.simulator!.calls(api).map((c) => ({ errcode: c.errcode, body: c.body as MessageBody }));

describe('a journey written on the console editor runs for a customer added through its channel', () => {
  let planId = '';
  let welcomeId = '';
  let branchId = '';
  let yesId = '';
  let noId = '';
  let taskId = '';
  let externalUserId = '';

  it('builds the journey from scratch on the page, with counter, preview, test send and a step error, and enables it', async () => {
    await page.goto(`${system.url}/console/#/sop`);
    // The built-in 新客欢迎 greets every new contact; this journey sends its own welcome, and a welcome
    // code can be used once, so the operator switches the built-in one off first (on the SOP page).
    const builtIn = page.locator('[data-table=plans] tbody tr', { hasText: '（内置）' });
    await textUntil(builtIn.locator('.badge'), (s) => s === '已启用', 'the built-in welcome plan listed as enabled');
    await builtIn.getByRole('button', { name: '停用' }).click();
    await textUntil(builtIn.locator('.badge'), (s) => s === '已停用', 'the built-in welcome plan to show as disabled');

    await page.click('[data-action="new-journey"]');
    await page.locator('[data-journey-editor]').waitFor();
    await page.locator('[data-field="journey-name"]').fill(JOURNEY_NAME);

    // The trigger: 新客添加 through the 百度推广落地页 channel only.
    await page.click('[data-flow-start]');
    await page.click('[data-action="pick-trigger"][data-trigger-type="contact_added"]');
    await page.locator(`[data-channel="${CHANNEL}"]`).check();
    expect(await text('[data-trigger-words]')).toContain('百度推广落地页');

    // Step 1, the 欢迎语 a new journey starts with: reworded, {{name}} put in through the variable menu.
    const welcome = page.locator('[data-lane="main"] > [data-step-type="send_welcome"]');
    await welcome.click();
    welcomeId = await panelStep();
    const box = sidePanel().locator('[data-field="text"]');
    await box.fill(WELCOME_TAIL);
    await box.press('Control+Home');
    await sidePanel().locator('[data-action="insert-variable"]').selectOption('name');
    expect(await box.inputValue()).toBe(WELCOME_TEXT);
    expect(await text(sidePanel().locator('[data-counter]'))).toBe(`${WELCOME_TEXT.length} / 4000 字`);

    // The live preview, for a real demo customer found by name, rendered by the engine's renderer.
    const sunli = await system.store.connection.db!.collection<{ externalUserId: string; name: string }>('contacts').findOne({ name: '孙丽' });
    const sunliRelation = await system.store.connection.db!.collection<{ remark?: string }>('follow_relations').findOne({ externalUserId: sunli!.externalUserId });
    // The rep's remark (备注名) is a private note: the preview greets the customer by her own name.
    expect(sunliRelation?.remark).toBeTruthy();
    const previewFor = sidePanel().locator('[data-field="preview-for"]');
    await previewFor.fill('孙丽');
    const option = sidePanel().locator(`[data-contact-options] [data-contact-option="${sunli!.externalUserId}"]`);
    expect(await text(option)).toContain('孙丽');
    await option.click();
    expect(await previewFor.inputValue()).toContain('孙丽');
    expect(await previewFor.getAttribute('data-chosen')).toBe(sunli!.externalUserId);
    const sunliName = sunli!.name;
    await textUntil(sidePanel().locator('[data-preview]'), (s) => s === `${sunliName}${WELCOME_TAIL}`, 'the preview rendered for 孙丽');

    // 测试发送: the content as it is now, to the signed-in operator's WeCom (a demo rep in demo mode).
    await sidePanel().locator('[data-action="test-send"]').click();
    const sent = await textUntil(sidePanel().locator('[data-test-send-result]'), (s) => s.startsWith('已发送到 '), 'the test send to be confirmed');
    const recipient = sent.slice('已发送到 '.length).trim();
    const received = system.simulator!.appMessages(recipient).filter((m) => m.msgtype === 'text' && m.text?.content?.endsWith(WELCOME_TAIL));
    expect(received, `app messages of ${recipient}`).toHaveLength(1);

    // Wait 2 days, then branch on whether the customer replied.
    branchId = await addStep('main', 'branch');
    await sidePanel().locator('[data-field="after-days"]').fill('2');
    await sidePanel().locator('[data-field="condition"]').selectOption('replied');
    // The operator is told what "replied" counts here: the sidebar's tap always, no chat archive in the demo.
    expect(await sidePanel().locator('[data-reply-sources]').textContent()).toMatch(/^「回复过」计入：.*侧边栏「客户已回复」.*；未接入：.*会话存档/);
    expect(await text(`[data-wait="${branchId}"]`)).toContain('2');

    // A different 群发 in each lane; the 否 lane's text is left empty for now.
    yesId = await addStep(`${branchId}:yes`, 'mass_send');
    await sidePanel().locator('[data-field="text"]').fill(YES_TEXT);
    noId = await addStep(`${branchId}:no`, 'mass_send');
    expect(noId).not.toBe(yesId);

    // The lanes rejoin at a rep task, due right after whichever send ran.
    taskId = await addStep('main', 'rep_task');
    await sidePanel().locator('[data-field="task-title"]').fill(TASK_TITLE);
    expect(await sidePanel().locator('[data-field="after-days"]').inputValue()).toBe('');
    expect(await page.locator(`[data-lane="${branchId}:yes"] [data-step]`).count()).toBe(1);
    expect(await page.locator(`[data-lane="${branchId}:no"] [data-step]`).count()).toBe(1);
    expect(await page.locator('[data-unsaved]').count()).toBe(1);

    // Saving with the empty text: the server's problem shows on the 否 lane's step, which gets selected.
    await page.click('[data-action="save-journey"]');
    expect(await text('[data-save-error]')).toBe('还有 1 处需要修改，已在对应步骤上标出');
    expect(await text(`[data-step="${noId}"] [data-step-error]`)).toBe('不能为空');
    expect(await page.locator('[data-step-error]').count()).toBe(1);
    expect(await panelStep()).toBe(noId);
    expect(await text(sidePanel().locator('[data-error="text"]'))).toBe('不能为空');
    expect(await system.sop.models.Plan.countDocuments({ name: JOURNEY_NAME })).toBe(0);

    await sidePanel().locator('[data-field="text"]').fill(NO_TEXT);
    // Fixing the field takes its mark away, and with it the last one, the banner.
    await page.locator(`[data-step="${noId}"] [data-step-error]`).waitFor({ state: 'detached', timeout: 5_000 });
    await page.locator('[data-save-error]').waitFor({ state: 'detached', timeout: 5_000 });
    expect(await sidePanel().locator('[data-error="text"]').count()).toBe(0);
    await page.click(`[data-step="${welcomeId}"]`);
    await textUntil(sidePanel().locator('[data-preview]'), (s) => s === `${sunliName}${WELCOME_TAIL}`, 'the preview shown again for the welcome');
    await mkdir('test-results', { recursive: true });
    await page.screenshot({ path: path.join('test-results', 'journey-editor.png'), fullPage: true });

    // Saved: the plan page opens; the operator switches the plan on there.
    await page.click('[data-action="save-journey"]');
    await page.waitForURL(/#\/sop\/[0-9a-f]{24}$/, { timeout: 20_000 });
    planId = /#\/sop\/([0-9a-f]{24})$/.exec(page.url())![1]!;
    expect(await text('[data-plan-name]')).toBe(JOURNEY_NAME);
    expect(await text('[data-plan-version]')).toBe('v1');
    await page.click('[data-action="toggle"]');
    await textUntil(page.locator('[data-action="toggle"]'), (s) => s === '停用', 'the plan page to offer 停用 once enabled');

    const plan = await system.sop.models.Plan.findById(planId).lean();
    expect(plan).toMatchObject({ enabled: true, name: JOURNEY_NAME, template: { trigger: { type: 'contact_added', channels: [CHANNEL] } } });
    const steps = plan!.template.steps;
    expect(steps[0]).toMatchObject({ id: welcomeId, type: 'send_welcome', content: { text: WELCOME_TEXT } });
    expect(steps.find((s) => s.id === branchId)).toMatchObject({ type: 'branch', if: { replied: true }, then: yesId, else: noId, after: { days: 2 } });
    expect(steps.find((s) => s.id === yesId)).toMatchObject({ type: 'mass_send', content: { text: YES_TEXT } });
    expect(steps.find((s) => s.id === noId)).toMatchObject({ type: 'mass_send', content: { text: NO_TEXT } });
    expect(steps.find((s) => s.id === taskId)).toMatchObject({ type: 'rep_task', title: TASK_TITLE });
    expect(steps.find((s) => s.id === taskId)).not.toHaveProperty('after');
    expect(dialogs).toEqual([]);
  }, 120_000);

  it('welcomes a customer added through the channel by name, then after 2 days sends the 否 lane and creates the task', async () => {
    expect(planId, 'the journey was saved by the previous test').not.toBe('');
    const scan = system.simulator!.scanChannelQr({ customer: { name: CUSTOMER }, userid: REP, state: CHANNEL });
    externalUserId = scan.contact.externalUserid;
    const delivery = await system.simulator!.sendCallback(`${system.url}/wecom/callback`, scan.event);
    expect(delivery.status).toBe(200);

    const welcome = await eventually(
      async () => callsTo('/externalcontact/send_welcome_msg').find((c) => c.body.welcome_code === scan.welcomeCode && c.errcode === 0) ?? null,
      `send_welcome_msg with the welcome code of ${CUSTOMER}`,
      20_000,
    );
    expect(welcome.body.text?.content).toBe(`${CUSTOMER}${WELCOME_TAIL}`);
    expect(callsTo('/externalcontact/send_welcome_msg').filter((c) => c.body.welcome_code === scan.welcomeCode)).toHaveLength(1);

    // The branch waits two days after the welcome, on the SOP clock.
    const { Job, Enrollment } = system.sop.models;
    const branchJob = await eventually(() => Job.findOne({ planId, targetId: externalUserId, stepId: branchId }).lean(), 'the branch job to be scheduled');
    const enrollment = await Enrollment.findOne({ planId, targetId: externalUserId }).lean();
    expect(branchJob.status).toBe('pending');
    expect(branchJob.dueAt.getTime() - enrollment!.enrolledAt.getTime()).toBeGreaterThanOrEqual(2 * DAY);
    expect(callsTo('/externalcontact/add_msg_template')).toHaveLength(0);

    clock.advance(2 * DAY + 60_000);
    const massSend = await eventually(
      async () => callsTo('/externalcontact/add_msg_template').find((c) => c.body.external_userid?.includes(externalUserId)) ?? null,
      'the 否 lane mass send after the clock moved past 2 days',
      20_000,
    );
    expect(massSend.body).toMatchObject({ sender: REP, text: { content: NO_TEXT } });
    const task = await eventually(
      () => system.store.connection.db!.collection<{ externalUserId: string; title: string; userId: string }>('rep_tasks').findOne({ externalUserId, title: TASK_TITLE }),
      'the rep task for the customer',
      20_000,
    );
    expect(task.userId).toBe(REP);
    await eventually(async () => ((await Enrollment.findOne({ planId, targetId: externalUserId }).lean())?.status === 'completed' ? true : null), 'the enrolment to complete');

    // The customer never replied: the 是 lane's text was never sent, and nothing went twice.
    const all = callsTo('/externalcontact/add_msg_template');
    expect(all.filter((c) => c.body.text?.content === YES_TEXT)).toHaveLength(0);
    expect(all.filter((c) => c.body.external_userid?.includes(externalUserId))).toHaveLength(1);
    const jobs = await Job.find({ planId, targetId: externalUserId }).lean();
    expect(jobs.map((j) => j.stepId).sort()).toEqual([welcomeId, branchId, noId, taskId].sort());
    expect(jobs.every((j) => j.status === 'done' && j.version === 1 && j.attempts === 1)).toBe(true);
  }, 90_000);

  it('shows each step’s name, outcome and version on the plan page, in words and in the plan’s time zone', async () => {
    expect(externalUserId, 'the customer was enrolled by the previous test').not.toBe('');
    // Opened from an office abroad: the times must still be the plan's (Shanghai), not the browser's.
    await page.close();
    page = await openPage('America/New_York');
    await page.goto(`${system.url}/console/#/sop/${planId}`);
    const plan = await system.sop.models.Plan.findById(planId).lean();
    expect(plan!.timeZone).toBe(ZONE);
    const nameOf = (stepId: string) => plan!.template.steps.find((s) => s.id === stepId)?.name ?? '';
    const jobs = await system.sop.models.Job.find({ planId, targetId: externalUserId }).lean();
    const row = (stepId: string) => page.locator(`[data-table=jobs] [data-job-row][data-job-step="${stepId}"]`);
    await row(taskId).waitFor({ timeout: 20_000 });
    expect(await text(page.locator('[data-table=jobs] [data-jobs-zone]'))).toBe(`计划时间（${ZONE}）`);
    const expected: Array<[string, string, string]> = [
      [welcomeId, 'sent', '已发送'],
      // The customer never replied: the row says which lane the branch took.
      [branchId, 'branched', '条件不成立，走「否」'],
      [noId, 'sent', '已发送'],
      [taskId, 'task_created', '已建跟进任务'],
    ];
    for (const [stepId, outcome, words] of expected) {
      const cells = row(stepId).locator('td');
      expect(await row(stepId).count(), `one row for ${stepId}`).toBe(1);
      expect(await cells.count()).toBe(9);
      expect(nameOf(stepId), `the editor named ${stepId}`).not.toBe('');
      expect(await text(cells.nth(0))).toBe(nameOf(stepId));
      expect(await cells.nth(0).getAttribute('title')).toBe(stepId);
      expect(await text(row(stepId).locator('[data-job-version]'))).toBe('v1');
      expect(await text(cells.nth(2))).toBe(externalUserId);
      expect(await text(cells.nth(3))).toBe('已完成');
      expect(await cells.nth(3).getAttribute('title')).toBe('done');
      expect(await row(stepId).getAttribute('data-job-outcome')).toBe(outcome);
      expect(await text(cells.nth(4)), `outcome of ${stepId}`).toBe(words);
      expect(await cells.nth(4).getAttribute('title')).toBe(outcome);
      const dueAt = jobs.find((j) => j.stepId === stepId)!.dueAt;
      expect(await text(cells.nth(6))).toBe(DateTime.fromJSDate(dueAt, { zone: ZONE }).toFormat('yyyy-MM-dd HH:mm'));
    }
    expect(await row(yesId).count()).toBe(0);
    expect(await page.locator('[data-table=jobs] [data-job-row]').count()).toBe(expected.length);
    // The mass send waits for the rep to confirm it in WeCom: the page says so.
    expect(await text(row(noId).locator('td').nth(8))).not.toBe('—');
    await page.screenshot({ path: path.join('test-results', 'journey-plan.png'), fullPage: true });
    expect(dialogs).toEqual([]);
    expect(browserErrors).toEqual([]);
  }, 60_000);
});
