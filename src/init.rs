//! `riskmap init 名录.xlsx`: look at a register as a user has it and write a commented
//! `riskmap.toml` they can read and adjust — the sheet, the header row below any title
//! rows, the columns found and missing, the coordinate system (stated, named in a header,
//! or tested against the districts the rows name), and district boundaries found beside
//! the file (DataV's files are GCJ-02).

use crate::crs::Crs;
use crate::ingest::fields::{columns_named, crs_in_header, ENTERPRISE_FIELDS};
use crate::ingest::table::{read_table, sheet_names, Table};
use crate::Error;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// What `init` found.
#[derive(Debug, Clone)]
pub struct Inspection {
    pub register: PathBuf,
    /// The sheet chosen (workbooks), and every sheet.
    pub sheet: Option<String>,
    pub sheets: Vec<String>,
    /// What was read: "xlsx sheet 企业", "csv gb18030".
    pub format: String,
    /// The header's line or sheet row, and the title rows above it.
    pub header_row: usize,
    pub notes: Vec<String>,
    /// The region a title row names (「济南市安全生产风险企业名录」 → 济南市).
    pub region_name: Option<String>,
    pub rows: usize,
    /// Fields found, as (field, header).
    pub columns: Vec<(&'static str, String)>,
    /// Required fields not found.
    pub missing: Vec<&'static str>,
    /// The register's CRS and why it is believed.
    pub crs: Option<Crs>,
    pub crs_why: String,
    /// District boundaries found beside the register, their CRS and why.
    pub boundaries: Option<(PathBuf, Crs, String)>,
}

/// The fields a GeoJSON geometry supplies.
fn geometry(t: &Table) -> &'static [&'static str] {
    if t.is_features {
        &["lon", "lat"]
    } else {
        &[]
    }
}

/// The column of each register field a table's headers name.
fn columns(t: &Table) -> std::collections::BTreeMap<&'static str, usize> {
    columns_named(&t.headers, ENTERPRISE_FIELDS, &Default::default())
}

/// Read `register` (the sheet whose headers name the most fields, the header below any
/// title rows) and look beside it for district boundaries.
pub fn inspect(register: &Path, boundaries: Option<&Path>) -> Result<Inspection, Error> {
    let what = &riskmap_core::tr!(
        "企业名录（CSV、XLSX 或 GeoJSON 点）",
        "an enterprise register (CSV, XLSX or GeoJSON points)"
    );
    let sheets = sheet_names(register);
    let mut best: Option<(usize, Option<String>, Table)> = None;
    let candidates: Vec<Option<String>> = if sheets.is_empty() {
        vec![None]
    } else {
        sheets.iter().cloned().map(Some).collect()
    };
    for sheet in candidates {
        let Ok(mut t) = read_table(register, sheet.as_deref(), what) else {
            continue;
        };
        t.find_header(ENTERPRISE_FIELDS, &Default::default(), None)?;
        let n = columns(&t).len();
        if best.as_ref().is_none_or(|b| n > b.0) {
            best = Some((n, sheet, t));
        }
    }
    let (_, sheet, t) = match best {
        Some(b) => b,
        // no sheet could be read: the first one's error names the problem
        None => {
            read_table(register, sheets.first().map(String::as_str), what)?;
            let r = register.display();
            return Err(Error::Input(riskmap_core::tr!(
                "{r}：没有可读取的内容",
                "{r}: nothing readable"
            )));
        }
    };
    let cols = columns(&t);
    let found: Vec<(&'static str, String)> = ENTERPRISE_FIELDS
        .iter()
        .filter_map(|f| cols.get(f.name).map(|&i| (f.name, t.headers[i].clone())))
        .collect();
    // required and not found (a GeoJSON's geometry supplies lon/lat, a credit code the id)
    let missing: Vec<&'static str> = ENTERPRISE_FIELDS
        .iter()
        .filter(|f| f.required && !cols.contains_key(f.name) && !geometry(&t).contains(&f.name))
        .filter(|f| !(f.name == "id" && cols.contains_key("credit_code")))
        .map(|f| f.name)
        .collect();
    let hint = cols.get("lon").and_then(|&i| crs_in_header(&t.headers[i]));
    let has_crs_col = cols.contains_key("crs");
    let boundaries = match boundaries {
        Some(p) => Some(boundary_crs(p)?),
        None => find_boundaries(register),
    };
    let (crs, crs_why) = if has_crs_col {
        (
            None,
            riskmap_core::tr!(
                "每行的“坐标系”列给出，空白的行按 crs（默认 wgs84）",
                "each row's crs column; blank rows as crs (default wgs84)"
            ),
        )
    } else if let Some(c) = hint {
        (
            Some(c),
            riskmap_core::tr!("经度列名注明了 {c}", "{c}, named in the longitude header"),
        )
    } else {
        guess_crs(register, sheet.as_deref(), &t, boundaries.as_ref())
    };
    Ok(Inspection {
        register: register.to_path_buf(),
        sheet: if sheets.len() > 1 { sheet } else { None },
        sheets,
        format: t.format.clone(),
        header_row: t.header_line,
        region_name: t.notes.iter().find_map(|n| region_in(n)),
        notes: t.notes.clone(),
        rows: t.rows.len(),
        columns: found,
        missing,
        crs,
        crs_why,
        boundaries,
    })
}

/// The region a title names: the words before 安全生产 / 风险 / 企业 / 名录 when they
/// end like a place (市, 区, 县, 州, 盟, 旗, 省, 新区, 开发区).
fn region_in(title: &str) -> Option<String> {
    let t = title.trim();
    let cut = ["安全生产", "风险", "重点", "企业", "名录", "监管"]
        .iter()
        .filter_map(|w| t.find(w))
        .min()?;
    let r = t[..cut]
        .trim()
        .trim_end_matches(['（', '(', ':', '：'])
        .trim();
    let place = [
        "市",
        "区",
        "县",
        "州",
        "盟",
        "旗",
        "省",
        "新区",
        "开发区",
        "园区",
    ];
    (!r.is_empty() && r.chars().count() <= 20 && place.iter().any(|p| r.ends_with(p)))
        .then(|| r.to_string())
}

/// A boundary file's CRS: DataV's files (`acroutes`, or `adcode` with `parent`) are
/// GCJ-02, as `build` assumes too.
fn boundary_crs(p: &Path) -> Result<(PathBuf, Crs, String), Error> {
    std::fs::metadata(p).map_err(|source| Error::Io {
        path: p.to_path_buf(),
        source,
    })?;
    Ok(if crate::ingest::params::is_datav(p) {
        (
            p.to_path_buf(),
            Crs::Gcj02,
            riskmap_core::tr!(
                "阿里云 DataV 的行政区划文件，GCJ-02",
                "a DataV file: GCJ-02"
            ),
        )
    } else {
        (
            p.to_path_buf(),
            Crs::Wgs84,
            riskmap_core::tr!("未注明，按 WGS84；天地图、自然资源部的数据为 CGCS2000≈WGS84", "not stated: WGS84 (Tianditu's and the Ministry's CGCS2000 is WGS84 within centimetres)"),
        )
    })
}

/// A GeoJSON of polygons beside the register (the first by name), if any.
fn find_boundaries(register: &Path) -> Option<(PathBuf, Crs, String)> {
    let dir = register
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                e.eq_ignore_ascii_case("geojson") || e.eq_ignore_ascii_case("json")
            })
        })
        .collect();
    files.sort();
    files.into_iter().find_map(|p| {
        let (p, crs, why) = boundary_crs(&p).ok()?;
        let d = crate::ingest::boundaries::read_boundaries(&p, crs, "name", "adcode").ok()?;
        (!d.is_empty()).then_some((p, crs, why))
    })
}

