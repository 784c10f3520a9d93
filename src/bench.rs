//! `riskmap bench`: wall time per stage and peak memory of a full build on the sample and
//! on larger generated registers, each size in its own child process (so its peak memory
//! is its own), and the peer path (numpy/scipy kernel surface, `../shared/bench/peer`) on
//! the same points when its Python and GDAL are installed.

use crate::build::{build, BuildOptions};
use crate::config::Config;
use crate::crs::Crs;
use crate::pipeline::load;
pub use crate::sample::DISTRICTS_FILE;
use crate::sample::{generate, SampleOptions};
use crate::Error;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// One measured run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Measure {
    pub label: String,
    pub enterprises: usize,
    /// (stage, seconds), starting with `load` (ingest + grade + index).
    pub stages: Vec<(String, f64)>,
    pub total_s: f64,
    pub peak_rss_mb: f64,
    pub surface_cells: usize,
    pub zones: usize,
}

/// Peak resident memory of this process (VmHWM), in MB.
pub fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// `bench --emergency`: load the generated register in `dir` with its resources and
/// lifelines, then time the nearest help and the lifeline joins (the analysis stages
/// alone, median of three) and say how much they worked on.
pub fn emergency_table(dir: &Path) -> Result<String, String> {
    let mut c = sample_config(dir);
    c.resources.path = Some(dir.join("resources.csv"));
    c.lifelines.path = Some(dir.join("lifelines.geojson"));
    c.lifelines.crs = Some(Crs::Cgcs2000);
    let ds = load(&c).map_err(|e| e.to_string())?;
    let params = c.analyze_params();
    let needs = crate::analyze::Needs {
        emergency: true,
        lifelines: true,
        ..crate::analyze::Needs::NONE
    };
    let mut em = Vec::new();
    let mut ll = Vec::new();
    let mut last = None;
    for _ in 0..3 {
        let a = crate::analyze::run_only(&ds, &params, needs).map_err(|e| e.to_string())?;
        let t = |name: &str| {
            a.timings
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| *v)
                .unwrap_or(0.0)
        };
        em.push(t("emergency"));
        ll.push(t("lifelines"));
        last = Some(a);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let a = last.ok_or("no run")?;
    let km = a
        .lifelines
        .as_ref()
        .map(|l| l.lines.iter().map(|x| x.length_m).sum::<f64>() / 1000.0)
        .unwrap_or(0.0);
    let segs = a.lifelines.as_ref().map(|l| l.segments.len()).unwrap_or(0);
    let flagged = a
        .lifelines
        .as_ref()
        .map(|l| l.flagged().count())
        .unwrap_or(0);
    let kinds = a.emergency.as_ref().map(|e| e.kinds.len()).unwrap_or(0);
    let threads = rayon::current_num_threads();
    // by road: a city-sized network (the sample's lattice every 0.005°, about 500 m)
    let roads = dir.join("roads_city.geojson");
    if !roads.exists() {
        let (text, _) = crate::sample::city_roads(2026, 0.005);
        std::fs::write(&roads, text).map_err(|e| format!("{}: {e}", roads.display()))?;
    }
    c.roads.path = Some(roads);
    let ds = load(&c).map_err(|e| e.to_string())?;
    let needs = crate::analyze::Needs {
        emergency: true,
        ..crate::analyze::Needs::NONE
    };
    let mut rd = Vec::new();
    let (mut rt, mut rc) = (Vec::new(), Vec::new());
    let (mut stations, mut drive_min) = (0usize, 0.0f64);
    let mut net = String::new();
    for _ in 0..3 {
        let a = crate::analyze::run_only(&ds, &params, needs).map_err(|e| e.to_string())?;
        rd.push(
            a.timings
                .iter()
                .find(|(k, _)| *k == "emergency")
                .map(|(_, v)| *v)
                .unwrap_or(0.0),
        );
        if let Some(rr) = a.emergency.as_ref().and_then(|e| e.roads.as_ref()) {
            rt.push(rr.route_secs);
            rc.push(rr.reach_secs);
            stations = rr.reach.len();
            drive_min = rr.budget_secs / 60.0;
            net = format!(
                "{} roads = {:.0} km, {} nodes, {} edges; {} enterprises off the network",
                ds.roads.len(),
                rr.km,
                rr.net.node_count(),
                rr.net.graph.edge_count(),
                rr.off_network.len()
            );
        }
    }
    Ok(format!(
        "| stage ({} enterprises, {} resources of {kinds} kinds, {} lifelines = {km:.0} km, {threads} threads) | seconds (median of 3) | what |\n|---|---:|---|\n\
         | nearest help: 3 of each kind for every enterprise, fire-station reach, gaps | {:.3} | {} enterprises × {kinds} kinds |\n\
         | lifeline joins: protection/control zones, radii, {segs} ranked segments, sites | {:.3} | {flagged} enterprises in a zone or reaching a line |\n\
         | nearest help by road: the network built, a multi-source search per kind, the 3 soonest of each kind for every enterprise | {:.3} | {net} |\n\
         | fire stations' reach by road: a bounded search and a concave hull per station | {:.3} | {} stations, {:.1} min driving |\n\
         | the whole emergency stage with roads (the straight-line help kept beside it, coverage, gaps) | {:.3} | |\n",
        ds.enterprises.len(),
        ds.resources.len(),
        ds.lifelines.len(),
        median(&mut em),
        ds.enterprises.len(),
        median(&mut ll),
        median(&mut rt),
        median(&mut rc),
        stations,
        drive_min,
        median(&mut rd),
    ))
}

