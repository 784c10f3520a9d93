//! Rows → enterprises, with every problem reported, and the cell helpers the other
//! readers share (`assessments`, `sites`).

use super::fields::{map_columns, ColumnMap, ENTERPRISE_FIELDS};
use super::rejects::{Reject, RejectKind as K, RowIssues, RowRef};
use super::table::{Row, Table};
use super::{IngestError, Region};
use crate::crs::Crs;
use crate::index::DistrictIndex;
use crate::ingest::params::TableInput;
use crate::model::*;
use foldhash::{HashMap, HashSet};
use rayon::prelude::*;

pub(super) fn line_label(t: &Table, row: &Row) -> String {
    if let Some(k) = t.key_col {
        // a database row: its primary key
        format!("{}={}", t.headers[k], t.cell(row, k))
    } else if t.is_features {
        format!("feature {}", row.line)
    } else {
        row.line.to_string()
    }
}

/// Where a row is, with its enterprise (`enterprise_field`'s cell; in the register the
/// credit code when the id is empty)
/// and its own id (`id_field`'s cell) for rejects.
pub(super) fn row_ref(
    t: &Table,
    row: &Row,
    m: &ColumnMap,
    enterprise_field: Option<&str>,
    id_field: Option<&str>,
) -> RowRef {
    let mut enterprise_id = enterprise_field.map_or("", |f| cell(t, row, m, f));
    if enterprise_id.is_empty() && enterprise_field == Some("id") {
        enterprise_id = cell(t, row, m, "credit_code");
    }
    RowRef {
        file: t.file.clone(),
        line: line_label(t, row),
        enterprise_id: enterprise_id.to_string(),
        row_id: id_field
            .map(|f| cell(t, row, m, f).to_string())
            .unwrap_or_default(),
    }
}

/// The ids a table has accepted, each with where it was (line, feature or key): a later
/// row with one of them is a `DuplicateId` reject naming the first.
#[derive(Default)]
pub(super) struct SeenIds(std::collections::HashMap<String, String>);

impl SeenIds {
    /// Add the reject to `is` when `id` was accepted before.
    pub(super) fn check(&self, t: &Table, m: &ColumnMap, id: &str, is: &mut RowIssues) {
        if let Some(first) = self.0.get(id) {
            let first = if first.bytes().all(|b| b.is_ascii_digit()) {
                crate::tr!("第 {first} 行", "line {first}")
            } else {
                first.clone()
            };
            is.add(
                K::DuplicateId,
                header(t, m, "id"),
                id,
                crate::tr!("编号与 {first} 重复", "the id repeats the one at {first}"),
            );
        }
    }

    /// Remember an accepted row's id.
    pub(super) fn insert(&mut self, t: &Table, row: &Row, id: &str) {
        self.0.insert(id.to_string(), line_label(t, row));
    }
}

/// Header of a mapped column (for reject messages).
pub(super) fn header<'a>(t: &'a Table, m: &ColumnMap, field: &'a str) -> &'a str {
    m.get(field)
        .and_then(|i| t.headers.get(i))
        .map(String::as_str)
        // a virtual column (a GeoJSON feature's id or geometry) by its plain name
        .map(|h| h.strip_prefix('\u{1}').unwrap_or(h))
        .unwrap_or(field)
}

/// Cell text of a field ("" when the column is absent).
pub(super) fn cell<'a>(t: &'a Table, row: &'a Row, m: &ColumnMap, field: &str) -> &'a str {
    m.get(field).map(|i| t.cell(row, i)).unwrap_or("")
}

