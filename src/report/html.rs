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
figure { margin: 8px 0; }
figure img { width: 100%; border: 1px solid var(--line); }
svg text { font-family: inherit; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  section { break-before: page; page-break-before: always; }
  section.first { break-before: auto; page-break-before: auto; }
  thead { display: table-header-group; }
  tr, figure, svg { break-inside: avoid; page-break-inside: avoid; }
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
    s.push_str("</section>");
    // 2. districts
    if let Some(t) = r.table("districts") {
        s.push_str(r#"<section id="districts"><h2>二、分区域风险情况</h2>"#);
        s.push_str(&stacked_bars(
            r,
            &rows_by_level(t, 0, 2),
            "各区县企业风险等级构成",
        ));
        s.push_str(&table_html(r, t));
        s.push_str(r#"<p class="note">按区域等级、重大、较大、一般风险企业数和未整改重大隐患排序；区域等级按配置的规则（就高或分值）确定。</p></section>"#);
    }
    // 3. industries
    if let Some(t) = r.table("industries") {
        s.push_str(r#"<section id="industries"><h2>三、分行业风险情况</h2>"#);
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
            r#"<section id="red-list"><h2>四、重大风险清单（{} 家）</h2><p class="note">重大风险由企业主要负责人组织管控（domain §1）。</p>"#,
            t.rows.len()
        );
        s.push_str(&table_html(r, t));
        s.push_str("</section>");
    }
    // 5. exposure
    s.push_str(r#"<section id="exposure"><h2>五、敏感目标暴露</h2>"#);
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
    // 6. changes
    s.push_str(r#"<section id="changes"><h2>六、变化情况</h2>"#);
    match &r.changes {
        None => s.push_str(r#"<p class="note">没有可比较的历史评估（首次运行，或与上次完全相同）。下次 build 将与本次比较；也可用 <code>riskmap report --since 上次输出目录</code>。</p>"#),
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
    // 7. map
    s.push_str(r#"<section id="map"><h2>七、风险空间分布图</h2>"#);
    match &r.overview_png {
        Some(png) => {
            let _ = write!(
                s,
                r#"<figure><img alt="{}" src="data:image/png;base64,{}"/></figure>"#,
                esc(&r.title),
                base64::engine::general_purpose::STANDARD.encode(png)
            );
        }
        None => s.push_str(r#"<p class="note">（未生成概览图：[overview] enabled = false）</p>"#),
    }
    s.push_str("</section>");
    // 8. provenance
    s.push_str(r#"<section id="provenance"><h2>八、数据来源与拒收行</h2>"#);
    for name in ["provenance", "rejects"] {
        if let Some(t) = r.table(name) {
            let _ = write!(s, "<h3>{}</h3>", esc(&t.title));
            s.push_str(&table_html(r, t));
        }
    }
    let _ = write!(
        s,
        r#"<p class="note">配置 SHA-256：{}；工具：riskmap {}。拒收行的文件、行号、列和原因见 rejects.csv。</p></section>"#,
        esc(&r.config_sha256),
        r.version
    );
    s.push_str("</body></html>\n");
    s
}
