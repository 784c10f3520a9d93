//! The command line's arguments (clap): subcommands, their flags and help texts.

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use riskmap::config::Config;
use riskmap::crs::Crs;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "riskmap",
    version,
    about = "Draw a city's red / orange / yellow / blue work-safety risk map (四色安全风险空间分布图).",
    long_about = "riskmap reads a register of supervised enterprises, their risk assessments and hidden dangers, \
grades every enterprise red / orange / yellow / blue, and writes the four-color map as GeoJSON and tables.\n\n\
Without --config it reads ./riskmap.toml when present (unless --enterprises names a different register)."
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) cmd: Cmd,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Cmd {
    /// Look at a register (sheet, header row, columns, coordinate system, boundaries
    /// beside it) and write a commented riskmap.toml to adjust (生成配置文件).
    Init(InitArgs),
    /// Grade everything and write the map files into the output folder.
    Build(BuildArgs),
    /// Check the inputs and list every rejected row; writes nothing.
    Validate(ValidateArgs),
    /// Ask what is near a point or inside a box.
    Query(QueryArgs),
    /// Write a synthetic Jinan register (enterprises, assessments, hidden dangers, sites).
    Sample(SampleArgs),
    /// Measure a full build (time per stage, peak memory) on the sample and larger registers.
    Bench(BenchArgs),
    /// Render the raster tile pyramids (XYZ PNG, MBTiles, PMTiles, TileJSON) alone.
    Tiles(TilesArgs),
    /// Serve the built map: tiles, query API and the offline web viewer (一图展示、一点即现).
    Serve(ServeArgs),
    /// Write the analyst's report (report.html, report/*.csv, report.xlsx) alone.
    Report(ReportArgs),
    /// Switch the output folder back to the previous generation (the run before).
    Rollback(RollbackArgs),
}

#[derive(Args, Debug)]
pub(crate) struct InitArgs {
    /// The register: CSV, XLSX or GeoJSON points (企业名录).
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,
    /// District boundaries (GeoJSON); default: one found beside the register.
    #[arg(long, value_name = "FILE")]
    pub(crate) boundaries: Option<PathBuf>,
    /// Where to write the config.
    #[arg(long, value_name = "FILE", default_value = "riskmap.toml")]
    pub(crate) out: PathBuf,
    /// Replace an existing config.
    #[arg(long)]
    pub(crate) force: bool,
}

#[derive(Args, Debug)]
pub(crate) struct RollbackArgs {
    #[command(flatten)]
    pub(crate) input: InputArgs,
}

#[derive(Args, Debug)]
pub(crate) struct ReportArgs {
    #[command(flatten)]
    pub(crate) input: InputArgs,
    #[command(flatten)]
    pub(crate) crs: PointCrs,
    /// Compare with a previous output folder (its history/ or enterprises.geojson) or a
    /// history snapshot file, instead of the newest different snapshot in output/history/.
    #[arg(long, value_name = "DIR|FILE")]
    pub(crate) since: Option<PathBuf>,
    /// Also print report.html to report.pdf with headless Chromium.
    #[arg(long)]
    pub(crate) pdf: bool,
}

#[derive(Args, Debug)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    pub(crate) input: InputArgs,
    #[command(flatten)]
    pub(crate) crs: PointCrs,
    /// Address to listen on (default [serve] addr, 127.0.0.1:8080).
    #[arg(long, value_name = "HOST:PORT")]
    pub(crate) addr: Option<String>,
}

/// Tile options shared by `build` and `tiles`.
#[derive(Args, Debug, Clone)]
pub(crate) struct TileFlags {
    /// Zoom range MIN-MAX (default from [tiles] zoom, 8-16).
    #[arg(long, value_name = "MIN-MAX")]
    pub(crate) zoom: Option<String>,
    /// Layers to render: surface,grid,areas,points,composite (default all).
    #[arg(long, value_delimiter = ',', value_name = "A,B,…")]
    pub(crate) layers: Option<Vec<String>>,
    /// Tile outputs: pmtiles,mbtiles,xyz (default [tiles] formats: the two archives).
    #[arg(long, value_delimiter = ',', value_name = "F,…")]
    pub(crate) formats: Option<Vec<String>>,
}

impl TileFlags {
    pub(crate) fn given(&self) -> bool {
        self.zoom.is_some() || self.layers.is_some() || self.formats.is_some()
    }

