//! The live map (#22). Equivalence is the spec: after random sequences of changes to the
//! sample register (enterprises added, deleted, moved across tile and district edges,
//! regraded, 重大 hidden dangers opened and closed), `riskmap update` — which draws only
//! the tiles a change touches and keeps every other tile of the previous generation —
//! leaves outputs identical to `riskmap build` run on the same inputs: every file byte
//! for byte (GeoJSON, CSV, statistics, report, overview, GeoTIFF, PMTiles archives), the
//! MBTiles archives tile for tile. The watcher's path (the previous state in memory) is
//! checked the same way. Then the change feed, the alerts and a webhook delivered to a
//! loopback receiver that fails first.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

fn riskmap() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_riskmap"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c.env("RISKMAP_LANG", "zh");
    c
}

fn ok(c: &mut Command) -> String {
    let o = c.output().unwrap();
    assert!(
        o.status.success(),
        "{c:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).to_string()
}

/// A small deterministic generator (xorshift64*): the sequences are the same on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The sample's inputs and a config in `dir` writing to `out` (zooms and surface cut
/// down so a debug build runs in seconds; every layer and the GCJ-02 twins kept).
fn setup(dir: &Path, out: &str, alerts: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    for f in [
        "enterprises.csv",
        "assessments.csv",
        "hidden_dangers.csv",
        "sites.csv",
        "jinan_districts_gcj02.geojson",
    ] {
        if !data.join(f).exists() {
            std::fs::copy(root.join("data/sample").join(f), data.join(f)).unwrap();
        }
    }
    let cfg = std::fs::read_to_string(root.join("riskmap.toml"))
        .unwrap()
        .replace("data/sample/", "data/")
        .replace("\"styles/", &format!("\"{}/styles/", root.display()))
        .replace("dir = \"output\"", &format!("dir = \"{out}\""))
        .replace("zoom = [8, 16]", "zoom = [8, 11]")
        .replace("resolution_m = 50", "resolution_m = 200");
    let p = dir.join(format!("{out}.toml"));
    std::fs::write(&p, format!("{cfg}\n[overview]\nwidth = 600\n{alerts}")).unwrap();
    p
}

/// Every file under `dir` (following the links into the current generation) by relative
/// path: the bytes, except MBTiles (its tiles, by z/x/y) and the change records (they
/// hold the time of the run).
fn contents(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, d: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let mut entries: Vec<_> = std::fs::read_dir(d).unwrap().flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let p = e.path();
            let rel = p.strip_prefix(base).unwrap().to_string_lossy().to_string();
            if rel.starts_with("changes") || rel.starts_with('.') {
                continue;
            }
            if p.is_dir() {
                walk(base, &p, out);
            } else if rel.ends_with(".mbtiles") {
                let c = rusqlite::Connection::open(&p).unwrap();
                let mut q = c
                    .prepare("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles ORDER BY 1, 2, 3")
                    .unwrap();
                let mut tiles = Vec::new();
                let rows = q
                    .query_map([], |r| {
                        Ok((
                            r.get::<_, u8>(0)?,
                            r.get::<_, u32>(1)?,
                            r.get::<_, u32>(2)?,
                            r.get::<_, Vec<u8>>(3)?,
                        ))
                    })
                    .unwrap();
                for row in rows {
                    let (z, x, y, data) = row.unwrap();
                    tiles.extend(format!("{z}/{x}/{y}:").as_bytes());
                    tiles.extend(sha(&data).as_bytes());
                    tiles.push(b'\n');
                }
                out.insert(rel, tiles);
            } else {
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let cur = dir.join("current");
    let mut m = BTreeMap::new();
    walk(&cur, &cur, &mut m);
    m
}

fn sha(b: &[u8]) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(b))
}

fn assert_same(inc: &Path, full: &Path, what: &str) {
    let (a, b) = (contents(inc), contents(full));
    let names = |m: &BTreeMap<String, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(&a), names(&b), "{what}: the same files");
    let tiles = a.keys().filter(|k| k.ends_with(".mbtiles")).count();
    assert!(
        tiles >= 8,
        "{what}: every layer's archive, WGS84 and GCJ-02 ({tiles})"
    );
    for (k, v) in &a {
        assert!(
            v == &b[k],
            "{what}: {k} differs between the update and a full build"
        );
    }
}

