//! The analysis stages' parameters: how areas and grid cells are levelled, the grid, the
//! surface and its zones, exposure. Read from `riskmap.toml`'s sections of the same names
//! (the CLI's config holds these structs), with the defaults README documents.

use riskmap_core::crs::Crs;
use riskmap_core::model::Radii;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Everything the analysis stages take besides the dataset.
#[derive(Debug, Clone, Default)]
pub struct AnalyzeParams {
    pub areas: AreasConfig,
    pub grid: GridConfig,
    pub surface: SurfaceConfig,
    pub exposure: ExposureConfig,
    pub emergency: crate::emergency::EmergencyConfig,
    pub lifelines: crate::lifelines::LifelineConfig,
    pub monitoring: crate::monitoring::MonitorConfig,
}

/// How an area's (or grid cell's) level is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AreaRule {
    /// The highest level of the enterprises inside (就高).
    Highest,
    /// Weighted count per km² or per enterprise against thresholds.
    Score,
}

/// What a score is divided by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoreBasis {
    PerKm2,
    PerEnterprise,
}

/// The level rule shared by areas and grid cells.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct LevelRule {
    /// `highest` (就高, default) or `score`.
    pub rule: AreaRule,
    /// For `score`: `per_km2` (default) or `per_enterprise`.
    pub score_basis: ScoreBasis,
    /// For `score`: weight of an enterprise per level. Default 8 / 4 / 2 / 1.
    pub weights: Radii,
    /// For `score`: the lowest score of each level. Default per km² 2 / 1 / 0.5 / 0 (per
    /// enterprise the same numbers mean an average weight).
    pub thresholds: Radii,
}

impl Default for LevelRule {
    fn default() -> Self {
        LevelRule {
            rule: AreaRule::Highest,
            score_basis: ScoreBasis::PerKm2,
            weights: Radii {
                red: 8.0,
                orange: 4.0,
                yellow: 2.0,
                blue: 1.0,
            },
            thresholds: Radii {
                red: 2.0,
                orange: 1.0,
                yellow: 0.5,
                blue: 0.0,
            },
        }
    }
}

/// District aggregation, and optionally a second boundary level (streets / towns).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AreasConfig {
    /// Write areas.geojson / areas.csv. Default true.
    pub enabled: bool,
    /// `[areas.level]`: rule, score_basis, weights, thresholds.
    pub level: LevelRule,
    /// A second boundary level (街道 / 乡镇) GeoJSON; written as areas_streets.*.
    pub streets: Option<PathBuf>,
    /// CRS of the streets file. Default wgs84.
    pub streets_crs: Crs,
    /// Name / code properties of the streets file. Default "name" / "adcode".
    pub streets_name_field: String,
    pub streets_adcode_field: String,
}

impl Default for AreasConfig {
    fn default() -> Self {
        AreasConfig {
            enabled: true,
            level: LevelRule::default(),
            streets: None,
            streets_crs: Crs::Wgs84,
            streets_name_field: "name".into(),
            streets_adcode_field: "adcode".into(),
        }
    }
}

/// Cell shape of the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GridKind {
    /// Square cells in the region's UTM zone.
    Square,
    /// H3 hexagons.
    H3,
}

/// Grid aggregation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct GridConfig {
    /// Write grid.geojson. Default true.
    pub enabled: bool,
    /// `square` (default) or `h3`.
    pub kind: GridKind,
    /// Square cell size in metres. Default 1000.
    pub cell_m: f64,
    /// H3 resolution (0–15). Default 8 (≈ 0.74 km²).
    pub h3_resolution: u8,
    /// `[grid.level]`: rule, score_basis, weights, thresholds.
    pub level: LevelRule,
}

impl Default for GridConfig {
    fn default() -> Self {
        GridConfig {
            enabled: true,
            kind: GridKind::Square,
            cell_m: 1000.0,
            h3_resolution: 8,
            level: LevelRule::default(),
        }
    }
}

/// Kernel of an enterprise's influence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kernel {
    /// w · (1 − (d/r)²) inside the radius.
    Epanechnikov,
    /// w · exp(−2 (d/r)²) (σ = r/2), cut at the radius.
    Gaussian,
}

/// How contributions combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Combine {
    Sum,
    Max,
}

/// The continuous risk surface.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SurfaceConfig {
    /// Compute the surface, zones.geojson and surface.tif. Default true.
    pub enabled: bool,
    /// Raster cell size in metres. Default 50.
    pub resolution_m: f64,
    /// `epanechnikov` (default) or `gaussian`.
    pub kernel: Kernel,
    /// `sum` (default) or `max`.
    pub combine: Combine,
    /// Peak contribution of an enterprise per level. Default 216000 / 3600 / 60 / 1: each
    /// level 60 × the one below.
    pub weights: Radii,
    /// The lowest surface value of each level, fixed for the whole map. Default 2 % of
    /// each level's weight: 4320 / 72 / 1.2 / 0.02.
    pub thresholds: Radii,
    /// Zones are simplified (topology-preserving Visvalingam–Whyatt) by this many m² of
    /// triangle area. Default: a quarter of a raster cell.
    pub simplify_m2: Option<f64>,
    /// Largest raster (cells) before the run stops with advice. Default 400 million.
    pub max_cells: u64,
}

impl Default for SurfaceConfig {
    fn default() -> Self {
        SurfaceConfig {
            enabled: true,
            resolution_m: 50.0,
            kernel: Kernel::Epanechnikov,
            combine: Combine::Sum,
            weights: Radii {
                red: 216_000.0,
                orange: 3_600.0,
                yellow: 60.0,
                blue: 1.0,
            },
            thresholds: Radii {
                red: 4_320.0,
                orange: 72.0,
                yellow: 1.2,
                blue: 0.02,
            },
            simplify_m2: None,
            max_cells: 400_000_000,
        }
    }
}

/// Exposure of sensitive sites (runs when a sites file is given).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ExposureConfig {
    /// Default true.
    pub enabled: bool,
    /// How many nearby red/orange enterprises to name per site. Default 3.
    pub nearest: usize,
}

impl Default for ExposureConfig {
    fn default() -> Self {
        ExposureConfig {
            enabled: true,
            nearest: 3,
        }
    }
}
