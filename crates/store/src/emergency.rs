//! Writers for emergency command (#27): resources.geojson, fire_reach.geojson (each
//! counted station's straight-line reach) and emergency.csv (every enterprise's nearest
//! help and its gaps). Distances are great-circle metres, labelled 直线距离.

use super::geojson::{begin, end, feature, multipolygon, point};
use super::{round, write_csv_bom};
use geo::{Destination, Haversine, LineString, MultiPolygon, Point, Polygon};
use riskmap_analyze::emergency::Emergency;
use riskmap_core::crs::Crs;
use riskmap_core::dataset::Dataset;
use riskmap_core::model::{level_zh, Resource};
use serde_json::{json, Map, Value};
use std::io::Write;

/// Properties of a resource (the GeoJSON, the API and the card share them).
pub fn resource_properties(ds: &Dataset, i: usize) -> Map<String, Value> {
    let r: &Resource = &ds.resources[i];
    let mut p = Map::new();
    p.insert("id".into(), json!(r.id));
    p.insert("name".into(), json!(r.name));
    p.insert("type".into(), json!(r.kind.key()));
    p.insert("type_zh".into(), json!(r.kind.zh()));
    p.insert("type_stated".into(), json!(r.kind_stated));
    p.insert("class".into(), json!(r.fire_class.map(|c| c.key())));
    p.insert("class_zh".into(), json!(r.fire_class.map(|c| c.zh())));
    p.insert("owner".into(), json!(r.owner));
    p.insert("contact".into(), json!(r.contact));
    p.insert("capacity".into(), json!(r.capacity));
    p.insert(
        "stock".into(),
        if r.stock.is_empty() {
            Value::Null
        } else {
            json!(r.stock)
        },
    );
    p.insert("expertise".into(), json!(r.expertise));
    p.insert(
        "district".into(),
        json!(ds
            .districts
            .locate(r.lon, r.lat)
            .map(|d| ds.districts.districts[d].name.clone())),
    );
    p.insert("src_crs".into(), json!(r.src_crs.as_str()));
    p
}

/// resources.geojson.
pub fn write_resources_geojson(
    w: &mut dyn Write,
    ds: &Dataset,
    crs: Crs,
    dec: u32,
) -> std::io::Result<()> {
    begin(w, "resources", crs)?;
    for (i, r) in ds.resources.iter().enumerate() {
        feature(
            w,
            i == 0,
            point(r.lon, r.lat, crs, dec),
            resource_properties(ds, i),
        )?;
    }
    end(w)
}

/// A circle of `radius_m` great-circle metres around (lon, lat) as a WGS84 polygon of
/// `n` vertices (counter-clockwise, closed).
pub fn circle(lon: f64, lat: f64, radius_m: f64, n: usize) -> Polygon<f64> {
    let c = Point::new(lon, lat);
    let mut ring: Vec<geo::Coord<f64>> = (0..n)
        .map(|k| {
            // bearings clockwise from north; reversed below for a counter-clockwise ring
            let b = 360.0 * k as f64 / n as f64;
            Haversine.destination(c, b, radius_m).0
        })
        .collect();
    ring.reverse();
    ring.push(ring[0]);
    Polygon::new(LineString::new(ring), vec![])
}

/// Every counted station's reach: its properties and polygon (by road where the station
/// is on the network, else the straight-line circle). fire_reach.geojson and the
/// database's `fire_reach` table.
pub fn fire_reach_features(
    ds: &Dataset,
    em: &Emergency,
) -> Vec<(Map<String, Value>, MultiPolygon<f64>)> {
    let counts = em.covered_counts();
    em.stations
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let r = &ds.resources[i];
            let mut p = Map::new();
            p.insert("id".into(), json!(r.id));
            p.insert("name".into(), json!(r.name));
            p.insert("class_zh".into(), json!(r.fire_class.map(|c| c.zh())));
            p.insert("enterprises".into(), json!(counts[k]));
            let by_road = em
                .roads
                .as_ref()
                .and_then(|rr| rr.reach[k].clone().map(|poly| (rr, poly)));
            let mp = match by_road {
                Some((rr, poly)) => {
                    p.insert("drive_min".into(), json!(round(rr.budget_secs / 60.0, 2)));
                    p.insert("method".into(), json!("road_network"));
                    p.insert("method_zh".into(), json!("路网行车"));
                    MultiPolygon(vec![poly])
                }
                None => {
                    p.insert("reach_m".into(), json!(round(em.reach_m, 1)));
                    p.insert("method".into(), json!("straight_line"));
                    p.insert("method_zh".into(), json!("直线距离"));
                    MultiPolygon(vec![circle(r.lon, r.lat, em.reach_m, 72)])
                }
            };
            (p, mp)
        })
        .collect()
}

