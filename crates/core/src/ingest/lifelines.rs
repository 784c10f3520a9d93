//! Rows → city lifelines (城市生命线, #27 §2): gas mains, long-distance oil and gas
//! pipelines, overhead power lines, water and heating mains, each a LineString or
//! MultiLineString from GeoJSON, the database (PostGIS) or a WKT column of a CSV or sheet,
//! in any supported CRS. A row whose kind names no lifeline, or whose geometry is not a
//! line in degrees, is rejected with the reason; a repeated id too.

use super::fields::map_columns;
use super::records::*;
use super::rejects::{Reject, RejectKind as K, RowIssues};
use super::table::Table;
use super::IngestError;
use crate::crs::Crs;
use crate::ingest::params::TableInput;
use crate::model::*;
use geo::{Coord, LineString, MultiLineString};

/// Lifelines read from a table.
#[derive(Debug, Default)]
pub struct LifelineRead {
    pub lifelines: Vec<Lifeline>,
    pub rejects: Vec<Reject>,
    pub rows_read: usize,
    pub rows_rejected: usize,
    pub crs_used: String,
}

/// Read city lifelines.
pub fn read_lifelines(
    t: &Table,
    input: &TableInput,
    default_crs: Option<Crs>,
) -> Result<LifelineRead, IngestError> {
    let m = map_columns(
        &t.file,
        &t.headers,
        super::fields::LIFELINE_FIELDS,
        &input.columns,
        &[],
    )?;
    let (default_crs, crs_used) = match default_crs {
        Some(c) => (c, crate::tr!("{c}（配置指定）", "{c} (configured)")),
        None => (Crs::Wgs84, crate::tr!("wgs84（默认）", "wgs84 (default)")),
    };
    let mut out = LifelineRead {
        rows_read: t.rows.len(),
        crs_used,
        ..Default::default()
    };
    let mut seen = SeenIds::default();
    for (n, row) in t.rows.iter().enumerate() {
        let mut is = RowIssues::default();
        let mut warnings = Vec::new();
        let kind_text = cell(t, row, &m, "type").trim().to_string();
        let kinds = crate::tr!(
            "燃气管道、长输油气管道、高压输电线路、供水管道、供热管道",
            "gas, pipeline, power, water, heating"
        );
        let kind = if kind_text.is_empty() {
            is.add(
                K::MissingValue,
                header(t, &m, "type"),
                "",
                crate::tr!(
                    "管线类型为空（{kinds}）",
                    "the lifeline type is empty ({kinds})"
                ),
            );
            None
        } else {
            let k = LifelineKind::parse(&kind_text);
            if k.is_none() {
                is.add(
                    K::UnknownValue,
                    header(t, &m, "type"),
                    &kind_text,
                    crate::tr!(
                        "不是已知的生命线类型（{kinds}）",
                        "not a known lifeline type ({kinds})"
                    ),
                );
            }
            k
        };
        // the gas class: its own column, else the type text ("中压A燃气管道")
        let pressure_text = cell(t, row, &m, "pressure").trim().to_string();
        let pressure = match kind {
            Some(LifelineKind::Gas) if !pressure_text.is_empty() => {
                let p = GasPressure::parse(&pressure_text);
                if p.is_none() {
                    is.add(
                        K::UnknownValue,
                        header(t, &m, "pressure"),
                        &pressure_text,
                        crate::tr!(
                            "压力级制应为 低压、中压A/B、次高压A/B、高压A/B 或以 MPa 计的设计压力",
                            "a pressure class is 低压, 中压A/B, 次高压A/B, 高压A/B or a design pressure in MPa"
                        ),
                    );
                }
                p
            }
            Some(LifelineKind::Gas) => {
                let p = gas_class_in(&kind_text);
                if p.is_none() {
                    warnings.push(crate::tr!(
                        "未填压力级制：按中压管道的保护范围计",
                        "no pressure class: the medium-pressure protection range applies"
                    ));
                }
                p
            }
            _ => None,
        };
        let voltage_text = cell(t, row, &m, "voltage").trim().to_string();
        let voltage_kv = match kind {
            Some(LifelineKind::Power) if !voltage_text.is_empty() => {
                let v = parse_voltage_kv(&voltage_text);
                if v.is_none() {
                    is.add(
                        K::UnparseableNumber,
                        header(t, &m, "voltage"),
                        &voltage_text,
                        crate::tr!(
                            "电压等级应为千伏数，如 110kV",
                            "a voltage is a number of kV, e.g. 110kV"
                        ),
                    );
                }
                v
            }
            Some(LifelineKind::Power) => {
                let v = parse_voltage_kv(&kind_text);
                if v.is_none() {
                    warnings.push(crate::tr!(
                        "未填电压等级：按 1–10 kV 的保护区宽度计",
                        "no voltage: the 1–10 kV protection width applies"
                    ));
                }
                v
            }
            _ => None,
        };
        let non_negative = |field: &str, is: &mut RowIssues| {
            let v = number(t, row, &m, field, false, is)?;
            if v < 0.0 {
                is.add(
                    K::UnparseableNumber,
                    header(t, &m, field),
                    cell(t, row, &m, field),
                    crate::tr!("不能为负数", "cannot be negative"),
                );
                return None;
            }
            Some(v)
        };
        // a pipe's size as written: 300, DN300, Φ325, 325mm (the first number, in mm)
        let diameter_text = cell(t, row, &m, "diameter").trim();
        let diameter_mm = if diameter_text.is_empty() {
            None
        } else {
            let num: String = diameter_text
                .chars()
                .skip_while(|c| !c.is_ascii_digit())
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let v = num.parse::<f64>().ok().filter(|v| v.is_finite());
            if v.is_none() {
                is.add(
                    K::UnparseableNumber,
                    header(t, &m, "diameter"),
                    diameter_text,
                    crate::tr!(
                        "管径应为毫米数，如 DN300 或 325",
                        "a diameter is in millimetres, e.g. DN300 or 325"
                    ),
                );
            }
            v
        };
        let span_m = non_negative("span", &mut is);
        let protect_m = non_negative("protect", &mut is);
        let control_m = non_negative("control", &mut is);
        let body_m = diameter_mm.map(|d| d / 2000.0).unwrap_or(0.0) + span_m.unwrap_or(0.0) / 2.0;
        let (line, crs) = line_of_row(t, row, &m, default_crs, &mut is);
        let id_text = cell(t, row, &m, "id").trim().to_string();
        let id = if id_text.is_empty() {
            format!("L{}", n + 1)
        } else {
            id_text
        };
        seen.check(t, &m, &id, &mut is);
        let opt = |k: &str| Some(cell(t, row, &m, k).trim().to_string()).filter(|s| !s.is_empty());
        match (line, kind) {
            (Some(line), Some(kind)) if is.is_empty() => {
                seen.insert(t, row, &id);
                out.lifelines.push(Lifeline {
                    id,
                    name: opt("name"),
                    kind,
                    kind_stated: kind_text,
                    pressure,
                    voltage_kv,
                    owner: opt("owner"),
                    body_m,
                    protect_m,
                    control_m,
                    line,
                    src_crs: crs.unwrap_or_default(),
                    source: SourceRef {
                        file: t.file.clone(),
                        line: row.line,
                    },
                    warnings,
                });
            }
            _ => {
                out.rows_rejected += 1;
                out.rejects
                    .extend(is.into_rejects(&row_ref(t, row, &m, None, Some("id"))));
            }
        }
    }
    Ok(out)
}

