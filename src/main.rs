//! The `riskmap` command line: parse, resolve the config, call one library function.
//! Exit codes: 0 ok, 1 rows rejected under `--strict` (or found by `validate`), 2 error.

use anyhow::{bail, Context, Result};
use riskmap::config::Config;
use riskmap::crs::{parse_lonlat, Crs};
use riskmap::pipeline::{self, Overrides};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod args;
use args::*;

fn overrides(a: &InputArgs, crs: Option<Crs>) -> Overrides {
    Overrides {
        enterprises: a.enterprises.clone(),
        assessments: a.assessments.clone(),
        hazards: a.hazards.clone(),
        sites: a.sites.clone(),
        boundaries: a.boundaries.clone(),
        crs,
        boundaries_crs: a.boundaries_crs,
        out: a.out.clone(),
        crs_out: vec![],
        style: a.style.clone(),
        database: a.db.clone(),
    }
}

/// Load the config (explicit, else ./riskmap.toml unless a register is given) and merge flags.
fn resolve(a: &InputArgs, crs: Option<Crs>, crs_out: &[Crs]) -> Result<Config> {
    let mut cfg = match &a.config {
        Some(p) => Config::load(p)?,
        None if a.enterprises.is_none() && Path::new("riskmap.toml").exists() => {
            Config::load(Path::new("riskmap.toml"))?
        }
        // a one-off run on a register writes the whole set a configured one does: the
        // map files, the tile pyramids in the default formats and the report
        None => Config::one_off(),
    };
    let mut o = overrides(a, crs);
    o.crs_out = crs_out.to_vec();
    o.apply(&mut cfg);
    if let Some(f) = &a.font {
        cfg.overview.font = Some(f.clone());
    }
    Ok(cfg)
}

/// One reject as `validate` and `build --strict` print it: where (file:line), whose
/// (enterprise id, the row's own id), which column and value, why.
fn reject_line(r: &riskmap::ingest::Reject) -> String {
    let mut who = String::new();
    if !r.enterprise_id.is_empty() {
        let id = &r.enterprise_id;
        who = riskmap_core::tr!(" 企业编号={id}", " id={id}");
    }
    if !r.row_id.is_empty() {
        let id = &r.row_id;
        who.push_str(&riskmap_core::tr!(" 记录编号={id}", " row_id={id}"));
    }
    format!(
        "{}:{}{who} [{}] {} ({}): {}",
        r.file,
        r.line,
        r.column,
        r.kind.code(),
        r.value,
        r.message
    )
}

/// [`riskmap::build::in_generation`] for a writer that needs no generation number.
fn in_generation<T>(
    cfg: &Config,
    carry: impl Fn(&str) -> bool,
    write: impl FnOnce(&Path) -> Result<T>,
) -> Result<(T, PathBuf)> {
    riskmap::build::in_generation_any(cfg, carry, |dir, _| write(dir))
}

/// `tiles` and `report` add to the current generation: refuse when its outputs were
/// built from other inputs than the ones just read, so a set never mixes two registers.
fn same_inputs_as_current(ds: &riskmap::pipeline::Dataset, cfg: &Config) -> Result<()> {
    let root = &cfg.output.dir;
    let cur = riskmap::export::generations::current_dir(root);
    riskmap::export::summary::same_inputs(ds, &cur).map_err(|changed| {
        let (r, c) = (root.display(), changed.join(", "));
        anyhow::anyhow!(riskmap_core::tr!(
            "{r} 中的输出生成后，输入已改变（{c}）：请运行 riskmap build 生成一套新的输出",
            "the inputs changed since the outputs in {r} were built ({c}): run `riskmap build` to write a whole new set"
        ))
    })
}

/// The server's state for the generation in `dir`: the inputs loaded and graded, checked
/// against the generation's summary.json (`strict`: a mismatch refuses it, else it is a
/// warning), analysed, with the generation's archives and GeoJSON.
fn load_generation(
    cfg: &Config,
    dir: &Path,
    strict: bool,
) -> std::result::Result<riskmap::serve::State, String> {
    let ds = pipeline::load(cfg).map_err(|e| e.to_string())?;
    if let Err(changed) = riskmap::export::summary::same_inputs(&ds, dir) {
        let (c, d) = (changed.join(", "), dir.display());
        let why = riskmap_core::tr!(
            "{d} 生成后 {c} 已改变：请运行 riskmap build",
            "{c} changed since {d} was built: run `riskmap build`"
        );
        if strict {
            return Err(why);
        }
        eprintln!(
            "{}",
            riskmap_core::tr!(
                "riskmap serve：警告：{why}",
                "riskmap serve: warning: {why}"
            )
        );
    }
    let an = riskmap::analyze::run(&ds, &cfg.analyze_params()).map_err(|e| e.to_string())?;
    riskmap::serve::state(ds, an, dir, &cfg.serve_params()).map_err(|e| e.to_string())
}

/// A path inside a generation folder as users see it: under the output folder.
/// (`p` was written into the generation while it was staged: `gen` with `.partial`.)
fn shown(root: &Path, gen: &Path, p: &Path) -> PathBuf {
    let staged = PathBuf::from(format!("{}.partial", gen.display()));
    p.strip_prefix(gen)
        .or_else(|_| p.strip_prefix(&staged))
        .map_or_else(|_| p.to_path_buf(), |r| root.join(r))
}

/// Print an entry's alerts and send their webhooks (waiting for the deliveries: the
/// generation is switched in already).
fn alert(cfg: &Config, entry: &riskmap::export::changes::Entry, title: &str, quiet: bool) {
    if !quiet {
        for l in riskmap::live::alert_lines(entry) {
            println!("{l}");
        }
    }
    if entry.alerts.is_empty() || cfg.alerts.iter().all(|r| r.webhook.is_none()) {
        return;
    }
    let hooks = riskmap::export::webhook::Webhooks::start(webhook_log);
    riskmap::live::send_webhooks(cfg, entry, title, &hooks);
    hooks.finish();
}

