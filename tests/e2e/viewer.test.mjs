// End-to-end test of the riskmap web viewer: starts `riskmap serve`, drives headless
// Chromium through playwright-core and checks the page against the JSON API and the
// files the build wrote.
//
//   cargo build --release && cargo run --release -- build
//   (cd tests/e2e && npm ci)
//   node --test tests/e2e/
//
// Environment: RISKMAP_BIN (default target/release/riskmap, relative to the repo root),
// RISKMAP_OUT (the built output folder the server serves and the oracles are read from,
// default output/, relative to the repo root; given to `serve --out` when set),
// RISKMAP_CONFIG (a config for `serve --config`, default the repo's riskmap.toml),
// RISKMAP_PORT (default 18080), CHROMIUM (default /usr/bin/chromium).
// RISKMAP_VIEWER_DIR, when set, reaches the server (it inherits the environment), which
// then serves the viewer files from that folder instead of the ones compiled in: the
// test passes either way.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const PORT = Number(process.env.RISKMAP_PORT || 18080);
const BASE = `http://127.0.0.1:${PORT}`;
const BIN = path.resolve(ROOT, process.env.RISKMAP_BIN || 'target/release/riskmap');
const OUT = path.resolve(ROOT, process.env.RISKMAP_OUT || 'output');
const CONFIG = process.env.RISKMAP_CONFIG ? path.resolve(ROOT, process.env.RISKMAP_CONFIG) : null;
const EMPTY_ZH = '此处500米内无风险企业';
const LEVEL_KEYS = ['red', 'orange', 'yellow', 'blue', 'unassessed'];
const RANK = { unassessed: 0, blue: 1, yellow: 2, orange: 3, red: 4 };

let srv = null;                 // the server handle (startServer)
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

async function healthy(base = BASE) {
  try {
    const r = await fetch(base + '/healthz', { signal: AbortSignal.timeout(2_000) });
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

/** Decode an 8-bit, non-interlaced PNG (grey, RGB, palette, grey+alpha, RGBA) into RGBA. */
function decodePng(buf) {
  assert.ok(buf.length > 8 && buf.subarray(0, 8).equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10])), 'PNG signature');
  let i = 8, ihdr = null, plte = null, trns = null;
  const idat = [];
  while (i < buf.length) {
    const len = buf.readUInt32BE(i), type = buf.toString('latin1', i + 4, i + 8), data = buf.subarray(i + 8, i + 8 + len);
    if (type === 'IHDR') ihdr = { w: data.readUInt32BE(0), h: data.readUInt32BE(4), depth: data[8], ct: data[9], interlace: data[12] };
    else if (type === 'PLTE') plte = data;
    else if (type === 'tRNS') trns = data;
    else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    i += 12 + len;
  }
  assert.ok(ihdr, 'PNG has an IHDR');
  assert.equal(ihdr.depth, 8, 'PNG bit depth');
  assert.equal(ihdr.interlace, 0, 'PNG not interlaced');
  const bpp = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[ihdr.ct];
  assert.ok(bpp, `PNG colour type ${ihdr.ct}`);
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = ihdr.w * bpp, px = Buffer.alloc(ihdr.w * ihdr.h * 4);
  let prev = Buffer.alloc(stride);
  for (let y = 0; y < ihdr.h; y++) {
    const f = raw[y * (stride + 1)], line = Buffer.from(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? line[x - bpp] : 0, b = prev[x], c = x >= bpp ? prev[x - bpp] : 0;
      let p = 0;
      if (f === 1) p = a; else if (f === 2) p = b; else if (f === 3) p = (a + b) >> 1;
      else if (f === 4) { const q = a + b - c, pa = Math.abs(q - a), pb = Math.abs(q - b), pc = Math.abs(q - c); p = pa <= pb && pa <= pc ? a : pb <= pc ? b : c; }
      line[x] = (line[x] + p) & 255;
    }
    for (let x = 0; x < ihdr.w; x++) {
      const o = (y * ihdr.w + x) * 4, s = x * bpp;
      if (ihdr.ct === 6) { px[o] = line[s]; px[o + 1] = line[s + 1]; px[o + 2] = line[s + 2]; px[o + 3] = line[s + 3]; }
      else if (ihdr.ct === 2) { px[o] = line[s]; px[o + 1] = line[s + 1]; px[o + 2] = line[s + 2]; px[o + 3] = 255; }
      else if (ihdr.ct === 0) { px[o] = px[o + 1] = px[o + 2] = line[s]; px[o + 3] = 255; }
      else if (ihdr.ct === 4) { px[o] = px[o + 1] = px[o + 2] = line[s]; px[o + 3] = line[s + 1]; }
      else { const k = line[s]; px[o] = plte[k * 3]; px[o + 1] = plte[k * 3 + 1]; px[o + 2] = plte[k * 3 + 2]; px[o + 3] = trns && k < trns.length ? trns[k] : 255; }
    }
    prev = line;
  }
  return { width: ihdr.w, height: ihdr.h, data: px };
}

function hexRgb(hex) {
  const m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})/i.exec(hex);
  return m ? [parseInt(m[1], 16), parseInt(m[2], 16), parseInt(m[3], 16)] : null;
}

/** "rgba(255, 0, 0, 0.6)" / "rgb(…)" → [r, g, b, a]. */
function parseRgba(s) {
  const m = /rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)\s*(?:,\s*([\d.]+)\s*)?\)/.exec(String(s));
  assert.ok(m, `not an rgb(a) colour: ${s}`);
  return [Number(m[1]), Number(m[2]), Number(m[3]), m[4] === undefined ? 1 : Number(m[4])];
}

/** The level a district gets under [areas.level] rule = "highest": its highest graded level. */
function highestLevel(levels) {
  for (const k of ['red', 'orange', 'yellow', 'blue']) if ((levels[k] || 0) > 0) return k;
  return 'unassessed';
}

/** Parse the viewer's URL hash (k=v&…) into an object. */
function parseHash(h) {
  const o = {};
  for (const kv of String(h).replace(/^#/, '').split('&')) {
    if (!kv) continue;
    const i = kv.indexOf('=');
    o[decodeURIComponent(i < 0 ? kv : kv.slice(0, i))] = i < 0 ? '' : decodeURIComponent(kv.slice(i + 1));
  }
  return o;
}

/** Wait until the viewer on `pg` says it has loaded; fail with its errors otherwise. */
async function waitLoaded(pg) {
  const loaded = await pg.waitForFunction(() => {
    const v = document.body.getAttribute('data-loaded');
    return v === 'true' || v === 'error' ? v : null;
  }, null, { timeout: 45_000 }).then((h) => h.jsonValue());
  if (loaded !== 'true') {
    const errs = await pg.evaluate(() => JSON.stringify(window.riskmap.state.errors));
    assert.fail(`viewer failed to start: ${errs}`);
  }
  await pg.evaluate(() => window.riskmap.pointsSettled());
}

/** Text that must never show on a card or panel: field names and code words of the API. */
const RAW_FIELD = /\b(reason_zh|reason|rule|src_crs|tier_zh|level_zh|radius_m|warnings|risk_points|hidden_dangers|open_hidden_dangers|open_major_hidden_dangers|credit_code|district_stated|adcode|extra|score_symbol|made_by|distance_m|enterprise_ids|null|undefined|risk_point|major_hazard_floor|open_major_hidden_danger|fatal_accident|direct|none)\b|\[object|\b[a-z]+_[a-z0-9_]+\b/;

function logTail(n = 4000) {
  const log = srv ? srv.log : '';
  return log.length > n ? '…' + log.slice(-n) : log;
}

const servers = new Set();
process.on('exit', () => { for (const h of servers) if (h.exit === null) { try { h.proc.kill('SIGKILL'); } catch { /* gone */ } } });
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => { for (const h of servers) if (h.exit === null) { try { h.proc.kill('SIGTERM'); } catch { /* gone */ } } process.exit(130); });
}

