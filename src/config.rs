//! `riskmap.toml`: what to read, how to grade, what to write.
//!
//! Loaded in stages (after martin): read the file, report unknown keys by dotted path,
//! merge command-line flags, resolve relative paths against the config file's folder,
//! then validate every value naming its key. Every field below has a default; the doc
//! comment on each is the reference the README repeats.

use crate::assess::tables::GradingTables;
use crate::crs::Crs;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("config {path}: unknown key `{key}` (see the config reference in README.md)")]
    UnknownKey { path: PathBuf, key: String },
    #[error("config: bad value for `{key}`: {message}")]
    BadValue { key: String, message: String },
}

/// The whole configuration. Every section is optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Map title. Default "济南市安全生产风险四色分布图".
    pub title: Option<String>,
    /// Date the data describes (free text, e.g. "2026-11-01"); shown on maps and reports.
    pub data_date: Option<String>,
    /// The enterprise register (企业). Required (here or by `--enterprises`).
    pub enterprises: TableInput,
    /// Risk points with their assessments (风险点). Optional.
    pub assessments: TableInput,
    /// Hidden dangers (隐患). Optional.
    pub hazards: TableInput,
    /// District boundaries (GeoJSON Polygon/MultiPolygon). Optional but recommended.
    pub boundaries: BoundaryInput,
    /// Where a point may lie.
    pub region: RegionConfig,
    /// Grading rules.
    pub grading: GradingConfig,
    /// Influence radius per level in metres (domain.md §5).
    pub influence_radius_m: Radii,
    /// Sensitive sites (学校, 医院 …) for the exposure analysis. Optional.
    pub sites: TableInput,
    /// District (and street) aggregation.
    pub areas: AreasConfig,
    /// Square or H3 grid aggregation.
    pub grid: GridConfig,
    /// Continuous risk surface and its zones.
    pub surface: SurfaceConfig,
    /// Exposure of sensitive sites.
    pub exposure: ExposureConfig,
    /// Raster tile pyramids and archives.
    pub tiles: TilesConfig,
    /// The overview map (overview.png / overview.svg).
    pub overview: OverviewConfig,
    /// Outputs.
    pub output: OutputConfig,
    /// `riskmap serve`: address, CORS, limits, basemap.
    pub serve: ServeConfig,
    /// The analyst's report (report.html, report/*.csv, report.xlsx, history).
    pub report: ReportConfig,
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

/// The overview map for documents.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct OverviewConfig {
    /// Write overview.png and overview.svg. Default true.
    pub enabled: bool,
    /// PNG width in pixels. Default 2400.
    pub width: u32,
    /// A font file for the Chinese text (default: a system CJK font, else the bundled one).
    pub font: Option<PathBuf>,
}

impl Default for OverviewConfig {
    fn default() -> Self {
        OverviewConfig {
            enabled: true,
            width: 2400,
            font: None,
        }
    }
}

/// Raster tiles (XYZ PNG, MBTiles, PMTiles, TileJSON).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct TilesConfig {
    /// Render tiles during `build`. Default false (`riskmap tiles` renders them alone).
    pub enabled: bool,
    /// `[min, max]` zoom. Default [8, 16].
    pub zoom: [u8; 2],
    /// Layers: surface, grid, areas, points, composite. Default all.
    pub layers: Vec<String>,
    /// Also render 512 px (@2x, retina) tiles. Default false.
    pub retina: bool,
    /// Which tile outputs to write: any of "pmtiles", "mbtiles", "xyz". Default the two
    /// archives; the XYZ folder (one file per tile, as large again on disk) is opt-in.
    /// When set it wins over the three switches below.
    pub formats: Option<Vec<String>>,
    /// The same choice as switches (older configs): XYZ default false, the archives true.
    pub xyz: bool,
    pub mbtiles: bool,
    pub pmtiles: bool,
    /// URL template for TileJSON (`{layer}` is replaced). Default a local riskmap server.
    pub url: String,
    pub attribution: String,
}

impl Default for TilesConfig {
    fn default() -> Self {
        TilesConfig {
            enabled: false,
            zoom: [8, 16],
            layers: ["surface", "grid", "areas", "points", "composite"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            retina: false,
            formats: None,
            xyz: false,
            mbtiles: true,
            pmtiles: true,
            url: "http://127.0.0.1:8080/tiles/{layer}/{z}/{x}/{y}.png".into(),
            attribution: "riskmap · 四色安全风险分布".into(),
        }
    }
}

/// The tile formats a config can name.
pub const TILE_FORMATS: [&str; 3] = ["pmtiles", "mbtiles", "xyz"];

impl TilesConfig {
    /// (xyz, mbtiles, pmtiles): the outputs to write.
    pub fn outputs(&self) -> (bool, bool, bool) {
        match &self.formats {
            Some(f) => {
                let has = |n: &str| f.iter().any(|x| x.eq_ignore_ascii_case(n));
                (has("xyz"), has("mbtiles"), has("pmtiles"))
            }
            None => (self.xyz, self.mbtiles, self.pmtiles),
        }
    }
}

/// The analyst's report.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ReportConfig {
    /// Write the report during `build`. Default false (`riskmap report` writes it alone).
    pub enabled: bool,
    /// Dated snapshots of the graded register kept in `output/history/`. Default 12.
    pub history_keep: usize,
}