fn webhook_log(url: &str, r: riskmap::export::webhook::Outcome) {
    if let Err(e) = r {
        eprintln!(
            "{}",
            riskmap_core::tr!(
                "riskmap：预警未能送达 {url}：{e}",
                "riskmap: alert not delivered to {url}: {e}"
            )
        );
    }
}

/// What an update did, as printed.
fn print_update(cfg: &Config, u: &riskmap::live::Updated, quiet: bool) {
    if quiet {
        return;
    }
    let total = u.timings.last().map(|t| t.1).unwrap_or(0.0);
    let Some(g) = u.generation else {
        println!(
            "{}",
            riskmap_core::tr!(
                "输入未变，不写新的输出（比较用时 {total:.2} 秒）",
                "the inputs are unchanged: nothing written ({total:.2} s to compare)"
            )
        );
        return;
    };
    let n = u.entry.as_ref().map_or(0, |e| e.items.len());
    let how = if u.incremental {
        riskmap_core::tr!("增量", "incremental")
    } else {
        riskmap_core::tr!("全部重绘", "full")
    };
    let drawn = u.tiles.as_ref().map_or(0, |t| t.written());
    let r = cfg.output.dir.display();
    println!(
        "{}",
        riskmap_core::tr!(
            "已更新 {r}：第 {g} 代（{how}），{n} 项变化，写入瓦片 {drawn} 张，用时 {total:.2} 秒",
            "updated {r}: generation {g} ({how}), {n} changes, {drawn} tiles written, {total:.2} s"
        )
    );
    for i in u.entry.iter().flat_map(|e| e.items.iter()) {
        let who = i.name.clone().or_else(|| i.id.clone()).unwrap_or_default();
        let d = i.district.clone().unwrap_or_default();
        let ft = match (&i.from, &i.to) {
            (Some(f), Some(t)) => format!("{f} → {t}"),
            (None, Some(t)) => t.clone(),
            (Some(f), None) => f.clone(),
            _ => String::new(),
        };
        println!("  {} {who} {d} {ft}", i.kind_zh);
    }
    if std::env::var_os("RISKMAP_DEBUG").is_some() {
        eprintln!("update: {:?}", u.timings);
    }
}

/// `serve --watch`: a thread that follows the input files, updates incrementally and
/// hands each new generation to the server with its dataset (no reload from the inputs).
fn watcher(cfg: &Config, input: InputArgs, crs: Option<Crs>) -> Result<riskmap::serve::Watch> {
    let config_file = input.config.clone().or_else(|| {
        Some(PathBuf::from("riskmap.toml")).filter(|p| p.exists() && input.enterprises.is_none())
    });
    let files = riskmap::live::watched(cfg, config_file.as_deref());
    let tables = riskmap::live::db_tables(cfg);
    let db_url = cfg.database.url.clone().filter(|_| !tables.is_empty());
    let cfg = cfg.clone();
    Ok(Box::new(move |live: riskmap::serve::WatchHandle| {
        let hooks = riskmap::export::webhook::Webhooks::start(webhook_log);
        let prev: Option<riskmap::live::Prev> = None;
        let step = |prev: &mut Option<riskmap::live::Prev>, cfg: &mut Config| {
            // an edited config is read again, with the command's flags (a bad one is
            // reported, the old one kept)
            match resolve(&input, crs, &[]) {
                Ok(c) => *cfg = c,
                Err(e) => eprintln!("riskmap serve --watch: {e:#}"),
            }
            // the server does not load the generation this writes: it is handed over
            let _pending = live.pending();
            match riskmap::live::update(cfg, prev.take(), "watch", true) {
                Ok(u) => {
                    print_update(cfg, &u, false);
                    if let (Some(e), Some(p)) = (&u.entry, &u.prev) {
                        for l in riskmap::live::alert_lines(e) {
                            println!("{l}");
                        }
                        riskmap::live::send_webhooks(cfg, e, &p.ds.title, &hooks);
                    }
                    if let (Some(dir), Some(p)) = (&u.dir, &u.prev) {
                        match riskmap::serve::state_shared(
                            p.ds.clone(),
                            p.an.clone(),
                            dir,
                            &cfg.serve_params(),
                        ) {
                            Ok(st) => live.publish(st),
                            Err(e) => eprintln!("riskmap serve --watch: {e}"),
                        }
                    }
                    *prev = match u.prev {
                        Some(p) => Some(p),
                        // unchanged since the generation served: the server's own state
                        // was read from these very files
                        None if u.generation.is_none() => {
                            let (ds, an, generation) = live.current();
                            Some(riskmap::live::Prev { ds, an, generation })
                        }
                        None => None,
                    };
                }
                Err(e) => eprintln!(
                    "{}",
                    riskmap_core::tr!(
                        "riskmap serve --watch：更新失败，继续发布当前一代：{e:#}",
                        "riskmap serve --watch: update failed, still serving the current generation: {e:#}"
                    )
                ),
            }
        };
        // one update at a time, whichever source saw the change
        let state = std::sync::Mutex::new((prev, cfg));
        let run = || {
            let mut g = state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let (p, c) = &mut *g;
            step(p, c);
        };
        let quiet = std::time::Duration::from_millis(150);
        std::thread::scope(|s| {
            if let Some(url) = &db_url {
                // the tables' triggers (`riskmap db install-triggers`) notify; a lost
                // connection is retried every 5 s
                s.spawn(|| loop {
                    let r = riskmap::ingest::db::connect(url).and_then(|db| {
                        riskmap::ingest::db::listen(db, quiet, || {
                            run();
                            true
                        })
                    });
                    if let Err(e) = r {
                        eprintln!("riskmap serve --watch: {e}");
                    }
                    std::thread::sleep(std::time::Duration::from_secs(5));
                });
            }
            // (the first call catches up with edits made while the server was down)
            if !files.is_empty() {
                if let Err(e) = riskmap::live::watch(files, quiet, || {
                    run();
                    true
                }) {
                    eprintln!("riskmap serve --watch: {e:#}");
                }
            }
        });
    }))
}

