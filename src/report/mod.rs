//! The analyst's report (`riskmap report`, and a stage of `build` with `[report]
//! enabled`): by district and industry, the red list (重大风险清单), exposure, provenance
//! and what changed since the last assessment — as one self-contained `report.html`
//! (inline CSS and SVG charts, the overview map embedded, A4 print CSS), the same tables
//! as UTF-8-with-BOM CSVs under `report/` and as sheets of `report.xlsx`.

pub mod emergency;
pub mod history;
pub mod html;
pub mod maps;
pub mod xlsx;

use crate::analyze::Analysis;
use crate::model::{level_key, level_slot, level_zh, Level};
use crate::pipeline::Dataset;
use std::collections::BTreeMap;

/// A table cell: text or a number (numbers stay numbers in the XLSX).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    /// A value with its decimals.
    Num(f64, usize),
}

impl Cell {
    pub fn text(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Int(i) => i.to_string(),
            Cell::Num(v, d) => format!("{v:.*}", d),
        }
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
}
impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}
impl From<usize> for Cell {
    fn from(n: usize) -> Cell {
        Cell::Int(n as i64)
    }
}
impl From<i64> for Cell {
    fn from(n: i64) -> Cell {
        Cell::Int(n)
    }
}

/// One report table: the CSV file stem, the sheet / section title, Chinese headers, rows.
#[derive(Debug, Clone)]
pub struct Table {
    pub name: &'static str,
    pub title: String,
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
}

/// Level columns in display order, Chinese.
pub const LEVEL_COLS: [&str; 5] = ["重大风险", "较大风险", "一般风险", "低风险", "未评估"];

pub use crate::model::LEVELS;

fn highest(c: &[usize; 5]) -> Option<Level> {
    (0..4).find(|&k| c[k] > 0).and_then(|k| LEVELS[k])
}

/// Risk order of a breakdown: the level first, then red, orange … counts, then open major
/// hidden dangers (all descending).
fn risk_key(level: Option<Level>, c: &[usize; 5], majors: usize) -> impl Ord {
    (
        std::cmp::Reverse(level.map(|l| 5 - l.rank()).unwrap_or(0)),
        std::cmp::Reverse(c[0]),
        std::cmp::Reverse(c[1]),
        std::cmp::Reverse(c[2]),
        std::cmp::Reverse(majors),
    )
}

/// Per-level counts of the graded register.
pub fn level_counts(ds: &Dataset) -> [usize; 5] {
    let mut c = [0; 5];
    for g in &ds.grades {
        c[level_slot(g.level)] += 1;
    }
    c
}

/// The headline: enterprises per level with their share.
pub fn headline(ds: &Dataset) -> Table {
    let c = level_counts(ds);
    let total: usize = c.iter().sum();
    let mut rows: Vec<Vec<Cell>> = LEVELS
        .iter()
        .zip(c)
        .map(|(&l, n)| {
            vec![
                level_zh(l).into(),
                level_key(l).into(),
                n.into(),
                Cell::Num(100.0 * n as f64 / total.max(1) as f64, 1),
            ]
        })
        .collect();
    rows.push(vec![
        "合计".into(),
        "total".into(),
        total.into(),
        Cell::Num(100.0, 1),
    ]);
    Table {
        name: "headline",
        title: "风险等级总体情况".into(),
        header: vec!["风险等级", "等级代码", "企业数", "占比(%)"],
        rows,
    }
}

/// A district's risk index: its enterprises weighted by level (重大 4, 较大 3, 一般 2,
/// 低 1) per km². Under 就高 one red enterprise makes a district red, and a city's
/// districts are often all red; the index still tells them apart, by how much risk sits
/// on each km².
pub fn risk_index(a: &crate::analyze::areas::AreaStats) -> f64 {
    let w = 4 * a.counts[0] + 3 * a.counts[1] + 2 * a.counts[2] + a.counts[3];
    w as f64 / a.area_km2.max(1e-9)
}