/// The config of a generated register in `dir`.
pub fn sample_config(dir: &Path) -> Config {
    let mut c = Config::default();
    c.enterprises.path = Some(dir.join("enterprises.csv"));
    c.assessments.path = Some(dir.join("assessments.csv"));
    c.hazards.path = Some(dir.join("hidden_dangers.csv"));
    c.sites.path = Some(dir.join("sites.csv"));
    c.boundaries.path = Some(dir.join(DISTRICTS_FILE));
    c.boundaries.crs = Some(Crs::Gcj02);
    c.output.dir = dir.join("out");
    c.output.crs_out = vec![Crs::Gcj02];
    c
}

/// Build with `cfg` and measure it (in this process).
pub fn measure(label: &str, cfg: &Config) -> Result<Measure, Error> {
    let t0 = Instant::now();
    let ds = load(cfg)?;
    let load_s = t0.elapsed().as_secs_f64();
    let report = build(&ds, cfg, &BuildOptions::default())?;
    let mut stages = vec![("load".to_string(), load_s)];
    stages.extend(report.timings.iter().map(|(k, v)| (k.to_string(), *v)));
    Ok(Measure {
        label: label.to_string(),
        enterprises: ds.enterprises.len(),
        stages,
        total_s: t0.elapsed().as_secs_f64(),
        peak_rss_mb: peak_rss_mb(),
        surface_cells: report
            .analysis
            .surface
            .as_ref()
            .map(|s| s.width * s.height)
            .unwrap_or(0),
        zones: report.analysis.zones.as_ref().map(|z| z.len()).unwrap_or(0),
    })
}

/// Generate a register of `count` enterprises into `work/<count>` unless it is there.
pub fn prepare(work: &Path, count: usize) -> Result<PathBuf, Error> {
    let dir = work.join(format!("n{count}"));
    if !dir.join("enterprises.csv").exists() || !dir.join("lifelines.geojson").exists() {
        generate(&SampleOptions {
            count,
            seed: 2026,
            out: dir.clone(),
        })
        .map_err(|e| Error::Io {
            path: dir.clone(),
            source: e,
        })?;
    }
    Ok(dir)
}

/// The peer's clustered points (`make_points.py`), riskmap's config for them, and the
/// peer's own parameters (1 km radius for every level, weights 8/4/2/1, thresholds
/// 0.5/2/4/8) so that both do the same work.
pub fn peer_config(points: &Path, out: &Path) -> Config {
    let mut c = Config::default();
    c.enterprises.path = Some(points.to_path_buf());
    c.output.dir = out.to_path_buf();
    c.influence_radius_m = crate::config::Radii {
        red: 1000.0,
        orange: 1000.0,
        yellow: 1000.0,
        blue: 1000.0,
    };
    c.surface.weights = crate::config::Radii {
        red: 8.0,
        orange: 4.0,
        yellow: 2.0,
        blue: 1.0,
    };
    c.surface.thresholds = crate::config::Radii {
        red: 8.0,
        orange: 4.0,
        yellow: 2.0,
        blue: 0.5,
    };
    c.grid.enabled = false;
    c.areas.enabled = false;
    c
}