/// The register's CRS when it does not say: tested against the districts its rows name
/// (as `build` does), else WGS84 with the question asked.
fn guess_crs(
    register: &Path,
    sheet: Option<&str>,
    t: &Table,
    boundaries: Option<&(PathBuf, Crs, String)>,
) -> (Option<Crs>, String) {
    let unstated = riskmap_core::tr!("文件未注明坐标系，暂按 WGS84；从高德、腾讯地图取的坐标是 gcj02，百度是 bd09，请据实修改", "not stated: WGS84 assumed; positions taken from Gaode or Tencent maps are gcj02, from Baidu bd09: set it to what they are");
    let Some((bp, bcrs, _)) = boundaries else {
        return (None, unstated);
    };
    let mut c = crate::config::Config::default();
    c.enterprises.path = Some(register.to_path_buf());
    c.enterprises.sheet = sheet.map(str::to_string);
    c.enterprises.header_row = Some(t.header_line);
    c.boundaries.path = Some(bp.clone());
    c.boundaries.crs = Some(*bcrs);
    // tolerate every point while testing (the region check comes with the build)
    c.region.tolerance_m = 50_000.0;
    let Ok(ds) = crate::pipeline::load(&c) else {
        return (None, unstated);
    };
    let named = ds
        .enterprises
        .iter()
        .filter(|e| {
            e.district_stated
                .as_deref()
                .is_some_and(|s| !s.trim().is_empty())
        })
        .count();
    match crate::dataset::crs_test(&ds.enterprises, &ds.districts) {
        Some(d) => {
            let (name, key, n, wgs, best) =
                (&d.name, d.crs.as_str(), d.named, d.wgs84_hits, d.hits);
            (
                Some(d.crs),
                riskmap_core::tr!(
                    "文件未注明坐标系；按所填区县检验，坐标是 {name}：按它读取 {best}/{n} 家企业落在所填区县，按 WGS84 只有 {wgs}/{n}。已写入 crs = \"{key}\"",
                    "not stated; tested against the districts the rows name, the positions are {name}: read so, {best} of {n} enterprises fall in their district, as WGS84 {wgs} of {n}. Written: crs = \"{key}\""
                ),
            )
        }
        None if named >= 10 => (
            Some(Crs::Wgs84),
            riskmap_core::tr!(
                "按 WGS84 读取时所填区县与位置相符（{named} 家企业填了区县）",
                "WGS84 fits the districts the rows name ({named} enterprises name one)"
            ),
        ),
        None => (None, unstated),
    }
}