/**
 * Start `riskmap serve` on 127.0.0.1:`port`, serving the output folder `out` (`--out`,
 * default: the config's) with `config` (`--config`, default ./riskmap.toml); resolves once
 * /healthz answers. A second scenario (another output folder) starts its own on another
 * port and stops it with `await h.stop()`.
 */
async function startServer({ port, out = null, config = null }) {
  const base = `http://127.0.0.1:${port}`;
  assert.ok(!(await healthy(base)), `something already answers on ${base}/healthz; stop it or set RISKMAP_PORT`);
  const args = ['serve', '--addr', `127.0.0.1:${port}`];
  if (config) args.push('--config', config);
  if (out) args.push('--out', out);
  const h = { base, port, out, exit: null, log: '', proc: null };
  h.proc = spawn(BIN, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  servers.add(h);
  const keep = (b) => { h.log += b.toString(); if (h.log.length > 200_000) h.log = h.log.slice(-100_000); };
  h.proc.stdout.on('data', keep);
  h.proc.stderr.on('data', keep);
  h.proc.on('exit', (code, signal) => { h.exit = { code, signal }; });
  h.proc.on('error', (e) => { h.exit = { code: null, signal: null, error: e.message }; });
  h.stop = async () => {
    if (h.exit === null) {
      try { h.proc.kill('SIGTERM'); } catch { /* gone */ }
      const gone = await Promise.race([
        new Promise((r) => h.proc.once('exit', () => r(true))),
        sleep(5_000).then(() => false),
      ]);
      if (!gone) { try { h.proc.kill('SIGKILL'); } catch { /* gone */ } }
    }
    servers.delete(h);
  };
  const t0 = Date.now();
  const tail = () => (h.log.length > 4000 ? '…' + h.log.slice(-4000) : h.log);
  await waitUntil(async () => {
    if (h.exit) throw new Error(`riskmap ${args.join(' ')} exited early (${JSON.stringify(h.exit)}):\n${tail()}`);
    return healthy(base);
  }, 60_000, `GET ${base}/healthz = 200\n${tail()}`);
  console.log(`riskmap serve healthy after ${Date.now() - t0} ms on ${base}${out ? ' for ' + out : ''}`);
  return h;
}

/**
 * The road oracle (#27 §1), written apart from the engine: the roads of a GeoJSON file as a
 * directed graph (a node per shared vertex; one-way roads one way), a point's road found by
 * a scan of every segment, and one Dijkstra backwards from the point over the reversed
 * edges. Speeds: the road's own 限速, else the class's default (CJJ 37-2012's lower design
 * speeds, as riskmap's [emergency.roads] defaults); the last stretch off the road at
 * 10 km/h; more than 1000 m from every road is off the network. Rows the reader refuses
 * (an unknown class, a speed that is not one, not a line) are left out here too.
 * Returns (lon, lat) → the seconds from there to `to`, or null off the network.
 */
function roadOracle(fc, to, maxSnap = 1000) {
  const CLASS = { '高速公路': 80, '快速路': 60, '主干路': 40, '次干路': 30, '支路': 20 };
  const R = 6371008.8, rad = Math.PI / 180;
  const hav = (a, b) => {
    const dp = (b[1] - a[1]) * rad, dl = (b[0] - a[0]) * rad;
    const h = Math.sin(dp / 2) ** 2 + Math.cos(a[1] * rad) * Math.cos(b[1] * rad) * Math.sin(dl / 2) ** 2;
    return 2 * R * Math.asin(Math.sqrt(h));
  };
  const key = (c) => `${Math.round(c[0] * 1e7)},${Math.round(c[1] * 1e7)}`;
  const segs = []; // {a, b, ca, cb, secs, oneway}
  const back = new Map(); // node → [[from node, secs]] (reversed edges)
  const addEdge = (a, b, secs) => { if (!back.has(b)) back.set(b, []); back.get(b).push([a, secs]); };
  for (const f of fc.features) {
    const p = f.properties || {};
    const cls = String(p['道路等级'] ?? '').trim();
    if (!(cls in CLASS)) continue;
    const sp = String(p['限速'] ?? '').trim();
    let kmh = CLASS[cls];
    if (sp) {
      const m = /^(\d+(?:\.\d+)?)\s*(?:km\/h)?$/i.exec(sp);
      if (!m) continue;
      kmh = Number(m[1]);
    }
    const oneway = String(p['单行'] ?? '').trim() === '是';
    const g = f.geometry;
    if (!g || !/LineString$/.test(g.type)) continue;
    for (const line of g.type === 'LineString' ? [g.coordinates] : g.coordinates) {
      for (let i = 0; i + 1 < line.length; i++) {
        const [ca, cb] = [line[i], line[i + 1]];
        const [a, b] = [key(ca), key(cb)];
        if (a === b) continue;
        const secs = hav(ca, cb) / (kmh / 3.6);
        segs.push({ a, b, ca, cb, secs, oneway });
        addEdge(a, b, secs);
        if (!oneway) addEdge(b, a, secs);
      }
    }
  }
  // a point's road: the segment nearest in local metres about the point
  const snap = (pt) => {
    const kx = 111195 * Math.cos(pt[1] * rad), ky = 111195;
    let best = null;
    for (const s of segs) {
      const ax = (s.ca[0] - pt[0]) * kx, ay = (s.ca[1] - pt[1]) * ky;
      const bx = (s.cb[0] - pt[0]) * kx, by = (s.cb[1] - pt[1]) * ky;
      const dx = bx - ax, dy = by - ay, l2 = dx * dx + dy * dy;
      const f = l2 > 0 ? Math.min(1, Math.max(0, (-ax * dx - ay * dy) / l2)) : 0;
      const d = Math.hypot(ax + f * dx, ay + f * dy);
      if (!best || d < best.d) best = { s, f, d };
    }
    return best && best.d <= maxSnap ? { ...best, access: best.d / (10 / 3.6) } : null;
  };
  const dst = snap(to);
  maxSnap = 1000;
  if (!dst) return null;
  // Dijkstra backwards from the point (a plain array heap is enough for a sample city)
  const dist = new Map();
  const heap = [[dst.f * dst.s.secs, dst.s.a]];
  if (!dst.s.oneway) heap.push([(1 - dst.f) * dst.s.secs, dst.s.b]);
  while (heap.length) {
    let bi = 0;
    for (let i = 1; i < heap.length; i++) if (heap[i][0] < heap[bi][0]) bi = i;
    const [t, n] = heap[bi];
    heap[bi] = heap[heap.length - 1];
    heap.pop();
    if (dist.has(n)) continue;
    dist.set(n, t);
    for (const [m, secs] of back.get(n) || []) if (!dist.has(m)) heap.push([t + secs, m]);
  }
  return (from) => {
    const src = snap(from);
    if (!src) return null;
    const s = src.s;
    const opts = [];
    if (dist.has(s.b)) opts.push((1 - src.f) * s.secs + dist.get(s.b));
    if (!s.oneway && dist.has(s.a)) opts.push(src.f * s.secs + dist.get(s.a));
    // both on the same stretch: straight along it, if its direction allows
    if (s.a === dst.s.a && s.b === dst.s.b && (dst.f >= src.f || !s.oneway)) opts.push(Math.abs(dst.f - src.f) * s.secs);
    if (s.a === dst.s.b && s.b === dst.s.a && !s.oneway) opts.push(Math.abs(1 - dst.f - src.f) * s.secs);
    return opts.length ? src.access + Math.min(...opts) + dst.access : null;
  };
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
  srv = await startServer({ port: PORT, out: process.env.RISKMAP_OUT ? OUT : null, config: CONFIG });

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
    for (const h of [...servers]) await h.stop();
    if (srv) { try { fs.writeFileSync(path.join(OUT, 'e2e-server.log'), srv.log); } catch { /* best effort */ } }
  }
}, { timeout: 30_000 });

