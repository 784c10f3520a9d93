//! The tiles stage (`riskmap tiles`, and `build` with `[tiles] enabled`): every layer,
//! zoom by zoom, rendered in parallel batches and streamed into the XYZ directory, MBTiles
//! and PMTiles, so the pyramid is never held in memory. A zoom considers only the children
//! of tiles that may have content at the zoom above; transparent tiles are not written.
//! The surface (and the composite over it) draws its lower zooms from the samples of the
//! zoom below them (`DeriveUp`): up to the highest zoom with at most `DERIVE_CAP`
//! candidates, bottom-up, those zooms' tiles held until they are written in zoom order.

mod config;
mod patch;
mod progress;
mod reuse;

pub use config::{TilesConfig, TilesParams, TILE_FORMATS};
pub use patch::{draw, Drawn, PyramidPatch, SampleCache};
use progress::Progress;
use reuse::PrevTiles;
pub use reuse::Reuse;

use crate::tiles::{tilejson, Sinks, TileMeta};
use rayon::prelude::*;
use riskmap_analyze::Analysis;
use riskmap_core::crs::Crs;
use riskmap_core::dataset::Dataset;
use riskmap_core::Error;
use riskmap_render::raster::ParentSamples;
use riskmap_render::tile::{tiles_in, Tile};
use riskmap_render::{Layer, Renderer};
use std::path::PathBuf;
use std::time::Instant;

/// Options beyond `[tiles]`.
#[derive(Debug, Clone, Default)]
pub struct TilesOptions {
    pub zoom: Option<[u8; 2]>,
    pub layers: Option<Vec<Layer>>,
    pub quiet: bool,
}

/// What was rendered.
#[derive(Debug, Clone, Default)]
pub struct TilesReport {
    /// (pyramid name, tiles written, tiles considered, seconds). Pyramids rendered in one
    /// pass share its wall time in proportion to what each used.
    pub pyramids: Vec<(String, u64, u64, f64)>,
    /// The passes that rendered several pyramids at once ("surface+composite"), with their
    /// pyramids' tiles written and considered summed and the pass's wall time.
    pub shared: Vec<(String, u64, u64, f64)>,
    pub outputs: Vec<PathBuf>,
    pub seconds: f64,
}

impl TilesReport {
    pub fn written(&self) -> u64 {
        self.pyramids.iter().map(|p| p.1).sum()
    }
}

const BATCH: usize = 2048;

/// The most tiles (of 256 px; a quarter as many of 512 px) over the surface's content at
/// the zoom its lower zooms are derived from: that zoom's tiles are held until those are
/// written.
const DERIVE_CAP: usize = 8192;

/// A layer's content bbox padded for a CRS whose tiles shift it (GCJ-02 moves places by
/// up to ~700 m).
fn padded(b: [f64; 4], crs: Crs) -> [f64; 4] {
    let pad = if crs == Crs::Wgs84 { 0.0 } else { 0.012 };
    [b[0] - pad, b[1] - pad, b[2] + pad, b[3] + pad]
}

/// The zoom whose surface samples a pass's lower zooms are derived from: the highest of
/// the range above its first zoom where the surface has at most DERIVE_CAP candidate
/// tiles (the surface's own pruning, whatever else the pass draws), so every pass that
/// draws the surface (alone, as the composite's base, or both) derives the same tiles
/// from the same samples.
fn derive_from(
    renderer: &Renderer,
    layers: &[Layer],
    crs: Crs,
    size: u32,
    [z0, z1]: [u8; 2],
) -> Option<u8> {
    if !renderer.derives_surface(layers) {
        return None;
    }
    let cap = DERIVE_CAP * (256 * 256) / (size as usize * size as usize);
    let b = padded(renderer.content_bbox(Layer::Surface)?, crs);
    let may = |t: &Tile| renderer.may_draw(Layer::Surface, *t, crs, size);
    let mut level: Vec<Tile> = tiles_in(b, z0)
        .collect::<Vec<_>>()
        .into_par_iter()
        .filter(may)
        .collect();
    let mut found = None;
    for z in z0 + 1..=z1 {
        level = level
            .par_iter()
            .flat_map_iter(Tile::children)
            .filter(may)
            .collect();
        if level.len() > cap {
            break;
        }
        found = Some(z);
    }
    found
}