/// Run one of the peer's scripts (`interpreter script args…`): its seconds and stdout, or
/// why it could not run.
fn run_peer_script(
    interpreter: &str,
    script: &Path,
    args: &[&std::ffi::OsStr],
) -> Result<(f64, String), String> {
    if !script.exists() {
        return Err(format!("{} not found", script.display()));
    }
    let t = Instant::now();
    let o = std::process::Command::new(interpreter)
        .arg(script)
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    if !o.status.success() {
        return Err(format!(
            "peer failed (apt-get install gdal-bin python3-gdal python3-scipy): {}",
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .last()
                .unwrap_or("")
        ));
    }
    Ok((
        t.elapsed().as_secs_f64(),
        String::from_utf8_lossy(&o.stdout).trim().to_string(),
    ))
}

/// Run the peer's surface script on `points`; seconds, or why it could not run.
pub fn run_peer_surface(peer_dir: &Path, points: &Path, out_tif: &Path) -> Result<f64, String> {
    run_peer_script(
        "/usr/bin/python3",
        &peer_dir.join("gdal_surface.py"),
        &[points.as_os_str(), out_tif.as_os_str()],
    )
    .map(|r| r.0)
}

/// Make the peer's points with its own generator.
pub fn make_peer_points(peer_dir: &Path, n: usize, out: &Path) -> Result<(), String> {
    if out.exists() {
        return Ok(());
    }
    let o = std::process::Command::new("python3")
        .arg(peer_dir.join("make_points.py"))
        .arg(n.to_string())
        .arg(out)
        .output()
        .map_err(|e| e.to_string())?;
    if o.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&o.stderr).to_string())
    }
}

