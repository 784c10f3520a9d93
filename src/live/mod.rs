//! The live map (#22): `riskmap update` and `serve --watch`.
//!
//! An update re-reads the inputs, and when they changed since the current generation it
//! writes a new generation the way `build` does — the same functions write the GeoJSON,
//! the statistics, the overview and the report — except for the tile pyramids: only the
//! tiles whose inputs changed are drawn again (`render::footprint`), every other tile is
//! the previous generation's, and a pyramid nothing touched is carried as it is (hard
//! links). The previous state is the watcher's own (in memory), or the inputs the
//! current generation saved in `inputs/`. Each generation records what changed against
//! the one before (`changes/`), the alerts its rules raised, and sends the webhooks.

pub mod bench;

use crate::analyze::Analysis;
use crate::config::{AlertKind, AlertRule, Config};
use crate::export::changes::{Alert, Entry, Item};
use crate::export::generations::{current_dir, current_number};
use crate::pipeline::Dataset;
use crate::report::history::Snapshot;
use anyhow::{Context, Result};
use riskmap_core::tr;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// A generation's dataset and analysis, kept to compare the next update with.
#[derive(Clone)]
pub struct Prev {
    pub ds: Arc<Dataset>,
    pub an: Arc<Analysis>,
    /// The generation they are the state of: a state of another generation than the
    /// current one (a `build` or `update` run beside the watcher) is not compared with.
    pub generation: Option<u64>,
    /// The surface samples of the generation's tiles drawn so far (see
    /// `tiles::SampleCache`): the watcher's next update draws only touched subtrees.
    pub samples: Arc<std::sync::Mutex<crate::tiles::SampleCache>>,
}

impl Prev {
    pub fn new(ds: Arc<Dataset>, an: Arc<Analysis>, generation: Option<u64>) -> Prev {
        Prev {
            ds,
            an,
            generation,
            samples: Default::default(),
        }
    }
}

