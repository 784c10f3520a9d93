//! The `riskmap` command line: parse, resolve the config, call one library function.
//! Exit codes: 0 ok, 1 rows rejected under `--strict` (or found by `validate`), 2 error.

use anyhow::{bail, Context, Result};
use riskmap::config::Config;
use riskmap::crs::{parse_lonlat, Crs};
use riskmap::pipeline::{self, Overrides};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod args;
mod bench_cmd;
mod live_cmd;
use args::*;
use live_cmd::{alert, print_update, watcher};

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
    // the readings token from the environment (kept out of the config file)
    if let Some(t) = std::env::var("RISKMAP_MONITORING_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty())
    {
        cfg.monitoring.token = Some(t.trim().to_string());
        cfg.validate()?;
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
                        None,
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
            // the readings the alarm engine refuses (a repeat, a time ahead of the
            // clock, another enterprise's point) are rejects too, as in rejects.csv
            let needs = riskmap::analyze::Needs {
                monitoring: !ds.readings.is_empty(),
                ..riskmap::analyze::Needs::NONE
            };
            let an = riskmap::analyze::run_only(&ds, &cfg.analyze_params(), needs)?;
            let rejects = riskmap::build::all_rejects(&ds, &an);
            let mut t = riskmap::export::summary::tally(&ds);
            t.add_rejects(&rejects[ds.rejects.len()..]);
            print!("{}", riskmap::export::summary::summary_text(&ds, &t));
            for r in rejects.iter() {
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
            Ok(if rejects.is_empty() { 0 } else { 1 })
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
        Cmd::Bench(b) => bench_cmd::bench(b),
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
            // the report reads the districts' statistics, the exposure (with its zones), the
            // emergency coverage and the lifelines
            let needs = riskmap::analyze::Needs {
                areas: true,
                exposure: true,
                emergency: true,
                lifelines: true,
                monitoring: true,
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
            let feeds = live_cmd::monitoring_feeds(&cfg);
            let load = move |dir: &Path| load_generation(&cfg, dir, true);
            riskmap::serve::run_with_feeds(
                st,
                &riskmap::serve::ServeOptions { out: root, addr },
                Some(Box::new(load)),
                watch,
                feeds,
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
            let (e, d, a, h, si, rs, ll, o) = (
                r.enterprises,
                r.dirty_rows,
                r.assessments,
                r.hidden_dangers,
                r.sites,
                r.resources,
                r.lifelines,
                s.out.display(),
            );
            let (mp, rd) = (r.monitoring_points, r.readings);
            println!(
                "{}",
                riskmap_core::tr!(
                    "已写入 {o}：{e} 家企业（其中 {d} 行故意写错）、{a} 个风险点、{h} 条隐患、{si} 个敏感目标、{rs} 个应急资源、{ll} 条城市生命线、{mp} 个监测点及 {rd} 条监测数据",
                    "wrote {e} enterprises ({d} deliberately dirty rows), {a} risk points, {h} hidden dangers, {si} sensitive sites, {rs} emergency resources, {ll} lifelines, {mp} monitoring points with {rd} readings to {o}"
                )
            );
            Ok(0)
        }
    }
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
