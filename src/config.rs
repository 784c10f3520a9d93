//! `riskmap.toml`: what to read, how to grade, what to write.
//!
//! Loaded in stages (after martin): read the file, report unknown keys by dotted path,
//! merge command-line flags, resolve relative paths against the config file's folder,
//! then validate every value naming its key. Every field below has a default; the doc
//! comment on each is the reference the README repeats.

pub use crate::analyze::params::{
    AreaRule, AreasConfig, Combine, ExposureConfig, GridConfig, GridKind, Kernel, LevelRule,
    ScoreBasis, SurfaceConfig,
};
pub use crate::assess::params::GradingConfig;
use crate::crs::Crs;
pub use crate::ingest::params::{BoundaryInput, RegionConfig, TableInput};
pub use crate::model::Radii;
pub use crate::serve::ServeConfig;
pub use crate::tiles::{TilesConfig, TILE_FORMATS};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}", { let (p, e) = (.path.display(), riskmap_core::i18n::io_error(.source)); riskmap_core::tr!("无法读取配置文件 {p}：{e}", "cannot read config {p}: {e}") })]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", { let p = .path.display(); riskmap_core::tr!("配置文件 {p}：{message}", "config {p}: {message}") })]
    Parse { path: PathBuf, message: String },
    #[error("{}", { let p = .path.display(); riskmap_core::tr!("配置文件 {p}：未知的键 `{key}`（见 README.md 的配置说明）", "config {p}: unknown key `{key}` (see the config reference in README.md)") })]
    UnknownKey { path: PathBuf, key: String },
    #[error("{}", riskmap_core::tr!("配置：`{key}` 的取值有误：{message}", "config: bad value for `{key}`: {message}"))]
    BadValue { key: String, message: String },
}

/// The whole configuration. Every section is optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Map title. Default "{region_name}安全生产风险四色分布图".
    pub title: Option<String>,
    /// The region's name (地区名称), e.g. "济南市": in the default title and the report.
    /// Default none (the report names the districts instead).
    pub region_name: Option<String>,
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
    /// Emergency resources (应急资源: rescue teams, fire stations, depots, shelters,
    /// hospitals, experts). Optional.
    pub resources: TableInput,
    /// City lifelines (城市生命线: gas, oil and gas pipelines, power lines, water and
    /// heating mains) as lines: GeoJSON, the database, or a CSV/XLSX WKT column. Optional.
    pub lifelines: TableInput,
    /// The road network (路网: lines with 道路等级 and optionally 限速, 单行) for travel
    /// times and the fire stations' reach by road. Optional: without it, straight line.
    pub roads: TableInput,
    /// Monitoring points of major hazard sources (重大危险源监测点: enterprise, quantity,
    /// high / high-high thresholds). Optional.
    pub monitoring_points: TableInput,
    /// Their readings (a CSV the monitoring system appends to, or the database table
    /// `readings`); `serve` follows the file and takes `POST /api/readings`. Optional.
    pub readings: TableInput,
    /// District (and street) aggregation.
    pub areas: AreasConfig,
    /// Square or H3 grid aggregation.
    pub grid: GridConfig,
    /// Continuous risk surface and its zones.
    pub surface: SurfaceConfig,
    /// Exposure of sensitive sites.
    pub exposure: ExposureConfig,
    /// Emergency command: the nearest help, fire-station reach, gaps (with `[resources]`).
    pub emergency: crate::analyze::emergency::EmergencyConfig,
    /// Lifelines' protection and control widths, the ranking's distance and segment
    /// length (with `[lifelines]`).
    pub lifeline_zones: crate::analyze::lifelines::LifelineConfig,
    /// Monitoring alarms: off-delay, stale time, default thresholds, the posting token.
    pub monitoring: crate::analyze::monitoring::MonitorConfig,
    /// Raster tile pyramids and archives.
    pub tiles: TilesConfig,
    /// Vector tiles (MVT) for MapLibre / OpenLayers / ArcGIS portals.
    pub vector: crate::export::vector::VectorConfig,
    /// The overview map (overview.png / overview.svg).
    pub overview: OverviewConfig,
    /// Outputs.
    pub output: OutputConfig,
    /// `riskmap serve`: address, CORS, limits, basemap.
    pub serve: ServeConfig,
    /// The analyst's report (report.html, report/*.csv, report.xlsx, history).
    pub report: ReportConfig,
    /// A PostgreSQL / PostGIS database to read the inputs from (`--db`).
    pub database: DatabaseConfig,
    /// Publishing the layers to PostGIS at the end of every `build` (`riskmap publish`).
    pub publish: PublishConfig,
    /// `[[alerts]]`: rules that raise alerts on what a new generation changed (the change
    /// feed, `/api/events`, and optionally a webhook).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alerts: Vec<AlertRule>,
}

