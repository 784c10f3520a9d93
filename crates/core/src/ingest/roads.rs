//! Rows → roads (#27 §1): each a LineString or MultiLineString from GeoJSON, the
//! database (PostGIS) or a WKT column, in any supported CRS, with its class in the
//! owner's words (高速公路 / 快速路 / 主干路 / 次干路 / 支路, 国道 / 县道 / 村道,
//! OpenStreetMap's highway tags) and optionally its speed and one-way flag. A row whose
//! class names none, whose speed is not a speed, or whose geometry is not a line in
//! degrees is rejected with the reason; a repeated id too.

use super::fields::map_columns;
use super::lifelines::line_of_row;
use super::records::*;
use super::rejects::{Reject, RejectKind as K, RowIssues};
use super::table::Table;
use super::IngestError;
use crate::crs::Crs;
use crate::ingest::params::TableInput;
use crate::model::*;

/// Roads read from a table.
#[derive(Debug, Default)]
pub struct RoadRead {
    pub roads: Vec<Road>,
    pub rejects: Vec<Reject>,
    pub rows_read: usize,
    pub rows_rejected: usize,
    pub crs_used: String,
}

/// Read the road network.
pub fn read_roads(
    t: &Table,
    input: &TableInput,
    default_crs: Option<Crs>,
) -> Result<RoadRead, IngestError> {
    let m = map_columns(
        &t.file,
        &t.headers,
        super::fields::ROAD_FIELDS,
        &input.columns,
        &[],
    )?;
    let (default_crs, crs_used) = match default_crs {
        Some(c) => (c, crate::tr!("{c}（配置指定）", "{c} (configured)")),
        None => (Crs::Wgs84, crate::tr!("wgs84（默认）", "wgs84 (default)")),
    };
    let mut out = RoadRead {
        rows_read: t.rows.len(),
        crs_used,
        ..Default::default()
    };
    let mut seen = SeenIds::default();
    for (n, row) in t.rows.iter().enumerate() {
        let mut is = RowIssues::default();
        let class_text = cell(t, row, &m, "class").trim().to_string();
        let class = RoadClass::parse(&class_text);
        if class.is_none() {
            is.add(
                if class_text.is_empty() { K::MissingValue } else { K::UnknownValue },
                header(t, &m, "class"),
                &class_text,
                crate::tr!(
                    "道路等级应为 高速公路、快速路、主干路、次干路 或 支路（国道、省道、县道、乡道、村道亦可）",
                    "the class is motorway, expressway, arterial, secondary or local (or an OpenStreetMap highway tag)"
                ),
            );
        }
        // a speed as registers write it: 60, 60km/h, 60 公里/小时
        let speed_text = cell(t, row, &m, "speed").trim().to_string();
        let speed_kmh = if speed_text.is_empty() {
            None
        } else {
            let digits: String = speed_text
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            match digits
                .parse::<f64>()
                .ok()
                .filter(|v| *v > 0.0 && *v <= 200.0)
            {
                Some(v) => Some(v),
                None => {
                    is.add(
                        K::UnparseableNumber,
                        header(t, &m, "speed"),
                        &speed_text,
                        crate::tr!(
                            "`{speed_text}` 不是 0–200 公里/小时的速度",
                            "`{speed_text}` is not a speed of 0–200 km/h"
                        ),
                    );
                    None
                }
            }
        };
        let oneway = matches!(
            cell(t, row, &m, "oneway").trim().to_lowercase().as_str(),
            "是" | "单行" | "yes" | "true" | "1" | "y" | "t"
        );
        let (line, crs) = line_of_row(t, row, &m, default_crs, &mut is);
        let id_text = cell(t, row, &m, "id").trim().to_string();
        let id = if id_text.is_empty() {
            format!("R{}", n + 1)
        } else {
            id_text
        };
        if !cell(t, row, &m, "id").trim().is_empty() {
            seen.check(t, &m, &id, &mut is);
        }
        let name = cell(t, row, &m, "name").trim();
        match (line, class) {
            (Some(line), Some(class)) if is.is_empty() => {
                seen.insert(t, row, &id);
                out.roads.push(Road {
                    id,
                    name: (!name.is_empty()).then(|| name.to_string()),
                    class,
                    speed_kmh,
                    oneway,
                    line,
                    src_crs: crs.unwrap_or_default(),
                    source: SourceRef {
                        file: t.file.clone(),
                        line: row.line,
                    },
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_in_owners_words() {
        for (w, c) in [
            ("高速公路", RoadClass::Motorway),
            ("G20青银高速", RoadClass::Motorway),
            ("城市快速路", RoadClass::Expressway),
            ("主干道", RoadClass::Arterial),
            ("国道", RoadClass::Arterial),
            ("县道", RoadClass::Secondary),
            ("tertiary", RoadClass::Secondary),
            ("村道", RoadClass::Local),
            ("residential", RoadClass::Local),
        ] {
            assert_eq!(RoadClass::parse(w), Some(c), "{w}");
        }
        assert_eq!(RoadClass::parse("铁路"), None);
    }
}
