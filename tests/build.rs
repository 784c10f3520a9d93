//! `riskmap build` outputs: atomic as a set, --strict, determinism, RFC 7946 winding, the
//! GCJ-02 copies.

use riskmap::build::{build, BuildOptions};
use riskmap::config::Config;
use riskmap::pipeline::load;
use std::path::Path;

fn sample_config(out: &Path) -> Config {
    let mut c = Config::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/riskmap.toml"
    )))
    .unwrap();
    c.output.dir = out.to_path_buf();
    c
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap()
}

#[test]
fn failed_run_leaves_previous_outputs_intact() {
    let d = tempfile::tempdir().unwrap();
    let cfg = sample_config(d.path());
    build(&load(&cfg).unwrap(), &cfg, &BuildOptions::default()).unwrap();
    let before: Vec<(String, Vec<u8>)> = [
        "enterprises.geojson",
        "districts.geojson",
        "rejects.csv",
        "summary.json",
    ]
    .iter()
    .map(|n| (n.to_string(), read(&d.path().join(n))))
    .collect();
    // a run whose assessments file cannot be read fails before writing anything
    let mut broken = cfg.clone();
    let unreadable = d.path().join("unreadable.csv");
    std::fs::create_dir(&unreadable).unwrap();
    broken.assessments.path = Some(unreadable.clone());
    assert!(load(&broken).is_err());
    std::fs::remove_dir(&unreadable).unwrap();
    // one whose assessments file is missing is drawn without it, with a warning naming it
    // (#31: a config copied to another folder, a table not delivered this month)
    broken.assessments.path = Some(d.path().join("gone.csv"));
    let ds = load(&broken).unwrap();
    assert!(ds.points.is_empty());
    assert!(
        ds.warnings
            .iter()
            .any(|w| w.contains("gone.csv") && w.contains("文件不存在")),
        "{:?}",
        ds.warnings
    );
    // a run that fails in the middle of writing: the GeoJSON files are staged when the
    // report's folder turns out to be a file; the staged temps are removed and nothing
    // is renamed into place
    std::fs::remove_dir_all(d.path().join("report")).unwrap();
    std::fs::write(d.path().join("report"), "in the way").unwrap();
    let ds = load(&cfg).unwrap();
    let e = build(&ds, &cfg, &BuildOptions::default())
        .err()
        .expect("fails")
        .to_string();
    assert!(e.contains("report"), "{e}");
    // --strict with rejects: an error, nothing written
    let ds = load(&cfg).unwrap();
    assert!(
        matches!(build(&ds, &cfg, &BuildOptions { strict: true }), Err(riskmap::Error::Strict(n)) if n > 0)
    );
    for (n, bytes) in &before {
        assert_eq!(&read(&d.path().join(n)), bytes, "{n} changed");
    }
    let stray: Vec<_> = std::fs::read_dir(d.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(stray.is_empty(), "temp files left: {stray:?}");
}

#[test]
fn same_inputs_same_bytes() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    for dir in [a.path(), b.path()] {
        let cfg = sample_config(dir);
        build(&load(&cfg).unwrap(), &cfg, &BuildOptions::default()).unwrap();
    }
    // every file, in sub-folders too (report/, history/)
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_string_lossy().to_string());
            }
        }
    }
    let mut names = vec![];
    walk(a.path(), a.path(), &mut names);
    names.sort();
    assert!(names.len() >= 6, "{names:?}");
    for n in names {
        let (x, y) = (read(&a.path().join(&n)), read(&b.path().join(&n)));
        assert!(x == y, "{n} differs between two builds");
    }
}

fn signed_area(ring: &[serde_json::Value]) -> f64 {
    let mut s = 0.0;
    for w in ring.windows(2) {
        let (x1, y1) = (w[0][0].as_f64().unwrap(), w[0][1].as_f64().unwrap());
        let (x2, y2) = (w[1][0].as_f64().unwrap(), w[1][1].as_f64().unwrap());
        s += x1 * y2 - x2 * y1;
    }
    s / 2.0
}