/// Per district: enterprises by level, highest level, the area's level and reason,
/// density, the risk index, open major hidden dangers — ranked: the area level first,
/// then the risk index (riskiest first).
pub fn districts(an: &Analysis) -> Table {
    let mut areas: Vec<&crate::analyze::areas::AreaStats> = an.areas.iter().flatten().collect();
    areas.sort_by(|a, b| {
        let la = a.level.level.map(|l| 5 - l.rank()).unwrap_or(0);
        let lb = b.level.level.map(|l| 5 - l.rank()).unwrap_or(0);
        lb.cmp(&la)
            .then(risk_index(b).total_cmp(&risk_index(a)))
            .then(
                risk_key(a.level.level, &a.counts, a.open_major_hidden_dangers).cmp(&risk_key(
                    b.level.level,
                    &b.counts,
                    b.open_major_hidden_dangers,
                )),
            )
            .then(a.adcode.cmp(&b.adcode))
    });
    let rows = areas
        .iter()
        .enumerate()
        .map(|(k, a)| {
            let mut r: Vec<Cell> = vec![
                (k + 1).into(),
                a.name.clone().into(),
                a.adcode.clone().into(),
            ];
            r.extend(a.counts.iter().map(|&n| Cell::from(n)));
            r.extend([
                a.total().into(),
                level_zh(highest(&a.counts)).into(),
                level_zh(a.level.level).into(),
                a.level.reason_zh.clone().into(),
                Cell::Num(a.area_km2, 1),
                Cell::Num(a.density(), 3),
                Cell::Num(risk_index(a), 3),
                a.open_major_hidden_dangers.into(),
            ]);
            r
        })
        .collect();
    let mut header = vec!["排名", "区县", "行政区划代码"];
    header.extend(LEVEL_COLS);
    header.extend([
        "合计",
        "最高等级",
        "区域等级",
        "区域定级理由",
        "面积(km²)",
        "密度(家/km²)",
        "风险指数",
        "未整改重大隐患",
    ]);
    Table {
        name: "districts",
        title: "分区域风险情况（按区域等级和风险指数排名）".into(),
        header,
        rows,
    }
}

/// Per industry: the same breakdown (no area).
pub fn industries(ds: &Dataset) -> Table {
    let mut by: BTreeMap<&str, ([usize; 5], usize)> = BTreeMap::new();
    for (e, g) in ds.enterprises.iter().zip(&ds.grades) {
        let k = by
            .entry(e.industry.as_deref().unwrap_or(crate::model::UNCLASSIFIED))
            .or_default();
        k.0[level_slot(g.level)] += 1;
        k.1 += g.open_major_hidden_dangers;
    }
    let mut v: Vec<(&str, [usize; 5], usize)> =
        by.into_iter().map(|(k, (c, m))| (k, c, m)).collect();
    v.sort_by_key(|(name, c, m)| (risk_key(highest(c), c, *m), name.to_string()));
    let rows = v
        .iter()
        .map(|(name, c, m)| {
            let mut r: Vec<Cell> = vec![(*name).into()];
            r.extend(c.iter().map(|&n| Cell::from(n)));
            r.extend([
                c.iter().sum::<usize>().into(),
                level_zh(highest(c)).into(),
                (*m).into(),
            ]);
            r
        })
        .collect();
    let mut header = vec!["行业"];
    header.extend(LEVEL_COLS);
    header.extend(["合计", "最高等级", "未整改重大隐患"]);
    Table {
        name: "industries",
        title: "分行业风险情况（按风险排序）".into(),
        header,
        rows,
    }
}

/// The red list (重大风险清单): every red enterprise, by district then id.
/// A carried-through column of an enterprise whose header is one of `names` (compared
/// without spaces), if the register has it.
fn extra_of<'e>(e: &'e crate::model::Enterprise, names: &[&str]) -> Option<&'e str> {
    e.extra
        .iter()
        .find(|(h, v)| {
            let h: String = h.chars().filter(|c| !c.is_whitespace()).collect();
            !v.trim().is_empty() && names.iter().any(|n| h == *n)
        })
        .map(|(_, v)| v.trim())
}