/// A tile's layers' outputs from `Renderer::render_pass`.
type Outputs = Vec<
    Option<(
        Result<riskmap_render::Rendered, ::png::EncodingError>,
        std::time::Duration,
    )>,
>;

/// A batch for the writer: (slot, tile, PNG).
type Batch = Vec<(usize, Tile, Vec<u8>)>;

/// The zooms z0..=zr of a surface pass drawn bottom-up: zoom zr's tiles are drawn (in
/// tile-id order), and a tile of a zoom above from its four children's samples as soon
/// as the last of them is done (a parent's children are consecutive in tile-id order).
/// Every tile's outputs are held, zoom by zoom, for writing in zoom order.
struct DeriveUp<'l> {
    levels: &'l [Vec<(Tile, u8)>],
    /// Per zoom: the candidates done.
    cursor: Vec<usize>,
    /// Per zoom: the samples of done tiles whose parent is not done yet, in order.
    pending: Vec<std::collections::VecDeque<(Tile, ParentSamples)>>,
    /// Per zoom: done tiles' outputs and the layers to take from the previous
    /// generation, in order.
    held: Vec<Vec<(Tile, u8, Outputs)>>,
}

impl<'l> DeriveUp<'l> {
    fn new(levels: &'l [Vec<(Tile, u8)>]) -> DeriveUp<'l> {
        DeriveUp {
            levels,
            cursor: vec![0; levels.len()],
            pending: vec![Default::default(); levels.len()],
            held: levels.iter().map(|_| Vec::new()).collect(),
        }
    }

    /// Tile t of zoom index li (the next candidate there) is done.
    fn done(&mut self, li: usize, t: Tile, kept: u8, out: Outputs, ps: ParentSamples) {
        debug_assert_eq!(self.levels[li][self.cursor[li]].0, t);
        self.cursor[li] += 1;
        self.held[li].push((t, kept, out));
        if li > 0 {
            self.pending[li].push_back((t, ps));
        }
    }

    /// Derive every tile whose children are all done, zoom by zoom upwards, in parallel
    /// within a zoom; the seconds spent deriving the surface.
    fn derive_ready(
        &mut self,
        renderer: &Renderer,
        layers: &[Layer],
        size: u32,
        crs: Crs,
        draw: &(dyn Fn(Tile, u8) -> u8 + Sync),
    ) -> f64 {
        let mut busy = 0.0;
        for li in (1..self.levels.len()).rev() {
            let kids = &self.levels[li];
            // the parent of the next child to do is not ready, nor any after it
            let waiting = kids.get(self.cursor[li]).and_then(|c| c.0.parent());
            let parents = &self.levels[li - 1];
            let mut jobs = Vec::new();
            let mut j = self.cursor[li - 1];
            while j < parents.len() && Some(parents[j].0) != waiting {
                let (p, mask) = parents[j];
                // a child that is no candidate draws nothing
                let mut samples: [ParentSamples; 4] =
                    std::array::from_fn(|_| ParentSamples::Uniform(0));
                let kids = p.children();
                while let Some((c, _)) = self.pending[li].front() {
                    let Some(i) = kids.iter().position(|k| k == c) else {
                        break;
                    };
                    samples[i] = self.pending[li].pop_front().expect("front exists").1;
                }
                jobs.push((p, mask, samples));
                j += 1;
            }
            if jobs.is_empty() {
                continue;
            }
            let out: Vec<_> = jobs
                .par_iter()
                .map(|(p, mask, k)| {
                    let t0 = Instant::now();
                    let (st, ps) = renderer.surface_derived(*p, size, [&k[0], &k[1], &k[2], &k[3]]);
                    let drew = t0.elapsed().as_secs_f64();
                    let d = draw(*p, *mask);
                    let out = renderer.render_pass(layers, d, *p, size, crs, Some(st));
                    (out, ps, drew, *mask & !d)
                })
                .collect();
            for ((p, _, _), (o, ps, drew, kept)) in jobs.iter().zip(out) {
                busy += drew;
                self.done(li - 1, *p, kept, o, ps);
            }
        }
        busy
    }
}

fn tile_id(t: &Tile) -> u64 {
    pmtiles::TileCoord::new(t.z, t.x, t.y)
        .map(|c| pmtiles::TileId::from(c).value())
        .unwrap_or(u64::MAX)
}

/// The analysis stages tiles of `layers` are drawn from: the surface for the surface
/// and composite layers, the grid and district statistics for theirs; points need none.
pub fn needs(layers: &[Layer]) -> riskmap_analyze::Needs {
    let mut n = riskmap_analyze::Needs::NONE;
    for l in layers {
        match l {
            Layer::Surface | Layer::Composite => n.surface = true,
            Layer::Grid => n.grid = true,
            Layer::Areas => n.areas = true,
            Layer::Lifelines => n.lifelines = true,
            Layer::Points => {}
        }
    }
    n
}

/// The layers a run renders: the options' list, else the config's.
pub fn layers(cfg: &TilesConfig, opts: &TilesOptions) -> Vec<Layer> {
    match &opts.layers {
        Some(l) => l.clone(),
        None => cfg.layers.iter().filter_map(|s| s.parse().ok()).collect(),
    }
}

/// Render every configured pyramid.
pub fn run(
    ds: &Dataset,
    an: &Analysis,
    params: &TilesParams,
    opts: &TilesOptions,
) -> Result<TilesReport, Error> {
    run_reusing(ds, an, params, opts, None)
}

/// Render every configured pyramid; with `reuse`, only the tiles its footprint touches
/// (the rest are the previous generation's), and a pyramid it does not touch at all is
/// not written: the caller carries the previous generation's files.
pub fn run_reusing(
    ds: &Dataset,
    an: &Analysis,
    params: &TilesParams,
    opts: &TilesOptions,
    reuse: Option<&Reuse>,
) -> Result<TilesReport, Error> {
    let cfg = &params.tiles;
    let [z0, z1] = opts.zoom.unwrap_or(cfg.zoom);
    let layers = layers(cfg, opts);
    let debug = std::env::var_os("RISKMAP_DEBUG").is_some();
    let setup = Instant::now();
    let renderer = Renderer::new(ds, an, &ds.style);
    if debug {
        eprintln!(
            "tiles: renderer ready in {:.2} s",
            setup.elapsed().as_secs_f64()
        );
    }
    let crss = crss(params);
    let sizes: Vec<u32> = if cfg.retina {
        vec![256, 512]
    } else {
        vec![256]
    };
    let t0 = Instant::now();
    let mut report = TilesReport::default();
    let mut progress = Progress::new(opts.quiet);
    // replaced XYZ folders are deleted in the background while later pyramids render
    let (cleaner_tx, cleaner_rx) = std::sync::mpsc::channel::<PathBuf>();
    let cleaner = std::thread::spawn(move || {
        for old in cleaner_rx {
            let _ = std::fs::remove_dir_all(old);
        }
    });
    for &crs in &crss {
        for &size in &sizes {
            for pass in passes(&layers) {
                pyramid_pass(
                    &renderer,
                    ds,
                    params,
                    &pass,
                    crs,
                    size,
                    [z0, z1],
                    debug,
                    &mut progress,
                    &mut report,
                    &cleaner_tx,
                    reuse,
                )?;
            }
        }
    }
    progress.finish();
    drop(cleaner_tx);
    let _ = cleaner.join();
    report.seconds = t0.elapsed().as_secs_f64();
    Ok(report)
}

/// The CRSs a run draws its pyramids in: WGS84, and every other of `crs_out` (the
/// `_gcj02` twins).
fn crss(params: &TilesParams) -> Vec<Crs> {
    crss_of(&params.crs_out)
}

/// WGS84, and every other CRS of `crs_out`.
pub(crate) fn crss_of(crs_out: &[Crs]) -> Vec<Crs> {
    let mut crss = vec![Crs::Wgs84];
    crss.extend(
        crs_out
            .iter()
            .copied()
            .filter(|c| !matches!(c, Crs::Wgs84 | Crs::Cgcs2000)),
    );
    crss
}

/// The metadata of a layer's archive in `crs`.
fn meta_of(ds: &Dataset, cfg: &TilesConfig, layer: Layer, crs: Crs, [z0, z1]: [u8; 2]) -> TileMeta {
    TileMeta {
        name: format!("{} {}", ds.title, layer.title_zh()),
        description: format!(
            "riskmap {} layer ({}), {}.",
            layer.name(),
            if crs == Crs::Wgs84 {
                "WGS84 / EPSG:3857".to_string()
            } else {
                format!("{crs} shifted for a {crs} basemap")
            },
            ds.style.name
        ),
        attribution: cfg.attribution.clone(),
        // a GCJ-02 pyramid's bounds in GCJ-02, as a Gaode basemap client reads them
        bounds: bounds_in(ds.region_bbox, crs),
        minzoom: z0,
        maxzoom: z1,
        url: cfg.url.clone(),
    }
}

/// A WGS84 bbox in `crs`: the box around its edges there, each sampled at 256 points
/// (GCJ-02's offset has terms of period 1/3°, so corners alone miss its bulges by metres;
/// at this spacing the box is within a metre for a city or a province).
pub(crate) fn bounds_in(b: [f64; 4], crs: Crs) -> [f64; 4] {
    if matches!(crs, Crs::Wgs84 | Crs::Cgcs2000) {
        return b;
    }
    let (mut w, mut s, mut e, mut n) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    const K: usize = 256;
    for i in 0..=K {
        let f = i as f64 / K as f64;
        let (x, y) = (b[0] + (b[2] - b[0]) * f, b[1] + (b[3] - b[1]) * f);
        for (x, y) in [(x, b[1]), (x, b[3]), (b[0], y), (b[2], y)] {
            let (x, y) = crs.from_wgs84(x, y);
            (w, s, e, n) = (w.min(x), s.min(y), e.max(x), n.max(y));
        }
    }
    [w, s, e, n]
}

fn ioe(p: &std::path::Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: p.to_path_buf(),
        source,
    }
}