/// Markdown table of measures.
pub fn table(ms: &[Measure]) -> String {
    let mut stage_names: Vec<String> = vec![];
    for m in ms {
        for (k, _) in &m.stages {
            if !stage_names.contains(k) {
                stage_names.push(k.clone());
            }
        }
    }
    let mut s = format!(
        "| run | enterprises | {} | total s | peak MB | surface cells | zones |\n",
        stage_names
            .iter()
            .map(|k| format!("{k} s"))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    s.push_str(&format!(
        "|---|---:|{}---:|---:|---:|---:|\n",
        "---:|".repeat(stage_names.len())
    ));
    for m in ms {
        let cells: Vec<String> = stage_names
            .iter()
            .map(|k| {
                m.stages
                    .iter()
                    .find(|(n, _)| n == k)
                    .map(|(_, v)| format!("{v:.2}"))
                    .unwrap_or_else(|| "–".into())
            })
            .collect();
        s.push_str(&format!(
            "| {} | {} | {} | {:.2} | {:.0} | {:.1} M | {} |\n",
            m.label,
            m.enterprises,
            cells.join(" | "),
            m.total_s,
            m.peak_rss_mb,
            m.surface_cells as f64 / 1e6,
            m.zones
        ));
    }
    s
}

/// The encode-only ceiling: tiles/s for encoding `n` palette PNGs of the kind the surface
/// layer writes (a 256 px overlay with a few discs of the four classes), in parallel —
/// with the reference encoder (the `png` crate's palette PNG, fast deflate,
/// adaptive filter) when `reference`, else with riskmap's own row filtering.
pub fn encode_ceiling(n: usize, reference: bool) -> f64 {
    use rayon::prelude::*;
    let pal = crate::render::raster::SurfacePalette::new(&crate::style::Style::default());
    // four discs of different palette entries on a transparent tile
    let mut idx = vec![0u8; 256 * 256];
    for (cx, cy, r, entry) in [
        (60.0, 70.0, 50.0, 20u8),
        (150.0, 120.0, 70.0, 40),
        (200.0, 40.0, 30.0, 55),
        (90.0, 190.0, 45.0, 69),
    ] {
        for y in 0..256 {
            for x in 0..256 {
                let (dx, dy) = (x as f64 - cx, y as f64 - cy);
                if dx * dx + dy * dy < r * r {
                    idx[y * 256 + x] = entry;
                }
            }
        }
    }
    let t = Instant::now();
    let bytes: usize = (0..n)
        .into_par_iter()
        .map(|_| {
            let encode = if reference {
                crate::render::png::encode_indexed_reference
            } else {
                crate::render::png::encode_indexed
            };
            encode(256, 256, &idx, &pal.colors)
                .map(|b| b.len())
                .unwrap_or(0)
        })
        .sum();
    let secs = t.elapsed().as_secs_f64();
    std::hint::black_box(bytes);
    n as f64 / secs.max(1e-9)
}

/// One pyramid's figures from a tiles run: (name, written, considered, seconds).
pub type PyramidFigures = (String, u64, u64, f64);

/// Every configured pyramid, without progress output.
fn tiles_quiet(
    ds: &crate::pipeline::Dataset,
    cfg: &Config,
    an: &crate::analyze::Analysis,
) -> Result<crate::tiles::TilesReport, Error> {
    let opts = crate::tiles::TilesOptions {
        quiet: true,
        ..Default::default()
    };
    Ok(crate::tiles::run(ds, an, &cfg.tiles_params(), &opts)?)
}

/// Delete a previous run's outputs and let the file system settle the deletes, so that
/// the timed run neither pays for them nor for deleting them in the background.
fn clear_before_timing(paths: &[PathBuf]) {
    for p in paths {
        let _ = std::fs::remove_dir_all(p);
    }
    let _ = std::process::Command::new("sync").status();
}

/// Render every pyramid of `cfg`'s register (config zooms and layers) and return the
/// per-pyramid figures with the total seconds (analysis excluded). As in the peer
/// comparison, the previous run's pyramids are deleted (and flushed) before the clock
/// starts, so the figures do not include deleting them in the background.
pub fn tiles_run(cfg: &Config) -> Result<(Vec<PyramidFigures>, Vec<PyramidFigures>, f64), Error> {
    let ds = load(cfg)?;
    let an = crate::analyze::run(&ds, &cfg.analyze_params())?;
    clear_before_timing(&["tiles", "mbtiles", "pmtiles"].map(|s| cfg.output.dir.join(s)));
    let tr = tiles_quiet(&ds, cfg, &an)?;
    Ok((tr.pyramids, tr.shared, tr.seconds))
}

/// Markdown table of a tiles run against the encode-only ceiling; the passes that
/// rendered several pyramids at once follow, in italics, as wholes.
pub fn tiles_table(
    label: &str,
    pyramids: &[PyramidFigures],
    shared: &[PyramidFigures],
    ceiling: f64,
) -> String {
    let mut s = format!(
        "| pyramid ({label}) | tiles written | tiles considered | s | written tiles/s | considered tiles/s | considered, % of encode ceiling |\n|---|---:|---:|---:|---:|---:|---:|\n"
    );
    let rows = pyramids
        .iter()
        .map(|p| (p.0.clone(), p))
        .chain(shared.iter().map(|p| (format!("*{}, one pass*", p.0), p)));
    for (name, (_, written, considered, secs)) in rows {
        let w = *written as f64 / secs.max(1e-9);
        let c = *considered as f64 / secs.max(1e-9);
        s.push_str(&format!(
            "| {name} | {written} | {considered} | {secs:.1} | {w:.0} | {c:.0} | {:.0} % |\n",
            100.0 * c / ceiling
        ));
    }
    s
}

/// The peer's surface-to-tiles path (`run_peer.sh`: numpy surface → `gdaldem
/// color-relief` → `gdal2tiles.py --xyz --processes=2`) at `zooms` ("8-14"): its total
/// seconds and tile count, or why it could not run.
pub fn run_peer_tiles(
    peer_dir: &Path,
    points: &Path,
    work: &Path,
    zooms: &str,
) -> Result<(f64, u64, String), String> {
    // as on riskmap's side: the previous run's tiles go before the clock starts
    clear_before_timing(&[work.join("tiles")]);
    let (secs, out) = run_peer_script(
        "bash",
        &peer_dir.join("run_peer.sh"),
        &[
            points.as_os_str(),
            work.as_os_str(),
            std::ffi::OsStr::new(zooms),
        ],
    )?;
    Ok((secs, count_png(&work.join("tiles")), out))
}

fn count_png(dir: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    rd.flatten()
        .map(|e| {
            let p = e.path();
            if p.is_dir() {
                count_png(&p)
            } else {
                u64::from(p.extension().is_some_and(|x| x == "png"))
            }
        })
        .sum()
}

/// The surface pyramid of the peer's points as a user makes it: `riskmap tiles
/// --config peer.toml --layers surface --zoom A-B --formats xyz -q`, spawned as a fresh
/// process (`exe`) and timed from spawn to exit — reading the CSV, grading, the surface,
/// every tile, the generation switch. `peer.toml` carries the peer's parameters (1 km
/// radius for every level, weights 8/4/2/1, thresholds 0.5/2/4/8). Like the peer's
/// script it starts from an empty output folder: the previous run's is removed (and
/// flushed) before the clock starts. Returns the seconds and the tiles written.
pub fn user_peer_tiles(
    exe: &Path,
    points: &Path,
    out: &Path,
    zoom: [u8; 2],
) -> Result<(f64, u64), Error> {
    clear_before_timing(&[out.to_path_buf()]);
    // absolute: the config's paths are read relative to the config file
    let abs = |p: &Path| {
        std::path::absolute(p).map_err(|source| Error::Io {
            path: p.to_path_buf(),
            source,
        })
    };
    let (points, out) = (abs(points)?, abs(out)?);
    let out = out.as_path();
    let mut cfg = peer_config(&points, out);
    cfg.exposure.enabled = false;
    cfg.output.crs_out = vec![];
    let cfg_path = out.with_extension("toml");
    let toml = toml::to_string(&cfg)
        .map_err(|e| Error::Input(format!("writing {}: {e}", cfg_path.display())))?;
    std::fs::write(&cfg_path, toml).map_err(|source| Error::Io {
        path: cfg_path.clone(),
        source,
    })?;
    let t = Instant::now();
    let o = std::process::Command::new(exe)
        .arg("tiles")
        .arg("--config")
        .arg(&cfg_path)
        .args(["--layers", "surface", "--formats", "xyz", "-q", "--zoom"])
        .arg(format!("{}-{}", zoom[0], zoom[1]))
        .output()
        .map_err(|source| Error::Io {
            path: exe.to_path_buf(),
            source,
        })?;
    let secs = t.elapsed().as_secs_f64();
    if !o.status.success() {
        return Err(Error::Input(format!(
            "riskmap tiles on the peer's points failed: {}",
            String::from_utf8_lossy(&o.stderr)
        )));
    }
    let tiles = count_png(&out.join("tiles").join("surface"));
    Ok((secs, tiles))
}

/// Figures of one load run.
#[derive(Debug, Clone)]
pub struct LoadFigures {
    pub requests: usize,
    pub errors: usize,
    pub seconds: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl LoadFigures {
    pub fn rps(&self) -> f64 {
        self.requests as f64 / self.seconds.max(1e-9)
    }
}

/// A bounded closed-loop load on a server at `addr` (loopback): `conns` keep-alive
/// HTTP/1.1 connections, each sending `per_conn` GETs from `paths` in turn and reading
/// each answer fully before the next. Any status other than 200 counts as an error.
/// (A minimal client on purpose: one request in flight per connection, no dependencies.)
pub fn load_http(
    addr: &str,
    paths: &[String],
    conns: usize,
    per_conn: usize,
) -> Result<LoadFigures, String> {
    if paths.is_empty() {
        return Err("no request paths".into());
    }
    load_requests(addr, conns, per_conn, &|c, i| {
        let path = &paths[(c * 7919 + i) % paths.len()];
        // vector tiles as a browser asks for them (it takes gzip)
        let gz = if path.ends_with(".pbf") {
            "Accept-Encoding: gzip\r\n"
        } else {
            ""
        };
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{gz}\r\n")
    })
}

/// `conns` keep-alive connections, each sending `per_conn` requests one after another
/// (`request(connection, i)`: the whole HTTP/1.1 request), every answer read whole; a
/// status other than 200 counts as an error.
pub fn load_requests(
    addr: &str,
    conns: usize,
    per_conn: usize,
    request: &(dyn Fn(usize, usize) -> String + Sync),
) -> Result<LoadFigures, String> {
    use std::io::{BufRead, BufReader, Read, Write};
    let t0 = Instant::now();
    let results: Vec<Result<(Vec<f64>, usize), String>> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..conns)
            .map(|c| {
                s.spawn(move || -> Result<(Vec<f64>, usize), String> {
                    let stream =
                        std::net::TcpStream::connect(addr).map_err(|e| format!("{addr}: {e}"))?;
                    stream.set_nodelay(true).ok();
                    stream
                        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
                        .ok();
                    let mut w = stream.try_clone().map_err(|e| e.to_string())?;
                    let mut r = BufReader::new(stream);
                    let mut lat = Vec::with_capacity(per_conn);
                    let mut errors = 0;
                    let mut line = String::new();
                    for i in 0..per_conn {
                        let req = request(c, i);
                        let t = Instant::now();
                        w.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
                        line.clear();
                        r.read_line(&mut line).map_err(|e| e.to_string())?;
                        let ok = line.split_whitespace().nth(1) == Some("200");
                        let mut len = 0usize;
                        loop {
                            line.clear();
                            r.read_line(&mut line).map_err(|e| e.to_string())?;
                            let l = line.trim_end();
                            if l.is_empty() {
                                break;
                            }
                            if let Some((k, v)) = l.split_once(':') {
                                if k.eq_ignore_ascii_case("content-length") {
                                    len = v.trim().parse().unwrap_or(0);
                                }
                            }
                        }
                        let mut body = vec![0u8; len];
                        r.read_exact(&mut body).map_err(|e| e.to_string())?;
                        lat.push(t.elapsed().as_secs_f64() * 1000.0);
                        if !ok {
                            errors += 1;
                        }
                    }
                    Ok((lat, errors))
                })
            })
            .collect();
        hs.into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("load thread panicked".into()))
            })
            .collect()
    });
    let seconds = t0.elapsed().as_secs_f64();
    let mut lat = vec![];
    let mut errors = 0;
    for r in results {
        let (l, e) = r?;
        lat.extend(l);
        errors += e;
    }
    lat.sort_by(f64::total_cmp);
    let q = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    Ok(LoadFigures {
        requests: lat.len(),
        errors,
        seconds,
        p50_ms: q(0.50),
        p99_ms: q(0.99),
        max_ms: *lat.last().unwrap_or(&0.0),
    })
}