impl Default for ReportConfig {
    fn default() -> Self {
        ReportConfig {
            enabled: false,
            history_keep: 12,
        }
    }
}

/// `riskmap serve`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ServeConfig {
    /// Listen address. Default 127.0.0.1:8080.
    pub addr: String,
    /// Origins allowed to call the server from a browser (CORS), e.g.
    /// `["https://portal.example.gov.cn"]`. Default none.
    pub cors: Vec<String>,
    /// Most features one `/api/enterprises` page returns. Default 5000.
    pub max_limit: usize,
    /// Largest bbox side, in degrees, `/api/enterprises` accepts. Default 5.
    pub max_bbox_deg: f64,
    /// Largest `/api/at` radius in metres. Default 5000.
    pub max_radius_m: f64,
    /// Optional basemap for the viewer: an XYZ URL template, its CRS (`wgs84` for
    /// Tianditu / OSM, `gcj02` for Gaode) and attribution. Default none: the district
    /// outlines are the base.
    pub basemap_url: Option<String>,
    pub basemap_crs: crate::crs::Crs,
    pub basemap_attribution: String,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            addr: "127.0.0.1:8080".into(),
            cors: vec![],
            max_limit: 5000,
            max_bbox_deg: 5.0,
            max_radius_m: 5000.0,
            basemap_url: None,
            basemap_crs: crate::crs::Crs::Wgs84,
            basemap_attribution: String::new(),
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

/// A tabular input: CSV, XLSX or GeoJSON points.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TableInput {
    /// Path of the file (relative to the config file). Empty = not used.
    pub path: Option<PathBuf>,
    /// CRS of rows that have no `crs` column value. Default wgs84.
    pub crs: Option<Crs>,
    /// XLSX sheet name. Default: the first sheet.
    pub sheet: Option<String>,
    /// Map a field to a header of the file, e.g. `lon = "X坐标"`. Keys are the field
    /// names of README.md's input tables.
    pub columns: BTreeMap<String, String>,
}

/// The district boundary file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct BoundaryInput {
    /// GeoJSON file path. Empty = no boundaries.
    pub path: Option<PathBuf>,
    /// CRS of the file's coordinates. Default wgs84 (DataV files are gcj02: say so).
    pub crs: Crs,
    /// Property holding the district name. Default "name".
    pub name_field: String,
    /// Property holding the district code. Default "adcode".
    pub adcode_field: String,
}

impl Default for BoundaryInput {
    fn default() -> Self {
        BoundaryInput {
            path: None,
            crs: Crs::Wgs84,
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

/// Grading rules (domain.md §2–§3).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct GradingConfig {
    /// TOML file with the LEC / LS / MES tables and bands. Default: built-in domain.md
    /// values (the same as `styles/grading.toml`).
    pub tables: Option<PathBuf>,
    /// Inline tables, overriding the file's (same keys as `styles/grading.toml`).
    pub inline: Option<GradingTables>,
    /// An open (未整改 / 整改中) 重大事故隐患 forces red. Default true.
    pub open_major_hidden_danger_red: bool,
    /// A major hazard source grade is a floor (一级 red … 四级 blue). Default true.
    pub major_hazard_floor: bool,
    /// A fatal accident in the last 12 months (column `fatal_accident`) forces red. Default true.
    pub fatal_accident_red: bool,
}

impl Default for GradingConfig {
    fn default() -> Self {
        GradingConfig {
            tables: None,
            inline: None,
            open_major_hidden_danger_red: true,
            major_hazard_floor: true,
            fatal_accident_red: true,
        }
    }
}

/// A value per level.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Radii {
    pub red: f64,
    pub orange: f64,
    pub yellow: f64,
    pub blue: f64,
}

impl Default for Radii {
    fn default() -> Self {
        Radii {
            red: 1000.0,
            orange: 500.0,
            yellow: 300.0,
            blue: 100.0,
        }
    }
}

impl Radii {
    pub fn get(&self, l: crate::model::Level) -> f64 {
        use crate::model::Level::*;
        match l {
            Red => self.red,
            Orange => self.orange,
            Yellow => self.yellow,
            Blue => self.blue,
        }
    }
    pub fn max(&self) -> f64 {
        self.red.max(self.orange).max(self.yellow).max(self.blue)
    }
}

/// Where and how outputs are written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct OutputConfig {
    /// Output folder (relative to the config file). Default "output".
    pub dir: PathBuf,
    /// Extra CRS copies of the GeoJSON outputs, e.g. `["gcj02"]` for a Gaode basemap.
    pub crs_out: Vec<Crs>,
    /// Decimals of output coordinates (6 ≈ 10 cm, 7 ≈ 1 cm). Default 7.
    pub decimals: u32,
    /// Style file (colours, opacity, radii). Default "styles/default.toml" when present.
    pub style: Option<PathBuf>,
    /// Output generations kept on disk, the current one included (`riskmap rollback`
    /// switches to the one before). Default 2.
    pub generations: usize,
}