/// What an alert rule watches for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// An enterprise becomes red (重大): upgraded, or added red.
    EnterpriseRed,
    /// A new open 重大事故隐患.
    MajorDangerOpened,
    /// A district's level rises.
    DistrictUp,
    /// `count` enterprises of a district become red within `within_hours`.
    RedsInDistrict,
    /// A monitoring point of a major hazard source goes into alarm (高报 raised, or
    /// escalated to 高高报), as `serve` takes its readings.
    MonitoringAlarm,
}

impl AlertKind {
    pub fn key(self) -> &'static str {
        match self {
            AlertKind::EnterpriseRed => "enterprise_red",
            AlertKind::MajorDangerOpened => "major_danger_opened",
            AlertKind::DistrictUp => "district_up",
            AlertKind::RedsInDistrict => "reds_in_district",
            AlertKind::MonitoringAlarm => "monitoring_alarm",
        }
    }
}

/// `[[alerts]]`: one rule.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRule {
    /// The rule's name in alerts and webhooks. Default: its kind.
    #[serde(default)]
    pub name: Option<String>,
    /// enterprise_red, major_danger_opened, district_up or reds_in_district.
    pub kind: AlertKind,
    /// Only this district (its name as in the boundaries). Default: every district.
    #[serde(default)]
    pub district: Option<String>,
    /// reds_in_district: how many new reds. Default 3.
    #[serde(default = "default_alert_count")]
    pub count: usize,
    /// reds_in_district: within how many hours. Default 24.
    #[serde(default = "default_alert_hours")]
    pub within_hours: f64,
    /// POST each alert as JSON to this http:// URL (retried with back-off). Default none.
    #[serde(default)]
    pub webhook: Option<String>,
}

fn default_alert_count() -> usize {
    3
}

fn default_alert_hours() -> f64 {
    24.0
}

/// `[database]`: where the inputs are read from when not from files.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DatabaseConfig {
    /// `postgresql://user@host:port/dbname?sslmode=…`; the password from the URL,
    /// `PGPASSWORD` or `~/.pgpass`, never printed. The tables `enterprises`,
    /// `assessments`, `hidden_dangers`, `sites` and `boundaries` of the `search_path` are
    /// read unless a section names a `path`, `table` or `sql`.
    pub url: Option<String>,
}

/// `[publish]`: the PostGIS database and schema the layers are written to.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct PublishConfig {
    /// Publish at the end of every `build` to this database. Default none.
    pub db: Option<String>,
    /// The schema the layer tables go to. Default "riskmap".
    pub schema: String,
}

