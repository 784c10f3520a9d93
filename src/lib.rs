//! riskmap: the red / orange / yellow / blue four-color work-safety risk map engine.
//!
//! A one-way pipeline; each stage owns one thing:
//! - [`config`]: `riskmap.toml`, staged loading, unknown keys named by path;
//! - [`ingest`]: readers (CSV in any Excel encoding, XLSX, GeoJSON), header aliases, CRS
//!   normalisation to WGS84, region checks, rejects;
//! - [`assess`]: LEC / LS / MES / direct grading and the enterprise rules (就高, forced levels);
//! - [`index`]: R-trees for enterprises (metres on the sphere) and districts (point-in-polygon);
//! - [`pipeline`]: ingest → assess → index as one call;
//! - [`analyze`]: districts and streets, square / H3 grid, the kernel risk surface and its
//!   zones, exposure of sensitive sites (all in the region's UTM zone, [`utm`]);
//! - [`export`]: GeoJSON, CSV and summary outputs, written atomically as one set;
//! - [`build`]: the `build` subcommand's stages;
//! - [`query`]: neighbourhood questions for the `query` subcommand;
//! - [`sample`]: the deterministic synthetic Jinan register.

pub mod analyze;
pub mod assess;
pub mod bench;
pub mod build;
pub mod config;
pub mod crs;
pub mod dataset;
pub mod export;
pub mod geom;
pub mod index;
pub mod ingest;
pub mod model;
pub mod pipeline;
pub mod query;
pub mod render;
pub mod report;
pub mod sample;
pub mod serve;
pub mod style;
pub mod tiles;
pub mod utm;

use std::path::PathBuf;

/// Every error the library returns.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Ingest(#[from] ingest::IngestError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Input(String),
    #[error("--strict: {0} rows rejected, nothing written (see the list above or run `riskmap validate`)")]
    Strict(usize),
}

/// Helpers shared by the unit tests.
#[cfg(test)]
pub(crate) mod testutil {
    /// Deterministic pseudo-random numbers in [0, 1) (a 64-bit LCG).
    pub fn lcg(seed: &mut u64) -> f64 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (*seed >> 11) as f64 / (1u64 << 53) as f64
    }
}
