//! `riskmap bench --update`: the live map's latency as a user meets it, each figure a
//! fresh process or a real server: a full `build` of the generated register (every
//! layer, z8–16, the GCJ-02 twins, the report), then `serve --watch` on it and the time
//! from a save of the register to the server answering with the new generation (the new
//! tiles served) for one and for 1,000 changed enterprises, and to the watcher's
//! "unchanged" for a save that changes nothing; and `riskmap update` run as a command.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One measured figure: what, seconds, a note.
pub type Figure = (String, f64, String);

fn write_rows(p: &Path, header: &str, rows: &[String]) -> std::io::Result<()> {
    let mut s = String::with_capacity(rows.len() * 160);
    s.push('\u{feff}');
    s.push_str(header);
    s.push_str("\r\n");
    for r in rows {
        s.push_str(r);
        s.push_str("\r\n");
    }
    // as an editor saves: a new file renamed over the old one
    let tmp = p.with_extension("csv.saving");
    std::fs::write(&tmp, s)?;
    std::fs::rename(&tmp, p)
}

/// Regrade `n` enterprises spread over the register (重大 ↔ 低 in 风险等级).
fn regrade(p: &Path, n: usize, round: usize) -> std::io::Result<()> {
    let text = std::fs::read_to_string(p)?;
    let text = text.trim_start_matches('\u{feff}');
    let mut lines = text.lines().map(|l| l.trim_end_matches('\r').to_string());
    let header = lines.next().unwrap_or_default();
    let col = header
        .split(',')
        .position(|c| c == "风险等级")
        .ok_or_else(|| std::io::Error::other("no 风险等级 column"))?;
    let mut rows: Vec<String> = lines.filter(|l| !l.is_empty()).collect();
    let step = (rows.len() / n.max(1)).max(1);
    for k in 0..n.min(rows.len()) {
        let i = (k * step + round * 7) % rows.len();
        let mut cells: Vec<String> = rows[i].split(',').map(str::to_string).collect();
        if cells.len() > col {
            cells[col] = if cells[col] == "重大" {
                "低"
            } else {
                "重大"
            }
            .into();
            rows[i] = cells.join(",");
        }
    }
    write_rows(p, &header, &rows)
}

/// The generation the server at `addr` answers with.
fn served_generation(addr: &str) -> Option<String> {
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    write!(
        s,
        "GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    text.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("x-riskmap-generation")
                .then(|| v.trim().to_string())
        })
        .or_else(|| text.starts_with("HTTP/1.1 200").then(String::new))
}

