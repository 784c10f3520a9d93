//! Tile sinks: the XYZ directory, MBTiles 1.3 (SQLite, `map`/`images` schema: identical
//! tiles stored once), PMTiles v3 (the `pmtiles` crate's writer, run-length deduplicated)
//! and TileJSON 3.0. Each is written under a temp name and moved into place at the end.

use riskmap_render::tile::Tile;
use rusqlite::{params, Connection};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Metadata shared by the archives and TileJSON.
#[derive(Debug, Clone)]
pub struct TileMeta {
    pub name: String,
    pub description: String,
    pub attribution: String,
    pub bounds: [f64; 4],
    pub minzoom: u8,
    pub maxzoom: u8,
    pub url: String,
}

impl TileMeta {
    pub fn center(&self) -> [f64; 3] {
        let b = self.bounds;
        [
            (b[0] + b[2]) / 2.0,
            (b[1] + b[3]) / 2.0,
            ((self.minzoom as u16 + self.maxzoom as u16) / 2) as f64,
        ]
    }
}

/// What the tiles of an archive are.
#[derive(Debug, Clone)]
pub enum TileFormat {
    /// PNG images.
    Png,
    /// Gzipped Mapbox Vector Tiles; `vector_layers` is the TileJSON list of the layers
    /// and their fields (the MBTiles `json` metadata).
    Pbf { vector_layers: serde_json::Value },
}

impl TileFormat {
    /// The MBTiles `format` and XYZ file extension.
    pub fn ext(&self) -> &'static str {
        match self {
            TileFormat::Png => "png",
            TileFormat::Pbf { .. } => "pbf",
        }
    }
}

/// Where one layer's tiles go.
pub struct Sinks {
    ext: &'static str,
    xyz: Option<(PathBuf, PathBuf)>,
    mbtiles: Option<(Connection, PathBuf, PathBuf)>,
    /// Column folders already created.
    dirs: std::collections::HashSet<(u8, u32)>,
    /// SHA-256 of the images in the MBTiles archive.
    stored: std::collections::HashSet<[u8; 32]>,
    pmtiles: Option<(
        pmtiles::PmTilesStreamWriter<std::io::BufWriter<std::fs::File>>,
        PathBuf,
        PathBuf,
    )>,
    pub written: u64,
}

fn tmp(p: &Path) -> PathBuf {
    crate::atomic::temp_path(p)
}

