// `npm run test:e2e`: the dashboard in a real browser (Debian's Chromium driven by playwright-core).
//
// 1. Builds ui/dist. 2. Starts `tickcast run` on the bundled real data at a free port in
// 24000–24999, paced so predictions keep arriving, with a temp database. 3. Opens every view,
// checks that live updates arrive, that the chart draws the prediction band, that the "Why this
// prediction" panel fills with a cited, grounded explanation whose references open their
// sources (a fact its value; a headline, on a replay of AAPL from 2014-10 that reaches the bundled
// headlines, its source and date), that an unknown symbol says so, and saves a screenshot of
// each view under .tmp/e2e/.
// 4. Performance (measured and printed, not asserted): a 500-symbol watchlist on the SYNTHETIC
// simulator updating every second, long tasks over a 30 s trace; initial JS gzipped; time to the
// first interactive view. The simulator runs without explanations: the panel's "not available".
// Every process it starts is stopped before it exits. Exit code 1 when a check fails.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { freePort } from '../support/free-port.js';
import { replyText, startOllamaTestDouble } from '../support/ollama-test-double.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OUT = join(ROOT, '.tmp', 'e2e');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PERF_SYMBOLS = Number(process.env.E2E_PERF_SYMBOLS ?? 500);
const PERF_SECONDS = Number(process.env.E2E_PERF_SECONDS ?? 30);
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const children = new Set<ChildProcess>();
const tempDirs: string[] = [];
const failures: string[] = [];
let passed = 0;

// A backstop: whatever happens, no server outlives this script.
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));

function log(line: string): void {
  console.log(line);
}

async function check(name: string, fn: () => Promise<void>): Promise<void> {
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    log(`  ✓ ${name} (${Date.now() - t0} ms)`);
  } catch (err) {
    failures.push(name);
    log(`  ✗ ${name}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
}

function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(message);
}

interface App {
  url: string;
  /** Its database file. */
  db: string;
  stop(): Promise<void>;
}

/** `tickcast run` with these env vars; resolves with its URL once it serves. */
async function startApp(name: string, env: Record<string, string>, fixedPort?: number): Promise<App> {
  const dir = mkdtempSync(join(tmpdir(), `tickcast-e2e-${name}-`));
  tempDirs.push(dir);
  const port = fixedPort ?? (await freePort());
  const logFile = join(OUT, `${name}.log`);
  const proc = spawn(process.execPath, [join(ROOT, 'bin', 'tickcast.js'), 'run'], {
    cwd: ROOT,
    env: { ...process.env, TICKCAST_DB: join(dir, 'e2e.duckdb'), TICKCAST_PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(proc);
  const sink = createWriteStream(logFile);
  proc.stdout?.pipe(sink);
  const url = await new Promise<string>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${name}: no URL within 60 s (see ${logFile})`)), 60_000);
    proc.stderr?.on('data', (chunk: Buffer) => {
      sink.write(chunk);
      seen += chunk.toString();
      const m = /GraphQL on (http:\/\/\S+)\/graphql/.exec(seen);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name}: exited with ${code} before serving (see ${logFile})`));
    });
  });
  return {
    url,
    db: join(dir, 'e2e.duckdb'),
    stop: async () => {
      if (proc.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      children.delete(proc);
    },
  };
}

async function browser(): Promise<BrowserContext> {
  const profile = mkdtempSync(join(tmpdir(), 'tickcast-e2e-chromium-'));
  tempDirs.push(profile);
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1366, height: 900 },
  });
}

const AXE_SOURCE = readFileSync(join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');

/**
 * axe-core's serious and critical violations on the page as it is (WCAG 2.x A/AA rules and best
 * practices), one line each with the first offending elements. Injected through the DevTools
 * protocol (page.evaluate), which the page's CSP does not govern.
 */
async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (o: unknown) => Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run({ resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')),
      count: v.nodes.length,
    }));
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id} (${v.help}) ×${v.count}: ${v.targets.join(', ')}`);
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[] }>;
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });
  log(`    screenshot .tmp/e2e/${name}.png`);
}

