//! End to end through `riskmap build`, rows the bundled sample never has: MES and direct
//! assessments, a fatal accident, BD-09 input, and points in and beyond the region's
//! tolerance band. Expected levels from the bands of ../shared/domain.md §2–3 worked by
//! hand; the BD-09 position from the published vector in tests/data
//! (jinan_370100_gcj2bd and jinan_370100_gcj2wgs_exact).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text.replace('\n', "\r\n")).unwrap();
    p
}

/// Metres between two WGS84 points (haversine, its own copy).
fn metres(a: (f64, f64), b: (f64, f64)) -> f64 {
    let r = 6_371_008.8;
    let (p1, p2) = (a.1.to_radians(), b.1.to_radians());
    let dp = p2 - p1;
    let dl = (b.0 - a.0).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * r * h.sqrt().asin()
}

#[test]
fn rows_the_sample_never_has() {
    let d = tempfile::tempdir().unwrap();
    // four WGS84 squares sharing borders: 116.8–117.2 × 36.4–36.8
    let sq = |name: &str, w: f64, s: f64, e: f64, n: f64| {
        format!(
            r#"{{"type":"Feature","properties":{{"name":"{name}","adcode":"{name}"}},"geometry":{{"type":"Polygon","coordinates":[[[{w},{s}],[{e},{s}],[{e},{n}],[{w},{n}],[{w},{s}]]]}}}}"#
        )
    };
    let b = d.path().join("b.geojson");
    std::fs::write(
        &b,
        format!(
            r#"{{"type":"FeatureCollection","features":[{},{},{},{}]}}"#,
            sq("SW", 116.8, 36.4, 117.0, 36.6),
            sq("SE", 117.0, 36.4, 117.2, 36.6),
            sq("NW", 116.8, 36.6, 117.0, 36.8),
            sq("NE", 117.0, 36.6, 117.2, 36.8)
        ),
    )
    .unwrap();
    // 100 m and 300 m west of the western edge at 36.5° (the band is 200 m)
    let m_per_deg = 111_320.0 * 36.5f64.to_radians().cos();
    let (near, far) = (116.8 - 100.0 / m_per_deg, 116.8 - 300.0 / m_per_deg);
    let reg = write(
        d.path(),
        "e.csv",
        &format!(
            "企业编号,企业名称,经度,纬度,坐标系,近12个月死亡事故\n\
M1,甲,117.10,36.50,WGS84,否\n\
M2,乙,117.11,36.50,WGS84,否\n\
M3,丙,117.12,36.50,WGS84,否\n\
M4,丁,117.13,36.50,WGS84,否\n\
D1,戊,117.14,36.50,WGS84,否\n\
F1,己,117.15,36.50,WGS84,是\n\
B1,庚,117.00729904786904,36.68215318770721,BD09,否\n\
T1,辛,{near},36.50,WGS84,否\n\
T2,壬,{far},36.50,WGS84,否\n"
        ),
    );
    // MES: R = M × E × S; > 180 red, 90–180 orange, 50–89 yellow, below blue
    let asm = write(
        d.path(),
        "a.csv",
        "企业编号,风险点名称,评价方法,M,E,S,风险等级\n\
M1,反应釜,MES,5,6,8,\n\
M2,储罐,MES,3,6,8,\n\
M3,仓库,MES,3,2,8,\n\
M4,配电室,MES,1,10,8,\n\
D1,锅炉房,直接判定,,,,较大风险\n\
T1,车间,MES,1,1,1,\n",
    );
    let out = d.path().join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_riskmap"))
        .arg("build")
        .arg("--enterprises")
        .arg(&reg)
        .arg("--assessments")
        .arg(&asm)
        .arg("--boundaries")
        .arg(&b)
        .arg("--out")
        .arg(&out)
        .arg("-q")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("enterprises.geojson")).unwrap()).unwrap();
    let got: BTreeMap<String, (String, String, (f64, f64), String, String)> = v["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let p = &f["properties"];
            let c = &f["geometry"]["coordinates"];
            (
                p["id"].as_str().unwrap().to_string(),
                (
                    p["level"].as_str().unwrap().to_string(),
                    p["rule"].as_str().unwrap().to_string(),
                    (c[0].as_f64().unwrap(), c[1].as_f64().unwrap()),
                    p["district"].as_str().unwrap_or("").to_string(),
                    p["warnings"].to_string(),
                ),
            )
        })
        .collect();
    let level = |id: &str| got[id].0.as_str();
    assert_eq!(level("M1"), "red", "5·6·8 = 240 > 180");
    assert_eq!(level("M2"), "orange", "3·6·8 = 144");
    assert_eq!(level("M3"), "blue", "3·2·8 = 48");
    assert_eq!(level("M4"), "yellow", "1·10·8 = 80");
    assert_eq!(level("D1"), "orange", "direct 较大");
    assert_eq!(
        (level("F1"), got["F1"].1.as_str()),
        ("red", "fatal_accident")
    );
    // BD-09 → WGS84 within a metre of the published chain's answer, in NW
    let want = (116.99510146679688, 36.67555431445312);
    let dist = metres(got["B1"].2, want);
    assert!(
        dist < 1.0,
        "BD-09 row lands {dist:.2} m from the published point"
    );
    assert_eq!(got["B1"].3, "NW");
    // 100 m outside: kept in the nearest district, with a warning; 300 m: rejected
    assert_eq!(got["T1"].3, "SW");
    assert_ne!(got["T1"].4, "[]", "a warning says it lies outside");
    assert!(!got.contains_key("T2"));
    let rejects = std::fs::read_to_string(out.join("rejects.csv")).unwrap();
    let t2: Vec<&str> = rejects.lines().filter(|l| l.contains(",T2,")).collect();
    assert_eq!(t2.len(), 1, "{rejects}");
    assert!(
        t2[0].contains("outside_region") && t2[0].contains(",10,"),
        "{}",
        t2[0]
    );
    assert_eq!(got.len(), 8);
}
