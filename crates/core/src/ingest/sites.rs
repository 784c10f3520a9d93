//! Rows → sensitive sites (学校, 医院 …), with the enterprises' CRS and region rules.

use super::fields::map_columns;
use super::records::*;
use super::rejects::{Reject, RejectKind as K, RowIssues};
use super::table::Table;
use super::{IngestError, Region};
use crate::crs::Crs;
use crate::index::DistrictIndex;
use crate::ingest::params::TableInput;
use crate::model::*;

/// Sensitive sites read from a table.
#[derive(Debug, Default)]
pub struct SiteRead {
    pub sites: Vec<Site>,
    pub rejects: Vec<Reject>,
    pub rows_read: usize,
    pub rows_rejected: usize,
    pub crs_used: String,
}

/// Read sensitive sites (same CRS and region rules as enterprises).
pub fn read_sites(
    t: &Table,
    input: &TableInput,
    default_crs: Option<Crs>,
    region: &Region,
    districts: &DistrictIndex,
) -> Result<SiteRead, IngestError> {
    let geometry_supplies: &[&str] = if t.is_features { &["lon", "lat"] } else { &[] };
    let m = map_columns(
        &t.file,
        &t.headers,
        super::fields::SITE_FIELDS,
        &input.columns,
        geometry_supplies,
    )?;
    let (default_crs, crs_used) = file_crs(t, &m, default_crs);
    let mut out = SiteRead {
        rows_read: t.rows.len(),
        crs_used,
        ..Default::default()
    };
    for (n, row) in t.rows.iter().enumerate() {
        let mut is = RowIssues::default();
        let name = cell(t, row, &m, "name").to_string();
        if name.is_empty() {
            is.add(
                K::MissingValue,
                header(t, &m, "name"),
                "",
                crate::tr!("场所名称为空", "the site name is empty"),
            );
        }
        let kind = cell(t, row, &m, "type").to_string();
        if kind.is_empty() {
            is.add(
                K::MissingValue,
                header(t, &m, "type"),
                "",
                crate::tr!(
                    "场所类型（学校、医院……）为空",
                    "the site type (学校, 医院 …) is empty"
                ),
            );
        }
        let (lonlat, crs) = point_of_row(t, row, &m, default_crs, region, districts, &mut is);
        let population =
            number(t, row, &m, "population", false, &mut is).map(|v| v.max(0.0) as u32);
        match lonlat {
            Some((lon, lat)) if is.is_empty() => {
                let id = cell(t, row, &m, "id");
                out.sites.push(Site {
                    id: if id.is_empty() {
                        format!("S{}", n + 1)
                    } else {
                        id.to_string()
                    },
                    name,
                    kind,
                    population,
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
