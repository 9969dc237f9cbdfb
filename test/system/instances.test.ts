import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/src/config/index.ts';
import { startSystem, type System } from '../../server/src/main.ts';
import { createLogger } from '../../server/src/observability/index.ts';
import { openTestStore } from '../support/db.ts';
import { eventually } from '../support/eventually.ts';

// Long enough that a renewal delayed by a busy CI machine (the whole suite runs beside this) does not hand the bot over mid-test.
const LEASE_MS = 2_000;

let store: Awaited<ReturnType<typeof openTestStore>>;
const dirs: string[] = [];
const systems: System[] = [];
const dead = new Set<System>();
let sampler: NodeJS.Timeout | undefined;
let mostAtOnce = 0;

const loggedIn = (system: System) => system.customerBot.status.current === 'logged_in';

beforeAll(async () => {
  store = await openTestStore();
  const { host, port, name } = store.connection;
  for (const instance of ['a', 'b', 'c']) {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), `scrm-instances-${instance}-`));
    dirs.push(dataDir);
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, MONGODB_URI: `mongodb://${host}:${port}/${name}`, BOT_ENABLED: 'true', INSTANCE_NAME: instance, LEASE_MS: String(LEASE_MS) });
    systems.push(await startSystem(config, createLogger({ level: 'silent' })));
  }
  // Every few ms: how many live instances have the bot logged in (a killed one's bot is gone with it).
  sampler = setInterval(() => {
    mostAtOnce = Math.max(mostAtOnce, systems.filter((s) => !dead.has(s) && loggedIn(s)).length);
  }, 5);
}, 60_000);

afterAll(async () => {
  clearInterval(sampler);
  for (const system of systems) if (!dead.has(system)) await system.stop();
  await store?.dispose();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const botPart = async (system: System) => {
  const body = (await (await fetch(`${system.url}/healthz`)).json()) as { parts: Record<string, Record<string, unknown>> };
  return body.parts.bot!;
};

describe('three instances on one store, the bot enabled on all', () => {
  it('log the bot in on exactly one; the others say which instance holds it', { timeout: 60_000 }, async () => {
    const holder = await eventually(async () => systems.find(loggedIn) ?? null, 'one bot logged in', 30_000);
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS * 2)); // several renewals: nobody else joins in
    expect(systems.filter(loggedIn)).toEqual([holder]);
    const holderId = holder.leases.holder;
    for (const other of systems.filter((s) => s !== holder)) {
      expect(await botPart(other)).toMatchObject({ ok: true, state: 'standby', holder: holderId });
      const res = await fetch(`${other.url}/api/admin/bot`, { headers: { authorization: `Bearer ${other.config.adminToken}` } });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ state: 'standby', lease: { instance: other.leases.holder, holder: holderId } });
    }
    expect(await botPart(holder)).toMatchObject({ state: 'logged_in', holder: holderId });
    expect(mostAtOnce).toBe(1);
  });

  it('move the bot to another instance after the holder dies, once its lease has expired, never two at once', { timeout: 60_000 }, async () => {
    const holder = systems.find(loggedIn)!;
    const lease = await holder.leases.book.holderOf('bot', new Date());
    expect(lease?.holder).toBe(holder.leases.holder);
    dead.add(holder);
    await holder.kill(); // no release: the others must wait for the lease to run out
    const next = await eventually(async () => systems.find((s) => !dead.has(s) && loggedIn(s)) ?? null, 'bot logged in elsewhere', 30_000);
    expect(Date.now()).toBeGreaterThanOrEqual(lease!.expiresAt.getTime());
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS * 2));
    expect(systems.filter((s) => !dead.has(s) && loggedIn(s))).toEqual([next]);
    const last = systems.find((s) => !dead.has(s) && s !== next)!;
    expect(await botPart(last)).toMatchObject({ state: 'standby', holder: next.leases.holder });
    expect(mostAtOnce).toBe(1);
  });

  it('share the SOP tick and the customer-index refresh: each lease held by exactly one live instance', { timeout: 90_000 }, async () => {
    const holdersOf = (name: string) => systems.filter((s) => !dead.has(s) && s.leases.all().some((l) => l.name === name && l.view().held));
    for (const name of ['sop-tick', 'customer-index']) {
      // The dead instance may have held it: nobody does until its lease runs out.
      await eventually(async () => (holdersOf(name).length > 0 ? true : null), `${name} held again`, 30_000);
      expect(holdersOf(name), name).toHaveLength(1);
    }
  });
});
