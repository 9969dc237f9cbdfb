import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { System } from '../../server/src/main.ts';
import { launchChromium } from '../support/browser.ts';
import { startDemoSystem, type DemoSystem } from '../support/demo-system.ts';
import { eventually } from '../support/eventually.ts';
import { morningClock, openConsolePage, textUntil } from '../support/e2e.ts';

/**
 * Issue 14, second "Done when": in Chromium, against the whole demo system, the operator filters
 * customers by a channel, saves the filter as a segment, bulk-tags the segment (the tag reaches WeCom
 * through mark_tag, once per relation), sends a one-off 群发 to it (one add_msg_template per rep, with
 * exactly that rep's customers of the segment), and, once the reps confirmed in WeCom, sees the
 * per-rep results read back on the 群发's page.
 */

const ZONE = 'Asia/Shanghai';
/** The demo's 上海零售展 channel (server/src/demo): 3 of the 8 demo customers, of two reps (wecom-simulator demo-seed). */
const CHANNEL = 'expo_sh_2024';
/** A 意向产品 tag the operator puts on everyone met at the expo. */
const TAG = '私有化部署';
const SEGMENT_NAME = 'E2E 上海零售展客户';
const MASS_NAME = 'E2E 展会客户周五优惠';
const MASS_TEXT = '您好，我是{{rep}}。本周五展会客户专享私有化部署限时优惠，欢迎回复了解详情。';
const MINUTE = 60_000;

/** Out of quiet hours, so the 群发 goes at once; moving it past the read-back interval (10 min) makes the worker read WeCom's results now. */
const clock = morningClock(ZONE);

let demo: DemoSystem;
let system: System;
let browser: Browser;
let page: Page;
const dialogs: string[] = [];
const browserErrors: string[] = [];