/// What an update did.
pub struct Updated {
    /// The new generation (None: the inputs are those of the current one; nothing done).
    pub generation: Option<u64>,
    pub dir: Option<PathBuf>,
    pub entry: Option<Entry>,
    /// The state written (or, unchanged, the one given; None when none was given).
    pub prev: Option<Prev>,
    /// Only the touched tiles drawn (false: every tile, as a build).
    pub incremental: bool,
    /// Tiles drawn (or carried) and kept pyramids, from the tiles stage.
    pub tiles: Option<crate::tiles::TilesReport>,
    /// The archives' replaced tiles when the update patched them (a server holding
    /// the archives in memory applies these instead of reading them again); None when
    /// they were written whole or carried.
    pub patches: Option<Vec<crate::tiles::PyramidPatch>>,
    /// The generation the update started from (the one its patches apply to).
    pub from_generation: Option<u64>,
    pub summary_text: String,
    /// Seconds: load, analysis, outputs, tiles, total.
    pub timings: Vec<(&'static str, f64)>,
}

/// The input files of a config (role, path), as `build` saves them in `inputs/`.
pub fn input_files(cfg: &Config) -> Vec<(&'static str, PathBuf)> {
    let mut v = Vec::new();
    for (role, p) in [
        ("enterprises", &cfg.enterprises.path),
        ("assessments", &cfg.assessments.path),
        ("hazards", &cfg.hazards.path),
        ("sites", &cfg.sites.path),
        ("resources", &cfg.resources.path),
        ("lifelines", &cfg.lifelines.path),
        // the points, not their readings: a readings file grows every second and is
        // followed by `serve`, not rebuilt from
        ("roads", &cfg.roads.path),
        ("monitoring_points", &cfg.monitoring_points.path),
        ("boundaries", &cfg.boundaries.path),
    ] {
        if let Some(p) = p.as_ref().filter(|p| p.is_file()) {
            v.push((role, p.clone()));
        }
    }
    v
}

/// Where `build` saves an input file inside a generation.
pub fn saved_input_name(role: &str, path: &Path) -> String {
    let ext = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    format!("inputs/{role}{ext}")
}

/// The config with its input files replaced by the copies saved in `gen`; None when the
/// generation did not save them all.
fn saved_config(cfg: &Config, gen: &Path) -> Option<Config> {
    let mut c = cfg.clone();
    for (role, p) in input_files(cfg) {
        let saved = gen.join(saved_input_name(role, &p));
        if !saved.is_file() {
            return None;
        }
        let slot = match role {
            "enterprises" => &mut c.enterprises.path,
            "assessments" => &mut c.assessments.path,
            "hazards" => &mut c.hazards.path,
            "sites" => &mut c.sites.path,
            "resources" => &mut c.resources.path,
            "lifelines" => &mut c.lifelines.path,
            "monitoring_points" => &mut c.monitoring_points.path,
            "roads" => &mut c.roads.path,
            _ => &mut c.boundaries.path,
        };
        *slot = Some(saved);
    }
    Some(c)
}

fn read_json(p: &Path) -> Option<Value> {
    serde_json::from_slice(&std::fs::read(p).ok()?).ok()
}

/// The state of the generation in `gen` from the inputs it saved (and the config hash
/// it was built with).
fn prev_of(cfg: &Config, gen: &Path) -> Option<Prev> {
    let c = saved_config(cfg, gen)?;
    let mut ds = crate::pipeline::load(&c).ok()?;
    if let Some(b) = crate::export::summary::built_from(gen) {
        ds.config_sha256 = b.config_sha256;
    }
    let an = crate::analyze::run(&ds, &cfg.analyze_params()).ok()?;
    Some(Prev::new(
        Arc::new(ds),
        Arc::new(an),
        gen.file_name().and_then(|n| n.to_str()?.parse().ok()),
    ))
}

/// Whether `ds` (and the config) are what the generation in `gen` was built from.
fn unchanged(ds: &Dataset, gen: &Path) -> bool {
    crate::export::summary::built_from(gen).is_some_and(|b| b.config_sha256 == ds.config_sha256)
        && crate::export::summary::same_inputs(ds, gen).is_ok()
}

/// Whether the input files and the config are byte for byte those the generation in
/// `gen` was built from (file inputs only: a database source is read to be compared).
fn files_unchanged(cfg: &Config, gen: &Path) -> bool {
    use sha2::Digest;
    let Some(b) = crate::export::summary::built_from(gen) else {
        return false;
    };
    let files = input_files(cfg);
    b.config_sha256 == crate::pipeline::config_hash(cfg)
        && b.inputs.len() == files.len()
        && files.iter().all(|(role, p)| {
            std::fs::read(p).is_ok_and(|bytes| {
                let h = format!("{:x}", sha2::Sha256::digest(&bytes));
                b.inputs.iter().any(|(r, x)| r == role && *x == h)
            })
        })
}

/// What an update hands `serve --watch` before it writes anything, when it patches the
/// archives: the new state whole (dataset, analysis, the archives' replaced tiles, the
/// GeoJSON files' bytes, the change record) and the generation it is being written as.
/// The server answers from it at once; the files follow (the same bytes).
pub struct Early<'a> {
    pub ds: &'a Arc<Dataset>,
    pub an: &'a Arc<Analysis>,
    pub patches: &'a [crate::tiles::PyramidPatch],
    /// (file name, bytes) of every GeoJSON output.
    pub geojson: &'a [(String, Vec<u8>)],
    pub entry: &'a Entry,
    pub generation: u64,
    /// The generation the patches apply to.
    pub from_generation: Option<u64>,
}

/// Re-read the inputs and write a new generation if they changed: only the tiles a
/// change touches are drawn (with `prev`, or the inputs the current generation saved).
pub fn update(cfg: &Config, prev: Option<Prev>, by: &str, quiet: bool) -> Result<Updated> {
    update_with(cfg, prev, by, quiet, None)
}

