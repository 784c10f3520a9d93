//! The dataset every later stage reads: the register ingested, graded and indexed, with
//! its provenance. [`load`] reads what [`LoadParams`] names (the CLI builds them from
//! `riskmap.toml`); nothing here knows the config file.

use crate::assess::params::GradingConfig;
use crate::assess::{grade_all, id_positions, Grade, GradingTables, RuleSwitches};
use crate::crs::Crs;
use crate::index::{DistrictIndex, PointIndex};
use crate::ingest::boundaries::read_boundaries;
use crate::ingest::params::{BoundaryInput, RegionConfig, TableInput};
use crate::ingest::table::read_table;
use crate::ingest::{self, Region, Reject};
use crate::model::*;
use crate::style::Style;
use crate::Error;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::Path;

/// What [`load`] reads and how it grades: the inputs, the grading rules and tables, the
/// style, and what the dataset says of itself.
#[derive(Debug, Clone, Default)]
pub struct LoadParams {
    pub enterprises: TableInput,
    pub assessments: TableInput,
    pub hazards: TableInput,
    pub sites: TableInput,
    pub resources: TableInput,
    /// City lifelines (lines: GeoJSON, the database, or a WKT column).
    pub lifelines: TableInput,
    /// The road network (lines with a class and speed) travel times are computed on.
    pub roads: TableInput,
    /// Monitoring points of major hazard sources, with their thresholds.
    pub monitoring_points: TableInput,
    /// Their readings (a CSV appended to, the database, …) as of the build.
    pub readings: TableInput,
    /// Minutes east of UTC of reading times written without an offset.
    pub utc_offset_min: i32,
    pub boundaries: BoundaryInput,
    pub region: RegionConfig,
    pub grading: GradingConfig,
    /// The grading tables in force (the file or inline tables of `[grading]`, checked).
    pub tables: GradingTables,
    pub style: Style,
    pub radii: Radii,
    pub title: String,
    pub region_name: Option<String>,
    pub data_date: Option<String>,
    pub config_sha256: String,
    /// A PostgreSQL / PostGIS database to read the tables from (`--db`, `[database] url`).
    pub database: Option<String>,
}

/// An input file as read.
#[derive(Debug, Clone, Serialize)]
pub struct InputInfo {
    pub role: &'static str,
    pub file: String,
    pub format: String,
    pub sha256: String,
    pub rows_read: usize,
    pub rows_accepted: usize,
    pub rows_rejected: usize,
}

/// Everything ingested, graded and indexed.
pub struct Dataset {
    /// The map's title (`title` in the config, else the default).
    pub title: String,
    /// The region's name as the config gives it (地区名称, e.g. 济南市).
    pub region_name: Option<String>,
    /// The register's date, as the config gives it.
    pub data_date: Option<String>,
    /// SHA-256 of the effective config (without the output folder): provenance, as the
    /// inputs' hashes are.
    pub config_sha256: String,
    /// The per-level influence radii for enterprises without their own.
    pub radii: Radii,
    /// The CRS the boundary file was in (for converting its point properties back).
    pub boundaries_crs: Crs,
    pub style: Style,
    pub tables: GradingTables,
    pub districts: DistrictIndex,
    /// CRS the boundary file was in (for converting its point properties).
    pub region: Region,
    /// WGS84 bbox of the region `[w, s, e, n]`.
    pub region_bbox: [f64; 4],
    pub enterprises: Vec<Enterprise>,
    /// Aligned with `enterprises`.
    pub grades: Vec<Grade>,
    pub points: Vec<RiskPoint>,
    pub dangers: Vec<HiddenDanger>,
    /// Sensitive sites (empty without a sites file).
    pub sites: Vec<Site>,
    /// Emergency resources (empty without a resources file).
    pub resources: Vec<Resource>,
    /// City lifelines (empty without a lifelines input).
    pub lifelines: Vec<Lifeline>,
    /// The road network (empty without a roads input).
    pub roads: Vec<Road>,
    /// Monitoring points (empty without a monitoring_points table).
    pub monitoring_points: Vec<MonitoringPoint>,
    /// Readings of the monitoring points, as read (unchecked against the points: the
    /// alarm engine does that).
    pub readings: Vec<Reading>,
    /// The enterprises' R-tree, built on first use (`index()`): a run that draws only
    /// the surface never asks for it.
    index: std::sync::OnceLock<PointIndex>,
    pub rejects: Vec<Reject>,
    pub inputs: Vec<InputInfo>,
    /// Problems with whole inputs that are not rows (an invalid boundary polygon).
    pub warnings: Vec<String>,
}