/// Tile paths for the load: every tile of `layer` in the XYZ directory at z10–16
/// (sorted, then interleaved so consecutive requests hit different zooms).
pub fn tile_paths(out: &Path, layer: &str) -> Vec<String> {
    let mut v = vec![];
    for z in 10..=16 {
        let dz = out.join("tiles").join(layer).join(z.to_string());
        let Ok(xs) = std::fs::read_dir(&dz) else {
            continue;
        };
        let mut xs: Vec<_> = xs.flatten().map(|e| e.path()).collect();
        xs.sort();
        for x in xs {
            let Ok(ys) = std::fs::read_dir(&x) else {
                continue;
            };
            let mut ys: Vec<_> = ys
                .flatten()
                .map(|e| e.file_name().to_string_lossy().to_string())
                .collect();
            ys.sort();
            let xn = x
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            for y in ys {
                v.push(format!("/tiles/{layer}/{z}/{xn}/{y}"));
            }
        }
    }
    // a fixed stride permutation: spread over zooms and places
    let n = v.len();
    if n == 0 {
        return v;
    }
    let step = (1..n)
        .rev()
        .find(|s| gcd(*s, n) == 1 && *s < n / 2 + 1)
        .unwrap_or(1);
    (0..n).map(|i| v[(i * step) % n].clone()).collect()
}

