import { Schema } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { System } from '../../server/src/main.ts';
import { startDemoSystem, type DemoSystem } from '../support/demo-system.ts';
import { eventually } from '../support/eventually.ts';

let demo: DemoSystem | undefined;
let system: System | undefined;

beforeAll(async () => {
  demo = await startDemoSystem('boot');
  system = demo.system;
});

afterAll(async () => {
  await demo?.dispose();
});

const count = (collection: string, filter: Record<string, unknown> = {}) => system!.store.connection.db!.collection(collection).countDocuments(filter);

describe('the composed system in demo mode', () => {
  it('answers /healthz with the embedded store it started', async () => {
    const res = await fetch(`${system!.url}/healthz`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; parts: Record<string, Record<string, unknown>> };
    expect(body.status).toBe('ok');
    expect(body.parts.store).toMatchObject({ ok: true, kind: 'embedded', db: 'scrm' });
    expect(body.parts).toMatchObject({ scheduler: { ok: true, deadJobs: 0 } });
  });

  it('fills the pool with the demo corp: customers, relations, groups, tags and channels', async () => {
    expect(await count('contacts', { origin: 'wecom' })).toBe(8);
    // The demo's form sign-ups: 陈静 matched by phone, 孙丽 probable (for review), one newcomer.
    expect(await count('contacts', { origin: 'lead' })).toBe(2);
    expect(await count('identity_reviews', { status: 'open', reason: 'name_company' })).toBe(1);
    expect(await system!.store.connection.db!.collection('contacts').findOne({ name: '陈静', origin: 'wecom' })).toMatchObject({ phones: ['13805712233'], title: 'CTO' });
    expect(await count('follow_relations')).toBe(8);
    expect(await count('customer_groups')).toBe(2);
    expect(await count('tags')).toBe(14);
    expect(await count('channels')).toBe(4);
  });

  it('gives the demo customers some history: messages, orders and a renewal task', async () => {
    const db = system!.store.connection.db!;
    expect(await db.collection('orders').countDocuments()).toBe(4);
    expect(await db.collection('timeline_events').countDocuments({ kind: 'message_in' })).toBe(10);
    const zhou = await db.collection('contacts').findOne({ name: '周强' });
    expect(await db.collection('timeline_events').countDocuments({ externalUserId: zhou!.externalUserId, kind: 'order_paid' })).toBe(2);
    expect(await db.collection('rep_tasks').findOne({ externalUserId: zhou!.externalUserId })).toMatchObject({ userId: 'lina', status: 'open' });
  });

  it('runs the callback loop: a customer scanning a demo channel QR lands in the pool, auto-tagged', async () => {
    const scan = system!.simulator!.scanChannelQr({ customer: { name: '新客户' }, userid: 'wangfang', state: 'douyin_618' });
    const delivery = await system!.simulator!.sendCallback(`${system!.url}/wecom/callback`, scan.event);
    expect(delivery.status).toBe(200);
    const relations = system!.store.connection.db!.collection('follow_relations');
    const relation = await eventually(
      () => relations.findOne({ externalUserId: scan.contact.externalUserid, 'tagIds.0': { $exists: true } }),
      'auto-tagged relation',
    );
    const douyin = await system!.store.connection.db!.collection('tags').findOne({ name: '抖音' });
    expect(relation.tagIds).toContain(douyin!.tagId);
    // …and the built-in welcome plan answered inside WeCom's 20-second window, once.
    const welcome = await eventually(
      async () => system!.simulator!.calls('/externalcontact/send_welcome_msg').find((c) => (c.body as { welcome_code?: string }).welcome_code === scan.welcomeCode),
      'welcome sent',
    );
    expect((welcome.body as { text: { content: string } }).text.content).toContain('新客户');
  });

  it('serves /metrics with callback and WeCom API counters', async () => {
    const text = await (await fetch(`${system!.url}/metrics`)).text();
    expect(text).toMatch(/^wecom_callbacks_total\{outcome="stored"\} [1-9]/m);
    expect(text).toMatch(/^wecom_api_calls_total\{api="\/externalcontact\/batch\/get_by_user",outcome="ok",errcode="0"\} [1-9]/m);
  });

  it('keeps its data across a restart without duplicating the demo pool', async () => {
    const before = await count('contacts');
    system = await demo!.restart();
    expect(await count('contacts')).toBe(before);
    expect(await count('orders')).toBe(4); // the demo history is written once
    const Note = system.store.connection.model('BootNote', new Schema({ text: String }));
    await Note.create({ text: '你好' });
    expect(await Note.findOne({ text: '你好' }).lean()).toMatchObject({ text: '你好' });
  });
});