/// The CSV rows of a file (BOM and CRLF as the sample has them).
fn read_rows(p: &Path) -> (String, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(p).unwrap();
    let text = text.trim_start_matches('\u{feff}');
    let mut lines = text.lines().map(|l| l.trim_end_matches('\r'));
    let header = lines.next().unwrap().to_string();
    let rows = lines
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    (header, rows)
}

/// Write rows as Excel does (BOM, CRLF), by a new file renamed over the old one.
fn write_rows(p: &Path, header: &str, rows: &[Vec<String>]) {
    let mut s = format!("\u{feff}{header}\r\n");
    for r in rows {
        s.push_str(&r.join(","));
        s.push_str("\r\n");
    }
    let tmp = p.with_extension("tmp");
    std::fs::write(&tmp, s).unwrap();
    std::fs::rename(&tmp, p).unwrap();
}

/// One random change to the register in `data`; returns what it was.
fn change(data: &Path, rng: &mut Rng, serial: &mut usize) -> String {
    let ent = data.join("enterprises.csv");
    let haz = data.join("hidden_dangers.csv");
    let (eh, mut er) = read_rows(&ent);
    let col = |name: &str| eh.split(',').position(|c| c == name).unwrap();
    let (lon, lat, lvl) = (col("经度"), col("纬度"), col("风险等级"));
    let pick = rng.below(er.len());
    let id = er[pick][0].clone();
    let what = match rng.below(6) {
        0 => {
            // add: a copy of a row, new id, a few km away
            let mut r = er[pick].clone();
            *serial += 1;
            r[0] = format!("JNX{serial:06}");
            r[1] = String::new();
            r[2] = format!("新增测试企业{serial}");
            let x: f64 = r[lon].parse().unwrap();
            let y: f64 = r[lat].parse().unwrap();
            r[lon] = format!("{:.6}", x + (rng.unit() - 0.5) * 0.1);
            r[lat] = format!("{:.6}", y + (rng.unit() - 0.5) * 0.1);
            let id = r[0].clone();
            er.push(r);
            format!("add {id}")
        }
        1 => {
            er.remove(pick);
            format!("delete {id}")
        }
        2 => {
            // move across tile (z11 ≈ 0.18°) and often district edges
            let x: f64 = er[pick][lon].parse().unwrap();
            let y: f64 = er[pick][lat].parse().unwrap();
            er[pick][lon] = format!("{:.6}", x + (rng.unit() - 0.5) * 0.4);
            er[pick][lat] = format!("{:.6}", y + (rng.unit() - 0.5) * 0.3);
            format!("move {id}")
        }
        3 => {
            let l = ["重大", "较大", "一般", "低", ""][rng.below(5)];
            er[pick][lvl] = l.to_string();
            format!("regrade {id} {l}")
        }
        4 => {
            let (hh, mut hr) = read_rows(&haz);
            *serial += 1;
            hr.push(vec![
                format!("HX{serial:06}"),
                id.clone(),
                "重大".into(),
                "未整改".into(),
                "测试重大隐患".into(),
            ]);
            write_rows(&haz, &hh, &hr);
            return format!("open a 重大 hidden danger at {id}");
        }
        _ => {
            let (hh, mut hr) = read_rows(&haz);
            let open: Vec<usize> = (0..hr.len())
                .filter(|&i| hr[i][2] == "重大" && hr[i][3] != "已整改")
                .collect();
            if open.is_empty() {
                return "nothing to close".into();
            }
            let i = open[rng.below(open.len())];
            hr[i][3] = "已整改".into();
            let d = hr[i][0].clone();
            write_rows(&haz, &hh, &hr);
            return format!("close {d}");
        }
    };
    write_rows(&ent, &eh, &er);
    what
}

