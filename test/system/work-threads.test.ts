import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { System } from '../../server/src/main.ts';
import { startDemoSystem, type DemoSystem } from '../support/demo-system.ts';
import { eventually } from '../support/eventually.ts';

let demo: DemoSystem | undefined;
let system: System;

beforeAll(async () => {
  demo = await startDemoSystem('work-threads', {}, { WORK_THREADS: '1' });
  system = demo.system;
}, 60_000);

afterAll(async () => {
  await demo?.dispose();
});

describe('WORK_THREADS=1', () => {
  it('processes callbacks in the work thread: with this event loop’s own inbox worker stopped, a scan is still welcomed once and pooled', { timeout: 60_000 }, async () => {
    await system.wecom.worker.stop();
    const sim = system.simulator!;
    const scans = ['线程一', '线程二', '线程三'].map((name) => sim.scanChannelQr({ customer: { name }, userid: 'lina', state: 'douyin_618' }));
    for (const scan of scans) expect((await sim.sendCallback(`${system.url}/wecom/callback`, scan.event)).status).toBe(200);

    const codes = scans.map((s) => s.welcomeCode);
    const welcomed = await eventually(async () => {
      const sent = sim.calls('/externalcontact/send_welcome_msg').map((c) => (c.body as { welcome_code: string }).welcome_code);
      return codes.every((code) => sent.includes(code!)) ? sent : null;
    }, 'welcomes sent by the work thread');
    expect(welcomed.filter((code) => codes.includes(code))).toHaveLength(3);
    const contacts = system.store.connection.db!.collection('contacts');
    await eventually(() => contacts.countDocuments({ name: { $in: ['线程一', '线程二', '线程三'] } }).then((n) => n === 3 || null), 'contacts pooled by the work thread');
    const inbox = system.store.connection.db!.collection('wecom_inbox');
    await eventually(() => inbox.countDocuments({ status: { $ne: 'done' } }).then((n) => n === 0 || null), 'inbox drained');
    // Claimed by the thread's worker, an owner of its own.
    const owners = await inbox.distinct('leaseOwner', { 'fields.WelcomeCode': { $in: codes } });
    expect(owners.length).toBeGreaterThan(0);
    expect(owners).not.toContain(system.wecom.worker.owner);
  });
});
