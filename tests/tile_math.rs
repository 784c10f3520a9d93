//! Tile math against the published mercantile vectors (tests/data/mercantile_vectors.json)
//! and properties derived from the formulas.

use riskmap::render::tile::*;
use serde_json::Value;

fn f(v: &Value) -> f64 {
    match v {
        Value::String(s) if s == "inf" => f64::INFINITY,
        Value::String(s) if s == "-inf" => f64::NEG_INFINITY,
        v => v.as_f64().unwrap(),
    }
}

fn t3(v: &Value) -> Tile {
    Tile::new(
        v[0].as_u64().unwrap() as u32,
        v[1].as_u64().unwrap() as u32,
        v[2].as_u64().unwrap() as u8,
    )
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a.is_infinite() && a == b) || (a - b).abs() <= tol.max(1e-9)
}

#[test]
fn every_mercantile_vector() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/mercantile_vectors.json"
    ))
    .unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let mut n = 0;
    for v in doc["vectors"].as_array().unwrap() {
        let kind = v["kind"].as_str().unwrap();
        let tol = v.get("tol").map(f).unwrap_or(1e-9);
        match kind {
            "ul" => {
                let (x, y) = t3(&v["tile"]).ul();
                assert!(
                    close(x, f(&v["expected"][0]), tol) && close(y, f(&v["expected"][1]), tol),
                    "{v}"
                );
            }
            "bounds" => {
                let b = t3(&v["tile"]).bounds();
                for i in 0..4 {
                    assert!(close(b[i], f(&v["expected"][i]), tol), "{v}");
                }
            }
            "xy" => {
                let (x, y) = xy(f(&v["lnglat"][0]), f(&v["lnglat"][1]));
                assert!(
                    close(x, f(&v["expected"][0]), tol) && close(y, f(&v["expected"][1]), tol),
                    "{v}: {x} {y}"
                );
            }
            "lnglat" => {
                let (x, y) = lnglat(f(&v["xy"][0]), f(&v["xy"][1]));
                assert!(
                    close(x, f(&v["expected"][0]), 1e-9) && close(y, f(&v["expected"][1]), 1e-9),
                    "{v}"
                );
            }
            "xy_bounds" => {
                let b = t3(&v["tile"]).xy_bounds();
                for i in 0..4 {
                    assert!(close(b[i], f(&v["expected"][i]), tol), "{v}: {b:?}");
                }
            }
            "tile" => {
                let t = tile(
                    f(&v["lnglat"][0]),
                    f(&v["lnglat"][1]),
                    v["zoom"].as_u64().unwrap() as u8,
                );
                assert_eq!(t, t3(&v["expected"]), "{v}");
            }
            "tiles" => {
                let b: Vec<f64> = v["bbox"].as_array().unwrap().iter().map(f).collect();
                let got: Vec<Tile> =
                    tiles_in([b[0], b[1], b[2], b[3]], v["zoom"].as_u64().unwrap() as u8).collect();
                let want: Vec<Tile> = v["expected"].as_array().unwrap().iter().map(t3).collect();
                assert_eq!(got, want, "{v}");
            }
            "bounding_tile" => {
                let b: Vec<f64> = v["bbox"].as_array().unwrap().iter().map(f).collect();
                assert_eq!(
                    bounding_tile([b[0], b[1], b[2], b[3]]),
                    t3(&v["expected"]),
                    "{v}"
                );
            }
            "quadkey" => assert_eq!(t3(&v["tile"]).quadkey(), v["expected"].as_str().unwrap()),
            "parent" => {
                let mut t = t3(&v["tile"]);
                let z = v
                    .get("zoom")
                    .and_then(|z| z.as_u64())
                    .unwrap_or(t.z as u64 - 1) as u8;
                while t.z > z {
                    t = t.parent().unwrap();
                }
                assert_eq!(t, t3(&v["expected"]));
            }
            "children" => {
                let p = t3(&v["tile"]);
                for c in v["expected"].as_array().unwrap().iter().map(t3) {
                    assert_eq!(c.parent(), Some(p));
                }
            }
            "xy_limit" => {
                let (_, y) = fractional(f(&v["lnglat"][0]), f(&v["lnglat"][1]), 0);
                assert!(
                    (y - f(&v["expected_fractional_y"])).abs() < 1e-9,
                    "{v}: {y}"
                );
            }
            "tile+bounds" => {
                let z = v["zoom"].as_u64().unwrap() as u8;
                let t = tile(f(&v["lnglat"][0]), f(&v["lnglat"][1]), z);
                assert_eq!(t, t3(&v["expected_tile"]), "{v}");
                let b = t.bounds();
                for i in 0..4 {
                    assert!(close(b[i], f(&v["expected_bounds"][i]), 1e-9), "{v}");
                }
                assert_eq!(t.quadkey(), v["quadkey"].as_str().unwrap());
            }
            other => panic!("unknown vector kind {other}"),
        }
        n += 1;
    }
    assert_eq!(n, 47);
}

