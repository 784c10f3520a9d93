//! Registers shared by the test files (each includes this with `mod common;`).

// each test binary uses a part of it
#![allow(dead_code)]

use riskmap::crs::Crs;
use riskmap::index::DistrictIndex;
use std::path::Path;

/// A sample enterprise at its true (WGS84) position and the GCJ-02 position Gaode would
/// show, with the district it truly lies in.
pub struct BorderRow {
    pub id: String,
    pub name: String,
    pub district: String,
    pub wgs84: (f64, f64),
    pub gcj02: (f64, f64),
}

/// Rows of the bundled sample for the unstated-CRS tests (#31 §4): every enterprise whose
/// GCJ-02 position, misread as WGS84, lies in another district (`moved`), then up to 40
/// whose misreading stays in its own (`kept`). The districts come from Jinan's DataV
/// boundaries; positions written in GCJ-02 in the sample are taken back to WGS84 first.
pub fn border_rows() -> (Vec<BorderRow>, Vec<BorderRow>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let idx = DistrictIndex::new(
        riskmap::ingest::boundaries::read_boundaries(
            &root.join("data/sample/jinan_districts_gcj02.geojson"),
            Crs::Gcj02,
            "name",
            "adcode",
        )
        .unwrap(),
    );
    let mut r = csv::Reader::from_path(root.join("data/sample/enterprises.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| {
        h.iter()
            .position(|x| x.trim_start_matches('\u{feff}') == n)
            .unwrap()
    };
    let (ci, cn, cx, cy, cc) = (
        col("企业编号"),
        col("企业名称"),
        col("经度"),
        col("纬度"),
        col("坐标系"),
    );
    let (mut moved, mut kept) = (Vec::new(), Vec::new());
    for rec in r.records().map(|x| x.unwrap()) {
        let (Ok(x), Ok(y)) = (rec[cx].parse::<f64>(), rec[cy].parse::<f64>()) else {
            continue;
        };
        let wgs84 = match &rec[cc] {
            "WGS84" => (x, y),
            "GCJ-02" => riskmap::crs::gcj02_to_wgs84(x, y),
            _ => continue,
        };
        let Some(truth) = idx.locate(wgs84.0, wgs84.1) else {
            continue;
        };
        let gcj02 = riskmap::crs::wgs84_to_gcj02(wgs84.0, wgs84.1);
        let row = BorderRow {
            id: rec[ci].to_string(),
            name: rec[cn].to_string(),
            district: idx.districts[truth].name.clone(),
            wgs84,
            gcj02,
        };
        match idx.locate(gcj02.0, gcj02.1) {
            Some(d) if d != truth => moved.push(row),
            Some(_) if kept.len() < 40 => kept.push(row),
            _ => {}
        }
    }
    assert!(
        moved.len() >= 3,
        "{} sample rows near a border",
        moved.len()
    );
    (moved, kept)
}

/// A register of `rows` as an office writes it (CRLF, level 一般): at their GCJ-02
/// positions with no CRS column, or (`wgs84`) at their true positions with a 坐标系
/// column saying WGS84.
pub fn border_register(rows: &[&BorderRow], wgs84: bool) -> String {
    let mut csv = String::from(if wgs84 {
        "企业编号,企业名称,所属区县,经度,纬度,坐标系,风险等级\r\n"
    } else {
        "企业编号,企业名称,所属区县,经度,纬度,风险等级\r\n"
    });
    for r in rows {
        let (x, y, crs) = if wgs84 {
            (r.wgs84.0, r.wgs84.1, "WGS84,")
        } else {
            (r.gcj02.0, r.gcj02.1, "")
        };
        csv.push_str(&format!(
            "{},{},{},{x},{y},{crs}一般\r\n",
            r.id, r.name, r.district
        ));
    }
    csv
}
