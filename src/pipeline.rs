//! The one-way pipeline as a library call: resolve inputs, ingest, grade, index. Every
//! subcommand starts from [`load`]; exporting is separate (`export`).

use crate::assess::GradingTables;
use crate::config::Config;
use crate::crs::Crs;
pub use crate::dataset::{Dataset, InputInfo};
use crate::style::Style;
use crate::Error;
use sha2::{Digest, Sha256};
use std::path::PathBuf;

/// Command-line values that win over the config file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub enterprises: Option<PathBuf>,
    pub assessments: Option<PathBuf>,
    pub hazards: Option<PathBuf>,
    pub sites: Option<PathBuf>,
    pub boundaries: Option<PathBuf>,
    pub crs: Option<Crs>,
    pub boundaries_crs: Option<Crs>,
    pub out: Option<PathBuf>,
    pub crs_out: Vec<Crs>,
    pub style: Option<PathBuf>,
    pub database: Option<String>,
}

impl Overrides {
    /// Merge into a loaded config (paths here are relative to the working folder).
    pub fn apply(&self, cfg: &mut Config) {
        if let Some(p) = &self.enterprises {
            cfg.enterprises.path = Some(p.clone());
        }
        if let Some(p) = &self.assessments {
            cfg.assessments.path = Some(p.clone());
        }
        if let Some(p) = &self.hazards {
            cfg.hazards.path = Some(p.clone());
        }
        if let Some(p) = &self.sites {
            cfg.sites.path = Some(p.clone());
        }
        if let Some(p) = &self.boundaries {
            cfg.boundaries.path = Some(p.clone());
        }
        if let Some(c) = self.crs {
            cfg.enterprises.crs = Some(c);
            cfg.sites.crs = Some(c);
            cfg.resources.crs = Some(c);
            cfg.lifelines.crs = Some(c);
            cfg.roads.crs = Some(c);
        }
        if let Some(c) = self.boundaries_crs {
            cfg.boundaries.crs = Some(c);
        }
        if let Some(o) = &self.out {
            cfg.output.dir = o.clone();
        }
        if !self.crs_out.is_empty() {
            cfg.output.crs_out = self.crs_out.clone();
        }
        if let Some(s) = &self.style {
            cfg.output.style = Some(s.clone());
        }
        if let Some(d) = &self.database {
            cfg.database.url = Some(d.clone());
        }
    }
}

/// SHA-256 of the effective config (as TOML), so two runs can be compared.
pub fn config_hash(cfg: &Config) -> String {
    // where the outputs go does not change what they say
    let mut c = cfg.clone();
    c.output.dir = Default::default();
    // nor where the inputs were read from (their hashes say what they were), nor where
    // the layers are published; a URL may hold a password
    c.database = Default::default();
    c.publish = Default::default();
    // alerts say who hears of a change, not what the outputs are
    c.alerts = Vec::new();
    // the posting token is a secret, and says nothing of the outputs
    c.monitoring.token = None;
    for t in [
        &mut c.enterprises,
        &mut c.assessments,
        &mut c.hazards,
        &mut c.sites,
        &mut c.resources,
        &mut c.lifelines,
        &mut c.roads,
        &mut c.monitoring_points,
        &mut c.readings,
    ] {
        t.path = None;
        t.table = None;
        t.sql = None;
    }
    c.boundaries.path = None;
    c.boundaries.table = None;
    c.boundaries.sql = None;
    let text = toml::to_string(&c).unwrap_or_default();
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

/// The grading tables in force: the file if set, then inline overrides.
pub fn grading_tables(cfg: &Config) -> Result<GradingTables, Error> {
    let mut t = match &cfg.grading.tables {
        Some(p) => GradingTables::load(p).map_err(|m| {
            Error::Config(crate::config::ConfigError::BadValue {
                key: "grading.tables".into(),
                message: m,
            })
        })?,
        None => GradingTables::default(),
    };
    if let Some(inline) = &cfg.grading.inline {
        t = inline.clone();
    }
    t.validate().map_err(|m| {
        Error::Config(crate::config::ConfigError::BadValue {
            key: "grading".into(),
            message: m,
        })
    })?;
    Ok(t)
}

/// The style in force: the configured file, else built-in defaults.
pub fn style(cfg: &Config) -> Result<Style, Error> {
    match &cfg.output.style {
        Some(p) => Style::load(p).map_err(|m| {
            Error::Config(crate::config::ConfigError::BadValue {
                key: "output.style".into(),
                message: m,
            })
        }),
        None => Ok(Style::default()),
    }
}

/// Ingest, grade and index everything the config names.
pub fn load(cfg: &Config) -> Result<Dataset, Error> {
    cfg.validate()?;
    Ok(crate::dataset::load(&crate::dataset::LoadParams {
        enterprises: cfg.enterprises.clone(),
        assessments: cfg.assessments.clone(),
        hazards: cfg.hazards.clone(),
        sites: cfg.sites.clone(),
        resources: cfg.resources.clone(),
        lifelines: cfg.lifelines.clone(),
        roads: cfg.roads.clone(),
        monitoring_points: cfg.monitoring_points.clone(),
        readings: cfg.readings.clone(),
        utc_offset_min: cfg.monitoring.utc_offset_min(),
        boundaries: cfg.boundaries.clone(),
        region: cfg.region.clone(),
        grading: cfg.grading.clone(),
        tables: grading_tables(cfg)?,
        style: style(cfg)?,
        radii: cfg.influence_radius_m,
        title: cfg.title(),
        region_name: cfg.region_name.clone(),
        data_date: cfg.data_date.clone(),
        config_sha256: config_hash(cfg),
        database: cfg.database.url.clone(),
    })?)
}