/// [`update`], handing the new state to `early` before the generation is written (see
/// [`Early`]; only when the archives are patched).
pub fn update_with(
    cfg: &Config,
    prev: Option<Prev>,
    by: &str,
    quiet: bool,
    early: Option<&dyn Fn(Early<'_>)>,
) -> Result<Updated> {
    let t0 = Instant::now();
    let root = &cfg.output.dir;
    let unchanged_since = |load_s: f64, prev: Option<Prev>| Updated {
        generation: None,
        dir: None,
        entry: None,
        prev,
        incremental: true,
        tiles: None,
        patches: None,
        from_generation: current_number(root),
        summary_text: String::new(),
        timings: vec![("load", load_s), ("total", t0.elapsed().as_secs_f64())],
    };
    // the files' hashes first: a save that changed nothing costs reading them, no more
    if current_number(root).is_some() && files_unchanged(cfg, &current_dir(root)) {
        return Ok(unchanged_since(0.0, prev));
    }
    let ds = crate::pipeline::load(cfg)?;
    let load_s = t0.elapsed().as_secs_f64();
    let cur = current_number(root).map(|_| current_dir(root));
    if cur.as_ref().is_some_and(|c| unchanged(&ds, c)) {
        // nothing to do: the inputs read as the current generation's (a database's
        // tables, or files whose bytes changed but not what they say)
        return Ok(unchanged_since(load_s, prev));
    }
    let tiles_on = cfg.tiles.enabled;
    let t1 = Instant::now();
    let an = crate::analyze::run(&ds, &cfg.analyze_params())?;
    let analyse_s = t1.elapsed().as_secs_f64();
    let old = match (&cur, tiles_on) {
        (Some(cur), true) => prev
            .filter(|p| p.generation.is_some() && p.generation == current_number(root))
            .or_else(|| prev_of(cfg, cur)),
        _ => None,
    };
    let (ds, an) = (Arc::new(ds), Arc::new(an));
    let t = Instant::now();
    let fp = match &old {
        Some(p) => crate::render::footprint::Footprint::between(&p.ds, &p.an, &ds, &an),
        None => crate::render::footprint::Footprint::everything(),
    };
    let footprint_s = t.elapsed().as_secs_f64();
    let incremental = !fp.all;
    let carry_tiles = incremental && tiles_on;
    let prev_dir = cur.clone();
    let from_generation = current_number(root);
    let reuse = prev_dir
        .as_deref()
        .filter(|_| incremental)
        .map(|p| crate::tiles::Reuse {
            prev: p,
            footprint: &fp,
        });
    let topts = crate::tiles::TilesOptions {
        quiet,
        ..Default::default()
    };
    // a few places changed: their tiles drawn now, patched into copies of the archives
    // in the new generation below
    let t = Instant::now();
    let draw = || -> Result<Option<crate::tiles::Drawn>> {
        Ok(match (tiles_on, &reuse, &old) {
            (true, Some(r), Some(o)) => {
                let cache = o.samples.lock().unwrap_or_else(|e| e.into_inner());
                let old_r = crate::render::Renderer::new(&o.ds, &o.an, &o.ds.style);
                crate::tiles::draw(
                    &ds,
                    &an,
                    &old_r,
                    &cfg.tiles_params(),
                    &topts,
                    r,
                    Some(&cache),
                )?
            }
            _ => None,
        })
    };
    // for serve --watch, the GeoJSON drawn in memory meanwhile (the files get them too)
    let want_geojson = early.is_some();
    let (drawn, geojson) = rayon::join(draw, || {
        let t = Instant::now();
        want_geojson
            .then(|| crate::build::geojson_outputs(&ds, &an, cfg))
            .transpose()
            .map(|g| (g, t.elapsed().as_secs_f64()))
    });
    let drawn = drawn?;
    let (geojson, geojson_s) = geojson?;
    let draw_s = t.elapsed().as_secs_f64();
    let mut secs = (0.0, 0.0);
    // seconds from the start to the new state handed over
    let mut early_s = None;
    let ((written, tiles, entry), dir) = crate::build::in_generation(
        cfg,
        |name| {
            matches!(name, "history" | "changes")
                || (carry_tiles && matches!(name, "mbtiles" | "pmtiles" | "tiles" | "tilejson"))
        },
        |dir, number| {
            let mut c = cfg.clone();
            c.output.dir = dir.to_path_buf();
            let c = &c;
            let summary = crate::build::summary_value(&ds, cfg, &an);
            let entry = record(
                cfg,
                prev_dir.as_deref(),
                dir,
                Some(&summary),
                number,
                &ds,
                by,
                incremental,
            );
            // serve --watch: the new state served now, its files following
            if let (Some(f), Some(d), Some(g)) = (early, &drawn, &geojson) {
                f(Early {
                    ds: &ds,
                    an: &an,
                    patches: &d.pyramids,
                    geojson: g,
                    entry: &entry,
                    generation: number,
                    from_generation,
                });
                early_s = Some(t0.elapsed().as_secs_f64());
            }
            // the archives (mostly waiting on the disk) written while the other outputs
            // are (mostly computing)
            let (written, tiles) = std::thread::scope(|s| {
                let job = s.spawn(|| -> Result<_, crate::Error> {
                    let t = Instant::now();
                    let r = match (&drawn, &prev_dir) {
                        (Some(d), Some(prev)) => {
                            let mut r = d.report.clone();
                            r.outputs = d.write(prev, dir)?;
                            r
                        }
                        _ => crate::tiles::run_reusing(
                            &ds,
                            &an,
                            &c.tiles_params(),
                            &topts,
                            reuse.as_ref(),
                        )?,
                    };
                    Ok((r, t.elapsed().as_secs_f64()))
                });
                let tiles_job = tiles_on.then_some(job);
                let t = Instant::now();
                let w = crate::build::build_outputs(
                    &ds,
                    &an,
                    c,
                    &Default::default(),
                    geojson.as_deref(),
                );
                let out_s = t.elapsed().as_secs_f64();
                let tiles = tiles_job.map(|j| {
                    j.join().unwrap_or_else(|_| {
                        Err(crate::Error::Input("tile writer thread panicked".into()))
                    })
                });
                (w.map(|w| (w, out_s)), tiles)
            });
            let (written, out_s) = written?;
            secs.0 = out_s;
            let tiles = match tiles {
                Some(r) => {
                    let (r, s) = r?;
                    secs.1 = s;
                    Some(r)
                }
                None => None,
            };
            crate::export::changes::write(dir, &entry).map_err(|source| crate::Error::Io {
                path: dir.join("changes"),
                source,
            })?;
            Ok((written, tiles, entry))
        },
    )?;
    let (patches, samples) = match drawn {
        Some(d) => (Some(d.pyramids), d.samples),
        None => (None, Vec::new()),
    };
    let generation = current_number(root);
    // the samples cache now describes the new generation: the old one's, with the
    // samples this update drew (a full render starts it afresh)
    let cache = match old.filter(|_| patches.is_some()) {
        Some(o) => {
            {
                let mut c = o.samples.lock().unwrap_or_else(|e| e.into_inner());
                c.merge(samples);
            }
            o.samples
        }
        None => Default::default(),
    };
    Ok(Updated {
        generation,
        dir: Some(dir),
        entry: Some(entry),
        summary_text: written.summary_text.clone(),
        prev: Some(Prev {
            ds,
            an,
            generation,
            samples: cache,
        }),
        incremental,
        tiles,
        patches,
        from_generation,
        timings: {
            let mut t = vec![
                ("load", load_s),
                ("analyse", analyse_s),
                ("footprint", footprint_s),
                ("draw", draw_s),
            ];
            if geojson.is_some() {
                t.push(("geojson", geojson_s));
            }
            if let Some(at) = early_s {
                t.push(("served", at));
            }
            t.extend([
                ("outputs", secs.0),
                ("tiles", secs.1),
                ("total", t0.elapsed().as_secs_f64()),
            ]);
            t
        },
    })
}

fn level_en(key: &str) -> &'static str {
    match key {
        "red" => "red",
        "orange" => "orange",
        "yellow" => "yellow",
        "blue" => "blue",
        "unassessed" => "unassessed",
        _ => "none",
    }
}

