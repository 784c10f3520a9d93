// End-to-end test of the live map (#22): `riskmap serve --watch` follows its inputs, builds
// a new generation when the register changes and tells the open viewers on /api/events;
// the viewer re-fetches its tiles (?g=<generation>), counts and card without a reload and
// lists the change under 最近变化.
//
//   cargo build --release
//   (cd tests/e2e && npm ci)
//   node --test tests/e2e/live.test.mjs
//
// The bundled sample (data/sample/, riskmap.toml, styles/) is copied into a temporary
// folder, built there with [tiles] zoom = [8, 12], served with --watch on a free port and
// opened in headless Chromium; then an open major hidden danger (重大, 未整改) is added to
// the copy's hidden_dangers.csv for a blue enterprise, written as an editor does (a temporary
// file renamed over the old one, BOM and line endings kept). Within RISKMAP_LIVE_MS (20 s)
// the viewer must show the new generation, list the enterprise's 升级 (level_up) with
// 低 → 重大, fetch tiles with the new ?g=, and the API must say red.
//
// Environment: RISKMAP_BIN (default target/release/riskmap), CHROMIUM (default
// /usr/bin/chromium), RISKMAP_LIVE_PORT (default: a free port), RISKMAP_LIVE_MS (default
// 20000), RISKMAP_OUT (where the server log e2e-live-server.log is kept, default output/).
// Skipped, with the reason, when the binary or the browser is not there.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.resolve(ROOT, process.env.RISKMAP_BIN || 'target/release/riskmap');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const LIVE_MS = Number(process.env.RISKMAP_LIVE_MS || 20_000);
const LOG_DIR = path.resolve(ROOT, process.env.RISKMAP_OUT || 'output');
const SKIP = !fs.existsSync(BIN) ? `riskmap binary not found at ${BIN} (cargo build --release, or set RISKMAP_BIN)`
  : !fs.existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM)` : null;

let tmp = null;                 // the temporary folder: inputs, config, output
let cfg = null;
let srv = null;                 // { proc, exit, log, base }
let base = null;
let browser = null;
let page = null;
const tileRequests = [];        // { path, g, at }
const pageErrors = [];

// ------------------------------------------------------------------ helpers
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function get(p, init) {
  return fetch(base + p, { signal: AbortSignal.timeout(15_000), ...init });
}

async function getJson(p) {
  const r = await get(p);
  const body = await r.text();
  assert.equal(r.status, 200, `GET ${p} → ${r.status}: ${body.slice(0, 300)}`);
  return JSON.parse(body);
}

async function healthy() {
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

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

function logTail(n = 4000) {
  const log = srv ? srv.log : '';
  return log.length > n ? '…' + log.slice(-n) : log;
}

/** Set `key = value` (value already TOML) in `[section]` of a TOML text, adding it if absent. */
function setTomlKey(toml, section, key, value) {
  const lines = toml.split('\n');
  const keyRe = new RegExp(`^\\s*${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*=`);
  let cur = '';
  for (let i = 0; i < lines.length; i++) {
    const h = /^\s*\[\s*([^\]\s]+)\s*\]\s*(#.*)?$/.exec(lines[i]);
    if (h) {
      if (cur === section) { lines.splice(i, 0, `${key} = ${value}`); return lines.join('\n'); }
      cur = h[1];
      continue;
    }
    if (cur === section && keyRe.test(lines[i])) { lines[i] = `${key} = ${value}`; return lines.join('\n'); }
  }
  if (cur === section) lines.push(`${key} = ${value}`);
  else lines.push('', `[${section}]`, `${key} = ${value}`);
  return lines.join('\n');
}

/** Run the binary to completion; resolves { code, log }. */
function run(args, ms) {
  return new Promise((resolve, reject) => {
    const p = spawn(BIN, args, { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let log = '';
    p.stdout.on('data', (b) => { log += b; });
    p.stderr.on('data', (b) => { log += b; });
    const timer = setTimeout(() => { try { p.kill('SIGKILL'); } catch { /* gone */ } }, ms);
    p.on('error', (e) => { clearTimeout(timer); reject(e); });
    p.on('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal, log }); });
  });
}

async function stopServer() {
  if (!srv || srv.exit !== null) return;
  try { srv.proc.kill('SIGTERM'); } catch { /* gone */ }
  const gone = await Promise.race([
    new Promise((r) => srv.proc.once('exit', () => r(true))),
    sleep(5_000).then(() => false),
  ]);
  if (!gone) { try { srv.proc.kill('SIGKILL'); } catch { /* gone */ } }
}
process.on('exit', () => { if (srv && srv.exit === null) { try { srv.proc.kill('SIGKILL'); } catch { /* gone */ } } });

/** A CSV of the sample as { bom, eol, header: [...], rows: [[...]] } (no quoted fields in it). */
function readCsv(file) {
  let text = fs.readFileSync(file, 'utf8');
  const bom = text.charCodeAt(0) === 0xfeff;
  if (bom) text = text.slice(1);
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text.split(eol).filter((l) => l.length);
  return { text, bom, eol, header: lines[0].split(','), rows: lines.slice(1).map((l) => l.split(',')) };
}

/** Wait until the viewer has loaded; fail with its errors otherwise. */
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

// ------------------------------------------------------------------ build, serve, browser
before(async () => {
  if (SKIP) return;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'riskmap-live-'));
  fs.cpSync(path.join(ROOT, 'data', 'sample'), path.join(tmp, 'data', 'sample'), { recursive: true });
  fs.cpSync(path.join(ROOT, 'styles'), path.join(tmp, 'styles'), { recursive: true });
  let toml = fs.readFileSync(path.join(ROOT, 'riskmap.toml'), 'utf8');
  toml = setTomlKey(toml, 'tiles', 'zoom', '[8, 12]');
  toml = setTomlKey(toml, 'output', 'dir', JSON.stringify(path.join(tmp, 'output')));
  cfg = path.join(tmp, 'riskmap.toml');
  fs.writeFileSync(cfg, toml);

  const t0 = Date.now();
  const b = await run(['build', '--config', cfg, '-q'], 600_000);
  assert.equal(b.code, 0, `riskmap build --config ${cfg} -q → ${b.code ?? b.signal}:\n${b.log.slice(-4000)}`);
  console.log(`# sample built in ${((Date.now() - t0) / 1000).toFixed(1)} s in ${tmp}`);

  const port = Number(process.env.RISKMAP_LIVE_PORT || 0) || await freePort();
  base = `http://127.0.0.1:${port}`;
  assert.ok(!(await healthy()), `something already answers on ${base}/healthz`);
  const args = ['serve', '--config', cfg, '--watch', '--addr', `127.0.0.1:${port}`];
  srv = { proc: null, exit: null, log: '' };
  srv.proc = spawn(BIN, args, { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  const keep = (c) => { srv.log += c.toString(); if (srv.log.length > 200_000) srv.log = srv.log.slice(-100_000); };
  srv.proc.stdout.on('data', keep);
  srv.proc.stderr.on('data', keep);
  srv.proc.on('exit', (code, signal) => { srv.exit = { code, signal }; });
  srv.proc.on('error', (e) => { srv.exit = { code: null, signal: null, error: e.message }; });
  await waitUntil(async () => {
    if (srv.exit) throw new Error(`riskmap ${args.join(' ')} exited early (${JSON.stringify(srv.exit)}):\n${logTail()}`);
    return healthy();
  }, 60_000, `GET ${base}/healthz = 200\n${logTail()}`);
  // the watcher first compares the inputs with the generation served (and says so), then
  // follows the files: an edit made before that could go unnoticed
  const ready = await waitUntil(() => /输入未变|inputs are unchanged|已更新|updated /.test(srv.log), 30_000, 'the watcher')
    .then(() => true, () => false);
  if (!ready) console.log(`# the watcher said nothing within 30 s; going on:\n${logTail(1000)}`);

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN' });
  page.setDefaultTimeout(30_000);
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.pathname.startsWith('/tiles/')) tileRequests.push({ path: u.pathname, g: u.searchParams.get('g'), at: Date.now() });
  });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') console.log('# browser console error:', m.text()); });
}, { timeout: 900_000 });