    /// `--formats` into the config (checked with the config's other values).
    pub(crate) fn apply(&self, cfg: &mut Config) -> Result<()> {
        if let Some(f) = &self.formats {
            cfg.tiles.formats = Some(f.clone());
            cfg.validate()?;
        }
        Ok(())
    }
    pub(crate) fn options(&self, quiet: bool) -> Result<riskmap::tiles::TilesOptions> {
        let zoom = match &self.zoom {
            None => None,
            Some(z) => {
                let (a, b) = z.split_once('-').unwrap_or((z, z));
                let (a, b): (u8, u8) = (
                    a.trim().parse().context("--zoom MIN-MAX")?,
                    b.trim().parse().context("--zoom MIN-MAX")?,
                );
                if a > b || b > 22 {
                    bail!("--zoom {z}: MIN-MAX within 0..22");
                }
                Some([a, b])
            }
        };
        let layers = match &self.layers {
            None => None,
            Some(v) => Some(
                v.iter()
                    .map(|l| {
                        l.parse::<riskmap::render::Layer>()
                            .map_err(anyhow::Error::msg)
                    })
                    .collect::<Result<Vec<_>>>()?,
            ),
        };
        Ok(riskmap::tiles::TilesOptions {
            zoom,
            layers,
            quiet,
        })
    }
}

#[derive(Args, Debug)]
pub(crate) struct TilesArgs {
    #[command(flatten)]
    pub(crate) input: InputArgs,
    #[command(flatten)]
    pub(crate) crs: PointCrs,
    #[command(flatten)]
    pub(crate) tiles: TileFlags,
    /// Also write GCJ-02 pyramids (for a Gaode / Tencent basemap).
    #[arg(long = "crs-out", value_name = "CRS")]
    pub(crate) crs_out: Vec<Crs>,
    /// No progress bar.
    #[arg(long, short)]
    pub(crate) quiet: bool,
}

#[derive(Args, Debug)]
pub(crate) struct BenchArgs {
    /// Register sizes to measure: `sample` (5,000) and enterprise counts.
    #[arg(long, value_delimiter = ',', default_value = "sample,100000,1000000")]
    pub(crate) sizes: Vec<String>,
    /// Working folder for generated registers and outputs.
    #[arg(long, value_name = "DIR", default_value = "target/bench")]
    pub(crate) work: PathBuf,
    /// Folder of the peer scripts (numpy/scipy + GDAL) to run on the same points.
    #[arg(long, value_name = "DIR", default_value = "../shared/bench/peer")]
    pub(crate) peer_dir: PathBuf,
    /// Number of peer points (its clustered generator). 0 skips the peer.
    #[arg(long, default_value_t = 100_000)]
    pub(crate) peer_points: usize,
    /// Also render the sample's tile pyramids (`[tiles]` zooms, every layer) and compare
    /// with the encode-only ceiling.
    #[arg(long)]
    pub(crate) tiles: bool,
    /// Zoom ranges at which to compare the surface pyramid with the peer's gdal2tiles
    /// path on its points (e.g. 8-14,8-16); none by default.
    #[arg(long, value_delimiter = ',', value_name = "MIN-MAX,…")]
    pub(crate) peer_tiles: Vec<String>,
    /// Load-test `riskmap serve` on the built sample instead (run `riskmap build` first):
    /// tiles and /api/at over loopback, requests/s and p50/p99 latency.
    #[arg(long)]
    pub(crate) serve: bool,
    /// With --serve: concurrent keep-alive connections.
    #[arg(long, default_value_t = 4)]
    pub(crate) connections: usize,
    /// Internal: measure one prepared register in this process and print JSON.
    #[arg(long, hide = true, value_name = "DIR")]
    pub(crate) child: Option<PathBuf>,
    /// Internal: with --child, the peer's points file instead of a register folder.
    #[arg(long, hide = true)]
    pub(crate) child_peer: bool,
}