fn level_zh(key: &str) -> &'static str {
    match key {
        "red" => "重大",
        "orange" => "较大",
        "yellow" => "一般",
        "blue" => "低",
        "unassessed" => "未评估",
        _ => "无",
    }
}

fn rank(key: &str) -> u8 {
    match key {
        "red" => 4,
        "orange" => 3,
        "yellow" => 2,
        "blue" => 1,
        _ => 0,
    }
}

fn item(kind: &str, kind_zh: &str) -> Item {
    Item {
        kind: kind.into(),
        kind_zh: kind_zh.into(),
        ..Default::default()
    }
}

/// What changed from the snapshot and summary of `prev_dir` to those of `dir` (the
/// generation being written, its summary.json already there).
pub fn changes(
    prev_dir: Option<&Path>,
    dir: &Path,
    new_summary: Option<&Value>,
    ds: &Dataset,
) -> Vec<Item> {
    let new = Snapshot::of(ds);
    let old: Option<Snapshot> = prev_dir
        .and_then(|p| std::fs::read(p.join("snapshot.json")).ok())
        .and_then(|b| serde_json::from_slice(&b).ok());
    let mut items = Vec::new();
    let Some(old) = old else {
        return items;
    };
    let o: BTreeMap<&str, _> = old.enterprises.iter().map(|e| (e.id.as_str(), e)).collect();
    let n: BTreeMap<&str, _> = new.enterprises.iter().map(|e| (e.id.as_str(), e)).collect();
    for (id, e) in &n {
        let base = |kind: &str, kind_zh: &str| Item {
            id: Some(id.to_string()),
            name: Some(e.name.clone()),
            district: e.district.clone(),
            reason_zh: Some(e.reason_zh.clone()),
            to: Some(e.level.clone()),
            ..item(kind, kind_zh)
        };
        match o.get(id) {
            None => items.push(base("added", "新增")),
            Some(p) if p.level != e.level => {
                let up = rank(&e.level) > rank(&p.level);
                let mut it = if up {
                    base("level_up", "升级")
                } else {
                    base("level_down", "降级")
                };
                it.from = Some(p.level.clone());
                items.push(it);
            }
            _ => {}
        }
    }
    for (id, p) in &o {
        if !n.contains_key(id) {
            items.push(Item {
                id: Some(id.to_string()),
                name: Some(p.name.clone()),
                district: p.district.clone(),
                from: Some(p.level.clone()),
                ..item("removed", "移除")
            });
        }
    }
    let od: BTreeMap<&str, _> = old.dangers.iter().map(|d| (d.id.as_str(), d)).collect();
    let nd: BTreeMap<&str, _> = new.dangers.iter().map(|d| (d.id.as_str(), d)).collect();
    let who = |eid: &str| {
        n.get(eid)
            .or_else(|| o.get(eid))
            .map(|e| (e.name.clone(), e.district.clone()))
            .unwrap_or_default()
    };
    for (id, d) in &nd {
        if d.open && !od.get(id).is_some_and(|x| x.open) {
            let (name, district) = who(&d.enterprise_id);
            items.push(Item {
                id: Some(id.to_string()),
                enterprise_id: Some(d.enterprise_id.clone()),
                name: Some(name),
                district,
                grade: Some(d.grade.clone()),
                ..item("danger_opened", "隐患新增")
            });
        }
    }
    for (id, d) in &od {
        if d.open && !nd.get(id).is_some_and(|x| x.open) {
            let (name, district) = who(&d.enterprise_id);
            items.push(Item {
                id: Some(id.to_string()),
                enterprise_id: Some(d.enterprise_id.clone()),
                name: Some(name),
                district,
                grade: Some(d.grade.clone()),
                ..item("danger_closed", "隐患销号")
            });
        }
    }
    // districts and zones, from the two summaries
    let (Some(a), Some(b)) = (
        prev_dir.and_then(|p| read_json(&p.join("summary.json"))),
        new_summary
            .cloned()
            .or_else(|| read_json(&dir.join("summary.json"))),
    ) else {
        return items;
    };
    if let (Some(x), Some(y)) = (
        a["areas"]["districts"].as_object(),
        b["areas"]["districts"].as_object(),
    ) {
        for (name, v) in y {
            let (from, to) = (
                x.get(name)
                    .and_then(|o| o["level"].as_str())
                    .unwrap_or("none"),
                v["level"].as_str().unwrap_or("none"),
            );
            if from != to {
                items.push(Item {
                    name: Some(name.clone()),
                    district: Some(name.clone()),
                    from: Some(from.into()),
                    to: Some(to.into()),
                    reason_zh: v["reason"].as_str().map(str::to_string),
                    ..item("district_level", "区县等级变化")
                });
            }
        }
    }
    for l in ["red", "orange", "yellow", "blue"] {
        let km = |v: &Value| v["surface"]["zones"][l]["area_km2"].as_f64();
        if let (Some(x), Some(y)) = (km(&a), km(&b)) {
            if x != y {
                items.push(Item {
                    to: Some(l.into()),
                    km2: Some([x, y]),
                    ..item("zones", "风险区变化")
                });
            }
        }
    }
    items
}

