//! Incremental pyramids by patching (`riskmap update`, `serve --watch`): an update that
//! touches a few places draws only the tiles around them — found from the footprint's
//! boxes zoom by zoom, not by walking every candidate tile of the pyramid — copies the
//! previous generation's MBTiles and replaces those tiles in it in one transaction, and
//! writes the PMTiles archive from the patched set (in tile-id order, as a full run
//! does, so its bytes are a full run's).
//!
//! The surface's lower zooms are derived bottom-up from the samples of a higher zoom
//! (`DeriveUp`): a touched low-zoom tile needs its four children's samples, and theirs
//! theirs. [`SampleCache`] keeps the samples between updates (the watcher holds it), so
//! only the touched subtrees are sampled again; without it (a fresh `riskmap update`)
//! the subtrees under touched tiles are sampled whole, as a full run does.
//!
//! Where a patch cannot be exact the caller falls back to the full candidate walk
//! (`run_reusing`): a whole layer changed, a layer's extent moved (the first zoom's
//! candidates are taken from it), the zoom the surface is derived from moved, the
//! previous generation has no MBTiles of the same zooms to start from.

use super::{derive_from, layers as layers_of, meta_of, padded, tile_id, Reuse, TilesOptions};
use super::{TilesParams, TilesReport};
use crate::tiles::Sinks;
use rayon::prelude::*;
use riskmap_analyze::Analysis;
use riskmap_core::crs::Crs;
use riskmap_core::dataset::Dataset;
use riskmap_core::Error;
use riskmap_render::raster::ParentSamples;
use riskmap_render::tile::{tiles_in, Tile};
use riskmap_render::{Layer, Renderer};
use rusqlite::{params, Connection, OpenFlags};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::time::Instant;

/// Where a sample set belongs: the CRS and tile size of the pyramid, the tile.
type Key = (Crs, u32, Tile);

/// The surface samples each tile hands its parent (`ParentSamples`), kept from the
/// previous generation: only the samples of tiles a change touches are drawn again.
#[derive(Default)]
pub struct SampleCache {
    map: HashMap<Key, ParentSamples>,
}

impl SampleCache {
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Take a successful update's samples in (the cache then describes its generation).
    pub fn merge(&mut self, new: Vec<(Key, ParentSamples)>) {
        self.map.extend(new);
    }
}

/// The tiles of one archive an update replaced (None: the tile is now empty).
pub struct PyramidPatch {
    /// The archive's stem (`surface_gcj02@2x`).
    pub name: String,
    pub changed: Vec<(Tile, Option<Vec<u8>>)>,
}

/// The touched tiles of a run, drawn and not yet written ([`draw`], then
/// [`Drawn::write`] into the staging folder): the report, the tiles per archive (for a
/// server that holds the archives in memory), and the samples drawn (for the cache,
/// once the generation is committed).
pub struct Drawn {
    pub report: TilesReport,
    pub pyramids: Vec<PyramidPatch>,
    pub samples: Vec<(Key, ParentSamples)>,
    plans: Vec<Plan>,
    metas: Vec<crate::tiles::TileMeta>,
    /// XYZ and PMTiles written beside the MBTiles.
    formats: (bool, bool),
}

/// One archive to patch.
struct Plan {
    layer: Layer,
    crs: Crs,
    size: u32,
    /// `surface_gcj02` (no size suffix).
    path_name: String,
    suffix: &'static str,
    /// The zoom the surface is derived from (surface and composite only).
    zr: Option<u8>,
    /// The touched tiles, in tile-id order.
    tiles: Vec<Tile>,
}

/// The zoom range an MBTiles archive says it holds.
fn zooms_of(mb: &Path) -> Option<[u8; 2]> {
    let c = Connection::open_with_flags(mb, OpenFlags::SQLITE_OPEN_READ_ONLY).ok()?;
    super::reuse::zooms_in(&c)
}

/// The samples of tile `t` drawn by this run, else kept from the previous one; a tile
/// with neither hands up nothing.
fn samples_of(
    new: &HashMap<Key, ParentSamples>,
    cache: Option<&SampleCache>,
    k: Key,
) -> ParentSamples {
    new.get(&k)
        .or_else(|| cache.and_then(|c| c.map.get(&k)))
        .cloned()
        .unwrap_or(ParentSamples::Uniform(0))
}

fn io_err(p: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: p.to_path_buf(),
        source,
    }
}

fn sql_err(p: &Path) -> impl Fn(rusqlite::Error) -> Error + '_ {
    move |e| Error::Input(format!("{}: {e}", p.display()))
}

