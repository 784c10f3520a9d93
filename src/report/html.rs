//! report.html: one self-contained file (inline CSS, inline SVG charts, the overview map as
//! a data URI), Chinese, printable on A4 (page breaks between sections, repeated table
//! headers). Written as well-formed XHTML-compatible HTML so any XML parser reads it.

use super::{Cell, Report, Table, LEVELS};
use crate::model::level_zh;
use base64::Engine;
use std::fmt::Write;

/// Escape text for HTML / XML.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

const CSS: &str = r#"
:root { --ink:#1f2937; --muted:#6b7280; --line:#d1d5db; }
* { box-sizing: border-box; }
p.lead { font-size: 15px; line-height: 1.8; text-indent: 2em; margin: 8px 0 16px; }
.notes { border-left: 4px solid #f59e0b; background: #fffbeb; padding: 6px 12px; margin: 12px 0; }
body { font-family: "Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Micro Hei","Microsoft YaHei","PingFang SC","SimHei",sans-serif; color: var(--ink); margin: 0 auto; max-width: 1000px; padding: 24px; font-size: 14px; line-height: 1.5; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; border-left: 5px solid #c0392b; padding-left: 8px; margin: 28px 0 12px; }
h3 { font-size: 15px; margin: 16px 0 8px; }
.sub { color: var(--muted); margin: 0; }
.cards { display: flex; gap: 10px; flex-wrap: wrap; margin: 12px 0; }
.card { flex: 1 1 150px; border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; border-top: 6px solid var(--c); }
.card .n { font-size: 26px; font-weight: 700; }
.card .l { color: var(--muted); }
table { border-collapse: collapse; width: 100%; font-size: 12px; margin: 8px 0 16px; }
th, td { border: 1px solid var(--line); padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #eef2f7; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.chip { display: inline-block; padding: 0 6px; border-radius: 8px; color: #fff; font-size: 11px; white-space: nowrap; }
.note { color: var(--muted); font-size: 12px; }
.facts { display: flex; flex-wrap: wrap; gap: 4px 18px; margin: 6px 0 10px; }
.facts b { font-variant-numeric: tabular-nums; }
figure { margin: 8px 0; }
figure img { width: 100%; border: 1px solid var(--line); }
svg text { font-family: inherit; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  section { break-before: page; page-break-before: always; }
  section.first { break-before: auto; page-break-before: auto; }
  thead { display: table-header-group; }
  tr, figure, svg, .cards, .keep { break-inside: avoid; page-break-inside: avoid; }
  h2, h3, .cards { break-after: avoid; page-break-after: avoid; }
  p, li { orphans: 3; widows: 3; }
  section.district figure svg { max-height: 150mm; }
  table { font-size: 9.5px; }
}
"#;

fn level_chip(r: &Report, zh: &str) -> String {
    match LEVELS.iter().position(|&l| level_zh(l) == zh) {
        Some(k) => format!(
            r#"<span class="chip" style="background:{}">{}</span>"#,
            r.colors[k],
            esc(zh)
        ),
        None => esc(zh),
    }
}

fn table_html(r: &Report, t: &Table) -> String {
    let mut s = format!(r#"<table data-table="{}"><thead><tr>"#, t.name);
    for h in &t.header {
        let _ = write!(s, "<th>{}</th>", esc(h));
    }
    s.push_str("</tr></thead><tbody>");
    for row in &t.rows {
        s.push_str("<tr>");
        for c in row {
            match c {
                Cell::Text(x) => {
                    let _ = write!(s, "<td>{}</td>", level_chip(r, x));
                }
                _ => {
                    let _ = write!(s, r#"<td class="n">{}</td>"#, esc(&c.text()));
                }
            }
        }
        s.push_str("</tr>");
    }
    if t.rows.is_empty() {
        let _ = write!(
            s,
            r#"<tr><td colspan="{}" class="note">（无）</td></tr>"#,
            t.header.len()
        );
    }
    s.push_str("</tbody></table>");
    s
}

/// Horizontal stacked bars: one row per (label, counts by level).
fn stacked_bars(r: &Report, rows: &[(String, [usize; 5])], caption: &str) -> String {
    let (label_w, bar_w, row_h) = (130.0, 560.0, 22.0);
    let max = rows
        .iter()
        .map(|(_, c)| c.iter().sum::<usize>())
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let h = rows.len() as f64 * row_h + 36.0;
    let mut s = format!(
        r#"<figure><svg xmlns="http://www.w3.org/2000/svg" width="100%" viewBox="0 0 {w} {h}" role="img" aria-label="{cap}">"#,
        w = label_w + bar_w + 70.0,
        cap = esc(caption)
    );
    for (i, (label, c)) in rows.iter().enumerate() {
        let y = i as f64 * row_h + 4.0;
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" font-size="12" text-anchor="end">{}</text>"#,
            label_w - 6.0,
            y + 14.0,
            esc(label)
        );
        let mut x = label_w;
        for (k, &n) in c.iter().enumerate() {
            if n == 0 {
                continue;
            }
            let w = bar_w * n as f64 / max;
            let _ = write!(
                s,
                r#"<rect x="{x:.2}" y="{y:.2}" width="{w:.2}" height="{}" fill="{}"><title>{} {} {n}</title></rect>"#,
                row_h - 6.0,
                r.colors[k],
                esc(label),
                level_zh(LEVELS[k])
            );
            x += w;
        }
        let _ = write!(
            s,
            r##"<text x="{:.2}" y="{}" font-size="11" fill="#374151">{}</text>"##,
            x + 4.0,
            y + 13.0,
            c.iter().sum::<usize>()
        );
    }
    // legend
    let ly = rows.len() as f64 * row_h + 18.0;
    let mut lx = label_w;
    for (k, l) in LEVELS.iter().enumerate() {
        let _ = write!(
            s,
            r#"<rect x="{lx}" y="{}" width="12" height="12" fill="{}"/><text x="{}" y="{}" font-size="11">{}</text>"#,
            ly - 10.0,
            r.colors[k],
            lx + 16.0,
            ly,
            level_zh(*l)
        );
        lx += 90.0;
    }
    s.push_str("</svg>");
    let _ = write!(
        s,
        r#"<figcaption class="note">{}</figcaption></figure>"#,
        esc(caption)
    );
    s
}

/// One 100 % bar of the level shares.
fn share_bar(r: &Report) -> String {
    let total = r.counts.iter().sum::<usize>().max(1) as f64;
    let (w, h) = (700.0, 46.0);
    let mut s = format!(
        r#"<figure><svg xmlns="http://www.w3.org/2000/svg" width="100%" viewBox="0 0 {w} {h}" role="img" aria-label="各等级占比">"#
    );
    let mut x = 0.0;
    for (k, &n) in r.counts.iter().enumerate() {
        if n == 0 {
            continue;
        }
        let bw = w * n as f64 / total;
        let _ = write!(
            s,
            r#"<rect x="{x:.2}" y="0" width="{bw:.2}" height="26" fill="{}"><title>{} {n}</title></rect>"#,
            r.colors[k],
            level_zh(LEVELS[k])
        );
        if bw > 120.0 {
            let _ = write!(
                s,
                r#"<text x="{:.2}" y="42" font-size="11">{} {:.1}%</text>"#,
                x + 2.0,
                level_zh(LEVELS[k]),
                100.0 * n as f64 / total
            );
        }
        x += bw;
    }
    s.push_str(r#"</svg><figcaption class="note">各风险等级企业占比</figcaption></figure>"#);
    s
}

fn rows_by_level(t: &Table, label_col: usize, first_level_col: usize) -> Vec<(String, [usize; 5])> {
    t.rows
        .iter()
        .map(|row| {
            let mut c = [0usize; 5];
            for (k, v) in c.iter_mut().enumerate() {
                if let Some(Cell::Int(n)) = row.get(first_level_col + k) {
                    *v = *n as usize;
                }
            }
            (row[label_col].text(), c)
        })
        .collect()
}

/// The whole page.
/// One district's page: its level and why, its numbers, its map, its red enterprises.
fn district_page(s: &mut String, r: &Report, p: &super::DistrictPage) {
    let _ = write!(
        s,
        r#"<section class="district" id="district-{}" data-district="{}">{}<h3>（{}）{} {}</h3>"#,
        p.rank,
        esc(&p.name),
        if p.rank == 1 {
            r#"<h2 id="district-pages">三、各区县风险情况</h2>"#
        } else {
            ""
        },
        p.rank,
        esc(&p.name),
        level_chip(r, level_zh(p.level))
    );
    let total: usize = p.counts.iter().sum();
    let _ = write!(
        s,
        r#"<p>区域等级：<b>{}</b>（{}）。共 {} 家企业，其中重大 <b>{}</b>、较大 <b>{}</b>、一般 <b>{}</b>、低 <b>{}</b>、未评估 {}；未整改重大事故隐患 <b>{}</b> 项。面积 {:.1} 平方千米，风险指数 {:.3}，全市排名第 {} 位。</p>"#,
        level_zh(p.level),
        esc(&p.reason_zh),
        total,
        p.counts[0],
        p.counts[1],
        p.counts[2],
        p.counts[3],
        p.counts[4],
        p.open_major,
        p.area_km2,
        p.risk_index,
        p.rank
    );
    if let Some(svg) = &p.map_svg {
        s.push_str(r#"<figure class="keep">"#);
        s.push_str(svg);
        if p.left_out > 0 {
            let _ = write!(
                s,
                r#"<figcaption class="note">企业较多，图中只画出重大、较大风险企业及部分其他企业（{} 家未画出）。</figcaption>"#,
                p.left_out
            );
        }
        s.push_str("</figure>");
    }
    if p.red.rows.is_empty() {
        s.push_str(r#"<p class="note">本区县没有重大风险企业。</p>"#);
    } else {
        let _ = write!(s, "<h3>重大风险企业（{} 家）</h3>", p.red.rows.len());
        s.push_str(&table_html(r, &p.red));
    }
    s.push_str("</section>");
}

pub fn render(r: &Report) -> String {
    let mut s = String::with_capacity(1 << 20);
    let _ = write!(
        s,
        r#"<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"/><meta name="viewport" content="width=device-width, initial-scale=1"/><title>{t} · 风险分析报告</title><style>{CSS}</style></head><body>"#,
        t = esc(&r.title)
    );
    let _ = write!(
        s,
        r#"<header><h1>{}（风险分析报告）</h1><p class="sub">区域：{} · 数据日期：{} · riskmap {} · 配置 SHA-256 {}</p></header>"#,
        esc(&r.title),
        esc(&r.region),
        esc(&r.data_date),
        r.version,
        &r.config_sha256[..r.config_sha256.len().min(16)]
    );
    // 1. headline, opened by the paragraph written from the data
    s.push_str(r#"<section class="first" id="headline"><h2>一、总体情况</h2>"#);
    let _ = write!(
        s,
        r#"<p class="lead" id="summary">{}</p><div class="cards">"#,
        esc(&r.summary)
    );
    for (k, l) in LEVELS.iter().enumerate() {
        let _ = write!(
            s,
            r#"<div class="card" style="--c:{}" data-level="{}"><div class="n">{}</div><div class="l">{}</div></div>"#,
            r.colors[k],
            crate::model::level_key(*l),
            r.counts[k],
            level_zh(*l)
        );
    }
    s.push_str("</div>");
    s.push_str(&share_bar(r));
    if let Some(t) = r.table("headline") {
        s.push_str(&table_html(r, t));
    }
    // what the reader must know about the data before trusting the map (an unstated
    // coordinate system, a missing table, an invalid boundary)
    if let Some(t) = r.table("notes") {
        s.push_str(r#"<div class="notes" id="notes"><h3>数据提示</h3><ul>"#);
        for row in &t.rows {
            if let Some(c) = row.first() {
                let _ = write!(s, "<li>{}</li>", esc(&c.text()));
            }
        }
        s.push_str("</ul></div>");
    }
    // the city's four-colour map
    match &r.overview_png {
        Some(png) => {
            let _ = write!(
                s,
                r#"<figure id="map"><img alt="{}" src="data:image/png;base64,{}"/><figcaption class="note">{}（全市风险空间分布）</figcaption></figure>"#,
                esc(&r.title),
                base64::engine::general_purpose::STANDARD.encode(png),
                esc(&r.title)
            );
        }
        None => s.push_str(r#"<p class="note" id="map">（未生成全市风险分布图：配置中 [overview] enabled = false）</p>"#),
    }
    s.push_str("</section>");
    // 2. districts
    if let Some(t) = r.table("districts") {
        s.push_str(r#"<section id="districts"><h2>二、分区域风险情况</h2>"#);
        if let Some(svg) = &r.districts_map {
            s.push_str(r#"<figure class="keep">"#);
            s.push_str(svg);
            s.push_str(r#"<figcaption class="note">各区县按区域风险等级着色（区县四色图）</figcaption></figure>"#);
        }
        s.push_str(&stacked_bars(
            r,
            &rows_by_level(t, 0, 2),
            "各区县企业风险等级构成",
        ));
        s.push_str(&table_html(r, t));
        s.push_str(r#"<p class="note">排名先按区域等级，同等级再按风险指数：每平方千米的企业按等级加权（重大 4、较大 3、一般 2、低 1）。按“就高”原则，有一家重大风险企业的区县即为重大，各区县常常同为红色，风险指数仍能区分风险集中的程度。</p></section>"#);
    }
    // 3. a page per district
    if !r.district_pages.is_empty() {
        for p in &r.district_pages {
            district_page(&mut s, r, p);
        }
    }
    // 3. industries
    if let Some(t) = r.table("industries") {
        s.push_str(r#"<section id="industries"><h2>四、分行业风险情况</h2>"#);
        s.push_str(&stacked_bars(
            r,
            &rows_by_level(t, 0, 1),
            "各行业企业风险等级构成",
        ));
        s.push_str(&table_html(r, t));
        s.push_str("</section>");
    }
    // 4. red list
    if let Some(t) = r.table("red_list") {
        let _ = write!(
            s,
            r#"<section id="red-list"><h2>五、重大风险清单（{} 家）</h2><p class="note">重大风险由企业主要负责人组织管控。</p>"#,
            t.rows.len()
        );
        s.push_str(&table_html(r, t));
        s.push_str("</section>");
    }
    // 5. exposure
    s.push_str(r#"<section id="exposure"><h2>六、敏感目标暴露</h2>"#);
    if r.sites == 0 {
        // no sites file: say so, an empty table would read as "nobody exposed"
        s.push_str(r#"<p class="note">未提供敏感目标（学校、医院等）数据，未做暴露分析。</p>"#);
    } else {
        for name in ["exposure", "exposed_sites"] {
            if let Some(t) = r.table(name) {
                let _ = write!(s, "<h3>{}</h3>", esc(&t.title));
                s.push_str(&table_html(r, t));
            }
        }
    }
    s.push_str("</section>");
    // 6. emergency coverage and lifelines (#27), when their inputs were given
    if let Some(t) = r.table("coverage") {
        s.push_str(r#"<section id="coverage"><h2>应急救援覆盖</h2>"#);
        let _ = write!(s, "<h3>{}</h3>", esc(&t.title));
        s.push_str(&table_html(r, t));
        s.push_str("</section>");
    }
    if r.table("lifeline_enterprises").is_some() {
        s.push_str(r#"<section id="lifelines"><h2>城市生命线</h2>"#);
        for name in ["lifeline_enterprises", "lifeline_segments"] {
            if let Some(t) = r.table(name) {
                let _ = write!(s, "<h3>{}</h3>", esc(&t.title));
                s.push_str(&table_html(r, t));
            }
        }
        s.push_str("</section>");
    }
    if let Some(t) = r.table("monitoring_alarms") {
        s.push_str(r#"<section id="monitoring"><h2>重大危险源监测预警</h2>"#);
        let _ = write!(s, "<h3>{}</h3>", esc(&t.title));
        s.push_str(&table_html(r, t));
        s.push_str("</section>");
    }
    // 7. changes
    s.push_str(r#"<section id="changes"><h2>七、变化情况</h2>"#);
    match &r.changes {
        None => s.push_str(r#"<p class="note">没有可比较的历史评估（首次评估，或与上次评估完全相同）。下次评估将与本次比较。</p>"#),
        Some(c) => {
            let _ = write!(
                s,
                r#"<p>与 {}（{}）相比：升级 <b>{}</b> 家，降级 <b>{}</b> 家，新增 <b>{}</b> 家，移除 <b>{}</b> 家；隐患新增 <b>{}</b> 项，销号 <b>{}</b> 项。</p>"#,
                esc(c.since_date.as_deref().unwrap_or("上次评估")),
                esc(&c.since),
                c.count("升级"),
                c.count("降级"),
                c.count("新增"),
                c.count("移除"),
                c.count("隐患新增"),
                c.count("隐患销号")
            );
            for name in ["changes_by_district", "changes"] {
                if let Some(t) = r.table(name) {
                    let _ = write!(s, "<h3>{}</h3>", esc(&t.title));
                    s.push_str(&table_html(r, t));
                }
            }
        }
    }
    s.push_str("</section>");
    // 8. provenance
    s.push_str(r#"<section id="provenance"><h2>附录：数据来源与拒收行</h2>"#);
    for name in ["provenance", "rejects"] {
        if let Some(t) = r.table(name) {
            let _ = write!(s, "<h3>{}</h3>", esc(&t.title));
            s.push_str(&table_html(r, t));
        }
    }
    let _ = write!(
        s,
        r#"<p class="note">配置文件校验值（SHA-256）：{}；软件版本：riskmap {}。每一条拒收行的文件、行号、列和原因另见 rejects.csv。</p></section>"#,
        esc(&r.config_sha256),
        r.version
    );
    s.push_str("</body></html>\n");
    s
}
