//! What to read: the tables and boundary files and the region a point may lie in. Read
//! from `riskmap.toml`'s `[enterprises]`, `[assessments]`, `[hazards]`, `[sites]`,
//! `[boundaries]` and `[region]` (the CLI's config holds these structs).

use crate::crs::Crs;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A tabular input: CSV, XLSX or GeoJSON points.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, try_from = "TableInputToml")]
pub struct TableInput {
    /// Path of the file (relative to the config file). Empty = not used.
    pub path: Option<PathBuf>,
    /// CRS of rows that have no `crs` column value. Default wgs84.
    pub crs: Option<Crs>,
    /// `crs = "auto"`: with no CRS stated, the register is read as the system under
    /// which its points fall best into the districts its rows name (WGS84, GCJ-02 or
    /// BD-09; see `dataset::crs_doubt`), and the choice is said in the notes.
    #[serde(skip_serializing)]
    pub crs_auto: bool,
    /// With a database (`--db`, `[database] url`): the table to read (`schema.table` or a
    /// table of the `search_path`). Default: enterprises / assessments / hidden_dangers /
    /// sites, when the database has it and no `path` is set.
    pub table: Option<String>,
    /// With a database: a query to read instead of a table, e.g.
    /// `"SELECT * FROM 监管对象 WHERE 在册"`.
    pub sql: Option<String>,
    /// XLSX sheet name. Default: the first sheet.
    pub sheet: Option<String>,
    /// The line (CSV) or sheet row (XLSX) holding the headers. Default: found — the
    /// first non-blank row, or below title rows the first that names at least two fields.
    pub header_row: Option<usize>,
    /// Map a field to a header of the file, e.g. `lon = "X坐标"`. Keys are the field
    /// names of README.md's input tables.
    pub columns: BTreeMap<String, String>,
}

/// `TableInput` as written in the config: `crs` may be "auto".
#[derive(Deserialize, Default)]
#[serde(default)]
struct TableInputToml {
    path: Option<PathBuf>,
    table: Option<String>,
    sql: Option<String>,
    crs: Option<String>,
    sheet: Option<String>,
    header_row: Option<usize>,
    columns: BTreeMap<String, String>,
}

impl TryFrom<TableInputToml> for TableInput {
    type Error = String;
    fn try_from(t: TableInputToml) -> Result<TableInput, String> {
        let auto = t
            .crs
            .as_deref()
            .is_some_and(|c| c.trim().eq_ignore_ascii_case("auto") || c.trim() == "自动");
        let crs = match t.crs {
            Some(c) if !auto => Some(c.parse::<Crs>()?),
            _ => None,
        };
        Ok(TableInput {
            path: t.path,
            table: t.table,
            sql: t.sql,
            crs,
            crs_auto: auto,
            sheet: t.sheet,
            header_row: t.header_row,
            columns: t.columns,
        })
    }
}

/// The district boundary file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct BoundaryInput {
    /// GeoJSON file path. Empty = no boundaries.
    pub path: Option<PathBuf>,
    /// With a database: a table with a (Multi)Polygon geometry column (default
    /// `boundaries`, when the database has it and no `path` is set).
    pub table: Option<String>,
    /// With a database: a query instead of a table.
    pub sql: Option<String>,
    /// CRS of the file's coordinates. Default: gcj02 for a DataV file (its features carry
    /// `acroutes` or `parent`), else wgs84.
    pub crs: Option<Crs>,
    /// Property holding the district name. Default "name".
    pub name_field: String,
    /// Property holding the district code. Default "adcode".
    pub adcode_field: String,
}

impl BoundaryInput {
    /// The CRS to read the file in, and whether it was assumed: the configured one, else
    /// GCJ-02 for a file from Aliyun DataV (which publishes China's boundaries in GCJ-02;
    /// its features carry `acroutes` or `parent`), else WGS84.
    pub fn crs_of(&self, path: &std::path::Path) -> (Crs, bool) {
        if let Some(c) = self.crs {
            return (c, false);
        }
        (
            if is_datav(path) {
                Crs::Gcj02
            } else {
                Crs::Wgs84
            },
            true,
        )
    }
}

/// Whether a GeoJSON file is one of Aliyun DataV's boundary files (the first 64 KB name
/// `acroutes`, or `adcode` with `parent`).
pub fn is_datav(path: &std::path::Path) -> bool {
    use std::io::Read;
    let mut head = Vec::new();
    let ok = std::fs::File::open(path)
        .and_then(|f| f.take(64 << 10).read_to_end(&mut head))
        .is_ok();
    let t = String::from_utf8_lossy(&head);
    ok && (t.contains("\"acroutes\"") || (t.contains("\"adcode\"") && t.contains("\"parent\"")))
}

impl Default for BoundaryInput {
    fn default() -> Self {
        BoundaryInput {
            path: None,
            table: None,
            sql: None,
            crs: None,
            name_field: "name".into(),
            adcode_field: "adcode".into(),
        }
    }
}

/// The region where a point may lie. Default: the union of the boundaries.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct RegionConfig {
    /// `[west, south, east, north]` in WGS84 degrees.
    pub bbox: Option<[f64; 4]>,
    /// A GeoJSON polygon file instead of a bbox.
    pub polygon: Option<PathBuf>,
    /// CRS of the polygon file. Default wgs84.
    pub polygon_crs: Crs,
    /// A point outside the boundary polygons but within this distance of one is kept and
    /// given the nearest district (published boundaries are generalised). Default 200.
    pub tolerance_m: f64,
}

impl Default for RegionConfig {
    fn default() -> Self {
        RegionConfig {
            bbox: None,
            polygon: None,
            polygon_crs: Crs::Wgs84,
            tolerance_m: 200.0,
        }
    }
}