impl Default for PublishConfig {
    fn default() -> Self {
        PublishConfig {
            db: None,
            schema: "riskmap".into(),
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
    /// Fill the districts by their level instead of drawing the zones (the district
    /// 四色图). Default false.
    pub fill_districts: bool,
}

impl Default for OverviewConfig {
    fn default() -> Self {
        OverviewConfig {
            enabled: true,
            width: 2400,
            font: None,
            fill_districts: false,
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
                source: std::io::Error::other(riskmap_core::tr!(
                    "大于 16 MB，不是 riskmap 配置文件",
                    "larger than 16 MB: not a riskmap config"
                )),
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
        fix(&mut self.resources.path);
        fix(&mut self.lifelines.path);
        fix(&mut self.roads.path);
        fix(&mut self.monitoring_points.path);
        fix(&mut self.readings.path);
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
        if let Err(m) = self.emergency.validate() {
            return bad("emergency", m);
        }
        if let Err(m) = self.lifeline_zones.validate() {
            return bad("lifeline_zones", m);
        }
        if let Err(m) = self.monitoring.validate() {
            return bad("monitoring", m);
        }
        if let Some([w, s, e, n]) = self.region.bbox {
            if !(w < e && s < n) || !(-180.0..=180.0).contains(&w) || !(-180.0..=180.0).contains(&e)
            {
                return bad(
                    "region.bbox",
                    riskmap_core::tr!(
                        "[{w}, {s}, {e}, {n}] 不是 [西, 南, 东, 北]",
                        "[{w}, {s}, {e}, {n}] is not [west, south, east, north]"
                    ),
                );
            }
            if !(-90.0..=90.0).contains(&s) || !(-90.0..=90.0).contains(&n) {
                return bad(
                    "region.bbox",
                    riskmap_core::tr!("纬度须在 −90..90 之间", "latitudes must be within −90..90"),
                );
            }
        }
        if let Some(f) = &self.tiles.formats {
            if let Some(x) = f
                .iter()
                .find(|x| !TILE_FORMATS.iter().any(|t| t.eq_ignore_ascii_case(x)))
            {
                return bad("tiles.formats", {
                    let all = TILE_FORMATS.join(", ");
                    riskmap_core::tr!("`{x}` 不是可用格式之一：{all}", "`{x}` is not one of {all}")
                });
            }
        }
        if self.output.generations == 0 || self.output.generations > 100 {
            return bad("output.generations", {
                let v = self.output.generations;
                riskmap_core::tr!("{v} 须在 1..100 之间", "{v} must be within 1..100")
            });
        }
        if !(self.region.tolerance_m >= 0.0 && self.region.tolerance_m.is_finite()) {
            return bad("region.tolerance_m", {
                let v = self.region.tolerance_m;
                riskmap_core::tr!("{v} 须 ≥ 0", "{v} must be ≥ 0")
            });
        }
        for l in crate::model::Level::ALL {
            let r = self.influence_radius_m.get(l);
            if !(r > 0.0 && r.is_finite()) {
                return bad(
                    &format!("influence_radius_m.{}", l.key()),
                    riskmap_core::tr!("{r} 须 > 0", "{r} must be > 0"),
                );
            }
        }
        for (section, rule) in [("areas", &self.areas.level), ("grid", &self.grid.level)] {
            for l in crate::model::Level::ALL {
                let (w, t) = (rule.weights.get(l), rule.thresholds.get(l));
                if !(w >= 0.0 && w.is_finite()) {
                    return bad(
                        &format!("{section}.level.weights.{}", l.key()),
                        riskmap_core::tr!("{w} 须 ≥ 0", "{w} must be ≥ 0"),
                    );
                }
                if !(t >= 0.0 && t.is_finite()) {
                    return bad(
                        &format!("{section}.level.thresholds.{}", l.key()),
                        riskmap_core::tr!("{t} 须 ≥ 0", "{t} must be ≥ 0"),
                    );
                }
            }
        }
        if !(self.grid.cell_m >= 10.0 && self.grid.cell_m <= 100_000.0) {
            return bad("grid.cell_m", {
                let v = self.grid.cell_m;
                riskmap_core::tr!(
                    "{v} 须在 10..100000 米 之间",
                    "{v} must be within 10..100000 metres"
                )
            });
        }
        if self.grid.h3_resolution > 15 {
            return bad("grid.h3_resolution", {
                let v = self.grid.h3_resolution;
                riskmap_core::tr!("{v} 须在 0..15 之间", "{v} must be within 0..15")
            });
        }
        if !(self.surface.resolution_m >= 1.0 && self.surface.resolution_m <= 10_000.0) {
            return bad("surface.resolution_m", {
                let v = self.surface.resolution_m;
                riskmap_core::tr!(
                    "{v} 须在 1..10000 米 之间",
                    "{v} must be within 1..10000 metres"
                )
            });
        }
        let t = &self.surface.thresholds;
        if !(t.blue > 0.0 && t.blue < t.yellow && t.yellow < t.orange && t.orange < t.red) {
            return bad(
                "surface.thresholds",
                riskmap_core::tr!(
                    "须依次增大：0 < blue < yellow < orange < red",
                    "must rise: 0 < blue < yellow < orange < red"
                ),
            );
        }
        for l in crate::model::Level::ALL {
            let w = self.surface.weights.get(l);
            if !(w > 0.0 && w.is_finite()) {
                return bad(
                    &format!("surface.weights.{}", l.key()),
                    riskmap_core::tr!("{w} 须 > 0", "{w} must be > 0"),
                );
            }
        }
        if !(200..=20_000).contains(&self.overview.width) {
            return bad("overview.width", {
                let v = self.overview.width;
                riskmap_core::tr!(
                    "{v} 须在 200..20000 像素 之间",
                    "{v} must be within 200..20000 pixels"
                )
            });
        }
        let [z0, z1] = self.tiles.zoom;
        if z0 > z1 || z1 > 22 {
            return bad(
                "tiles.zoom",
                riskmap_core::tr!(
                    "[{z0}, {z1}] 须为 0..22 之内的 [最小, 最大]",
                    "[{z0}, {z1}] must be [min, max] within 0..22"
                ),
            );
        }
        for l in &self.tiles.layers {
            if let Err(m) = l.parse::<crate::render::Layer>() {
                return bad("tiles.layers", m);
            }
        }
        if let Err(m) = crate::export::vector::validate(&self.vector) {
            return bad("vector", m);
        }
        if self.output.decimals < 5 || self.output.decimals > 10 {
            return bad("output.decimals", {
                let v = self.output.decimals;
                riskmap_core::tr!("{v} 须在 5..10 之间", "{v} must be within 5..10")
            });
        }
        for (section, t) in [
            ("enterprises", &self.enterprises),
            ("assessments", &self.assessments),
            ("hazards", &self.hazards),
            ("sites", &self.sites),
            ("resources", &self.resources),
            ("lifelines", &self.lifelines),
            ("roads", &self.roads),
            ("monitoring_points", &self.monitoring_points),
            ("readings", &self.readings),
        ] {
            let known = crate::ingest::fields::fields_for(section);
            for k in t.columns.keys() {
                if !known.iter().any(|f| f.name == k) {
                    let names: Vec<&str> = known.iter().map(|f| f.name).collect();
                    return bad(&format!("{section}.columns.{k}"), {
                        let n = names.join(", ");
                        riskmap_core::tr!("没有这个字段；可用：{n}", "no such field; known: {n}")
                    });
                }
            }
        }
        Ok(())
    }

    /// Title with its default.
    /// The config of a run without a config file (`riskmap build --enterprises 名录.xlsx`):
    /// the defaults, with the tile pyramids and the report on, as the sample's
    /// `riskmap.toml` has them, so the first run of a user's register writes the whole set.
    pub fn one_off() -> Config {
        let mut c = Config::default();
        c.tiles.enabled = true;
        c.report.enabled = true;
        c
    }

    /// The analysis stages' parameters.
    pub fn analyze_params(&self) -> crate::analyze::AnalyzeParams {
        crate::analyze::AnalyzeParams {
            areas: self.areas.clone(),
            grid: self.grid.clone(),
            surface: self.surface.clone(),
            exposure: self.exposure.clone(),
            emergency: self.emergency.clone(),
            lifelines: self.lifeline_zones.clone(),
            monitoring: self.monitoring.clone(),
        }
    }

    /// Where and what the tile pyramids are written.
    pub fn tiles_params(&self) -> crate::tiles::TilesParams {
        crate::tiles::TilesParams {
            tiles: self.tiles.clone(),
            out: self.output.dir.clone(),
            crs_out: self.output.crs_out.clone(),
        }
    }

    /// Where and what the vector tiles are written.
    pub fn vector_params(&self) -> crate::export::vector::VectorParams {
        crate::export::vector::VectorParams {
            vector: self.vector.clone(),
            out: self.output.dir.clone(),
            crs_out: self.output.crs_out.clone(),
            url: self.tiles.url.clone(),
            attribution: self.tiles.attribution.clone(),
            quiet: true,
        }
    }

    /// What the server takes besides the data.
    pub fn serve_params(&self) -> crate::serve::ServeParams {
        crate::serve::ServeParams {
            serve: self.serve.clone(),
            decimals: self.output.decimals,
            monitoring: self.monitoring.clone(),
        }
    }

    /// The map's title: `title`, else `region_name` + 安全生产风险四色分布图 (no city is
    /// assumed).
    pub fn title(&self) -> String {
        match &self.title {
            Some(t) => t.clone(),
            None => format!(
                "{}安全生产风险四色分布图",
                self.region_name.as_deref().unwrap_or("")
            ),
        }
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