/// Headers of the person responsible for safety and of a telephone number, as registers
/// name them.
const RESPONSIBLE: [&str; 5] = [
    "安全负责人",
    "主要负责人",
    "负责人",
    "安全管理人员",
    "法定代表人",
];
const PHONE: [&str; 5] = ["联系电话", "电话", "手机", "联系方式", "手机号码"];

pub fn red_list(ds: &Dataset) -> Table {
    let mut idx: Vec<usize> = (0..ds.enterprises.len())
        .filter(|&i| ds.grades[i].level == Some(Level::Red))
        .collect();
    // who to call, where the register says (#31 §5): the columns appear when any red
    // enterprise has them
    let contacts = idx.iter().any(|&i| {
        extra_of(&ds.enterprises[i], &RESPONSIBLE).is_some()
            || extra_of(&ds.enterprises[i], &PHONE).is_some()
    });
    idx.sort_by_key(|&i| {
        (
            ds.enterprises[i].district.unwrap_or(usize::MAX),
            ds.enterprises[i].id.clone(),
        )
    });
    let rows = idx
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let e = &ds.enterprises[i];
            let g = &ds.grades[i];
            let mut row: Vec<Cell> = vec![
                (k + 1).into(),
                e.id.clone().into(),
                e.name.clone().into(),
                e.credit_code.clone().unwrap_or_default().into(),
                ds.district_of(i).map(|d| d.0).unwrap_or("").into(),
                e.industry.clone().unwrap_or_default().into(),
                g.reason_zh.clone().into(),
                g.open_hidden_dangers.into(),
                g.open_major_hidden_dangers.into(),
                e.major_hazard.map(|h| h.zh()).unwrap_or("").into(),
                Level::Red.tier_zh().into(),
            ];
            if contacts {
                row.push(extra_of(e, &RESPONSIBLE).unwrap_or("").to_string().into());
                row.push(extra_of(e, &PHONE).unwrap_or("").to_string().into());
            }
            row
        })
        .collect();
    let mut header = vec![
        "序号",
        "企业编号",
        "企业名称",
        "统一社会信用代码",
        "区县",
        "行业",
        "定级理由",
        "未整改隐患",
        "未整改重大隐患",
        "重大危险源",
        "管控层级",
    ];
    if contacts {
        header.extend(["安全负责人", "联系电话"]);
    }
    Table {
        name: "red_list",
        title: "重大风险清单".into(),
        header,
        rows,
    }
}

/// Sensitive sites inside red / orange zones, by type.
pub fn exposure_by_type(ds: &Dataset, an: &Analysis) -> Table {
    let mut by: BTreeMap<&str, [usize; 3]> = BTreeMap::new();
    for s in &ds.sites {
        by.entry(s.kind.as_str()).or_default()[2] += 1;
    }
    for x in an.exposure.iter().flatten() {
        let kind = ds.sites[x.site].kind.as_str();
        match x.zone_level {
            Some(Level::Red) => by.entry(kind).or_default()[0] += 1,
            Some(Level::Orange) => by.entry(kind).or_default()[1] += 1,
            _ => {}
        }
    }
    let rows = by
        .iter()
        .map(|(k, c)| {
            vec![
                (*k).into(),
                c[0].into(),
                c[1].into(),
                (c[0] + c[1]).into(),
                c[2].into(),
            ]
        })
        .collect();
    Table {
        name: "exposure",
        title: "敏感目标暴露情况（位于重大、较大风险区）".into(),
        header: vec![
            "类型",
            "位于重大风险区",
            "位于较大风险区",
            "合计",
            "该类目标总数",
        ],
        rows,
    }
}

