//! riskmap-core: what every stage of riskmap reads — the model, coordinates and the
//! dataset of graded enterprises.
//!
//! Owns: the model types ([`model`]: enterprises, risk points, hidden dangers, sites,
//! levels), coordinate systems ([`crs`]: WGS84 / CGCS2000 / GCJ-02 / BD-09, [`utm`]), the
//! readers with their validation and rejects ([`ingest`]: CSV in every encoding Excel
//! writes, XLSX, GeoJSON), grading ([`assess`]: LEC / LS / MES / direct, 就高, forced
//! levels), R-tree indexes ([`index`]), polygon validity ([`geom`]), the style
//! ([`style`]) and the [`dataset::Dataset`] that ties them together ([`dataset::load`]).
//!
//! Must not know: the config file (each reader and the loader take parameter structs the
//! CLI fills), analysis, rendering, storage or serving — the later stages depend on this
//! crate, never the reverse.

pub mod assess;
pub mod crs;
pub mod dataset;
pub mod geom;
pub mod i18n;
pub mod index;
pub mod ingest;
pub mod model;
pub mod style;
pub mod utm;

use std::path::PathBuf;

/// Every error the stages return (the CLI adds its config and `--strict` errors).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Ingest(#[from] ingest::IngestError),
    #[error("{}: {}", .path.display(), crate::i18n::io_error(.source))]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Input(String),
}

/// Helpers shared by the crates' unit tests.
#[doc(hidden)]
pub mod testutil {
    /// Deterministic pseudo-random numbers in [0, 1) (a 64-bit LCG).
    pub fn lcg(seed: &mut u64) -> f64 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (*seed >> 11) as f64 / (1u64 << 53) as f64
    }
}