/// Parse a number as written in registers: trims, drops a trailing ° or unit `m`, accepts
/// full-width digits and a decimal comma-free form. `None` when not a finite number.
pub fn parse_number(s: &str) -> Option<f64> {
    let t: String = s
        .trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            '．' => '.',
            '－' => '-',
            c => c,
        })
        .collect();
    let t = t.trim_end_matches(['°', 'm', 'M', '米']).trim();
    t.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Parse a longitude or latitude as registers write it: decimal degrees (what
/// [`parse_number`] reads), or degrees-minutes-seconds — `117°03'15"`, `117°3′15.5″`,
/// `117度03分15秒`, `117:03:15`, `36 39 30` — with full-width punctuation, an optional
/// hemisphere (`E`/`N`, `东经`/`北纬`; `W`/`S`, `西经`/`南纬` make it negative). Minutes
/// and seconds must be below 60. `None` when it is none of these.
pub fn parse_coordinate(s: &str) -> Option<f64> {
    if let Some(v) = parse_number(s) {
        return Some(v);
    }
    let t = crate::model::fold_width(s);
    let mut t = t.trim().to_string();
    let mut sign = 1.0;
    for (w, neg) in [
        ("东经", false),
        ("北纬", false),
        ("西经", true),
        ("南纬", true),
        ("E", false),
        ("N", false),
        ("W", true),
        ("S", true),
        ("e", false),
        ("n", false),
        ("w", true),
        ("s", true),
    ] {
        if let Some(r) = t.strip_prefix(w).or_else(|| t.strip_suffix(w)) {
            t = r.trim().to_string();
            if neg {
                sign = -1.0;
            }
            break;
        }
    }
    // the numbers, separated by degree / minute / second marks or spaces
    let marks = |c: char| {
        matches!(
            c,
            '°' | '\''
                | '"'
                | '′'
                | '″'
                | '’'
                | '”'
                | '‘'
                | '“'
                | '度'
                | '分'
                | '秒'
                | ':'
                | ' '
        )
    };
    if !t.chars().any(marks) {
        return None;
    }
    let parts: Vec<&str> = t.split(marks).filter(|p| !p.is_empty()).collect();
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    let mut v = [0f64; 3];
    for (i, p) in parts.iter().enumerate() {
        let mut x = p.parse::<f64>().ok().filter(|x| x.is_finite())?;
        if p.starts_with('-') {
            if i > 0 {
                return None;
            }
            sign = -sign;
            x = -x;
        }
        if x < 0.0 || (i > 0 && x >= 60.0) {
            return None;
        }
        v[i] = x;
    }
    Some(sign * (v[0] + v[1] / 60.0 + v[2] / 3600.0))
}

/// Parse a number field into `issues`; `None` if empty or bad.
pub(super) fn number(
    t: &Table,
    row: &Row,
    m: &ColumnMap,
    field: &str,
    required: bool,
    issues: &mut RowIssues,
) -> Option<f64> {
    let v = cell(t, row, m, field);
    if v.is_empty() {
        if required {
            issues.add(
                K::MissingValue,
                header(t, m, field),
                v,
                crate::tr!("`{field}` 为空", "`{field}` is empty"),
            );
        }
        return None;
    }
    let n = if field == "lon" || field == "lat" {
        parse_coordinate(v)
    } else {
        parse_number(v)
    };
    if n.is_none() {
        issues.add(
            K::UnparseableNumber,
            header(t, m, field),
            v,
            crate::tr!("`{v}` 不是数字", "`{v}` is not a number"),
        );
    }
    n
}

/// Enterprises read from a register, with rejects and the ids of rejected rows.
#[derive(Debug, Default)]
pub struct EnterpriseRead {
    pub enterprises: Vec<Enterprise>,
    pub rejects: Vec<Reject>,
    pub rows_read: usize,
    pub rows_rejected: usize,
    /// Ids of rows that were rejected (so their assessments say why they are orphaned).
    pub rejected_ids: HashSet<String>,
    /// The CRS assumed for rows without a `crs` value, and where it came from.
    pub crs_used: String,
    /// Whether the register says its CRS (configured, a `crs` column, or a CRS in the
    /// longitude header); when not, every row was read as WGS84 by default.
    pub crs_stated: bool,
}

pub(super) fn looks_swapped(x: f64, y: f64) -> bool {
    // a lat in the lon slot and a lon in the lat slot, for a point in China
    crate::crs::in_china(y, x) && !crate::crs::in_china(x, y)
}

/// Read the enterprise register. `region` and `districts` decide where a point may lie and
/// which district it is in.
pub fn read_enterprises(
    t: &Table,
    input: &TableInput,
    default_crs: Option<Crs>,
    region: &Region,
    districts: &DistrictIndex,
    tolerance_m: f64,
) -> Result<EnterpriseRead, IngestError> {
    let geometry_supplies: &[&str] = if t.is_features { &["lon", "lat"] } else { &[] };
    let m = map_columns(
        &t.file,
        &t.headers,
        ENTERPRISE_FIELDS,
        &input.columns,
        geometry_supplies,
    )?;
    let default_crs_given = default_crs;
    let (default_crs, crs_used) = file_crs(t, &m, default_crs);
    let parsed: Vec<Result<Enterprise, Vec<Reject>>> = t
        .rows
        .par_iter()
        .map(|row| parse_enterprise(t, row, &m, default_crs, region, districts, tolerance_m))
        .collect();
    let crs_stated = default_crs_given.is_some() || m.crs_hint.is_some() || m.has("crs");
    let mut out = EnterpriseRead {
        rows_read: t.rows.len(),
        crs_used,
        crs_stated,
        ..Default::default()
    };
    // per row, the earlier accepted row with its id, if any: the id's first row is kept
    // (ids borrowed from the rows, before the enterprises move out of them)
    let earlier: Vec<Option<usize>> = {
        let mut first: HashMap<&str, usize> =
            HashMap::with_capacity_and_hasher(parsed.len(), Default::default());
        let ids = t.rows.iter().zip(&parsed).map(|(row, r)| match r {
            Ok(e) => (e.id.as_str(), true),
            Err(_) => (cell(t, row, &m, "id"), false),
        });
        ids.enumerate()
            .map(|(i, (id, accepted))| {
                let prev = first.get(id).copied();
                if prev.is_none() && accepted {
                    first.insert(id, i);
                }
                prev
            })
            .collect()
    };
    let mut parsed = parsed;
    for ((row, r), prev) in t.rows.iter().zip(parsed.iter_mut()).zip(earlier) {
        match r {
            Ok(e) => {
                if let Some(k) = prev {
                    let first = line_label(t, &t.rows[k]);
                    out.rejects
                        .push(row_ref(t, row, &m, Some("id"), None).reject(
                            K::DuplicateId,
                            header(t, &m, "id").to_string(),
                            e.id.clone(),
                            {
                                let id = &e.id;
                                crate::tr!(
                                "编号 `{id}` 已在第 {first} 行使用，保留第一行",
                                "id `{id}` is already used at line {first}; the first row is kept"
                            )
                            },
                        ));
                    out.rows_rejected += 1;
                    // not kept (below)
                    *r = Err(Vec::new());
                }
            }
            Err(rejects) => {
                let id = cell(t, row, &m, "id");
                if !id.is_empty() && prev.is_none() {
                    out.rejected_ids.insert(id.to_string());
                }
                out.rows_rejected += 1;
                out.rejects.append(rejects);
            }
        }
    }
    // the kept rows' enterprises in row order, collected in place (a fresh vector and
    // its page faults were a fifth of loading 100k rows)
    out.enterprises = parsed.into_iter().filter_map(Result::ok).collect();
    Ok(out)
}

/// The CRS of rows without a `crs` value, and where it came from: an explicit setting
/// wins, then a CRS named in the longitude header, then WGS84.
pub(super) fn file_crs(t: &Table, m: &ColumnMap, configured: Option<Crs>) -> (Crs, String) {
    match (configured, m.crs_hint) {
        (Some(c), _) => (c, crate::tr!("{c}（配置指定）", "{c} (configured)")),
        (None, Some(c)) => (c, {
            let h = header(t, m, "lon");
            crate::tr!("{c}（来自表头 `{h}`）", "{c} (from the header `{h}`)")
        }),
        (None, None) => (Crs::Wgs84, crate::tr!("wgs84（默认）", "wgs84 (default)")),
    }
}

/// The CRS of a row: its `crs` cell, else the file's.
pub(super) fn crs_of_row(
    t: &Table,
    row: &Row,
    m: &ColumnMap,
    default_crs: Crs,
    is: &mut RowIssues,
) -> Option<Crs> {
    let crs_text = cell(t, row, m, "crs");
    if crs_text.is_empty() {
        return Some(default_crs);
    }
    match crs_text.parse::<Crs>() {
        Ok(c) => Some(c),
        Err(msg) => {
            is.add(K::UnknownCrs, header(t, m, "crs"), crs_text, msg);
            None
        }
    }
}

/// The WGS84 position of a point row (sites, resources): its lon/lat columns, or a
/// GeoJSON feature's point, in the row's CRS, checked against the region; and the CRS.
pub(super) fn point_of_row(
    t: &Table,
    row: &Row,
    m: &ColumnMap,
    default_crs: Crs,
    region: &Region,
    districts: &DistrictIndex,
    is: &mut RowIssues,
) -> (Option<(f64, f64)>, Option<Crs>) {
    let crs = crs_of_row(t, row, m, default_crs, is);
    let (x, y) = if m.has("lon") || !t.is_features {
        (
            number(t, row, m, "lon", true, is),
            number(t, row, m, "lat", true, is),
        )
    } else {
        match row.point {
            Some((x, y)) => (Some(x), Some(y)),
            None => {
                is.add(
                    K::NoGeometry,
                    "geometry",
                    "",
                    row.geometry_problem.clone().unwrap_or_default(),
                );
                (None, None)
            }
        }
    };
    let both = format!("{}/{}", header(t, m, "lon"), header(t, m, "lat"));
    let lonlat = match (x, y, crs) {
        (Some(x), Some(y), Some(crs)) => check_location(x, y, crs, region, districts, &both, is),
        _ => None,
    };
    (lonlat, crs)
}

/// Check a raw coordinate pair and convert it to WGS84; every problem goes to `is`.
pub(super) fn check_location(
    x: f64,
    y: f64,
    crs: Crs,
    region: &Region,
    districts: &DistrictIndex,
    both: &str,
    is: &mut RowIssues,
) -> Option<(f64, f64)> {
    // the raw pair, for messages only (formatting it for every row cost a twentieth of
    // reading a register)
    let raw = || format!("{x}, {y}");
    if x == 0.0 && y == 0.0 {
        is.add(
            K::ZeroCoordinate,
            both,
            &raw(),
            crate::tr!(
                "(0, 0) 是占位值，不是位置",
                "(0, 0) is a placeholder, not a location"
            ),
        );
    } else if !(-180.0..=180.0).contains(&x) || !(-90.0..=90.0).contains(&y) {
        if looks_swapped(x, y) {
            is.add(K::SwappedLatLon, both, &raw(), crate::tr!("经纬度疑似颠倒（{y}, {x} 才是有效坐标）；请修改此行，riskmap 不做猜测", "latitude and longitude look swapped ({y}, {x} would be valid); fix the row, riskmap does not guess"));
        } else {
            is.add(
                K::CoordinateOutOfRange,
                both,
                &raw(),
                crate::tr!(
                    "经度须在 −180..180、纬度须在 −90..90 之间",
                    "longitude must be within −180..180 and latitude within −90..90"
                ),
            );
        }
    } else {
        let (lon, lat) = crs.to_wgs84(x, y);
        if region.contains(lon, lat, districts) {
            return Some((lon, lat));
        } else {
            let (slon, slat) = crs.to_wgs84(y, x);
            if looks_swapped(x, y)
                || ((-180.0..=180.0).contains(&y)
                    && (-90.0..=90.0).contains(&x)
                    && !matches!(region, Region::Open)
                    && region.contains(slon, slat, districts))
            {
                is.add(K::SwappedLatLon, both, &raw(), crate::tr!("经纬度疑似颠倒（{y}, {x} 位于区域内）；请修改此行，riskmap 不做猜测", "latitude and longitude look swapped ({y}, {x} lies in the region); fix the row, riskmap does not guess"));
            } else {
                is.add(K::OutsideRegion, both, &raw(), {
                    let r = region.describe();
                    crate::tr!(
                        "WGS84 坐标 ({lon:.6}, {lat:.6}) 不在{r}内",
                        "({lon:.6}, {lat:.6}) in WGS84 is outside {r}"
                    )
                });
            }
        }
    }
    None
}

fn parse_enterprise(
    t: &Table,
    row: &Row,
    m: &ColumnMap,
    default_crs: Crs,
    region: &Region,
    districts: &DistrictIndex,
    tolerance_m: f64,
) -> Result<Enterprise, Vec<Reject>> {
    let mut is = RowIssues::default();
    let id = cell(t, row, m, "id").to_string();
    if id.is_empty() {
        is.add(
            K::MissingValue,
            header(t, m, "id"),
            "",
            crate::tr!("企业编号为空", "the enterprise id is empty"),
        );
    }
    let name = cell(t, row, m, "name").to_string();
    if name.is_empty() {
        is.add(
            K::MissingValue,
            header(t, m, "name"),
            "",
            crate::tr!("企业名称为空", "the enterprise name is empty"),
        );
    }
    let crs = crs_of_row(t, row, m, default_crs, &mut is);
    // coordinates: from columns, else from a GeoJSON point
    let (x, y, xcol, ycol) = if m.has("lon") || !t.is_features {
        let x = number(t, row, m, "lon", true, &mut is);
        let y = number(t, row, m, "lat", true, &mut is);
        (
            x,
            y,
            header(t, m, "lon").to_string(),
            header(t, m, "lat").to_string(),
        )
    } else {
        match (row.point, &row.geometry_problem) {
            (Some((x, y)), _) => (Some(x), Some(y), "geometry".into(), "geometry".into()),
            (None, p) => {
                is.add(
                    K::NoGeometry,
                    "geometry",
                    "",
                    p.clone()
                        .unwrap_or_else(|| crate::tr!("没有点几何", "no point geometry")),
                );
                (None, None, "geometry".into(), "geometry".into())
            }
        }
    };
    let both = format!("{xcol}/{ycol}");
    let lonlat = match (x, y, crs) {
        (Some(x), Some(y), Some(crs)) => {
            check_location(x, y, crs, region, districts, &both, &mut is)
        }
        _ => None,
    };
    let level_text = cell(t, row, m, "level");
    let direct_level = if level_text.is_empty() {
        None
    } else {
        let l = Level::parse(level_text);
        if l.is_none() {
            is.add(K::UnknownLevel, header(t, m, "level"), level_text, {
                let a = Level::accepted();
                crate::tr!(
                    "无法识别的风险等级 `{level_text}`；可用：{a}",
                    "unknown level `{level_text}`; accepted: {a}"
                )
            });
        }
        l
    };
    let mh_text = cell(t, row, m, "major_hazard");
    let major_hazard = match HazardGrade::parse(mh_text) {
        Ok(g) => g,
        Err(()) => {
            is.add(K::UnknownValue, header(t, m, "major_hazard"), mh_text, {
                let a = HazardGrade::accepted();
                crate::tr!(
                    "无法识别的重大危险源级别 `{mh_text}`；可用：{a}",
                    "unknown major hazard grade `{mh_text}`; accepted: {a}"
                )
            });
            None
        }
    };
    let employees = number(t, row, m, "employees", false, &mut is).and_then(|v| {
        if v < 0.0 || v.fract() != 0.0 {
            is.add(
                K::UnparseableNumber,
                header(t, m, "employees"),
                cell(t, row, m, "employees"),
                crate::tr!(
                    "从业人数须为 ≥ 0 的整数",
                    "the number of employees must be a whole number ≥ 0"
                ),
            );
            None
        } else {
            Some(v as u32)
        }
    });
    let radius_m = number(t, row, m, "radius", false, &mut is).and_then(|v| {
        if v <= 0.0 {
            is.add(
                K::UnparseableNumber,
                header(t, m, "radius"),
                cell(t, row, m, "radius"),
                crate::tr!(
                    "影响半径须大于 0 米",
                    "the influence radius must be > 0 metres"
                ),
            );
            None
        } else {
            Some(v)
        }
    });
    let fatal_text = cell(t, row, m, "fatal_accident");
    let fatal_accident = parse_bool(fatal_text).unwrap_or_else(|| {
        is.add(
            K::UnknownValue,
            header(t, m, "fatal_accident"),
            fatal_text,
            crate::tr!("应为 是/否（或 1/0）", "expected 是/否 (yes/no, 1/0)"),
        );
        false
    });
    if !is.is_empty() {
        return Err(is.into_rejects(&row_ref(t, row, m, Some("id"), None)));
    }
    let (lon, lat) = lonlat.unwrap_or_default();
    let mut warnings = Vec::new();
    let credit_code = m
        .get("credit_code")
        .map(|i| t.cell(row, i).to_string())
        .filter(|s| !s.is_empty());
    let code_to_check = credit_code.clone().or_else(|| {
        (id.chars().count() == 18 && id.chars().all(|c| c.is_ascii_alphanumeric()))
            .then(|| id.clone())
    });
    if let Some(c) = &code_to_check {
        if let Some(w) = super::credit::check(c) {
            warnings.push(w);
        }
    }
    // district: by location; a stated district that disagrees is a warning
    let district = districts.locate(lon, lat).or_else(|| {
        districts
            .nearest_within(lon, lat, tolerance_m)
            .map(|(i, d)| {
                warnings.push(crate::tr!(
                    "位于区县边界外 {d:.0} 米，归入最近的区县",
                    "{d:.0} m outside the district boundaries; assigned to the nearest"
                ));
                i
            })
    });
    let district_stated = Some(cell(t, row, m, "district").to_string()).filter(|s| !s.is_empty());
    if let (Some(s), Some(d)) = (&district_stated, district) {
        let dd = &districts.districts[d];
        if !district_matches(s, &dd.name, &dd.adcode) {
            let n = &dd.name;
            warnings.push(crate::tr!(
                "填写的区县为 `{s}`，但坐标位于{n}",
                "stated district `{s}` but the location is in {n}"
            ));
        }
    }
    // own rescue team: 有/无 (专职/兼职 count as 有); anything else is a warning, not a
    // reason to leave the enterprise off the map
    let team_text = cell(t, row, m, "own_team").trim().to_string();
    let own_team = if team_text.is_empty() {
        None
    } else if team_text.contains("专职") || team_text.contains("兼职") {
        Some(true)
    } else {
        let v = parse_bool(&team_text);
        if v.is_none() {
            let h = header(t, m, "own_team");
            warnings.push(crate::tr!(
                "{h} 为 `{team_text}`，应为 有/无：按未填处理",
                "{h} is `{team_text}`, expected 有/无 (yes/no): taken as not given"
            ));
        }
        v
    };
    let rescue_partner =
        Some(cell(t, row, m, "rescue_partner").trim().to_string()).filter(|s| !s.is_empty());
    let extra = m
        .extra
        .iter()
        .map(|&i| (t.headers[i].clone(), t.cell(row, i).to_string()))
        .collect();
    Ok(Enterprise {
        id,
        name,
        credit_code,
        industry: Some(cell(t, row, m, "industry").to_string()).filter(|s| !s.is_empty()),
        district_stated,
        lon,
        lat,
        src_crs: crs.unwrap_or_default(),
        direct_level,
        major_hazard,
        employees,
        radius_m,
        fatal_accident,
        own_team,
        rescue_partner,
        extra,
        source: SourceRef {
            file: t.file.clone(),
            line: row.line,
        },
        district,
        warnings,
    })
}

/// Whether a district written in a register names the boundary `name` / `adcode`,
/// allowing a city prefix, a missing suffix and pre-2016/2019 codes.
pub fn district_matches(stated: &str, name: &str, adcode: &str) -> bool {
    let s = stated.trim();
    if s == name || s == adcode {
        return true;
    }
    let legacy = [
        ("370181", "370114"),
        ("370125", "370115"),
        ("371202", "370116"),
        ("371203", "370117"),
        ("370171", "370176"),
    ];
    if legacy.iter().any(|(old, new)| s == *old && adcode == *new) {
        return true;
    }
    let core = |x: &str| -> String {
        let x = x.trim_start_matches("山东省").trim_start_matches("济南市");
        let x = x
            .strip_suffix('区')
            .or_else(|| x.strip_suffix('县'))
            .or_else(|| x.strip_suffix('市'))
            .unwrap_or(x);
        x.to_string()
    };
    let (a, b) = (core(s), core(name));
    !a.is_empty() && a == b
}

pub use super::assessments::*;
pub use super::sites::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_number(" 117.5 "), Some(117.5));
        assert_eq!(parse_number("１１７．５"), Some(117.5));
        assert_eq!(parse_number("36.6°"), Some(36.6));
        assert_eq!(parse_number("500m"), Some(500.0));
        assert_eq!(parse_number("abc"), None);
        assert_eq!(parse_number("NaN"), None);
    }

    #[test]
    fn coordinates_in_degrees_minutes_seconds() {
        let near = |s: &str, want: f64| {
            let got = parse_coordinate(s).unwrap_or_else(|| panic!("{s}: not read"));
            assert!((got - want).abs() < 1e-9, "{s}: {got} vs {want}");
        };
        let dms = 117.0 + 3.0 / 60.0 + 15.0 / 3600.0;
        near("117°03'15\"", dms);
        near("117°3′15″", dms);
        near("117度03分15秒", dms);
        near("１１７°０３′１５″", dms);
        near("117:03:15", dms);
        near("117 03 15", dms);
        near("E117°03'15\"", dms);
        near("东经117°03'15\"", dms);
        near("117°03'15\"E", dms);
        near("117°03.25'", 117.0 + 3.25 / 60.0);
        near("36°39'", 36.65);
        near("西经73°59'", -(73.0 + 59.0 / 60.0));
        near("117.0542", 117.0542);
        for bad in [
            "117°61'",
            "117°03'60\"",
            "117 03 15 2",
            "abc",
            "117°x'",
            "°'",
            "117-03",
        ] {
            assert_eq!(parse_coordinate(bad), None, "{bad}");
        }
    }

    #[test]
    fn district_names() {
        assert!(district_matches("历城区", "历城区", "370112"));
        assert!(district_matches("济南市历城区", "历城区", "370112"));
        assert!(district_matches("历城", "历城区", "370112"));
        assert!(district_matches("章丘市", "章丘区", "370114"));
        assert!(district_matches("370181", "章丘区", "370114"));
        assert!(!district_matches("历下区", "历城区", "370112"));
    }
}
