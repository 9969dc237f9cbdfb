import mongoose, { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReviewItem } from '../../server/src/identity/index.ts';
import { startIdentityHarness, type IdentityHarness } from './harness.ts';

let h: IdentityHarness;
beforeAll(async () => {
  h = await startIdentityHarness();
});
afterAll(() => h?.close());

const at = new Date('2026-04-01T02:00:00Z');
const plan = new Types.ObjectId();
const otherPlan = new Types.ObjectId();
const ids = (values: string[]) => mongoose.trusted({ $in: values });

/** Two WeCom contacts of one person, each with relations (one rep shared), tags, orders, timeline and SOP rows. */
async function twoContactsOfOnePerson(a: string, b: string): Promise<string> {
  await h.pool.upsertFromWecom(
    { externalUserId: a, name: '陈一', type: 1, corpName: '远山', follows: [{ userId: 'rep1', addedAt: at, tagIds: ['t1'] }, { userId: 'rep2', addedAt: at, tagIds: ['t2'], remarkMobiles: ['+86 138-0013-8000'] }] },
    at,
  );
  await h.pool.upsertFromWecom(
    { externalUserId: b, name: '陈一', type: 1, corpName: '远山', follows: [{ userId: 'rep1', addedAt: at, tagIds: ['t1', 't3'] }, { userId: 'rep3', addedAt: at, tagIds: ['t4'], remarkMobiles: ['13900139000'] }] },
    new Date(at.getTime() + 1_000),
  );
  await h.orders.recordMany([
    { orderId: `${a}-o1`, externalUserId: a, amountFen: 100, paidAt: at },
    { orderId: `${b}-o2`, externalUserId: b, amountFen: 200, paidAt: at },
    { orderId: `${b}-o3`, externalUserId: b, amountFen: 300, paidAt: at },
  ]);
  await h.pool.addTimeline({ externalUserId: b, at, kind: 'message_in', key: `${b}-msg`, userId: 'rep3' });
  const enrol = (targetId: string, planId: Types.ObjectId, occurrence: string) =>
    h.sop.Enrollment.create({ key: `${planId}:${targetId}:${occurrence}`, planId, targetKind: 'contact', targetId, occurrence, enrolledAt: at });
  await enrol(a, plan, 'added');
  await enrol(b, plan, 'added'); // the same journey occurrence as a's: exited, not duplicated
  const moved = await enrol(b, otherPlan, 'slot');
  await h.sop.Job.create({ key: `${b}-job`, planId: otherPlan, enrollmentId: moved._id, stepId: 's1', targetId: b, dueAt: at });
  const review = await h.models.Review.create({ pairKey: `${a}|${b}`, contactIds: [a, b], reason: 'name_company' });
  return String(review._id);
}

async function everything(a: string, b: string) {
  const sort = { _id: 1 } as const;
  return {
    contacts: await h.contacts.Contact.find({ externalUserId: ids([a, b]) }).sort({ externalUserId: 1 }).lean(),
    relations: await h.contacts.FollowRelation.find({ externalUserId: ids([a, b]) }).sort(sort).lean(),
    orders: await h.orderModel.find({ externalUserId: ids([a, b]) }).sort(sort).lean(),
    timeline: await h.contacts.TimelineEvent.find({ externalUserId: ids([a, b]) }).sort(sort).lean(),
    enrollments: await h.sop.Enrollment.find({ targetId: ids([a, b]) }).sort(sort).lean(),
    jobs: await h.sop.Job.find({ targetId: ids([a, b]) }).sort(sort).lean(),
  };
}

