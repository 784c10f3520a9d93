//! `riskmap build`: load, run every configured stage, write all outputs as one atomic set.

use crate::analyze::{self, Analysis};
use crate::config::Config;
use crate::crs::Crs;
use crate::export::{self, summary, OutputSet};
use crate::model::{level_slot, LEVEL_KEYS};
use crate::pipeline::Dataset;
use crate::Error;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Options of a build beyond the config.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Any rejected row fails the run and nothing is written.
    pub strict: bool,
}

/// What a build wrote.
pub struct BuildReport {
    pub outputs: Vec<PathBuf>,
    pub summary_text: String,
    pub rows_rejected: usize,
    pub analysis: Analysis,
    /// Seconds per stage (analysis stages, then `write`).
    pub timings: Vec<(&'static str, f64)>,
}

/// Stages files into an [`OutputSet`] and remembers their names.
struct Stager {
    set: OutputSet,
    out: PathBuf,
    names: Vec<String>,
}

impl Stager {
    fn file(
        &mut self,
        name: &str,
        f: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<(), Error> {
        let p = self.out.join(name);
        let t = std::time::Instant::now();
        self.set.stage(&p, f).map_err(|source| Error::Io {
            path: p.clone(),
            source,
        })?;
        if std::env::var_os("RISKMAP_DEBUG").is_some() {
            eprintln!("write: {name} {:.2} s", t.elapsed().as_secs_f64());
        }
        self.names.push(name.to_string());
        Ok(())
    }

    /// A GeoJSON output in WGS84 and in every extra CRS of `output.crs_out`.
    fn geojson(&mut self, cfg: &Config, stem: &str, f: GeoWriter) -> Result<(), Error> {
        for (name, crs) in geojson_names(cfg, stem) {
            self.file(&name, |w| f(w, crs))?;
        }
        Ok(())
    }
}

/// Write every output of a loaded dataset into the configured output folder.
pub fn build(ds: &Dataset, cfg: &Config, opts: &BuildOptions) -> Result<BuildReport, Error> {
    let rows_rejected: usize = ds.inputs.iter().map(|i| i.rows_rejected).sum();
    if opts.strict && rows_rejected > 0 {
        return Err(Error::Strict(rows_rejected));
    }
    let analysis = analyze::run(ds, &cfg.analyze_params())?;
    build_analysed(ds, analysis, cfg, opts)
}

/// [`build`] with the dataset's analysis already run (`riskmap update` has it).
pub fn build_analysed(
    ds: &Dataset,
    analysis: Analysis,
    cfg: &Config,
    opts: &BuildOptions,
) -> Result<BuildReport, Error> {
    let w = build_outputs(ds, &analysis, cfg, opts, None)?;
    Ok(BuildReport {
        outputs: w.outputs,
        summary_text: w.summary_text,
        rows_rejected: w.rows_rejected,
        analysis,
        timings: w.timings,
    })
}

/// What [`build_outputs`] wrote.
pub struct Written {
    pub outputs: Vec<PathBuf>,
    pub summary_text: String,
    pub rows_rejected: usize,
    pub timings: Vec<(&'static str, f64)>,
}

/// A GeoJSON writer of one output in a CRS.
type GeoWriter<'a> = &'a dyn Fn(&mut dyn Write, Crs) -> std::io::Result<()>;

/// Every GeoJSON output of a build, in order: `sink` gets its stem and its writer.
fn each_geojson(
    ds: &Dataset,
    analysis: &Analysis,
    dec: u32,
    sink: &mut dyn FnMut(&str, GeoWriter) -> Result<(), Error>,
) -> Result<(), Error> {
    sink("enterprises", &|w, crs| {
        export::geojson::write_enterprises(w, ds, crs, dec)
    })?;
    if !ds.districts.is_empty() {
        sink("districts", &|w, crs| {
            export::geojson::write_districts(w, ds, crs, dec)
        })?;
    }
    if let Some(a) = &analysis.areas {
        sink("areas", &|w, crs| {
            export::analysis::write_areas_geojson(w, ds, a, "areas", crs, dec)
        })?;
    }
    if let Some(a) = &analysis.streets {
        sink("areas_streets", &|w, crs| {
            export::analysis::write_areas_geojson(w, ds, a, "areas_streets", crs, dec)
        })?;
    }
    if let Some(g) = &analysis.grid {
        sink("grid", &|w, crs| {
            export::analysis::write_grid(w, ds, g, crs, dec)
        })?;
    }
    if let Some(z) = &analysis.zones {
        sink("zones", &|w, crs| {
            export::analysis::write_zones(w, ds, z, crs, dec)
        })?;
    }
    if let Some(x) = &analysis.exposure {
        sink("exposure", &|w, crs| {
            export::analysis::write_exposure_geojson(w, ds, x, crs, dec)
        })?;
    }
    if !ds.resources.is_empty() {
        sink("resources", &|w, crs| {
            export::emergency::write_resources_geojson(w, ds, crs, dec)
        })?;
    }
    if let Some(em) = analysis
        .emergency
        .as_ref()
        .filter(|e| !e.stations.is_empty())
    {
        sink("fire_reach", &|w, crs| {
            export::emergency::write_fire_reach_geojson(w, ds, em, crs, dec)
        })?;
    }
    if let Some(ll) = &analysis.lifelines {
        sink("lifelines", &|w, crs| {
            export::lifelines::write_lifelines_geojson(w, ds, ll, &analysis.frame, crs, dec)
        })?;
        sink("lifeline_segments", &|w, crs| {
            export::lifelines::write_segments_geojson(w, ds, ll, crs, dec)
        })?;
    }
    if let Some(rp) = &analysis.monitoring {
        sink("monitoring", &|w, crs| {
            export::monitoring::write_monitoring_geojson(w, ds, rp, crs, dec)
        })?;
    }
    Ok(())
}

/// The GeoJSON outputs of a build in memory (file name, bytes), the same bytes
/// [`build_outputs`] writes (`serve --watch` serves them before the files are written).
pub fn geojson_outputs(
    ds: &Dataset,
    analysis: &Analysis,
    cfg: &Config,
) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let mut out = Vec::new();
    each_geojson(ds, analysis, cfg.output.decimals, &mut |stem, f| {
        for (name, crs) in geojson_names(cfg, stem) {
            let mut b = Vec::new();
            f(&mut b, crs).map_err(|source| Error::Io {
                path: cfg.output.dir.join(&name),
                source,
            })?;
            out.push((name, b));
        }
        Ok(())
    })?;
    Ok(out)
}

/// The files of a GeoJSON output: WGS84, and every extra CRS of `output.crs_out`.
fn geojson_names(cfg: &Config, stem: &str) -> Vec<(String, Crs)> {
    let mut v = vec![(format!("{stem}.geojson"), Crs::Wgs84)];
    for &crs in &cfg.output.crs_out {
        if !matches!(crs, Crs::Wgs84 | Crs::Cgcs2000) {
            v.push((format!("{stem}.{crs}.geojson"), crs));
        }
    }
    v
}

/// Every reject of a run (rejects.csv, the report, the database's `rejects`).
pub use export::monitoring::all_rejects;

/// The summary of a build as summary.json holds it, but for its list of files (what an
/// update's change record compares).
pub fn summary_value(ds: &Dataset, cfg: &Config, analysis: &Analysis) -> Value {
    let mut t = summary::tally(ds);
    if let Some(rp) = &analysis.monitoring {
        t.add_rejects(&export::monitoring::refusals_as_rejects(rp));
    }
    summary::summary_json(ds, &t, &[], analysis_summary(ds, cfg, analysis))
}

/// Every output but the tiles, from the dataset and its analysis (`geojson`: the
/// GeoJSON files already drawn by [`geojson_outputs`]).
pub fn build_outputs(
    ds: &Dataset,
    analysis: &Analysis,
    cfg: &Config,
    opts: &BuildOptions,
    geojson: Option<&[(String, Vec<u8>)]>,
) -> Result<Written, Error> {
    let rows_rejected: usize = ds.inputs.iter().map(|i| i.rows_rejected).sum();
    if opts.strict && rows_rejected > 0 {
        return Err(Error::Strict(rows_rejected));
    }
    let dec = cfg.output.decimals;
    let write_clock = std::time::Instant::now();
    let mut st = Stager {
        set: OutputSet::new(),
        out: cfg.output.dir.clone(),
        names: vec![],
    };
    match geojson {
        // drawn already (`serve --watch` served them before writing)
        Some(files) => {
            for (name, bytes) in files {
                st.file(name, |w| w.write_all(bytes))?;
            }
        }
        None => each_geojson(ds, analysis, dec, &mut |stem, f| st.geojson(cfg, stem, f))?,
    }
    if let Some(a) = &analysis.areas {
        st.file("areas.csv", |w| export::analysis::write_areas_csv(w, a))?;
    }
    if let Some(a) = &analysis.streets {
        st.file("areas_streets.csv", |w| {
            export::analysis::write_areas_csv(w, a)
        })?;
    }
    if let Some(s) = &analysis.surface {
        let tif = export::geotiff::encode(s).map_err(|e| {
            Error::Input(riskmap_core::tr!(
                "写 surface.tif 时出错：{e}",
                "encoding surface.tif: {e}"
            ))
        })?;
        st.file("surface.tif", |w| w.write_all(&tif))?;
        let aux = export::geotiff::aux_xml(&ds.style);
        st.file("surface.tif.aux.xml", |w| w.write_all(aux.as_bytes()))?;
    }
    let mut overview_png = None;
    if cfg.overview.enabled {
        let (db, family) = crate::render::overview::fonts(cfg.overview.font.as_deref())
            .map_err(|m| Error::Input(format!("overview: {m}")))?;
        let t = std::time::Instant::now();
        let debug = |what: &str| {
            if std::env::var_os("RISKMAP_DEBUG").is_some() {
                eprintln!(
                    "write: overview {what} at {:.2} s",
                    t.elapsed().as_secs_f64()
                );
            }
        };
        let overview = crate::render::overview::Overview::with(
            ds,
            &analysis,
            &ds.style,
            &crate::render::overview::OverviewParams {
                width: cfg.overview.width,
                fill_districts: cfg.overview.fill_districts,
            },
            &family,
        );
        let svg = overview.svg();
        debug("SVG");
        let (w, h, rgba) = overview.rasterize(db, &family).map_err(Error::Input)?;
        debug("rasterised");
        let png = crate::render::png::encode_rgba(w, h, &rgba)
            .map_err(|e| Error::Input(format!("overview.png: {e}")))?;
        debug("PNG");
        st.file("overview.svg", |w| w.write_all(svg.as_bytes()))?;
        st.file("overview.png", |w| w.write_all(&png))?;
        overview_png = Some(png);
    }
    if let Some(x) = &analysis.exposure {
        st.file("exposure.csv", |w| {
            export::analysis::write_exposure_csv(w, ds, x, dec)
        })?;
    }
    if let Some(em) = &analysis.emergency {
        st.file("emergency.csv", |w| {
            export::emergency::write_emergency_csv(w, ds, em)
        })?;
    }
    if let Some(ll) = &analysis.lifelines {
        st.file("lifelines.csv", |w| {
            export::lifelines::write_lifelines_csv(w, ds, ll)
        })?;
        st.file("lifeline_segments.csv", |w| {
            export::lifelines::write_segments_csv(w, ds, ll)
        })?;
    }
    if let Some(rp) = &analysis.monitoring {
        st.file("monitoring.csv", |w| {
            export::monitoring::write_monitoring_csv(w, ds, rp)
        })?;
        st.file("alarm_events.csv", |w| {
            export::monitoring::write_alarm_events_csv(w, rp)
        })?;
    }
    st.file("rejects.csv", |w| {
        export::tables::write_rejects(w, &all_rejects(ds, &analysis))
    })?;
    // the register's snapshot for the next run's "what changed", and the report
    let snapshot = cfg
        .report
        .enabled
        .then(|| crate::report::history::Snapshot::of(ds));
    let out_dir = cfg.output.dir.clone();
    if let Some(snapshot) = &snapshot {
        let changes = crate::report::history::previous(&out_dir, snapshot)
            .map(|(name, old)| crate::report::history::diff(name, &old, snapshot));
        let r = crate::report::assemble(ds, &analysis, overview_png.clone(), changes);
        for (name, bytes) in crate::report::files(&r)? {
            st.file(&name, |w| w.write_all(&bytes))?;
        }
    }
    // what the live map compares the next run with: the graded register, and the input
    // files as read (an edited file cannot tell what it was)
    let live = crate::report::history::Snapshot::of(ds).to_bytes();
    st.file("snapshot.json", |w| w.write_all(&live))?;
    for (role, path) in crate::live::input_files(cfg) {
        let name = crate::live::saved_input_name(role, &path);
        st.file(&name, |w| {
            let mut f = std::fs::File::open(&path)?;
            std::io::copy(&mut f, w).map(|_| ())
        })?;
    }
    // the vector tiles (their archives are written and renamed into place here)
    let mut vector_out = Vec::new();
    let mut vector_s = None;
    if cfg.vector.enabled {
        let t = std::time::Instant::now();
        let r = export::vector::run(ds, analysis, &cfg.vector_params())?;
        for o in &r.oversize {
            eprintln!(
                "{}",
                riskmap_core::tr!(
                    "警告：矢量瓦片 {o}（重大风险企业从不删减）",
                    "warning: vector tile {o} (red enterprises are never dropped)"
                )
            );
        }
        for p in &r.outputs {
            if let Ok(rel) = p.strip_prefix(&st.out) {
                st.names.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
        vector_out = r.outputs;
        vector_s = Some(t.elapsed().as_secs_f64());
        if std::env::var_os("RISKMAP_DEBUG").is_some() {
            eprintln!("write: vector tiles {:.2} s", t.elapsed().as_secs_f64());
        }
    }
    let mut t = summary::tally(ds);
    if let Some(rp) = &analysis.monitoring {
        t.add_rejects(&export::monitoring::refusals_as_rejects(rp));
    }
    st.names.push("summary.json".into());
    let json = summary::summary_json(ds, &t, &st.names, analysis_summary(ds, cfg, &analysis));
    let bytes = serde_json::to_vec_pretty(&json).unwrap_or_default();
    st.names.pop();
    st.file("summary.json", |w| w.write_all(&bytes))?;
    // (the snapshots feed the report's "what changed": kept when the report is on)
    if let Some(snapshot) = &snapshot {
        if let Some(name) = crate::report::history::next_name(&out_dir, snapshot) {
            let bytes = snapshot.to_bytes();
            st.file(&name, |w| w.write_all(&bytes))?;
        }
    }
    let out = st.out.clone();
    let mut outputs = st
        .set
        .commit()
        .map_err(|source| Error::Io { path: out, source })?;
    outputs.extend(vector_out);
    if cfg.report.enabled {
        crate::report::history::prune(&out_dir, cfg.report.history_keep.max(1));
    }
    let summary_text = format!(
        "{}{}",
        summary::summary_text(ds, &t),
        analysis_text(ds, cfg, &analysis)
    );
    let mut timings = analysis.timings.clone();
    timings.push((
        "write",
        write_clock.elapsed().as_secs_f64() - vector_s.unwrap_or(0.0),
    ));
    if let Some(v) = vector_s {
        timings.push(("vector tiles", v));
    }
    Ok(Written {
        outputs,
        summary_text,
        rows_rejected,
        timings,
    })
}

fn per_level(items: impl Iterator<Item = Option<crate::model::Level>>) -> [usize; 5] {
    let mut c = [0; 5];
    for l in items {
        c[level_slot(l)] += 1;
    }
    c
}

fn counts_obj(c: &[usize; 5]) -> Value {
    let mut m = Map::new();
    for (k, v) in LEVEL_KEYS.iter().zip(c) {
        m.insert(k.to_string(), json!(v));
    }
    Value::Object(m)
}

/// Exposed sites by type and level.
pub fn exposure_by_type(ds: &Dataset, a: &Analysis) -> BTreeMap<String, [usize; 5]> {
    let mut m: BTreeMap<String, [usize; 5]> = BTreeMap::new();
    for x in a.exposure.iter().flatten() {
        m.entry(ds.sites[x.site].kind.clone()).or_default()[level_slot(Some(x.level))] += 1;
    }
    m
}

/// The analysis sections of summary.json.
pub fn analysis_summary(ds: &Dataset, cfg: &Config, a: &Analysis) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "metric_crs".into(),
        json!({"name": a.frame.utm.name(), "epsg": a.frame.utm.epsg()}),
    );
    if let Some(areas) = &a.areas {
        let levels: BTreeMap<&str, Value> = areas
            .iter()
            .map(|x| (x.name.as_str(), json!({"level": if x.total() == 0 { "none" } else { crate::model::level_key(x.level.level) }, "reason": x.level.reason, "area_km2": export::round(x.area_km2, 3), "density_per_km2": export::round(x.density(), 4)})))
            .collect();
        m.insert("areas".into(), json!({"rule": cfg.areas.level.rule, "by_level": counts_obj(&per_level(areas.iter().map(|x| x.level.level))), "districts": levels}));
    }
    if let Some(s) = &a.streets {
        m.insert("areas_streets".into(), json!({"count": s.len(), "by_level": counts_obj(&per_level(s.iter().map(|x| x.level.level)))}));
    }
    if let Some(g) = &a.grid {
        m.insert(
            "grid".into(),
            json!({"kind": cfg.grid.kind, "cell_m": cfg.grid.cell_m, "h3_resolution": cfg.grid.h3_resolution, "cells": g.len(), "by_level": counts_obj(&per_level(g.iter().map(|c| c.level.level)))}),
        );
    }
    if let (Some(s), Some(z)) = (&a.surface, &a.zones) {
        let mut by: Map<String, Value> = Map::new();
        for l in crate::model::Level::ALL {
            let zs: Vec<_> = z.iter().filter(|x| x.level == l).collect();
            by.insert(l.key().into(), json!({"zones": zs.len(), "area_km2": export::round(zs.iter().map(|x| x.area_km2).sum::<f64>(), 3)}));
        }
        m.insert(
            "surface".into(),
            json!({"resolution_m": s.res, "width": s.width, "height": s.height, "kernel": cfg.surface.kernel, "combine": cfg.surface.combine,
                   "thresholds": {"blue": s.thresholds[0], "yellow": s.thresholds[1], "orange": s.thresholds[2], "red": s.thresholds[3]}, "zones": by}),
        );
    }
    if let Some(x) = &a.exposure {
        let by: BTreeMap<String, Value> = exposure_by_type(ds, a)
            .into_iter()
            .map(|(k, c)| (k, counts_obj(&c)))
            .collect();
        m.insert(
            "exposure".into(),
            json!({"sites": ds.sites.len(), "exposed": x.len(), "by_type": by}),
        );
    }
    if let Some(em) = &a.emergency {
        let kinds: BTreeMap<&str, usize> = em
            .kinds
            .iter()
            .map(|k| (k.kind.key(), k.members.len()))
            .collect();
        m.insert(
            "emergency".into(),
            json!({"resources": ds.resources.len(), "by_type": kinds,
                   "method": if em.roads.is_some() { "road_network" } else { "straight_line" },
                   "roads": em.roads.as_ref().map(|rr| json!({
                       "roads": ds.roads.len(), "km": export::round(rr.km, 3), "nodes": rr.net.node_count(),
                       "enterprises_off_network": rr.off_network.len(), "resources_off_network": rr.resources_off,
                       "drive_min": export::round(rr.budget_secs / 60.0, 2)})),
                   "fire_stations_counted": em.stations.len(), "fire_reach_m": export::round(em.reach_m, 1),
                   "outside_fire_reach": em.outside().len(), "without_team_or_agreement": em.no_team.len()}),
        );
    }
    if let Some(ll) = &a.lifelines {
        let by_kind: BTreeMap<&str, usize> =
            ds.lifelines.iter().fold(BTreeMap::new(), |mut b, l| {
                *b.entry(l.kind.key()).or_default() += 1;
                b
            });
        let (mut protect, mut control, mut reach) = (0usize, 0usize, 0usize);
        for (_, hs) in ll.flagged() {
            if hs.iter().any(|h| h.in_protect) {
                protect += 1;
            } else if hs.iter().any(|h| h.in_control) {
                control += 1;
            } else {
                reach += 1;
            }
        }
        let km: f64 = ll.lines.iter().map(|l| l.length_m).sum::<f64>() / 1000.0;
        m.insert(
            "lifelines".into(),
            json!({"lines": ds.lifelines.len(), "by_type": by_kind, "length_km": export::round(km, 3),
                   "segments": ll.segments.len(), "near_m": ll.near_m,
                   "enterprises_in_protection_zone": protect, "enterprises_in_control_zone": control,
                   "enterprises_reaching_a_line": reach}),
        );
    }
    if let Some(rp) = &a.monitoring {
        m.insert("monitoring".into(), export::monitoring::summary(rp));
    }
    m
}

/// The analysis lines of the printed summary.
fn analysis_text(ds: &Dataset, cfg: &Config, a: &Analysis) -> String {
    let mut s = String::new();
    let line = |name: &str, c: [usize; 5]| {
        let (r, o, y, b) = (c[0], c[1], c[2], c[3]);
        riskmap_core::tr!(
            "  {name:<22} 重大 {r:>5}  较大 {o:>5}  一般 {y:>5}  低 {b:>5}\n",
            "  {name:<22} red {r:>5}  orange {o:>5}  yellow {y:>5}  blue {b:>5}\n"
        )
    };
    if let Some(areas) = &a.areas {
        s.push_str(&line(
            &{
                let rule = format!("{:?}", cfg.areas.level.rule).to_lowercase();
                riskmap_core::tr!("各区县等级（{rule}）", "districts by level ({rule})")
            },
            per_level(areas.iter().map(|x| x.level.level)),
        ));
    }
    if let Some(st) = &a.streets {
        s.push_str(&line(
            &riskmap_core::tr!("各街道等级", "streets by level"),
            per_level(st.iter().map(|x| x.level.level)),
        ));
    }
    if let Some(g) = &a.grid {
        s.push_str(&line(
            &{
                let n = g.len();
                riskmap_core::tr!("{n} 个网格", "{n} grid cells")
            },
            per_level(g.iter().map(|c| c.level.level)),
        ));
    }
    if let Some(z) = &a.zones {
        let km = |l: crate::model::Level| {
            z.iter()
                .filter(|x| x.level == l)
                .map(|x| x.area_km2)
                .sum::<f64>()
        };
        let (r, o, y, b, n) = (
            km(crate::model::Level::Red),
            km(crate::model::Level::Orange),
            km(crate::model::Level::Yellow),
            km(crate::model::Level::Blue),
            z.len(),
        );
        s.push_str(&riskmap_core::tr!(
            "  风险区（平方千米）     重大 {r:>7.1}  较大 {o:>7.1}  一般 {y:>7.1}  低 {b:>7.1}（{n} 个多边形）\n",
            "  zones (km²)            red {r:>7.1}  orange {o:>7.1}  yellow {y:>7.1}  blue {b:>7.1}  ({n} polygons)\n"
        ));
    }
    if let Some(x) = &a.exposure {
        let (n, all) = (x.len(), ds.sites.len());
        s.push_str(&riskmap_core::tr!(
            "受影响的敏感目标：{n} / {all}\n",
            "exposed sensitive sites: {n} of {all}\n"
        ));
        for (k, c) in exposure_by_type(ds, a) {
            let (r, o) = (c[0], c[1]);
            s.push_str(&riskmap_core::tr!(
                "  {k:<10} 位于重大风险区 {r:>4}  位于较大风险区 {o:>4}\n",
                "  {k:<10} in red {r:>4}  in orange {o:>4}\n"
            ));
        }
    }
    s
}

/// Where the outputs of a config go.
pub fn output_dir(cfg: &Config) -> &Path {
    &cfg.output.dir
}

/// Run `write` into a new generation of the output folder (starting from the current
/// generation's entries that `carry` picks; `write` is given the folder and the
/// generation's number) and switch to it when `write` succeeds; a failed or killed run
/// leaves the current generation as it was. Returns what `write` returned and the new
/// generation's folder.
pub fn in_generation<T>(
    cfg: &Config,
    carry: impl Fn(&str) -> bool,
    write: impl FnOnce(&Path, u64) -> Result<T, Error>,
) -> anyhow::Result<(T, PathBuf)> {
    in_generation_any(cfg, carry, |d, n| write(d, n).map_err(anyhow::Error::from))
}

/// [`in_generation`] for a writer with any error.
pub fn in_generation_any<T>(
    cfg: &Config,
    carry: impl Fn(&str) -> bool,
    write: impl FnOnce(&Path, u64) -> anyhow::Result<T>,
) -> anyhow::Result<(T, PathBuf)> {
    use crate::export::generations::Generations;
    use anyhow::Context;
    let root = &cfg.output.dir;
    let gens = Generations::open(root, cfg.output.generations).with_context(|| {
        let r = root.display();
        riskmap_core::tr!("打开输出目录 {r}", "opening the output folder {r}")
    })?;
    let staging = gens.stage(carry).with_context(|| {
        let r = root.display();
        riskmap_core::tr!(
            "在 {r} 中开始新一代输出",
            "starting a new output generation in {r}"
        )
    })?;
    let t = write(staging.dir(), staging.number())?;
    let dir = gens.commit(staging).with_context(|| {
        let r = root.display();
        riskmap_core::tr!("把 {r} 切换到新的输出", "switching {r} to the new outputs")
    })?;
    Ok((t, dir))
}