fn run(cli: Cli) -> Result<u8> {
    match cli.cmd {
        Cmd::Build(b) => {
            let mut cfg = resolve(&b.input, b.crs.crs, &b.crs_out)?;
            b.tiles.apply(&mut cfg)?;
            let ds = pipeline::load(&cfg)?;
            let root = cfg.output.dir.clone();
            let tiles_on = cfg.tiles.enabled || b.tiles.given();
            let rejected: usize = ds.inputs.iter().map(|i| i.rows_rejected).sum();
            if b.strict && rejected > 0 {
                // before the output folder is touched: --strict writes nothing
                for r in ds.rejects.iter().take(20) {
                    eprintln!("  {}", reject_line(r));
                }
                eprintln!("riskmap: {}", riskmap::Error::Strict(rejected));
                return Ok(1);
            }
            // a build writes a whole set; only the report's history and the change
            // records carry over
            let prev_dir = riskmap::export::generations::current_number(&root)
                .map(|_| riskmap::export::generations::current_dir(&root));
            let result = riskmap::build::in_generation_any(
                &cfg,
                |name| name == "history" || name == "changes",
                |dir, number| {
                    let base = cfg.clone();
                    let mut cfg = cfg.clone();
                    cfg.output.dir = dir.to_path_buf();
                    let report = riskmap::build::build(
                        &ds,
                        &cfg,
                        &riskmap::build::BuildOptions { strict: b.strict },
                    )?;
                    let tiles = if tiles_on {
                        Some(riskmap::tiles::run(
                            &ds,
                            &report.analysis,
                            &cfg.tiles_params(),
                            &b.tiles.options(b.quiet)?,
                        )?)
                    } else {
                        None
                    };
                    let entry = riskmap::live::record(
                        &base,
                        prev_dir.as_deref(),
                        dir,
                        number,
                        &ds,
                        "build",
                        false,
                    );
                    riskmap::export::changes::write(dir, &entry)
                        .with_context(|| dir.join("changes").display().to_string())?;
                    Ok((report, tiles, entry))
                },
            );
            let ((report, tiles, entry), gen) = result?;
            alert(&cfg, &entry, &ds.title, b.quiet);
            // [publish] db: the layers of the run just switched in go to PostGIS too
            if let Some(url) = cfg.publish.db.clone() {
                let p = publish(&ds, &report.analysis, &url, &cfg.publish.schema)?;
                if !b.quiet {
                    print_published(&p, &cfg.publish.schema);
                }
            }
            if !b.quiet {
                print!("{}", report.summary_text);
                if let Some(tr) = &tiles {
                    let (n, s, p) = (tr.written(), tr.seconds, tr.pyramids.len());
                    println!(
                        "{}",
                        riskmap_core::tr!(
                            "瓦片：{p} 个金字塔共 {n} 张，用时 {s:.1} 秒",
                            "tiles: {n} written in {s:.1} s ({p} pyramids)"
                        )
                    );
                }
                let (n, r, g) = (
                    report.outputs.len(),
                    root.display(),
                    gen.file_name()
                        .map(|n| n.to_string_lossy())
                        .unwrap_or_default(),
                );
                println!(
                    "{}",
                    riskmap_core::tr!(
                        "已写入 {n} 个文件到 {r}（第 {g} 代）",
                        "wrote {n} files to {r} (generation {g})"
                    )
                );
                for p in &report.outputs {
                    println!("  {}", shown(&root, &gen, p).display());
                }
            }
            Ok(0)
        }
        Cmd::Validate(a) => {
            let cfg = resolve(&a.input, a.crs.crs, &[])?;
            let ds = pipeline::load(&cfg)?;
            let t = riskmap::export::summary::tally(&ds);
            print!("{}", riskmap::export::summary::summary_text(&ds, &t));
            for r in &ds.rejects {
                println!("{}", reject_line(r));
            }
            let warned: Vec<_> = ds
                .enterprises
                .iter()
                .filter(|e| !e.warnings.is_empty())
                .collect();
            for e in warned.iter().take(50) {
                let (f, l, id, w) = (&e.source.file, e.source.line, &e.id, e.warnings.join("; "));
                println!(
                    "{}",
                    riskmap_core::tr!("警告 {f}:{l} {id}：{w}", "warning {f}:{l} {id}: {w}")
                );
            }
            if warned.len() > 50 {
                let n = warned.len() - 50;
                println!(
                    "{}",
                    riskmap_core::tr!(
                        "……另有 {n} 行带警告（见 enterprises.geojson 的 warnings 属性）",
                        "… {n} more rows with warnings (see the `warnings` property in enterprises.geojson)"
                    )
                );
            }
            Ok(if ds.rejects.is_empty() { 0 } else { 1 })
        }
        Cmd::Query(q) => {
            let cfg = resolve(&q.input, q.input_crs, &[])?;
            let to_wgs = |s: &str| -> Result<(f64, f64)> {
                let (x, y) = parse_lonlat(s).map_err(anyhow::Error::msg)?;
                Ok(q.crs.to_wgs84(x, y))
            };
            let ds = pipeline::load(&cfg)?;
            let answer = if let (Some(p), Some(r)) = (&q.near, q.radius) {
                if !(r > 0.0 && r.is_finite()) {
                    bail!(riskmap_core::tr!(
                        "--radius 须为正数（米）",
                        "--radius must be a positive number of metres"
                    ));
                }
                let (x, y) = to_wgs(p).context("--near")?;
                riskmap::query::near(&ds, x, y, r)
            } else if let Some(b) = &q.bbox {
                let v: Vec<f64> = b
                    .split(',')
                    .map(|s| s.trim().parse::<f64>())
                    .collect::<Result<_, _>>()
                    .with_context(|| {
                        riskmap_core::tr!(
                            "--bbox 须为 西,南,东,北 四个数",
                            "--bbox must be W,S,E,N numbers"
                        )
                    })?;
                if v.len() != 4 || v[0] >= v[2] || v[1] >= v[3] {
                    bail!(riskmap_core::tr!(
                        "--bbox 须为 西,南,东,北，且西 < 东、南 < 北",
                        "--bbox must be W,S,E,N with W < E and S < N"
                    ));
                }
                let (w, s) = q.crs.to_wgs84(v[0], v[1]);
                let (e, n) = q.crs.to_wgs84(v[2], v[3]);
                riskmap::query::bbox(&ds, w, s, e, n)
            } else if let Some(a) = &q.at {
                let (x, y) = to_wgs(a).context("--at")?;
                riskmap::query::at(&ds, x, y, q.nearest.unwrap_or(5))
            } else {
                bail!(riskmap_core::tr!("请给出查询：--near 经度,纬度 --radius 米、--bbox 西,南,东,北、--nearest K --at 经度,纬度，或 --at 经度,纬度", "say what to ask: --near LON,LAT --radius M, --bbox W,S,E,N, --nearest K --at LON,LAT, or --at LON,LAT"));
            };
            if q.json {
                println!("{}", serde_json::to_string_pretty(&answer)?);
            } else {
                print!("{}", riskmap::query::format_table(&answer));
            }
            Ok(0)
        }
        Cmd::Bench(b) => bench(b),
        Cmd::Tiles(t) => {
            let mut cfg = resolve(&t.input, t.crs.crs, &t.crs_out)?;
            t.tiles.apply(&mut cfg)?;
            let ds = pipeline::load(&cfg)?;
            same_inputs_as_current(&ds, &cfg)?;
            let opts = t.tiles.options(t.quiet)?;
            // only what the requested layers are drawn from (no zones for surface tiles)
            let needs = riskmap::tiles::needs(&riskmap::tiles::layers(&cfg.tiles, &opts));
            let an = riskmap::analyze::run_only(&ds, &cfg.analyze_params(), needs)?;
            let (tr, _) = in_generation(
                &cfg,
                |_| true,
                |dir| {
                    let mut params = cfg.tiles_params();
                    params.out = dir.to_path_buf();
                    Ok(riskmap::tiles::run(&ds, &an, &params, &opts)?)
                },
            )?;
            if !t.quiet {
                for (name, written, considered, secs) in &tr.pyramids {
                    let rate = *considered as f64 / secs.max(1e-9);
                    println!(
                        "{}",
                        riskmap_core::tr!(
                            "  {name:<22} 写入 {written:>8} 张 / 检查 {considered:>8} 张，{secs:>6.1} 秒（每秒 {rate:.0} 张）",
                            "  {name:<22} {written:>8} tiles written of {considered:>8} considered, {secs:>6.1} s ({rate:.0} tiles/s)"
                        )
                    );
                }
                let (n, s, d) = (tr.written(), tr.seconds, cfg.output.dir.display());
                println!(
                    "{}",
                    riskmap_core::tr!(
                        "瓦片：{n} 张写入 {d}，用时 {s:.1} 秒",
                        "tiles: {n} written in {s:.1} s to {d}"
                    )
                );
            }
            Ok(0)
        }
        Cmd::Report(a) => {
            let cfg = resolve(&a.input, a.crs.crs, &[])?;
            let ds = pipeline::load(&cfg)?;
            same_inputs_as_current(&ds, &cfg)?;
            // the report reads the districts' statistics and the exposure (with its zones)
            let needs = riskmap::analyze::Needs {
                areas: true,
                exposure: true,
                ..riskmap::analyze::Needs::NONE
            };
            let an = riskmap::analyze::run_only(&ds, &cfg.analyze_params(), needs)?;
            let root = cfg.output.dir.clone();
            let (written, gen) = in_generation(
                &cfg,
                |_| true,
                |dir| {
                    let mut written = riskmap::report::write(&ds, &an, dir, a.since.as_deref())?;
                    // the HTML report stands without its PDF: a missing Chromium is
                    // reported after the new report is switched in
                    let mut pdf_error = None;
                    if a.pdf {
                        let pdf = dir.join("report.pdf");
                        match riskmap::report::pdf(&dir.join("report.html"), &pdf) {
                            Ok(()) => written.push(pdf),
                            Err(e) => pdf_error = Some(e),
                        }
                    }
                    Ok((written, pdf_error))
                },
            )?;
            let (written, pdf_error) = written;
            for p in &written {
                println!("  {}", shown(&root, &gen, p).display());
            }
            if let Some(e) = pdf_error {
                return Err(e.into());
            }
            Ok(0)
        }
        Cmd::Db(d) => match d.action {
            DbAction::InstallTriggers(a) => {
                let cfg = resolve(&a.input, None, &[])?;
                let url = cfg.database.url.clone().ok_or_else(|| {
                    anyhow::anyhow!(riskmap_core::tr!(
                        "哪个数据库？请用 --db postgresql://… 或 [database] url 指定",
                        "which database? pass --db postgresql://… or set [database] url"
                    ))
                })?;
                let tables = riskmap::live::db_tables(&cfg);
                let mut db = riskmap::ingest::db::connect(&url)?;
                let done = riskmap::ingest::db::install_triggers(&mut db, &tables)?;
                if done.is_empty() {
                    bail!(riskmap_core::tr!(
                        "没有可加触发器的输入表（以 sql 读取的部分请改用 table）",
                        "no input table to put triggers on (sections read by `sql` need a `table`)"
                    ));
                }
                let (n, t, c) = (done.len(), done.join("、"), riskmap::ingest::db::CHANNEL);
                println!(
                    "{}",
                    riskmap_core::tr!(
                        "已在 {n} 张表上创建触发器（{t}）：改动通知频道 {c}，riskmap serve --watch 随之更新",
                        "triggers on {n} tables ({t}): changes notify channel {c}; riskmap serve --watch follows them"
                    )
                );
                Ok(0)
            }
        },
        Cmd::Update(a) => {
            let cfg = resolve(&a.input, a.crs.crs, &[])?;
            let u = riskmap::live::update(&cfg, None, "update", a.quiet)?;
            print_update(&cfg, &u, a.quiet);
            if let (Some(e), Some(p)) = (&u.entry, &u.prev) {
                alert(&cfg, e, &p.ds.title, a.quiet);
            }
            Ok(0)
        }
        Cmd::Rollback(a) => {
            let cfg = resolve(&a.input, None, &[])?;
            let root = &cfg.output.dir;
            let gens =
                riskmap::export::generations::Generations::open(root, cfg.output.generations)
                    .with_context(|| {
                        let r = root.display();
                        riskmap_core::tr!("打开输出目录 {r}", "opening the output folder {r}")
                    })?;
            let from = gens.current();
            let to = gens.rollback().with_context(|| {
                let r = root.display();
                riskmap_core::tr!("回退 {r}", "rolling back {r}")
            })?;
            let (r, f) = (
                root.display(),
                from.map_or("-".to_string(), |n| n.to_string()),
            );
            println!(
                "{}",
                riskmap_core::tr!(
                    "{r}：第 {f} 代 → 第 {to} 代（上一次运行的输出）",
                    "{r}: generation {f} → {to} (the outputs of the run before)"
                )
            );
            Ok(0)
        }
        Cmd::Serve(a) => {
            let cfg = resolve(&a.input, a.crs.crs, &[])?;
            let root = cfg.output.dir.clone();
            let out = riskmap::export::generations::current_dir(&root);
            if !out.join("mbtiles").is_dir() {
                let r = root.display();
                bail!(riskmap_core::tr!(
                    "{r}：没有瓦片包，请先运行 riskmap build（示例的 riskmap.toml 会生成瓦片；其他配置请设 [tiles] enabled = true 或运行 riskmap tiles）",
                    "{r}: no tile archives — run `riskmap build` first (the sample's riskmap.toml renders tiles; elsewhere set [tiles] enabled = true or run `riskmap tiles`)"
                ));
            }
            let addr = a.addr.clone().unwrap_or_else(|| cfg.serve.addr.clone());
            // a generation is served with the dataset it was built from: loaded from the
            // inputs and checked against the generation's summary.json (at start-up a
            // mismatch — inputs edited after the build — is a warning, as before)
            let watch = if a.watch {
                Some(watcher(&cfg, a.input.clone(), a.crs.crs)?)
            } else {
                None
            };
            let st = load_generation(&cfg, &out, false).map_err(anyhow::Error::msg)?;
            let load = move |dir: &Path| load_generation(&cfg, dir, true);
            riskmap::serve::run_watching(
                st,
                &riskmap::serve::ServeOptions { out: root, addr },
                Some(Box::new(load)),
                watch,
            )?;
            Ok(0)
        }
        Cmd::Publish(a) => {
            let cfg = resolve(&a.input, a.crs.crs, &[])?;
            let url =
                a.to.clone()
                    .or_else(|| cfg.publish.db.clone())
                    .or_else(|| cfg.database.url.clone())
                    .ok_or_else(|| {
                        anyhow::anyhow!(riskmap_core::tr!(
                            "发布到哪里？请用 --to postgresql://… 或 [publish] db 指定",
                            "publish where? pass --to postgresql://… or set [publish] db"
                        ))
                    })?;
            let ds = pipeline::load(&cfg)?;
            let an = riskmap::analyze::run(&ds, &cfg.analyze_params())?;
            let schema = a
                .schema
                .clone()
                .unwrap_or_else(|| cfg.publish.schema.clone());
            let p = publish(&ds, &an, &url, &schema)?;
            print_published(&p, &schema);
            Ok(0)
        }
        Cmd::Init(a) => {
            if a.out.exists() && !a.force {
                let o = a.out.display();
                bail!(riskmap_core::tr!(
                    "{o} 已存在，未覆盖（使用 --force，或 --out 另一个.toml）",
                    "{o} exists: not replaced (use --force, or --out another.toml)"
                ));
            }
            let found =
                riskmap::init::inspect(&a.file, a.boundaries.as_deref()).with_context(|| {
                    let f = a.file.display();
                    riskmap_core::tr!("读取 {f}", "reading {f}")
                })?;
            let dir = a
                .out
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            std::fs::write(&a.out, found.toml(dir)).with_context(|| {
                let f = a.out.display();
                riskmap_core::tr!("写入 {f}", "writing {f}")
            })?;
            let (o, f, n, h, c) = (
                a.out.display(),
                &found.format,
                found.rows,
                found.header_row,
                found.columns.len(),
            );
            let miss = found.missing.join(", ");
            let miss = if found.missing.is_empty() {
                String::new()
            } else {
                riskmap_core::tr!("，缺少必填列 {miss}", "; required columns missing: {miss}")
            };
            println!(
                "{}",
                riskmap_core::tr!(
                    "已写入 {o}：{f}，{n} 行，表头在第 {h} 行；识别到 {c} 列{miss}。",
                    "wrote {o}: {f}, {n} rows, the header on row {h}; {c} columns recognised{miss}."
                )
            );
            let why = &found.crs_why;
            println!(
                "{}",
                riskmap_core::tr!("坐标系：{why}", "coordinate system: {why}")
            );
            match &found.boundaries {
                Some((p, _, why)) => {
                    let p = p.display();
                    println!(
                        "{}",
                        riskmap_core::tr!(
                            "区县边界：{p}（{why}）",
                            "district boundaries: {p} ({why})"
                        )
                    )
                }
                None => println!(
                    "{}",
                    riskmap_core::tr!(
                        "区县边界：未找到（可用 --boundaries 指定）",
                        "district boundaries: none found (name them with --boundaries)"
                    )
                ),
            }
            println!(
                "{}",
                riskmap_core::tr!(
                    "请核对 {o} 后运行：riskmap build",
                    "check {o}, then run: riskmap build"
                )
            );
            Ok(if found.missing.is_empty() { 0 } else { 1 })
        }
        Cmd::Sample(s) => {
            let r = riskmap::sample::generate(&riskmap::sample::SampleOptions {
                count: s.count,
                seed: s.seed,
                out: s.out.clone(),
            })
            .with_context(|| {
                let o = s.out.display();
                riskmap_core::tr!("把示例数据写入 {o}", "writing the sample to {o}")
            })?;
            let (e, d, a, h, si, o) = (
                r.enterprises,
                r.dirty_rows,
                r.assessments,
                r.hidden_dangers,
                r.sites,
                s.out.display(),
            );
            println!(
                "{}",
                riskmap_core::tr!(
                    "已写入 {o}：{e} 家企业（其中 {d} 行故意写错）、{a} 个风险点、{h} 条隐患、{si} 个敏感目标",
                    "wrote {e} enterprises ({d} deliberately dirty rows), {a} risk points, {h} hidden dangers, {si} sensitive sites to {o}"
                )
            );
            Ok(0)
        }
    }
}