fn wait_for(what: &str, limit: Duration, mut f: impl FnMut() -> bool) -> Result<f64, String> {
    let t = Instant::now();
    while t.elapsed() < limit {
        if f() {
            return Ok(t.elapsed().as_secs_f64());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Err(format!("{what}: not within {} s", limit.as_secs()))
}

/// The config for the register in `dir`: the repository's riskmap.toml (every layer,
/// z8–16, GCJ-02 twins, report) pointed at it.
fn config(dir: &Path) -> Result<PathBuf, String> {
    let here = std::env::current_dir().map_err(|e| e.to_string())?;
    let base = std::fs::read_to_string(here.join("riskmap.toml"))
        .map_err(|e| format!("riskmap.toml (run bench --update in the repository): {e}"))?;
    // absolute: the config's paths are read relative to the config file, which is in `dir`
    let dir = &here.join(dir);
    let d = dir.display().to_string();
    let text = base
        .replace("data/sample/", &format!("{d}/"))
        .replace("\"styles/", &format!("\"{}/styles/", here.display()))
        .replace("dir = \"output\"", &format!("dir = \"{d}/live-out\""));
    let p = dir.join("live.toml");
    std::fs::write(&p, text).map_err(|e| e.to_string())?;
    Ok(p)
}

fn run(exe: &Path, args: &[&str], cfg: &Path) -> Result<f64, String> {
    let t = Instant::now();
    let o = Command::new(exe)
        .args(args)
        .arg("--config")
        .arg(cfg)
        .output()
        .map_err(|e| e.to_string())?;
    if !o.status.success() {
        return Err(format!(
            "riskmap {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        ));
    }
    Ok(t.elapsed().as_secs_f64())
}

/// Measure on the register in `dir` (made by `riskmap sample`) with the binary `exe`.
pub fn measure(exe: &Path, dir: &Path, port: u16) -> Result<Vec<Figure>, String> {
    let cfg = config(dir)?;
    let ent = dir.join("enterprises.csv");
    let mut out: Vec<Figure> = Vec::new();
    eprintln!("bench --update: full build of {} …", dir.display());
    let s = run(exe, &["build", "-q"], &cfg)?;
    out.push((
        "full `riskmap build`".into(),
        s,
        "every layer z8–16 and GCJ-02 twins, report".into(),
    ));
    // the command: a save that changes nothing, then one regraded enterprise
    let bytes = std::fs::read(&ent).map_err(|e| e.to_string())?;
    std::fs::write(&ent, &bytes).map_err(|e| e.to_string())?;
    out.push((
        "`riskmap update`, file saved unchanged".into(),
        run(exe, &["update", "-q"], &cfg)?,
        "hashes the inputs, writes nothing".into(),
    ));
    regrade(&ent, 1, 0).map_err(|e| e.to_string())?;
    out.push((
        "`riskmap update`, 1 enterprise regraded".into(),
        run(exe, &["update", "-q"], &cfg)?,
        "a fresh process: reads the previous generation's saved inputs too".into(),
    ));
    // the watcher
    let addr = format!("127.0.0.1:{port}");
    let mut child = Command::new(exe)
        .args(["serve", "--watch", "--addr", &addr, "--config"])
        .arg(&cfg)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    if let Some(so) = child.stdout.take() {
        std::thread::spawn(move || {
            for l in BufReader::new(so).lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
    }
    let result = (|| -> Result<(), String> {
        wait_for("the server", Duration::from_secs(300), || {
            served_generation(&addr).is_some()
        })?;
        // the watcher's first look at the files
        let unchanged = |l: &str| l.contains("输入未变") || l.contains("inputs are unchanged");
        let first = rx
            .recv_timeout(Duration::from_secs(120))
            .map_err(|_| "the watcher said nothing".to_string())?;
        if !unchanged(&first) {
            return Err(format!("the watcher's first look: {first}"));
        }
        let bytes = std::fs::read(&ent).map_err(|e| e.to_string())?;
        let t = Instant::now();
        std::fs::write(&ent, &bytes).map_err(|e| e.to_string())?;
        loop {
            let l = rx
                .recv_timeout(Duration::from_secs(60))
                .map_err(|_| "no answer to an unchanged save".to_string())?;
            if unchanged(&l) {
                break;
            }
        }
        out.push((
            "`serve --watch`: save unchanged → watcher done".into(),
            t.elapsed().as_secs_f64(),
            "includes the 150 ms the watcher waits for a burst of saves to settle".into(),
        ));
        for (round, n) in [(1usize, 1usize), (2, 1), (3, 1000)] {
            let before = served_generation(&addr).unwrap_or_default();
            let t = Instant::now();
            regrade(&ent, n, round).map_err(|e| e.to_string())?;
            let mut now = String::new();
            wait_for("the new generation", Duration::from_secs(600), || {
                served_generation(&addr).is_some_and(|g| {
                    now = g;
                    now != before
                })
            })?;
            out.push((
                format!("`serve --watch`: {n} enterprise(s) regraded → new tiles served"),
                t.elapsed().as_secs_f64(),
                "from the rename of the saved file to the server answering with the new generation"
                    .into(),
            ));
            // the generation's files written (`current` switched to it): the watcher is
            // idle again before the next save
            let current = dir.join("live-out").join("current");
            wait_for("the generation written", Duration::from_secs(600), || {
                std::fs::read_link(&current)
                    .ok()
                    .and_then(|p| p.file_name().map(|n| n.to_string_lossy().to_string()))
                    .is_some_and(|g| g == now)
            })?;
            out.push((
                format!("`serve --watch`: {n} enterprise(s) regraded → generation written"),
                t.elapsed().as_secs_f64(),
                "the files (archives, GeoJSON, report) follow the served state".into(),
            ));
            while rx.try_recv().is_ok() {}
        }
        Ok(())
    })();
    let _ = child.kill();
    let _ = child.wait();
    result.map(|()| out)
}

/// The figures as a Markdown table.
pub fn table(count: usize, figs: &[Figure]) -> String {
    let mut s = format!("| {count} enterprises | seconds | |\n|---|---:|---|\n");
    for (what, secs, note) in figs {
        s.push_str(&format!("| {what} | {secs:.2} | {note} |\n"));
    }
    s
}