/// Whether a tile is one of the candidates a full run draws for `layer`: inside the
/// layer's padded extent at the first zoom, and every ancestor (and itself) may draw it.
struct Candidates<'r> {
    renderer: &'r Renderer<'r>,
    layer: Layer,
    crs: Crs,
    size: u32,
    z0: u8,
    first: HashSet<Tile>,
    memo: HashMap<Tile, bool>,
}

impl<'r> Candidates<'r> {
    fn new(renderer: &'r Renderer<'r>, layer: Layer, crs: Crs, size: u32, z0: u8) -> Self {
        let first = renderer
            .content_bbox(layer)
            .map(|b| tiles_in(padded(b, crs), z0).collect())
            .unwrap_or_default();
        Candidates {
            renderer,
            layer,
            crs,
            size,
            z0,
            first,
            memo: HashMap::new(),
        }
    }

    fn is(&mut self, t: Tile) -> bool {
        if let Some(&b) = self.memo.get(&t) {
            return b;
        }
        let up = if t.z <= self.z0 {
            t.z == self.z0 && self.first.contains(&t)
        } else {
            match t.parent() {
                Some(p) => self.is(p),
                None => false,
            }
        };
        let b = up && self.renderer.may_draw(self.layer, t, self.crs, self.size);
        self.memo.insert(t, b);
        b
    }
}

/// The tiles of `layer` at zooms z0..=z1 within a few pixels of the footprint's boxes
/// (exactly those `Renderer::touched` says), in tile-id order; None when the footprint
/// has no boxes for it (the whole layer changed).
fn touched_tiles(
    renderer: &Renderer,
    reuse: &Reuse,
    layer: Layer,
    crs: Crs,
    size: u32,
    [z0, z1]: [u8; 2],
) -> Option<Vec<Tile>> {
    let boxes = reuse.footprint.boxes(layer)?;
    let mut out = Vec::new();
    for z in z0..=z1 {
        // 64 pixels of this zoom (in longitude degrees, larger than latitude's here)
        // around each box, and the GCJ-02 shift: a superset, filtered exactly below
        let px = 360.0 / (1u64 << z) as f64 / size as f64;
        let pad = 64.0 * px + if crs == Crs::Wgs84 { 0.0 } else { 0.012 };
        let mut set: HashSet<Tile> = HashSet::new();
        for b in &boxes {
            let b = [b[0] - pad, b[1] - pad, b[2] + pad, b[3] + pad];
            set.extend(tiles_in(b, z));
        }
        let mut zs: Vec<Tile> = set
            .into_par_iter()
            .filter(|&t| renderer.touched(reuse.footprint, layer, t, crs, size))
            .collect();
        zs.sort_by_key(tile_id);
        out.extend(zs);
    }
    Some(out)
}