/// Tile paths for the load from a layer's MBTiles archive (`ext` png or pbf), at z10–16,
/// spread as [`tile_paths`] spreads them: for the vector tileset, and for a raster
/// layer when the build wrote no XYZ folder.
pub fn archive_paths(out: &Path, layer: &str, ext: &str) -> Vec<String> {
    let path = out.join("mbtiles").join(format!("{layer}.mbtiles"));
    let Ok(p) = riskmap_serve::tiles::Pyramid::open(&path) else {
        return Vec::new();
    };
    let mut v: Vec<(u8, u32, u32)> = p
        .tiles()
        .map(|(t, _)| (t.z, t.x, t.y))
        .filter(|t| t.0 >= 10)
        .collect();
    v.sort_unstable();
    let n = v.len();
    if n == 0 {
        return Vec::new();
    }
    let step = (1..n)
        .rev()
        .find(|s| gcd(*s, n) == 1 && *s < n / 2 + 1)
        .unwrap_or(1);
    (0..n)
        .map(|i| {
            let (z, x, y) = v[(i * step) % n];
            format!("/tiles/{layer}/{z}/{x}/{y}.{ext}")
        })
        .collect()
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// `/api/at` paths on a grid over `bbox`.
pub fn at_paths(bbox: [f64; 4], n: usize) -> Vec<String> {
    let mut v = vec![];
    for i in 0..n {
        for j in 0..n {
            let lon = bbox[0] + (bbox[2] - bbox[0]) * (i as f64 + 0.5) / n as f64;
            let lat = bbox[1] + (bbox[3] - bbox[1]) * (j as f64 + 0.5) / n as f64;
            v.push(format!("/api/at?lon={lon:.5}&lat={lat:.5}&radius=500"));
        }
    }
    v
}

/// Load a register's CSV files (`enterprises`, `assessments`, `hidden_dangers`, `sites`
/// `.csv` in `dir`) into `schema` of the database at `url` (text columns named by the
/// headers, a serial key `gid` in file order: a heap keeps no order, PostgreSQL puts a
/// row wherever it fits), as a platform's export would be. Returns the seconds it took
/// and, per table, the query that reads it back in file order without the key.
pub fn load_into_db(
    url: &str,
    schema: &str,
    dir: &Path,
) -> Result<(f64, Vec<(&'static str, String)>), Error> {
    use std::io::Write;
    let t = Instant::now();
    let mut db = riskmap_core::ingest::db::connect(url)?;
    let q = riskmap_core::ingest::db::quote_ident;
    let fail = |e: postgres::Error| Error::Input(format!("bench --db: {e}"));
    db.client
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {s} CASCADE; CREATE SCHEMA {s}",
            s = q(schema)
        ))
        .map_err(fail)?;
    let mut queries = Vec::new();
    for table in ["enterprises", "assessments", "hidden_dangers", "sites"] {
        let path = dir.join(format!("{table}.csv"));
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        let text = text.trim_start_matches('\u{feff}');
        let header = text.lines().next().unwrap_or("").trim_end_matches('\r');
        let names: Vec<String> = header.split(',').map(q).collect();
        let cols: Vec<String> = names.iter().map(|n| format!("{n} text")).collect();
        db.client
            .batch_execute(&format!(
                "CREATE TABLE {}.{} ({}, gid bigserial PRIMARY KEY)",
                q(schema),
                q(table),
                cols.join(", ")
            ))
            .map_err(fail)?;
        let mut w = db
            .client
            .copy_in(&format!(
                "COPY {}.{} ({}) FROM STDIN (FORMAT csv, HEADER true)",
                q(schema),
                q(table),
                names.join(", ")
            ))
            .map_err(fail)?;
        w.write_all(text.as_bytes()).map_err(|e| Error::Io {
            path: path.clone(),
            source: e,
        })?;
        w.finish().map_err(fail)?;
        queries.push((
            table,
            format!("SELECT {} FROM {} ORDER BY gid", names.join(", "), q(table)),
        ));
    }
    Ok((t.elapsed().as_secs_f64(), queries))
}
