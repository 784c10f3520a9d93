//! Independent brute-force oracle for `riskmap build` on the bundled Jinan sample.
//!
//! The test re-reads the raw files in `data/sample/` and recomputes, with none of
//! riskmap's ingest / assess / index code, which enterprise rows are accepted, which
//! district each one lies in (even-odd ray casting against every ring of every
//! district, no spatial index) and its four-colour level. Only the coordinate
//! transform `riskmap::crs::gcj02_to_wgs84` is borrowed (it has its own tests against
//! published vectors). The result is compared with the `enterprises.geojson` and
//! `summary.json` that `riskmap::build::build` writes into a temporary folder; and every
//! sensitive site's exposure (the red and orange enterprises whose radius covers it, by a
//! haversine distance, and the nearest of them) with `exposure.geojson`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample");
const LEVELS: [&str; 5] = ["red", "orange", "yellow", "blue", "unassessed"];

/// Ranks: 0 unassessed, 1 blue, 2 yellow, 3 orange, 4 red.
fn rank_name(r: u8) -> &'static str {
    ["unassessed", "blue", "yellow", "orange", "red"][r as usize]
}

/// A level word from the 风险等级 column; `Err` for unknown words, `Ok(0)` for empty.
fn direct_level(s: &str) -> Result<u8, ()> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(0);
    }
    let w = s.strip_suffix("风险").unwrap_or(s);
    Ok(match w.to_ascii_lowercase().as_str() {
        "重大" | "red" | "红" | "1" | "i" => 4,
        "较大" | "orange" | "橙" | "2" | "ii" => 3,
        "一般" | "yellow" | "黄" | "3" | "iii" => 2,
        "低" | "blue" | "蓝" | "4" | "iv" => 1,
        _ => return Err(()),
    })
}

/// Floor from 重大危险源等级; `Err` for unknown words.
fn hazard_floor(s: &str) -> Result<u8, ()> {
    Ok(match s.trim() {
        "" => 0,
        "一级" => 4,
        "二级" => 3,
        "三级" => 2,
        "四级" => 1,
        _ => return Err(()),
    })
}

fn read_csv(name: &str) -> Vec<HashMap<String, String>> {
    let mut rdr = csv::Reader::from_path(Path::new(SAMPLE).join(name)).unwrap();
    let headers: Vec<String> = rdr
        .headers()
        .unwrap()
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
        .collect();
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .cloned()
                .zip(r.iter().map(|v| v.trim().to_string()))
                .collect()
        })
        .collect()
}

type Ring = Vec<(f64, f64)>;

