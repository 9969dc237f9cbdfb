import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ENTRY = path.resolve('server/src/main.ts');
const tempDirs: string[] = [];

afterAll(async () => {
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** Runs the real process entry the way `npm start` does, with only the given variables set. */
function startProcess(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const output = () => ({ stdout, stderr });
  const waitFor = async (pattern: RegExp): Promise<RegExpMatchArray> => {
    for (;;) {
      const match = stdout.match(pattern);
      if (match) return match;
      if (child.exitCode !== null) throw new Error(`process exited (${child.exitCode}): ${stderr}`);
      await new Promise((resolve) => child.stdout.once('data', resolve));
    }
  };
  return { child, exited, output, waitFor };
}

describe('the server process', () => {
  it('refuses a bad PORT with a message naming it and a non-zero exit', async () => {
    const proc = startProcess({ PORT: 'not-a-port' });
    expect(await proc.exited).toBe(2);
    expect(proc.output().stderr).toMatch(/PORT: must be a port number/);
  });

  it('starts with no configuration, serves /healthz, and stops cleanly on SIGTERM', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'scrm-proc-'));
    tempDirs.push(dataDir);
    const proc = startProcess({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
    const [, url] = await proc.waitFor(/Health: +(http:\/\/\S+)\/healthz/);
    const res = await fetch(`${url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', parts: { store: { ok: true, kind: 'embedded' } } });
    expect(proc.output().stdout).toContain('demo mode');

    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  });
});