describe('merging two contacts of one person, and undoing it', () => {
  it('keeps one contact with the union of relations, tags, orders and timeline, no duplicates', async () => {
    const reviewId = await twoContactsOfOnePerson('wm_a', 'wm_b');
    await h.contacts.Contact.create({ externalUserId: 'wm_z', name: '陈一', company: '远山' });
    const third = await h.models.Review.create({ pairKey: 'wm_b|wm_z', contactIds: ['wm_b', 'wm_z'], reason: 'name_company' });
    const { body: list } = await h.call<{ items: ReviewItem[] }>('GET', '/api/admin/identity/reviews');
    const cards = list.items.find((i) => i.id === reviewId)!.contacts;
    expect(cards.find((c) => c.externalUserId === 'wm_b')).toMatchObject({ phones: ['13900139000'], tagCount: 3, orderCount: 2, sources: [{ source: 'wecom' }] });

    const merged = await h.call<{ merge: { id: string; survivor: string; merged: string } }>('POST', `/api/admin/identity/reviews/${reviewId}/merge`, { survivor: 'wm_a' });
    expect(merged.status).toBe(200);
    expect(merged.body.merge).toMatchObject({ survivor: 'wm_a', merged: 'wm_b' });

    expect(await h.contacts.Contact.exists({ externalUserId: 'wm_b' })).toBeNull();
    const a = await h.contacts.Contact.findOne({ externalUserId: 'wm_a' }).lean();
    expect(a?.phones).toEqual(['13800138000', '13900139000']);
    expect(a?.phone).toBe('13800138000');
    const relations = await h.contacts.FollowRelation.find({ externalUserId: 'wm_a' }).sort({ userId: 1 }).lean();
    expect(relations.map((r) => [r.userId, [...r.tagIds].sort()])).toEqual([['rep1', ['t1', 't3']], ['rep2', ['t2']], ['rep3', ['t4']]]);
    expect(await h.contacts.FollowRelation.countDocuments({ externalUserId: 'wm_b' })).toBe(0);
    expect((await h.orderModel.find({ externalUserId: 'wm_a' }).lean()).map((o) => o.orderId).sort()).toEqual(['wm_a-o1', 'wm_b-o2', 'wm_b-o3']);
    const timeline = await h.contacts.TimelineEvent.find({ externalUserId: 'wm_a' }).lean();
    expect(timeline.map((e) => e.key).sort()).toEqual(['order:wm_a-o1', 'order:wm_b-o2', 'order:wm_b-o3', 'wm_b-msg']);
    const enrollments = await h.sop.Enrollment.find({ targetId: ids(['wm_a', 'wm_b']) }).lean();
    expect(enrollments.filter((e) => e.status === 'active').map((e) => [String(e.planId), e.targetId]).sort()).toEqual([[String(plan), 'wm_a'], [String(otherPlan), 'wm_a']].sort());
    expect(enrollments.find((e) => e.targetId === 'wm_b')).toMatchObject({ status: 'exited', exitReason: 'merged into wm_a' });
    expect(await h.sop.Job.findOne({ key: 'wm_b-job' }).lean()).toMatchObject({ targetId: 'wm_a' });
    expect(await h.models.Review.findById(reviewId).lean()).toMatchObject({ status: 'merged' });
    // The merged contact's other review is now about the survivor, so the list never shows a contact that is gone.
    expect(await h.models.Review.findById(third._id).lean()).toMatchObject({ status: 'open', contactIds: ['wm_a', 'wm_z'] });

    const { body: merges } = await h.call<{ items: Array<Record<string, unknown>> }>('GET', '/api/admin/identity/merges');
    expect(merges.items[0]).toMatchObject({ id: merged.body.merge.id, survivor: { externalUserId: 'wm_a', name: '陈一' }, merged: { externalUserId: 'wm_b', name: '陈一' }, reason: 'name_company', auto: false, undoneAt: null });
  });

  it('undo restores both contacts and every row as they were; a second undo is a 409', async () => {
    const reviewId = await twoContactsOfOnePerson('wm_c', 'wm_d');
    await h.contacts.Contact.create({ externalUserId: 'wm_y', name: '陈一', company: '远山' });
    await h.models.Review.create({ pairKey: 'wm_c|wm_y', contactIds: ['wm_c', 'wm_y'], reason: 'name_company' });
    const reviews = () => h.models.Review.find({ contactIds: mongoose.trusted({ $in: ['wm_c', 'wm_d', 'wm_y'] }) }, { updatedAt: 0 }).sort({ _id: 1 }).lean();
    const reviewsBefore = await reviews();
    const before = await everything('wm_c', 'wm_d');
    const merged = await h.call<{ merge: { id: string } }>('POST', `/api/admin/identity/reviews/${reviewId}/merge`, { survivor: 'wm_d' });
    expect(merged.status).toBe(200);
    expect(await h.contacts.Contact.exists({ externalUserId: 'wm_c' })).toBeNull();

    const undone = await h.call<{ ok: boolean }>('POST', `/api/admin/identity/merges/${merged.body.merge.id}/undo`);
    expect(undone).toEqual({ status: 200, body: { ok: true } });
    const after = await everything('wm_c', 'wm_d');
    expect(after.contacts).toEqual(before.contacts);
    // Relations of a rep both had were removed and come back whole; moved ones only change owner back (updatedAt moves).
    const strip = <T extends object>(rows: T[]) => rows.map((row) => ({ ...row, updatedAt: undefined }));
    expect(strip(after.relations)).toEqual(strip(before.relations));
    expect(strip(after.orders)).toEqual(strip(before.orders));
    expect(after.timeline).toEqual(before.timeline);
    expect(strip(after.enrollments)).toEqual(strip(before.enrollments));
    expect(strip(after.jobs)).toEqual(strip(before.jobs));
    expect(await h.models.Review.findById(reviewId).lean()).toMatchObject({ status: 'open' });
    expect((await reviews()).map((r) => ({ ...r, decidedAt: null }))).toEqual(reviewsBefore);

    const again = await h.call<{ error: string; message: string }>('POST', `/api/admin/identity/merges/${merged.body.merge.id}/undo`);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: 'already_undone', message: expect.stringMatching(/already undone/) });
  });
});