/// `bench --db URL`: the register from PostgreSQL beside the same from CSV, and publish.
fn db_bench(me: &Path, b: &BenchArgs, url: &str) -> Result<u8> {
    use riskmap::bench;
    let n = b
        .sizes
        .iter()
        .filter_map(|s| s.replace('_', "").parse::<usize>().ok())
        .max()
        .unwrap_or(1_000_000);
    eprintln!("bench --db: preparing {n} enterprises …");
    let dir = bench::prepare(&b.work, n)?;
    let dir = std::fs::canonicalize(&dir)?;
    eprintln!("bench --db: loading them into PostgreSQL (schema riskmap_bench) …");
    let (load_s, _) = bench::load_into_db(url, "riskmap_bench", &dir)?;
    let cfg_csv = dir.join("bench-csv.toml");
    let cfg_db = dir.join("bench-db.toml");
    let tail = format!(
        "[boundaries]\npath = \"{}\"\ncrs = \"gcj02\"\n[tiles]\nenabled = false\n[report]\nenabled = false\n[output]\ndir = \"{}\"\n",
        dir.join(bench::DISTRICTS_FILE).display(),
        dir.join("out-db-bench").display()
    );
    std::fs::write(
        &cfg_csv,
        format!(
            "[enterprises]\npath = \"{d}/enterprises.csv\"\n[assessments]\npath = \"{d}/assessments.csv\"\n[hazards]\npath = \"{d}/hidden_dangers.csv\"\n[sites]\npath = \"{d}/sites.csv\"\n{tail}",
            d = dir.display()
        ),
    )?;
    std::fs::write(&cfg_db, &tail)?;
    let sep = if url.contains('?') { '&' } else { '?' };
    let db_url = format!("{url}{sep}options=-c%20search_path%3Driskmap_bench%2Cpublic");
    let time = |args: &[&str]| -> Result<(f64, String)> {
        let t = std::time::Instant::now();
        let o = std::process::Command::new(me).args(args).output()?;
        if !o.status.success() && o.status.code() != Some(1) {
            bail!("{}", String::from_utf8_lossy(&o.stderr));
        }
        Ok((
            t.elapsed().as_secs_f64(),
            String::from_utf8_lossy(&o.stdout).to_string(),
        ))
    };
    let (csv_s, db_s) = {
        let c = cfg_csv.to_string_lossy().to_string();
        let d = cfg_db.to_string_lossy().to_string();
        let mut csv = vec![];
        let mut db = vec![];
        for _ in 0..2 {
            csv.push(time(&["validate", "--lang", "en", "--config", &c])?.0);
            db.push(time(&["validate", "--lang", "en", "--config", &d, "--db", &db_url])?.0);
        }
        let min = |v: &[f64]| v.iter().copied().fold(f64::MAX, f64::min);
        (min(&csv), min(&db))
    };
    let (pub_s, said) = time(&[
        "publish",
        "--lang",
        "en",
        "--config",
        &cfg_csv.to_string_lossy(),
        "--to",
        url,
        "--schema",
        "riskmap_bench_pub",
    ])?;
    let step: f64 = said
        .split("PostGIS (")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or(f64::NAN);
    println!("| database path, {n} enterprises (2 cores, server on the same machine) | s |");
    println!("|---|---:|");
    println!("| load the register into PostgreSQL (COPY, not timed by users) | {load_s:.1} |");
    println!("| `validate` from the CSV files (best of 2, fresh process) | {csv_s:.2} |");
    println!("| `validate --db` from PostgreSQL (best of 2, fresh process) | {db_s:.2} |");
    println!("| ratio database / CSV (aim ≤ 1.5) | {:.2} |", db_s / csv_s);
    println!("| `publish`: writing every layer to PostGIS (the transaction) | {step:.1} |");
    println!("| `publish` command end to end (read CSV, grade, analyse, publish) | {pub_s:.1} |");
    Ok(0)
}