#[test]
fn derived_properties() {
    // pixel ↔ lon/lat round trip, and each point lies inside its tile's bounds
    for &(lon, lat) in &[
        (117.0, 36.65),
        (116.2, 36.0),
        (117.97, 37.5),
        (-75.0, -14.7),
        (179.9, 85.0),
    ] {
        for z in [0u8, 8, 12, 16, 20] {
            let (px, py) = pixel(lon, lat, z, 256);
            let (x, y) = unpixel(px, py, z, 256);
            assert!((x - lon).abs() < 1e-9 && (y - lat).abs() < 1e-9);
            let b = tile(lon, lat, z).bounds();
            assert!(lon >= b[0] && lon <= b[2] && lat >= b[1] && lat <= b[3]);
        }
    }
    // latitude clamped at ±85.0511°
    assert_eq!(tile(0.0, 89.9, 3).y, 0);
    assert_eq!(tile(0.0, -89.9, 3).y, 7);
    // a tile's four children tile it exactly
    let t = Tile::new(843, 388, 10);
    let b = t.bounds();
    let c = Tile::new(2 * 843 + 1, 2 * 388 + 1, 11).bounds();
    assert!((c[2] - b[2]).abs() < 1e-12 && (c[1] - b[1]).abs() < 1e-12);
    // counts, against the OSM wiki's slippy-map formula written out here: the tiles
    // holding the bbox's corners bound a rectangle of columns × rows
    let slippy = |lon: f64, lat: f64, z: u8| -> (u64, u64) {
        let n = 2f64.powi(z as i32);
        let r = lat.to_radians();
        let x = ((lon + 180.0) / 360.0 * n).floor();
        let y = ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor();
        (x as u64, y as u64)
    };
    for bbox in [
        [116.2, 36.0, 118.0, 37.6],
        [116.95, 36.6, 117.1, 36.7],
        [-0.5, 51.2, 0.3, 51.7],
        [100.01, 20.01, 121.99, 45.99],
    ] {
        for z in [0u8, 3, 8, 10, 12, 14, 16] {
            let (x0, y0) = slippy(bbox[0], bbox[3], z);
            let (x1, y1) = slippy(bbox[2], bbox[1], z);
            let want = (x1 - x0 + 1) * (y1 - y0 + 1);
            assert_eq!(count_in(bbox, z), want, "count_in {bbox:?} z{z}");
            if want > 50_000 {
                continue; // counted only: listing them would take the test minutes
            }
            let got: std::collections::BTreeSet<(u32, u32)> =
                tiles_in(bbox, z).map(|t| (t.x, t.y)).collect();
            assert_eq!(got.len() as u64, want, "tiles_in {bbox:?} z{z}");
            for x in x0..=x1 {
                for y in y0..=y1 {
                    assert!(got.contains(&(x as u32, y as u32)), "z{z}/{x}/{y} missing");
                }
            }
        }
    }
    // the sample region at z8: columns 210–211, rows 99–100 (worked by hand)
    assert_eq!(slippy(116.2, 37.6, 8), (210, 99));
    assert_eq!(slippy(118.0, 36.0, 8), (211, 100));
    assert_eq!(count_in([116.2, 36.0, 118.0, 37.6], 8), 4);
}