impl Default for OutputConfig {
    fn default() -> Self {
        OutputConfig {
            dir: PathBuf::from("output"),
            crs_out: vec![],
            decimals: 7,
            style: None,
            generations: 2,
        }
    }
}

impl Config {
    /// Read and parse a config file, reporting unknown keys by dotted path.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        // a config is a page of TOML; a huge file is a wrong path, not a config
        if std::fs::metadata(path).is_ok_and(|m| m.len() > 16 << 20) {
            return Err(ConfigError::Read {
                path: path.to_path_buf(),
                source: std::io::Error::other("larger than 16 MB: not a riskmap config"),
            });
        }
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut cfg = Config::parse_str(&text, path)?;
        cfg.resolve_paths(path.parent().unwrap_or(Path::new(".")));
        Ok(cfg)
    }

    /// Parse TOML text (no path resolution).
    pub fn parse_str(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let de = toml::de::Deserializer::parse(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let mut unknown = Vec::new();
        let cfg: Config =
            serde_ignored::deserialize(de, |p| unknown.push(p.to_string())).map_err(|e| {
                ConfigError::Parse {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                }
            })?;
        if let Some(key) = unknown.into_iter().next() {
            return Err(ConfigError::UnknownKey {
                path: path.to_path_buf(),
                key,
            });
        }
        Ok(cfg)
    }

    /// Make relative paths relative to `base` (the config file's folder).
    pub fn resolve_paths(&mut self, base: &Path) {
        let fix = |p: &mut Option<PathBuf>| {
            if let Some(x) = p {
                if x.as_os_str().is_empty() {
                    *p = None;
                } else if x.is_relative() {
                    *x = base.join(&*x);
                }
            }
        };
        fix(&mut self.enterprises.path);
        fix(&mut self.assessments.path);
        fix(&mut self.hazards.path);
        fix(&mut self.sites.path);
        fix(&mut self.areas.streets);
        fix(&mut self.overview.font);
        fix(&mut self.boundaries.path);
        fix(&mut self.region.polygon);
        fix(&mut self.grading.tables);
        fix(&mut self.output.style);
        if self.output.dir.is_relative() {
            self.output.dir = base.join(&self.output.dir);
        }
    }

    /// Check values that parse but make no sense, naming the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, message: String| {
            Err(ConfigError::BadValue {
                key: key.into(),
                message,
            })
        };
        if let Some([w, s, e, n]) = self.region.bbox {
            if !(w < e && s < n) || !(-180.0..=180.0).contains(&w) || !(-180.0..=180.0).contains(&e)
            {
                return bad(
                    "region.bbox",
                    format!("[{w}, {s}, {e}, {n}] is not [west, south, east, north]"),
                );
            }
            if !(-90.0..=90.0).contains(&s) || !(-90.0..=90.0).contains(&n) {
                return bad("region.bbox", "latitudes must be within −90..90".into());
            }
        }
        if let Some(f) = &self.tiles.formats {
            if let Some(x) = f
                .iter()
                .find(|x| !TILE_FORMATS.iter().any(|t| t.eq_ignore_ascii_case(x)))
            {
                return bad(
                    "tiles.formats",
                    format!("`{x}` is not one of {}", TILE_FORMATS.join(", ")),
                );
            }
        }
        if self.output.generations == 0 || self.output.generations > 100 {
            return bad(
                "output.generations",
                format!("{} must be within 1..100", self.output.generations),
            );
        }
        if !(self.region.tolerance_m >= 0.0 && self.region.tolerance_m.is_finite()) {
            return bad(
                "region.tolerance_m",
                format!("{} must be ≥ 0", self.region.tolerance_m),
            );
        }
        for l in crate::model::Level::ALL {
            let r = self.influence_radius_m.get(l);
            if !(r > 0.0 && r.is_finite()) {
                return bad(
                    &format!("influence_radius_m.{}", l.key()),
                    format!("{r} must be > 0"),
                );
            }
        }
        for (section, rule) in [("areas", &self.areas.level), ("grid", &self.grid.level)] {
            for l in crate::model::Level::ALL {
                let (w, t) = (rule.weights.get(l), rule.thresholds.get(l));
                if !(w >= 0.0 && w.is_finite()) {
                    return bad(
                        &format!("{section}.level.weights.{}", l.key()),
                        format!("{w} must be ≥ 0"),
                    );
                }
                if !(t >= 0.0 && t.is_finite()) {
                    return bad(
                        &format!("{section}.level.thresholds.{}", l.key()),
                        format!("{t} must be ≥ 0"),
                    );
                }
            }
        }
        if !(self.grid.cell_m >= 10.0 && self.grid.cell_m <= 100_000.0) {
            return bad(
                "grid.cell_m",
                format!("{} must be within 10..100000 metres", self.grid.cell_m),
            );
        }
        if self.grid.h3_resolution > 15 {
            return bad(
                "grid.h3_resolution",
                format!("{} must be within 0..15", self.grid.h3_resolution),
            );
        }
        if !(self.surface.resolution_m >= 1.0 && self.surface.resolution_m <= 10_000.0) {
            return bad(
                "surface.resolution_m",
                format!(
                    "{} must be within 1..10000 metres",
                    self.surface.resolution_m
                ),
            );
        }
        let t = &self.surface.thresholds;
        if !(t.blue > 0.0 && t.blue < t.yellow && t.yellow < t.orange && t.orange < t.red) {
            return bad(
                "surface.thresholds",
                "must rise: 0 < blue < yellow < orange < red".into(),
            );
        }
        for l in crate::model::Level::ALL {
            let w = self.surface.weights.get(l);
            if !(w > 0.0 && w.is_finite()) {
                return bad(
                    &format!("surface.weights.{}", l.key()),
                    format!("{w} must be > 0"),
                );
            }
        }
        if !(200..=20_000).contains(&self.overview.width) {
            return bad(
                "overview.width",
                format!("{} must be within 200..20000 pixels", self.overview.width),
            );
        }
        let [z0, z1] = self.tiles.zoom;
        if z0 > z1 || z1 > 22 {
            return bad(
                "tiles.zoom",
                format!("[{z0}, {z1}] must be [min, max] within 0..22"),
            );
        }
        for l in &self.tiles.layers {
            if let Err(m) = l.parse::<crate::render::Layer>() {
                return bad("tiles.layers", m);
            }
        }
        if self.output.decimals < 5 || self.output.decimals > 10 {
            return bad(
                "output.decimals",
                format!("{} must be within 5..10", self.output.decimals),
            );
        }
        for (section, t) in [
            ("enterprises", &self.enterprises),
            ("assessments", &self.assessments),
            ("hazards", &self.hazards),
            ("sites", &self.sites),
        ] {
            let known = crate::ingest::fields::fields_for(section);
            for k in t.columns.keys() {
                if !known.iter().any(|f| f.name == k) {
                    let names: Vec<&str> = known.iter().map(|f| f.name).collect();
                    return bad(
                        &format!("{section}.columns.{k}"),
                        format!("no such field; known: {}", names.join(", ")),
                    );
                }
            }
        }
        Ok(())
    }

    /// Title with its default.
    pub fn title(&self) -> &str {
        self.title
            .as_deref()
            .unwrap_or("济南市安全生产风险四色分布图")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_is_named_by_path() {
        let e = Config::parse_str(
            "[grading]\nopen_major_hidden_danger_redd = true\n",
            Path::new("x.toml"),
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("grading.open_major_hidden_danger_redd"),
            "{e}"
        );
        let e = Config::parse_str("[influence_radius_m]\npurple = 3\n", Path::new("x.toml"))
            .unwrap_err();
        assert!(e.to_string().contains("purple"), "{e}");
    }

    #[test]
    fn bad_value_is_named() {
        let e =
            Config::parse_str("[boundaries]\ncrs = \"utm\"\n", Path::new("x.toml")).unwrap_err();
        assert!(e.to_string().contains("crs"), "{e}");
        let c = Config::parse_str("[region]\nbbox = [118, 36, 117, 37]\n", Path::new("x.toml"))
            .unwrap();
        let e = c.validate().unwrap_err();
        assert!(e.to_string().contains("region.bbox"), "{e}");
        let c = Config::parse_str(
            "[enterprises.columns]\nlongitude = \"X\"\n",
            Path::new("x.toml"),
        )
        .unwrap();
        let e = c.validate().unwrap_err();
        assert!(
            e.to_string().contains("enterprises.columns.longitude"),
            "{e}"
        );
    }

    #[test]
    fn defaults() {
        let c = Config::parse_str("", Path::new("x.toml")).unwrap();
        assert_eq!(c.influence_radius_m.red, 1000.0);
        assert!(c.grading.open_major_hidden_danger_red);
        assert_eq!(c.output.decimals, 7);
        c.validate().unwrap();
    }
}
