//! The tiles stage (`riskmap tiles`, and `build` with `[tiles] enabled`): every layer,
//! zoom by zoom, rendered in parallel batches and streamed into the XYZ directory, MBTiles
//! and PMTiles, so the pyramid is never held in memory. A zoom considers only the children
//! of tiles that may have content at the zoom above; transparent tiles are not written.

use crate::analyze::Analysis;
use crate::crs::Crs;
use crate::export::tiles::{tilejson, Sinks, TileMeta};
use crate::pipeline::Dataset;
use crate::render::tile::{tiles_in, Tile};
use crate::render::{Layer, Renderer};
use crate::Error;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use std::io::IsTerminal;
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
    /// (pyramid name, tiles written, tiles considered, seconds).
    pub pyramids: Vec<(String, u64, u64, f64)>,
    pub outputs: Vec<PathBuf>,
    pub seconds: f64,
}

impl TilesReport {
    pub fn written(&self) -> u64 {
        self.pyramids.iter().map(|p| p.1).sum()
    }
}

const BATCH: usize = 2048;

fn tile_id(t: &Tile) -> u64 {
    pmtiles::TileCoord::new(t.z, t.x, t.y)
        .map(|c| pmtiles::TileId::from(c).value())
        .unwrap_or(u64::MAX)
}

/// Progress on a terminal (bar with tiles/s and ETA), periodic lines otherwise.
struct Progress {
    bar: Option<ProgressBar>,
    quiet: bool,
    last: Instant,
}

