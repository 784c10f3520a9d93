//! What a tiles run is told: `[tiles]` (zooms, layers, formats, TileJSON URL) and where
//! the pyramids go.

use riskmap_core::crs::Crs;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Where and what the pyramids are written: the `[tiles]` section, the output folder and
/// the extra CRSs of `output.crs_out` (each gets its twin pyramids).
#[derive(Debug, Clone, Default)]
pub struct TilesParams {
    pub tiles: TilesConfig,
    pub out: PathBuf,
    pub crs_out: Vec<Crs>,
}

/// Raster tiles (XYZ PNG, MBTiles, PMTiles, TileJSON).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct TilesConfig {
    /// Render tiles during `build`. Default false (`riskmap tiles` renders them alone).
    pub enabled: bool,
    /// `[min, max]` zoom. Default [8, 16].
    pub zoom: [u8; 2],
    /// Layers: surface, grid, areas, points, composite, lifelines. Default all (a layer
    /// with nothing to draw, lifelines without a lifelines input, writes no archive).
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
            layers: [
                "surface",
                "grid",
                "areas",
                "points",
                "composite",
                "lifelines",
            ]
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