beforeAll(async () => {
  demo = await startDemoSystem('crm-e2e', { now: clock.now });
  system = demo.system;
  browser = await launchChromium();
  // Confirm dialogs (window.confirm) are accepted, and recorded.
  page = await openConsolePage(browser, { timezoneId: ZONE, dialogs, errors: browserErrors, confirm: 'accept' });
  await mkdir('test-results', { recursive: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await demo?.dispose();
});

const exactly = (expected: string | number) => (seen: string) => seen === String(expected);

interface Relation {
  externalUserId: string;
  userId: string;
  state: string | null;
  status: string;
  tagIds: string[];
}
interface MarkTagBody {
  userid?: string;
  external_userid?: string;
  add_tag?: string[];
  remove_tag?: string[];
}
interface AddTemplateBody {
  chat_type?: string;
  sender?: string;
  external_userid?: string[];
  text?: { content?: string };
}
const db = () => system.store.connection.db!;
const relations = () => db().collection<Relation>('follow_relations');
const callsTo = <T>(api: string) => system.simulator!.calls(api).map((c) => ({ errcode: c.errcode, body: c.body as T }));
const relationKey = (externalUserId: string, userId: string) => `${externalUserId}|${userId}`;

describe('customers → segment → bulk tag → 群发 → per-rep results, in the console', () => {
  /** The expo customers, as the store has them: externalUserId → the reps they are related to. */
  let expected = new Map<string, string[]>();
  let segmentId = '';
  let tagId = '';
  let massSendId = '';

  it('filters customers by a channel; the total is the store’s; saves the filter as a segment with the same count', async () => {
    // What the store says: the customers whose (first, here only) relation came through the expo.
    const all = await relations().find({}).toArray();
    const contacts = new Set(all.map((r) => r.externalUserId));
    const expo = all.filter((r) => r.state === CHANNEL);
    for (const r of expo) expected.set(r.externalUserId, [...(expected.get(r.externalUserId) ?? []), r.userId]);
    // A filter with a real effect: some, not all, customers came through it, and over more than one rep.
    expect(expected.size).toBeGreaterThan(1);
    expect(expected.size).toBeLessThan(contacts.size);
    expect(new Set(expo.map((r) => r.userId)).size).toBeGreaterThan(1);
    expect(await db().collection('contacts').countDocuments({ externalUserId: { $in: [...expected.keys()] } })).toBe(expected.size);

    await page.goto(`${system.url}/console/`);
    await page.click('[data-nav="customers"]');
    await page.locator('[data-filter-builder]').waitFor({ timeout: 20_000 });
    // Every customer in the pool, the demo's leads without a rep (contacts-to-be) too.
    const pool = await db().collection('contacts').countDocuments();
    expect(pool).toBeGreaterThan(contacts.size);
    await textUntil(page.locator('[data-customer-total]'), exactly(`共 ${pool} 位客户`), 'the unfiltered customer total');

    // The checkbox sits inside a chip (the input itself is hidden): the operator clicks the chip.
    const channel = page.locator(`[data-filter="channels"] [data-channel="${CHANNEL}"]`);
    await page.locator(`[data-filter="channels"] label:has([data-channel="${CHANNEL}"])`).click({ timeout: 20_000 });
    expect(await channel.isChecked()).toBe(true);
    await textUntil(page.locator('[data-customer-total]'), exactly(`共 ${expected.size} 位客户`), 'the total filtered by the expo channel');
    const rows = page.locator('[data-table="customers"] [data-customer]');
    await eventually(async () => ((await rows.count()) === expected.size ? true : null), `${expected.size} rows in the customer table`, 20_000);
    const shown = await rows.evaluateAll((els) => els.map((el) => el.getAttribute('data-customer') ?? ''));
    expect(shown.sort()).toEqual([...expected.keys()].sort());
    await page.screenshot({ path: path.join('test-results', 'crm-customers.png'), fullPage: true });

    await page.click('[data-action="save-segment"]');
    await page.locator('[data-field="segment-name"]').fill(SEGMENT_NAME);
    await page.click('[data-action="confirm-save-segment"]');
    await page.waitForURL(/#\/segments\/[0-9a-f]{24}$/, { timeout: 20_000 });
    segmentId = /#\/segments\/([0-9a-f]{24})$/.exec(page.url())![1]!;
    await page.locator('[data-segment-editor]').waitFor();
    await textUntil(page.locator('[data-segment-count]'), exactly(expected.size), 'the segment editor’s live count');
    const stored = await db().collection<{ name: string; filter: { channels?: string[] } }>('segments').findOne({ name: SEGMENT_NAME });
    expect(stored?.filter.channels).toEqual([CHANNEL]);

    // The segments list shows it with the same count.
    await page.click('[data-nav="segments"]');
    const listed = page.locator(`[data-table="segments"] [data-segment="${segmentId}"]`);
    await textUntil(listed.locator('[data-segment-list-count]'), exactly(expected.size), 'the segment’s count in the list');
  }, 90_000);

  it('bulk-tags the segment: mark_tag carries the tag for exactly the segment’s relations, once each', async () => {
    expect(segmentId, 'the segment was saved by the previous test').not.toBe('');
    const tag = await db().collection<{ tagId: string; name: string }>('tags').findOne({ name: TAG });
    expect(tag, `the demo tag ${TAG}`).not.toBeNull();
    tagId = tag!.tagId;
    const before = callsTo<MarkTagBody>('/externalcontact/mark_tag').length;

    const listed = page.locator(`[data-table="segments"] [data-segment="${segmentId}"]`);
    await listed.locator('[data-action="edit-segment"]').click();
    await page.locator('[data-segment-editor]').waitFor();
    await textUntil(page.locator('[data-segment-count]'), exactly(expected.size), 'the segment editor’s live count');
    await page.click('[data-action="bulk-tag"]');
    await page.locator('[data-tag-picker="bulk-add"] [data-action="add-tag"]').selectOption(TAG);
    await page.locator(`[data-tag-picker="bulk-add"] [data-tag-chip="${TAG}"]`).waitFor({ timeout: 5_000 });
    await page.click('[data-action="start-bulk-tag"]');
    await page.locator('[data-bulk-progress]').waitFor({ timeout: 20_000 });
    await page.locator('[data-bulk-finished]').waitFor({ timeout: 30_000 });
    expect(await page.locator('[data-bulk-progress]').getAttribute('data-status')).toBe('done');
    expect(await page.locator('[data-bulk-errors]').count()).toBe(0);
    // The members' preview reads their tags again once the job is done: every member now shows the tag.
    for (const externalUserId of expected.keys()) {
      await page.locator(`[data-segment-preview] [data-customer="${externalUserId}"]`, { hasText: TAG }).waitFor({ timeout: 20_000 });
    }
    await page.screenshot({ path: path.join('test-results', 'crm-segment-editor.png'), fullPage: true });

    const calls = callsTo<MarkTagBody>('/externalcontact/mark_tag').slice(before);
    const withTag = calls.filter((c) => c.body.add_tag?.includes(tagId));
    expect(withTag.every((c) => c.errcode === 0)).toBe(true);
    const marked = withTag.map((c) => relationKey(c.body.external_userid ?? '', c.body.userid ?? ''));
    const segmentRelations = [...expected].flatMap(([externalUserId, reps]) => reps.map((rep) => relationKey(externalUserId, rep)));
    expect(marked.sort()).toEqual(segmentRelations.sort());
    expect(calls).toHaveLength(withTag.length);
    // And the local mirror has the tag on those relations.
    const after = await relations().find({ externalUserId: { $in: [...expected.keys()] } }).toArray();
    expect(after.every((r) => r.tagIds.includes(tagId))).toBe(true);
  }, 90_000);

  it('sends a one-off 群发 to the segment: previewed per rep, one add_msg_template per rep with exactly that rep’s customers', async () => {
    expect(tagId, 'the segment was tagged by the previous test').not.toBe('');
    const perRep = new Map<string, string[]>();
    for (const [externalUserId, reps] of expected) for (const rep of reps) perRep.set(rep, [...(perRep.get(rep) ?? []), externalUserId]);
    const before = callsTo<AddTemplateBody>('/externalcontact/add_msg_template').length;

    await page.click('[data-action="mass-send-segment"]');
    await page.locator('[data-mass-compose]').waitFor({ timeout: 20_000 });
    await page.locator('[data-field="mass-name"]').fill(MASS_NAME);
    expect(await page.locator('[data-audience="segment"]').isChecked()).toBe(true);
    const chosen = page.locator('[data-field="audience-segment"]');
    await eventually(async () => ((await chosen.inputValue()) === segmentId && (await chosen.locator(`option[value="${segmentId}"]`).count()) === 1 ? true : null), 'the segment chosen as the audience', 20_000);
    await page.locator('[data-mass-compose] [data-field="text"]').fill(MASS_TEXT);

    await page.click('[data-action="preview-mass"]');
    const preview = page.locator('[data-mass-preview]');
    await preview.waitFor({ timeout: 20_000 });
    for (const [rep, customers] of perRep) {
      await textUntil(preview.locator(`[data-mass-rep="${rep}"] [data-mass-rep-count]`), exactly(customers.length), `the preview’s count for ${rep}`);
    }
    expect(await preview.locator('[data-mass-rep]').count()).toBe(perRep.size);
    expect(await preview.locator('[data-skip="none"]').count(), 'nobody left out (opt-out, cap, no relation, quiet hours)').toBe(1);

    await page.click('[data-action="send-mass"]');
    await page.waitForURL(/#\/mass-sends\/[0-9a-f]{24}$/, { timeout: 20_000 });
    massSendId = /#\/mass-sends\/([0-9a-f]{24})$/.exec(page.url())![1]!;
    await page.locator('[data-mass-detail]').waitFor();

    const sent = await eventually(async () => {
      const calls = callsTo<AddTemplateBody>('/externalcontact/add_msg_template').slice(before);
      return calls.length >= perRep.size ? calls : null;
    }, `one add_msg_template per rep (${perRep.size})`, 20_000);
    expect(sent).toHaveLength(perRep.size);
    const repNames = new Map([...perRep.keys()].map((rep) => [rep, system.simulator!.state.reps.get(rep)?.name ?? rep] as const));
    for (const call of sent) {
      const rep = call.body.sender ?? '';
      expect(call.errcode).toBe(0);
      expect(perRep.has(rep), `a task for a rep of the segment (${rep})`).toBe(true);
      expect(call.body.chat_type).toBe('single');
      expect([...(call.body.external_userid ?? [])].sort()).toEqual([...perRep.get(rep)!].sort());
      expect(call.body.text?.content).toBe(MASS_TEXT.replace('{{rep}}', repNames.get(rep)!));
    }
    const tasks = [...system.simulator!.state.massTasks.values()].filter((t) => t.text?.content?.includes('展会客户专享'));
    expect(tasks).toHaveLength(perRep.size);

    // Until the reps confirm in WeCom, every customer is pending.
    const totals = page.locator('[data-mass-totals]');
    await textUntil(totals.locator('[data-total="targets"] .value'), exactly(expected.size), 'the 群发 total of targets');
    await textUntil(totals.locator('[data-total="pending"] .value'), exactly(expected.size), 'every customer pending before the reps confirm');
  }, 90_000);

  it('reads back what WeCom reports once the reps confirmed, per rep and in total', async () => {
    expect(massSendId, 'the 群发 was sent by the previous test').not.toBe('');
    const msgids = new Map<string, string>();
    for (const task of system.simulator!.state.massTasks.values()) {
      if (task.creator && task.text?.content?.includes('展会客户专享')) msgids.set(task.creator, task.msgid);
    }
    expect(msgids.size, 'the 群发’s WeCom tasks, one per rep').toBeGreaterThan(1);
    // Every rep but the last confirms on their phone; the last one has not yet.
    const reps = [...msgids.keys()].sort();
    const waiting = reps.at(-1)!;
    const confirming = reps.slice(0, -1);
    for (const rep of confirming) system.simulator!.state.confirmMassSend(msgids.get(rep)!, rep);

    // The worker reads back every 10 minutes (its clock): move the clock past that, then the page is refreshed.
    clock.advance(11 * MINUTE);
    const perRep = new Map<string, number>();
    for (const reps of expected.values()) for (const rep of reps) perRep.set(rep, (perRep.get(rep) ?? 0) + 1);
    const sentTotal = confirming.reduce((n, rep) => n + perRep.get(rep)!, 0);
    const row = (rep: string) => page.locator(`[data-table="mass-reps"] [data-mass-rep="${rep}"]`);
    await eventually(async () => {
      await page.click('[data-action="refresh-mass"]');
      const seen = ((await row(confirming[0]!).locator('[data-col="sent"]').textContent({ timeout: 2_000 }).catch(() => '')) ?? '').trim();
      if (seen === String(perRep.get(confirming[0]!))) return true;
      await new Promise((resolve) => setTimeout(resolve, 500));
      return null;
    }, 'the read-back to show the confirmed rep’s sends', 30_000);

    for (const rep of confirming) {
      await textUntil(row(rep).locator('[data-col="sent"]'), exactly(perRep.get(rep)!), `${rep}: sent`);
      await textUntil(row(rep).locator('[data-col="pending"]'), exactly(0), `${rep}: pending`);
    }
    await textUntil(row(waiting).locator('[data-col="sent"]'), exactly(0), `${waiting}: sent`);
    await textUntil(row(waiting).locator('[data-col="pending"]'), exactly(perRep.get(waiting)!), `${waiting}: pending`);
    expect(await page.locator('[data-table="mass-reps"] [data-mass-rep]').count()).toBe(perRep.size);
    for (const rep of perRep.keys()) expect(await row(rep).locator('[data-col="targets"]').textContent()).toBe(String(perRep.get(rep)));
    const totals = page.locator('[data-mass-totals]');
    const expectedTotals = { targets: expected.size, sent: sentTotal, pending: expected.size - sentTotal, notFriend: 0, overLimit: 0, failed: 0 };
    for (const [key, value] of Object.entries(expectedTotals)) {
      await textUntil(totals.locator(`[data-total="${key}"] .value`), exactly(value), `the total ${key}`);
    }
    await page.screenshot({ path: path.join('test-results', 'crm-mass-send.png'), fullPage: true });
    expect(dialogs).toEqual([]);
    expect(browserErrors).toEqual([]);
  }, 90_000);
});
