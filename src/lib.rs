//! riskmap: the red / orange / yellow / blue four-color work-safety risk map engine.
//!
//! The command line and what it orchestrates. The stages live in their own crates
//! (README, "Architecture"), re-exported here under the names the commands use:
//! - [`model`], [`crs`], [`utm`], [`ingest`], [`assess`], [`index`], [`geom`], [`style`],
//!   [`dataset`]: `riskmap-core` (readers, grading, indexes, the graded dataset);
//! - [`analyze`]: `riskmap-analyze` (districts, grid, surface, zones, exposure);
//! - [`render`]: `riskmap-render` (tile math, rasters, PNG, the overview map);
//! - [`export`] and [`tiles`]: `riskmap-store` (GeoJSON / CSV / GeoTIFF / summary
//!   writers, archives, generations; the tile pyramids);
//! - [`serve`]: `riskmap-serve` (the HTTP server and the viewer).
//!
//! This crate owns the rest: [`config`] (`riskmap.toml` into each stage's parameters),
//! [`pipeline`] (the config's inputs loaded), [`build`], [`report`], [`query`],
//! [`sample`] and [`bench`].

pub use riskmap_analyze as analyze;
pub use riskmap_core::{assess, crs, dataset, geom, index, ingest, model, style, utm};
pub use riskmap_render as render;
pub use riskmap_serve as serve;
pub use riskmap_store as export;
pub use riskmap_store::pyramid as tiles;

pub mod bench;
pub mod build;
pub mod config;
pub mod init;
pub mod live;
pub mod pipeline;
pub mod query;
pub mod report;
pub mod sample;

use std::path::PathBuf;

/// Every error the library returns: the stages' errors (`riskmap_core::Error`, whose
/// variants it repeats so a caller matches one enum) and the CLI's own, the config and
/// `--strict`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Ingest(#[from] ingest::IngestError),
    #[error("{}: {}", .path.display(), riskmap_core::i18n::io_error(.source))]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Input(String),
    #[error("{}", { let n = .0; riskmap_core::tr!("--strict：{n} 行被拒绝，未写入任何文件（见上方列表，或运行 riskmap validate）", "--strict: {n} rows rejected, nothing written (see the list above or run `riskmap validate`)") })]
    Strict(usize),
}

impl From<riskmap_core::Error> for Error {
    fn from(e: riskmap_core::Error) -> Error {
        match e {
            riskmap_core::Error::Ingest(e) => Error::Ingest(e),
            riskmap_core::Error::Io { path, source } => Error::Io { path, source },
            riskmap_core::Error::Input(m) => Error::Input(m),
        }
    }
}