impl Dataset {
    /// The enterprises' R-tree (positions in `enterprises`), bulk-loaded on first use.
    pub fn index(&self) -> &PointIndex {
        self.index.get_or_init(|| {
            PointIndex::new(
                &self
                    .enterprises
                    .iter()
                    .map(|e| (e.lon, e.lat))
                    .collect::<Vec<_>>(),
            )
        })
    }

    /// Influence radius of an enterprise: its own column, else the per-level default.
    pub fn radius_m(&self, i: usize) -> f64 {
        self.enterprises[i].radius_m.unwrap_or_else(|| {
            self.grades[i]
                .level
                .map(|l| self.radii.get(l))
                .unwrap_or(self.radii.blue)
        })
    }

    /// District name and adcode of an enterprise.
    pub fn district_of(&self, i: usize) -> Option<(&str, &str)> {
        self.enterprises[i].district.map(|d| {
            let d = &self.districts.districts[d];
            (d.name.as_str(), d.adcode.as_str())
        })
    }
}

fn sha256_file(path: &Path) -> Result<String, Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    Ok(format!("{:x}", Sha256::digest(&bytes)))
}

/// The record of one table input: its file, what was read, and the counts.
fn table_info(
    role: &'static str,
    sha256: &str,
    t: &crate::ingest::table::Table,
    format: String,
    read: usize,
    accepted: usize,
    rejected: usize,
) -> Result<InputInfo, Error> {
    Ok(InputInfo {
        role,
        file: t.file.clone(),
        format,
        sha256: sha256.to_string(),
        rows_read: read,
        rows_accepted: accepted,
        rows_rejected: rejected,
    })
}

/// A table input read from its file (`path`, when present: `file`) or the database
/// (`table`, `sql`, or with neither and no file the default table when the database has
/// it), with the SHA-256 of what was read. `None`: nothing to read.
fn open_input(
    db: &mut Option<ingest::db::Db>,
    input: &ingest::params::TableInput,
    file: Option<&Path>,
    default_table: &str,
    what: &str,
) -> Result<Option<(crate::ingest::table::Table, String)>, Error> {
    open_input_with(db, input, file, default_table, what, false)
}

/// [`open_input`]; with `shapes`, a geometry of any type is kept as a geometry cell.
fn open_input_with(
    db: &mut Option<ingest::db::Db>,
    input: &ingest::params::TableInput,
    file: Option<&Path>,
    default_table: &str,
    what: &str,
    shapes: bool,
) -> Result<Option<(crate::ingest::table::Table, String)>, Error> {
    let named = input.sql.is_some() || input.table.is_some();
    if !named {
        if let Some(p) = file {
            let t = if shapes {
                crate::ingest::table::read_shape_table(p, input.sheet.as_deref(), what)?
            } else {
                read_table(p, input.sheet.as_deref(), what)?
            };
            return Ok(Some((t, sha256_file(p)?)));
        }
        if input.path.is_some() {
            // a file that is not there (said by the caller)
            return Ok(None);
        }
    }
    let Some(db) = db.as_mut() else {
        if named {
            return Err(Error::Input(crate::tr!(
                "读取{what}的 table / sql 需要数据库：请用 --db postgresql://… 或 [database] url 指定",
                "reading {what} by table / sql needs a database: pass --db postgresql://… or set [database] url"
            )));
        }
        return Ok(None);
    };
    if let (None, Some(t)) = (&input.sql, &input.table) {
        if !ingest::db::table_exists(db, t)? {
            let n = &db.name;
            return Err(Error::Input(crate::tr!(
                "数据库 {n} 中没有表 {t}（{what}）",
                "the database {n} has no table {t} ({what})"
            )));
        }
    }
    match ingest::db::source(
        db,
        input.sql.as_deref(),
        input.table.as_deref(),
        default_table,
    )? {
        Some(src) if shapes => Ok(Some(ingest::db::read_shapes(db, src, what)?)),
        Some(src) => Ok(Some(ingest::db::read(db, src, what)?)),
        None => Ok(None),
    }
}

