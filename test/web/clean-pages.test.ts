import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/browser.ts';
import { startDemoSystem, type DemoSystem } from '../support/demo-system.ts';

let demo: DemoSystem;
let browser: Browser;

beforeAll(async () => {
  demo = await startDemoSystem('clean-pages');
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await demo?.dispose();
});

/**
 * What a plain browser says about a page in demo mode: console errors, requests that failed and
 * answers of 400 or more. An offline demo must say nothing (issue 17: favicon, avatars).
 */
async function complaints(path: string): Promise<string[]> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
  const said: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') said.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (err) => said.push(`page error: ${err.message}`));
  page.on('requestfailed', (request) => said.push(`failed: ${request.url()} ${request.failure()?.errorText ?? ''}`));
  page.on('response', (response) => {
    if (response.status() >= 400) said.push(`${response.status()}: ${response.url()}`);
  });
  try {
    await page.goto(`${demo.system.url}${path}`, { waitUntil: 'networkidle' });
    // Lazy avatars and follow-up reads load once the first view is drawn.
    await page.waitForLoadState('networkidle');
    return said;
  } finally {
    await page.close();
  }
}

describe('the three pages in a plain browser, demo mode', () => {
  it.each(['/sidebar/', '/console/', '/bot-playground/'])('%s logs no error and fails no request', async (path) => {
    expect(await complaints(path)).toEqual([]);
  });
});
