//! `riskmap update`'s and `serve --watch`'s console side: what an update did, the
//! alerts printed and sent, and the watcher handed to the server.

use crate::args::InputArgs;
use crate::resolve;
use anyhow::Result;
use riskmap::config::Config;
use riskmap::crs::Crs;
use std::path::PathBuf;

/// Print an entry's alerts and send their webhooks (waiting for the deliveries: the
/// generation is switched in already).
pub(crate) fn alert(
    cfg: &Config,
    entry: &riskmap::export::changes::Entry,
    title: &str,
    quiet: bool,
) {
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
pub(crate) fn print_update(cfg: &Config, u: &riskmap::live::Updated, quiet: bool) {
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
pub(crate) fn watcher(
    cfg: &Config,
    input: InputArgs,
    crs: Option<Crs>,
) -> Result<riskmap::serve::Watch> {
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
            let cfg: &Config = cfg;
            // the new state served as soon as the update has it (tiles patched): the
            // generation's files follow
            let served_early: std::cell::RefCell<Option<std::sync::Arc<riskmap::serve::State>>> =
                Default::default();
            let early = |e: riskmap::live::Early| {
                let base = live.state();
                if base.generation.parse::<u64>().ok() != e.from_generation
                    || e.from_generation.is_none()
                {
                    return;
                }
                if let Some(st) = riskmap::serve::state_early(
                    e.ds.clone(),
                    e.an.clone(),
                    &cfg.serve_params(),
                    &base,
                    e.patches,
                    e.geojson,
                    e.entry,
                    e.generation,
                ) {
                    live.publish(st);
                    *served_early.borrow_mut() = Some(base);
                }
            };
            let result = riskmap::live::update_with(cfg, prev.take(), "watch", true, Some(&early));
            let before = served_early.borrow_mut().take();
            if let (Err(_), Some(base)) = (&result, before.clone()) {
                // served early, not written: back to what the files say
                live.restore(base);
            }
            match result {
                Ok(u) => {
                    print_update(cfg, &u, false);
                    if let (Some(e), Some(p)) = (&u.entry, &u.prev) {
                        for l in riskmap::live::alert_lines(e) {
                            println!("{l}");
                        }
                        riskmap::live::send_webhooks(cfg, e, &p.ds.title, &hooks);
                    }
                    if let (Some(dir), Some(p)) = (&u.dir, &u.prev) {
                        // patched archives: the served pyramids patched alike, when the
                        // server serves the generation the update started from
                        let base = live.state();
                        let served = base.generation.parse::<u64>().ok();
                        let st = match &u.patches {
                            // served early: its pyramids are the patched ones already
                            Some(_) if before.is_some() => riskmap::serve::state_patched(
                                p.ds.clone(),
                                p.an.clone(),
                                dir,
                                &cfg.serve_params(),
                                &base,
                                &[],
                            ),
                            Some(patches) if served.is_some() && served == u.from_generation => {
                                riskmap::serve::state_patched(
                                    p.ds.clone(),
                                    p.an.clone(),
                                    dir,
                                    &cfg.serve_params(),
                                    &base,
                                    patches,
                                )
                            }
                            _ => riskmap::serve::state_shared(
                                p.ds.clone(),
                                p.an.clone(),
                                dir,
                                &cfg.serve_params(),
                            ),
                        };
                        drop(base);
                        match st {
                            Ok(st) if before.is_some() => live.settle(st),
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
                            Some(riskmap::live::Prev::new(ds, an, generation))
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

/// What `serve` runs beside the server for monitoring (#27 §3): the readings file
/// followed (its complete new lines every 250 ms, each reject said on stderr with its
/// line) and the `monitoring_alarm` alert rules (printed, and POSTed to their webhooks).
pub(crate) fn monitoring_feeds(cfg: &Config) -> Vec<riskmap::serve::Feed> {
    let mut feeds: Vec<riskmap::serve::Feed> = Vec::new();
    if let Some(path) = cfg.readings.path.clone() {
        let mut tail = riskmap::ingest::monitoring::ReadingTail::new(
            &path,
            &cfg.readings,
            cfg.monitoring.utc_offset_min(),
        );
        feeds.push(Box::new(move |h: riskmap::serve::ReadingsHandle| loop {
            match tail.poll() {
                Ok(items) if !items.is_empty() => {
                    let (_, rejects) = h.ingest(items);
                    say_rejects(&rejects);
                }
                Ok(_) => {}
                Err(e) => eprintln!("riskmap serve: {e}"),
            }
            std::thread::sleep(std::time::Duration::from_millis(250));
        }));
    }
    // the database's readings table, followed by its primary key (once a second)
    if let (None, None, Some(url)) = (
        &cfg.readings.path,
        &cfg.readings.sql,
        cfg.database.url.clone(),
    ) {
        let table = cfg
            .readings
            .table
            .clone()
            .unwrap_or_else(|| "readings".to_string());
        let (input, off) = (cfg.readings.clone(), cfg.monitoring.utc_offset_min());
        feeds.push(Box::new(move |h: riskmap::serve::ReadingsHandle| {
            let exists = riskmap::ingest::db::connect(&url)
                .and_then(|mut db| riskmap::ingest::db::table_exists(&mut db, &table));
            match exists {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => {
                    eprintln!("riskmap serve: {e}");
                    return;
                }
            }
            let mut poll =
                match riskmap::ingest::monitoring::ReadingPoll::new(&url, &table, &input, off) {
                    Ok(p) => p,
                    Err(e) => {
                        eprintln!("riskmap serve: {e}");
                        return;
                    }
                };
            loop {
                match poll.poll() {
                    Ok(items) if !items.is_empty() => {
                        let full = items.len() >= 100_000;
                        let (_, rejects) = h.ingest(items);
                        say_rejects(&rejects);
                        if full {
                            continue;
                        }
                    }
                    Ok(_) => {}
                    Err(e) => eprintln!("riskmap serve: {e}"),
                }
                std::thread::sleep(std::time::Duration::from_secs(1));
            }
        }));
    }
    let rules: Vec<riskmap::config::AlertRule> = cfg
        .alerts
        .iter()
        .filter(|r| r.kind == riskmap::config::AlertKind::MonitoringAlarm)
        .cloned()
        .collect();
    if !rules.is_empty() {
        let title = cfg.title();
        feeds.push(Box::new(move |h: riskmap::serve::ReadingsHandle| {
            let hooks = riskmap::export::webhook::Webhooks::start(webhook_log);
            let mut rx = h.subscribe();
            loop {
                let ev = match rx.next() {
                    Some(Ok(ev)) => ev,
                    Some(Err(n)) => {
                        eprintln!("riskmap serve: {n} alarm events not alerted (a burst)");
                        continue;
                    }
                    None => return,
                };
                if !matches!(ev.kind, "raise" | "escalate") {
                    continue;
                }
                let (name, district) = h.enterprise(&ev.enterprise).unwrap_or_default();
                for r in &rules {
                    if r.district.as_deref().is_some_and(|d| district.as_deref() != Some(d)) {
                        continue;
                    }
                    let rule = r.name.clone().unwrap_or_else(|| r.kind.key().to_string());
                    let (q, sev, unit) = (ev.quantity.zh(), ev.severity_zh, &ev.unit);
                    let v = ev.value.map(|v| v.to_string()).unwrap_or_default();
                    let t = ev.threshold.map(|v| v.to_string()).unwrap_or_default();
                    let (d, id, p, time) = (district.clone().unwrap_or_default(), &ev.enterprise, &ev.point, &ev.time);
                    let zh = format!("{d}{name}（{id}）测点 {p} {q}{sev}：{v}{unit} ≥ {t}{unit}（{time}）");
                    let en = format!("{name} ({id}, {d}) point {p}: {} {} — {v} {unit} ≥ {t} {unit} at {time}", ev.quantity.key(), ev.kind);
                    let msg = if riskmap_core::i18n::lang() == riskmap_core::i18n::Lang::En {
                        &en
                    } else {
                        &zh
                    };
                    println!("{}", riskmap_core::tr!("预警［{rule}］：{msg}", "alert [{rule}]: {msg}"));
                    if let Some(url) = &r.webhook {
                        hooks.send(
                            url,
                            serde_json::json!({
                                "title": title,
                                "alert": {"rule": rule, "kind": "monitoring_alarm", "message_zh": zh, "message": en, "about": [id]},
                                "event": &*ev,
                                "enterprise": {"id": id, "name": name, "district": district},
                            }),
                        );
                    }
                }
            }
        }));
    }
    feeds
}

/// The rejects of a feed on stderr (the first 20, then how many more).
fn say_rejects(rejects: &[riskmap::ingest::Reject]) {
    for r in rejects.iter().take(20) {
        let (f, l, c, m) = (&r.file, &r.line, &r.column, &r.message);
        eprintln!(
            "{}",
            riskmap_core::tr!(
                "riskmap serve：读数被拒（{f} 第 {l} 行，{c}）：{m}",
                "riskmap serve: reading refused ({f} line {l}, {c}): {m}"
            )
        );
    }
    if rejects.len() > 20 {
        let n = rejects.len() - 20;
        eprintln!(
            "{}",
            riskmap_core::tr!(
                "riskmap serve：另有 {n} 条读数被拒（见 /api/alarms 的 recent_refused）",
                "riskmap serve: {n} more readings refused (see recent_refused of /api/alarms)"
            )
        );
    }
}