after(async () => {
  try {
    if (browser) await browser.close();
  } finally {
    await stopServer();
    if (srv) {
      try { fs.mkdirSync(LOG_DIR, { recursive: true }); fs.writeFileSync(path.join(LOG_DIR, 'e2e-live-server.log'), srv.log); } catch { /* best effort */ }
    }
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }
}, { timeout: 30_000 });

// ------------------------------------------------------------------ the test
test('live map: a register edit reaches the open viewer', { skip: SKIP || false, timeout: 300_000 }, async (t) => {
  const meta = await getJson('/api/meta');
  const gen0 = meta.generation;
  assert.match(String(gen0), /^\d+$/, `/api/meta generation of a built folder: ${JSON.stringify(gen0)}`);
  const head = await get('/api/meta');
  assert.equal(head.headers.get('x-riskmap-generation'), gen0, 'x-riskmap-generation = /api/meta generation');
  await head.arrayBuffer();

  // a blue enterprise, listed once in the register, with no open major hidden danger
  const ents = readCsv(path.join(tmp, 'data', 'sample', 'enterprises.csv'));
  const idCol = ents.header.indexOf('企业编号');
  assert.ok(idCol >= 0, `企业编号 column in enterprises.csv: ${ents.header}`);
  const idCount = new Map();
  for (const r of ents.rows) idCount.set(r[idCol], (idCount.get(r[idCol]) || 0) + 1);
  const blue = await getJson('/api/enterprises?level=blue&limit=200');
  let card = null;
  for (const f of blue.features) {
    const id = f.properties.id;
    if (idCount.get(id) !== 1) continue;
    const c = await getJson('/api/enterprises/' + encodeURIComponent(id));
    if (c.level === 'blue' && !c.open_major_hidden_dangers && typeof c.lon === 'number') { card = c; break; }
  }
  assert.ok(card, 'a blue enterprise without an open major hidden danger');
  const id = card.id;
  const rowSel = `#changes li.change[data-kind="level_up"][data-id=${JSON.stringify(id)}]`;
  let events0 = 0;

  await t.test('the viewer opens on the built generation: tiles carry ?g=, the feed is connected', async () => {
    const resp = await page.goto(`${base}/#z=12&c=${card.lat},${card.lon}`, { waitUntil: 'domcontentloaded' });
    assert.equal(resp.status(), 200, 'GET /');
    await waitLoaded(page);
    await page.waitForFunction(() => window.riskmapLive && window.riskmapLive.connected === true, null, { timeout: 15_000 })
      .catch((e) => assert.fail(`no /api/events connection: ${e.message}\n${logTail()}`));
    const live = await page.evaluate(() => ({ ...window.riskmapLive }));
    assert.equal(live.generation, gen0, 'window.riskmapLive.generation');
    events0 = live.events;
    await waitUntil(() => tileRequests.some((r) => r.g === gen0), 15_000, `a tile request with ?g=${gen0}`);
    const bare = tileRequests.filter((r) => r.g !== gen0);
    assert.deepEqual(bare, [], `every tile request carries ?g=${gen0}`);
    assert.match(await page.evaluate(() => window.riskmap.tileLayers.surface._url), new RegExp(`[?&]g=${gen0}(&|$)`));
    // a fresh output has nothing to list yet (the first build is compared with nothing)
    const box = await page.evaluate(() => ({ rows: document.querySelectorAll('#changes li').length, text: document.getElementById('changes').innerText }));
    assert.equal(box.rows, 0, `最近变化 of a fresh output: ${box.text}`);
    assert.match(box.text, /暂无变化/, 'an empty 最近变化 says so');
  });

  let gen1 = null;
  await t.test('an open major hidden danger added to the register turns the enterprise red, live', async () => {
    const file = path.join(tmp, 'data', 'sample', 'hidden_dangers.csv');
    const hd = readCsv(file);
    const col = (name) => { const i = hd.header.indexOf(name); assert.ok(i >= 0, `${name} column in hidden_dangers.csv: ${hd.header}`); return i; };
    const idCol = col('隐患编号');
    const maxNo = Math.max(0, ...hd.rows.map((r) => Number((/(\d+)$/.exec(r[idCol]) || [0, 0])[1])));
    const row = new Array(hd.header.length).fill('');
    row[idCol] = 'H-' + String(maxNo + 1).padStart(6, '0');
    row[col('企业编号')] = id;
    row[col('隐患等级')] = '重大';
    row[col('整改状态')] = '未整改';
    row[col('隐患描述')] = '重大事故隐患：实时更新测试';
    let text = hd.text;
    if (!text.endsWith(hd.eol)) text += hd.eol;
    text += row.join(',') + hd.eol;
    // as an editor saves: a new file beside it, renamed over the old one
    const side = path.join(path.dirname(file), `.hidden_dangers.csv.${process.pid}.tmp`);
    fs.writeFileSync(side, (hd.bom ? '\ufeff' : '') + text);
    fs.renameSync(side, file);
    const t0 = Date.now();

    // 最近变化 gets the enterprise's 升级 (whichever generation it came with: a watcher may
    // also build once for the side file), and the viewer shows a new generation
    await page.waitForSelector(rowSel, { state: 'attached', timeout: LIVE_MS }).catch(async (e) => {
      const st = await page.evaluate(() => ({ live: window.riskmapLive, html: document.getElementById('changes').innerHTML }));
      assert.fail(`no ${rowSel} in 最近变化 within ${LIVE_MS} ms (riskmapLive ${JSON.stringify(st.live)}): ${e.message}\n` +
        `${st.html.slice(0, 1500)}\n--- server log:\n${logTail()}`);
    });
    const live = await page.evaluate(() => ({ ...window.riskmapLive }));
    gen1 = live.generation;
    console.log(`# generation ${gen0} → ${gen1} in the viewer ${Date.now() - t0} ms after the edit`);
    assert.match(String(gen1), /^\d+$/, 'window.riskmapLive.generation');
    assert.ok(Number(gen1) > Number(gen0), `window.riskmapLive.generation ${gen0} → ${gen1}`);
    assert.ok(live.events > events0, `the change came as an event on /api/events (events: ${events0} → ${live.events})`);
    const r = await page.$eval(rowSel, (li) => ({
      text: li.innerText,
      chips: [...li.querySelectorAll('.lv-chip')].map((c) => [c.getAttribute('data-level'), c.textContent, getComputedStyle(c).backgroundColor]),
      first: li === document.querySelector('#changes li.change'),
    }));
    assert.match(r.text, /升级/, `row: ${r.text}`);
    assert.ok(r.text.includes(card.name), `row names ${card.name}: ${r.text}`);
    assert.deepEqual(r.chips.map((c) => c.slice(0, 2)), [['blue', '低'], ['red', '重大']], 'from → to in words');
    const red = meta.levels.find((l) => l.key === 'red').color;
    const rgb = red.match(/[0-9a-f]{2}/gi).slice(0, 3).map((h) => parseInt(h, 16)).join(', ');
    assert.equal(r.chips[1][2], `rgb(${rgb})`, 'the 重大 chip in the red level colour');
  });

  await t.test('tiles are fetched again with the new ?g=, the old layer is gone', async () => {
    assert.ok(gen1, 'a new generation');
    await waitUntil(() => tileRequests.some((r) => r.g === gen1), 10_000, `a tile request with ?g=${gen1}`);
    await page.waitForFunction((g) => {
      const rm = window.riskmap;
      let n = 0;
      rm.map.eachLayer((l) => { if (l._url && /\/tiles\/surface/.test(l._url)) n++; });
      return n === 1 && rm.map.hasLayer(rm.tileLayers.surface) && rm.tileLayers.surface._url.includes('g=' + g) &&
        rm.tileLayers.surface.options.opacity === rm.state.zoneOpacity;
    }, gen1, { timeout: 10_000 });
  });

  await t.test('the API says red, and /api/changes lists the level_up', async () => {
    const c = await get('/api/enterprises/' + encodeURIComponent(id));
    assert.ok(Number(c.headers.get('x-riskmap-generation')) >= Number(gen1), `answered by the new generation (${c.headers.get('x-riskmap-generation')})`);
    const now = await c.json();
    assert.equal(now.level, 'red', `${id} after an open major hidden danger`);
    assert.ok(now.open_major_hidden_dangers >= 1, 'its open major hidden danger is counted');
    const metaNow = await getJson('/api/meta');
    assert.equal(metaNow.generation, await page.evaluate(() => window.riskmapLive.generation), '/api/meta generation = the viewer\'s');

    const ch = await getJson(`/api/changes?since=${Number(gen0)}`);
    assert.equal(ch.generation, metaNow.generation, '/api/changes generation');
    assert.ok(ch.changes.length >= 1 && ch.changes.every((e) => e.generation > Number(gen0)), 'only records after since');
    const items = ch.changes.flatMap((e) => e.items || []);
    const up = items.find((it) => it.kind === 'level_up' && it.id === id);
    assert.ok(up, `level_up of ${id} in /api/changes?since=${Number(gen0)}: ${JSON.stringify(items).slice(0, 1000)}`);
    assert.equal(up.to, 'red');
    assert.equal(up.from, 'blue');
    assert.equal(up.kind_zh, '升级');

    const bad = await get('/api/changes?since=abc');
    assert.equal(bad.status, 400, '/api/changes?since=abc');
    assert.ok((await bad.json()).error, 'a JSON error');
  });

  await t.test('the counts follow, and the row flies to the enterprise', async () => {
    const stats = await getJson('/api/stats');
    await page.waitForFunction((n) => Number((document.querySelector('#legend li[data-level="red"] .count') || {}).textContent) === n,
      stats.levels.red, { timeout: 10_000 }).catch(async () => {
      const got = await page.textContent('#legend li[data-level="red"] .count');
      assert.fail(`legend red count ${got}, /api/stats says ${stats.levels.red}`);
    });
    await page.click(rowSel);
    await page.waitForFunction((n) => (document.querySelector('#panel .card-name') || {}).textContent === n, card.name, { timeout: 15_000 });
    assert.match(await page.textContent('#panel .card-level'), /重大风险/, 'the card says 重大风险');
    const near = await page.waitForFunction(([lat, lon]) => {
      const rm = window.riskmap, c = rm.map.getCenter();
      const w = rm.state.crs === 'gcj02' ? rm.gcj02ToWgs84(c.lng, c.lat) : [c.lng, c.lat];
      return Math.abs(w[0] - lon) < 1e-3 && Math.abs(w[1] - lat) < 1e-3 && rm.map.getZoom() >= 12;
    }, [card.lat, card.lon], { timeout: 10_000 }).then(() => true, () => false);
    assert.ok(near, 'the map is centred on the enterprise');
  });

  await t.test('no page error, the server still runs', async () => {
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(await page.evaluate(() => window.riskmap.state.errors), [], 'errors reported by the viewer');
    assert.equal(srv.exit, null, `server exited: ${JSON.stringify(srv.exit)}\n${logTail()}`);
  });
});