describe('review decisions', () => {
  it('keeps a pair apart, refuses to decide it twice, and answers 400/404 for bad input', async () => {
    const reviewId = await twoContactsOfOnePerson('wm_e', 'wm_f');
    expect(await h.call('POST', `/api/admin/identity/reviews/${reviewId}/keep-apart`)).toEqual({ status: 200, body: { ok: true } });
    expect(await h.contacts.Contact.countDocuments({ externalUserId: ids(['wm_e', 'wm_f']) })).toBe(2);
    const twice = await h.call<{ message: string }>('POST', `/api/admin/identity/reviews/${reviewId}/merge`, { survivor: 'wm_e' });
    expect(twice.status).toBe(409);
    expect(twice.body.message).toContain('already kept_apart');

    const other = await twoContactsOfOnePerson('wm_g', 'wm_h');
    const stranger = await h.call<{ message: string }>('POST', `/api/admin/identity/reviews/${other}/merge`, { survivor: 'wm_x' });
    expect(stranger.status).toBe(400);
    expect(stranger.body.message).toContain('survivor: must be one of');
    expect((await h.call('POST', `/api/admin/identity/reviews/${other}/merge`, {})).status).toBe(400);
    expect((await h.call('POST', `/api/admin/identity/reviews/${new Types.ObjectId()}/merge`, { survivor: 'wm_g' })).status).toBe(404);
    expect((await h.call('POST', '/api/admin/identity/merges/nope/undo')).status).toBe(404);
    expect((await h.call('GET', '/api/admin/identity/reviews?status=maybe')).status).toBe(400);
  });

  it('bulk-merges into the contact with a WeCom relation and reports what failed', async () => {
    const review = await twoContactsOfOnePerson('wm_i', 'wm_j');
    await h.contacts.Contact.create({ externalUserId: 'lead:Z1', name: '陈一', origin: 'lead', enteredAt: new Date('2020-01-01T00:00:00Z') });
    const leadReview = await h.models.Review.create({ pairKey: 'lead:Z1|wm_i', contactIds: ['lead:Z1', 'wm_i'], reason: 'name_company' });
    const wrongWay = await h.call<{ message: string }>('POST', `/api/admin/identity/reviews/${String(leadReview._id)}/merge`, { survivor: 'lead:Z1' });
    expect(wrongWay.status).toBe(400);
    expect(wrongWay.body.message).toContain('lead:Z1 is not a WeCom contact');
    expect(await h.models.Review.findById(leadReview._id).lean()).toMatchObject({ status: 'open' });
    const missing = String(new Types.ObjectId());
    const res = await h.call<{ done: number; failed: Array<{ id: string; reason: string }> }>('POST', '/api/admin/identity/reviews/bulk', { ids: [String(leadReview._id), review, missing], action: 'merge' });
    expect(res.status).toBe(200);
    expect(res.body.done).toBe(2);
    expect(res.body.failed).toEqual([{ id: missing, reason: 'not_found', message: `no review ${missing}` }]);
    // The lead is older but has no relation: the WeCom contact survives; of two WeCom contacts, the older.
    expect(await h.contacts.Contact.exists({ externalUserId: 'lead:Z1' })).toBeNull();
    expect(await h.contacts.Contact.exists({ externalUserId: 'wm_j' })).toBeNull();
    expect(await h.contacts.Contact.exists({ externalUserId: 'wm_i' })).not.toBeNull();
  });
});

describe('automatic merge', () => {
  it('merges a lead’s contact-to-be into a contact imported later with its phone', async () => {
    await h.identity.importLead({ leadId: 'AUTO1', name: '林二', phone: '186 0000 0001', company: '湖光', title: '店长', email: '', source: 'form', submittedAt: at });
    expect(await h.contacts.Contact.exists({ externalUserId: 'lead:AUTO1' })).not.toBeNull();
    const res = await h.upload('contacts', 'external_userid,name,follow_userid,state,entered_at,added_at,removed_at,phone\nwm_auto,林二,rep1,,2026-04-02 09:00:00,2026-04-02 09:00:00,,+8618600000001\n');
    expect(res.status).toBe(200);
    expect(await h.contacts.Contact.exists({ externalUserId: 'lead:AUTO1' })).toBeNull();
    expect(await h.contacts.Contact.findOne({ externalUserId: 'wm_auto' }).lean()).toMatchObject({ company: '湖光', title: '店长', phones: ['18600000001'] });
    expect(await h.contacts.TimelineEvent.findOne({ key: 'lead:AUTO1' }).lean()).toMatchObject({ externalUserId: 'wm_auto' });
    expect(await h.models.Lead.findOne({ leadId: 'AUTO1' }).lean()).toMatchObject({ externalUserId: 'wm_auto' });
    const { body } = await h.call<{ items: Array<{ auto: boolean; reason: string; merged: { externalUserId: string } }> }>('GET', '/api/admin/identity/merges');
    expect(body.items.find((m) => m.merged.externalUserId === 'lead:AUTO1')).toMatchObject({ auto: true, reason: 'phone' });
  });
});