/// A row's line (its `geometry` cell, in its CRS) and the CRS, or the problem in `is`.
pub(super) fn line_of_row(
    t: &Table,
    row: &super::table::Row,
    m: &super::fields::ColumnMap,
    default_crs: Crs,
    is: &mut RowIssues,
) -> (Option<MultiLineString<f64>>, Option<Crs>) {
    let crs = crs_of_row(t, row, m, default_crs, is);
    let geometry_text = cell(t, row, m, "geometry").trim();
    if geometry_text.is_empty() {
        is.add(
            K::NoGeometry,
            header(t, m, "geometry"),
            "",
            crate::tr!("没有几何（线）", "no geometry (a line)"),
        );
        return (None, crs);
    }
    let line = match crs.map(|c| parse_line(geometry_text, c)) {
        Some(Ok(l)) => Some(l),
        Some(Err(e)) => {
            let shown: String = geometry_text.chars().take(80).collect();
            is.add(K::NoGeometry, header(t, m, "geometry"), &shown, e);
            None
        }
        None => None,
    };
    (line, crs)
}

/// A gas class named inside the type text ("次高压燃气管道", "中压A燃气").
fn gas_class_in(kind_text: &str) -> Option<GasPressure> {
    let t = kind_text.trim();
    for word in ["次高压", "中压", "高压", "低压"] {
        if let Some(i) = t.find(word) {
            let tail: String = t[i..].chars().take(word.chars().count() + 1).collect();
            return GasPressure::parse(&tail).or_else(|| GasPressure::parse(word));
        }
    }
    None
}

