/**
 * The dashboard in real headless Chromium (Debian's `chromium`, installed by `.ci/run`): a
 * round reported over HTTP must show up in the rounds table and as dots on the scatter.
 */
import { existsSync } from 'node:fs';

import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { fuseSync, generateFleet, type SensorRecord } from '../src/index.js';
import type { RunningHub } from '../src/hub/server.js';
import { HubClient, testHub } from './hub-helpers.js';
import { serviceAvailable } from './services.js';

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = serviceAvailable('chromium', existsSync(executablePath), `no Chromium at ${executablePath} (apt-get install chromium, or set CHROMIUM_PATH)`);

describe.skipIf(!available)('dashboard in headless Chromium', () => {
  let hub: RunningHub;
  let browser: Browser;
  beforeAll(async () => {
    hub = await testHub();
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  });
  afterAll(async () => {
    await browser?.close();
    await hub?.close();
  });

  it('shows a fused round in the table and its events on the scatter', async () => {
    const c = new HubClient(hub.url);
    const fleet = generateFleet({ nodes: 40, obsPerNode: 3, seed: 11 });
    const byNode = new Map<string, SensorRecord[]>();
    for (const r of fleet.records) byNode.set(r.node, [...(byNode.get(r.node) ?? []), r]);
    for (const node of byNode.keys()) await c.announce('dash-1', node);
    for (const [node, records] of byNode) expect((await c.report('dash-1', node, 1, records, true)).status).toBe(202);
    const result = await c.result('dash-1', 10_000);
    expect(result.status).toBe(200);
    const expected = fuseSync(fleet.records).events;

    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${hub.url}/`);
    await page.waitForSelector('#rounds tbody tr[data-round="dash-1"]', { timeout: 15_000 });
    await page.waitForSelector('#scatter[data-round="dash-1"]', { timeout: 15_000 });
    const row = await page.locator('#rounds tbody tr[data-round="dash-1"] td').allTextContents();
    expect(row.slice(0, 5)).toEqual(['dash-1', 'fused', '40', '40', String(fleet.records.length)]);
    expect(row[5]).toBe(String(expected.length));
    expect(await page.locator('#scatter circle.event').count()).toBe(expected.length);
    expect(await page.locator('#event-count').textContent()).toBe(String(expected.length));
    expect(await page.locator('#fusion-ms').textContent()).toMatch(/^\d+\.\d ms$/);
    // Bigger dots for events seen by more nodes.
    const radii = await page.locator('#scatter circle.event').evaluateAll((dots) => dots.map((d) => Number(d.getAttribute('r'))));
    expect(Math.max(...radii)).toBeGreaterThan(Math.min(...radii));
    const classes = await page.locator('#legend span').allTextContents();
    expect(classes).toEqual([...new Set(expected.map((e) => e.cls))].sort());
    expect(errors).toEqual([]);
  });
});