/// The change record of generation `number` (written into `dir`; its summary.json, or
/// `new_summary` before it is written), with its alerts.
#[allow(clippy::too_many_arguments)]
pub fn record(
    cfg: &Config,
    prev_dir: Option<&Path>,
    dir: &Path,
    new_summary: Option<&Value>,
    number: u64,
    ds: &Dataset,
    by: &str,
    incremental: bool,
) -> Entry {
    let items = changes(prev_dir, dir, new_summary, ds);
    let time = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    // the earlier records only for a rule over a period (up to 500 files to read)
    let over_time = cfg
        .alerts
        .iter()
        .any(|r| r.kind == AlertKind::RedsInDistrict);
    let log = prev_dir
        .filter(|_| over_time)
        .map(|p| crate::export::changes::read_since(p, None))
        .unwrap_or_default();
    let alerts = alerts(&cfg.alerts, &items, &log, &time);
    Entry {
        generation: number,
        previous: prev_dir.and_then(|p| p.file_name()?.to_str()?.parse().ok()),
        time,
        by: by.into(),
        incremental,
        items,
        alerts,
    }
}

/// Seconds since the epoch of an RFC 3339 time.
fn epoch(t: &str) -> Option<f64> {
    humantime::parse_rfc3339(t)
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs_f64())
}