/** The current view at phone width: no sideways page scroll (tables scroll inside), a screenshot. */
async function atPhoneWidth(page: Page, name: string): Promise<void> {
  await page.setViewportSize({ width: 390, height: 844 });
  try {
    await page.waitForTimeout(300);
    await shot(page, `${name}-phone`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert(overflow <= 1, `${name}: the page scrolls sideways by ${overflow}px at 390px`);
  } finally {
    await page.setViewportSize({ width: 1366, height: 900 });
  }
}

const num = async (page: Page, selector: string, attr: string): Promise<number> =>
  Number((await page.locator(selector).first().getAttribute(attr)) ?? 'NaN');

/** Waits until `attr` of `selector` is at least `min`. */
async function waitAttr(page: Page, selector: string, attr: string, min: number, timeout = 30_000): Promise<number> {
  await page.waitForFunction(
    ([sel, a, m]) => Number(document.querySelector(sel as string)?.getAttribute(a as string) ?? 'NaN') >= (m as number),
    [selector, attr, min] as const,
    { timeout },
  );
  return num(page, selector, attr);
}

/** Polls the API until the symbol has a 1-day prediction. */
async function waitForPrediction(url: string, symbol: string, timeout = 60_000): Promise<void> {
  const until = Date.now() + timeout;
  while (Date.now() < until) {
    const r = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: 'query P($s: String!) { prediction(symbol: $s) { id } }',
        variables: { s: symbol },
      }),
    }).catch(() => null);
    const body = (await r?.json().catch(() => null)) as { data?: { prediction: { id: string } | null } } | null;
    if (body?.data?.prediction) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${symbol}: no prediction within ${timeout / 1000} s`);
}

/** Waits until the explanation of `symbol`'s latest 1-day prediction cites a headline. */
async function waitForHeadlineCitation(url: string, symbol: string, timeout = 90_000): Promise<void> {
  const until = Date.now() + timeout;
  while (Date.now() < until) {
    const r = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: 'query E($s: String!) { explanation(symbol: $s) { citations { kind } } }',
        variables: { s: symbol },
      }),
    }).catch(() => null);
    const body = (await r?.json().catch(() => null)) as {
      data?: { explanation: { citations: Array<{ kind: string }> } | null };
    } | null;
    if (body?.data?.explanation?.citations.some((c) => c.kind === 'NEWS')) return;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  throw new Error(`${symbol}: no explanation citing a headline within ${timeout / 1000} s`);
}

/**
 * A data folder with `symbol`'s bundled CSV from `from` (YYYY-MM-DD) on: the same real rows, fewer of them, so a
 * paced replay reaches the years the bundled headlines cover within seconds.
 */
function dataFrom(symbol: string, from: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tickcast-e2e-data-'));
  tempDirs.push(dir);
  const file = `${symbol}_data.csv`;
  const [header, ...rows] = readFileSync(join(ROOT, 'data', 'sp500-daily', file), 'utf8')
    .trimEnd()
    .split('\n');
  writeFileSync(join(dir, file), `${[header, ...rows.filter((r) => r.slice(0, 10) >= from)].join('\n')}\n`);
  return dir;
}

/** Gzipped size of the JS that index.html loads before any view is lazy-loaded. */
function initialJsGzip(): { bytes: number; files: string[] } {
  const dist = join(ROOT, 'ui', 'dist');
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  const files = [...html.matchAll(/(?:src|href)="\.?\/?(assets\/[^"]+\.js)"/g)].map((m) => m[1]!);
  const bytes = files.reduce((n, f) => n + gzipSync(readFileSync(join(dist, f)), { level: 9 }).length, 0);
  return { bytes, files };
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  assert(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);

  log('e2e: building ui/dist');
  const build = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'ui/vite.config.ts', '--logLevel', 'warn'],
    { cwd: ROOT, stdio: 'inherit' },
  );
  assert(build.status === 0, 'vite build failed');

  // Bundled real data, one trading day per 150 ms: history builds up and predictions keep coming.
  log('e2e: starting tickcast on the bundled data');
  let app = await startApp('replay', { TICKCAST_PACE: '150ms' });
  log(`  serving ${app.url}`);
  const ctx = await browser();
  const figures: Record<string, number | string> = {};
  let symbolOpenedAt = 0;
  try {
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    const consoleErrors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(`${new URL(page.url()).hash || '#/'}: ${m.text()}`);
    });
    page.on('pageerror', (e) => consoleErrors.push(`${new URL(page.url()).hash || '#/'}: ${e.message}`));

    log('watchlist');
    await check('first view interactive: rows with predictions, connection live', async () => {
      const t0 = Date.now();
      await page.goto(`${app.url}/`);
      await page.locator('tr[data-symbol] td[data-cell="predicted"]').first().waitFor({ timeout: 30_000 });
      await page.locator('[data-connection="live"]').waitFor({ timeout: 10_000 });
      figures.firstViewColdMs = Date.now() - t0;
      assert((await page.locator('tr[data-symbol]').count()) >= 10, 'fewer than 10 rows');
    });
    await check('the header names the data source (GraphQL marketData)', async () => {
      await page.locator('header [data-market-source="replay"]').waitFor({ timeout: 20_000 });
    });
    await check('live updates arrive and rows update in place', async () => {
      const row = page.locator('tr[data-symbol]').first();
      const symbol = (await row.getAttribute('data-symbol')) ?? '';
      const before = (await row.getAttribute('data-input')) ?? '';
      const n0 = await num(page, '[data-updates]', 'data-updates');
      await waitAttr(page, '[data-updates]', 'data-updates', n0 + 3, 20_000);
      // The same row element now carries a newer prediction (its input bar moved on).
      await page.waitForFunction(
        ([s, b]) => {
          const input = document.querySelector(`tr[data-symbol="${s}"]`)?.getAttribute('data-input') ?? '';
          return input > (b ?? '');
        },
        [symbol, before] as const,
        { timeout: 20_000 },
      );
    });
    await check('an unknown symbol added to the watchlist is refused with a clear message', async () => {
      await page.fill('#add-symbol', 'NOPE');
      await page.press('#add-symbol', 'Enter');
      const msg = page.locator('[data-add-message="error"]');
      await msg.waitFor({ timeout: 5000 });
      assert(/Unknown symbol: NOPE/.test((await msg.textContent()) ?? ''), `message: ${await msg.textContent()}`);
    });
    await check('add and remove a symbol (kept in localStorage)', async () => {
      const candidates = await page.evaluate(async () => {
        const r = await fetch('graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ symbols(first: 50) { edges { node { symbol } } } }' }),
        });
        const body = (await r.json()) as { data: { symbols: { edges: Array<{ node: { symbol: string } }> } } };
        return body.data.symbols.edges.map((e) => e.node.symbol);
      });
      const shown = new Set(
        await page.locator('tr[data-symbol]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-symbol'))),
      );
      const extra = candidates.find((s) => !shown.has(s));
      assert(extra, 'no symbol left to add');
      await page.fill('#add-symbol', extra);
      await page.press('#add-symbol', 'Enter');
      await page.locator(`tr[data-symbol="${extra}"]`).waitFor({ timeout: 15_000 });
      const saved = await page.evaluate(() => localStorage.getItem('tickcast.watchlist') ?? '');
      assert(saved.includes(extra), 'not saved to localStorage');
      await page.reload();
      await page.locator(`tr[data-symbol="${extra}"]`).waitFor({ timeout: 10_000 });
      await page.click(`button[aria-label="Remove ${extra}"]`);
      await page.locator(`tr[data-symbol="${extra}"]`).waitFor({ state: 'detached', timeout: 15_000 });
    });
    await check('search (focused with /), filter and sort', async () => {
      await page.locator('tr[data-symbol] td[data-cell="predicted"]').first().waitFor({ timeout: 15_000 });
      await page.locator('body').press('/');
      assert(await page.evaluate(() => document.activeElement?.id === 'search'), '/ did not focus the search');
      await page.keyboard.type('A');
      const symbols = await page
        .locator('tr[data-symbol]')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-symbol') ?? ''));
      assert(symbols.length > 0 && symbols.every((s) => s.includes('A')), `search kept ${symbols.join(',')}`);
      await page.fill('#search', '');
      await page.selectOption('#filter', 'up');
      const ups = await page.locator('tr[data-symbol] td.num.up').count();
      const downs = await page.locator('tr[data-symbol] td.num.down').count();
      assert(downs === 0 || ups > 0, 'filter "up" shows predicted-down rows');
      await page.selectOption('#filter', 'all');
      await page.getByRole('button', { name: /^Change/ }).click();
      const sorted = await page.locator('th[aria-sort="descending"]').count();
      assert(sorted === 1, 'sorting by change did not mark the column');
    });
    await shot(page, 'watchlist');
    await check('dark scheme and phone width render', async () => {
      await page.emulateMedia({ colorScheme: 'dark' });
      const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      assert(bg !== 'rgb(247, 248, 250)', 'dark scheme kept the light background');
      await shot(page, 'watchlist-dark');
      await page.setViewportSize({ width: 390, height: 844 });
      try {
        await shot(page, 'watchlist-phone');
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert(overflow <= 1, `page scrolls sideways by ${overflow}px at phone width`);
      } finally {
        await page.setViewportSize({ width: 1366, height: 900 });
        await page.emulateMedia({ colorScheme: 'light' });
      }
    });

    log('symbol view');
    await check('keyboard: arrow keys move through rows, Enter opens the symbol; live re-sorting waits', async () => {
      // Still sorted by predicted change, which live updates reorder: while a row has focus the
      // order is held, so the row under the keyboard neither moves nor loses focus.
      const order = () =>
        page.locator('tr[data-symbol]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-symbol')).join(','));
      await page.locator('a.sym').first().focus();
      await page.locator('tbody[data-order-held="true"]').waitFor({ timeout: 2000 });
      const before = await order();
      // Not necessarily the first row now: rows may have moved between finding it and focusing it.
      const focused = await page.evaluate(() => document.activeElement?.textContent ?? '');
      const u0 = await num(page, '[data-updates]', 'data-updates');
      await waitAttr(page, '[data-updates]', 'data-updates', u0 + 2, 20_000);
      assert((await order()) === before, 'rows moved under keyboard focus');
      await page.keyboard.press('ArrowDown');
      const second = await page.evaluate(() => document.activeElement?.textContent ?? '');
      const rowsShown = before.split(',');
      assert(rowsShown.includes(focused), `focus is on "${focused}", not a row`);
      const expected = rowsShown[Math.min(rowsShown.length - 1, rowsShown.indexOf(focused) + 1)];
      assert(second === expected, `ArrowDown from ${focused} focused ${second}, not the next row ${expected}`);
      await page.keyboard.press('Enter');
      await page.waitForURL(new RegExp(`#/symbol/${second}$`), { timeout: 5000 });
    });
    await check('chart draws candles, the prediction band and earnings markers; live updates', async () => {
      symbolOpenedAt = Date.now();
      await page.goto(`${app.url}/#/symbol/AAPL`);
      await page.locator('[data-testid="chart"] canvas').first().waitFor({ timeout: 15_000 });
      const band = await waitAttr(page, '[data-testid="chart"]', 'data-band-points', 1, 15_000);
      figures.bandPoints = band;
      await page.locator('[data-testid="history"] tbody tr').first().waitFor({ timeout: 10_000 });
      await page.locator('[data-testid="features"] tbody tr').first().waitFor({ timeout: 10_000 });
      await waitAttr(page, '[data-live-count]', 'data-live-count', 2, 20_000);
    });
    await check('why this prediction: the explanation streams in, cites its sources, says who wrote it', async () => {
      const panel = page.locator('[data-testid="explanation"]');
      const foot = panel.locator('[data-testid="explanation-footer"]');
      await foot.waitFor({ timeout: 30_000 });
      // An upper bound when the chart check took longer than the explanation.
      figures.explanationMs = Date.now() - symbolOpenedAt;
      // New predictions keep coming, and with them new explanations: read the panel in one go,
      // again if that caught a new one being written (no footer yet).
      const read = () =>
        panel.evaluate((el) => {
          const f = el.querySelector('[data-testid="explanation-footer"]');
          return {
            text: el.querySelector('[data-testid="explanation-text"]')?.textContent ?? '',
            refs: el.querySelectorAll('[data-testid="explanation-text"] button.ref').length,
            citations: el.querySelectorAll('li[data-citation]').length,
            footer: f?.textContent ?? null,
            explainer: f?.getAttribute('data-explainer'),
            grounded: f?.getAttribute('data-grounded'),
          };
        });
      let seen = await read();
      for (let i = 0; i < 3 && seen.footer === null; i++) {
        await foot.waitFor({ timeout: 10_000 });
        seen = await read();
      }
      assert(seen.text.includes('AAPL'), `the text does not mention AAPL: ${seen.text.slice(0, 120)}`);
      assert(seen.refs >= 1, 'no reference buttons in the text');
      assert(seen.citations >= 1, 'no citation list');
      assert(seen.explainer === 'template', `footer: explainer is ${seen.explainer}, not template`);
      assert(seen.grounded === 'true', 'footer: not grounded');
      assert(/template/.test(seen.footer ?? '') && /✓ grounded/.test(seen.footer ?? ''), `footer: ${seen.footer}`);
      // What axe would flag: a name that hides the visible text, interactive inside interactive.
      const mismatched = await panel
        .locator('button[aria-label]')
        .evaluateAll((bs) =>
          bs
            .filter((b) => !(b.getAttribute('aria-label') ?? '').includes((b.textContent ?? '').trim()))
            .map((b) => b.textContent),
        );
      assert(mismatched.length === 0, `names without their visible text: ${mismatched.join(', ')}`);
      const nested = await panel.locator('button button, button a, a button, a a, button input').count();
      assert(nested === 0, `${nested} nested interactive elements`);
    });
    await check('clicking a reference opens that citation (a fact shows its value); Enter closes it', async () => {
      const panel = page.locator('[data-testid="explanation"]');
      // Focus in the panel holds refreshes, so the text does not change under the click.
      await panel.locator('[data-testid="explanation-text"] button.ref').first().focus();
      const ref = panel.locator('[data-testid="explanation-text"] button.ref[data-ref^="F"]').first();
      const name = (await ref.getAttribute('data-ref')) ?? '';
      await ref.click();
      const item = panel.locator(`li[data-citation][data-ref="${name}"]`);
      const detail = item.locator('[data-testid="citation-detail"]');
      await detail.waitFor({ timeout: 5000 });
      assert((await item.getAttribute('data-selected')) === 'true', `citation ${name} is not highlighted`);
      assert((await ref.getAttribute('aria-expanded')) === 'true', `reference ${name} is not marked expanded`);
      const value = ((await item.locator('.value').textContent()) ?? '').trim();
      assert(/\d/.test(value), `citation ${name}: no value ("${value}")`);
      const shown = (await detail.textContent()) ?? '';
      assert(/Known as of \d{4}-\d{2}-\d{2}/.test(shown), `citation ${name}: no time known in "${shown}"`);
      await panel.screenshot({ path: join(OUT, 'symbol-why.png') });
      log('    screenshot .tmp/e2e/symbol-why.png');
      await page.emulateMedia({ colorScheme: 'dark' });
      try {
        await panel.screenshot({ path: join(OUT, 'symbol-why-dark.png') });
        log('    screenshot .tmp/e2e/symbol-why-dark.png');
      } finally {
        await page.emulateMedia({ colorScheme: 'light' });
      }
      await item.locator('button.cite').focus();
      await page.keyboard.press('Enter');
      await detail.waitFor({ state: 'detached', timeout: 5000 });
      await page.keyboard.press('Enter');
      await detail.waitFor({ timeout: 5000 });
    });
    await check('earnings markers on the chart', async () => {
      // Markers need an announcement inside the bars shown; the replay has months of AAPL by now.
      const n = await waitAttr(page, '[data-testid="chart"]', 'data-earnings-markers', 1, 30_000).catch(() => 0);
      figures.earningsMarkers = n;
      assert(n >= 1, 'no earnings marker');
    });
    await shot(page, 'symbol');
    await check('symbol view fits a phone', () => atPhoneWidth(page, 'symbol'));
    await check('an unknown symbol shows a clear message, not a spinner', async () => {
      await page.goto(`${app.url}/#/symbol/ZZZZ`);
      await page.getByText('Unknown symbol: ZZZZ').first().waitFor({ timeout: 10_000 });
      await page.waitForTimeout(500);
      const spinners = await page.locator('[data-state="loading"]').count();
      assert(spinners === 0, `${spinners} loading states left on an unknown symbol`);
    });
    await shot(page, 'symbol-unknown');

    log('pipeline view');
    await check('DAG with live per-node metrics; a node shows its topics and schema', async () => {
      await page.goto(`${app.url}/#/pipeline`);
      await page.locator('[data-node]').first().waitFor({ timeout: 10_000 });
      const nodes = await page.locator('[data-node]').count();
      assert(nodes >= 5, `only ${nodes} nodes`);
      const s0 = await waitAttr(page, '[data-samples]', 'data-samples', 1, 10_000);
      await waitAttr(page, '[data-samples]', 'data-samples', s0 + 2, 10_000);
      await page.locator('[data-metric="throughput"]').first().waitFor();
      await page.locator('[data-node="bars"]').click();
      const detail = page.locator('[data-testid="node-detail"]');
      await detail.getByText('Reads', { exact: true }).waitFor();
      await detail.locator('details summary').first().click();
      const schema = (await detail.locator('pre').first().textContent()) ?? '';
      assert(schema.includes('"type": "record"'), 'no Avro schema shown');
    });
    await check(
      'chains: bars → … → predict → stores runs as one task; its in-process hand-offs are dashed',
      async () => {
        const chain = (await page.locator('[data-testid="node-chain"]').textContent()) ?? '';
        // The store sinks write in the chain's step: they are in it, between the transforms (topological order).
        const names = chain.split(':')[0] ?? '';
        assert(
          ['bars → features', 'router', 'predict-normal', 'store-predictions'].every((n) => names.includes(n)),
          `the bars node's chain: "${chain}"`,
        );
        const members = await page.locator('[data-chain="bars"]').count();
        assert(members >= 4, `${members} nodes banded as the bars chain`);
        const inProcess = await page
          .locator('[data-inprocess]')
          .evaluateAll((es) => es.map((e) => e.getAttribute('data-inprocess')));
        assert(inProcess.includes('features'), `in-process edges: ${inProcess.join(', ')}`);
        const legend = (await page.locator('[data-testid="chains"]').textContent()) ?? '';
        assert(legend.includes('one task'), `legend: "${legend}"`);
      },
    );
    await shot(page, 'pipeline');
    await check('pipeline view fits a phone', () => atPhoneWidth(page, 'pipeline'));
    await check(
      "a node's DLQ count opens its dead letters (keyboard): the 5 bundled rows, FILE:LINE first",
      async () => {
        // The bundled files hold 5 rows with empty cells (ES, O twice, REGN, VRTX): quotes.dlq, from market-data.
        const badge = page.locator('[data-dlq="market-data"]');
        await badge.waitFor({ timeout: 10_000 });
        await badge.focus();
        await page.keyboard.press('Enter');
        const list = page.locator('[data-testid="dead-letters"]');
        await list.locator('[data-dead-letter]').first().waitFor({ timeout: 10_000 });
        const focused = await page.evaluate(() => document.activeElement?.id ?? '');
        assert(focused === 'dlq-title', `focus is on #${focused}, not on the dead letters' heading`);
        const reasons = (await list.locator('[data-dead-letter] .reason').allTextContents()).map((r) => r.trim());
        assert(reasons.length === 5, `${reasons.length} dead letters listed, expected 5: ${reasons.join(' | ')}`);
        const bad = reasons.filter((r) => !/^[A-Z]+_data\.csv:\d+ \S/.test(r));
        assert(bad.length === 0, `reasons without FILE:LINE: ${bad.join(' | ')}`);
        assert(
          reasons.some((r) => r.startsWith('REGN_data.csv:588 open is empty; high is empty; low is empty')),
          `no REGN_data.csv:588 row: ${reasons.join(' | ')}`,
        );
        const meta = (await list.locator('[data-dead-letter] .small').first().textContent()) ?? '';
        assert(/source · node market-data · rejected/.test(meta), `kind, node and time not shown: ${meta}`);
        const summary = list.locator('[data-dead-letter] details summary').nth(3);
        await summary.focus();
        await page.keyboard.press('Enter');
        const payload = (await list.locator('[data-dead-letter] details pre').nth(3).textContent()) ?? '';
        assert(payload === '2015-06-09,,,,526.09,12135,REGN', `payload ${JSON.stringify(payload)}`);
        await shot(page, 'pipeline-dead-letters');
        await list.getByRole('button', { name: /Close the dead letters/ }).click();
        assert((await list.count()) === 0, 'the dead letters did not close');
      },
    );

    log('model view');
    await check('model error against persistence over time, coverage, normal vs earnings', async () => {
      await page.goto(`${app.url}/#/model`);
      await page.locator('[data-testid="regimes"]').waitFor({ timeout: 15_000 });
      await page.locator('[data-testid="model-live"] svg path.line').first().waitFor({ timeout: 15_000 });
    });
    await check(
      'model view: live skill against persistence and a constant drift, calibration, by horizon',
      async () => {
        const rows = page.locator('[data-testid="live-skill"] tbody tr');
        await rows.first().waitFor({ timeout: 30_000 });
        const first = (await rows.first().textContent()) ?? '';
        assert(/\d\.\d{3}/.test(first), `the live skill row has no ratios: ${JSON.stringify(first)}`);
        const heading = page.locator('#live-title');
        await page.getByRole('button', { name: '21 days' }).click();
        await page.getByText('(21-day forecasts)').waitFor({ timeout: 15_000 });
        assert(((await heading.textContent()) ?? '').includes('21-day'), 'the horizon did not switch');
        await page.getByRole('button', { name: '1 day', exact: true }).click();
      },
    );
    await check('model validation against the best baseline', async () => {
      const text = (await page.locator('[data-testid="vs-best"]').textContent({ timeout: 15_000 })) ?? '';
      assert(
        text.startsWith('Against the best baseline:'),
        `the model view's best-baseline line reads ${JSON.stringify(text)}`,
      );
    });
    await check('model view: which point forecast ships at each horizon', async () => {
      const text = (await page.locator('[data-testid="points"]').textContent({ timeout: 15_000 })) ?? '';
      assert(/point forecast at h1: /.test(text), `the model view's point forecasts read ${JSON.stringify(text)}`);
    });
    await shot(page, 'model');
    await check('model view fits a phone', () => atPhoneWidth(page, 'model'));
    await check('an unknown route says so', async () => {
      await page.goto(`${app.url}/#/nowhere`);
      await page.getByText('No such page').waitFor({ timeout: 5000 });
    });
    await check('first view interactive on loopback (a fresh page, data already there)', async () => {
      const fresh = await ctx.newPage();
      try {
        const t0 = Date.now();
        await fresh.goto(`${app.url}/`);
        await fresh.locator('tr[data-symbol] td[data-cell="predicted"]').first().waitFor({ timeout: 10_000 });
        figures.firstViewMs = Date.now() - t0;
        // From the browser's navigation start to rows with predictions on screen.
        figures.firstViewPerfMs = Math.round(await fresh.evaluate(() => performance.now()));
      } finally {
        await fresh.close();
      }
    });
    await check('the server goes away and comes back: the header says so, live updates resume', async () => {
      await page.goto(`${app.url}/`);
      await page.locator('[data-connection="live"]').waitFor({ timeout: 10_000 });
      const port = Number(new URL(app.url).port);
      await app.stop();
      await page.locator('[data-connection="reconnecting"]').waitFor({ timeout: 10_000 });
      await shot(page, 'watchlist-reconnecting');
      // The same port and database, as a restarted server would have.
      app = await startApp('replay-again', { TICKCAST_PACE: '150ms', TICKCAST_DB: app.db }, port);
      await page.locator('[data-connection="live"]').waitFor({ timeout: 30_000 });
      const n0 = await num(page, '[data-updates]', 'data-updates');
      await waitAttr(page, '[data-updates]', 'data-updates', n0 + 2, 30_000);
    });
    await check('accessibility: no serious or critical axe-core violations on any view, light and dark', async () => {
      const views: Array<[string, string]> = [
        ['/', 'tr[data-symbol] td[data-cell="predicted"]'],
        ['/#/symbol/AAPL', '[data-testid="chart"] canvas'],
        ['/#/pipeline', '[data-node]'],
        ['/#/model', '[data-testid="model-live"]'],
      ];
      const found: string[] = [];
      try {
        for (const scheme of ['light', 'dark'] as const) {
          await page.emulateMedia({ colorScheme: scheme });
          for (const [path, ready] of views) {
            await page.goto(`${app.url}${path}`);
            await page.locator(ready).first().waitFor({ timeout: 20_000 });
            await page.waitForTimeout(500); // let the view settle (lazy panels, first samples)
            for (const v of await axeViolations(page)) found.push(`${scheme} ${path}: ${v}`);
          }
        }
      } finally {
        await page.emulateMedia({ colorScheme: 'light' });
      }
      figures.axeSeriousOrCritical = found.length;
      for (const f of found) log(`    axe: ${f}`);
      assert(found.length === 0, `${found.length} violations (listed above)`);
    });
    await check('GraphiQL at /graphql renders from local assets under its CSP and runs a query', async () => {
      const gql = await ctx.newPage();
      const problems: string[] = [];
      gql.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text());
      });
      gql.on('requestfailed', (r) => problems.push(`failed: ${r.url()}`));
      const foreign: string[] = [];
      gql.on('request', (r) => {
        if (!/^(blob|data):/.test(r.url()) && !r.url().startsWith(app.url)) foreign.push(r.url());
      });
      try {
        await gql.goto(`${app.url}/graphql?query=${encodeURIComponent('{ health { status } }')}`);
        await gql.locator('.graphiql-execute-button').click({ timeout: 30_000 });
        await gql.getByText('"status"').first().waitFor({ timeout: 20_000 });
        assert(foreign.length === 0, `GraphiQL fetched from elsewhere: ${foreign.slice(0, 3).join(', ')}`);
        assert(problems.length === 0, `GraphiQL: ${problems.slice(0, 3).join(' | ')}`);
        await shot(gql, 'graphiql');
      } finally {
        await gql.close();
      }
    });
    // The page logs failed socket attempts while the server is down; those are expected.
    const unexpected = () =>
      consoleErrors.filter((e) => !/WebSocket|ERR_CONNECTION_REFUSED|Failed to load resource/.test(e));
    await check('no uncaught errors in the page', async () => {
      assert(unexpected().length === 0, unexpected().slice(0, 3).join(' | '));
    });
    await check('/graphql, /healthz and /metrics still answer beside the UI', async () => {
      assert((await fetch(`${app.url}/healthz`)).ok, '/healthz');
      assert((await (await fetch(`${app.url}/metrics`)).text()).includes('tickcast_'), '/metrics');
      assert((await fetch(`${app.url}/graphql?query=%7B__typename%7D`)).ok, '/graphql');
    });
  } finally {
    await ctx.close();
    await app.stop();
  }

  // A streamed explanation that fails the grounding check mid-way, from the Ollama protocol TEST
  // DOUBLE (no Ollama server runs here): its first sentences stream in, a RESET withdraws them,
  // the template takes over. The panel records the phases it went through.
  log('explanation streaming and fallback (Ollama protocol TEST DOUBLE)');
  const double = await startOllamaTestDouble({ models: ['llama3.2:3b'], chunkDelayMs: 100 });
  double.setResponder(() =>
    replyText(
      'Here is why the model made this forecast. It rests on the recent closes of the stock. ' +
        'It will surely rise 50% tomorrow [F1]. The rest is never shown.',
    ),
  );
  const ollamaApp = await startApp('ollama-double', {
    TICKCAST_PACE: '150ms',
    TICKCAST_NEWS: 'none',
    OLLAMA_HOST: double.url,
    TICKCAST_EXPLAINER: 'ollama',
  });
  const streaming = await browser();
  try {
    const page = streaming.pages()[0] ?? (await streaming.newPage());
    await page.addInitScript(() => {
      const w = window as unknown as { __phases: string[] };
      w.__phases = [];
      new MutationObserver(() => {
        const p = document.querySelector('[data-testid="explanation"]')?.getAttribute('data-phase');
        if (p && w.__phases.at(-1) !== p) w.__phases.push(p);
      }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-phase'] });
    });
    await check('streamed text, then a RESET: the panel says so and shows the template, with the reason', async () => {
      // The replay needs about 60 bars before AAPL's first prediction.
      await waitForPrediction(ollamaApp.url, 'AAPL');
      await page.goto(`${ollamaApp.url}/#/symbol/AAPL`);
      const panel = page.locator('[data-testid="explanation"]');
      await panel.locator('[data-testid="explanation-reset"]').waitFor({ timeout: 30_000 });
      const foot = panel.locator('[data-testid="explanation-footer"]');
      await foot.waitFor({ timeout: 15_000 });
      assert((await foot.getAttribute('data-explainer')) === 'template', 'the template did not take over');
      const footText = (await foot.textContent()) ?? '';
      assert(/fell back from ollama:llama3\.2:3b/.test(footText), `footer: ${footText}`);
      assert(/not grounded: 50%/.test(footText), `footer gives no reason: ${footText}`);
      const phases = await page.evaluate(() => (window as unknown as { __phases: string[] }).__phases);
      const writing = phases.indexOf('writing');
      assert(writing >= 0 && phases.indexOf('done', writing) > writing, `phases: ${phases.join(' → ')}`);
      await panel.screenshot({ path: join(OUT, 'symbol-why-fallback.png') });
      log('    screenshot .tmp/e2e/symbol-why-fallback.png');
    });
  } finally {
    await streaming.close();
    await ollamaApp.stop();
    await double.close();
  }

  // Headline citations: the main replay starts in 2013, before most bundled headlines, so its
  // explanations cite facts only. This one replays AAPL's real bars from October 2014: its
  // explanations cite headlines within seconds (market news, then AAPL's own from Reuters in 2015).
  log('headline citations (bundled headlines)');
  const newsApp = await startApp('headlines', {
    TICKCAST_PACE: '100ms',
    TICKCAST_DATA_DIR: dataFrom('AAPL', '2014-10-01'),
  });
  const newsCtx = await browser();
  try {
    const page = newsCtx.pages()[0] ?? (await newsCtx.newPage());
    await check('clicking a headline reference opens that headline with its source and publication date', async () => {
      await waitForHeadlineCitation(newsApp.url, 'AAPL');
      await page.goto(`${newsApp.url}/#/symbol/AAPL`);
      const panel = page.locator('[data-testid="explanation"]');
      await panel.locator('[data-testid="explanation-footer"]').waitFor({ timeout: 30_000 });
      // Focus in the panel holds refreshes, so the text does not change under the click.
      await panel.locator('[data-testid="explanation-text"] button.ref').first().focus();
      const ref = panel.locator('[data-testid="explanation-text"] button.ref[data-ref^="N"]').first();
      assert((await ref.count()) > 0, 'the explanation cites no headline');
      const name = (await ref.getAttribute('data-ref')) ?? '';
      await ref.click();
      const item = panel.locator(`li[data-citation][data-ref="${name}"]`);
      const detail = item.locator('[data-testid="citation-detail"]');
      await detail.waitFor({ timeout: 5000 });
      assert((await item.getAttribute('data-kind')) === 'NEWS', `citation ${name} is not a headline`);
      assert((await item.getAttribute('data-selected')) === 'true', `citation ${name} is not highlighted`);
      assert((await ref.getAttribute('aria-expanded')) === 'true', `reference ${name} is not marked expanded`);
      const title = ((await item.locator('.title').textContent()) ?? '').trim();
      assert(/^“.+”$/.test(title), `citation ${name}: no quoted headline ("${title}")`);
      const shown = ((await detail.textContent()) ?? '').trim();
      assert(
        /^(Reuters|Finviz|Benzinga|Yahoo Finance) · published \d{4}-\d{2}-\d{2}/.test(shown),
        `citation ${name}: no source and publication date in "${shown}"`,
      );
      figures.headlineCitation = `${name} ${title.slice(0, 50)} — ${shown.slice(0, 40)}`;
      await panel.screenshot({ path: join(OUT, 'symbol-why-headline.png') });
      log('    screenshot .tmp/e2e/symbol-why-headline.png');
    });
  } finally {
    await newsCtx.close();
    await newsApp.stop();
  }

  // A server that needs an API key: the dashboard asks for one instead of retrying forever.
  log('API keys (TICKCAST_API_KEYS)');
  const keyed = await startApp('api-keys', { TICKCAST_API_KEYS: 'e2e-secret-key-0123', TICKCAST_NEWS: 'none' });
  const keyCtx = await browser();
  try {
    const page = keyCtx.pages()[0] ?? (await keyCtx.newPage());
    await check('without a key the dashboard asks for one and stops retrying', async () => {
      await page.goto(`${keyed.url}/`);
      await page.locator('[data-api-key-prompt]').waitFor({ timeout: 20_000 });
      await page.locator('[data-connection="unauthorized"]').waitFor({ timeout: 5000 });
      await page.waitForTimeout(2000);
      assert((await page.locator('[data-connection="reconnecting"]').count()) === 0, 'it went back to reconnecting');
      await shot(page, 'api-key-prompt');
    });
    await check('a wrong key is refused and said so', async () => {
      await page.getByLabel('API key', { exact: true }).fill('not-the-key');
      await page.getByRole('button', { name: 'Use key' }).click();
      await page.getByText('The key you gave was refused').waitFor({ timeout: 20_000 });
    });
    await check('the right key opens the dashboard, live, for the session', async () => {
      await page.getByLabel('API key', { exact: true }).fill('e2e-secret-key-0123');
      await page.getByRole('button', { name: 'Use key' }).click();
      await page.locator('tr[data-symbol]').first().waitFor({ timeout: 30_000 });
      await page.locator('[data-connection="live"]').waitFor({ timeout: 10_000 });
      await page.goto(`${keyed.url}/#/pipeline`);
      await page.reload();
      await page.locator('[data-connection="live"]').waitFor({ timeout: 10_000 });
      assert((await page.locator('[data-api-key-prompt]').count()) === 0, 'asked again after a reload');
    });
  } finally {
    await keyCtx.close();
    await keyed.stop();
  }

  // Performance: SYNTHETIC simulator (500 symbols, one update a second) — figures, not checks.
  log(`performance (SYNTHETIC: TICKCAST_SOURCE=simulator, ${PERF_SYMBOLS} symbols, one update a second)`);
  // Without the explanation path (nothing to explain synthetic prices with): the panel's NOT_AVAILABLE state.
  const sim = await startApp('simulator', {
    TICKCAST_EXPLAIN: 'off',
    TICKCAST_SOURCE: 'simulator',
    TICKCAST_SIM_SYMBOLS: String(PERF_SYMBOLS),
    TICKCAST_PACE: '1s',
  });
  const perf = await browser();
  try {
    const page = perf.pages()[0] ?? (await perf.newPage());
    const symbols = Array.from({ length: PERF_SYMBOLS }, (_, i) => `SIM${String(i).padStart(5, '0')}`);
    await page.addInitScript((list: string[]) => {
      localStorage.setItem('tickcast.watchlist', JSON.stringify(list));
      const w = window as unknown as { __longTasks: number[] };
      w.__longTasks = [];
      new PerformanceObserver((l) => {
        for (const e of l.getEntries()) w.__longTasks.push(e.duration);
      }).observe({ type: 'longtask', buffered: true });
    }, symbols);
    const t0 = Date.now();
    await page.goto(`${sim.url}/`);
    await page.locator('tr[data-symbol] td[data-cell="predicted"]').first().waitFor({ timeout: 60_000 });
    figures.firstView500Ms = Date.now() - t0;
    await waitAttr(page, '[data-updates]', 'data-updates', 5, 30_000);
    const rows = await num(page, '[data-total-rows]', 'data-total-rows');
    const u0 = await num(page, '[data-updates]', 'data-updates');
    await page.evaluate(() => {
      (window as unknown as { __longTasks: number[] }).__longTasks = [];
    });
    await page.waitForTimeout(PERF_SECONDS * 1000);
    const tasks = await page.evaluate(() => (window as unknown as { __longTasks: number[] }).__longTasks);
    const u1 = await num(page, '[data-updates]', 'data-updates');
    figures.perfRows = rows;
    figures.perfUpdateMessages = u1 - u0;
    figures.longTasks = tasks.length;
    figures.longTaskMaxMs = Math.round(Math.max(0, ...tasks));
    figures.longTaskTotalMs = Math.round(tasks.reduce((a, b) => a + b, 0));
    await shot(page, 'watchlist-500-synthetic');
    await check('a server without explanations: the panel says so', async () => {
      await page.goto(`${sim.url}/#/symbol/SIM00000`);
      const panel = page.locator('[data-testid="explanation"]');
      await panel.getByText('Explanations are not available on this server').waitFor({ timeout: 15_000 });
      assert((await panel.locator('[data-state="loading"]').count()) === 0, 'the panel still spins');
    });
  } finally {
    await perf.close();
    await sim.stop();
  }

  const js = initialJsGzip();
  figures.initialJsGzipKB = Math.round(js.bytes / 102.4) / 10;
  log('\nfigures (measured, not asserted):');
  log(`  initial JS gzipped: ${figures.initialJsGzipKB} kB (${js.files.join(', ')}; budget 250 kB)`);
  log(
    `  first view interactive (bundled data, loopback): ${figures.firstViewMs} ms to rows with predictions (performance.now ${figures.firstViewPerfMs} ms; cold, while the app was starting: ${figures.firstViewColdMs} ms)`,
  );
  log(`  first view with ${PERF_SYMBOLS} symbols (SYNTHETIC): ${figures.firstView500Ms ?? '—'} ms`);
  log(
    `  explanation on the symbol view (bundled data, template): ${figures.explanationMs ?? '—'} ms from opening the symbol view to the footer (at most)`,
  );
  log(`  headline citation opened: ${figures.headlineCitation ?? '—'}`);
  log(
    `  long tasks > 50 ms over ${PERF_SECONDS} s, ${figures.perfRows ?? '—'} rows (SYNTHETIC, ${figures.perfUpdateMessages ?? '—'} update messages): ${figures.longTasks ?? '—'} (max ${figures.longTaskMaxMs ?? '—'} ms, total ${figures.longTaskTotalMs ?? '—'} ms)`,
  );
  log(JSON.stringify({ e2e: { passed, failed: failures.length, ...figures } }));
  if (failures.length > 0) {
    log(`\ne2e: ${failures.length} failed: ${failures.join('; ')} (logs and screenshots in .tmp/e2e/)`);
    process.exitCode = 1;
  } else log(`\ne2e: ${passed} checks passed; screenshots in .tmp/e2e/`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