/// The layers rendered together, in order: the surface and the composite share a pass
/// (the composite is the surface with vectors over it, so the surface is drawn once per
/// tile); every other layer has a pass of its own.
pub fn passes(layers: &[Layer]) -> Vec<Vec<Layer>> {
    let shared = layers.contains(&Layer::Surface) && layers.contains(&Layer::Composite);
    let mut out: Vec<Vec<Layer>> = Vec::new();
    for &l in layers {
        if out.iter().any(|p| p.contains(&l)) {
            continue;
        }
        match l {
            Layer::Surface | Layer::Composite if shared => {
                out.push(vec![Layer::Surface, Layer::Composite])
            }
            _ => out.push(vec![l]),
        }
    }
    out
}

/// One layer's outputs within a pass.
struct Slot {
    layer: Layer,
    path_name: String,
    meta: TileMeta,
    considered: u64,
    /// Seconds of rendering (summed over the workers), writing and finishing.
    busy: f64,
}

/// Render the pyramids of one pass (one or more layers, one CRS, one tile size): the
/// candidate tiles carry a bit per layer that may draw there, zoom by zoom, batches
/// are rendered in parallel and streamed to a writer thread holding every layer's
/// sinks. Each pyramid's seconds are the pass's wall time split by what its layer used
/// (render time on the workers, writer and finishing time).
#[allow(clippy::too_many_arguments)]
fn pyramid_pass(
    renderer: &Renderer,
    ds: &Dataset,
    params: &TilesParams,
    pass: &[Layer],
    crs: Crs,
    size: u32,
    [z0, z1]: [u8; 2],
    debug: bool,
    progress: &mut Progress,
    report: &mut TilesReport,
    cleaner: &std::sync::mpsc::Sender<PathBuf>,
    reuse: Option<&Reuse>,
) -> Result<(), Error> {
    let cfg = &params.tiles;
    let (xyz, mbtiles, pmtiles_on) = cfg.outputs();
    let out = params.out.clone();
    let lt = Instant::now();
    let suffix = if size == 512 { "@2x" } else { "" };
    let mut slots = Vec::new();
    let mut sinks = Vec::new();
    // per slot: the previous generation's tiles, when this run reuses them
    let mut prevs: Vec<Option<PrevTiles>> = Vec::new();
    // the first zoom's candidates by tile id, with a bit per layer that may draw there
    let mut first: std::collections::BTreeMap<u64, (Tile, u8)> = Default::default();
    for &layer in pass {
        let Some(bbox) = renderer.content_bbox(layer) else {
            continue;
        };
        let t0 = Instant::now();
        let path_name = if crs == Crs::Wgs84 {
            layer.name().to_string()
        } else {
            format!("{}_{crs}", layer.name())
        };
        let prev =
            reuse.and_then(|r| PrevTiles::open(r.prev, &format!("{path_name}{suffix}"), [z0, z1]));
        if let (Some(r), Some(_)) = (reuse, &prev) {
            if r.footprint.is_clean(layer) {
                // untouched: the previous generation's archives are carried as they are
                if debug {
                    eprintln!("tiles: {path_name}{suffix}: unchanged, kept");
                }
                continue;
            }
        }
        let meta = meta_of(ds, cfg, layer, crs, [z0, z1]);
        sinks.push(
            Sinks::open(
                &out,
                &path_name,
                suffix,
                &meta,
                xyz,
                mbtiles,
                pmtiles_on,
                &crate::tiles::TileFormat::Png,
            )
            .map_err(ioe(&out))?,
        );
        // the first zoom's tiles over the layer's content that may draw it
        let b = padded(bbox, crs);
        let bit = 1u8 << slots.len();
        let mine: Vec<Tile> = tiles_in(b, z0)
            .collect::<Vec<_>>()
            .into_par_iter()
            .filter(|t| renderer.may_draw(layer, *t, crs, size))
            .collect();
        for t in mine {
            first.entry(tile_id(&t)).or_insert((t, 0)).1 |= bit;
        }
        prevs.push(prev);
        slots.push(Slot {
            layer,
            path_name,
            meta,
            considered: 0,
            busy: t0.elapsed().as_secs_f64(),
        });
    }
    if slots.is_empty() {
        return Ok(());
    }
    let name = slots
        .iter()
        .map(|s| s.path_name.as_str())
        .collect::<Vec<_>>()
        .join("+");
    let layers: Vec<Layer> = slots.iter().map(|s| s.layer).collect();
    let layers = &layers[..];
    // the layers of a candidate tile to draw: all of them, or with `reuse` those the
    // change touches (and those without a previous archive to take from)
    let fresh: Vec<bool> = prevs.iter().map(|p| p.is_none()).collect();
    let draw = |t: Tile, mask: u8| -> u8 {
        let Some(r) = reuse else { return mask };
        (0..layers.len())
            .filter(|&k| {
                mask & (1 << k) != 0
                    && (fresh[k] || renderer.touched(r.footprint, layers[k], t, crs, size))
            })
            .fold(0u8, |m, k| m | (1 << k))
    };
    let draw = &draw;
    let mut cands: Vec<(Tile, u8)> = first.into_values().collect();
    // the main thread renders batches in parallel while a writer thread stores the batch
    // before (file, SQLite and PMTiles writes are mostly waiting)
    let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(2);
    let writer = std::thread::spawn(move || -> std::io::Result<(Vec<Sinks>, Vec<f64>)> {
        let mut busy = vec![0f64; sinks.len()];
        for batch in rx {
            for (k, t, bytes) in batch {
                let t0 = Instant::now();
                sinks[k].add(t, &bytes)?;
                busy[k] += t0.elapsed().as_secs_f64();
            }
        }
        Ok((sinks, busy))
    });
    // a zoom's candidates from the zoom above's, in tile-id order (PMTiles is written
    // in it, and a parent's children are consecutive in it)
    let children = |cands: &[(Tile, u8)]| -> Vec<(Tile, u8)> {
        let mut next: Vec<(Tile, u8)> = cands
            .par_iter()
            .flat_map_iter(|&(t, mask)| {
                t.children()
                    .into_iter()
                    .map(move |c| {
                        // a child can only draw a layer where its parent may (point
                        // radii and strokes shrink on the ground as zoom grows)
                        let m = (0..layers.len())
                            .filter(|&k| {
                                mask & (1 << k) != 0 && renderer.may_draw(layers[k], c, crs, size)
                            })
                            .fold(0u8, |m, k| m | (1 << k));
                        (c, m)
                    })
                    .filter(|c| c.1 != 0)
            })
            .collect();
        next.sort_by_key(|c| tile_id(&c.0));
        next
    };
    cands.sort_by_key(|c| tile_id(&c.0));
    // The surface (and the composite over it) draws the zooms above `derive_from` from
    // that zoom's samples, bottom-up (`DeriveUp`); their tiles are held until written.
    let derived = derive_from(renderer, layers, crs, size, [z0, z1]);
    let mut levels = vec![cands];
    for _ in z0..derived.unwrap_or(z0) {
        let next = children(&levels[levels.len() - 1]);
        levels.push(next);
    }
    // the slot the surface's drawing time goes to
    let surface_slot = layers
        .iter()
        .position(|&l| l == Layer::Surface)
        .or_else(|| layers.iter().position(|&l| l == Layer::Composite))
        .unwrap_or(0);
    let mut render_err = None;
    // the layers' outputs of tiles, in order, into a batch for the writer
    let mut batch_of = |slots: &mut [Slot], rendered: Vec<(Tile, u8, Outputs)>| -> Option<Batch> {
        let mut batch = Vec::with_capacity(rendered.len());
        for (t, kept, r) in rendered {
            for (k, r) in r.into_iter().enumerate() {
                if kept & (1 << k) != 0 {
                    // untouched by the change: the previous generation's bytes
                    match prevs[k].as_ref().map(|p| p.get(t)) {
                        Some(Ok(Some(bytes))) => batch.push((k, t, bytes)),
                        Some(Ok(None)) | None => {}
                        Some(Err(e)) => {
                            render_err = Some(Error::Input(format!(
                                "reading the previous {} tile {}/{}/{}: {e}",
                                slots[k].path_name, t.z, t.x, t.y
                            )));
                            return None;
                        }
                    }
                    continue;
                }
                let Some((r, took)) = r else { continue };
                slots[k].busy += took.as_secs_f64();
                match r {
                    Ok(Some(bytes)) => batch.push((k, t, bytes)),
                    Ok(None) => {}
                    Err(e) => {
                        render_err = Some(Error::Input(format!(
                            "encoding {} tile {}/{}/{}: {e}",
                            slots[k].path_name, t.z, t.x, t.y
                        )));
                        return None;
                    }
                }
            }
        }
        Some(batch)
    };
    let mut next_z = z0;
    let mut cands = Vec::new();
    if let Some(zr) = derived {
        if debug {
            eprintln!(
                "tiles: {name}{suffix}: z{z0}-{} derived from z{zr} ({} tiles)",
                zr - 1,
                levels[levels.len() - 1].len()
            );
        }
        for level in &levels {
            for (k, slot) in slots.iter_mut().enumerate() {
                slot.considered += level.iter().filter(|c| c.1 & (1 << k) != 0).count() as u64;
            }
        }
        let mut up = DeriveUp::new(&levels);
        progress.zoom(&name, zr, levels[levels.len() - 1].len() as u64);
        let mut done = 0u64;
        let last = &levels[levels.len() - 1];
        for chunk in last.chunks(BATCH) {
            let rendered: Vec<_> = chunk
                .par_iter()
                .map(|&(t, mask)| {
                    let t0 = Instant::now();
                    let (st, ps) = renderer.surface_shared(t, size, crs);
                    let drew = t0.elapsed().as_secs_f64();
                    let d = draw(t, mask);
                    let out = renderer.render_pass(layers, d, t, size, crs, Some(st));
                    (out, ps, drew, mask & !d)
                })
                .collect();
            for (&(t, _), (out, ps, drew, kept)) in chunk.iter().zip(rendered) {
                slots[surface_slot].busy += drew;
                up.done(levels.len() - 1, t, kept, out, ps);
            }
            slots[surface_slot].busy += up.derive_ready(renderer, layers, size, crs, draw);
            done += chunk.len() as u64;
            progress.inc(&name, zr, done, last.len() as u64, chunk.len() as u64);
        }
        // the zooms above an empty zr still need their tiles (their vectors)
        slots[surface_slot].busy += up.derive_ready(renderer, layers, size, crs, draw);
        debug_assert!(
            up.pending.iter().all(|p| p.is_empty())
                && up.cursor.iter().zip(&levels).all(|(&c, l)| c == l.len()),
            "every tile done, every tile's samples gone to its parent"
        );
        // every zoom from z0 to zr, in order, to the writer
        let mut ok = true;
        for (li, held) in up.held.into_iter().enumerate() {
            let z = z0 + li as u8;
            let n = held.len() as u64;
            if li + 1 < levels.len() {
                progress.zoom(&name, z, n);
                progress.inc(&name, z, n, n, n);
            }
            let Some(batch) = batch_of(&mut slots, held) else {
                ok = false;
                break;
            };
            if tx.send(batch).is_err() {
                ok = false;
                break;
            }
        }
        next_z = if ok { zr + 1 } else { z1 + 1 };
        if next_z <= z1 {
            cands = children(&levels[levels.len() - 1]);
        }
    } else if let Some(level) = levels.pop() {
        cands = level;
    }
    for z in next_z..=z1 {
        for (k, slot) in slots.iter_mut().enumerate() {
            slot.considered += cands.iter().filter(|c| c.1 & (1 << k) != 0).count() as u64;
        }
        progress.zoom(&name, z, cands.len() as u64);
        let mut done = 0u64;
        let mut stopped = false;
        for chunk in cands.chunks(BATCH) {
            let rendered: Vec<_> = chunk
                .par_iter()
                .map(|&(t, mask)| {
                    let d = draw(t, mask);
                    (
                        t,
                        mask & !d,
                        renderer.render_pass(layers, d, t, size, crs, None),
                    )
                })
                .collect();
            let Some(batch) = batch_of(&mut slots, rendered) else {
                stopped = true;
                break;
            };
            if tx.send(batch).is_err() {
                stopped = true; // the writer stopped: its error is reported below
                break;
            }
            done += chunk.len() as u64;
            progress.inc(&name, z, done, cands.len() as u64, chunk.len() as u64);
        }
        if stopped {
            break;
        }
        if z < z1 {
            cands = children(&cands);
        }
    }
    drop(tx);
    let (all_sinks, writer_busy) = writer
        .join()
        .map_err(|_| Error::Input("tile writer thread panicked".into()))?
        .map_err(ioe(&out))?;
    if let Some(e) = render_err {
        return Err(e);
    }
    let mut written = Vec::new();
    for ((slot, sinks), wb) in slots.iter_mut().zip(all_sinks).zip(writer_busy) {
        let t0 = Instant::now();
        if debug {
            eprintln!(
                "tiles: {}{suffix}: writer busy {wb:.2} s for {} tiles",
                slot.path_name, sinks.written
            );
        }
        written.push(sinks.written);
        let (done, replaced) = sinks.finish().map_err(ioe(&out))?;
        report.outputs.extend(done);
        if let Some(old) = replaced {
            let _ = cleaner.send(old);
        }
        let tj = out
            .join("tilejson")
            .join(format!("{}{suffix}.json", slot.path_name));
        let text = serde_json::to_vec_pretty(&tilejson(&slot.meta, &slot.path_name, suffix))
            .unwrap_or_default();
        crate::atomic::write_atomic(&tj, &text).map_err(ioe(&tj))?;
        report.outputs.push(tj);
        slot.busy += wb + t0.elapsed().as_secs_f64();
    }
    let wall = lt.elapsed().as_secs_f64();
    if debug {
        eprintln!(
            "tiles: pass {name}{suffix}: {wall:.2} s; busy {:?}",
            slots.iter().map(|s| s.busy).collect::<Vec<_>>()
        );
    }
    if slots.len() > 1 {
        report.shared.push((
            format!("{name}{suffix}"),
            written.iter().sum(),
            slots.iter().map(|s| s.considered).sum(),
            wall,
        ));
    }
    let total: f64 = slots.iter().map(|s| s.busy).sum();
    for (slot, written) in slots.iter().zip(written) {
        let share = if slots.len() == 1 || total <= 0.0 {
            1.0 / slots.len() as f64
        } else {
            slot.busy / total
        };
        report.pyramids.push((
            format!("{}{suffix}", slot.path_name),
            written,
            slot.considered,
            wall * share,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::progress::plain_line;
    use super::*;

    /// A GCJ-02 pyramid's bounds hold the GCJ-02 position of every point of the WGS84
    /// box (a 400 × 400 grid over Jinan), to a metre, and are no larger than needed.
    #[test]
    fn gcj02_bounds_hold_the_shifted_box() {
        let b = [116.2, 36.0, 117.9, 37.6];
        let g = bounds_in(b, Crs::Gcj02);
        let (mut w, mut s, mut e, mut n) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for i in 0..=400 {
            for j in 0..=400 {
                let (x, y) = (
                    b[0] + (b[2] - b[0]) * i as f64 / 400.0,
                    b[1] + (b[3] - b[1]) * j as f64 / 400.0,
                );
                let (x, y) = riskmap_core::crs::wgs84_to_gcj02(x, y);
                (w, s, e, n) = (w.min(x), s.min(y), e.max(x), n.max(y));
            }
        }
        let m = 1e-5; // about a metre
        assert!(
            g[0] <= w + m && g[1] <= s + m && g[2] >= e - m && g[3] >= n - m,
            "{g:?} vs {:?}",
            [w, s, e, n]
        );
        assert!(
            (g[0] - w).abs() < m && (g[3] - n).abs() < m,
            "{g:?} vs {:?}",
            [w, s, e, n]
        );
        assert_ne!(g, b, "shifted");
        assert_eq!(bounds_in(b, Crs::Wgs84), b);
    }

    /// `DeriveUp` relies on it: in tile-id order, the children of a tile come right
    /// after one another, in the order of their parents (the Hilbert curve of each zoom
    /// refines the one above).
    #[test]
    fn children_follow_their_parents_in_tile_id_order() {
        for z in 0u8..=9 {
            let n = 1u32 << z;
            let mut parents: Vec<Tile> = (0..n)
                .flat_map(|x| (0..n).map(move |y| Tile::new(x, y, z)))
                .collect();
            parents.sort_by_key(tile_id);
            let mut kids: Vec<Tile> = (0..2 * n)
                .flat_map(|x| (0..2 * n).map(move |y| Tile::new(x, y, z + 1)))
                .collect();
            kids.sort_by_key(tile_id);
            for (i, k) in kids.iter().enumerate() {
                assert_eq!(k.parent(), Some(parents[i / 4]), "z{} {k:?}", z + 1);
            }
        }
    }

    /// Without a terminal the log still tells how far the zoom is, how fast and how long
    /// is left.
    #[test]
    fn plain_progress_lines_give_rate_and_time_left() {
        // (layer, zoom, tiles done, zoom's tiles, seconds into the zoom, line)
        #[rustfmt::skip]
        let cases = [
            ("surface", 14, 500, 2000, 2.0, "500/2000，每秒 250 张，预计还需 6.0 s"),
            ("areas_gcj02", 16, 0, 59963, 0.0, "0/59963，每秒 0 张，预计还需 ?"),
            ("grid", 12, 300, 300, 0.5, "300/300，每秒 600 张，预计还需 0.0 s"),
            ("points", 16, 1000, 61000, 2.0, "1000/61000，每秒 500 张，预计还需 120 s"),
        ];
        // (Chinese, the default language of a process that has not set one)
        for (layer, z, done, n, secs, line) in cases {
            let want = format!("瓦片：{layer} z{z}：{line}");
            assert_eq!(plain_line(layer, z, done, n, secs), want);
        }
    }
}