/// Ingest, grade and index everything `cfg` names.
pub fn load(cfg: &LoadParams) -> Result<Dataset, Error> {
    let debug = std::env::var_os("RISKMAP_DEBUG").is_some();
    let clock = std::time::Instant::now();
    let tick = |what: &str| {
        if debug {
            eprintln!("load: {what} at {:.2} s", clock.elapsed().as_secs_f64());
        }
    };
    let tables = cfg.tables.clone();
    let style = cfg.style.clone();
    let mut inputs = Vec::new();
    let mut warnings = Vec::new();

    let mut db = match &cfg.database {
        Some(url) => Some(ingest::db::connect(url)?),
        None => None,
    };
    // boundaries first: they decide the region and the districts
    let (bcrs, assumed) = match &cfg.boundaries.path {
        Some(p) => cfg.boundaries.crs_of(p),
        None => (cfg.boundaries.crs.unwrap_or(Crs::Wgs84), false),
    };
    let boundaries_crs = bcrs;
    let db_boundaries = match db.as_mut() {
        Some(db) if cfg.boundaries.path.is_none() => {
            match ingest::db::source(
                db,
                cfg.boundaries.sql.as_deref(),
                cfg.boundaries.table.as_deref(),
                "boundaries",
            )? {
                Some(src) => Some(ingest::db::boundaries_geojson(db, src)?),
                None => None,
            }
        }
        _ => None,
    };
    let districts = match (&cfg.boundaries.path, db_boundaries) {
        (None, Some((bytes, sha, label))) => {
            let d = ingest::boundaries::boundaries_from_bytes(
                &label,
                &bytes,
                bcrs,
                &cfg.boundaries.name_field,
                &cfg.boundaries.adcode_field,
            )?;
            inputs.push(InputInfo {
                role: "boundaries",
                file: label,
                format: format!("postgis {bcrs}"),
                sha256: sha,
                rows_read: d.len(),
                rows_accepted: d.len(),
                rows_rejected: 0,
            });
            warnings.extend(d.iter().flat_map(|d| d.warnings.iter().cloned()));
            DistrictIndex::new(d)
        }
        (Some(p), _) => {
            let d = read_boundaries(
                p,
                bcrs,
                &cfg.boundaries.name_field,
                &cfg.boundaries.adcode_field,
            )?;
            inputs.push(InputInfo {
                role: "boundaries",
                file: p.display().to_string(),
                format: if assumed {
                    if bcrs == Crs::Gcj02 {
                        crate::tr!(
                            "geojson {bcrs}（推定：DataV 文件）",
                            "geojson {bcrs} (assumed: a DataV file)"
                        )
                    } else {
                        crate::tr!(
                            "geojson {bcrs}（推定：未注明）",
                            "geojson {bcrs} (assumed: not stated)"
                        )
                    }
                } else {
                    format!("geojson {bcrs}")
                },
                sha256: sha256_file(p)?,
                rows_read: d.len(),
                rows_accepted: d.len(),
                rows_rejected: 0,
            });
            warnings.extend(d.iter().flat_map(|d| d.warnings.iter().cloned()));
            DistrictIndex::new(d)
        }
        (None, None) => DistrictIndex::new(vec![]),
    };
    let region = if let Some(b) = cfg.region.bbox {
        Region::Bbox(b)
    } else if let Some(p) = &cfg.region.polygon {
        let ds = read_boundaries(p, cfg.region.polygon_crs, "name", "adcode")?;
        warnings.extend(ds.iter().flat_map(|d| d.warnings.iter().cloned()));
        Region::Polygon(geo::MultiPolygon::new(
            ds.into_iter().flat_map(|d| d.shape.0).collect(),
        ))
    } else if !districts.is_empty() {
        Region::Districts {
            tolerance_m: cfg.region.tolerance_m,
        }
    } else {
        Region::Open
    };

    tick("boundaries");
    let (mut et, esha) = open_input(
        &mut db,
        &cfg.enterprises,
        cfg.enterprises.path.as_deref(),
        "enterprises",
        &crate::tr!(
            "企业名录（CSV、XLSX 或 GeoJSON 点）",
            "an enterprise register (CSV, XLSX or GeoJSON points)"
        ),
    )?
    .ok_or_else(|| {
        Error::Input(crate::tr!(
            "没有企业名录：请用 --enterprises 文件 指定，或在 riskmap.toml 的 [enterprises] 中设置 path（数据库：--db，表 enterprises）",
            "no enterprise register: pass --enterprises FILE or set [enterprises] path in riskmap.toml (a database: --db, table enterprises)"
        ))
    })?;
    et.find_header(
        ingest::fields::ENTERPRISE_FIELDS,
        &cfg.enterprises.columns,
        cfg.enterprises.header_row,
    )?;
    tick("enterprise table");
    let mut read = ingest::read_enterprises(
        &et,
        &cfg.enterprises,
        cfg.enterprises.crs,
        &region,
        &districts,
        cfg.region.tolerance_m,
    )?;
    inputs.push(table_info(
        "enterprises",
        &esha,
        &et,
        format!("{}, crs {}", et.format, read.crs_used),
        read.rows_read,
        read.enterprises.len(),
        read.rows_rejected,
    )?);
    if read.enterprises.is_empty() {
        let hint = read
            .rejects
            .first()
            .map(|r| {
                let (l, c, m) = (&r.line, &r.column, &r.message);
                crate::tr!(
                    " 第一个问题：第 {l} 行 {c} 列：{m}",
                    " The first problem: line {l} column {c}: {m}"
                )
            })
            .unwrap_or_default();
        let (f, n) = (&et.file, read.rows_read);
        return Err(Error::Input(crate::tr!(
            "{f}：{n} 行中没有一行可用。{hint}",
            "{f}: 0 of {n} rows could be used.{hint}"
        )));
    }
    if read.crs_stated && cfg.boundaries.path.is_some() {
        warnings.extend(boundary_doubt(
            &read.enterprises,
            &districts,
            boundaries_crs,
        ));
    }
    if !read.crs_stated {
        match crs_test(&read.enterprises, &districts) {
            // `crs = "auto"`: read again as the system the districts point to
            Some(d) if cfg.enterprises.crs_auto => {
                let crs = d.crs;
                read = ingest::read_enterprises(
                    &et,
                    &cfg.enterprises,
                    Some(crs),
                    &region,
                    &districts,
                    cfg.region.tolerance_m,
                )?;
                let last = inputs.len() - 1;
                inputs[last] = table_info(
                    "enterprises",
                    &esha,
                    &et,
                    format!("{}, crs {crs} (auto)", et.format),
                    read.rows_read,
                    read.enterprises.len(),
                    read.rows_rejected,
                )?;
                let (name, n, wgs, best) = (&d.name, d.named, d.wgs84_hits, d.hits);
                warnings.push(crate::tr!(
                    "坐标系未注明，crs = \"auto\"：按 {name} 读取（{best}/{n} 家企业落在所填区县，按 WGS84 读取只有 {wgs}/{n}）。",
                    "CRS not stated, crs = \"auto\": read as {name} ({best} of {n} enterprises fall in the district they name; as WGS84, {wgs} of {n})."
                ));
            }
            Some(_) => warnings.extend(crs_doubt(&read.enterprises, &districts).map(|d| d.1)),
            None => {}
        }
    }
    let mut rejects = read.rejects;
    let mut enterprises = read.enterprises;
    // where each id is, for the rows of the other tables (only when there are such
    // tables): reading checks their ids against it and grading groups them by it
    let others = |t: &ingest::params::TableInput| {
        t.path.is_some() || t.table.is_some() || t.sql.is_some() || db.is_some()
    };
    let known =
        if others(&cfg.assessments) || others(&cfg.hazards) || others(&cfg.monitoring_points) {
            id_positions(&enterprises)
        } else {
            Default::default()
        };

    tick("enterprises parsed and placed");
    // an optional table whose file is missing is a warning: the map is drawn without it
    // (a config copied to another folder, a table not delivered this month)
    let mut present = |p: &Option<std::path::PathBuf>, what: &str| -> Option<std::path::PathBuf> {
        let p = p.as_ref()?;
        if p.exists() {
            return Some(p.clone());
        }
        let p = p.display();
        warnings.push(crate::tr!(
            "{p}：文件不存在，未读取{what}，地图照常生成。",
            "{p}: not found, the map is drawn without the {what}."
        ));
        None
    };
    let assessments_path = present(
        &cfg.assessments.path,
        &crate::tr!("风险点评估", "risk-point assessments"),
    );
    let hazards_path = present(&cfg.hazards.path, &crate::tr!("隐患", "hidden dangers"));
    let sites_path = present(&cfg.sites.path, &crate::tr!("敏感目标", "sensitive sites"));
    let resources_path = present(
        &cfg.resources.path,
        &crate::tr!("应急资源", "emergency resources"),
    );
    let lifelines_path = present(
        &cfg.lifelines.path,
        &crate::tr!("城市生命线", "city lifelines"),
    );
    let roads_path = present(&cfg.roads.path, &crate::tr!("路网", "road network"));
    let monitoring_path = present(
        &cfg.monitoring_points.path,
        &crate::tr!("监测点", "monitoring points"),
    );
    let readings_path = present(&cfg.readings.path, &crate::tr!("监测数据", "readings"));
    let mut points = Vec::new();
    if let Some((mut t, sha)) = open_input(
        &mut db,
        &cfg.assessments,
        assessments_path.as_deref(),
        "assessments",
        &crate::tr!(
            "风险点评估（CSV、XLSX 或 GeoJSON）",
            "risk-point assessments (CSV, XLSX or GeoJSON)"
        ),
    )? {
        t.find_header(
            ingest::fields::ASSESSMENT_FIELDS,
            &cfg.assessments.columns,
            cfg.assessments.header_row,
        )?;
        let r =
            ingest::read_assessments(&t, &cfg.assessments, &tables, &known, &read.rejected_ids)?;
        inputs.push(table_info(
            "assessments",
            &sha,
            &t,
            t.format.clone(),
            r.rows_read,
            r.points.len(),
            r.rows_rejected,
        )?);
        rejects.extend(r.rejects);
        points = r.points;
    }
    tick("assessments");
    let mut dangers = Vec::new();
    if let Some((mut t, sha)) = open_input(
        &mut db,
        &cfg.hazards,
        hazards_path.as_deref(),
        "hidden_dangers",
        &crate::tr!(
            "隐患（CSV、XLSX 或 GeoJSON）",
            "hidden dangers (CSV, XLSX or GeoJSON)"
        ),
    )? {
        t.find_header(
            ingest::fields::HAZARD_FIELDS,
            &cfg.hazards.columns,
            cfg.hazards.header_row,
        )?;
        let r = ingest::read_hidden_dangers(&t, &cfg.hazards, &known, &read.rejected_ids)?;
        inputs.push(table_info(
            "hazards",
            &sha,
            &t,
            t.format.clone(),
            r.rows_read,
            r.dangers.len(),
            r.rows_rejected,
        )?);
        rejects.extend(r.rejects);
        dangers = r.dangers;
    }
    let mut sites = Vec::new();
    if let Some((mut t, sha)) = open_input(
        &mut db,
        &cfg.sites,
        sites_path.as_deref(),
        "sites",
        &crate::tr!(
            "敏感目标（CSV、XLSX 或 GeoJSON 点）",
            "sensitive sites (CSV, XLSX or GeoJSON points)"
        ),
    )? {
        t.find_header(
            ingest::fields::SITE_FIELDS,
            &cfg.sites.columns,
            cfg.sites.header_row,
        )?;
        let r = ingest::records::read_sites(&t, &cfg.sites, cfg.sites.crs, &region, &districts)?;
        inputs.push(table_info(
            "sites",
            &sha,
            &t,
            format!("{}, crs {}", t.format, r.crs_used),
            r.rows_read,
            r.sites.len(),
            r.rows_rejected,
        )?);
        rejects.extend(r.rejects);
        sites = r.sites;
    }
    let mut resources = Vec::new();
    if let Some((mut t, sha)) = open_input(
        &mut db,
        &cfg.resources,
        resources_path.as_deref(),
        "resources",
        &crate::tr!(
            "应急资源（CSV、XLSX 或 GeoJSON 点）",
            "emergency resources (CSV, XLSX or GeoJSON points)"
        ),
    )? {
        t.find_header(
            ingest::fields::RESOURCE_FIELDS,
            &cfg.resources.columns,
            cfg.resources.header_row,
        )?;
        let r = ingest::resources::read_resources(
            &t,
            &cfg.resources,
            cfg.resources.crs,
            &region,
            &districts,
        )?;
        inputs.push(table_info(
            "resources",
            &sha,
            &t,
            format!("{}, crs {}", t.format, r.crs_used),
            r.rows_read,
            r.resources.len(),
            r.rows_rejected,
        )?);
        rejects.extend(r.rejects);
        resources = r.resources;
    }
    let mut lifelines = Vec::new();
    if let Some((mut t, sha)) = open_input_with(
        &mut db,
        &cfg.lifelines,
        lifelines_path.as_deref(),
        "lifelines",
        &crate::tr!(
            "城市生命线（GeoJSON 线、数据库，或带 WKT 列的 CSV/XLSX）",
            "city lifelines (GeoJSON lines, the database, or CSV/XLSX with a WKT column)"
        ),
        true,
    )? {
        t.find_header(
            ingest::fields::LIFELINE_FIELDS,
            &cfg.lifelines.columns,
            cfg.lifelines.header_row,
        )?;
        let r = ingest::lifelines::read_lifelines(&t, &cfg.lifelines, cfg.lifelines.crs)?;
        inputs.push(table_info(
            "lifelines",
            &sha,
            &t,
            format!("{}, crs {}", t.format, r.crs_used),
            r.rows_read,
            r.lifelines.len(),
            r.rows_rejected,
        )?);
        rejects.extend(r.rejects);
        lifelines = r.lifelines;
    }
    let mut roads = Vec::new();
    if let Some((mut t, sha)) = open_input_with(
        &mut db,
        &cfg.roads,
        roads_path.as_deref(),
        "roads",
        &crate::tr!(
            "路网（GeoJSON 线、数据库，或带 WKT 列的 CSV/XLSX）",
            "road network (GeoJSON lines, the database, or CSV/XLSX with a WKT column)"
        ),
        true,
    )? {
        t.find_header(
            ingest::fields::ROAD_FIELDS,
            &cfg.roads.columns,
            cfg.roads.header_row,
        )?;
        let r = ingest::roads::read_roads(&t, &cfg.roads, cfg.roads.crs)?;
        inputs.push(table_info(
            "roads",
            &sha,
            &t,
            format!("{}, crs {}", t.format, r.crs_used),
            r.rows_read,
            r.roads.len(),
            r.rows_rejected,
        )?);
        rejects.extend(r.rejects);
        roads = r.roads;
    }
    let mut monitoring_points = Vec::new();
    if let Some((mut t, sha)) = open_input(
        &mut db,
        &cfg.monitoring_points,
        monitoring_path.as_deref(),
        "monitoring_points",
        &crate::tr!("监测点（CSV、XLSX）", "monitoring points (CSV, XLSX)"),
    )? {
        t.find_header(
            ingest::fields::MONITORING_POINT_FIELDS,
            &cfg.monitoring_points.columns,
            cfg.monitoring_points.header_row,
        )?;
        let r = ingest::monitoring::read_points(
            &t,
            &cfg.monitoring_points,
            &known,
            &read.rejected_ids,
        )?;
        inputs.push(table_info(
            "monitoring_points",
            &sha,
            &t,
            t.format.clone(),
            r.rows_read,
            r.points.len(),
            r.rows_rejected,
        )?);
        rejects.extend(r.rejects);
        monitoring_points = r.points;
    }
    let mut readings = Vec::new();
    if let Some((mut t, sha)) = open_input(
        &mut db,
        &cfg.readings,
        readings_path.as_deref(),
        "readings",
        &crate::tr!("监测数据（CSV、XLSX）", "readings (CSV, XLSX)"),
    )? {
        t.find_header(
            ingest::fields::READING_FIELDS,
            &cfg.readings.columns,
            cfg.readings.header_row,
        )?;
        let r = ingest::monitoring::read_readings(&t, &cfg.readings, cfg.utc_offset_min)?;
        inputs.push(table_info(
            "readings",
            &sha,
            &t,
            t.format.clone(),
            r.rows_read,
            r.readings.len(),
            r.rows_rejected,
        )?);
        rejects.extend(r.rejects);
        readings = r.readings;
    }

    tick("assessments, hazards, sites");
    let grades = grade_all(
        &enterprises,
        &known,
        &points,
        &dangers,
        RuleSwitches::from(&cfg.grading),
    );
    tick("grades");
    let region_bbox = region.bbox(&districts).unwrap_or_else(|| {
        // no boundaries: the extent of the register, without the stray points a typo makes
        // (a map 5000 km wide around one of them helps nobody); they are flagged
        let far = strays(&enterprises);
        for &(i, km) in &far {
            enterprises[i].warnings.push(crate::tr!(
                "远离名录中的其他企业（距中心 {km:.0} 千米），请核对坐标；地图范围未包含它",
                "far from the rest of the register, {km:.0} km from its centre: check the coordinates; the maps' extent leaves it out"
            ));
        }
        if !far.is_empty() {
            let n = far.len();
            warnings.push(crate::tr!(
                "{n} 家企业远离名录中的其他企业（坐标可疑），地图范围未包含它们，见 enterprises.geojson 的 warnings。",
                "{n} enterprises far from the rest of the register: check their coordinates (the `warnings` of enterprises.geojson); the maps' extent leaves them out."
            ));
        }
        let pad = cfg.radii.max();
        let (mut w, mut s, mut e, mut n) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        let mut far = far.iter().map(|f| f.0).peekable();
        for (i, p) in enterprises.iter().enumerate() {
            if far.peek() == Some(&i) {
                far.next();
                continue;
            }
            w = w.min(p.lon);
            e = e.max(p.lon);
            s = s.min(p.lat);
            n = n.max(p.lat);
        }
        let dlat = pad / 111_195.0;
        let dlon = dlat / s.abs().max(n.abs()).to_radians().cos().max(0.01);
        [w - dlon, s - dlat, e + dlon, n + dlat]
    });
    Ok(Dataset {
        title: cfg.title.clone(),
        region_name: cfg.region_name.clone(),
        data_date: cfg.data_date.clone(),
        config_sha256: cfg.config_sha256.clone(),
        radii: cfg.radii,
        boundaries_crs,
        style,
        tables,
        districts,
        region,
        region_bbox,
        enterprises,
        grades,
        points,
        dangers,
        sites,
        resources,
        lifelines,
        roads,
        monitoring_points,
        readings,
        index: std::sync::OnceLock::new(),
        rejects,
        inputs,
        warnings,
    })
}