/// A line from GeoJSON geometry text (`{"type":"LineString",…}`) or WKT
/// (`LINESTRING(117.0 36.6, …)`), converted from `crs` to WGS84.
pub fn parse_line(text: &str, crs: Crs) -> Result<MultiLineString<f64>, String> {
    let parts: Vec<Vec<(f64, f64)>> = if text.starts_with('{') {
        let v: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| crate::tr!("几何不是有效的 JSON：{e}", "the geometry is not JSON: {e}"))?;
        let ty = v.get("type").and_then(|t| t.as_str()).unwrap_or("?");
        let coords = v.get("coordinates");
        let positions = |c: &serde_json::Value| -> Option<Vec<(f64, f64)>> {
            c.as_array()?
                .iter()
                .map(|p| Some((p.get(0)?.as_f64()?, p.get(1)?.as_f64()?)))
                .collect()
        };
        let bad = || crate::tr!("{ty} 的坐标格式错误", "malformed coordinates of a {ty}");
        match (ty, coords) {
            ("LineString", Some(c)) => vec![positions(c).ok_or_else(bad)?],
            ("MultiLineString", Some(c)) => c
                .as_array()
                .ok_or_else(bad)?
                .iter()
                .map(|l| positions(l).ok_or_else(bad))
                .collect::<Result<_, _>>()?,
            _ => {
                return Err(crate::tr!(
                    "几何类型 {ty} 不是 LineString 或 MultiLineString",
                    "geometry type {ty} is not a LineString or MultiLineString"
                ))
            }
        }
    } else {
        use wkt::TryFromWkt;
        let g = geo::Geometry::<f64>::try_from_wkt_str(text).map_err(|e| {
            crate::tr!(
                "不是有效的 WKT 线（LINESTRING / MULTILINESTRING）：{e}",
                "not a WKT line (LINESTRING / MULTILINESTRING): {e}"
            )
        })?;
        let ls = |l: &LineString<f64>| l.0.iter().map(|c| (c.x, c.y)).collect::<Vec<_>>();
        match g {
            geo::Geometry::LineString(l) => vec![ls(&l)],
            geo::Geometry::MultiLineString(m) => m.0.iter().map(ls).collect(),
            other => {
                let ty = match other {
                    geo::Geometry::Point(_) => "POINT",
                    geo::Geometry::Polygon(_) => "POLYGON",
                    geo::Geometry::MultiPoint(_) => "MULTIPOINT",
                    geo::Geometry::MultiPolygon(_) => "MULTIPOLYGON",
                    _ => "?",
                };
                return Err(crate::tr!(
                    "WKT 几何 {ty} 不是 LINESTRING 或 MULTILINESTRING",
                    "WKT geometry {ty} is not a LINESTRING or MULTILINESTRING"
                ));
            }
        }
    };
    let mut lines = Vec::with_capacity(parts.len());
    for p in parts {
        let mut cs: Vec<Coord<f64>> = Vec::with_capacity(p.len());
        for (x, y) in p {
            if !(x.is_finite()
                && y.is_finite()
                && (-180.0..=180.0).contains(&x)
                && (-90.0..=90.0).contains(&y))
            {
                return Err(crate::tr!(
                    "坐标 [{x}, {y}] 不是以度为单位的经纬度（投影坐标请先转换为 WGS84/CGCS2000、GCJ-02 或 BD-09）",
                    "position [{x}, {y}] is not longitude/latitude in degrees (convert projected metres to WGS84/CGCS2000, GCJ-02 or BD-09 first)"
                ));
            }
            let (x, y) = crs.to_wgs84(x, y);
            // a repeated position adds no length and no segment
            if cs.last().is_none_or(|c| c.x != x || c.y != y) {
                cs.push(Coord { x, y });
            }
        }
        if cs.len() >= 2 {
            lines.push(LineString::new(cs));
        }
    }
    if lines.is_empty() {
        return Err(crate::tr!(
            "线至少需要两个不同的点",
            "a line needs at least two distinct positions"
        ));
    }
    Ok(MultiLineString::new(lines))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_from_geojson_and_wkt() {
        let g = r#"{"type":"MultiLineString","coordinates":[[[117.0,36.6],[117.01,36.6],[117.01,36.6]],[[117.1,36.7],[117.2,36.7]]]}"#;
        let l = parse_line(g, Crs::Wgs84).unwrap();
        assert_eq!(l.0.len(), 2);
        assert_eq!(l.0[0].0.len(), 2, "the repeated position is dropped");
        let w = parse_line("LINESTRING (117.0 36.6, 117.01 36.61)", Crs::Wgs84).unwrap();
        assert_eq!(w.0[0].0[1].y, 36.61);
        assert!(parse_line("POINT (117 36)", Crs::Wgs84).is_err());
        assert!(parse_line(
            r#"{"type":"LineString","coordinates":[[500000,4000000],[500100,4000000]]}"#,
            Crs::Wgs84
        )
        .is_err());
        assert!(parse_line(
            r#"{"type":"LineString","coordinates":[[117,36],[117,36]]}"#,
            Crs::Wgs84
        )
        .is_err());
        // GCJ-02 in, WGS84 out: moved by the offset (a few hundred metres in Jinan)
        let c = parse_line("LINESTRING (117.0 36.6, 117.01 36.61)", Crs::Gcj02).unwrap();
        let dx = (c.0[0].0[0].x - 117.0).abs();
        assert!(dx > 0.001 && dx < 0.01, "{dx}");
    }

    #[test]
    fn kinds_pressures_and_voltages_as_registers_write_them() {
        use LifelineKind::*;
        for (t, k) in [
            ("天然气长输管道", Pipeline),
            ("输油管道", Pipeline),
            ("燃气管道", Gas),
            ("中压A天然气管道", Gas),
            ("110kV架空输电线路", Power),
            ("高压输电线路", Power),
            ("自来水管", Water),
            ("热力管网", Heating),
            ("power", Power),
        ] {
            assert_eq!(LifelineKind::parse(t), Some(k), "{t}");
        }
        assert_eq!(LifelineKind::parse("公路"), None);
        assert_eq!(GasPressure::parse("中压A"), Some(GasPressure::MediumA));
        assert_eq!(GasPressure::parse("中压 B 级"), Some(GasPressure::MediumB));
        assert_eq!(GasPressure::parse("次高压"), Some(GasPressure::SubHighA));
        assert_eq!(GasPressure::parse("0.4MPa"), Some(GasPressure::MediumA));
        assert_eq!(GasPressure::parse("1.6"), Some(GasPressure::SubHighA));
        assert_eq!(GasPressure::parse("4.0"), Some(GasPressure::HighA));
        assert_eq!(GasPressure::parse("5kPa"), Some(GasPressure::Low));
        assert_eq!(gas_class_in("次高压B燃气管道"), Some(GasPressure::SubHighB));
        assert_eq!(gas_class_in("燃气管道"), None);
        assert_eq!(parse_voltage_kv("110kV"), Some(110.0));
        assert_eq!(parse_voltage_kv("500 千伏"), Some(500.0));
        assert_eq!(parse_voltage_kv("380V"), Some(0.38));
        assert_eq!(parse_voltage_kv("220kV架空线"), Some(220.0));
        assert_eq!(parse_voltage_kv("高压"), None);
    }
}