/// Districts as (name, rings in WGS84), in file order.
fn read_districts() -> Vec<(String, Vec<Ring>)> {
    let text =
        std::fs::read_to_string(Path::new(SAMPLE).join("jinan_districts_gcj02.geojson")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let ring = |r: &serde_json::Value| -> Ring {
        r.as_array()
            .unwrap()
            .iter()
            .map(|p| riskmap::crs::gcj02_to_wgs84(p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
            .collect()
    };
    let mut out = Vec::new();
    for f in v["features"].as_array().unwrap() {
        let name = f["properties"]["name"].as_str().unwrap().to_string();
        let g = &f["geometry"];
        let polys: Vec<&serde_json::Value> = match g["type"].as_str().unwrap() {
            "MultiPolygon" => g["coordinates"].as_array().unwrap().iter().collect(),
            "Polygon" => vec![&g["coordinates"]],
            t => panic!("unexpected geometry {t}"),
        };
        let rings = polys
            .iter()
            .flat_map(|p| p.as_array().unwrap().iter().map(ring))
            .collect();
        out.push((name, rings));
    }
    out
}

/// Even-odd ray casting over all rings (holes and separate parts fall out naturally).
fn contains(rings: &[Ring], x: f64, y: f64) -> bool {
    let mut inside = false;
    for r in rings {
        let n = r.len();
        for i in 0..n {
            let (xi, yi) = r[i];
            let (xj, yj) = r[(i + n - 1) % n];
            if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
                inside = !inside;
            }
        }
    }
    inside
}

fn in_set(v: f64, set: &[f64]) -> bool {
    set.iter().any(|a| (a - v).abs() < 1e-9)
}

/// Level rank of one assessment row, `None` if the row is invalid.
fn assessment_rank(row: &HashMap<String, String>) -> Option<u8> {
    let num = |k: &str| row[k].parse::<f64>().ok().filter(|v| v.is_finite());
    match row["评价方法"].to_ascii_uppercase().as_str() {
        "LEC" => {
            let (l, e, c) = (num("L")?, num("E")?, num("C")?);
            if !in_set(l, &[10., 6., 3., 1., 0.5, 0.2, 0.1])
                || !in_set(e, &[10., 6., 3., 2., 1., 0.5])
                || !in_set(c, &[100., 40., 15., 7., 3., 1.])
            {
                return None;
            }
            let d = l * e * c;
            Some(if d > 320.0 + 1e-9 {
                4
            } else if d > 160.0 + 1e-9 {
                3
            } else if d > 70.0 + 1e-9 {
                2
            } else {
                1
            })
        }
        "LS" => {
            let (l, s) = (num("L")?, num("S")?);
            let ok = |v: f64| v.fract() == 0.0 && (1.0..=5.0).contains(&v);
            if !ok(l) || !ok(s) {
                return None;
            }
            let r = l * s;
            Some(if r >= 20.0 {
                4
            } else if r >= 10.0 {
                3
            } else if r >= 4.0 {
                2
            } else {
                1
            })
        }
        _ => None,
    }
}

struct Oracle {
    /// id → (district name, level name)
    accepted: BTreeMap<String, (String, &'static str)>,
    rejected: usize,
}

fn oracle() -> Oracle {
    let districts = read_districts();
    let mut accepted_order: Vec<(String, String, u8)> = Vec::new(); // id, district, rank
    let mut seen: HashSet<String> = HashSet::new();
    let mut rejected = 0;
    for row in read_csv("enterprises.csv") {
        let id = row["企业编号"].clone();
        let ok = (|| {
            if id.is_empty() || row["企业名称"].is_empty() || seen.contains(&id) {
                return None;
            }
            let lon = row["经度"].parse::<f64>().ok().filter(|v| v.is_finite())?;
            let lat = row["纬度"].parse::<f64>().ok().filter(|v| v.is_finite())?;
            if (lon == 0.0 && lat == 0.0)
                || !(-180.0..=180.0).contains(&lon)
                || !(-90.0..=90.0).contains(&lat)
            {
                return None;
            }
            let (x, y) = match row["坐标系"].to_ascii_uppercase().as_str() {
                "GCJ-02" => riskmap::crs::gcj02_to_wgs84(lon, lat),
                "WGS84" | "" => (lon, lat),
                other => panic!("unexpected 坐标系 {other}"),
            };
            let direct = direct_level(&row["风险等级"]).ok()?;
            let floor = hazard_floor(&row["重大危险源等级"]).ok()?;
            let (name, _) = districts.iter().find(|(_, rings)| contains(rings, x, y))?;
            Some((name.clone(), direct.max(floor)))
        })();
        match ok {
            Some((district, rank)) => {
                seen.insert(id.clone());
                accepted_order.push((id, district, rank));
            }
            None => rejected += 1,
        }
    }
    let mut rank: HashMap<String, u8> = accepted_order
        .iter()
        .map(|(id, _, r)| (id.clone(), *r))
        .collect();
    for row in read_csv("assessments.csv") {
        if let (Some(cur), Some(r)) = (rank.get_mut(&row["企业编号"]), assessment_rank(&row)) {
            *cur = (*cur).max(r);
        }
    }
    for row in read_csv("hidden_dangers.csv") {
        let status = row["整改状态"].as_str();
        if !matches!(status, "未整改" | "整改中" | "已整改") {
            continue;
        }
        if row["隐患等级"] == "重大" && status != "已整改" {
            if let Some(cur) = rank.get_mut(&row["企业编号"]) {
                *cur = 4;
            }
        }
    }
    let accepted = accepted_order
        .into_iter()
        .map(|(id, d, _)| {
            let l = rank_name(rank[&id]);
            (id, (d, l))
        })
        .collect();
    Oracle { accepted, rejected }
}

#[test]
fn sample_build_matches_brute_force_oracle() {
    // riskmap's answer
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = riskmap::config::Config::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/riskmap.toml"
    )))
    .unwrap();
    cfg.output.dir = tmp.path().to_path_buf();
    let ds = riskmap::pipeline::load(&cfg).unwrap();
    riskmap::build::build(&ds, &cfg, &riskmap::build::BuildOptions::default()).unwrap();
    let read_json = |n: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join(n)).unwrap()).unwrap()
    };
    let geo = read_json("enterprises.geojson");
    let summary = read_json("summary.json");

    // the oracle's answer, and its sanity
    let o = oracle();
    let mut by_level: BTreeMap<&str, u64> = LEVELS.iter().map(|l| (*l, 0)).collect();
    let mut by_district: BTreeMap<&str, BTreeMap<&str, u64>> = BTreeMap::new();
    for (d, l) in o.accepted.values() {
        *by_level.get_mut(l).unwrap() += 1;
        let e = by_district
            .entry(d.as_str())
            .or_insert_with(|| LEVELS.iter().map(|l| (*l, 0)).collect());
        *e.get_mut(l).unwrap() += 1;
        *e.entry("total").or_insert(0) += 1;
    }
    assert!(
        o.accepted.len() >= 4500,
        "oracle accepted only {}",
        o.accepted.len()
    );
    assert!(
        by_level.values().all(|&n| n > 0),
        "an empty level class: {by_level:?}"
    );
    assert_eq!(
        by_district.len(),
        12,
        "districts with enterprises: {:?}",
        by_district.keys()
    );

    // accepted / rejected
    let feats = geo["features"].as_array().unwrap();
    let got: BTreeMap<String, (String, String)> = feats
        .iter()
        .map(|f| {
            let p = &f["properties"];
            let s = |k: &str| p[k].as_str().unwrap_or("<none>").to_string();
            (s("id"), (s("district"), s("level")))
        })
        .collect();
    assert_eq!(
        got.len(),
        feats.len(),
        "duplicate ids in enterprises.geojson"
    );
    let want_ids: BTreeSet<&String> = o.accepted.keys().collect();
    let got_ids: BTreeSet<&String> = got.keys().collect();
    assert_eq!(
        want_ids,
        got_ids,
        "accepted ids differ: only oracle {:?}, only riskmap {:?}",
        want_ids.difference(&got_ids).collect::<Vec<_>>(),
        got_ids.difference(&want_ids).collect::<Vec<_>>()
    );
    let ent_input = summary["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["role"] == "enterprises")
        .unwrap();
    assert_eq!(
        ent_input["rows_rejected"].as_u64().unwrap(),
        o.rejected as u64,
        "rejected enterprise rows"
    );

    // per enterprise
    let mismatches: Vec<String> = o
        .accepted
        .iter()
        .filter(|(id, (d, l))| got[*id] != (d.clone(), l.to_string()))
        .map(|(id, (d, l))| format!("{id}: oracle {d}/{l}, riskmap {}/{}", got[id].0, got[id].1))
        .collect();
    assert!(
        mismatches.is_empty(),
        "{} enterprises differ:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );

    // totals by level, in the geojson and in summary.json
    let mut geo_levels: BTreeMap<&str, u64> = LEVELS.iter().map(|l| (*l, 0)).collect();
    for (_, l) in got.values() {
        *geo_levels
            .get_mut(l.as_str())
            .expect("unknown level in geojson") += 1;
    }
    assert_eq!(geo_levels, by_level, "level counts in enterprises.geojson");
    let s_levels = &summary["enterprises"]["by_level"];
    for l in LEVELS {
        assert_eq!(
            s_levels[l].as_u64(),
            Some(by_level[l]),
            "summary by_level.{l}"
        );
    }
    assert_eq!(
        s_levels["total"].as_u64(),
        Some(o.accepted.len() as u64),
        "summary by_level.total"
    );

    // totals by district
    let s_districts = summary["enterprises"]["by_district"].as_object().unwrap();
    let s_names: BTreeSet<&str> = s_districts.keys().map(|k| k.as_str()).collect();
    assert_eq!(
        s_names,
        by_district.keys().copied().collect(),
        "district keys in summary.json"
    );
    for (d, counts) in &by_district {
        for (k, n) in counts {
            assert_eq!(
                s_districts[*d][*k].as_u64(),
                Some(*n),
                "summary by_district.{d}.{k}"
            );
        }
    }

    // exposure: every site of data/sample/sites.csv against the red and orange
    // enterprises (levels from the oracle, positions as written, radii from the config),
    // distances by the haversine formula written here; a site whose nearest distances lie
    // within 0.5 % of a radius is not judged (riskmap measures in UTM)
    let hav = |lon1: f64, lat1: f64, lon2: f64, lat2: f64| -> f64 {
        let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
        let (dp, dl) = (p2 - p1, (lon2 - lon1).to_radians());
        let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * 6_371_008.8 * a.sqrt().asin()
    };
    // every graded enterprise: id, level (the oracle's), position as written, radius
    // (its level's, from the config); unassessed ones radiate nothing
    let graded: Vec<(String, &str, f64, f64, f64)> = geo["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| {
            let id = f["properties"]["id"].as_str().unwrap().to_string();
            let l = o.accepted[&id].1;
            let r = match l {
                "red" => cfg.influence_radius_m.red,
                "orange" => cfg.influence_radius_m.orange,
                "yellow" => cfg.influence_radius_m.yellow,
                "blue" => cfg.influence_radius_m.blue,
                _ => return None,
            };
            let c = &f["geometry"]["coordinates"];
            Some((id, l, c[0].as_f64().unwrap(), c[1].as_f64().unwrap(), r))
        })
        .collect();
    let high: Vec<(&str, f64, f64, f64)> = graded
        .iter()
        .filter(|g| g.1 == "red" || g.1 == "orange")
        .map(|g| (g.0.as_str(), g.2, g.3, g.4))
        .collect();
    let exposure = read_json("exposure.geojson");
    let reported: HashMap<String, &serde_json::Value> = exposure["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["properties"]["id"].as_str().unwrap().to_string(),
                &f["properties"],
            )
        })
        .collect();
    let (mut judged, mut covered_sites) = (0, 0);
    for site in read_csv("sites.csv") {
        let (lon, lat): (f64, f64) = (site["经度"].parse().unwrap(), site["纬度"].parse().unwrap());
        // the sites file mixes WGS84 and GCJ-02 rows (its 坐标系 column); GCJ-02 back to
        // WGS84 with riskmap's inverse, which tests/crs_vectors.rs holds to published vectors
        let (lon, lat) = match site["坐标系"].as_str() {
            "WGS84" => (lon, lat),
            "GCJ-02" => riskmap::crs::gcj02_to_wgs84(lon, lat),
            other => panic!("site CRS {other}"),
        };
        let d: Vec<(f64, &str, f64)> = high
            .iter()
            .map(|(id, x, y, r)| (hav(lon, lat, *x, *y), *id, *r))
            .collect();
        if d.iter().any(|(dist, _, r)| (dist - r).abs() <= 0.005 * r) {
            continue;
        }
        judged += 1;
        let mut covering: Vec<&(f64, &str, f64)> =
            d.iter().filter(|(dist, _, r)| dist <= r).collect();
        covering.sort_by(|a, b| a.0.total_cmp(&b.0));
        let id = &site["编号"];
        let got = reported.get(id.as_str());
        let got_n = got.map_or(0, |p| p["covering_count"].as_u64().unwrap());
        assert_eq!(
            got_n,
            covering.len() as u64,
            "site {id}: red/orange enterprises covering it"
        );
        if let Some(first) = covering.first() {
            covered_sites += 1;
            let p = got.unwrap();
            assert_eq!(
                p["nearest"][0]["id"], first.1,
                "site {id}: nearest covering enterprise"
            );
            let dm = p["nearest"][0]["distance_m"].as_f64().unwrap();
            assert!(
                (dm - first.0).abs() <= 0.005 * first.0 + 1.0,
                "site {id}: {dm} m vs {} m",
                first.0
            );
        }
    }
    assert!(judged >= 190, "{judged} of 200 sites judged");
    assert!(covered_sites >= 20, "{covered_sites} sites covered");

    // zone membership: a zone's enterprise_ids are the graded enterprises whose disc
    // (their level's radius from the config) reaches the zone. Judged by the distance
    // from the enterprise to the zone's polygon (0 inside; local metres, every ring) where
    // it is more than 100 m from the radius (the raster's 50 m cells and the polygons'
    // simplification blur the edge by less)
    let zones = read_json("zones.geojson");
    let (mut pairs_judged, mut members_judged) = (0usize, 0usize);
    for z in zones["features"].as_array().unwrap() {
        let zid = z["properties"]["id"].as_str().unwrap();
        let ids: HashSet<&str> = z["properties"]["enterprise_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert!(!ids.is_empty(), "zone {zid} has no enterprise");
        let polys: Vec<&serde_json::Value> = match z["geometry"]["type"].as_str().unwrap() {
            "Polygon" => vec![&z["geometry"]["coordinates"]],
            _ => z["geometry"]["coordinates"]
                .as_array()
                .unwrap()
                .iter()
                .collect(),
        };
        let rings: Vec<Vec<(f64, f64)>> = polys
            .iter()
            .flat_map(|p| p.as_array().unwrap().iter())
            .map(|r| {
                r.as_array()
                    .unwrap()
                    .iter()
                    .map(|q| (q[0].as_f64().unwrap(), q[1].as_f64().unwrap()))
                    .collect()
            })
            .collect();
        let pts = rings.iter().flatten();
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for &(x, y) in pts {
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
        }
        let lat0 = ((y0 + y1) / 2.0).to_radians();
        let (mx, my) = (6_371_008.8 * lat0.cos(), 6_371_008.8);
        let m = |x: f64, y: f64| (x.to_radians() * mx, y.to_radians() * my);
        let rings_m: Vec<Vec<(f64, f64)>> = rings
            .iter()
            .map(|r| r.iter().map(|&(x, y)| m(x, y)).collect())
            .collect();
        let dist = |px: f64, py: f64| -> f64 {
            let mut inside = false;
            let mut best = f64::MAX;
            for r in &rings_m {
                for w in r.windows(2) {
                    let ((ax, ay), (bx, by)) = (w[0], w[1]);
                    if (ay > py) != (by > py) && px < ax + (py - ay) * (bx - ax) / (by - ay) {
                        inside = !inside;
                    }
                    let (dx, dy) = (bx - ax, by - ay);
                    let len2 = dx * dx + dy * dy;
                    let t = if len2 > 0.0 {
                        (((px - ax) * dx + (py - ay) * dy) / len2).clamp(0.0, 1.0)
                    } else {
                        0.0
                    };
                    best = best.min((px - ax - t * dx).hypot(py - ay - t * dy));
                }
            }
            if inside {
                0.0
            } else {
                best
            }
        };
        // candidates within 1.2 km of the zone's bounding box
        let pad = 1_200.0 / 111_000.0;
        for (id, _, x, y, r) in &graded {
            if *x < x0 - pad / lat0.cos()
                || *x > x1 + pad / lat0.cos()
                || *y < y0 - pad
                || *y > y1 + pad
            {
                assert!(
                    !ids.contains(id.as_str()) || *r > 1_000.0,
                    "zone {zid}: {id} far away"
                );
                continue;
            }
            let (px, py) = m(*x, *y);
            let dd = dist(px, py);
            if (dd - r).abs() <= 100.0 {
                continue;
            }
            pairs_judged += 1;
            let member = ids.contains(id.as_str());
            assert_eq!(
                member,
                dd < *r,
                "zone {zid}: {id} ({r} m radius) at {dd:.0} m"
            );
            members_judged += usize::from(member);
        }
    }
    assert!(
        members_judged >= 3000,
        "{members_judged} memberships judged ({pairs_judged} pairs)"
    );
}
