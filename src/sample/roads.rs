//! The sample's road network (#27 §1): a lattice of roads over the region, about every
//! 3.3 km, their vertices jittered so they are not ruler-straight, every fourth line a
//! 主干路 (every eighth a 快速路), the others 次干路 and 支路, a few one-way; a
//! motorway ring through the parks; plus three dirty features (an unknown class 铁路, a
//! speed that is not one, a Point). WGS84. Its own random stream: the other files stay
//! byte-identical for a seed.

use super::{Rng, SampleOptions, PARKS};
use serde_json::{json, Value};

/// (roads.geojson, roads written).
pub(super) fn roads_geojson(opts: &SampleOptions, bbox: [f64; 4], step: f64) -> (String, usize) {
    let mut rng = Rng::new(opts.seed ^ 0x40AD_2027);
    let nx = ((bbox[2] - bbox[0]) / step).ceil() as usize + 1;
    let ny = ((bbox[3] - bbox[1]) / step).ceil() as usize + 1;
    // one jittered position per lattice node, shared by its row and its column
    let mut node = vec![(0.0, 0.0); nx * ny];
    for j in 0..ny {
        for i in 0..nx {
            let jx = (rng.f64() - 0.5) * step * 0.3;
            let jy = (rng.f64() - 0.5) * step * 0.3;
            node[j * nx + i] = (
                round6(bbox[0] + i as f64 * step + jx),
                round6(bbox[1] + j as f64 * step + jy),
            );
        }
    }
    let mut feats: Vec<Value> = Vec::new();
    let mut k = 0usize;
    let mut road = |feats: &mut Vec<Value>,
                    name: String,
                    class: &str,
                    speed: Option<u32>,
                    oneway: bool,
                    pts: Vec<(f64, f64)>| {
        k += 1;
        feats.push(json!({
            "type": "Feature",
            "properties": {"编号": format!("RD{k:04}"), "名称": name, "道路等级": class,
                           "限速": speed.map(|s| format!("{s}km/h")), "单行": if oneway { "是" } else { "否" }},
            "geometry": {"type": "LineString", "coordinates": pts.iter().map(|p| [p.0, p.1]).collect::<Vec<_>>()},
        }));
    };
    let class_of = |n: usize, rng: &mut Rng| -> (&'static str, Option<u32>) {
        if n % 8 == 0 {
            ("快速路", Some(60))
        } else if n % 4 == 0 {
            ("主干路", None)
        } else if rng.chance(0.5) {
            ("次干路", None)
        } else {
            ("支路", None)
        }
    };
    for j in 0..ny {
        let (class, speed) = class_of(j, &mut rng);
        let oneway = class == "支路" && rng.chance(0.1);
        let pts = (0..nx).map(|i| node[j * nx + i]).collect();
        road(
            &mut feats,
            format!("纬{}路", j + 1),
            class,
            speed,
            oneway,
            pts,
        );
    }
    for i in 0..nx {
        let (class, speed) = class_of(i, &mut rng);
        let oneway = class == "支路" && rng.chance(0.1);
        let pts = (0..ny).map(|j| node[j * nx + i]).collect();
        road(
            &mut feats,
            format!("经{}路", i + 1),
            class,
            speed,
            oneway,
            pts,
        );
    }
    // a motorway joining the parks, through their nearest lattice nodes
    let nearest = |(x, y): (f64, f64)| {
        let i = (((x - bbox[0]) / step).round().max(0.0) as usize).min(nx - 1);
        let j = (((y - bbox[1]) / step).round().max(0.0) as usize).min(ny - 1);
        node[j * nx + i]
    };
    let ring: Vec<(f64, f64)> = PARKS
        .iter()
        .map(|p| nearest((p.lon, p.lat)))
        .chain(std::iter::once(nearest((PARKS[0].lon, PARKS[0].lat))))
        .collect();
    road(
        &mut feats,
        "绕城高速".into(),
        "高速公路",
        Some(100),
        false,
        ring,
    );
    let n = feats.len();
    // dirty features
    let a = node[0];
    let b = node[1];
    feats.push(json!({"type": "Feature", "properties": {"编号": "X1", "名称": "胶济铁路", "道路等级": "铁路"},
        "geometry": {"type": "LineString", "coordinates": [[a.0, a.1], [b.0, b.1]]}}));
    feats.push(json!({"type": "Feature", "properties": {"编号": "X2", "名称": "限速写错", "道路等级": "支路", "限速": "快"},
        "geometry": {"type": "LineString", "coordinates": [[a.0, a.1], [b.0, b.1]]}}));
    feats.push(
        json!({"type": "Feature", "properties": {"编号": "X3", "名称": "路口", "道路等级": "支路"},
        "geometry": {"type": "Point", "coordinates": [a.0, a.1]}}),
    );
    let fc = json!({"type": "FeatureCollection", "name": "roads", "features": feats});
    (format!("{}\n", fc), n)
}

fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}