fn becomes_red(i: &Item) -> bool {
    matches!(i.kind.as_str(), "level_up" | "added") && i.to.as_deref() == Some("red")
}

/// The alerts `rules` raise on `items` (`log`: the earlier records, for rules over a
/// period).
pub fn alerts(rules: &[AlertRule], items: &[Item], log: &[Entry], now: &str) -> Vec<Alert> {
    let mut out = Vec::new();
    let in_district = |r: &AlertRule, i: &Item| {
        r.district
            .as_deref()
            .is_none_or(|d| i.district.as_deref() == Some(d))
    };
    for r in rules {
        let name = r.name.clone().unwrap_or_else(|| r.kind.key().to_string());
        let mut push = |message_zh: String, message: String, about: Vec<String>| {
            out.push(Alert {
                rule: name.clone(),
                kind: r.kind.key().into(),
                message_zh,
                message,
                about,
            })
        };
        match r.kind {
            AlertKind::EnterpriseRed => {
                for i in items.iter().filter(|i| becomes_red(i) && in_district(r, i)) {
                    let (id, n, d) = (
                        i.id.clone().unwrap_or_default(),
                        i.name.clone().unwrap_or_default(),
                        i.district.clone().unwrap_or_default(),
                    );
                    let f = i.from.as_deref().unwrap_or("none");
                    let (from, from_en) = (level_zh(f), level_en(f));
                    let why = i.reason_zh.clone().unwrap_or_default();
                    push(
                        format!("{d}{n}（{id}）升为重大风险（原为{from}）：{why}"),
                        format!("{n} ({id}, {d}) is now red (was {from_en}): {why}"),
                        vec![id],
                    );
                }
            }
            AlertKind::MajorDangerOpened => {
                for i in items.iter().filter(|i| {
                    i.kind == "danger_opened"
                        && i.grade.as_deref().is_some_and(|g| g.contains("重大"))
                        && in_district(r, i)
                }) {
                    let (id, e, n, d) = (
                        i.id.clone().unwrap_or_default(),
                        i.enterprise_id.clone().unwrap_or_default(),
                        i.name.clone().unwrap_or_default(),
                        i.district.clone().unwrap_or_default(),
                    );
                    push(
                        format!("{d}{n}（{e}）新增未整改重大事故隐患 {id}"),
                        format!("a new open major hidden danger {id} at {n} ({e}, {d})"),
                        vec![id, e],
                    );
                }
            }
            AlertKind::DistrictUp => {
                for i in items.iter().filter(|i| {
                    i.kind == "district_level"
                        && rank(i.to.as_deref().unwrap_or(""))
                            > rank(i.from.as_deref().unwrap_or(""))
                        && in_district(r, i)
                }) {
                    let d = i.district.clone().unwrap_or_default();
                    let (f, t) = (
                        i.from.as_deref().unwrap_or("none"),
                        i.to.as_deref().unwrap_or("none"),
                    );
                    push(
                        format!("{d}风险等级由{}升为{}", level_zh(f), level_zh(t)),
                        format!("{d} rose from {} to {}", level_en(f), level_en(t)),
                        vec![d],
                    );
                }
            }
            // raised by `serve` as readings arrive (live_cmd::monitoring_feeds), not by
            // what a generation changed
            AlertKind::MonitoringAlarm => {}
            AlertKind::RedsInDistrict => {
                let since = epoch(now).unwrap_or(0.0) - r.within_hours * 3600.0;
                let mut by: BTreeMap<String, Vec<String>> = BTreeMap::new();
                let earlier = log
                    .iter()
                    .filter(|e| epoch(&e.time).is_some_and(|t| t >= since))
                    .flat_map(|e| e.items.iter());
                let now_reds: Vec<&Item> = items.iter().filter(|i| becomes_red(i)).collect();
                for i in earlier
                    .filter(|i| becomes_red(i))
                    .chain(now_reds.iter().copied())
                {
                    if in_district(r, i) {
                        by.entry(i.district.clone().unwrap_or_default())
                            .or_default()
                            .push(i.id.clone().unwrap_or_default());
                    }
                }
                for (d, ids) in by {
                    // raised when this update brings the district to the count
                    let here = now_reds
                        .iter()
                        .filter(|i| i.district.as_deref().unwrap_or("") == d)
                        .count();
                    let n = ids.len();
                    if here > 0 && n >= r.count && n - here < r.count {
                        let h = r.within_hours;
                        push(
                            format!("{d}{h} 小时内新增 {n} 家重大风险企业"),
                            format!("{n} new red enterprises in {d} within {h} h"),
                            ids,
                        );
                    }
                }
            }
        }
    }
    out
}