/// When a register does not say its coordinate system, every row is read as WGS84; a
/// register copied from Gaode or Baidu is then off by about 500 m, enough to put
/// enterprises near a border in the wrong district. Test the alternatives against what
/// the register does say, the district each row names: when clearly more rows fall in
/// their named district read as GCJ-02 (or BD-09) than as WGS84, say so with the numbers
/// and the fix. `None` when the register names too few districts to tell, or WGS84
/// does as well.
pub fn crs_doubt(enterprises: &[Enterprise], districts: &DistrictIndex) -> Option<(Crs, String)> {
    let d = crs_test(enterprises, districts)?;
    let (wgs, n, name, best, key) = (
        d.wgs84_hits,
        d.named,
        d.name.clone(),
        d.hits,
        d.crs.as_str(),
    );
    Some((d.crs, crate::tr!(
        "坐标系未注明，已按 WGS84 读取：{wgs}/{n} 家企业落在所填区县；按 {name} 读取则为 {best}/{n}。\
         坐标很可能是 {key}：请在配置的 [enterprises] 中设置 crs = \"{key}\"（或 --crs {key}，或加“坐标系”列；crs = \"auto\" 则自动采用）。",
        "CRS not stated, read as WGS84: {wgs} of {n} enterprises fall in the district they name; \
         read as {name}: {best} of {n}. The coordinates are most likely {key}: set crs = \"{key}\" in [enterprises] \
         (or --crs {key}, or add a CRS column; crs = \"auto\" adopts it)."
    )))
}