fn bench(b: BenchArgs) -> Result<u8> {
    use riskmap::bench;
    if let Some(dir) = &b.child {
        let (label, cfg) = if b.child_peer {
            let out = dir.with_extension("out");
            (
                "riskmap on the peer's points, peer parameters".to_string(),
                bench::peer_config(dir, &out),
            )
        } else {
            (
                dir.file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_default(),
                bench::sample_config(dir),
            )
        };
        let m = bench::measure(&label, &cfg)?;
        println!("{}", serde_json::to_string(&m)?);
        return Ok(0);
    }
    let me = std::env::current_exe()?;
    if let Some(url) = &b.db {
        return db_bench(&me, &b, url);
    }
    if b.serve {
        return serve_bench(&me, b.connections);
    }
    if b.update {
        let n = b
            .sizes
            .iter()
            .find_map(|s| s.parse::<usize>().ok())
            .unwrap_or(100_000);
        let dir = bench::prepare(&b.work, n)?;
        let figs = riskmap::live::bench::measure(&me, &dir, 18123).map_err(anyhow::Error::msg)?;
        print!("{}", riskmap::live::bench::table(n, &figs));
        return Ok(0);
    }
    let child = |dir: &Path, peer: bool| -> Result<bench::Measure> {
        let mut c = std::process::Command::new(&me);
        c.args(["bench", "--child"]).arg(dir);
        if peer {
            c.arg("--child-peer");
        }
        let o = c.output()?;
        if !o.status.success() {
            bail!(
                "bench run on {} failed: {}",
                dir.display(),
                String::from_utf8_lossy(&o.stderr)
            );
        }
        Ok(serde_json::from_slice(&o.stdout)?)
    };
    std::fs::create_dir_all(&b.work)?;
    let mut ms = Vec::new();
    for size in &b.sizes {
        let n: usize = if size == "sample" {
            5000
        } else {
            size.parse()
                .with_context(|| format!("--sizes: `{size}` is not a number"))?
        };
        eprintln!("bench: preparing {n} enterprises …");
        let dir = bench::prepare(&b.work, n)?;
        eprintln!("bench: building {n} …");
        let mut m = child(&dir, false)?;
        m.label = if size == "sample" {
            "sample (5,000)".into()
        } else {
            format!("generated {n}")
        };
        ms.push(m);
    }
    println!("{}", bench::table(&ms));
    if b.tiles {
        // the ceiling (png crate, adaptive filter), and riskmap's own encoder's
        let ceiling = bench::encode_ceiling(20_000, true);
        let own = bench::encode_ceiling(20_000, false);
        for size in &b.sizes {
            let n: usize = if size == "sample" {
                5000
            } else {
                size.parse()?
            };
            let dir = bench::prepare(&b.work, n)?;
            let cfg = bench::sample_config(&dir);
            eprintln!("bench: tiles for {n} …");
            let (pyramids, shared, secs) = bench::tiles_run(&cfg)?;
            let z = cfg.tiles.zoom;
            let label = if size == "sample" {
                "sample".to_string()
            } else {
                format!("{n}")
            };
            println!(
                "{}",
                bench::tiles_table(
                    &format!("{label}, z{}-{}", z[0], z[1]),
                    &pyramids,
                    &shared,
                    ceiling
                )
            );
            let written: u64 = pyramids.iter().map(|p| p.1).sum();
            let wgs: f64 = pyramids
                .iter()
                .filter(|p| !p.0.contains("_gcj02"))
                .map(|p| p.3)
                .sum();
            println!("{label}: all pyramids {written} tiles written in {secs:.1} s (WGS84 pyramids {wgs:.1} s); encode-only ceiling {ceiling:.0} palette tiles/s (2 threads; png crate, adaptive filter; {own:.0} with riskmap's row filter)\n");
        }
        println!(
            "peak memory of this process over the tile runs: {:.0} MB\n",
            bench::peak_rss_mb()
        );
    }
    if b.peer_points > 0 {
        let pts = b.work.join(format!("peer_points_{}.csv", b.peer_points));
        match bench::make_peer_points(&b.peer_dir, b.peer_points, &pts) {
            Err(e) => println!("peer skipped: {e}"),
            Ok(()) => {
                let ours = child(&pts, true)?;
                let stage = |name: &str| -> f64 {
                    ours.stages
                        .iter()
                        .filter(|(k, _)| k == name)
                        .map(|(_, v)| v)
                        .sum()
                };
                let (surf, zones) = (stage("surface"), stage("zones"));
                match bench::run_peer_surface(&b.peer_dir, &pts, &b.work.join("peer_cls.tif")) {
                    Ok(peer_s) => {
                        println!("{}", bench::table(std::slice::from_ref(&ours)));
                        println!(
                            "peer (numpy/scipy fftconvolve surface, 50 m, GeoTIFF) on the same {} points: {peer_s:.2} s; riskmap surface: {surf:.2} s ({:.1}× the peer's speed; the zones riskmap also vectorises take {zones:.2} s more)",
                            b.peer_points,
                            peer_s / surf.max(1e-9)
                        );
                    }
                    Err(e) => println!("peer skipped: {e}"),
                }
                for zooms in &b.peer_tiles {
                    let (a, z) = zooms.split_once('-').unwrap_or((zooms, zooms));
                    let zoom = [a.parse::<u8>()?, z.parse::<u8>()?];
                    // the user's command, three fresh processes (as hyperfine would):
                    // the median is quoted, every run is printed; the peer's one run
                    // lasts minutes and so already averages the machine's noise
                    let mut runs = Vec::with_capacity(3);
                    let mut ours_n = 0;
                    for _ in 0..3 {
                        let (s, n) = bench::user_peer_tiles(
                            &me,
                            &pts,
                            &b.work.join(format!("peer_ours_{zooms}")),
                            zoom,
                        )?;
                        runs.push(s);
                        ours_n = n;
                    }
                    let each = runs
                        .iter()
                        .map(|s| format!("{s:.2}"))
                        .collect::<Vec<_>>()
                        .join(" / ");
                    runs.sort_by(f64::total_cmp);
                    let ours_s = runs[1];
                    match bench::run_peer_tiles(
                        &b.peer_dir,
                        &pts,
                        &b.work.join(format!("peer_work_{zooms}")),
                        zooms,
                    ) {
                        Ok((peer_s, peer_n, line)) => println!(
                            "surface tiles z{zooms}, same {} points: peer {peer_s:.1} s ({peer_n} tiles; {}); riskmap {ours_s:.2} s, the median of three runs ({each} s; `riskmap tiles --layers surface`, each a fresh process, CSV to exit; {ours_n} tiles) — {:.1}× the peer's speed",
                            b.peer_points,
                            line.replace('\n', " "),
                            peer_s / ours_s.max(1e-9)
                        ),
                        Err(e) => println!("peer tiles z{zooms} skipped: {e}; riskmap {ours_s:.1} s, the median of {each} s ({ours_n} tiles)"),
                    }
                }
            }
        }
    }
    Ok(0)
}