fn io(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

impl Sinks {
    /// Open the sinks of `layer` (e.g. `surface`, `surface_gcj02`) under `out`; `suffix` is
    /// `""` or `"@2x"`.
    #[allow(clippy::too_many_arguments)]
    pub fn open(
        out: &Path,
        layer: &str,
        suffix: &str,
        meta: &TileMeta,
        xyz: bool,
        mbtiles: bool,
        pmtiles_on: bool,
        format: &TileFormat,
    ) -> std::io::Result<Sinks> {
        let name = format!("{layer}{suffix}");
        let vector = matches!(format, TileFormat::Pbf { .. });
        let empty_note = if vector {
            "Empty tiles are not stored."
        } else {
            "Fully transparent tiles are not stored: a missing tile inside the bounds is empty."
        };
        let xyz = if xyz {
            let dst = out.join("tiles").join(&name);
            let t = tmp(&dst);
            let _ = std::fs::remove_dir_all(&t);
            std::fs::create_dir_all(&t)?;
            Some((t, dst))
        } else {
            None
        };
        let mbtiles = if mbtiles {
            let dst = out.join("mbtiles").join(format!("{name}.mbtiles"));
            std::fs::create_dir_all(dst.parent().unwrap_or(out))?;
            let t = tmp(&dst);
            let _ = std::fs::remove_file(&t);
            let c = Connection::open(&t).map_err(io)?;
            c.execute_batch(
                "PRAGMA page_size = 16384; PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
                 CREATE TABLE metadata (name TEXT, value TEXT);
                 CREATE UNIQUE INDEX name ON metadata (name);
                 CREATE TABLE map (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_id TEXT);
                 CREATE TABLE images (tile_data BLOB, tile_id TEXT);
                 CREATE VIEW tiles AS SELECT map.zoom_level AS zoom_level, map.tile_column AS tile_column,
                   map.tile_row AS tile_row, images.tile_data AS tile_data
                   FROM map JOIN images ON images.tile_id = map.tile_id;
                 BEGIN;",
            )
            .map_err(io)?;
            let b = meta.bounds;
            let c0 = meta.center();
            let rows = [
                ("name", name.clone()),
                ("format", format.ext().into()),
                ("type", "overlay".into()),
                ("version", env!("CARGO_PKG_VERSION").into()),
                ("bounds", format!("{},{},{},{}", b[0], b[1], b[2], b[3])),
                ("center", format!("{},{},{}", c0[0], c0[1], c0[2])),
                ("minzoom", meta.minzoom.to_string()),
                ("maxzoom", meta.maxzoom.to_string()),
                ("attribution", meta.attribution.clone()),
                ("description", format!("{} {empty_note}", meta.description)),
            ];
            let json = match format {
                TileFormat::Pbf { vector_layers } => {
                    Some(serde_json::json!({ "vector_layers": vector_layers }).to_string())
                }
                TileFormat::Png => None,
            };
            for (k, v) in rows.into_iter().chain(json.map(|j| ("json", j))) {
                c.execute(
                    "INSERT INTO metadata (name, value) VALUES (?1, ?2)",
                    params![k, v],
                )
                .map_err(io)?;
            }
            Some((c, t, dst))
        } else {
            None
        };
        let pmtiles = if pmtiles_on {
            let dst = out.join("pmtiles").join(format!("{name}.pmtiles"));
            std::fs::create_dir_all(dst.parent().unwrap_or(out))?;
            let t = tmp(&dst);
            let f = std::io::BufWriter::new(std::fs::File::create(&t)?);
            let c0 = meta.center();
            let mut md = serde_json::json!({
                "name": name, "description": format!("{} {}", meta.description, if vector { "Empty tiles are not stored." } else { "Fully transparent tiles are not stored." }),
                "attribution": meta.attribution, "type": "overlay", "format": format.ext(), "version": env!("CARGO_PKG_VERSION"),
            });
            let w = match format {
                TileFormat::Png => pmtiles::PmTilesWriter::new(pmtiles::TileType::Png),
                TileFormat::Pbf { vector_layers } => {
                    md["vector_layers"] = vector_layers.clone();
                    // the tiles come gzipped (their size is checked gzipped)
                    pmtiles::PmTilesWriter::new(pmtiles::TileType::Mvt)
                        .precompressed(pmtiles::Compression::Gzip)
                }
            };
            let w = w
                .min_zoom(meta.minzoom)
                .max_zoom(meta.maxzoom)
                .bounds(
                    meta.bounds[0],
                    meta.bounds[1],
                    meta.bounds[2],
                    meta.bounds[3],
                )
                .center(c0[0], c0[1])
                .center_zoom(c0[2] as u8)
                .metadata(md.to_string())
                .create(f)
                .map_err(io)?;
            Some((w, t, dst))
        } else {
            None
        };
        Ok(Sinks {
            ext: format.ext(),
            xyz,
            mbtiles,
            pmtiles,
            dirs: Default::default(),
            stored: Default::default(),
            written: 0,
        })
    }

    /// Add one tile (call in increasing PMTiles tile-id order for a clustered archive).
    pub fn add(&mut self, t: Tile, png: &[u8]) -> std::io::Result<()> {
        if let Some((dir, _)) = &self.xyz {
            let d = dir.join(t.z.to_string()).join(t.x.to_string());
            if self.dirs.insert((t.z, t.x)) {
                std::fs::create_dir_all(&d)?;
            }
            std::fs::write(d.join(format!("{}.{}", t.y, self.ext)), png)?;
        }
        if let Some((c, _, _)) = &self.mbtiles {
            let digest = Sha256::digest(png);
            let id = format!("{digest:x}");
            // an image already stored is not offered to SQLite again (areas tiles are
            // mostly repeats: a fifth less writer time there)
            if self.stored.insert(digest.into()) {
                let mut ins = c
                    .prepare_cached("INSERT INTO images (tile_data, tile_id) VALUES (?1, ?2)")
                    .map_err(io)?;
                ins.execute(params![png, id]).map_err(io)?;
            }
            let mut map = c.prepare_cached("INSERT INTO map (zoom_level, tile_column, tile_row, tile_id) VALUES (?1, ?2, ?3, ?4)").map_err(io)?;
            map.execute(params![t.z, t.x, t.tms_y(), id]).map_err(io)?;
        }
        if let Some((w, _, _)) = &mut self.pmtiles {
            let coord = pmtiles::TileCoord::new(t.z, t.x, t.y).map_err(io)?;
            w.add_tile(coord, png).map_err(io)?;
        }
        self.written += 1;
        Ok(())
    }

    /// Finish the archives and move everything into place; returns the final paths and
    /// the replaced XYZ folder, renamed aside, for the caller to delete (a previous
    /// pyramid is tens of thousands of files: deleting it can overlap other work).
    pub fn finish(self) -> std::io::Result<(Vec<PathBuf>, Option<PathBuf>)> {
        let mut done = Vec::new();
        if let Some((c, t, dst)) = self.mbtiles {
            c.execute_batch(
                // indexed once at the end (the writer stores each image once, and sorting
                // once is cheaper than growing the B-trees row by row)
                "CREATE UNIQUE INDEX images_id ON images (tile_id);
                 CREATE UNIQUE INDEX map_index ON map (zoom_level, tile_column, tile_row);
                 COMMIT;",
            )
            .map_err(io)?;
            drop(c);
            // synced before it is renamed into place (SQLite itself runs unsynced here)
            std::fs::File::open(&t)?.sync_all()?;
            std::fs::rename(&t, &dst)?;
            done.push(dst);
        }
        if let Some((w, t, dst)) = self.pmtiles {
            w.finalize().map_err(io)?;
            std::fs::File::open(&t)?.sync_all()?;
            std::fs::rename(&t, &dst)?;
            done.push(dst);
        }
        let mut replaced = None;
        if let Some((t, dst)) = self.xyz {
            let old = dst.with_file_name(format!(
                ".{}.old-{}",
                dst.file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_default(),
                std::process::id()
            ));
            if dst.exists() {
                std::fs::rename(&dst, &old)?;
                replaced = Some(old);
            }
            std::fs::rename(&t, &dst)?;
            done.push(dst);
        }
        Ok((done, replaced))
    }
}

/// TileJSON 3.0 for a layer.
pub fn tilejson(meta: &TileMeta, layer_path: &str, suffix: &str) -> serde_json::Value {
    let url = meta
        .url
        .replace("{layer}", layer_path)
        .replace(".png", &format!("{suffix}.png"));
    serde_json::json!({
        "tilejson": "3.0.0",
        "name": meta.name,
        "description": meta.description,
        "version": env!("CARGO_PKG_VERSION"),
        "attribution": meta.attribution,
        "scheme": "xyz",
        "tiles": [url],
        "minzoom": meta.minzoom,
        "maxzoom": meta.maxzoom,
        "bounds": meta.bounds,
        "center": meta.center(),
    })
}