/// Every site inside a red or orange zone, with the nearest red / orange enterprise.
pub fn exposed_sites(ds: &Dataset, an: &Analysis) -> Table {
    let mut v: Vec<&crate::analyze::exposure::Exposed> = an
        .exposure
        .iter()
        .flatten()
        .filter(|x| matches!(x.zone_level, Some(Level::Red | Level::Orange)))
        .collect();
    v.sort_by_key(|x| (std::cmp::Reverse(x.zone_level), ds.sites[x.site].id.clone()));
    let rows = v
        .iter()
        .map(|x| {
            let s = &ds.sites[x.site];
            let near = x.nearest.first();
            vec![
                s.id.clone().into(),
                s.name.clone().into(),
                s.kind.clone().into(),
                x.district.clone().unwrap_or_default().into(),
                level_zh(x.zone_level).into(),
                near.map(|h| ds.enterprises[h.idx].name.clone())
                    .unwrap_or_default()
                    .into(),
                near.map(|h| Cell::Num(h.distance_m, 0))
                    .unwrap_or(Cell::Text(String::new())),
            ]
        })
        .collect();
    Table {
        name: "exposed_sites",
        title: "位于重大、较大风险区的敏感目标".into(),
        header: vec![
            "编号",
            "名称",
            "类型",
            "区县",
            "所在风险区",
            "最近的重大/较大风险企业",
            "距离(m)",
        ],
        rows,
    }
}

/// The paragraph at the top of the report, written from the data (#31 §5): how many
/// enterprises at each level and how that changed since the last run, the districts and
/// industries with the most 重大 and 较大 enterprises, the open 重大事故隐患 and the
/// sensitive sites inside red or orange zones.
pub fn summary_text(ds: &Dataset, an: &Analysis, changes: Option<&history::Changes>) -> String {
    let c = level_counts(ds);
    let total: usize = c.iter().sum();
    let mut s = format!(
        "本次共分级企业 {total} 家：重大风险 {} 家、较大风险 {} 家、一般风险 {} 家、低风险 {} 家",
        c[0], c[1], c[2], c[3]
    );
    if c[4] > 0 {
        s.push_str(&format!("，另有 {} 家未评估", c[4]));
    }
    s.push('。');
    if let Some(ch) = changes {
        let d = |k: usize| ch.levels[k].1 as i64 - ch.levels[k].0 as i64;
        let word = |v: i64| match v.cmp(&0) {
            std::cmp::Ordering::Greater => format!("增加 {v} 家"),
            std::cmp::Ordering::Less => format!("减少 {} 家", -v),
            std::cmp::Ordering::Equal => "持平".to_string(),
        };
        s.push_str(&format!(
            "与上次（{}）相比，重大风险{}，较大风险{}；{} 家企业等级有变化。",
            ch.since_date.as_deref().unwrap_or(&ch.since),
            word(d(0)),
            word(d(1)),
            ch.items.len()
        ));
    }
    // the districts and industries with the most red, then orange, enterprises
    let top = |mut v: Vec<(String, [usize; 5])>| -> Vec<String> {
        v.retain(|x| x.1[0] + x.1[1] > 0);
        v.sort_by(|a, b| (b.1[0], b.1[1], &a.0).cmp(&(a.1[0], a.1[1], &b.0)));
        v.into_iter()
            .take(3)
            .map(|(n, c)| format!("{n}（重大 {}、较大 {}）", c[0], c[1]))
            .collect()
    };
    let districts = top(an
        .areas
        .iter()
        .flatten()
        .map(|a| (a.name.clone(), a.counts))
        .collect());
    if !districts.is_empty() {
        s.push_str(&format!(
            "重大、较大风险企业最多的区县：{}。",
            districts.join("、")
        ));
    }
    let mut by: BTreeMap<String, [usize; 5]> = BTreeMap::new();
    for (e, g) in ds.enterprises.iter().zip(&ds.grades) {
        by.entry(
            e.industry
                .clone()
                .unwrap_or_else(|| crate::model::UNCLASSIFIED.into()),
        )
        .or_default()[level_slot(g.level)] += 1;
    }
    let industries = top(by.into_iter().collect());
    if !industries.is_empty() {
        s.push_str(&format!("行业：{}。", industries.join("、")));
    }
    let major: usize = ds.grades.iter().map(|g| g.open_major_hidden_dangers).sum();
    let with_major = ds
        .grades
        .iter()
        .filter(|g| g.open_major_hidden_dangers > 0)
        .count();
    if major > 0 {
        s.push_str(&format!(
            "尚未整改完成的重大事故隐患 {major} 项，涉及 {with_major} 家企业（按规定直接判定为重大风险）。"
        ));
    } else {
        s.push_str("没有未整改的重大事故隐患。");
    }
    match &an.exposure {
        Some(x) if !ds.sites.is_empty() => s.push_str(&format!(
            "{} 处敏感目标（学校、医院等）中，{} 处位于重大、较大风险区内。",
            ds.sites.len(),
            x.len()
        )),
        _ => {}
    }
    s
}