/// Random sequences, as a user runs them: edits, `riskmap update`; beside it the same
/// edits and `riskmap build`. After every step both output folders hold the same.
#[test]
fn updates_equal_full_builds_after_random_changes() {
    for seed in [7u64, 2026] {
        let t = tempfile::tempdir().unwrap();
        let inc = setup(t.path(), "inc", "");
        let full = setup(t.path(), "full", "");
        ok(riskmap().args(["build", "-q", "--config"]).arg(&inc));
        ok(riskmap().args(["build", "-q", "--config"]).arg(&full));
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let mut serial = 0;
        for step in 0..3 {
            let ops: Vec<String> = (0..1 + rng.below(3))
                .map(|_| change(&t.path().join("data"), &mut rng, &mut serial))
                .collect();
            let said = ok(riskmap().args(["update", "--config"]).arg(&inc));
            assert!(
                said.contains("增量"),
                "seed {seed} step {step} ({ops:?}): an incremental update: {said}"
            );
            ok(riskmap().args(["build", "-q", "--config"]).arg(&full));
            assert_same(
                &t.path().join("inc"),
                &t.path().join("full"),
                &format!("seed {seed} step {step} ({ops:?})"),
            );
        }
        // a save that changes nothing writes nothing
        let before = std::fs::read_link(t.path().join("inc/current")).unwrap();
        let said = ok(riskmap().args(["update", "--config"]).arg(&inc));
        assert!(said.contains("输入未变"), "{said}");
        assert_eq!(
            std::fs::read_link(t.path().join("inc/current")).unwrap(),
            before
        );
    }
}

/// The watcher's path: the previous state kept in memory (no re-reading of the saved
/// inputs) gives the same outputs.
#[test]
fn updates_from_the_state_in_memory_equal_full_builds() {
    let t = tempfile::tempdir().unwrap();
    let inc = setup(t.path(), "inc", "");
    let full = setup(t.path(), "full", "");
    // every archive format, XYZ folders too (a patch replaces their files by rename)
    for p in [&inc, &full] {
        let text = std::fs::read_to_string(p).unwrap().replace(
            "retina = false",
            "retina = false\nformats = [\"xyz\", \"mbtiles\", \"pmtiles\"]",
        );
        assert!(
            text.contains("formats = ["),
            "the test config has [tiles] retina"
        );
        std::fs::write(p, text).unwrap();
    }
    ok(riskmap().args(["build", "-q", "--config"]).arg(&inc));
    ok(riskmap().args(["build", "-q", "--config"]).arg(&full));
    let cfg = riskmap::config::Config::load(&inc).unwrap();
    let params = cfg.serve_params();
    let served = |dir: &Path, p: &riskmap::live::Prev| {
        riskmap::serve::state_shared(p.ds.clone(), p.an.clone(), dir, &params).unwrap()
    };
    let mut prev: Option<riskmap::live::Prev> = None;
    let mut rng = Rng(99);
    let mut serial = 0;
    let mut patched = 0;
    for step in 0..3 {
        let ops: Vec<String> = (0..2)
            .map(|_| change(&t.path().join("data"), &mut rng, &mut serial))
            .collect();
        // the server's state of the generation before (as `serve --watch` holds it)
        let before = prev
            .as_ref()
            .map(|p| served(&t.path().join("inc/current"), p));
        // what `serve --watch` serves before the generation is written
        let early: std::cell::RefCell<Option<riskmap::serve::State>> = Default::default();
        let hand = |e: riskmap::live::Early| {
            let base = before.as_ref().expect("a state served before");
            assert_eq!(
                Some(base.generation.parse::<u64>().unwrap()),
                e.from_generation
            );
            *early.borrow_mut() = riskmap::serve::state_early(
                e.ds.clone(),
                e.an.clone(),
                &params,
                base,
                e.patches,
                e.geojson,
                e.entry,
                e.generation,
            );
        };
        let hand: &dyn Fn(riskmap::live::Early) = &hand;
        let u = riskmap::live::update_with(
            &cfg,
            prev.take(),
            "watch",
            true,
            before.as_ref().map(|_| hand),
        )
        .unwrap();
        assert!(
            u.generation.is_some() && u.incremental,
            "step {step}: {ops:?}"
        );
        // the server's pyramids patched as the archives were = the archives read again
        if let (Some(before), Some(patches), Some(dir), Some(p)) =
            (&before, &u.patches, &u.dir, &u.prev)
        {
            patched += 1;
            let a = riskmap::serve::state_patched(
                p.ds.clone(),
                p.an.clone(),
                dir,
                &params,
                before,
                patches,
            )
            .unwrap();
            let b = served(dir, p);
            // (`vector`: the vector tilesets are cut whole with the generation's files,
            // so the state served early still has the previous ones; the state after the
            // write has the new ones)
            let same_tiles = |a: &riskmap::serve::State, what: &str, vector: bool| {
                assert_eq!(
                    a.pyramids.keys().collect::<Vec<_>>(),
                    b.pyramids.keys().collect::<Vec<_>>()
                );
                for (name, pb) in &b.pyramids {
                    if pb.is_vector() && !vector {
                        continue;
                    }
                    let pa = &a.pyramids[name];
                    assert_eq!(pa.len(), pb.len(), "step {step}: {name}: tiles {what}");
                    for (t, img) in pb.tiles() {
                        let got = pa.get(t).map(|i| (i.bytes.clone(), i.etag.clone()));
                        assert_eq!(
                            got,
                            Some((img.bytes.clone(), img.etag.clone())),
                            "step {step}: {name} {t:?} {what}"
                        );
                    }
                }
            };
            same_tiles(&a, "served after the patch", true);
            // served early = served from the written generation: tiles, GeoJSON, the
            // generation, the change record
            let e = early
                .borrow_mut()
                .take()
                .expect("the state was served early");
            same_tiles(&e, "served early", false);
            assert_eq!(e.generation, b.generation, "step {step}: generation");
            assert_eq!(
                e.geojson, b.geojson,
                "step {step}: GeoJSON served early = the files"
            );
            assert_eq!(
                e.changes.last(),
                b.changes.last(),
                "step {step}: the change record served early"
            );
            assert_eq!(e.meta, b.meta, "step {step}: /api/meta");
        }
        prev = u.prev;
        ok(riskmap().args(["build", "-q", "--config"]).arg(&full));
        assert_same(
            &t.path().join("inc"),
            &t.path().join("full"),
            &format!("in memory, step {step} ({ops:?})"),
        );
    }
    assert!(
        patched >= 1,
        "the archives were patched (not rewritten) at least once"
    );
    assert!(
        contents(&t.path().join("inc"))
            .keys()
            .any(|k| k.starts_with("tiles/") && k.ends_with(".png")),
        "XYZ folders written and compared"
    );
}

