//! Rows → emergency resources (应急资源, #27): rescue teams, fire stations, depots with
//! their stock, shelters, hospitals and experts, with the enterprises' CRS and region
//! rules. A row whose type names no kind, or with no name or position, is rejected with
//! the reason; a repeated id too.

use super::fields::map_columns;
use super::records::*;
use super::rejects::{Reject, RejectKind as K, RowIssues};
use super::table::Table;
use super::{IngestError, Region};
use crate::crs::Crs;
use crate::index::DistrictIndex;
use crate::ingest::params::TableInput;
use crate::model::*;

/// Resources read from a table.
#[derive(Debug, Default)]
pub struct ResourceRead {
    pub resources: Vec<Resource>,
    pub rejects: Vec<Reject>,
    pub rows_read: usize,
    pub rows_rejected: usize,
    pub crs_used: String,
}

/// Read emergency resources.
pub fn read_resources(
    t: &Table,
    input: &TableInput,
    default_crs: Option<Crs>,
    region: &Region,
    districts: &DistrictIndex,
) -> Result<ResourceRead, IngestError> {
    let geometry_supplies: &[&str] = if t.is_features { &["lon", "lat"] } else { &[] };
    let m = map_columns(
        &t.file,
        &t.headers,
        super::fields::RESOURCE_FIELDS,
        &input.columns,
        geometry_supplies,
    )?;
    let (default_crs, crs_used) = file_crs(t, &m, default_crs);
    let mut out = ResourceRead {
        rows_read: t.rows.len(),
        crs_used,
        ..Default::default()
    };
    let mut seen = SeenIds::default();
    for (n, row) in t.rows.iter().enumerate() {
        let mut is = RowIssues::default();
        let name = cell(t, row, &m, "name").trim().to_string();
        if name.is_empty() {
            is.add(
                K::MissingValue,
                header(t, &m, "name"),
                "",
                crate::tr!("名称为空", "the name is empty"),
            );
        }
        let kind_text = cell(t, row, &m, "type").trim().to_string();
        let kind = if kind_text.is_empty() {
            is.add(
                K::MissingValue,
                header(t, &m, "type"),
                "",
                crate::tr!(
                    "资源类型为空（专业救援队伍、企业救援队伍、社区救援队伍、消防站、应急物资库、避难场所、医院、专家）",
                    "the resource type is empty (rescue team, enterprise team, community team, fire station, depot, shelter, hospital, expert)"
                ),
            );
            None
        } else {
            let k = ResourceKind::parse(&kind_text);
            if k.is_none() {
                is.add(
                    K::UnknownValue,
                    header(t, &m, "type"),
                    &kind_text,
                    crate::tr!(
                        "不是已知的资源类型（专业救援队伍、企业救援队伍、社区救援队伍、消防站、应急物资库、避难场所、医院、专家）",
                        "not a known resource type (rescue team, enterprise team, community team, fire station, depot, shelter, hospital, expert)"
                    ),
                );
            }
            k
        };
        // a fire station's class: its own column, else the type text ("特勤消防站")
        let sub = cell(t, row, &m, "subtype").trim().to_string();
        let fire_class = match kind {
            Some((ResourceKind::FireStation, from_type)) => {
                if sub.is_empty() {
                    from_type
                } else {
                    let c = FireClass::parse(&sub);
                    if c.is_none() {
                        is.add(
                            K::UnknownValue,
                            header(t, &m, "subtype"),
                            &sub,
                            crate::tr!(
                                "消防站类别应为 特勤站、一级站、二级站、小型站 或 微型消防站",
                                "a fire station's class is 特勤站, 一级站, 二级站, 小型站 or 微型消防站"
                            ),
                        );
                    }
                    c
                }
            }
            _ => None,
        };
        let (lonlat, crs) = point_of_row(t, row, &m, default_crs, region, districts, &mut is);
        let capacity = number(t, row, &m, "capacity", false, &mut is).filter(|v| *v >= 0.0);
        let id_text = cell(t, row, &m, "id").trim().to_string();
        let id = if id_text.is_empty() {
            format!("R{}", n + 1)
        } else {
            id_text
        };
        seen.check(t, &m, &id, &mut is);
        let opt = |k: &str| Some(cell(t, row, &m, k).trim().to_string()).filter(|s| !s.is_empty());
        match (lonlat, kind) {
            (Some((lon, lat)), Some((kind, _))) if is.is_empty() => {
                seen.insert(t, row, &id);
                out.resources.push(Resource {
                    id,
                    name,
                    kind,
                    fire_class,
                    kind_stated: kind_text,
                    owner: opt("owner"),
                    contact: opt("contact"),
                    capacity,
                    stock: opt("stock").map(|s| parse_stock(&s)).unwrap_or_default(),
                    expertise: opt("expertise"),
                    lon,
                    lat,
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
