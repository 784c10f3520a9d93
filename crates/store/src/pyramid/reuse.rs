//! Incremental pyramids: tiles a change does not touch are the previous generation's
//! bytes, read back from its MBTiles archive (or XYZ folder); only touched tiles are
//! drawn. The candidate tiles are found exactly as a full run finds them, so the new
//! archive holds the same tiles as a full run's would (tests/live.rs compares them).

use riskmap_render::footprint::Footprint;
use riskmap_render::tile::Tile;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};

/// An incremental run: the previous generation's folder and what changed since.
pub struct Reuse<'a> {
    pub prev: &'a Path,
    pub footprint: &'a Footprint,
}

/// The previous generation's tiles of one pyramid.
pub(crate) enum PrevTiles {
    /// The MBTiles archive read whole, in two sequential scans: each tile's image by
    /// (z, x, TMS y), each distinct image once (a query per tile cost ~30 µs, seconds
    /// for a pyramid of 50,000 tiles; the scans a tenth of that).
    MbTiles {
        at: std::collections::HashMap<(u8, u32, u32), u32>,
        images: Vec<Vec<u8>>,
    },
    Xyz(PathBuf),
}

/// The zoom range an MBTiles archive's metadata says it holds.
pub(crate) fn zooms_in(c: &Connection) -> Option<[u8; 2]> {
    let get = |k: &str| -> Option<u8> {
        c.query_row("SELECT value FROM metadata WHERE name = ?1", [k], |r| {
            r.get::<_, String>(0)
        })
        .ok()?
        .parse()
        .ok()
    };
    Some([get("minzoom")?, get("maxzoom")?])
}

/// Read an MBTiles archive of riskmap's schema (`map` + `images`) whole.
fn preload(c: &Connection) -> rusqlite::Result<PrevTiles> {
    let mut index: std::collections::HashMap<String, u32> = Default::default();
    let mut images = Vec::new();
    let mut q = c.prepare("SELECT tile_id, tile_data FROM images")?;
    let mut rows = q.query([])?;
    while let Some(r) = rows.next()? {
        index.insert(r.get(0)?, images.len() as u32);
        images.push(r.get(1)?);
    }
    let mut at = std::collections::HashMap::new();
    let mut q = c.prepare("SELECT zoom_level, tile_column, tile_row, tile_id FROM map")?;
    let mut rows = q.query([])?;
    while let Some(r) = rows.next()? {
        let id: String = r.get(3)?;
        if let Some(&k) = index.get(&id) {
            at.insert((r.get(0)?, r.get(1)?, r.get(2)?), k);
        }
    }
    Ok(PrevTiles::MbTiles { at, images })
}

impl PrevTiles {
    /// The previous archive of `name` (`surface`, `points_gcj02@2x`…), if it has one
    /// riskmap can read tile by tile and it holds the same zooms (`riskmap tiles --zoom`
    /// may have written others than the config's).
    pub(crate) fn open(prev: &Path, name: &str, zooms: [u8; 2]) -> Option<PrevTiles> {
        let same =
            |min: Option<u8>, max: Option<u8>| (min, max) == (Some(zooms[0]), Some(zooms[1]));
        let mb = prev.join("mbtiles").join(format!("{name}.mbtiles"));
        if mb.is_file() {
            let c = Connection::open_with_flags(
                &mb,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .ok()?;
            if zooms_in(&c) != Some(zooms) {
                return None;
            }
            return preload(&c).ok();
        }
        let xyz = prev.join("tiles").join(name);
        let tj: serde_json::Value = serde_json::from_slice(
            &std::fs::read(prev.join("tilejson").join(format!("{name}.json"))).ok()?,
        )
        .ok()?;
        let z = |k: &str| tj[k].as_u64().and_then(|v| u8::try_from(v).ok());
        (xyz.is_dir() && same(z("minzoom"), z("maxzoom"))).then_some(PrevTiles::Xyz(xyz))
    }

    /// The previous bytes of tile `t` (None: it was empty, so not stored).
    pub(crate) fn get(&self, t: Tile) -> std::io::Result<Option<Vec<u8>>> {
        match self {
            PrevTiles::MbTiles { at, images } => Ok(at
                .get(&(t.z, t.x, t.tms_y()))
                .map(|&k| images[k as usize].clone())),
            PrevTiles::Xyz(dir) => {
                let p = dir
                    .join(t.z.to_string())
                    .join(t.x.to_string())
                    .join(format!("{}.png", t.y));
                match std::fs::read(p) {
                    Ok(b) => Ok(Some(b)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(e),
                }
            }
        }
    }
}