/// A path as the config beside `config_dir` should name it (relative when it can be).
fn relative(p: &Path, config_dir: &Path) -> String {
    let abs = |x: &Path| std::fs::canonicalize(x).unwrap_or_else(|_| x.to_path_buf());
    let (p, d) = (abs(p), abs(config_dir));
    p.strip_prefix(&d)
        .map(|r| r.display().to_string())
        .unwrap_or_else(|_| p.display().to_string())
}

fn toml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

impl Inspection {
    /// The commented config, for a file in `config_dir`.
    pub fn toml(&self, config_dir: &Path) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "# riskmap.toml，由 `riskmap init` 根据 {} 生成：请核对后运行 `riskmap build`。",
            self.register.display()
        );
        let _ = writeln!(
            s,
            "# Written by `riskmap init` from the register: check it, then run `riskmap build`."
        );
        let _ = writeln!(
            s,
            "# 每一项都有默认值，完整说明见 README.md 的 Configuration 一节。\n"
        );
        match &self.region_name {
            Some(r) => {
                let _ = writeln!(
                    s,
                    "region_name = {}   # 地区名称，取自名录标题行；地图标题为“{r}安全生产风险四色分布图”",
                    toml_str(r)
                );
            }
            None => {
                let _ = writeln!(
                    s,
                    "# region_name = \"某某市\"   # 地区名称：地图标题和报告用"
                );
            }
        }
        let _ = writeln!(
            s,
            "# title = \"…安全生产风险四色分布图\"   # 地图标题（默认由 region_name 生成）"
        );
        let _ = writeln!(s, "# data_date = \"2026-11-01\"  # 数据日期\n");
        let _ = writeln!(s, "[enterprises]");
        let _ = writeln!(
            s,
            "path = {}   # {}，{} 行",
            toml_str(&relative(&self.register, config_dir)),
            self.format,
            self.rows
        );
        if let Some(sh) = &self.sheet {
            let _ = writeln!(
                s,
                "sheet = {}   # 工作表（共 {} 个：{}）",
                toml_str(sh),
                self.sheets.len(),
                self.sheets.join("、")
            );
        }
        if self.header_row > 1 {
            let _ = writeln!(
                s,
                "header_row = {}   # 表头所在行（上面是标题行）",
                self.header_row
            );
        }
        match self.crs {
            Some(c) => {
                let _ = writeln!(s, "crs = \"{c}\"   # {}", self.crs_why);
            }
            None if self.columns.iter().any(|c| c.0 == "crs") => {
                let _ = writeln!(s, "# crs = \"wgs84\"   # {}", self.crs_why);
            }
            None => {
                let _ = writeln!(s, "# crs = \"gcj02\"   # {}", self.crs_why);
            }
        }
        let _ = writeln!(s, "# 识别到的列 (columns found):");
        for (f, h) in &self.columns {
            let _ = writeln!(s, "#   {f} = {h}");
        }
        if !self.missing.is_empty() {
            let _ = writeln!(s, "# 缺少必填列 {}：请在下面指明表头 (required columns not found: name their headers below)", self.missing.join(", "));
            let _ = writeln!(s, "[enterprises.columns]");
            for f in &self.missing {
                let _ = writeln!(s, "# {f} = \"表头\"");
            }
        }
        s.push('\n');
        s.push_str("# 风险点评估、隐患、敏感目标（可选）:\n# [assessments]\n# path = \"风险点.xlsx\"\n# [hazards]\n# path = \"隐患.xlsx\"\n# [sites]\n# path = \"敏感目标.xlsx\"\n\n");
        match &self.boundaries {
            Some((p, crs, why)) => {
                let _ = writeln!(s, "[boundaries]");
                let _ = writeln!(s, "path = {}", toml_str(&relative(p, config_dir)));
                let _ = writeln!(s, "crs = \"{crs}\"   # {why}\n");
            }
            None => s.push_str("# 区县边界 GeoJSON（建议提供：区县统计与越界检查）:\n# [boundaries]\n# path = \"区县.geojson\"\n# crs = \"gcj02\"\n\n"),
        }
        s.push_str("[tiles]\nenabled = true   # 瓦片金字塔 (PMTiles, MBTiles)\nzoom = [8, 16]\n\n[vector]\nenabled = true   # 矢量瓦片 (MVT)：MapLibre / ArcGIS / SuperMap / QGIS 门户用\n\n[report]\nenabled = true   # 分析报告 report.html / report.xlsx\n");
        // positions from Gaode: the user's basemap is most likely Gaode too
        if self.crs == Some(Crs::Gcj02) {
            s.push_str("\n[output]\ncrs_out = [\"gcj02\"]   # 名录是高德坐标：另出一套 GCJ-02 的 GeoJSON 和瓦片（_gcj02），叠加高德底图时位置对得上\n");
        }
        s
    }
}
