//! riskmap-store: every file riskmap writes — GeoJSON (RFC 7946), CSV, GeoTIFF,
//! summary.json, the tile archives (XYZ, MBTiles, PMTiles) and the pyramids streamed into
//! them ([`pyramid`]) — written atomically as one output generation ([`generations`]).
//!
//! Owns: rusqlite, pmtiles and tiff. Takes the dataset, its analysis, the renderer and
//! plain parameters (decimals, CRSs, [`pyramid::TilesParams`]). Must not know: the config
//! file or serving. A new sink (PostGIS, an object store) goes here.

pub mod analysis;
pub mod atomic;
pub mod changes;
pub mod emergency;
pub mod generations;
pub mod geojson;
pub mod geotiff;
pub mod lifelines;
pub mod monitoring;
pub mod postgis;
pub mod pyramid;
pub mod summary;
pub mod tables;
pub mod tiles;
pub mod vector;
pub mod webhook;

use std::io::Write;
use std::path::{Path, PathBuf};

/// Files staged as temp files and renamed into place together by [`OutputSet::commit`].
/// Dropped without commit (a failed run), the temps are removed and the previous outputs
/// stay as they were.
#[derive(Default)]
pub struct OutputSet {
    staged: Vec<(PathBuf, PathBuf)>,
    committed: bool,
}

impl OutputSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Write a file's new content beside it under a temp name.
    pub fn stage(
        &mut self,
        path: &Path,
        fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = atomic::temp_path(path);
        // registered first so that a failure below still cleans the temp up
        self.staged.push((tmp.clone(), path.to_path_buf()));
        let f = std::fs::File::create(&tmp)?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
        fill(&mut w)?;
        let f = w.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()
    }

    /// Stage bytes.
    pub fn stage_bytes(&mut self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        self.stage(path, |w| w.write_all(bytes))
    }

    /// Rename every staged file into place; returns the final paths.
    pub fn commit(mut self) -> std::io::Result<Vec<PathBuf>> {
        let mut done = Vec::new();
        for (tmp, dst) in &self.staged {
            std::fs::rename(tmp, dst)?;
            done.push(dst.clone());
        }
        self.committed = true;
        Ok(done)
    }
}

impl Drop for OutputSet {
    fn drop(&mut self) {
        if !self.committed {
            for (tmp, _) in &self.staged {
                let _ = std::fs::remove_file(tmp);
            }
        }
    }
}

/// Round a coordinate to `decimals` places.
pub fn round(v: f64, decimals: u32) -> f64 {
    let f = 10f64.powi(decimals as i32);
    (v * f).round() / f
}

/// Write a CSV that Excel opens as UTF-8 (with BOM).
pub fn write_csv_bom(
    w: &mut dyn Write,
    header: &[&str],
    rows: impl Iterator<Item = Vec<String>>,
) -> std::io::Result<()> {
    w.write_all(b"\xEF\xBB\xBF")?;
    let mut c = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(w);
    c.write_record(header)?;
    for r in rows {
        c.write_record(&r)?;
    }
    c.flush()?;
    Ok(())
}
