// The dashboard in a real browser: playwright-core drives Debian's Chromium (installed by
// scripts/setup.sh) against the admin server of one node of a running three-node cluster. It checks
// the members table and that a keyspace's hit ratio appears and follows new traffic, the token
// prompt and the `#token=` link of a protected server, and takes a screenshot: into reports/ on a normal run, into docs/admin-dashboard.png (the one the docs show)
// with DISTCACHE_UPDATE_SCREENSHOT=1, so that a test run leaves the working tree as it was.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { adminServer } from '../../src/admin';
import { startCluster, stopAll, type TestNode } from '../support/cluster';
import { startedEngine } from '../support/engine.fixture';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = fileURLToPath(
  process.env['DISTCACHE_UPDATE_SCREENSHOT'] === '1'
    ? new URL('../../../../docs/admin-dashboard.png', import.meta.url)
    : new URL('../../reports/admin-dashboard.png', import.meta.url),
);
const TOKEN = 'open-sesame-0123456789';
// The page polls every two seconds: a change shows up within one or two polls.
const UPDATE_TIMEOUT_MS = 6_000;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} not found: the dashboard browser test needs Debian's Chromium. Run \`bash scripts/setup.sh\`.`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** The dashboard's own formatting of a ratio. */
const percent = (ratio: number): string => `${(ratio * 100).toFixed(1)}%`;

const hitRatioOnPage = (page: Page): Promise<string | null> =>
  page.locator('[data-keyspace="products"] [data-field="hit-ratio"]').textContent({ timeout: 1_000 });

describe('admin dashboard in Chromium', () => {
  it('shows the three members and a hit ratio that follows the traffic', async () => {
    const browser = await launch();
    cleanups.push(() => browser.close());
    const data = Array.from({ length: 20 }, (_, i): [string, string] => [String(i), `product ${i}`]);
    const nodes: Array<TestNode<string>> = await startCluster(3, data);
    cleanups.push(() => stopAll(nodes));
    const engine = nodes[0]!.engine;
    const server = adminServer(engine, { port: 0 });
    cleanups.push(() => server.stop());
    await server.start();
    const ratio = (): number => engine.stats().keySpaces.products!.hitRatio;

    // First traffic: every key missed once, half of them read again.
    for (const [key] of data) await engine.get('products', key);
    for (const [key] of data.slice(0, 10)) await engine.get('products', key);
    const first = ratio();

    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(server.url!);

    const rows = page.locator('#members tbody tr');
    await expect.poll(() => rows.count(), { timeout: UPDATE_TIMEOUT_MS }).toBe(3);
    const names = await page.locator('#members tbody tr td:first-child').allTextContents();
    expect(names.sort()).toEqual(['node-a', 'node-b', 'node-c']);
    const states = await page.locator('#members tbody tr .badge').allTextContents();
    expect(states.sort()).toEqual(['alive', 'alive', 'self']);
    expect(await page.locator('#node').textContent()).toBe('node-a');
    expect(await page.locator('#member-count').textContent()).toContain('3 on the ring');
    await expect.poll(() => hitRatioOnPage(page), { timeout: UPDATE_TIMEOUT_MS }).toBe(percent(first));

    // More traffic, all hits: the next poll shows a higher ratio without a reload.
    for (let round = 0; round < 5; round++) for (const [key] of data) await engine.get('products', key);
    const second = ratio();
    expect(second).toBeGreaterThan(first);
    await expect.poll(() => hitRatioOnPage(page), { timeout: UPDATE_TIMEOUT_MS }).toBe(percent(second));

    // A tag invalidation made on another node is counted here and shown on the keyspace card.
    await nodes[2]!.engine.deleteByTags('products', ['sale']);
    expect(engine.stats().keySpaces.products!.tagInvalidations).toBe(1);
    await expect
      .poll(() => page.locator('#spaces').textContent(), { timeout: UPDATE_TIMEOUT_MS })
      .toContain('1 tag invalidations');

    // Self-contained: every request went to the admin server, and the script ran without errors.
    expect(requests.filter((url) => !url.startsWith(server.url!))).toEqual([]);
    expect(errors).toEqual([]);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  it('asks for the token of a protected server, and takes it from the #token= link', async () => {
    const browser = await launch();
    cleanups.push(() => browser.close());
    const { engine } = await startedEngine({ circuitBreaker: true }, { nodeName: 'solo' });
    cleanups.push(() => engine.stop());
    const server = adminServer(engine, { port: 0, token: TOKEN });
    cleanups.push(() => server.stop());
    await server.start();
    const errors: string[] = [];

    // Without the token the endpoints answer 401: the page shows the prompt and nothing else.
    const page = await browser.newPage();
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(server.url!);
    await expect
      .poll(() => page.locator('#auth').getAttribute('class'), { timeout: UPDATE_TIMEOUT_MS })
      .toBe('card show');
    expect(await page.locator('#node').textContent()).toBe('-');
    await page.locator('#token').fill(TOKEN);
    await page.locator('#auth-form button').click();
    await expect.poll(() => page.locator('#node').textContent(), { timeout: UPDATE_TIMEOUT_MS }).toBe('solo');
    expect(await page.locator('#auth').getAttribute('class')).toBe('card');
    expect(await page.locator('#breakers .breaker').allTextContents()).toEqual(['productsclosed0 rejected']);

    // A fresh tab opened with the link: the page keeps the token and clears it from the address bar.
    const linked = await browser.newPage();
    linked.on('pageerror', (error) => errors.push(error.message));
    await linked.goto(`${server.url!}#token=${TOKEN}`);
    await expect
      .poll(() => linked.locator('#node').textContent(), { timeout: UPDATE_TIMEOUT_MS })
      .toBe('solo');
    expect(linked.url()).toBe(server.url);
    expect(errors).toEqual([]);
  });
});
