//! Tiles for the server: every `output/mbtiles/*.mbtiles` archive is indexed in memory at
//! start-up (z/x/y → one of its distinct images, which the `map`/`images` schema already
//! deduplicates), so a tile request is a hash lookup with no I/O and no lock.

use riskmap_render::tile::Tile;
use rusqlite::{Connection, OpenFlags};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

/// One stored image with its strong ETag.
pub struct Image {
    pub bytes: bytes::Bytes,
    pub etag: String,
}

/// One layer's archive.
#[derive(Clone)]
pub struct Pyramid {
    pub minzoom: u8,
    pub maxzoom: u8,
    /// WGS84 bounds from the metadata.
    pub bounds: [f64; 4],
    pub metadata: BTreeMap<String, String>,
    tiles: HashMap<(u8, u32, u32), u32>,
    images: Vec<Arc<Image>>,
}

impl Pyramid {
    /// Whether the archive holds (gzipped) vector tiles: MBTiles `format=pbf`.
    pub fn is_vector(&self) -> bool {
        self.metadata.get("format").is_some_and(|f| f == "pbf")
    }

    /// A vector archive's `vector_layers` (from the MBTiles `json` row), if any.
    pub fn vector_layers(&self) -> Option<serde_json::Value> {
        self.metadata
            .get("json")
            .and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok())
            .and_then(|j| j.get("vector_layers").cloned())
    }

    /// Open an MBTiles file read-only and index it.
    pub fn open(path: &Path) -> Result<Pyramid, String> {
        let err = |e: rusqlite::Error| format!("{}: {e}", path.display());
        let c = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(err)?;
        let mut metadata = BTreeMap::new();
        let mut st = c.prepare("SELECT name, value FROM metadata").map_err(err)?;
        let rows = st
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(err)?;
        for r in rows {
            let (k, v) = r.map_err(err)?;
            metadata.insert(k, v);
        }
        let num = |k: &str, d: u8| {
            metadata
                .get(k)
                .and_then(|v| v.parse::<u8>().ok())
                .unwrap_or(d)
        };
        let (minzoom, maxzoom) = (num("minzoom", 0), num("maxzoom", 22));
        let bounds = metadata
            .get("bounds")
            .map(|b| {
                b.split(',')
                    .filter_map(|x| x.trim().parse::<f64>().ok())
                    .collect::<Vec<_>>()
            })
            .filter(|b| b.len() == 4)
            .map(|b| [b[0], b[1], b[2], b[3]])
            .unwrap_or([-180.0, -85.05, 180.0, 85.05]);
        let mut ids: HashMap<String, u32> = HashMap::new();
        let mut images = Vec::new();
        let mut st = c
            .prepare("SELECT tile_id, tile_data FROM images ORDER BY tile_id")
            .map_err(err)?;
        let rows = st
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
            })
            .map_err(err)?;
        for r in rows {
            let (id, data) = r.map_err(err)?;
            ids.insert(id.clone(), images.len() as u32);
            images.push(Arc::new(Image {
                bytes: bytes::Bytes::from(data),
                etag: format!("\"{}\"", &id[..id.len().min(32)]),
            }));
        }
        let mut tiles = HashMap::new();
        let mut st = c
            .prepare("SELECT zoom_level, tile_column, tile_row, tile_id FROM map")
            .map_err(err)?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, u8>(0)?,
                    r.get::<_, u32>(1)?,
                    r.get::<_, u32>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .map_err(err)?;
        for r in rows {
            let (z, x, tms_y, id) = r.map_err(err)?;
            if z > 30 {
                continue;
            }
            let y = (1u32 << z).saturating_sub(1).saturating_sub(tms_y);
            if let Some(&k) = ids.get(&id) {
                tiles.insert((z, x, y), k);
            }
        }
        Ok(Pyramid {
            minzoom,
            maxzoom,
            bounds,
            metadata,
            tiles,
            images,
        })
    }

    /// Replace tiles (None: the tile is now empty), as an update patched the archive
    /// (the watcher hands its patches over instead of the server reading the archive
    /// again).
    pub fn patch(&mut self, changed: &[(Tile, Option<Vec<u8>>)]) {
        use sha2::Digest;
        for (t, png) in changed {
            let key = (t.z, t.x, t.y);
            match png {
                Some(png) => {
                    let id = format!("{:x}", sha2::Sha256::digest(png));
                    self.tiles.insert(key, self.images.len() as u32);
                    self.images.push(Arc::new(Image {
                        bytes: bytes::Bytes::from(png.clone()),
                        etag: format!("\"{}\"", &id[..32]),
                    }));
                }
                None => {
                    self.tiles.remove(&key);
                }
            }
        }
        // images no tile points at any more, dropped once they are many
        if self.images.len() > 2 * self.tiles.len() + 1024 {
            let mut keep: HashMap<u32, u32> = HashMap::new();
            let mut images = Vec::new();
            for k in self.tiles.values_mut() {
                *k = *keep.entry(*k).or_insert_with(|| {
                    images.push(self.images[*k as usize].clone());
                    images.len() as u32 - 1
                });
            }
            self.images = images;
        }
    }

    pub fn get(&self, t: Tile) -> Option<Arc<Image>> {
        self.tiles
            .get(&(t.z, t.x, t.y))
            .map(|&k| self.images[k as usize].clone())
    }

    pub fn len(&self) -> usize {
        self.tiles.len()
    }

    /// Every tile held, with its image.
    pub fn tiles(&self) -> impl Iterator<Item = (Tile, &Arc<Image>)> {
        self.tiles
            .iter()
            .map(|(&(z, x, y), &k)| (Tile::new(x, y, z), &self.images[k as usize]))
    }

    pub fn is_empty(&self) -> bool {
        self.tiles.is_empty()
    }

    /// Whether a tile is inside the zoom range and touches the bounds (padded by 0.02°,
    /// which covers the GCJ-02 shift of the `_gcj02` pyramids).
    pub fn covers(&self, t: Tile) -> bool {
        if t.z < self.minzoom || t.z > self.maxzoom {
            return false;
        }
        let b = t.bounds();
        let p = 0.02;
        b[0] <= self.bounds[2] + p
            && b[2] >= self.bounds[0] - p
            && b[1] <= self.bounds[3] + p
            && b[3] >= self.bounds[1] - p
    }
}

/// Every archive under `dir` (`{layer}.mbtiles`, `{layer}@2x.mbtiles`), by file stem.
pub fn open_all(dir: &Path) -> Result<BTreeMap<String, Pyramid>, String> {
    let mut out = BTreeMap::new();
    let rd = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut paths: Vec<_> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "mbtiles"))
        .collect();
    paths.sort();
    for p in paths {
        let Some(stem) = p.file_stem().map(|s| s.to_string_lossy().to_string()) else {
            continue;
        };
        out.insert(stem, Pyramid::open(&p)?);
    }
    Ok(out)
}

/// A fully transparent palette PNG of `size` px: the answer for an empty tile.
pub fn transparent_png(size: u32) -> Vec<u8> {
    riskmap_render::png::encode_indexed(
        size,
        size,
        &vec![0u8; (size * size) as usize],
        &[[0, 0, 0, 0]],
    )
    .unwrap_or_default()
}
