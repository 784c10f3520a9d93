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
    pub boundaries: BoundaryInput,
    pub region: RegionConfig,
    pub grading: GradingConfig,
    /// The grading tables in force (the file or inline tables of `[grading]`, checked).
    pub tables: GradingTables,
    pub style: Style,
    pub radii: Radii,
    pub title: String,
    pub data_date: Option<String>,
    pub config_sha256: String,
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
    path: &Path,
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
        sha256: sha256_file(path)?,
        rows_read: read,
        rows_accepted: accepted,
        rows_rejected: rejected,
    })
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

    // boundaries first: they decide the region and the districts
    let districts = match &cfg.boundaries.path {
        Some(p) => {
            let d = read_boundaries(
                p,
                cfg.boundaries.crs,
                &cfg.boundaries.name_field,
                &cfg.boundaries.adcode_field,
            )?;
            inputs.push(InputInfo {
                role: "boundaries",
                file: p.display().to_string(),
                format: format!("geojson {}", cfg.boundaries.crs),
                sha256: sha256_file(p)?,
                rows_read: d.len(),
                rows_accepted: d.len(),
                rows_rejected: 0,
            });
            warnings.extend(d.iter().flat_map(|d| d.warnings.iter().cloned()));
            DistrictIndex::new(d)
        }
        None => DistrictIndex::new(vec![]),
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

    let epath = cfg.enterprises.path.as_ref().ok_or_else(|| {
        Error::Input("no enterprise register: pass --enterprises FILE or set [enterprises] path in riskmap.toml".into())
    })?;
    tick("boundaries");
    let et = read_table(
        epath,
        cfg.enterprises.sheet.as_deref(),
        "an enterprise register (CSV, XLSX or GeoJSON points)",
    )?;
    tick("enterprise table");
    let read = ingest::read_enterprises(
        &et,
        &cfg.enterprises,
        cfg.enterprises.crs,
        &region,
        &districts,
        cfg.region.tolerance_m,
    )?;
    inputs.push(table_info(
        "enterprises",
        epath,
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
                format!(
                    " The first problem: line {} column {}: {}",
                    r.line, r.column, r.message
                )
            })
            .unwrap_or_default();
        return Err(Error::Input(format!(
            "{}: 0 of {} rows could be used.{hint}",
            et.file, read.rows_read
        )));
    }
    let mut rejects = read.rejects;
    let enterprises = read.enterprises;
    // where each id is, for the rows of the other tables (only when there are such
    // tables): reading checks their ids against it and grading groups them by it
    let known = if cfg.assessments.path.is_some() || cfg.hazards.path.is_some() {
        id_positions(&enterprises)
    } else {
        Default::default()
    };

    tick("enterprises parsed and placed");
    let mut points = Vec::new();
    if let Some(p) = &cfg.assessments.path {
        let t = read_table(
            p,
            cfg.assessments.sheet.as_deref(),
            "risk-point assessments (CSV, XLSX or GeoJSON)",
        )?;
        let r =
            ingest::read_assessments(&t, &cfg.assessments, &tables, &known, &read.rejected_ids)?;
        inputs.push(table_info(
            "assessments",
            p,
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
    if let Some(p) = &cfg.hazards.path {
        let t = read_table(
            p,
            cfg.hazards.sheet.as_deref(),
            "hidden dangers (CSV, XLSX or GeoJSON)",
        )?;
        let r = ingest::read_hidden_dangers(&t, &cfg.hazards, &known, &read.rejected_ids)?;
        inputs.push(table_info(
            "hazards",
            p,
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
    if let Some(p) = &cfg.sites.path {
        let t = read_table(
            p,
            cfg.sites.sheet.as_deref(),
            "sensitive sites (CSV, XLSX or GeoJSON points)",
        )?;
        let r = ingest::records::read_sites(&t, &cfg.sites, cfg.sites.crs, &region, &districts)?;
        inputs.push(table_info(
            "sites",
            p,
            &t,
            format!("{}, crs {}", t.format, r.crs_used),
            r.rows_read,
            r.sites.len(),
            r.rows_rejected,
        )?);
        rejects.extend(r.rejects);
        sites = r.sites;
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
        let pad = cfg.radii.max();
        let (mut w, mut s, mut e, mut n) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for p in &enterprises {
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
        data_date: cfg.data_date.clone(),
        config_sha256: cfg.config_sha256.clone(),
        radii: cfg.radii,
        boundaries_crs: cfg.boundaries.crs,
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
        index: std::sync::OnceLock::new(),
        rejects,
        inputs,
        warnings,
    })
}