/// The rows that name a district (at least 10, with boundaries to test them against):
/// the evidence of [`crs_test`] and [`boundary_doubt`].
struct NamedRows<'a> {
    rows: Vec<&'a Enterprise>,
    districts: &'a DistrictIndex,
}

impl<'a> NamedRows<'a> {
    fn new(enterprises: &'a [Enterprise], districts: &'a DistrictIndex) -> Option<Self> {
        let rows: Vec<&Enterprise> = enterprises
            .iter()
            .filter(|e| {
                e.district_stated
                    .as_deref()
                    .is_some_and(|s| !s.trim().is_empty())
            })
            .collect();
        (rows.len() >= 10 && !districts.is_empty()).then_some(NamedRows { rows, districts })
    }

    fn len(&self) -> usize {
        self.rows.len()
    }

    /// How many fall in the district they name with their positions moved by `shift`.
    fn hits(&self, shift: fn(f64, f64) -> (f64, f64)) -> usize {
        let ds = self.districts;
        self.rows
            .iter()
            .filter(|e| {
                let (x, y) = shift(e.lon, e.lat);
                let stated = e.district_stated.as_deref().unwrap_or("");
                ds.locate(x, y).is_some_and(|d| {
                    let d = &ds.districts[d];
                    ingest::records::district_matches(stated, &d.name, &d.adcode)
                })
            })
            .count()
    }
}

