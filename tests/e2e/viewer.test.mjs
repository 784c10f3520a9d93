// End-to-end test of the riskmap web viewer: starts `riskmap serve`, drives headless
// Chromium through playwright-core and checks the page against the JSON API.
//
//   cargo build --release && cargo run --release -- build
//   (cd tests/e2e && npm ci)
//   node --test tests/e2e/
//
// Environment: RISKMAP_BIN (default target/release/riskmap, relative to the repo root),
// RISKMAP_PORT (default 18080), CHROMIUM (default /usr/bin/chromium).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const PORT = Number(process.env.RISKMAP_PORT || 18080);
const BASE = `http://127.0.0.1:${PORT}`;
const BIN = path.resolve(ROOT, process.env.RISKMAP_BIN || 'target/release/riskmap');
const OUT = path.join(ROOT, 'output');
const EMPTY_ZH = '此处500米内无风险企业';

let server = null;
let serverExit = null;          // { code, signal } once it has exited
let serverLog = '';
let browser = null;
let page = null;
let meta = null;
const tileResponses = [];       // { url, status }
const pageErrors = [];

// ------------------------------------------------------------------ helpers
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function getJson(p) {
  const r = await fetch(BASE + p, { signal: AbortSignal.timeout(15_000) });
  const body = await r.text();
  assert.equal(r.status, 200, `GET ${p} → ${r.status}: ${body.slice(0, 300)}`);
  return JSON.parse(body);
}

async function healthy() {
  try {
    const r = await fetch(BASE + '/healthz', { signal: AbortSignal.timeout(2_000) });
    await r.arrayBuffer();
    return r.status === 200;
  } catch {
    return false;
  }
}

/** Poll `cond` (sync or async) every 100 ms until truthy or `ms` elapse. */
async function waitUntil(cond, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}

function logTail(n = 4000) {
  return serverLog.length > n ? '…' + serverLog.slice(-n) : serverLog;
}

function killServer() {
  if (server && serverExit === null) {
    try { server.kill('SIGTERM'); } catch { /* already gone */ }
  }
}
process.on('exit', () => { if (server && serverExit === null) { try { server.kill('SIGKILL'); } catch { /* gone */ } } });
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => { killServer(); process.exit(130); });
}

/** Map-CRS query suffix: with a GCJ-02 basemap the viewer works in GCJ-02. */
function crsSuffix() {
  return meta && meta.basemap && meta.basemap.crs === 'gcj02' ? '&crs=gcj02' : '';
}

/** Centre the map on (lat, lon) at `zoom` and wait until the points for that view are in. */
async function viewAndSettle(lat, lon, zoom) {
  return page.evaluate(async ([lat, lon, zoom]) => {
    const rm = window.riskmap;
    rm.map.setView([lat, lon], zoom, { animate: false });
    await rm.pointsSettled();
    return { zoom: rm.map.getZoom(), count: rm.state.points.count, total: rm.state.points.total };
  }, [lat, lon, zoom]);
}

/** Page (viewport) coordinates of a lat/lon on the map. */
async function pagePoint(lat, lon) {
  return page.evaluate(([lat, lon]) => {
    const m = window.riskmap.map;
    const p = m.latLngToContainerPoint([lat, lon]);
    const r = m.getContainer().getBoundingClientRect();
    return { x: r.left + p.x, y: r.top + p.y, inside: p.x >= 0 && p.y >= 0 && p.x <= r.width && p.y <= r.height };
  }, [lat, lon]);
}

async function panelText() {
  return page.evaluate(() => document.getElementById('panel').innerText);
}