/// Draw every touched tile of this run; None when a patch cannot be exact (see the
/// module).
pub fn draw(
    ds: &Dataset,
    an: &Analysis,
    old: &Renderer,
    params: &TilesParams,
    opts: &TilesOptions,
    reuse: &Reuse,
    cache: Option<&SampleCache>,
) -> Result<Option<Drawn>, Error> {
    let t0 = Instant::now();
    let debug = std::env::var_os("RISKMAP_DEBUG").is_some();
    if reuse.footprint.all {
        return Ok(None);
    }
    let cfg = &params.tiles;
    let (xyz, mbtiles, pmtiles) = cfg.outputs();
    if !mbtiles {
        return Ok(None);
    }
    let zooms = opts.zoom.unwrap_or(cfg.zoom);
    let layers = layers_of(cfg, opts);
    let renderer = Renderer::new(ds, an, &ds.style);
    let crss = super::crss(params);
    let sizes: &[(u32, &str)] = if cfg.retina {
        &[(256, ""), (512, "@2x")]
    } else {
        &[(256, "")]
    };
    // what to patch, checked whole before anything is written
    let mut plans = Vec::new();
    for &crs in &crss {
        for &(size, suffix) in sizes {
            for &layer in &layers {
                if reuse.footprint.is_clean(layer) {
                    continue; // carried as it is
                }
                let path_name = if crs == Crs::Wgs84 {
                    layer.name().to_string()
                } else {
                    format!("{}_{crs}", layer.name())
                };
                let mb = reuse
                    .prev
                    .join("mbtiles")
                    .join(format!("{path_name}{suffix}.mbtiles"));
                if zooms_of(&mb) != Some(zooms) {
                    return Ok(None);
                }
                if renderer.content_bbox(layer) != old.content_bbox(layer) {
                    return Ok(None);
                }
                let zr = if matches!(layer, Layer::Surface | Layer::Composite) {
                    let new = derive_from(&renderer, &[layer], crs, size, zooms);
                    if new != derive_from(old, &[layer], crs, size, zooms) {
                        return Ok(None);
                    }
                    new
                } else {
                    None
                };
                let Some(tiles) = touched_tiles(&renderer, reuse, layer, crs, size, zooms) else {
                    return Ok(None);
                };
                plans.push(Plan {
                    layer,
                    crs,
                    size,
                    path_name,
                    suffix,
                    zr,
                    tiles,
                });
            }
        }
    }
    if debug {
        eprintln!(
            "tiles: patch planned in {:.2} s: {}",
            t0.elapsed().as_secs_f64(),
            plans
                .iter()
                .map(|p| format!("{}{} {}", p.path_name, p.suffix, p.tiles.len()))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let mut report = TilesReport::default();
    let mut pyramids = Vec::new();
    let mut new_samples: HashMap<Key, ParentSamples> = HashMap::new();
    // the surface layers of the run: their candidates decide which tiles hand samples up
    let derive_layers: Vec<Layer> = layers
        .iter()
        .copied()
        .filter(|l| matches!(l, Layer::Surface | Layer::Composite))
        .collect();
    for plan in &plans {
        let pt = Instant::now();
        let Plan {
            layer,
            crs,
            size,
            zr,
            ..
        } = *plan;
        let mut cands = Candidates::new(&renderer, layer, crs, size, zooms[0]);
        let is_cand: Vec<bool> = plan.tiles.iter().map(|&t| cands.is(t)).collect();
        // the samples the touched derived tiles are drawn from
        if let Some(zr) = zr {
            let mut any: Vec<Candidates> = derive_layers
                .iter()
                .map(|&l| Candidates::new(&renderer, l, crs, size, zooms[0]))
                .collect();
            let roots: Vec<Tile> = plan
                .tiles
                .iter()
                .zip(&is_cand)
                .filter(|(t, &c)| c && t.z < zr)
                .map(|(t, _)| *t)
                .collect();
            samples_for(
                &renderer,
                reuse,
                (crs, size, zooms[0], zr),
                &roots,
                &mut any,
                cache,
                &mut new_samples,
            );
        }
        let got = |t: Tile| samples_of(&new_samples, cache, (crs, size, t));
        let drawn: Vec<Result<Option<Vec<u8>>, Error>> = plan
            .tiles
            .par_iter()
            .zip(&is_cand)
            .map(|(&t, &c)| {
                if !c {
                    return Ok(None);
                }
                let st = match zr {
                    Some(zr) if t.z == zr => Some(renderer.surface_shared(t, size, crs).0),
                    Some(zr) if t.z < zr => {
                        let k = t.children().map(got);
                        Some(
                            renderer
                                .surface_derived(t, size, [&k[0], &k[1], &k[2], &k[3]])
                                .0,
                        )
                    }
                    _ => None,
                };
                let r = renderer.render_pass(&[layer], 1, t, size, crs, st);
                match r.into_iter().next().flatten() {
                    Some((Ok(png), _)) => Ok(png),
                    Some((Err(e), _)) => Err(Error::Input(format!(
                        "encoding {} tile {}/{}/{}: {e}",
                        plan.path_name, t.z, t.x, t.y
                    ))),
                    None => Ok(None),
                }
            })
            .collect();
        let mut changed = Vec::with_capacity(drawn.len());
        for (t, d) in plan.tiles.iter().zip(drawn) {
            changed.push((*t, d?));
        }
        let name = format!("{}{}", plan.path_name, plan.suffix);
        let secs = pt.elapsed().as_secs_f64();
        if debug {
            eprintln!(
                "tiles: {name}: {} tiles drawn in {secs:.2} s",
                changed.len()
            );
        }
        report.pyramids.push((
            name.clone(),
            changed.len() as u64,
            changed.len() as u64,
            secs,
        ));
        pyramids.push(PyramidPatch { name, changed });
    }
    report.seconds = t0.elapsed().as_secs_f64();
    let metas = plans
        .iter()
        .map(|p| meta_of(ds, cfg, p.layer, p.crs, zooms))
        .collect();
    Ok(Some(Drawn {
        report,
        pyramids,
        samples: new_samples.into_iter().collect(),
        plans,
        metas,
        formats: (xyz, pmtiles),
    }))
}

impl Drawn {
    /// Write the patched archives into the staging folder `out` (the previous
    /// generation's, in `prev`, are carried there as hard links and replaced here by
    /// patched copies), side by side: copying, patching and syncing them is mostly
    /// waiting on the disk. Returns the archives written.
    pub fn write(&self, prev: &Path, out: &Path) -> Result<Vec<std::path::PathBuf>, Error> {
        let wt = Instant::now();
        let written: Vec<Result<Vec<std::path::PathBuf>, Error>> = std::thread::scope(|s| {
            let jobs: Vec<_> = self
                .plans
                .iter()
                .zip(&self.pyramids)
                .zip(&self.metas)
                .map(|((plan, p), meta)| {
                    s.spawn(move || write_patch(prev, out, plan, &p.changed, self.formats, meta))
                })
                .collect();
            jobs.into_iter()
                .map(|j| {
                    j.join()
                        .unwrap_or_else(|_| Err(Error::Input("tile writer thread panicked".into())))
                })
                .collect()
        });
        let mut all = Vec::new();
        for w in written {
            all.extend(w?);
        }
        if std::env::var_os("RISKMAP_DEBUG").is_some() {
            eprintln!(
                "tiles: patched archives written in {:.2} s",
                wt.elapsed().as_secs_f64()
            );
        }
        Ok(all)
    }
}

/// Draw the samples the derived tiles `roots` (zooms below zr) need from their
/// children, down the subtrees as far as the cache cannot answer: zr's tiles drawn,
/// the zooms above derived, each zoom in parallel, into `new`.
fn samples_for(
    renderer: &Renderer,
    reuse: &Reuse,
    (crs, size, z0, zr): (Crs, u32, u8, u8),
    roots: &[Tile],
    any: &mut [Candidates],
    cache: Option<&SampleCache>,
    new: &mut HashMap<Key, ParentSamples>,
) {
    // top-down: which tiles' samples are needed and missing
    let mut need: BTreeSet<Tile> = roots.iter().flat_map(|t| t.children()).collect();
    let mut todo: Vec<Vec<Tile>> = vec![Vec::new(); (zr - z0) as usize + 1];
    while !need.is_empty() {
        let mut next = BTreeSet::new();
        for t in need {
            let k = (crs, size, t);
            if new.contains_key(&k) {
                continue;
            }
            if !any.iter_mut().any(|c| c.is(t)) {
                continue; // no candidate: it hands up nothing (Uniform(0))
            }
            let cached = cache.is_some_and(|c| c.map.contains_key(&k));
            if cached && !renderer.touched(reuse.footprint, Layer::Surface, t, crs, size) {
                continue;
            }
            todo[(t.z - z0) as usize].push(t);
            if t.z < zr {
                next.extend(t.children());
            }
        }
        need = next;
    }
    // bottom-up: zr's samples drawn, each zoom above derived from its children's
    for zi in (0..todo.len()).rev() {
        let level = std::mem::take(&mut todo[zi]);
        if level.is_empty() {
            continue;
        }
        let got = |t: Tile| samples_of(new, cache, (crs, size, t));
        let done: Vec<(Tile, ParentSamples)> = level
            .par_iter()
            .map(|&t| {
                let ps = if t.z == zr {
                    renderer.surface_shared(t, size, crs).1
                } else {
                    let k = t.children().map(|c| {
                        // a child that is no candidate hands up nothing
                        got(c)
                    });
                    renderer
                        .surface_derived(t, size, [&k[0], &k[1], &k[2], &k[3]])
                        .1
                };
                (t, ps)
            })
            .collect();
        for (t, ps) in done {
            new.insert((crs, size, t), ps);
        }
    }
}

/// Write one archive's patch into the staging folder `out`: the previous MBTiles copied
/// and the tiles replaced in one transaction (orphaned images dropped), the PMTiles
/// archive rewritten from it, the XYZ folder's changed files replaced (the carried
/// links broken by a rename, so the previous generation keeps its files). Returns the
/// archives written.
fn write_patch(
    prev: &Path,
    out: &Path,
    plan: &Plan,
    changed: &[(Tile, Option<Vec<u8>>)],
    (xyz, pmtiles): (bool, bool),
    meta: &crate::tiles::TileMeta,
) -> Result<Vec<std::path::PathBuf>, Error> {
    let name = format!("{}{}", plan.path_name, plan.suffix);
    let debug = std::env::var_os("RISKMAP_DEBUG").is_some();
    let clock = Instant::now();
    let lap = |what: &str| {
        if debug {
            eprintln!(
                "tiles: {name}: {what} at {:.2} s",
                clock.elapsed().as_secs_f64()
            );
        }
    };
    let mut written = Vec::new();
    let src = prev.join("mbtiles").join(format!("{name}.mbtiles"));
    let dst = out.join("mbtiles").join(format!("{name}.mbtiles"));
    let tmp = crate::atomic::temp_path(&dst);
    std::fs::create_dir_all(out.join("mbtiles")).map_err(io_err(out))?;
    std::fs::copy(&src, &tmp).map_err(io_err(&src))?;
    lap("MBTiles copied");
    {
        let c = Connection::open(&tmp).map_err(sql_err(&tmp))?;
        c.execute_batch("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; BEGIN;")
            .map_err(sql_err(&tmp))?;
        {
            let mut del = c
                .prepare(
                    "DELETE FROM map WHERE zoom_level = ?1 AND tile_column = ?2 AND tile_row = ?3",
                )
                .map_err(sql_err(&tmp))?;
            let mut img = c
                .prepare(
                    "INSERT INTO images (tile_data, tile_id) SELECT ?1, ?2
                     WHERE NOT EXISTS (SELECT 1 FROM images WHERE tile_id = ?2)",
                )
                .map_err(sql_err(&tmp))?;
            let mut map = c
                .prepare(
                    "INSERT INTO map (zoom_level, tile_column, tile_row, tile_id) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(sql_err(&tmp))?;
            for (t, png) in changed {
                del.execute(params![t.z, t.x, t.tms_y()])
                    .map_err(sql_err(&tmp))?;
                if let Some(png) = png {
                    let id = format!("{:x}", Sha256::digest(png));
                    img.execute(params![png, id]).map_err(sql_err(&tmp))?;
                    map.execute(params![t.z, t.x, t.tms_y(), id])
                        .map_err(sql_err(&tmp))?;
                }
            }
        }
        c.execute_batch(
            "DELETE FROM images WHERE tile_id NOT IN (SELECT tile_id FROM map); COMMIT;",
        )
        .map_err(sql_err(&tmp))?;
    }
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(io_err(&tmp))?;
    std::fs::rename(&tmp, &dst).map_err(io_err(&dst))?;
    written.push(dst.clone());
    lap("MBTiles patched");
    if pmtiles {
        // every tile of the patched archive in tile-id order, as a full run adds them
        let c = Connection::open_with_flags(&dst, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(sql_err(&dst))?;
        let mut images: HashMap<String, Vec<u8>> = HashMap::new();
        let mut q = c
            .prepare("SELECT tile_id, tile_data FROM images")
            .map_err(sql_err(&dst))?;
        let mut rows = q.query([]).map_err(sql_err(&dst))?;
        while let Some(r) = rows.next().map_err(sql_err(&dst))? {
            images.insert(
                r.get(0).map_err(sql_err(&dst))?,
                r.get(1).map_err(sql_err(&dst))?,
            );
        }
        let mut at: Vec<(u64, Tile, String)> = Vec::new();
        let mut q = c
            .prepare("SELECT zoom_level, tile_column, tile_row, tile_id FROM map")
            .map_err(sql_err(&dst))?;
        let mut rows = q.query([]).map_err(sql_err(&dst))?;
        while let Some(r) = rows.next().map_err(sql_err(&dst))? {
            let z: u8 = r.get(0).map_err(sql_err(&dst))?;
            let x: u32 = r.get(1).map_err(sql_err(&dst))?;
            let tms: u32 = r.get(2).map_err(sql_err(&dst))?;
            let t = Tile::new(x, (1u32 << z) - 1 - tms, z);
            at.push((tile_id(&t), t, r.get(3).map_err(sql_err(&dst))?));
        }
        at.sort_by_key(|a| a.0);
        lap("MBTiles read");
        let mut sinks = Sinks::open(
            out,
            &plan.path_name,
            plan.suffix,
            meta,
            false,
            false,
            true,
            &crate::tiles::TileFormat::Png,
        )
        .map_err(io_err(out))?;
        for (_, t, id) in &at {
            if let Some(png) = images.get(id) {
                sinks.add(*t, png).map_err(io_err(out))?;
            }
        }
        let (done, _) = sinks.finish().map_err(io_err(out))?;
        written.extend(done);
        lap("PMTiles written");
    }
    if xyz {
        let dir = out.join("tiles").join(&name);
        for (t, png) in changed {
            let d = dir.join(t.z.to_string()).join(t.x.to_string());
            let p = d.join(format!("{}.png", t.y));
            match png {
                Some(png) => {
                    std::fs::create_dir_all(&d).map_err(io_err(&d))?;
                    let tmp = crate::atomic::temp_path(&p);
                    std::fs::write(&tmp, png).map_err(io_err(&tmp))?;
                    std::fs::rename(&tmp, &p).map_err(io_err(&p))?;
                }
                None => match std::fs::remove_file(&p) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io_err(&p)(e)),
                },
            }
        }
    }
    Ok(written)
}
