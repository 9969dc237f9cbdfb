import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/src/config/index.ts';
import { startSystem, type System } from '../../server/src/main.ts';
import { createLogger } from '../../server/src/observability/index.ts';

let dataDir: string;
let system: System;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'scrm-boot-'));
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir });
  system = await startSystem(config, createLogger({ level: 'silent' }));
});

afterAll(async () => {
  await system?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('the composed system', () => {
  it('answers /healthz with the embedded store it started', async () => {
    const res = await fetch(`${system.url}/healthz`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; parts: { store: Record<string, unknown> } };
    expect(body.status).toBe('ok');
    expect(body.parts.store).toMatchObject({ ok: true, kind: 'embedded', db: 'scrm' });
  });

  it('stores through mongoose on the store connection', async () => {
    const Note = system.store.connection.model('BootNote', new (await import('mongoose')).Schema({ text: String }));
    await Note.create({ text: '你好' });
    expect(await Note.findOne({ text: '你好' }).lean()).toMatchObject({ text: '你好' });
  });

  it('serves /metrics as Prometheus text', async () => {
    const res = await fetch(`${system.url}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('http_requests_total');
  });
});