/// fire_reach.geojson: one polygon per counted station ([`fire_reach_features`]).
pub fn write_fire_reach_geojson(
    w: &mut dyn Write,
    ds: &Dataset,
    em: &Emergency,
    crs: Crs,
    dec: u32,
) -> std::io::Result<()> {
    begin(w, "fire_reach", crs)?;
    for (k, (p, mp)) in fire_reach_features(ds, em).into_iter().enumerate() {
        feature(w, k == 0, multipolygon(&mp, crs, dec), p)?;
    }
    end(w)
}

/// emergency.csv (UTF-8 BOM): every enterprise with its nearest resource of each kind
/// present, the fire station reaching it, and its gaps.
pub fn write_emergency_csv(w: &mut dyn Write, ds: &Dataset, em: &Emergency) -> std::io::Result<()> {
    let mut header: Vec<String> = [
        "企业编号",
        "企业名称",
        "风险等级",
        "所在区县",
        "自有救援队伍",
        "救援协议单位",
        "缺口",
        "覆盖的消防站",
        // with roads, the station reaching it by road (its distance along the roads)
        if em.roads.is_some() {
            "消防站距离(米)"
        } else {
            "消防站直线距离(米)"
        },
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for k in &em.kinds {
        header.push(format!("最近{}", k.kind.zh()));
        header.push(format!("{}直线距离(米)", k.kind.zh()));
    }
    // by road: each kind's soonest reached, its driving minutes and road metres (empty
    // off the network)
    if em.roads.is_some() {
        header.push("路网可达".into());
        for k in &em.kinds {
            header.push(format!("行车最快的{}", k.kind.zh()));
            header.push(format!("{}行车时间(分钟)", k.kind.zh()));
            header.push(format!("{}路网距离(米)", k.kind.zh()));
        }
    }
    let h: Vec<&str> = header.iter().map(String::as_str).collect();
    write_csv_bom(
        w,
        &h,
        (0..ds.enterprises.len()).map(|i| {
            let e = &ds.enterprises[i];
            let gaps: Vec<String> = em
                .gaps(i)
                .into_iter()
                .map(|g| g.zh(em.response_min))
                .collect();
            let st = em.covered_by[i];
            let mut row = vec![
                e.id.clone(),
                e.name.clone(),
                level_zh(ds.grades[i].level).to_string(),
                ds.district_of(i)
                    .map(|d| d.0.to_string())
                    .unwrap_or_default(),
                match e.own_team {
                    Some(true) => "有".into(),
                    Some(false) => "无".into(),
                    None => String::new(),
                },
                e.rescue_partner.clone().unwrap_or_default(),
                gaps.join("；"),
                st.map(|h| ds.resources[h.idx].name.clone())
                    .unwrap_or_default(),
                st.map(|h| format!("{:.0}", h.distance_m))
                    .unwrap_or_default(),
            ];
            for near in &em.nearest[i] {
                let n = near.first();
                row.push(
                    n.map(|h| ds.resources[h.idx].name.clone())
                        .unwrap_or_default(),
                );
                row.push(
                    n.map(|h| format!("{:.0}", h.distance_m))
                        .unwrap_or_default(),
                );
            }
            if let Some(rr) = &em.roads {
                let off = rr.off_network.binary_search(&i).is_ok();
                row.push(if off {
                    "否（距路网过远，按直线）".into()
                } else {
                    "是".into()
                });
                for routes in &rr.routes[i] {
                    let r = routes.first();
                    row.push(
                        r.map(|r| ds.resources[r.idx].name.clone())
                            .unwrap_or_default(),
                    );
                    row.push(
                        r.map(|r| format!("{:.1}", r.secs / 60.0))
                            .unwrap_or_default(),
                    );
                    row.push(r.map(|r| format!("{:.0}", r.metres)).unwrap_or_default());
                }
            }
            row
        }),
    )
}