/// Clearly better than `base` of `n`: by at least 3 rows and 2 % of them.
fn clearly_better(best: usize, base: usize, n: usize) -> bool {
    best >= base + 3 && (best - base) * 50 >= n
}

/// With the register's coordinate system stated, a boundary file read in the wrong one
/// shows the same way: the rows fall into the districts they name clearly better when the
/// boundaries are taken as the other system (WGS84 ↔ GCJ-02, about 500 m apart). The
/// points are moved instead of the boundaries (the inverse shift, equal to well under a
/// metre at a city's scale). `None` when too few rows name a district or the file's
/// system does as well.
pub fn boundary_doubt(
    enterprises: &[Enterprise],
    districts: &DistrictIndex,
    bcrs: Crs,
) -> Option<String> {
    let rows = NamedRows::new(enterprises, districts)?;
    let n = rows.len();
    let now = rows.hits(|x, y| (x, y));
    let (alt, best) = match bcrs {
        // read as WGS84, truly GCJ-02: a true district holds p when the read one holds
        // p shifted to GCJ-02
        Crs::Wgs84 | Crs::Cgcs2000 => (Crs::Gcj02, rows.hits(crate::crs::wgs84_to_gcj02)),
        Crs::Gcj02 => (Crs::Wgs84, rows.hits(crate::crs::gcj02_to_wgs84)),
        Crs::Bd09 => return None,
    };
    if !clearly_better(best, now, n) {
        return None;
    }
    let (b, a) = (bcrs.as_str(), alt.as_str());
    Some(crate::tr!(
        "区县边界按 {b} 读取时，{now}/{n} 家企业落在所填区县；若边界实为 {a}，则为 {best}/{n}。边界文件的坐标系可能不对：请核对 [boundaries] crs（当前 {b}）。",
        "With the boundaries read as {b}, {now} of {n} enterprises fall in the district they name; were they {a}, {best} of {n}. The boundary file's CRS may be wrong: check [boundaries] crs (now {b})."
    ))
}