impl Progress {
    fn new(quiet: bool) -> Progress {
        let tty = std::io::stderr().is_terminal();
        let bar = (!quiet && tty).then(|| {
            let b = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            b.set_style(
                ProgressStyle::with_template(
                    "{msg:>22} [{bar:30}] {pos}/{len} tiles {per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            b
        });
        Progress {
            bar,
            quiet,
            last: Instant::now(),
        }
    }
    fn zoom(&mut self, name: &str, z: u8, n: u64) {
        if let Some(b) = &self.bar {
            b.set_length(n);
            b.set_position(0);
            b.set_message(format!("{name} z{z}"));
        }
    }
    fn inc(&mut self, name: &str, z: u8, done: u64, n: u64, k: u64) {
        if let Some(b) = &self.bar {
            b.inc(k);
        } else if !self.quiet && self.last.elapsed().as_secs_f64() > 5.0 {
            eprintln!("tiles: {name} z{z}: {done}/{n}");
            self.last = Instant::now();
        }
    }
    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// Render every configured pyramid.
pub fn run(ds: &Dataset, an: &Analysis, opts: &TilesOptions) -> Result<TilesReport, Error> {
    let cfg = &ds.config.tiles;
    let [z0, z1] = opts.zoom.unwrap_or(cfg.zoom);
    let layers: Vec<Layer> = match &opts.layers {
        Some(l) => l.clone(),
        None => cfg.layers.iter().filter_map(|s| s.parse().ok()).collect(),
    };
    let debug = std::env::var_os("RISKMAP_DEBUG").is_some();
    let setup = Instant::now();
    let renderer = Renderer::new(ds, an, &ds.style);
    if debug {
        eprintln!(
            "tiles: renderer ready in {:.2} s",
            setup.elapsed().as_secs_f64()
        );
    }
    let out = ds.config.output.dir.clone();
    let mut crss = vec![Crs::Wgs84];
    crss.extend(
        ds.config
            .output
            .crs_out
            .iter()
            .copied()
            .filter(|c| !matches!(c, Crs::Wgs84 | Crs::Cgcs2000)),
    );
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
    let ioe = |p: &PathBuf| {
        let p = p.clone();
        move |source| Error::Io {
            path: p.clone(),
            source,
        }
    };
    for &crs in &crss {
        for &size in &sizes {
            for &layer in &layers {
                let Some(bbox) = renderer.content_bbox(layer) else {
                    continue;
                };
                let lt = Instant::now();
                let path_name = if crs == Crs::Wgs84 {
                    layer.name().to_string()
                } else {
                    format!("{}_{crs}", layer.name())
                };
                let suffix = if size == 512 { "@2x" } else { "" };
                let meta = TileMeta {
                    name: format!("{} {}", ds.config.title(), layer.title_zh()),
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
                    bounds: ds.region_bbox,
                    minzoom: z0,
                    maxzoom: z1,
                    url: cfg.url.clone(),
                };
                let mut sinks = Sinks::open(
                    &out,
                    &path_name,
                    suffix,
                    &meta,
                    cfg.xyz,
                    cfg.mbtiles,
                    cfg.pmtiles,
                )
                .map_err(ioe(&out))?;
                let pad = if crs == Crs::Wgs84 { 0.0 } else { 0.012 };
                let b = [bbox[0] - pad, bbox[1] - pad, bbox[2] + pad, bbox[3] + pad];
                let mut cands: Vec<Tile> = tiles_in(b, z0)
                    .collect::<Vec<_>>()
                    .into_par_iter()
                    .filter(|t| renderer.may_draw(layer, *t, crs, size))
                    .collect();
                let mut considered = 0u64;
                // the main thread renders batches in parallel while a writer thread stores
                // the batch before (file, SQLite and PMTiles writes are mostly waiting)
                let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<(Tile, Vec<u8>)>>(2);
                let writer = std::thread::spawn(move || -> std::io::Result<Sinks> {
                    let mut busy = 0f64;
                    for batch in rx {
                        let t0 = Instant::now();
                        for (t, bytes) in batch {
                            sinks.add(t, &bytes)?;
                        }
                        busy += t0.elapsed().as_secs_f64();
                    }
                    if debug {
                        eprintln!("tiles: writer busy {busy:.2} s for {} tiles", sinks.written);
                    }
                    Ok(sinks)
                });
                let mut render_err = None;
                'zooms: for z in z0..=z1 {
                    cands.sort_by_key(tile_id);
                    considered += cands.len() as u64;
                    progress.zoom(&path_name, z, cands.len() as u64);
                    let mut done = 0u64;
                    for chunk in cands.chunks(BATCH) {
                        let rendered: Vec<Result<Option<Vec<u8>>, ::png::EncodingError>> = chunk
                            .par_iter()
                            .map(|t| renderer.render(layer, *t, size, crs))
                            .collect();
                        let mut batch = Vec::with_capacity(chunk.len());
                        for (t, r) in chunk.iter().zip(rendered) {
                            match r {
                                Ok(Some(bytes)) => batch.push((*t, bytes)),
                                Ok(None) => {}
                                Err(e) => {
                                    render_err = Some(Error::Input(format!(
                                        "encoding tile {}/{}/{}: {e}",
                                        t.z, t.x, t.y
                                    )));
                                    break 'zooms;
                                }
                            }
                        }
                        if tx.send(batch).is_err() {
                            break 'zooms; // the writer stopped: its error is reported below
                        }
                        done += chunk.len() as u64;
                        progress.inc(&path_name, z, done, cands.len() as u64, chunk.len() as u64);
                    }
                    if z < z1 {
                        cands = cands
                            .par_iter()
                            .flat_map_iter(|t| {
                                let (x, y) = (t.x * 2, t.y * 2);
                                [
                                    Tile::new(x, y, z + 1),
                                    Tile::new(x + 1, y, z + 1),
                                    Tile::new(x, y + 1, z + 1),
                                    Tile::new(x + 1, y + 1, z + 1),
                                ]
                            })
                            .filter(|t| renderer.may_draw(layer, *t, crs, size))
                            .collect();
                    }
                }
                drop(tx);
                let sinks = writer
                    .join()
                    .map_err(|_| Error::Input("tile writer thread panicked".into()))?
                    .map_err(ioe(&out))?;
                if let Some(e) = render_err {
                    return Err(e);
                }
                let written = sinks.written;
                let (done, replaced) = sinks.finish().map_err(ioe(&out))?;
                report.outputs.extend(done);
                if let Some(old) = replaced {
                    let _ = cleaner_tx.send(old);
                }
                let tj = out
                    .join("tilejson")
                    .join(format!("{path_name}{suffix}.json"));
                let text = serde_json::to_vec_pretty(&tilejson(&meta, &path_name, suffix))
                    .unwrap_or_default();
                crate::export::atomic::write_atomic(&tj, &text).map_err(ioe(&tj))?;
                report.outputs.push(tj);
                report.pyramids.push((
                    format!("{path_name}{suffix}"),
                    written,
                    considered,
                    lt.elapsed().as_secs_f64(),
                ));
            }
        }
    }
    progress.finish();
    drop(cleaner_tx);
    let _ = cleaner.join();
    report.seconds = t0.elapsed().as_secs_f64();
    Ok(report)
}