/// Inputs with their row counts and hashes.
pub fn provenance(ds: &Dataset) -> Table {
    let rows = ds
        .inputs
        .iter()
        .map(|i| {
            vec![
                i.role.into(),
                i.file.clone().into(),
                i.format.clone().into(),
                i.rows_read.into(),
                i.rows_accepted.into(),
                i.rows_rejected.into(),
                i.sha256.clone().into(),
            ]
        })
        .collect();
    Table {
        name: "provenance",
        title: "数据来源".into(),
        header: vec![
            "类别",
            "文件",
            "格式",
            "读取行数",
            "接受",
            "拒绝",
            "SHA-256",
        ],
        rows,
    }
}

/// Rejected rows by reason.
/// Every rejected row, as rejects.csv lists it (the XLSX and report/reject_rows.csv
/// carry it; the HTML shows the counts by reason).
pub fn reject_rows(rejects: &[crate::ingest::Reject]) -> Table {
    let rows = rejects
        .iter()
        .map(|r| {
            vec![
                r.file.clone().into(),
                r.line.clone().into(),
                r.enterprise_id.clone().into(),
                r.row_id.clone().into(),
                r.column.clone().into(),
                r.value.clone().into(),
                r.kind.zh().into(),
                r.message.clone().into(),
            ]
        })
        .collect();
    Table {
        name: "reject_rows",
        title: "拒收行明细".into(),
        header: vec![
            "文件",
            "行号",
            "企业编号",
            "行编号",
            "列",
            "值",
            "原因",
            "说明",
        ],
        rows,
    }
}

pub fn rejects(rejects: &[crate::ingest::Reject]) -> Table {
    let mut by: BTreeMap<&str, (&str, usize)> = BTreeMap::new();
    for r in rejects {
        by.entry(r.kind.code()).or_insert((r.kind.zh(), 0)).1 += 1;
    }
    let rows = by
        .iter()
        .map(|(code, (zh, n))| vec![(*zh).into(), (*code).into(), (*n).into()])
        .collect();
    Table {
        name: "rejects",
        title: "拒收行（按原因）".into(),
        header: vec!["原因", "原因代码", "行数"],
        rows,
    }
}

/// Everything the report shows.
pub struct Report {
    pub title: String,
    pub region: String,
    pub data_date: String,
    pub config_sha256: String,
    /// The paragraph at the top, written from the data.
    pub summary: String,
    /// Sensitive sites read (0: no sites file, so no exposure analysis).
    pub sites: usize,
    pub version: &'static str,
    pub counts: [usize; 5],
    /// Style colour of each level (display order).
    pub colors: [String; 5],
    pub tables: Vec<Table>,
    /// The overview map (PNG), embedded when present.
    pub overview_png: Option<Vec<u8>>,
    /// The districts filled by their level (SVG).
    pub districts_map: Option<String>,
    /// A page per district, riskiest first.
    pub district_pages: Vec<DistrictPage>,
    pub changes: Option<history::Changes>,
}

/// One district's page: its numbers, its map and its red list.
#[derive(Debug, Clone)]
pub struct DistrictPage {
    pub name: String,
    pub rank: usize,
    pub level: Option<Level>,
    pub reason_zh: String,
    pub counts: [usize; 5],
    pub area_km2: f64,
    pub risk_index: f64,
    pub open_major: usize,
    pub map_svg: Option<String>,
    /// Enterprises the map leaves out (more than [`maps::MAX_DOTS`]).
    pub left_out: usize,
    /// The red list's rows of this district.
    pub red: Table,
}