/// What [`crs_test`] found: the system the named districts point to, and how many of
/// the rows that name a district fall in it read as WGS84 and as that system.
#[derive(Debug, Clone)]
pub struct CrsTest {
    pub crs: Crs,
    pub name: String,
    pub named: usize,
    pub wgs84_hits: usize,
    pub hits: usize,
}

/// The test behind [`crs_doubt`]: `None` when too few rows name a district or WGS84
/// does as well as GCJ-02 and BD-09.
pub fn crs_test(enterprises: &[Enterprise], districts: &DistrictIndex) -> Option<CrsTest> {
    let rows = NamedRows::new(enterprises, districts)?;
    let hits = |to_wgs84: fn(f64, f64) -> (f64, f64)| rows.hits(to_wgs84);
    let n = rows.len();
    let wgs = hits(|x, y| (x, y));
    let (best, name, crs) = [
        (
            hits(crate::crs::gcj02_to_wgs84),
            crate::tr!("GCJ-02（高德、腾讯）", "GCJ-02 (Gaode, Tencent)"),
            Crs::Gcj02,
        ),
        (
            hits(|x, y| Crs::Bd09.to_wgs84(x, y)),
            crate::tr!("BD-09（百度）", "BD-09 (Baidu)"),
            Crs::Bd09,
        ),
    ]
    .into_iter()
    .max_by_key(|c| c.0)?;
    if !clearly_better(best, wgs, n) {
        return None;
    }
    Some(CrsTest {
        crs,
        name,
        named: n,
        wgs84_hits: wgs,
        hits: best,
    })
}

/// The enterprises far from the rest of a register (index, km from its centre), in
/// index order: farther from the median position than six times the median distance to
/// it, and at least 100 km (a city register's own spread is well inside; a province's
/// too). Fewer than 5 enterprises: none.
pub fn strays(enterprises: &[Enterprise]) -> Vec<(usize, f64)> {
    let n = enterprises.len();
    if n < 5 {
        return Vec::new();
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let lon = median(enterprises.iter().map(|e| e.lon).collect());
    let lat = median(enterprises.iter().map(|e| e.lat).collect());
    let km: Vec<f64> = enterprises
        .iter()
        .map(|e| crate::crs::haversine_m(lon, lat, e.lon, e.lat) / 1000.0)
        .collect();
    let limit = (6.0 * median(km.clone())).max(100.0);
    km.iter()
        .enumerate()
        .filter(|(_, &d)| d > limit)
        .map(|(i, &d)| (i, d))
        .collect()
}