/// The JSON a webhook receives for one alert.
pub fn webhook_body(entry: &Entry, alert: &Alert, title: &str) -> Value {
    serde_json::json!({
        "source": "riskmap",
        "title": title,
        "generation": entry.generation,
        "time": entry.time,
        "alert": alert,
        "items": entry.items.iter().filter(|i| {
            i.id.as_ref().is_some_and(|id| alert.about.contains(id))
                || i.district.as_ref().is_some_and(|d| alert.about.contains(d) && i.kind == "district_level")
        }).collect::<Vec<_>>(),
    })
}

/// Send the webhooks of an entry's alerts (queued; returns at once).
pub fn send_webhooks(
    cfg: &Config,
    entry: &Entry,
    title: &str,
    hooks: &crate::export::webhook::Webhooks,
) {
    for a in &entry.alerts {
        if let Some(url) = cfg
            .alerts
            .iter()
            .find(|r| r.name.clone().unwrap_or_else(|| r.kind.key().to_string()) == a.rule)
            .and_then(|r| r.webhook.as_deref())
        {
            hooks.send(url, webhook_body(entry, a, title));
        }
    }
}

/// The alerts of an entry, as printed.
pub fn alert_lines(entry: &Entry) -> Vec<String> {
    entry
        .alerts
        .iter()
        .map(|a| {
            let (r, m) = (
                &a.rule,
                if riskmap_core::i18n::lang() == riskmap_core::i18n::Lang::En {
                    &a.message
                } else {
                    &a.message_zh
                },
            );
            tr!("预警［{r}］：{m}", "alert [{r}]: {m}")
        })
        .collect()
}