/// The district pages, in the districts table's order.
fn district_pages(
    ds: &Dataset,
    an: &Analysis,
    colors: &[String; 5],
    dt: &Table,
    red: &Table,
) -> Vec<DistrictPage> {
    let Some(areas) = &an.areas else {
        return vec![];
    };
    let col = red.header.iter().position(|h| *h == "区县");
    dt.rows
        .iter()
        .enumerate()
        .filter_map(|(rank, row)| {
            let name = row[1].text();
            let adcode = row[2].text();
            let a = areas
                .iter()
                .find(|a| a.name == name && a.adcode == adcode)?;
            let k = ds
                .districts
                .districts
                .iter()
                .position(|d| d.name == name && d.adcode == adcode)?;
            let (map_svg, left_out) = match maps::district_map(ds, k, colors) {
                Some((s, n)) => (Some(s), n),
                None => (None, 0),
            };
            let rows: Vec<Vec<Cell>> = red
                .rows
                .iter()
                .filter(|r| col.is_some_and(|c| r[c].text() == name))
                .cloned()
                .collect();
            Some(DistrictPage {
                name,
                rank: rank + 1,
                level: a.level.level,
                reason_zh: a.level.reason_zh.clone(),
                counts: a.counts,
                area_km2: a.area_km2,
                risk_index: risk_index(a),
                open_major: a.open_major_hidden_dangers,
                map_svg,
                left_out,
                red: Table {
                    name: "district_red_list",
                    title: "重大风险企业".into(),
                    header: red.header.clone(),
                    rows,
                },
            })
        })
        .collect()
}

impl Report {
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }
}

/// Assemble the report.
pub fn assemble(
    ds: &Dataset,
    an: &Analysis,
    overview_png: Option<Vec<u8>>,
    changes: Option<history::Changes>,
) -> Report {
    let mut tables = vec![
        headline(ds),
        districts(an),
        industries(ds),
        red_list(ds),
        exposure_by_type(ds, an),
        exposed_sites(ds, an),
    ];
    tables.extend(emergency::coverage_by_district(ds, an));
    tables.extend(emergency::lifeline_enterprises(ds, an));
    tables.extend(emergency::lifeline_segments(ds, an));
    tables.extend(emergency::monitoring_alarms(ds, an));
    let all = crate::build::all_rejects(ds, an);
    tables.extend([provenance(ds), rejects(&all), reject_rows(&all)]);
    if !ds.warnings.is_empty() {
        tables.push(Table {
            name: "notes",
            title: "数据提示".into(),
            header: vec!["提示"],
            rows: ds.warnings.iter().map(|w| vec![w.clone().into()]).collect(),
        });
    }
    if let Some(c) = &changes {
        tables.push(c.table());
        tables.push(c.district_table());
    }
    // the region as the config names it, else its districts (never cut out of the title)
    let region = ds.region_name.clone().unwrap_or_else(|| {
        let names: Vec<&str> = ds
            .districts
            .districts
            .iter()
            .map(|d| d.name.as_str())
            .collect();
        match names.len() {
            0 => "—".to_string(),
            1..=6 => names.join("、"),
            n => format!("{} 等 {n} 个区县", names[..5].join("、")),
        }
    });
    let colors = LEVELS.map(|l| ds.style.color(l).to_string());
    // the pages follow the districts table (its ranking), read from it, not recomputed
    let table = |name: &str| tables.iter().find(|t| t.name == name);
    let district_pages = match (table("districts"), table("red_list")) {
        (Some(dt), Some(red)) => district_pages(ds, an, &colors, dt, red),
        _ => vec![],
    };
    Report {
        districts_map: maps::districts_by_level(ds, an, &colors),
        district_pages,
        title: ds.title.clone(),
        region,
        data_date: ds.data_date.clone().unwrap_or_default(),
        config_sha256: ds.config_sha256.clone(),
        sites: ds.sites.len(),
        summary: summary_text(ds, an, changes.as_ref()),
        version: env!("CARGO_PKG_VERSION"),
        counts: level_counts(ds),
        colors,
        tables,
        overview_png,
        changes,
    }
}

