// The analyst's report as a director opens it: report.html of a built output folder in
// headless Chromium (no server: it is one self-contained file), checked against
// summary.json and areas.geojson, and printed to PDF as `riskmap report --pdf` does.
//
//   RISKMAP_OUT   the output folder (default: the repo's output/)
//   CHROMIUM      default /usr/bin/chromium
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const OUT = path.resolve(ROOT, process.env.RISKMAP_OUT || 'output');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

let browser = null;
let page = null;
const errors = [];

before(async () => {
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(pathToFileURL(path.join(OUT, 'report.html')).href);
});

after(async () => {
  if (browser) await browser.close();
});

const read = (f) => JSON.parse(fs.readFileSync(path.join(OUT, f), 'utf8'));

test('report: the maps, a page per district, no internal references', { timeout: 120_000 }, async (t) => {
  const summary = read('summary.json');
  const areas = read('areas.geojson');

  await t.test('the city map is shown (the image decodes)', async () => {
    const w = await page.$eval('#map img', (img) => img.naturalWidth);
    assert.ok(w > 200, `overview image ${w} px wide`);
  });

  await t.test('districts map: one shape per district, filled with its level colour', async () => {
    const shapes = await page.$$eval('svg[data-map="districts"] path[data-district]', (ps) =>
      ps.map((p) => ({ name: p.getAttribute('data-district'), level: p.getAttribute('data-level'), fill: p.getAttribute('fill') })));
    assert.equal(shapes.length, areas.features.length, 'one shape per district');
    const colour = {};
    for (const s of shapes) {
      const want = summary.areas.districts[s.name];
      assert.ok(want, `${s.name} is a district of summary.json`);
      assert.equal(s.level, want.level, `${s.name}: level`);
      // the same level, the same colour
      if (colour[s.level]) assert.equal(s.fill, colour[s.level], `${s.level} colour`);
      colour[s.level] = s.fill;
    }
  });

  await t.test('a page per district, with its map, in the ranking order of the table', async () => {
    const pages = await page.$$eval('section.district', (ss) => ss.map((s) => ({
      name: s.getAttribute('data-district'),
      maps: s.querySelectorAll('svg[data-map="district"]').length,
      dots: s.querySelectorAll('svg[data-map="district"] circle').length,
      red: s.querySelectorAll('table[data-table="district_red_list"] tbody tr').length,
    })));
    assert.equal(pages.length, areas.features.length, 'one page per district');
    const ranked = await page.$$eval('table[data-table="districts"] tbody tr', (trs) => trs.map((tr) => tr.children[1].textContent));
    assert.deepEqual(pages.map((p) => p.name), ranked, 'pages follow the districts table');
    for (const p of pages) assert.equal(p.maps, 1, `${p.name}: a map`);
    // every red enterprise with a district is on its district's page
    const reds = pages.reduce((n, p) => n + p.red, 0);
    const placed = await page.$eval('table[data-table="red_list"]', (tb) => {
      const h = [...tb.querySelectorAll('thead th')].map((th) => th.textContent);
      const k = h.indexOf('区县');
      return [...tb.querySelectorAll('tbody tr')].filter((tr) => tr.children[k].textContent.trim() !== '').length;
    });
    assert.equal(reds, placed, 'red enterprises on district pages = red list rows with a district');
    assert.ok(pages.some((p) => p.dots > 0), 'enterprises drawn');
  });

  await t.test('no internal references or command lines in the text', async () => {
    const text = await page.evaluate(() => document.body.innerText);
    for (const bad of ['domain §', 'riskmap report --', 'riskmap build --', '（无）']) {
      assert.ok(!text.includes(bad), `report text has "${bad}"`);
    }
  });

  await t.test('prints to A4 PDF, one district per page at least', async () => {
    await page.emulateMedia({ media: 'print' });
    const pdf = await page.pdf({ format: 'A4', printBackground: true });
    assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
    const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) || []).length;
    assert.ok(pages >= areas.features.length, `${pages} PDF pages for ${areas.features.length} districts`);
  });

  await t.test('no page errors', () => {
    assert.deepEqual(errors, []);
  });
});