/// Where the inputs come from. Flags win over the config file.
#[derive(Args, Debug, Clone)]
pub(crate) struct InputArgs {
    /// Config file (TOML). Default: ./riskmap.toml if it exists.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Enterprise register: CSV (UTF-8 or GBK), XLSX or GeoJSON points.
    #[arg(long, value_name = "FILE")]
    pub(crate) enterprises: Option<PathBuf>,
    /// Risk-point assessments (LEC / LS / MES / direct).
    #[arg(long, value_name = "FILE")]
    pub(crate) assessments: Option<PathBuf>,
    /// Hidden dangers (隐患): enterprise id, grade 一般/重大, status 未整改/整改中/已整改.
    #[arg(long, value_name = "FILE")]
    pub(crate) hazards: Option<PathBuf>,
    /// Sensitive sites (学校, 幼儿园, 医院, 养老院, 居民区 …) for the exposure analysis.
    #[arg(long, value_name = "FILE")]
    pub(crate) sites: Option<PathBuf>,
    /// District boundaries (GeoJSON Polygon / MultiPolygon).
    #[arg(long, value_name = "FILE")]
    pub(crate) boundaries: Option<PathBuf>,
    /// CRS of the boundary file.
    #[arg(long, value_name = "CRS")]
    pub(crate) boundaries_crs: Option<Crs>,
    /// Output folder (default: output/ beside the config).
    #[arg(long, value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,
    /// Style file with the level colours (default: styles/default.toml values).
    #[arg(long, value_name = "FILE")]
    pub(crate) style: Option<PathBuf>,
    /// Font file for the overview map's Chinese text (default: a system CJK font, else the bundled one).
    #[arg(long, value_name = "FILE")]
    pub(crate) font: Option<PathBuf>,
}

/// CRS of the point files, for `build` and `validate`.
#[derive(Args, Debug, Clone)]
pub(crate) struct PointCrs {
    /// CRS of the point files' coordinates: wgs84, cgcs2000, gcj02 or bd09 (a `crs` column wins per row).
    #[arg(long, value_name = "CRS")]
    pub(crate) crs: Option<Crs>,
}

#[derive(Args, Debug)]
pub(crate) struct ValidateArgs {
    #[command(flatten)]
    pub(crate) input: InputArgs,
    #[command(flatten)]
    pub(crate) crs: PointCrs,
}

#[derive(Args, Debug)]
pub(crate) struct BuildArgs {
    #[command(flatten)]
    pub(crate) input: InputArgs,
    #[command(flatten)]
    pub(crate) crs: PointCrs,
    /// Fail (exit 1) and write nothing if any row is rejected.
    #[arg(long)]
    pub(crate) strict: bool,
    /// Also write copies in this CRS for a Chinese basemap: gcj02 (Gaode/Tencent) or bd09 (Baidu). Repeatable.
    #[arg(long = "crs-out", value_name = "CRS")]
    pub(crate) crs_out: Vec<Crs>,
    /// Print nothing but errors (and no progress bar).
    #[arg(long, short)]
    pub(crate) quiet: bool,
    #[command(flatten)]
    pub(crate) tiles: TileFlags,
}

#[derive(Args, Debug)]
pub(crate) struct QueryArgs {
    #[command(flatten)]
    pub(crate) input: InputArgs,
    /// Enterprises within --radius metres of LON,LAT.
    #[arg(long, value_name = "LON,LAT", requires = "radius")]
    pub(crate) near: Option<String>,
    /// Radius in metres for --near.
    #[arg(long, value_name = "M")]
    pub(crate) radius: Option<f64>,
    /// Enterprises inside W,S,E,N.
    #[arg(long, value_name = "W,S,E,N")]
    pub(crate) bbox: Option<String>,
    /// The K nearest enterprises to --at.
    #[arg(long, value_name = "K", requires = "at")]
    pub(crate) nearest: Option<usize>,
    /// What is at LON,LAT: its district and the nearest enterprises.
    #[arg(long, value_name = "LON,LAT")]
    pub(crate) at: Option<String>,
    /// CRS of the query point / box: wgs84 (default), gcj02 for a point copied from Gaode, bd09 from Baidu.
    #[arg(long, value_name = "CRS", default_value = "wgs84")]
    pub(crate) crs: Crs,
    /// CRS of the point files' coordinates (as --crs of `build`).
    #[arg(long, value_name = "CRS")]
    pub(crate) input_crs: Option<Crs>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Args, Debug)]
pub(crate) struct SampleArgs {
    /// Number of enterprises.
    #[arg(long, default_value_t = 5000)]
    pub(crate) count: usize,
    /// Random seed; the same seed gives the same bytes.
    #[arg(long, default_value_t = 2026)]
    pub(crate) seed: u64,
    /// Output folder.
    #[arg(long, value_name = "DIR", default_value = "data/sample")]
    pub(crate) out: PathBuf,
}