/// `bench --serve`: start `riskmap serve` on the built sample (a child process, as a user
/// runs it), then a bounded request loop from this process over loopback.
fn serve_bench(me: &Path, conns: usize) -> Result<u8> {
    use riskmap::bench;
    let cfg =
        Config::load(Path::new("riskmap.toml")).context("bench --serve reads ./riskmap.toml")?;
    let out = cfg.output.dir.clone();
    let tiles = bench::tile_paths(&out, "composite");
    if tiles.is_empty() {
        bail!("{}: no tiles — run `riskmap build` first", out.display());
    }
    let addr = "127.0.0.1:18099";
    let mut child = std::process::Command::new(me)
        .args(["serve", "--addr", addr])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let t = std::time::Instant::now();
    let up = loop {
        if bench::load_http(addr, &["/healthz".to_string()], 1, 1).is_ok_and(|f| f.errors == 0) {
            break true;
        }
        if t.elapsed().as_secs() > 120 {
            break false;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let result = (|| -> Result<()> {
        if !up {
            bail!("riskmap serve did not come up on {addr}");
        }
        let ds_bbox = {
            let v: serde_json::Value =
                serde_json::from_slice(&std::fs::read(out.join("summary.json"))?)?;
            let b = &v["region"]["bbox"];
            [b[0].as_f64(), b[1].as_f64(), b[2].as_f64(), b[3].as_f64()]
        };
        let bbox = match ds_bbox {
            [Some(a), Some(b), Some(c), Some(d)] => [a, b, c, d],
            _ => [116.2, 36.0, 117.9, 37.6],
        };
        let at = bench::at_paths(bbox, 40);
        // warm-up
        bench::load_http(addr, &tiles, conns, 500).map_err(anyhow::Error::msg)?;
        println!("| load (loopback, {conns} keep-alive connections, client on the same 2 cores) | requests | errors | requests/s | p50 ms | p99 ms | max ms |");
        println!("|---|---:|---:|---:|---:|---:|---:|");
        for (label, paths, per) in [
            (
                format!("tiles (composite z10–16, {} distinct)", tiles.len()),
                &tiles,
                15_000,
            ),
            (
                format!("/api/at (radius 500 m, {} places)", at.len()),
                &at,
                2_000,
            ),
        ] {
            let f = bench::load_http(addr, paths, conns, per).map_err(anyhow::Error::msg)?;
            println!(
                "| {label} | {} | {} | {:.0} | {:.2} | {:.2} | {:.1} |",
                f.requests,
                f.errors,
                f.rps(),
                f.p50_ms,
                f.p99_ms,
                f.max_ms
            );
        }
        Ok(())
    })();
    let _ = child.kill();
    let _ = child.wait();
    result.map(|_| 0)
}

/// Publish the layers of `ds` / `an` to the PostGIS database at `url`, schema `schema`.
fn publish(
    ds: &riskmap::pipeline::Dataset,
    an: &riskmap::analyze::Analysis,
    url: &str,
    schema: &str,
) -> Result<riskmap::export::postgis::Published> {
    let mut db = riskmap_core::ingest::db::connect(url).map_err(riskmap::Error::from)?;
    let run = serde_json::json!({
        "tool": "riskmap",
        "version": env!("CARGO_PKG_VERSION"),
        "title": ds.title,
        "data_date": ds.data_date,
        "config_sha256": ds.config_sha256,
        "inputs": ds.inputs,
        "enterprises": ds.enterprises.len(),
        "rejects": ds.rejects.len(),
    });
    Ok(riskmap::export::postgis::publish(
        &mut db,
        ds,
        an,
        &riskmap::export::postgis::PublishParams {
            schema: schema.to_string(),
            run,
        },
    )?)
}

fn print_published(p: &riskmap::export::postgis::Published, schema: &str) {
    let list = p
        .tables
        .iter()
        .map(|(t, n)| format!("{schema}.{t} ({n})"))
        .collect::<Vec<_>>()
        .join(", ");
    let s = p.seconds;
    println!(
        "{}",
        riskmap_core::tr!(
            "已发布到 PostGIS（{s:.1} 秒）：{list}",
            "published to PostGIS ({s:.1} s): {list}"
        )
    );
}

/// An error and its causes as one line, `：`-joined in Chinese; an I/O cause in the
/// language in use rather than the system's English.
fn describe(e: &anyhow::Error) -> String {
    let sep = riskmap_core::tr!("：", ": ");
    e.chain()
        .map(|c| match c.downcast_ref::<std::io::Error>() {
            Some(io) => riskmap_core::i18n::io_error(io),
            None => c.to_string(),
        })
        .collect::<Vec<_>>()
        .join(&sep)
}

fn main() -> ExitCode {
    let lang = riskmap_core::i18n::Lang::detect(std::env::args_os().skip(1));
    riskmap_core::i18n::set_lang(lang);
    let cli = match args::parse(lang) {
        Ok(c) => c,
        Err(code) => return code,
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("riskmap: {}", describe(&e));
            ExitCode::from(2)
        }
    }
}
