//! One generation per run, as a user runs riskmap: `build`, `tiles` and `report` killed
//! with SIGKILL at random moments leave the output folder the complete previous set or
//! the complete new one (every file byte-identical to a clean build of one register),
//! a run that cannot write (a file-size limit, as a full disk) fails naming the file and
//! leaves the previous set, and `serve` follows a rebuild without a restart.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn riskmap() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_riskmap"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn ok(c: &mut Command) -> String {
    let o = c.output().unwrap();
    assert!(
        o.status.success(),
        "{c:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).to_string()
}

/// A small register made by `riskmap sample` with `seed`, in `dir/reg{seed}`.
fn sample(dir: &Path, seed: u64) -> PathBuf {
    let reg = dir.join(format!("reg{seed}"));
    ok(riskmap()
        .args([
            "sample",
            "--count",
            "300",
            "--seed",
            &seed.to_string(),
            "--out",
        ])
        .arg(&reg));
    reg
}

/// A small register and a config for it writing to `out`.
fn register(dir: &Path, seed: u64, out: &Path) -> PathBuf {
    let reg = sample(dir, seed);
    config(dir, &format!("cfg{seed}.toml"), &reg, out)
}

fn config(dir: &Path, name: &str, reg: &Path, out: &Path) -> PathBuf {
    let toml = format!(
        r#"
[enterprises]
path = "{r}/enterprises.csv"
[assessments]
path = "{r}/assessments.csv"
[hazards]
path = "{r}/hidden_dangers.csv"
[boundaries]
path = "{r}/jinan_districts_gcj02.geojson"
crs = "gcj02"
[output]
dir = "{o}"
[tiles]
enabled = true
zoom = [8, 11]
layers = ["surface", "points", "areas"]
formats = ["pmtiles", "mbtiles", "xyz"]
[report]
enabled = true
[overview]
width = 600
"#,
        r = reg.display(),
        o = out.display()
    );
    let p = dir.join(name);
    std::fs::write(&p, toml).unwrap();
    p
}