#[test]
fn geojson_outputs_follow_rfc7946_and_gcj_copies_say_so() {
    let d = tempfile::tempdir().unwrap();
    let cfg = sample_config(d.path());
    let ds = load(&cfg).unwrap();
    build(&ds, &cfg, &BuildOptions::default()).unwrap();
    let districts: serde_json::Value =
        serde_json::from_slice(&read(&d.path().join("districts.geojson"))).unwrap();
    let feats = districts["features"].as_array().unwrap();
    assert_eq!(feats.len(), 12);
    for f in feats {
        let g = &f["geometry"];
        let polys: Vec<&serde_json::Value> = match g["type"].as_str().unwrap() {
            "Polygon" => vec![&g["coordinates"]],
            _ => g["coordinates"].as_array().unwrap().iter().collect(),
        };
        for p in polys {
            let rings = p.as_array().unwrap();
            assert!(
                signed_area(rings[0].as_array().unwrap()) > 0.0,
                "exterior ring of {} is not counter-clockwise",
                f["properties"]["name"]
            );
            for h in &rings[1..] {
                assert!(
                    signed_area(h.as_array().unwrap()) < 0.0,
                    "hole not clockwise"
                );
            }
        }
    }
    // the WGS84 districts sit ~500 m from the GCJ-02 source; the GCJ-02 copy is back on it
    let src: serde_json::Value = serde_json::from_slice(&read(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/sample/jinan_districts_gcj02.geojson"
    ))))
    .unwrap();
    let gcj: serde_json::Value =
        serde_json::from_slice(&read(&d.path().join("districts.gcj02.geojson"))).unwrap();
    assert_eq!(gcj["properties"]["crs"], "gcj02");
    assert_eq!(districts["properties"]["crs"], "wgs84");
    let c0 = &src["features"][0]["properties"]["center"];
    let c1 = &gcj["features"][0]["properties"]["center"];
    let c2 = &districts["features"][0]["properties"]["center"];
    let f = |v: &serde_json::Value, i: usize| v[i].as_f64().unwrap();
    assert!(riskmap::crs::haversine_m(f(c0, 0), f(c0, 1), f(c1, 0), f(c1, 1)) < 0.05);
    let shift = riskmap::crs::haversine_m(f(c0, 0), f(c0, 1), f(c2, 0), f(c2, 1));
    assert!(shift > 400.0 && shift < 700.0, "{shift}");
    // enterprises: every property the portal needs, 7 decimals at most
    let e: serde_json::Value =
        serde_json::from_slice(&read(&d.path().join("enterprises.geojson"))).unwrap();
    let f0 = &e["features"][0];
    for k in [
        "id",
        "name",
        "industry",
        "district",
        "adcode",
        "level",
        "level_zh",
        "color",
        "reason",
        "open_hidden_dangers",
        "安全负责人",
    ] {
        assert!(f0["properties"].get(k).is_some(), "missing property {k}");
    }
    let x = f0["geometry"]["coordinates"][0].as_f64().unwrap();
    assert_eq!((x * 1e7).round() / 1e7, x);
    let egcj: serde_json::Value =
        serde_json::from_slice(&read(&d.path().join("enterprises.gcj02.geojson"))).unwrap();
    let (gx, gy) = (
        egcj["features"][0]["geometry"]["coordinates"][0]
            .as_f64()
            .unwrap(),
        egcj["features"][0]["geometry"]["coordinates"][1]
            .as_f64()
            .unwrap(),
    );
    let (wx, wy) = riskmap::crs::gcj02_to_wgs84(gx, gy);
    assert!(riskmap::crs::haversine_m(wx, wy, ds.enterprises[0].lon, ds.enterprises[0].lat) < 0.05);
    // rejects.csv opens in Excel: UTF-8 BOM, Chinese headers
    let r = read(&d.path().join("rejects.csv"));
    assert!(
        r.starts_with(b"\xEF\xBB\xBF\xE6\x96\x87\xE4\xBB\xB6"),
        "BOM then 文件"
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&read(&d.path().join("summary.json"))).unwrap();
    assert_eq!(
        summary["rejects"]["issues"].as_u64().unwrap() as usize,
        String::from_utf8(r).unwrap().lines().count() - 1
    );
    assert_eq!(summary["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(summary["config_sha256"].as_str().unwrap().len(), 64);
    // the sample's ten: register, assessments, hazards, sites, resources, lifelines,
    // roads, monitoring points, readings, districts
    assert_eq!(summary["inputs"].as_array().unwrap().len(), 10);
    // the distribution products are all there and the summary names them
    for f in [
        "areas.geojson",
        "areas.csv",
        "grid.geojson",
        "zones.geojson",
        "surface.tif",
        "exposure.csv",
        "exposure.geojson",
    ] {
        assert!(d.path().join(f).exists(), "{f} missing");
        assert!(
            summary["outputs"]
                .as_array()
                .unwrap()
                .iter()
                .any(|o| o == f),
            "{f} not in summary"
        );
    }
    assert_eq!(summary["metric_crs"]["epsg"], 32650);
    assert_eq!(summary["areas"]["districts"].as_object().unwrap().len(), 12);
    // the summary counts the exposed sites exposure.geojson lists (each checked against a
    // haversine brute force in tests/sample_oracle.rs)
    let exposure: serde_json::Value =
        serde_json::from_slice(&read(&d.path().join("exposure.geojson"))).unwrap();
    assert_eq!(
        summary["exposure"]["exposed"].as_u64().unwrap() as usize,
        exposure["features"].as_array().unwrap().len()
    );
    assert_eq!(summary["exposure"]["sites"].as_u64().unwrap(), 200);
    assert!(
        summary["surface"]["zones"]["red"]["zones"]
            .as_u64()
            .unwrap()
            > 0
    );
    let areas_csv = String::from_utf8(read(&d.path().join("areas.csv"))).unwrap();
    assert!(areas_csv.starts_with("\u{feff}名称,区划代码,重大风险"));
    assert_eq!(areas_csv.lines().count(), 13);
}