/// A loopback HTTP receiver: answers the first `fail` requests with 503, then 200;
/// returns the bodies it accepted.
fn receiver(fail: usize) -> (String, std::sync::mpsc::Receiver<String>) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut n = 0;
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // headers, then Content-Length bytes of body
            let body = loop {
                let k = s.read(&mut chunk).unwrap_or(0);
                if k == 0 {
                    break None;
                }
                buf.extend_from_slice(&chunk[..k]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some(h) = text.find("\r\n\r\n") {
                    let len: usize = text[..h]
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse().ok())?
                        })
                        .unwrap_or(0);
                    if buf.len() >= h + 4 + len {
                        break Some(String::from_utf8_lossy(&buf[h + 4..h + 4 + len]).to_string());
                    }
                }
            };
            n += 1;
            let status = if n <= fail {
                "503 Service Unavailable"
            } else {
                "200 OK"
            };
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            if n > fail {
                if let Some(b) = body {
                    let _ = tx.send(b);
                }
            }
        }
    });
    (url, rx)
}

/// The change record says what changed (level up with old and new level and reason, the
/// hidden danger opened, the zones), the rules raise their alerts, and the webhook is
/// delivered to a receiver that fails twice before it accepts.
#[test]
fn changes_raise_alerts_and_webhooks() {
    let t = tempfile::tempdir().unwrap();
    let (url, got) = receiver(2);
    let alerts = format!(
        "[[alerts]]\nname = \"新增重大\"\nkind = \"enterprise_red\"\nwebhook = \"{url}\"\n\n[[alerts]]\nkind = \"major_danger_opened\"\n\n[[alerts]]\nkind = \"reds_in_district\"\ncount = 2\nwithin_hours = 1\n"
    );
    let cfg = setup(t.path(), "out", &alerts);
    ok(riskmap().args(["build", "-q", "--config"]).arg(&cfg));
    // two blue enterprises of one district get an open 重大 hidden danger each
    let data = t.path().join("data");
    let snap: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.path().join("out/snapshot.json")).unwrap())
            .unwrap();
    let mut by_district: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in snap["enterprises"].as_array().unwrap() {
        if e["level"] == "blue" {
            by_district
                .entry(e["district"].as_str().unwrap_or("").to_string())
                .or_default()
                .push(e["id"].as_str().unwrap().to_string());
        }
    }
    let (district, ids) = by_district
        .iter()
        .find(|(d, v)| !d.is_empty() && v.len() >= 2)
        .unwrap();
    let (hh, mut hr) = read_rows(&data.join("hidden_dangers.csv"));
    for (k, id) in ids[..2].iter().enumerate() {
        hr.push(vec![
            format!("HA{k}"),
            id.clone(),
            "重大".into(),
            "未整改".into(),
            "测试".into(),
        ]);
    }
    write_rows(&data.join("hidden_dangers.csv"), &hh, &hr);
    let said = ok(riskmap().args(["update", "--config"]).arg(&cfg));
    assert!(said.contains("预警［新增重大］"), "{said}");
    let rec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.path().join("out/changes/000002.json")).unwrap())
            .unwrap();
    assert_eq!(rec["generation"], 2);
    assert_eq!(rec["previous"], 1);
    assert_eq!(rec["by"], "update");
    assert_eq!(rec["incremental"], true);
    let items = rec["items"].as_array().unwrap();
    for id in &ids[..2] {
        let up = items
            .iter()
            .find(|i| i["kind"] == "level_up" && i["id"] == id.as_str())
            .unwrap_or_else(|| panic!("{id} level_up in {items:?}"));
        assert_eq!(up["from"], "blue");
        assert_eq!(up["to"], "red");
        assert_eq!(up["district"], district.as_str());
        assert!(up["reason_zh"].as_str().unwrap().contains("隐患"), "{up}");
        assert!(items
            .iter()
            .any(|i| i["kind"] == "danger_opened" && i["enterprise_id"] == id.as_str()));
    }
    assert!(items
        .iter()
        .any(|i| i["kind"] == "zones" && i["to"] == "red"));
    let alerts = rec["alerts"].as_array().unwrap();
    let kinds: Vec<&str> = alerts.iter().map(|a| a["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "enterprise_red").count(),
        2,
        "{alerts:?}"
    );
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == "major_danger_opened")
            .count(),
        2
    );
    let in_district = alerts
        .iter()
        .find(|a| a["kind"] == "reds_in_district")
        .unwrap_or_else(|| panic!("two reds in {district} within the hour: {alerts:?}"));
    assert!(in_district["message_zh"]
        .as_str()
        .unwrap()
        .contains(district.as_str()));
    // the webhook: both enterprise_red alerts, after the receiver's two failures
    let mut bodies = Vec::new();
    for _ in 0..2 {
        let b = got
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("webhook delivered after retries");
        bodies.push(serde_json::from_str::<serde_json::Value>(&b).unwrap());
    }
    for b in &bodies {
        assert_eq!(b["alert"]["rule"], "新增重大");
        assert_eq!(b["generation"], 2);
        assert_eq!(b["items"][0]["to"], "red");
    }
    // closing them again: level_down and danger_closed, no new red alert
    hr.truncate(hr.len() - 2);
    write_rows(&data.join("hidden_dangers.csv"), &hh, &hr);
    let said = ok(riskmap().args(["update", "--config"]).arg(&cfg));
    assert!(!said.contains("预警"), "{said}");
    let rec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.path().join("out/changes/000003.json")).unwrap())
            .unwrap();
    let items = rec["items"].as_array().unwrap();
    assert_eq!(
        items.iter().filter(|i| i["kind"] == "level_down").count(),
        2,
        "{items:?}"
    );
    assert_eq!(
        items
            .iter()
            .filter(|i| i["kind"] == "danger_closed")
            .count(),
        2
    );
}