/// The report's files: (path relative to the output folder, bytes).
pub fn files(r: &Report) -> Result<Vec<(String, Vec<u8>)>, crate::Error> {
    let mut out = vec![("report.html".to_string(), html::render(r).into_bytes())];
    for t in &r.tables {
        let mut buf = Vec::new();
        crate::export::write_csv_bom(
            &mut buf,
            &t.header,
            t.rows
                .iter()
                .map(|row| row.iter().map(Cell::text).collect()),
        )
        .map_err(|e| crate::Error::Input(format!("report/{}.csv: {e}", t.name)))?;
        out.push((format!("report/{}.csv", t.name), buf));
    }
    out.push(("report.xlsx".to_string(), xlsx::write(r)?));
    Ok(out)
}

/// `riskmap report`: write the report files into `out` (all renamed into place together);
/// the changes are against `since` when given, else the newest snapshot in
/// `out/history/` that differs from the register. Uses `out/overview.png` when `build`
/// wrote one. Returns the paths written.
pub fn write(
    ds: &Dataset,
    an: &Analysis,
    out: &std::path::Path,
    since: Option<&std::path::Path>,
) -> Result<Vec<std::path::PathBuf>, crate::Error> {
    let current = history::Snapshot::of(ds);
    let changes = match since {
        Some(p) => {
            let (name, old) = history::since(p, &current).map_err(crate::Error::Input)?;
            Some(history::diff(name, &old, &current))
        }
        None => history::previous(out, &current).map(|(n, old)| history::diff(n, &old, &current)),
    };
    let png = std::fs::read(out.join("overview.png")).ok();
    let r = assemble(ds, an, png, changes);
    let mut set = crate::export::OutputSet::new();
    for (name, bytes) in files(&r)? {
        let p = out.join(&name);
        set.stage_bytes(&p, &bytes).map_err(|e| crate::Error::Io {
            path: p.clone(),
            source: e,
        })?;
    }
    set.commit().map_err(|e| crate::Error::Io {
        path: out.to_path_buf(),
        source: e,
    })
}

/// Print `report.html` to `report.pdf` with headless Chromium; a clear error when no
/// Chromium is installed.
pub fn pdf(html: &std::path::Path, pdf: &std::path::Path) -> Result<(), crate::Error> {
    let browser = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]
        .iter()
        .find(|b| {
            std::process::Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .ok_or_else(|| {
            crate::Error::Input(riskmap_core::tr!(
                "--pdf 需要无界面 Chromium，但本机没有安装：请 apt-get install chromium（Debian/Ubuntu）后重试；report.html 已写好，可在任何浏览器中打印为 A4",
                "--pdf needs headless Chromium, which is not installed: `apt-get install chromium` (Debian/Ubuntu), then run again; report.html is written and prints to A4 from any browser"
            ))
        })?;
    let abs = std::fs::canonicalize(html).map_err(|e| crate::Error::Io {
        path: html.to_path_buf(),
        source: e,
    })?;
    let tmp = crate::export::atomic::temp_path(pdf);
    let profile = std::env::temp_dir().join(format!("riskmap-pdf-{}", std::process::id()));
    let o = std::process::Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-pdf-header-footer",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--print-to-pdf={}", tmp.display()))
        .arg(format!("file://{}", abs.display()))
        .output()
        .map_err(|e| crate::Error::Input(format!("{browser}: {e}")))?;
    let _ = std::fs::remove_dir_all(&profile);
    if !o.status.success() || !tmp.exists() {
        let _ = std::fs::remove_file(&tmp);
        let why = String::from_utf8_lossy(&o.stderr)
            .lines()
            .last()
            .unwrap_or("")
            .to_string();
        return Err(crate::Error::Input(riskmap_core::tr!(
            "{browser} 未能打印报告：{why}",
            "{browser} could not print the report: {why}"
        )));
    }
    std::fs::rename(&tmp, pdf).map_err(|e| crate::Error::Io {
        path: pdf.to_path_buf(),
        source: e,
    })
}