// ------------------------------------------------------------------ the test
test('viewer end to end', { timeout: 300_000 }, async (t) => {
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

  await t.test('emergency: a click lists the nearest help and draws lines to it; the card lists it; the resources layer', async (st) => {
    if (!(meta.geojson || []).includes('resources')) {
      st.skip('this output has no resources ([resources] not given)');
      return;
    }
    const gcj = !!crsSuffix();
    const res = (await getJson(`/geojson/resources${gcj ? '.gcj02' : ''}.geojson`)).features;
    assert.ok(res.length > 0);
    // the roads file of the config, when it is one: the road oracle's input
    const cfgText = fs.readFileSync(CONFIG || path.join(ROOT, 'riskmap.toml'), 'utf8');
    const rm = /^\[roads\][^[]*?^path\s*=\s*"([^"]+)"/ms.exec(cfgText);
    const byRoad = meta.fire_reach_method === 'road_network';
    let fc = null;
    if (byRoad) {
      assert.ok(rm, 'the server routes by road, so the config names roads');
      const roadsPath = path.resolve(path.dirname(CONFIG || path.join(ROOT, 'riskmap.toml')), rm[1]);
      assert.match(roadsPath, /\.geojson$/i, 'the road oracle reads GeoJSON roads');
      fc = JSON.parse(fs.readFileSync(roadsPath, 'utf8'));
    }
    const toWgs = async (x, y) => (gcj ? page.evaluate(([x, y]) => window.riskmap.gcj02ToWgs84(x, y), [x, y]) : [x, y]);
    // an empty spot inside a district (nothing within 500 m), as for the countryside click;
    // by road, one within 800 m of a road (the server routes up to 1000 m off it)
    const [w, s, e, n] = meta.bounds;
    let spot = null;
    outer:
    for (let j = 0; j < 10; j++) {
      for (let i = 0; i < 10; i++) {
        const lon = Number((w + (i + 0.37) * (e - w) / 10).toFixed(6));
        const lat = Number((s + (j + 0.41) * (n - s) / 10).toFixed(6));
        const at = await getJson(`/api/at?lon=${lon}&lat=${lat}&radius=500${crsSuffix()}`);
        if (!(at.empty === true && at.district)) continue;
        if (byRoad && !roadOracle(fc, await toWgs(lon, lat), 800)) continue;
        spot = { lon, lat };
        break outer;
      }
    }
    assert.ok(spot, 'no empty point found');
    // the oracle: the nearest resource of each type by brute force over resources.geojson
    const hav = (a, b) => {
      const R = 6371008.8, rad = Math.PI / 180;
      const dp = (b[1] - a[1]) * rad, dl = (b[0] - a[0]) * rad;
      const h = Math.sin(dp / 2) ** 2 + Math.cos(a[1] * rad) * Math.cos(b[1] * rad) * Math.sin(dl / 2) ** 2;
      return 2 * R * Math.asin(Math.sqrt(h));
    };
    // resources.gcj02 holds GCJ-02 positions; distances are taken in WGS84 by the server,
    // so compare names only there and distances in WGS84
    const best = {};
    for (const f of res) {
      const d = hav([spot.lon, spot.lat], f.geometry.coordinates);
      const k = f.properties.type;
      if (!best[k] || d < best[k].d) best[k] = { d, name: f.properties.name };
    }
    await viewAndSettle(spot.lat, spot.lon, 13);
    const p = await pagePoint(spot.lat, spot.lon);
    const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/nearest', { timeout: 15_000 });
    await page.mouse.click(p.x, p.y);
    const nearResp = await answered;
    const nr = await nearResp.json();
    await page.waitForSelector('#at-nearest li', { timeout: 15_000 }).catch(async (e) =>
      assert.fail(`no 附近应急资源 list after a click: ${(await panelText()).slice(0, 400)} (${e.message})`));
    const items = await page.$$eval('#at-nearest li', (lis) => lis.map((li) => li.innerText));
    const q = new URL(nearResp.url()).searchParams;
    assert.equal(nr.method, byRoad ? 'road_network' : 'straight_line', 'by road when the output has roads and the point is near one');
    if (byRoad) {
      assert.ok((await panelText()).includes('附近应急资源（路网行车时间）'), 'labelled by road');
      // the point the viewer asked about, in WGS84 (the roads' CRS in the sample)
      const at = await toWgs(Number(q.get('lon')), Number(q.get('lat')));
      const secsFrom = roadOracle(fc, at);
      assert.ok(secsFrom, 'the clicked point is near a road');
      const wgsRes = (await getJson('/geojson/resources.geojson')).features;
      const byKind = {};
      for (const f of wgsRes) {
        const secs = secsFrom(f.geometry.coordinates);
        if (secs === null) continue;
        (byKind[f.properties.type] ||= []).push({ secs, name: f.properties.name });
      }
      let checked = 0;
      for (const [k, list] of Object.entries(byKind)) {
        list.sort((a, b) => a.secs - b.secs);
        const [b1, b2] = list;
        const item = items.find((x) => x.includes(b1.name)) ||
          (b2 && b2.secs - b1.secs < 0.01 * b1.secs ? items.find((x) => x.includes(b2.name)) : undefined);
        assert.ok(item, `the soonest ${k} by the road oracle (${b1.name}, ${(b1.secs / 60).toFixed(1)} min) is listed: ${items.join(' | ')}`);
        const mins = Number(/([\d.]+)\s*分钟/.exec(item)?.[1]);
        assert.ok(Math.abs(mins - b1.secs / 60) <= 0.15 + 0.01 * b1.secs / 60, `${item}: ${(b1.secs / 60).toFixed(2)} min by the oracle`);
        checked++;
      }
      assert.equal(checked, items.length, 'every kind listed is checked');
      // each line drawn follows the roads: its inner vertices are road vertices
      const roadVerts = new Set();
      for (const f of fc.features) {
        const g = f.geometry;
        if (g && /LineString$/.test(g.type)) for (const l of g.type === 'LineString' ? [g.coordinates] : g.coordinates) for (const c of l) roadVerts.add(`${c[0].toFixed(6)},${c[1].toFixed(6)}`);
      }
      for (const kd of nr.kinds) {
        const r0 = kd.resources[0];
        if (!r0 || !r0.path) continue;
        const inner = r0.path.slice(2, -2);
        if (q.get('crs') !== 'gcj02') {
          for (const c of inner) assert.ok(roadVerts.has(`${c[0].toFixed(6)},${c[1].toFixed(6)}`), `${kd.type}: ${c} is a road vertex`);
        }
        assert.ok(r0.path.length >= 4, `${kd.type}: a path along the roads, ${r0.path.length} points`);
      }
    } else {
      assert.equal(items.length, Object.keys(best).length, `one line per type: ${items.join(' | ')}`);
      for (const [k, b] of Object.entries(best)) {
        assert.ok(items.some((x) => x.includes(b.name)), `the nearest ${k} (${b.name}, ${Math.round(b.d)} m by brute force) is listed: ${items.join(' | ')}`);
      }
      assert.ok((await panelText()).includes('附近应急资源（直线距离）'), 'labelled straight-line');
    }
    // a dashed line from the click to each (along its path by road)
    const lines = await page.evaluate(() => {
      const out = [];
      window.riskmap.map.eachLayer((l) => { if (l instanceof L.Polyline && !(l instanceof L.Polygon) && l.options.dashArray === '5 4') out.push(l.getLatLngs().length); });
      return out;
    });
    assert.equal(lines.length, items.length, 'a line to each resource listed');
    if (byRoad) assert.ok(lines.every((n) => n >= 4), `lines follow the roads: ${lines}`);

    // the card of a red enterprise: 应急救援 with the nearest help of each kind
    const red = (await getJson('/api/enterprises?level=red&limit=1' + crsSuffix())).features[0];
    const card = await getJson('/api/enterprises/' + encodeURIComponent(red.properties.id));
    await page.evaluate((id) => window.riskmap.openCard(id, null, null), red.properties.id);
    await page.waitForSelector('#card-emergency', { timeout: 15_000 });
    const rows = await page.$$eval('#card-nearest tr', (trs) => trs.map((tr) => tr.innerText));
    const kinds = card.emergency.nearest.filter((k) => k.resources.length);
    assert.equal(rows.length, kinds.length);
    kinds.forEach((k, i) => assert.ok(rows[i].includes(k.resources[0].name) && rows[i].includes(k.type_zh), `${rows[i]} vs ${k.type_zh} ${k.resources[0].name}`));
    const em = await page.textContent('#card-emergency');
    if (card.emergency.fire_station) assert.ok(em.includes(card.emergency.fire_station.name));
    else assert.ok(em.includes(`不在任何消防站${meta.fire_response_min ?? 5}分钟到达范围内`), 'the reach in the config\'s minutes');
    assert.doesNotMatch(await panelText(), RAW_FIELD, 'no field names on the card');

    // the resources layer: an icon per resource in view, and the stations' reach
    await page.check('#layer-resources');
    await page.check('#layer-reach');
    await viewAndSettle(red.geometry.coordinates[1], red.geometry.coordinates[0], 11);
    const icons = await page.$$eval('.res-icon', (els) => els.length);
    const inView = await page.evaluate((pts) => {
      const b = window.riskmap.map.getBounds();
      return pts.filter((c) => b.contains([c[1], c[0]])).length;
    }, res.map((f) => f.geometry.coordinates));
    assert.equal(icons, res.length, `every resource has its icon (${inView} in view)`);
    assert.ok(parseHash(await page.evaluate(() => location.hash)).l.includes('resources'));
    await page.uncheck('#layer-resources');
    await page.uncheck('#layer-reach');

    // the lifelines: the card of an enterprise in a protection zone names the line, and
    // the layer draws every line and zone of lifelines.geojson
    if ((meta.geojson || []).includes('lifelines')) {
      const gj = await getJson('/geojson/lifelines.geojson');
      const line = gj.features.find((f) => f.properties.role === 'line' && f.properties.enterprises_in_protection.length);
      assert.ok(line, 'a line with an enterprise in its protection zone');
      await page.evaluate((id) => window.riskmap.openCard(id, null, null), line.properties.enterprises_in_protection[0]);
      await page.waitForSelector('#card-lifelines', { timeout: 15_000 });
      const txt = await page.textContent('#card-lifelines');
      assert.ok(txt.includes(line.properties.name) && txt.includes('位于保护范围内'), txt);
      await page.check('#layer-lifelines');
      const drawn = await page.evaluate(() => {
        let n = 0;
        window.riskmap.map.eachLayer((l) => { if (l.feature && l.feature.properties && l.feature.properties.role) n++; });
        return n;
      });
      assert.equal(drawn, gj.features.length, 'every line and zone drawn');
      // the URL keeps the layer (written a moment after the switch)
      await page.waitForFunction(() => /[#&]l=[^&]*lifelines/.test(decodeURIComponent(location.hash)), null, { timeout: 5_000 })
        .catch(async () => assert.fail(`the URL does not keep the lifelines layer: ${await page.evaluate(() => location.hash)}`));
      await page.uncheck('#layer-lifelines');
    }
  });

  await t.test('monitoring: a posted reading flashes a ring on the map and a banner on the card, both gone after the off-delay', async (st) => {
    const alarms0 = await getJson('/api/alarms');
    // the token of the config the server runs with ([monitoring] token), or the env
    const cfgText = fs.readFileSync(CONFIG || path.join(ROOT, 'riskmap.toml'), 'utf8');
    const m = /\[monitoring\][^[]*?\btoken\s*=\s*"([^"]+)"/s.exec(cfgText);
    const token = process.env.RISKMAP_MONITORING_TOKEN || (m && m[1]);
    if (!alarms0.points || !token) { st.skip('no monitoring points or no token in this config'); return; }
    const gj = await getJson('/geojson/monitoring.geojson');
    const busy = new Set(alarms0.active.map((a) => a.enterprise));
    const f = gj.features.find((x) => x.properties.high_high != null && !busy.has(x.properties.enterprise_id));
    assert.ok(f, 'a point with a high-high threshold at an enterprise not in alarm');
    const p = f.properties;
    const post = async (value, agoS) => {
      const r = await fetch(BASE + '/api/readings', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ point: p.point, value, time: Date.now() - agoS * 1000 }),
      });
      const body = await r.json();
      assert.equal(r.status, 200, JSON.stringify(body));
      assert.equal(body.accepted, 1, JSON.stringify(body));
    };
    // without the token: 401, nothing taken
    const no = await fetch(BASE + '/api/readings', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ point: p.point, value: 1 }) });
    assert.equal(no.status, 401);
    await page.evaluate((id) => window.riskmap.openCard(id, null, null), p.enterprise_id);
    await page.waitForSelector('#card-monitoring, #card-faults', { timeout: 15_000 });
    const rings0 = await page.$$eval('path.alarm-ring', (els) => els.length);
    assert.equal(rings0, new Set(alarms0.active.filter((a) => typeof a.lon === 'number').map((a) => a.enterprise)).size, 'a ring per enterprise in alarm');
    // past high-high: the ring (through the /api/events alarm event) and the card's banner
    await post(p.high_high * 1.5 + 1, 200);
    await page.waitForFunction((n) => document.querySelectorAll('path.alarm-ring').length === n + 1, rings0, { timeout: 15_000 })
      .catch(async () => assert.fail(`no new ring: ${await page.$$eval('path.alarm-ring', (els) => els.length)} rings`));
    const ring = await page.evaluate(() => {
      const el = document.querySelector('path.alarm-ring.sev-high_high');
      return el && { anim: getComputedStyle(el).animationName, stroke: el.getAttribute('stroke') };
    });
    assert.ok(ring, 'a high-high ring');
    assert.equal(ring.anim, 'alarm-flash', 'the ring flashes');
    await page.waitForSelector('#card-alarm', { timeout: 15_000 });
    const banner = await page.textContent('#card-alarm');
    assert.ok(banner.includes('高高报') && banner.includes(p.name || p.point), banner);
    const api = await getJson('/api/alarms?enterprise=' + encodeURIComponent(p.enterprise_id));
    assert.equal(api.active[0].point, p.point);
    // back under for longer than the off-delay: cleared, the ring and the banner go
    await post(0, 130);
    await post(0, 60);
    await page.waitForFunction((n) => document.querySelectorAll('path.alarm-ring').length === n, rings0, { timeout: 15_000 })
      .catch(async () => assert.fail(`the ring stayed: ${await page.$$eval('path.alarm-ring', (els) => els.length)} rings`));
    await page.waitForSelector('#card-alarm', { state: 'detached', timeout: 15_000 });
  });

  await t.test('legend shows the zone colours with the opacity they are drawn with', async () => {
    // the oracle: the surface tiles the page loaded, decoded here; a level's colour is
    // drawn with the tiles' alpha (the highest on more than a few pixels: interior, not
    // anti-aliased edge) times the tile layer's opacity
    const levels = Object.fromEntries(meta.levels.map((l) => [l.key, hexRgb(l.color)]));
    const urls = [...new Set(tileResponses.filter((r) => r.status === 200 && /^\/tiles\/surface(_gcj02)?\/\d+\/\d+\/\d+\.png$/.test(r.url)).map((r) => r.url))];
    assert.ok(urls.length > 0, 'no surface tile was loaded');
    const hist = {};
    for (const u of urls.slice(0, 40)) {
      const r = await fetch(BASE + u);
      const img = decodePng(Buffer.from(await r.arrayBuffer()));
      for (let i = 0; i < img.data.length; i += 4) {
        const a = img.data[i + 3];
        if (!a) continue;
        for (const k of ['red', 'orange', 'yellow', 'blue']) {
          const c = levels[k];
          if (img.data[i] === c[0] && img.data[i + 1] === c[1] && img.data[i + 2] === c[2]) {
            (hist[k] ||= {})[a] = ((hist[k] || {})[a] || 0) + 1;
          }
        }
      }
    }
    const opacity = await page.evaluate(() => window.riskmap.tileLayers.surface.options.opacity);
    const rows = await page.$$eval('#legend-zones li[data-level]', (lis) => lis.map((li) => {
      const sw = li.querySelector('.swatch');
      return { level: li.getAttribute('data-level'), rgba: sw.getAttribute('data-rgba'), bg: getComputedStyle(sw).backgroundColor };
    }));
    assert.deepEqual(rows.map((r) => r.level), ['red', 'orange', 'yellow', 'blue'], 'one zone legend row per level');
    let checked = 0;
    for (const r of rows) {
      const got = parseRgba(r.bg);
      assert.deepEqual(got.slice(0, 3), levels[r.level], `zone legend colour for ${r.level}`);
      // the computed style keeps alpha in 8 bits (0.15 → 0.149)
      const declared = parseRgba(r.rgba);
      assert.deepEqual(declared.slice(0, 3), got.slice(0, 3), `data-rgba is the swatch's colour (${r.level})`);
      assert.ok(Math.abs(declared[3] - got[3]) < 0.005, `data-rgba alpha ${declared[3]} vs drawn ${got[3]} (${r.level})`);
      const h = hist[r.level];
      if (!h) continue;
      const alphas = Object.keys(h).map(Number).filter((a) => h[a] >= 4);
      if (!alphas.length) continue;
      const want = (Math.max(...alphas) / 255) * opacity;
      assert.ok(Math.abs(got[3] - want) < 0.01, `zone legend alpha for ${r.level}: ${got[3]}, drawn with ${want.toFixed(3)}`);
      assert.ok(got[3] < 1, 'the legend shows the zones translucent, as drawn');
      checked++;
    }
    assert.ok(checked >= 1, `no zone colour found in ${urls.length} surface tiles`);
    // the opacity slider: the layer and the legend change together
    await page.$eval('#zone-opacity', (el) => { el.value = '50'; el.dispatchEvent(new Event('input', { bubbles: true })); });
    const half = await page.evaluate(() => ({
      layer: window.riskmap.tileLayers.surface.options.opacity,
      red: getComputedStyle(document.querySelector('#legend-zones li[data-level="red"] .swatch')).backgroundColor,
    }));
    assert.equal(half.layer, 0.5, 'zone layer opacity');
    const redAlphas = Object.keys(hist.red || {}).map(Number).filter((a) => hist.red[a] >= 4);
    if (redAlphas.length) {
      const want = (Math.max(...redAlphas) / 255) * 0.5;
      assert.ok(Math.abs(parseRgba(half.red)[3] - want) < 0.01, `red zone legend at half opacity: ${half.red}, drawn ${want}`);
    }
    await page.waitForFunction(() => /(^|[&#])op=50(&|$)/.test(location.hash));
    await page.$eval('#zone-opacity', (el) => { el.value = '100'; el.dispatchEvent(new Event('input', { bubbles: true })); });
  });

  await t.test('district-by-level layer fills each district with the level the build gave it', async () => {
    const stats = await getJson('/api/stats');
    const summary = JSON.parse(fs.readFileSync(path.join(OUT, 'summary.json'), 'utf8'));
    const rule = summary.areas && summary.areas.rule;
    const colors = Object.fromEntries(meta.levels.map((l) => [l.key, l.color.toUpperCase()]));
    await page.check('#layer-areas');
    const drawn = await page.waitForFunction(() => {
      const l = window.riskmap.getAreasLayer();
      if (!l || !window.riskmap.map.hasLayer(l)) return null;
      const out = [];
      l.eachLayer((f) => out.push({ name: f.feature.properties.name, fill: f.options.fillColor, op: f.options.fillOpacity }));
      return out;
    }).then((h) => h.jsonValue());
    assert.equal(drawn.length, stats.districts.length, 'one filled polygon per district of /api/stats');
    const byName = Object.fromEntries(drawn.map((d) => [d.name, d]));
    for (const d of stats.districts) {
      const f = byName[d.name];
      assert.ok(f, `district ${d.name} is drawn`);
      // summary.json is the build's own record of the district's level; under the
      // default rule it is also the highest level among the counts /api/stats reports
      const want = summary.areas.districts[d.name].level;
      if (rule === 'highest') assert.equal(want, highestLevel(d.levels), `${d.name}: summary level vs /api/stats counts`);
      assert.equal(String(f.fill).toUpperCase(), colors[want], `${d.name} filled with the ${want} colour`);
    }
    // its legend: the same fill at the same opacity
    const op = drawn[0].op;
    const leg = await page.$$eval('#legend-areas li[data-level]', (lis) => lis.map((li) => ({
      level: li.getAttribute('data-level'), bg: getComputedStyle(li.querySelector('.swatch')).backgroundColor,
      count: Number(li.querySelector('.count').textContent),
    })));
    assert.ok(leg.length > 0, 'district level legend rows');
    for (const r of leg) {
      const c = parseRgba(r.bg);
      assert.deepEqual(c.slice(0, 3), hexRgb(colors[r.level]), `district legend colour ${r.level}`);
      assert.ok(Math.abs(c[3] - op) < 0.01, `district legend alpha ${c[3]} = fill opacity ${op}`);
      assert.equal(r.count, stats.districts.filter((d) => summary.areas.districts[d.name].level === r.level).length);
    }
    await page.uncheck('#layer-areas');
  });

  await t.test('a click inside a red zone names the enterprises that make it red', async () => {
    const fc = await getJson('/api/enterprises?level=red&limit=40' + crsSuffix());
    let spot = null;
    for (const f of fc.features) {
      const [lon0, lat0] = f.geometry.coordinates;
      for (const [dx, dy] of [[0.003, 0], [0, 0.003], [-0.003, 0], [0, -0.003]]) {
        const lon = Number((lon0 + dx).toFixed(6)), lat = Number((lat0 + dy).toFixed(6));
        const at = await getJson(`/api/at?lon=${lon}&lat=${lat}&radius=40${crsSuffix()}`);
        if (at.zone && at.zone.level === 'red' && (at.zone.made_by || []).length > 0 && (at.enterprises || []).length === 0) {
          spot = { lon, lat };
          break;
        }
      }
      if (spot) break;
    }
    assert.ok(spot, 'no spot inside a red zone, away from every enterprise, found');
    const at = await getJson(`/api/at?lon=${spot.lon}&lat=${spot.lat}&radius=500${crsSuffix()}`);
    await viewAndSettle(spot.lat, spot.lon, 15);
    const p = await pagePoint(spot.lat, spot.lon);
    await page.mouse.click(p.x, p.y);
    await page.waitForSelector('#at-made-by li', { timeout: 15_000 });
    const names = await page.$$eval('#at-made-by li .nm', (els) => els.map((e) => e.textContent.trim()));
    assert.deepEqual(names, at.zone.made_by.map((m) => m.name), 'made_by names in the panel');
    const txt = await panelText();
    assert.ok(txt.includes('使此处为重大风险的企业'), `made_by heading: ${txt.slice(0, 300)}`);
    assert.doesNotMatch(txt, RAW_FIELD, 'the location panel shows no raw field names');
    // one of them opens its card, with a way back
    await page.click('#at-made-by li');
    await page.waitForFunction((n) => (document.querySelector('#panel .card-name') || {}).textContent === n, at.zone.made_by[0].name);
    assert.ok(await page.isVisible('#panel-back'), 'back button on a card opened from the panel');
  });

  await t.test('the card speaks in words, not field names', async () => {
    const fc = JSON.parse(fs.readFileSync(path.join(OUT, 'enterprises.geojson'), 'utf8'));
    const want = new Map();
    const pickOne = (what, pred) => { const f = fc.features.find((x) => pred(x.properties)); if (f) want.set(f.properties.id, what); };
    pickOne('warnings', (p) => p.warnings && String(p.warnings).length > 0);
    pickOne('open major hidden danger', (p) => p.rule === 'open_major_hidden_danger');
    pickOne('major hazard', (p) => p.rule === 'major_hazard_floor');
    pickOne('direct', (p) => p.rule === 'direct');
    pickOne('unassessed', (p) => p.level === 'unassessed');
    pickOne('risk point', (p) => p.rule === 'risk_point');
    // the sample has every kind; an office register with direct levels only has one
    assert.ok(want.size >= 1, 'enterprises to open');
    for (const [id, what] of want) {
      const card = await getJson('/api/enterprises/' + encodeURIComponent(id));
      await page.evaluate((id) => window.riskmap.openCard(id), id);
      await page.waitForFunction((n) => (document.querySelector('#panel .card-name') || {}).textContent === n, card.name);
      const txt = await panelText();
      assert.doesNotMatch(txt, RAW_FIELD, `card of ${id} (${what}) shows a raw field name:\n${txt}`);
      const rule = await page.evaluate(() => {
        const dts = [...document.querySelectorAll('#card-fields dt')];
        const dt = dts.find((d) => d.textContent === '判定规则');
        return dt ? dt.nextElementSibling.textContent : null;
      });
      assert.ok(rule && /[\u4e00-\u9fff]/.test(rule), `the rule of ${id} (${card.rule}) in words: ${rule}`);
      if (card.warnings && card.warnings.length) {
        const w = await page.$$eval('#card-warnings li', (els) => els.map((e) => e.textContent));
        assert.equal(w.length, card.warnings.length, 'one line per data note');
        for (const line of w) assert.match(line, /[\u4e00-\u9fff]/, `data note in Chinese: ${line}`);
      }
      for (const k of Object.keys(card.extra || {})) assert.ok(txt.includes(k), `extra column ${k} shown under its own header`);
    }
  });

  await t.test('the view is kept in the URL hash and restored from it', async () => {
    const stats = await getJson('/api/stats');
    const d = stats.districts[1] || stats.districts[0];
    const lat = 36.68123, lon = 117.04567;
    const hash = `#z=13&c=${lat},${lon}&l=grid,areas&lv=red&dist=${encodeURIComponent(d.name)}&pts=red,orange`;
    await page.goto('about:blank');
    await page.goto(BASE + '/' + hash, { waitUntil: 'domcontentloaded' });
    await waitLoaded(page);
    const st = await page.evaluate(() => {
      const rm = window.riskmap, c = rm.map.getCenter();
      const w = rm.state.crs === 'gcj02' ? rm.gcj02ToWgs84(c.lng, c.lat) : [c.lng, c.lat];
      const boxes = {};
      for (const k of ['surface', 'grid', 'districts', 'areas']) boxes[k] = document.getElementById('layer-' + k).checked;
      const pts = {};
      document.querySelectorAll('#point-layer-list input[data-level]').forEach((b) => { pts[b.getAttribute('data-level')] = b.checked; });
      return {
        zoom: rm.map.getZoom(), lon: w[0], lat: w[1], boxes, pts,
        onMap: { surface: rm.map.hasLayer(rm.tileLayers.surface), grid: rm.map.hasLayer(rm.tileLayers.grid), areas: rm.map.hasLayer(rm.getAreasLayer()) },
        level: document.getElementById('filter-level').value, district: document.getElementById('filter-district').value,
        legendRed: Number(document.querySelector('#legend li[data-level="red"] .count').textContent),
      };
    });
    assert.equal(st.zoom, 13, 'zoom from the hash');
    assert.ok(Math.abs(st.lat - lat) < 1e-4 && Math.abs(st.lon - lon) < 1e-4, `centre from the hash: ${st.lat},${st.lon}`);
    assert.deepEqual(st.boxes, { surface: false, grid: true, districts: false, areas: true }, 'layer boxes from the hash');
    assert.deepEqual(st.onMap, { surface: false, grid: true, areas: true }, 'layers on the map from the hash');
    assert.deepEqual(st.pts, { red: true, orange: true, yellow: false, blue: false, unassessed: false }, 'point layers from the hash');
    assert.equal(st.level, 'red');
    assert.equal(st.district, d.name);
    const filtered = await getJson(`/api/stats?level=red&district=${encodeURIComponent(d.name)}`);
    assert.equal(st.legendRed, filtered.levels.red, 'legend counts follow the filters from the hash');

    // pan → the hash follows
    await page.evaluate(() => window.riskmap.map.panBy([300, 120], { animate: false }));
    const moved = await page.waitForFunction((old) => {
      const h = location.hash;
      return h.includes('c=') && !h.includes(old) ? h : null;
    }, `c=${lat.toFixed(5)},${lon.toFixed(5)}`, { timeout: 10_000 }).then((h) => h.jsonValue());
    const hp = parseHash(moved);
    const now = await page.evaluate(() => {
      const rm = window.riskmap, c = rm.map.getCenter();
      return rm.state.crs === 'gcj02' ? rm.gcj02ToWgs84(c.lng, c.lat) : [c.lng, c.lat];
    });
    const [hl, ho] = hp.c.split(',').map(Number);
    assert.ok(Math.abs(hl - now[1]) < 2e-5 && Math.abs(ho - now[0]) < 2e-5, `hash centre ${hp.c} = map centre ${now}`);
    assert.equal(hp.z, '13');
    assert.equal(hp.lv, 'red');
    // a layer switched → the hash follows; a reload restores the same view
    await page.check('#layer-surface');
    await page.waitForFunction(() => /(^|[&#])l=[^&]*surface/.test(location.hash));
    const before = parseHash(await page.evaluate(() => location.hash));
    await page.reload({ waitUntil: 'domcontentloaded' });
    await waitLoaded(page);
    const after = parseHash(await page.evaluate(() => window.riskmap.viewHash()));
    assert.deepEqual(after, before, 'reloading the shared URL gives the same view');
  });

  await t.test('PNG export draws the current view', async () => {
    await page.goto('about:blank');
    await page.goto(BASE + '/#z=12&c=36.79728,116.96860&l=surface,districts,areas', { waitUntil: 'domcontentloaded' });
    await waitLoaded(page);
    await page.waitForLoadState('networkidle', { timeout: 30_000 });
    const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 20_000 }), page.click('#export-png')]);
    assert.match(dl.suggestedFilename(), /\.png$/, 'download name');
    const file = path.join(OUT, 'e2e-export.png');
    await dl.saveAs(file);
    const img = decodePng(fs.readFileSync(file));
    const size = await page.evaluate(() => window.riskmap.map.getSize());
    assert.ok(img.width >= size.x && img.height > size.y, `image ${img.width}×${img.height} holds the ${size.x}×${size.y} map`);
    const colours = new Map();
    for (let i = 0; i < img.data.length; i += 4) {
      const k = img.data.readUInt32BE(i);
      colours.set(k, (colours.get(k) || 0) + 1);
    }
    assert.ok(colours.size > 20, `the export has ${colours.size} colours`);
    // the zones are in it: pixels near the red zone colour over the land
    const [r, g, b] = hexRgb(meta.levels.find((l) => l.key === 'red').color);
    let reddish = 0;
    for (let i = 0; i < img.data.length; i += 4) {
      if (Math.abs(img.data[i] - r) < 40 && img.data[i + 1] < 160 && img.data[i + 2] < 160 && r > 200) reddish++;
    }
    assert.ok(reddish > 500, `red zone pixels in the export: ${reddish}`);
    const info = await page.evaluate(() => window.riskmap.state.lastExport);
    assert.ok(info.tiles > 0 && info.canvases > 0, `tiles and vector layers drawn: ${JSON.stringify(info)}`);
  });

  await t.test('print shows the exported view alone', async () => {
    await page.evaluate(() => { window.print = () => { window.__printed = true; }; });
    await page.click('#print-view');
    await page.waitForFunction(() => window.__printed === true);
    await page.emulateMedia({ media: 'print' });
    const vis = await page.evaluate(() => ({
      img: getComputedStyle(document.getElementById('print-image')).display,
      map: getComputedStyle(document.getElementById('map-wrap')).display,
      src: document.getElementById('print-image').src.slice(0, 22),
    }));
    await page.emulateMedia({ media: 'screen' });
    assert.deepEqual(vis, { img: 'block', map: 'none', src: 'data:image/png;base64,' });
  });

  await t.test('basemaps: a choice per entry, overlays on theirs, layers re-aligned on a GCJ-02 one', async (st) => {
    if (!meta.layers_gcj02 || !meta.layers_gcj02.length) {
      st.skip('this output has no GCJ-02 pyramids ([output] crs_out)');
      return;
    }
    // the server's own tile pyramids stand in for 天地图 (WGS84, with a label overlay)
    // and a Gaode mirror (GCJ-02): /api/meta is answered with them as [[serve.basemaps]]
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN' });
    const pg = await ctx.newPage();
    const errs = [];
    pg.on('pageerror', (e) => errs.push(e.message));
    const basemaps = [
      { name: '测试矢量', url: '/tiles/areas/{z}/{x}/{y}.png', crs: 'wgs84', attribution: '', subdomains: 'abc', maxzoom: 16, overlay: false },
      { name: '测试注记', url: '/tiles/points/{z}/{x}/{y}.png', crs: 'wgs84', attribution: '', subdomains: 'abc', maxzoom: 16, overlay: true },
      { name: '测试高德', url: '/tiles/areas_gcj02/{z}/{x}/{y}.png', crs: 'gcj02', attribution: '', subdomains: 'abc', maxzoom: 16, overlay: false },
    ];
    await pg.route('**/api/meta', async (route) => {
      const r = await route.fetch();
      const m = await r.json();
      m.basemaps = basemaps;
      m.basemap = basemaps[0];
      await route.fulfill({ response: r, json: m });
    });
    const tiles = [];
    pg.on('response', (r) => { const u = new URL(r.url()); if (u.pathname.startsWith('/tiles/')) tiles.push(u.pathname); });
    try {
      const red = (await getJson('/api/enterprises?level=red&limit=1')).features[0];
      const [lon, lat] = red.geometry.coordinates;
      const gcj = (await getJson(`/api/enterprises?q=${encodeURIComponent(red.properties.id)}&crs=gcj02&limit=1`)).features[0].geometry.coordinates;
      await pg.goto(`${BASE}/#z=14&c=${lat},${lon}`, { waitUntil: 'domcontentloaded' });
      await waitLoaded(pg);
      const radios = await pg.$$eval('#basemap-list input[type=radio]', (els) => els.map((e) => ({ id: e.id, checked: e.checked, label: e.closest('label').textContent.trim() })));
      assert.deepEqual(radios.map((r) => r.label.replace(/\s*GCJ-02$/, '')), ['测试矢量', '测试高德', '无底图'], 'one radio per basemap choice and 无底图; the overlay is not a choice');
      assert.ok(radios[0].checked, 'the first basemap is shown first');
      await waitUntil(() => tiles.some((u) => u.startsWith('/tiles/areas/')) && tiles.some((u) => u.startsWith('/tiles/points/')), 15_000, 'basemap and its overlay tiles');
      const where = (id) => pg.evaluate((id) => {
        const rm = window.riskmap, c = rm.map.getCenter();
        let m = null;
        rm.map.eachLayer((l) => { if (l.feature && l.feature.properties && l.feature.properties.id === id && l.getLatLng) m = l.getLatLng(); });
        return { crs: rm.state.crs, marker: m && [m.lng, m.lat], center: rm.state.crs === 'gcj02' ? rm.gcj02ToWgs84(c.lng, c.lat) : [c.lng, c.lat],
          surface: rm.tileLayers.surface && rm.tileLayers.surface._url, noBasemap: document.getElementById('map').classList.contains('no-basemap'),
          district0: (() => { let v = null; rm.map.eachLayer((l) => { if (!v && l.feature && l.feature.properties && l.feature.properties.adcode && l.getLatLngs && l.options.pane === 'districtLine') { let a = l.getLatLngs(); while (Array.isArray(a[0])) a = a[0]; v = [a[0].lng, a[0].lat]; } }); return v; })() };
      }, id);
      const w = await where(red.properties.id);
      assert.equal(w.crs, 'wgs84');
      assert.ok(w.marker && Math.abs(w.marker[0] - lon) < 1e-6 && Math.abs(w.marker[1] - lat) < 1e-6, `WGS84 marker at its WGS84 place: ${w.marker}`);
      assert.match(w.surface, /\/tiles\/surface\//);

      await pg.check('#basemap-1');
      await pg.evaluate(() => window.riskmap.pointsSettled());
      await pg.waitForFunction((id) => {
        let ok = false;
        window.riskmap.map.eachLayer((l) => { if (l.feature && l.feature.properties && l.feature.properties.id === id) ok = true; });
        return ok && window.riskmap.state.crs === 'gcj02';
      }, red.properties.id);
      await pg.waitForFunction(() => !!window.riskmap.state.districts && /gcj02/.test(JSON.stringify(window.riskmap.state.districts.properties || {})) || window.riskmap.state.districtsC2ll);
      await sleep(300);
      const g = await where(red.properties.id);
      assert.equal(g.crs, 'gcj02', 'a GCJ-02 basemap puts the map in GCJ-02');
      assert.match(g.surface, /\/tiles\/surface_gcj02\//, 'zones from the _gcj02 pyramid');
      assert.ok(Math.abs(g.marker[0] - gcj[0]) < 1e-6 && Math.abs(g.marker[1] - gcj[1]) < 1e-6, `marker at its GCJ-02 place ${gcj}: ${g.marker}`);
      assert.ok(Math.abs(g.center[0] - w.center[0]) < 5e-5 && Math.abs(g.center[1] - w.center[1]) < 5e-5, `the same place stays in view: ${w.center} → ${g.center}`);
      const dg = JSON.parse(fs.readFileSync(path.join(OUT, 'districts.gcj02.geojson'), 'utf8'));
      const dw = JSON.parse(fs.readFileSync(path.join(OUT, 'districts.geojson'), 'utf8'));
      const firstVertex = (gj) => new Set(gj.features.map((f) => { let a = f.geometry.coordinates; while (Array.isArray(a[0])) a = a[0]; return a.join(','); }));
      assert.ok(firstVertex(dw).has(w.district0.join(',')), 'WGS84 district outline from districts.geojson');
      assert.ok(firstVertex(dg).has(g.district0.join(',')), 'GCJ-02 district outline from districts.gcj02.geojson');
      await waitUntil(() => tiles.some((u) => u.startsWith('/tiles/areas_gcj02/')), 15_000, 'GCJ-02 basemap tiles');
      assert.match(await pg.evaluate(() => location.hash), /b=%E6%B5%8B%E8%AF%95%E9%AB%98%E5%BE%B7|b=测试高德/, 'basemap in the hash');

      await pg.check('#basemap-none');
      const n = await where(red.properties.id);
      assert.ok(n.noBasemap, '无底图');
      assert.equal(await pg.evaluate(() => window.riskmap.state.basemap), -1);
      await pg.waitForFunction(() => /(^|[&#])b=-(&|$)/.test(location.hash));
      // back to WGS84: everything returns
      await pg.check('#basemap-0');
      await pg.evaluate(() => window.riskmap.pointsSettled());
      await pg.waitForFunction(() => window.riskmap.state.crs === 'wgs84');
      await sleep(300);
      const back = await where(red.properties.id);
      assert.ok(Math.abs(back.marker[0] - lon) < 1e-6 && Math.abs(back.marker[1] - lat) < 1e-6, 'WGS84 marker again');
      // a link that names the GCJ-02 basemap opens on it
      await pg.goto('about:blank');
      await pg.goto(`${BASE}/#z=14&c=${lat},${lon}&b=${encodeURIComponent('测试高德')}`, { waitUntil: 'domcontentloaded' });
      await waitLoaded(pg);
      const h = await where(red.properties.id);
      assert.equal(h.crs, 'gcj02');
      assert.ok(await pg.isChecked('#basemap-1'));
      assert.ok(Math.abs(h.center[0] - lon) < 1e-4 && Math.abs(h.center[1] - lat) < 1e-4, 'hash centre is WGS84 whatever the basemap');
      assert.deepEqual(errs, [], 'page errors');
    } finally {
      await ctx.close();
    }
  });

  await t.test('vector mode: MapLibre draws the vector tiles offline; clicking a red enterprise opens its card', async (st) => {
    const vts = (meta.vector || []).filter((v) => !/_gcj02$/.test(v.name));
    if (!vts.length) {
      st.skip('this output has no vector tiles ([vector] enabled = false)');
      return;
    }
    // WebGL in headless Chromium: SwiftShader (the main browser runs with --disable-gpu)
    const gl = await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const errs = [];
    const reqs = [];
    try {
      const pg = await gl.newPage({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN' });
      pg.setDefaultTimeout(30_000);
      pg.on('pageerror', (e) => errs.push(e.message));
      pg.on('console', (m) => { if (m.type() === 'error') console.log('# vector page console error:', m.text()); });
      pg.on('requestfinished', async (rq) => { const r = await rq.response(); reqs.push({ url: rq.url(), status: r ? r.status() : 0 }); });
      pg.on('requestfailed', (rq) => reqs.push({ url: rq.url(), status: -1 }));

      // a red enterprise with no other within 20 m, in WGS84 (the sample has no GCJ-02 basemap)
      const fc = await getJson('/api/enterprises?level=red&limit=20');
      let target = fc.features[0];
      for (const f of fc.features) {
        const [lo, la] = f.geometry.coordinates;
        if (((await getJson(`/api/at?lon=${lo}&lat=${la}&radius=20`)).enterprises || []).length === 1) { target = f; break; }
      }
      const [lon, lat] = target.geometry.coordinates;
      const { id, name } = target.properties;

      // a link with m=v opens the vector map
      await pg.goto(`${BASE}/#z=16&c=${lat},${lon}&m=v`, { waitUntil: 'domcontentloaded' });
      await waitLoaded(pg);
      assert.equal(await pg.evaluate(() => window.riskmap.isVector()), true, 'm=v opens the vector map');
      assert.ok(await pg.isVisible('#vmap'));
      assert.equal((await pg.textContent('#mode-toggle')).trim(), '栅格', 'the toggle offers the way back');
      await pg.evaluate(() => window.riskmap.vectorIdle());

      // the enterprise as MapLibre drew it: from the tile, with the GeoJSON's attributes
      const drawn = await pg.evaluate(([id, lon, lat]) => {
        const m = window.riskmap.getVectorMap();
        const fs = m.queryRenderedFeatures({ layers: ['enterprises'] });
        const f = fs.find((x) => String(x.properties.id) === id);
        const q = m.project([lon, lat]);
        const r = m.getContainer().getBoundingClientRect();
        // the pixel under it, read from the WebGL canvas
        const cv = m.getCanvas(), c2 = document.createElement('canvas');
        c2.width = cv.width; c2.height = cv.height;
        const ctx = c2.getContext('2d');
        ctx.drawImage(cv, 0, 0);
        const k = cv.width / r.width;
        const px = Array.from(ctx.getImageData(Math.round(q.x * k), Math.round(q.y * k), 1, 1).data);
        return { n: fs.length, props: f ? f.properties : null, x: r.left + q.x, y: r.top + q.y, px, zoom: m.getZoom(),
          labels: m.queryRenderedFeatures({ layers: ['district-labels'] }).length,
          zones: m.queryRenderedFeatures({ layers: ['zones'] }).length };
      }, [id, lon, lat]);
      assert.ok(drawn.props, `enterprise ${id} is not among the ${drawn.n} enterprises MapLibre drew at zoom ${drawn.zoom}`);
      assert.equal(drawn.props.level, 'red');
      assert.equal(drawn.props.name, name);
      assert.equal(drawn.props.level_zh, '重大风险');
      assert.ok(drawn.zones > 0, 'the zones layer is drawn');
      const red = hexRgb(meta.levels.find((l) => l.key === 'red').color);
      assert.ok(drawn.px.slice(0, 3).every((v, i) => Math.abs(v - red[i]) <= 40),
        `pixel under the red enterprise is rgb(${drawn.px.slice(0, 3)}), not the red level's ${red}`);

      // offline: every request went to this server, and the tiles, style and glyphs answered
      assert.deepEqual(reqs.filter((r) => !r.url.startsWith(BASE) && !r.url.startsWith('blob:') && !r.url.startsWith('data:')).map((r) => r.url), [],
        'requests that left the server');
      assert.deepEqual(reqs.filter((r) => r.status < 0 || r.status >= 400).map((r) => `${r.status} ${r.url}`), [], 'failed requests');
      for (const want of ['/viewer/vendor/maplibre-gl/maplibre-gl.js', '/styles/style.json', `/tiles/${vts[0].name}/`]) {
        assert.ok(reqs.some((r) => new URL(r.url).pathname.startsWith(want)), `a request for ${want}`);
      }
      assert.ok(reqs.some((r) => /\/tiles\/[^/]+\/\d+\/\d+\/\d+\.pbf\?g=/.test(r.url) || /\.pbf$/.test(new URL(r.url).pathname)), 'vector tiles requested');

      // the click opens the card
      await pg.mouse.click(drawn.x, drawn.y);
      await pg.waitForFunction((name) => {
        const el = document.querySelector('#panel .card-name');
        return el && el.textContent.trim() === name;
      }, name, { timeout: 15_000 }).catch(async (e) => {
        const got = await pg.evaluate(() => document.getElementById('panel').innerText.slice(0, 300));
        assert.fail(`card for ${id} ${name} did not open in vector mode (panel: ${got}): ${e.message}`);
      });
      assert.ok((await pg.textContent('#panel .card-level')).includes('重大风险'));
      assert.equal(parseHash(await pg.evaluate(() => location.hash)).m, 'v', 'the hash keeps the mode');

      // filters reach the vector map: only blue → the red enterprise is gone; reset → back
      const hasIt = () => pg.evaluate(async (id) => {
        await window.riskmap.vectorIdle();
        const m = window.riskmap.getVectorMap();
        return m.queryRenderedFeatures({ layers: ['enterprises'] }).some((x) => String(x.properties.id) === id);
      }, id);
      await pg.selectOption('#filter-level', 'blue');
      await waitUntil(async () => !(await hasIt()), 10_000, 'the red enterprise filtered out');
      await pg.click('#filter-reset');
      await waitUntil(hasIt, 10_000, 'the red enterprise back after reset');
      // the zones layer switch hides the zones
      await pg.uncheck('#layer-surface');
      assert.equal(await pg.evaluate(() => window.riskmap.getVectorMap().getLayoutProperty('zones', 'visibility')), 'none');
      await pg.check('#layer-surface');

      // the colour-blind style: its sprite is fetched and its patterns drawn
      assert.ok(await pg.isVisible('#vector-colorblind'));
      await pg.check('#vector-colorblind');
      await waitUntil(() => pg.evaluate(() => {
        const m = window.riskmap.getVectorMap();
        return m.isStyleLoaded() && !!m.getLayer('zones-pattern') && m.getStyle().metadata['riskmap:style'] !== undefined;
      }), 15_000, 'the colour-blind style loaded');
      await pg.evaluate(() => window.riskmap.vectorIdle());
      assert.ok(reqs.some((r) => /\/sprites\/colorblind(@2x)?\.(json|png)$/.test(new URL(r.url).pathname) && r.status === 200), 'the sprite was fetched');
      assert.ok(await pg.evaluate(() => window.riskmap.getVectorMap().hasImage('riskmap-red')), 'the red pattern image is in the map');
      assert.equal(parseHash(await pg.evaluate(() => location.hash)).cb, '1');

      // back to the raster map, on the same place, with the points loaded
      await pg.click('#mode-toggle');
      assert.equal(await pg.evaluate(() => window.riskmap.isVector()), false);
      const back = await pg.evaluate(async () => {
        const rm = window.riskmap;
        await rm.pointsSettled();
        const c = rm.map.getCenter();
        return { lat: c.lat, lon: c.lng, count: rm.state.points.count };
      });
      assert.ok(back.count > 0, 'points load again on the raster map');
      assert.ok(Math.abs(back.lat - lat) < 0.01 && Math.abs(back.lon - lon) < 0.01, `raster map at ${back.lat},${back.lon}`);
      assert.deepEqual(errs, [], 'page errors in vector mode');
    } finally {
      await gl.close();
    }
  });

  await t.test('no uncaught page errors, no tile 5xx', async () => {
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(tileResponses.filter((r) => r.status >= 500), []);
    assert.equal(srv.exit, null, `server exited during the test: ${JSON.stringify(srv.exit)}\n${logTail()}`);
  });
});