/// The database tables a config reads (sections without a file or a query): what
/// `riskmap db install-triggers` puts triggers on and `serve --watch` hears of.
pub fn db_tables(cfg: &Config) -> Vec<String> {
    if cfg.database.url.is_none() {
        return vec![];
    }
    let mut v = Vec::new();
    for (t, default) in [
        (&cfg.enterprises, "enterprises"),
        (&cfg.assessments, "assessments"),
        (&cfg.hazards, "hidden_dangers"),
        (&cfg.sites, "sites"),
        (&cfg.resources, "resources"),
        (&cfg.lifelines, "lifelines"),
        (&cfg.roads, "roads"),
        (&cfg.monitoring_points, "monitoring_points"),
    ] {
        if t.path.is_none() && t.sql.is_none() {
            v.push(t.table.clone().unwrap_or_else(|| default.to_string()));
        }
    }
    let b = &cfg.boundaries;
    if b.path.is_none() && b.sql.is_none() {
        v.push(b.table.clone().unwrap_or_else(|| "boundaries".to_string()));
    }
    v
}

/// The files to watch for a config: its input files (and the config itself).
pub fn watched(cfg: &Config, config_file: Option<&Path>) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = input_files(cfg).into_iter().map(|(_, p)| p).collect();
    v.extend(config_file.map(Path::to_path_buf));
    v.iter()
        .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()))
        .collect()
}

/// Follow the input files: once when the watch is set (edits made before it), then
/// after every burst of saves has settled (`quiet`), call `changed` (false stops).
/// Watches the files' folders (an editor saves by writing a new file and renaming it
/// over the old one, which a watch on the file itself would lose). Blocks.
pub fn watch(
    files: Vec<PathBuf>,
    quiet: std::time::Duration,
    mut changed: impl FnMut() -> bool,
) -> Result<()> {
    use notify::{RecursiveMode, Watcher};
    let (tx, rx) = std::sync::mpsc::channel();
    let mut w = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
        if let Ok(ev) = ev {
            let _ = tx.send(ev);
        }
    })
    .context(tr!("无法监视输入文件", "cannot watch the input files"))?;
    let mut dirs: Vec<PathBuf> = files
        .iter()
        .filter_map(|p| p.parent().map(Path::to_path_buf))
        .collect();
    dirs.sort();
    dirs.dedup();
    for d in &dirs {
        w.watch(d, RecursiveMode::NonRecursive).with_context(|| {
            let d = d.display();
            tr!("无法监视 {d}", "cannot watch {d}")
        })?;
    }
    let names: Vec<std::ffi::OsString> = files
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_os_string()))
        .collect();
    let ours = |ev: &notify::Event| {
        !matches!(ev.kind, notify::EventKind::Access(_))
            && ev.paths.iter().any(|p| {
                p.file_name().is_some_and(|n| names.iter().any(|m| m == n))
                    && files
                        .iter()
                        .any(|f| f.parent() == p.parent() || Some(f.as_path()) == Some(p))
            })
    };
    if !changed() {
        return Ok(());
    }
    loop {
        let Ok(ev) = rx.recv() else {
            return Ok(());
        };
        if !ours(&ev) {
            continue;
        }
        // a burst of saves: wait until the files are quiet (at most 10 × quiet)
        let start = Instant::now();
        while start.elapsed() < quiet * 10 {
            match rx.recv_timeout(quiet) {
                Ok(_) => continue,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => break,
                Err(_) => return Ok(()),
            }
        }
        if !changed() {
            return Ok(());
        }
    }
}