/// Every file of a set by path, with its bytes' hash; what legitimately differs between
/// two runs of one register (the report's "what changed" and the history it reads,
/// summary.json's list of history files) is left out here and checked apart.
fn fingerprint(dir: &Path) -> BTreeMap<String, u64> {
    fn walk(root: &Path, d: &Path, out: &mut BTreeMap<String, u64>) {
        let mut es: Vec<_> = std::fs::read_dir(d).unwrap().flatten().collect();
        es.sort_by_key(|e| e.file_name());
        for e in es {
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().to_string();
            // (`current` is the same set the top-level links lead into)
            if rel.starts_with('.')
                || rel == "current"
                || rel.starts_with("history")
                // (the change records say when and against which run: the lineage's)
                || rel.starts_with("changes")
                || rel.starts_with("report")
                || rel == "summary.json"
            {
                continue;
            }
            // follow the top-level links into `current` as a reader does
            let meta = std::fs::metadata(&p).unwrap();
            if meta.is_dir() {
                walk(root, &p, out);
            } else {
                use std::hash::{Hash, Hasher};
                let mut h = std::collections::hash_map::DefaultHasher::new();
                std::fs::read(&p).unwrap().hash(&mut h);
                out.insert(rel, h.finish());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// What summary.json and the report say of the register: its input hashes and counts.
fn described(dir: &Path) -> (String, String) {
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
    let inputs = v["inputs"].to_string();
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let total = v["enterprises"]["by_level"].to_string();
    // the report names the same register: its provenance lists the same hashes
    for i in v["inputs"].as_array().unwrap() {
        let h = i["sha256"].as_str().unwrap();
        assert!(html.contains(h), "report.html does not name input {h}");
    }
    (inputs, total)
}

fn leftovers(out: &Path) -> Vec<String> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(out).unwrap().flatten() {
        let n = e.file_name().to_string_lossy().to_string();
        if n.starts_with(".link-") || n.contains(".tmp-") {
            v.push(n);
        }
    }
    for e in std::fs::read_dir(out.join(".generations"))
        .unwrap()
        .flatten()
    {
        let n = e.file_name().to_string_lossy().to_string();
        if n.ends_with(".partial") {
            v.push(n);
        }
    }
    v
}

struct Sets {
    a: (BTreeMap<String, u64>, (String, String)),
    b: (BTreeMap<String, u64>, (String, String)),
}

impl Sets {
    /// Which register the set in `out` describes, after checking it is one whole set.
    fn which(&self, out: &Path) -> char {
        let fp = fingerprint(out);
        let d = described(out);
        if fp == self.a.0 {
            assert_eq!(d, self.a.1, "files of A, summary of another");
            'a'
        } else if fp == self.b.0 {
            assert_eq!(d, self.b.1, "files of B, summary of another");
            'b'
        } else {
            let diff: Vec<&String> = fp
                .keys()
                .chain(self.a.0.keys())
                .filter(|k| fp.get(*k) != self.a.0.get(*k) && fp.get(*k) != self.b.0.get(*k))
                .collect();
            panic!("a mixed or partial set: {diff:?}");
        }
    }
}

#[test]
fn sigkill_at_any_moment_leaves_one_whole_set() {
    let kills: usize = std::env::var("RISKMAP_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("out");
    let cfg_a = register(d.path(), 1, &out);
    let cfg_b = register(d.path(), 2, &out);
    // the references: each register built whole into a folder of its own
    let reference = |cfg: &Path, name: &str| {
        let o = d.path().join(name);
        let t = Instant::now();
        ok(riskmap()
            .args(["build", "-q", "--config"])
            .arg(cfg)
            .arg("--out")
            .arg(&o));
        let secs = t.elapsed().as_secs_f64();
        ((fingerprint(&o), described(&o)), secs)
    };
    let (a, secs_a) = reference(&cfg_a, "ref_a");
    let (b, secs_b) = reference(&cfg_b, "ref_b");
    assert_ne!(a.0, b.0);
    let sets = Sets { a, b };
    let span = secs_a.max(secs_b) * 1.2;
    // the first set, whole
    ok(riskmap().args(["build", "-q", "--config"]).arg(&cfg_a));
    assert_eq!(sets.which(&out), 'a');
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut finished = 0;
    for k in 0..kills {
        let now = sets.which(&out);
        let cfg_now = if now == 'a' { &cfg_a } else { &cfg_b };
        let cfg_other = if now == 'a' { &cfg_b } else { &cfg_a };
        // builds of the other register, and tiles / report of the current one
        let args: Vec<&str> = match k % 4 {
            0 | 1 => vec!["build", "-q"],
            2 => vec!["tiles", "-q"],
            _ => vec!["report"],
        };
        let cfg = if args[0] == "build" {
            cfg_other
        } else {
            cfg_now
        };
        let mut child = riskmap()
            .args(&args)
            .arg("--config")
            .arg(cfg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let wait = Duration::from_secs_f64(span * (next() % 1000) as f64 / 1000.0);
        std::thread::sleep(wait);
        if child.try_wait().unwrap().is_some() {
            finished += 1;
        }
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        // whole: every file of one register, through the links users open
        let after = sets.which(&out);
        // and the links resolve to the generation `current` names
        assert_eq!(
            std::fs::read(out.join("enterprises.geojson")).unwrap(),
            std::fs::read(out.join("current/enterprises.geojson")).unwrap()
        );
        if args[0] != "build" {
            assert_eq!(after, now, "tiles/report keep the register");
        }
    }
    // the next run cleans what the killed ones left, and keeps two generations
    ok(riskmap().args(["build", "-q", "--config"]).arg(&cfg_b));
    assert_eq!(sets.which(&out), 'b');
    assert_eq!(leftovers(&out), Vec::<String>::new());
    let gens = std::fs::read_dir(out.join(".generations")).unwrap().count();
    assert_eq!(gens, 2, "the current generation and one to roll back to");
    // rollback: the set before, whole
    ok(riskmap().args(["rollback", "--config"]).arg(&cfg_b));
    let back = sets.which(&out);
    eprintln!("{kills} kills ({finished} runs had finished before theirs); rolled back to {back}");
}

/// A run that cannot write (a file-size limit makes every write past it fail, as a full
/// disk does) exits 2 naming the file, and the previous set stays whole.
#[test]
fn a_failed_write_leaves_the_previous_set() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("out");
    let cfg_a = register(d.path(), 1, &out);
    let cfg_b = register(d.path(), 2, &out);
    ok(riskmap().args(["build", "-q", "--config"]).arg(&cfg_a));
    let before = fingerprint(&out);
    let summary = std::fs::read(out.join("summary.json")).unwrap();
    // 64 KiB per file: enterprises.geojson of 300 enterprises is larger
    let o = Command::new("bash")
        .arg("-c")
        .arg(r#"ulimit -f 64; trap "" XFSZ; exec "$0" build -q --config "$1""#)
        .arg(env!("CARGO_BIN_EXE_riskmap"))
        .arg(&cfg_b)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("File too large"), "{err}");
    assert!(
        err.contains(".geojson") || err.contains(".json"),
        "names the file: {err}"
    );
    assert_eq!(fingerprint(&out), before);
    assert_eq!(std::fs::read(out.join("summary.json")).unwrap(), summary);
    assert_eq!(
        leftovers(&out),
        Vec::<String>::new(),
        "the failed run removed its files"
    );
}

/// GET over a fresh connection: status, headers (lower-cased names) and body.
fn get(addr: &str, path: &str) -> std::io::Result<(u16, BTreeMap<String, String>, Vec<u8>)> {
    let mut s = std::net::TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(20)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no header end"))?;
    let head = String::from_utf8_lossy(&buf[..split]).to_string();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string()))
        .collect();
    Ok((status, headers, buf[split + 4..].to_vec()))
}

#[test]
fn serve_follows_a_rebuild_without_a_restart() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("out");
    // the user's register, edited in place between builds
    let reg = d.path().join("register");
    let (ra, rb) = (sample(d.path(), 1), sample(d.path(), 2));
    let copy = |from: &Path| {
        std::fs::create_dir_all(&reg).unwrap();
        for e in std::fs::read_dir(from).unwrap().flatten() {
            std::fs::copy(e.path(), reg.join(e.file_name())).unwrap();
        }
    };
    let cfg = config(d.path(), "cfg.toml", &reg, &out);
    copy(&ra);
    ok(riskmap().args(["build", "-q", "--config"]).arg(&cfg));
    let count = |o: &Path| -> u64 {
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(o.join("summary.json")).unwrap()).unwrap();
        v["enterprises"]["by_level"]["total"].as_u64().unwrap()
    };
    let n_a = count(&out);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut server = riskmap()
        .args(["serve", "--config"])
        .arg(&cfg)
        .args(["--addr", &addr])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let result = std::panic::catch_unwind(|| {
        let t = Instant::now();
        while get(&addr, "/healthz").is_err() {
            assert!(
                t.elapsed() < Duration::from_secs(120),
                "serve did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let health = |addr: &str| {
            let (st, h, body) = get(addr, "/healthz").unwrap();
            assert_eq!(st, 200);
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
            (
                h.get("x-riskmap-generation").cloned().unwrap_or_default(),
                v["enterprises"].as_u64().unwrap(),
            )
        };
        let (gen_a, served_a) = health(&addr);
        assert_eq!(gen_a, "000001");
        let tile = "/tiles/points/8/211/100.png";
        let (status, h, _) = get(&addr, tile).unwrap();
        assert_eq!(status, 200);
        let etag_a = h.get("etag").cloned().unwrap_or_default();
        // the register changes and is rebuilt while requests keep coming
        copy(&rb);
        let mut rebuild = riskmap()
            .args(["build", "-q", "--config"])
            .arg(&cfg)
            .spawn()
            .unwrap();
        let n_b_expected = {
            let o = d.path().join("ref_b");
            ok(riskmap()
                .args(["build", "-q", "--config"])
                .arg(&cfg)
                .arg("--out")
                .arg(&o));
            count(&o)
        };
        assert!(rebuild.wait().unwrap().success());
        let mut seen = BTreeMap::new();
        let t = Instant::now();
        loop {
            // every answer is one generation's: its header and its numbers agree
            let (g, n) = health(&addr);
            seen.insert(g.clone(), n);
            if g != gen_a {
                break;
            }
            assert!(
                t.elapsed() < Duration::from_secs(120),
                "serve did not switch"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(seen[&gen_a], served_a);
        let (gen_b, served_b) = health(&addr);
        assert_eq!(gen_b, "000002");
        assert_eq!(served_b, n_b_expected);
        let (_, h, _) = get(&addr, tile).unwrap();
        assert_ne!(h.get("etag").cloned().unwrap_or_default(), etag_a);
        (served_a, served_b)
    });
    let _ = server.kill();
    let _ = server.wait();
    let (a, _) = result.unwrap();
    assert_eq!(a, n_a);
}

/// `tiles` and `report` add to the current set only when it was built from the inputs
/// they read: after the register changed they refuse, naming the file, and the set stays.
#[test]
fn tiles_and_report_refuse_to_mix_registers() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("out");
    let reg = d.path().join("register");
    std::fs::create_dir_all(&reg).unwrap();
    let ra = sample(d.path(), 1);
    for e in std::fs::read_dir(&ra).unwrap().flatten() {
        std::fs::copy(e.path(), reg.join(e.file_name())).unwrap();
    }
    let cfg = config(d.path(), "cfg.toml", &reg, &out);
    ok(riskmap().args(["build", "-q", "--config"]).arg(&cfg));
    let before = fingerprint(&out);
    // one more row in the register
    let mut text = std::fs::read_to_string(reg.join("enterprises.csv")).unwrap();
    text.push_str("JNX0001,新增企业,化工,历下区,117.05,36.66,WGS84\n");
    std::fs::write(reg.join("enterprises.csv"), text).unwrap();
    for cmd in ["tiles", "report"] {
        let o = riskmap()
            .args([cmd, "--config"])
            .arg(&cfg)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{cmd}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("输入已改变") && err.contains("enterprises.csv"),
            "{cmd}: {err}"
        );
        assert_eq!(fingerprint(&out), before, "{cmd} left the set as it was");
    }
    assert_eq!(leftovers(&out), Vec::<String>::new());
}
