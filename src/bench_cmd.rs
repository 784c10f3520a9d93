//! `riskmap bench`: the builds, the peer, the database, the server and the live map
//! measured as fresh processes.

use crate::args::*;
use anyhow::{bail, Context, Result};
use riskmap::config::Config;
use std::path::Path;

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

pub(crate) fn bench(b: BenchArgs) -> Result<u8> {
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
    if b.emergency {
        let n = b
            .sizes
            .iter()
            .find_map(|s| s.parse::<usize>().ok())
            .unwrap_or(100_000);
        let dir = bench::prepare(&b.work, n)?;
        print!(
            "{}",
            bench::emergency_table(&dir).map_err(anyhow::Error::msg)?
        );
        return Ok(0);
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
        // the issue's ceiling (png crate, adaptive filter), and riskmap's own encoder's
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

/// The readings burst of `bench --serve` (#27 §3): single readings and batches of 100
/// posted to `/api/readings` over `conns` connections, then `/api/alarms` asked how many
/// the engine took — every one, or the run fails.
fn readings_load(addr: &str, token: &str, out: &Path, conns: usize) -> Result<()> {
    use riskmap::bench;
    let Ok(gj) = std::fs::read(out.join("monitoring.geojson")) else {
        return Ok(());
    };
    let gj: serde_json::Value = serde_json::from_slice(&gj)?;
    let points: Vec<String> = gj["features"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f["properties"]["point"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    if points.is_empty() {
        return Ok(());
    }
    let accepted = || -> Result<u64> {
        let mut s = std::net::TcpStream::connect(addr)?;
        use std::io::{Read, Write};
        write!(
            s,
            "GET /api/alarms HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )?;
        let mut buf = String::new();
        s.read_to_string(&mut buf)?;
        let body = buf.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
        let v: serde_json::Value = serde_json::from_str(body)?;
        Ok(v["accepted"].as_u64().unwrap_or(0))
    };
    // distinct times a day back, one millisecond apart: no reading repeats another
    let base = riskmap::serve::now_ms() - 86_400_000;
    let clock = std::sync::atomic::AtomicI64::new(0);
    let post = |body: String| {
        format!(
            "POST /api/readings HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let one = |p: &str, k: i64| {
        format!(
            r#"{{"point":"{p}","value":{}.5,"time":{}}}"#,
            k % 9,
            base + k
        )
    };
    for (label, per_request, per_conn) in [
        ("one reading per request", 1usize, 2_500usize),
        ("100 readings per request", 100, 100),
    ] {
        let before = accepted()?;
        let f = bench::load_requests(addr, conns, per_conn, &|c, i| {
            let items: Vec<String> = (0..per_request)
                .map(|_| {
                    let k = clock.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    one(&points[(c * 31 + i + k as usize) % points.len()], k)
                })
                .collect();
            post(if per_request == 1 {
                items.concat()
            } else {
                format!("[{}]", items.join(","))
            })
        })
        .map_err(anyhow::Error::msg)?;
        let sent = (f.requests * per_request) as u64;
        let took = accepted()? - before;
        println!(
            "| POST /api/readings ({label}; {sent} readings, {} taken, {:.0} readings/s) | {} | {} | {:.0} | {:.2} | {:.2} | {:.1} |",
            took,
            sent as f64 / f.seconds.max(1e-9),
            f.requests,
            f.errors,
            f.rps(),
            f.p50_ms,
            f.p99_ms,
            f.max_ms
        );
        if took != sent || f.errors > 0 {
            bail!(
                "readings lost: {sent} posted, {took} taken, {} errors",
                f.errors
            );
        }
    }
    Ok(())
}

/// `bench --serve`: start `riskmap serve` on the built sample (a child process, as a user
/// runs it), then a bounded request loop from this process over loopback.
fn serve_bench(me: &Path, conns: usize) -> Result<u8> {
    use riskmap::bench;
    let cfg =
        Config::load(Path::new("riskmap.toml")).context("bench --serve reads ./riskmap.toml")?;
    let out = cfg.output.dir.clone();
    let mut tiles = bench::tile_paths(&out, "composite");
    if tiles.is_empty() {
        tiles = bench::archive_paths(&out, "composite", "png");
    }
    if tiles.is_empty() {
        bail!("{}: no tiles — run `riskmap build` first", out.display());
    }
    let addr = "127.0.0.1:18099";
    // the readings token for this run (the config's is not needed)
    let token = "bench-token-0123456789";
    let mut child = std::process::Command::new(me)
        .args(["serve", "--addr", addr])
        .env("RISKMAP_MONITORING_TOKEN", token)
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
        let nearest: Vec<String> = at
            .iter()
            .map(|p| {
                p.replace("/api/at?", "/api/nearest?")
                    .replace("&radius=500", "")
            })
            .collect();
        let pbf = bench::archive_paths(&out, "vector", "pbf");
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
                format!("vector tiles (.pbf, gzip, z10–16, {} distinct)", pbf.len()),
                &pbf,
                15_000,
            ),
            (
                format!("/api/at (radius 500 m, {} places)", at.len()),
                &at,
                2_000,
            ),
            (
                format!("/api/nearest (3 of each kind, {} places)", nearest.len()),
                &nearest,
                5_000,
            ),
        ] {
            if paths.is_empty() {
                continue;
            }
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
        readings_load(addr, token, &out, conns)?;
        Ok(())
    })();
    let _ = child.kill();
    let _ = child.wait();
    result.map(|_| 0)
}