// ------------------------------------------------------------------ server + browser
before(async () => {
  fs.mkdirSync(OUT, { recursive: true });
  assert.ok(fs.existsSync(BIN), `riskmap binary not found at ${BIN} (cargo build --release, or set RISKMAP_BIN)`);
  assert.ok(!(await healthy()), `something already answers on ${BASE}/healthz; stop it or set RISKMAP_PORT`);

  server = spawn(BIN, ['serve', '--addr', `127.0.0.1:${PORT}`], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  const keep = (b) => { serverLog += b.toString(); if (serverLog.length > 200_000) serverLog = serverLog.slice(-100_000); };
  server.stdout.on('data', keep);
  server.stderr.on('data', keep);
  server.on('exit', (code, signal) => { serverExit = { code, signal }; });
  server.on('error', (e) => { serverExit = { code: null, signal: null, error: e.message }; });

  const t0 = Date.now();
  await waitUntil(async () => {
    if (serverExit) throw new Error(`riskmap serve exited early (${JSON.stringify(serverExit)}):\n${logTail()}`);
    return healthy();
  }, 60_000, `GET ${BASE}/healthz = 200\n${logTail()}`);
  console.log(`riskmap serve healthy after ${Date.now() - t0} ms on ${BASE}`);

  meta = await getJson('/api/meta');

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN' });
  page.setDefaultTimeout(30_000);
  page.on('response', (r) => {
    const u = new URL(r.url());
    if (u.pathname.startsWith('/tiles/')) tileResponses.push({ url: u.pathname, status: r.status() });
  });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') console.log('# browser console error:', m.text()); });
}, { timeout: 90_000 });

after(async () => {
  try {
    if (browser) await browser.close();
  } finally {
    killServer();
    if (server && serverExit === null) {
      const gone = await Promise.race([
        new Promise((r) => server.once('exit', () => r(true))),
        sleep(5_000).then(() => false),
      ]);
      if (!gone) { try { server.kill('SIGKILL'); } catch { /* gone */ } }
    }
    try { fs.writeFileSync(path.join(OUT, 'e2e-server.log'), serverLog); } catch { /* best effort */ }
  }
}, { timeout: 30_000 });

// ------------------------------------------------------------------ the test
test('viewer end to end', { timeout: 150_000 }, async (t) => {
  await t.test('page loads: meta, stats, districts, points and tiles', async () => {
    const resp = await page.goto(BASE + '/', { waitUntil: 'domcontentloaded' });
    assert.equal(resp.status(), 200, 'GET /');
    await page.waitForFunction(() => window.riskmap && window.riskmap.ready, null, { timeout: 15_000 });
    const loaded = await page.waitForFunction(() => {
      const v = document.body.getAttribute('data-loaded');
      return v === 'true' || v === 'error' ? v : null;
    }, null, { timeout: 45_000 }).then((h) => h.jsonValue());
    if (loaded !== 'true') {
      const errs = await page.evaluate(() => JSON.stringify(window.riskmap.state.errors));
      assert.fail(`viewer failed to start: ${errs}`);
    }
    assert.equal(await page.evaluate(() => window.riskmap.ready), true);
    const st = await page.evaluate(() => ({
      points: window.riskmap.state.points.count,
      districts: ((window.riskmap.state.districts || {}).features || []).length,
      errors: window.riskmap.state.errors,
      title: document.getElementById('title').textContent,
    }));
    assert.deepEqual(st.errors, [], 'errors reported by the viewer while loading');
    assert.ok(st.points > 0, 'the first points load returned no enterprise');
    // every district the build wrote (output/districts.geojson) is drawn
    const built = JSON.parse(fs.readFileSync(path.join(OUT, 'districts.geojson'), 'utf8'));
    assert.equal(st.districts, built.features.length, 'district outlines in the viewer');
    assert.equal(st.title, meta.title);

    await waitUntil(() => tileResponses.some((r) => r.status === 200), 30_000, 'a tile answered 200');
    await page.waitForLoadState('networkidle', { timeout: 30_000 });
    const failed = tileResponses.filter((r) => r.status >= 500);
    assert.deepEqual(failed, [], 'tile responses with status >= 500');
    await page.screenshot({ path: path.join(OUT, 'e2e-overview.png') });
  });

  await t.test('legend counts equal the enterprises the build wrote', async () => {
    // the oracle is output/enterprises.geojson counted here, not the API the legend is
    // filled from
    const fc = JSON.parse(fs.readFileSync(path.join(OUT, 'enterprises.geojson'), 'utf8'));
    const want = { red: 0, orange: 0, yellow: 0, blue: 0, unassessed: 0 };
    for (const f of fc.features) want[f.properties.level] += 1;
    const rows = await page.$$eval('#legend li[data-level]', (lis) => lis.map((li) => ({
      level: li.getAttribute('data-level'),
      count: (li.querySelector('.count') || {}).textContent,
    })));
    assert.deepEqual(rows.map((r) => r.level).sort(), Object.keys(want).sort(), 'one legend row per level');
    for (const r of rows) {
      assert.equal(Number(String(r.count).trim()), want[r.level], `legend count for ${r.level}`);
    }
  });

  await t.test('clicking a red enterprise opens its card', async () => {
    const fc = await getJson('/api/enterprises?level=red&limit=20' + crsSuffix());
    assert.ok(fc.features && fc.features.length > 0, 'no red enterprise in /api/enterprises?level=red');
    // prefer one with no other enterprise within 20 m, so the click cannot hit a neighbour
    let target = fc.features[0];
    for (const f of fc.features) {
      const [lon, lat] = f.geometry.coordinates;
      const at = await getJson(`/api/at?lon=${lon}&lat=${lat}&radius=20${crsSuffix()}`);
      if ((at.enterprises || []).length === 1) { target = f; break; }
    }
    const [lon, lat] = target.geometry.coordinates;
    const { id, name } = target.properties;

    const v = await viewAndSettle(lat, lon, 16);
    assert.equal(v.zoom, 16);
    const shown = await page.evaluate((id) => window.riskmap.state.points.ids.has(id), id);
    assert.ok(shown, `enterprise ${id} is not among the ${v.count} points drawn at zoom 16`);

    const p = await pagePoint(lat, lon);
    assert.ok(p.inside, 'enterprise is outside the map viewport');
    await page.mouse.click(p.x, p.y);
    await page.waitForFunction((name) => {
      const el = document.querySelector('#panel .card-name');
      return el && el.textContent.trim() === name;
    }, name, { timeout: 15_000 }).catch(async (e) => {
      const got = await page.evaluate(() => (document.querySelector('#panel .card-name') || {}).textContent);
      assert.fail(`card for ${id} ${name} did not open (card-name: ${got}; panel: ${(await panelText()).slice(0, 300)}): ${e.message}`);
    });
    const level = await page.textContent('#panel .card-level');
    assert.ok(level.includes('重大风险'), `card-level is "${level}"`);
  });

  await t.test('clicking empty countryside says nothing is within 500 m', async () => {
    const [w, s, e, n] = meta.bounds;
    const N = 10;
    let spot = null;
    outer:
    for (let j = 0; j < N; j++) {
      for (let i = 0; i < N; i++) {
        // meta.bounds is WGS84; with a GCJ-02 map the probe point is taken as GCJ-02,
        // which is fine: it only has to land somewhere inside the region
        const lon = Number((w + (i + 0.5) * (e - w) / N).toFixed(6));
        const lat = Number((s + (j + 0.5) * (n - s) / N).toFixed(6));
        const at = await getJson(`/api/at?lon=${lon}&lat=${lat}&radius=500${crsSuffix()}`);
        if (at.empty === true && at.district) {
          spot = { lon, lat, district: at.district.name };
          break outer;
        }
      }
    }
    assert.ok(spot, 'no empty point inside a district found on a 10×10 probe grid');

    await viewAndSettle(spot.lat, spot.lon, 16);
    const p = await pagePoint(spot.lat, spot.lon);
    await page.mouse.click(p.x, p.y);
    await page.waitForFunction((txt) => document.getElementById('panel').innerText.includes(txt), EMPTY_ZH, { timeout: 15_000 })
      .catch(async (e) => assert.fail(`panel does not say "${EMPTY_ZH}" at ${JSON.stringify(spot)}: ${(await panelText()).slice(0, 400)} (${e.message})`));
    const txt = await panelText();
    assert.ok(txt.includes(spot.district), `panel names the district ${spot.district}`);
    await page.screenshot({ path: path.join(OUT, 'e2e-viewer.png') });
  });

  await t.test('no uncaught page errors, no tile 5xx', async () => {
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(tileResponses.filter((r) => r.status >= 500), []);
    assert.equal(serverExit, null, `server exited during the test: ${JSON.stringify(serverExit)}\n${logTail()}`);
  });
});
