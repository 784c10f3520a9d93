//! GeoJSON (RFC 7946) writers: one feature per line, coordinates rounded, rings by the
//! right-hand rule; a GCJ-02 copy names its CRS in the top-level `properties`.

use super::round;
use crate::crs::Crs;
use crate::model::{level_key, level_zh};
use crate::pipeline::Dataset;
use geo::{MultiPolygon, Polygon};
use serde_json::{json, Map, Value};
use std::io::Write;

/// Top-level properties naming the CRS of the coordinates.
pub fn collection_properties(name: &str, crs: Crs) -> Value {
    let note = match crs {
        Crs::Wgs84 | Crs::Cgcs2000 => "WGS84 lon/lat (RFC 7946)",
        Crs::Gcj02 => "GCJ-02 lon/lat for Gaode/Tencent basemaps; NOT RFC 7946 WGS84",
        Crs::Bd09 => "BD-09 lon/lat for Baidu basemaps; NOT RFC 7946 WGS84",
    };
    json!({"name": name, "crs": crs.as_str(), "crs_note": note})
}

/// Start a FeatureCollection; features follow, one per line, then [`end`].
pub fn begin(w: &mut dyn Write, name: &str, crs: Crs) -> std::io::Result<()> {
    write!(
        w,
        "{{\"type\":\"FeatureCollection\",\"name\":{},\"properties\":{},\"features\":[",
        json!(name),
        collection_properties(name, crs)
    )
}

/// Write one feature (with a separating comma unless first).
pub fn feature(
    w: &mut dyn Write,
    first: bool,
    geometry: Value,
    properties: Map<String, Value>,
) -> std::io::Result<()> {
    if !first {
        w.write_all(b",")?;
    }
    w.write_all(b"\n")?;
    serde_json::to_writer(
        &mut *w,
        &json!({"type": "Feature", "properties": properties, "geometry": geometry}),
    )?;
    Ok(())
}

pub fn end(w: &mut dyn Write) -> std::io::Result<()> {
    w.write_all(b"\n]}\n")
}

/// A point geometry in `crs` (input WGS84).
pub fn point(lon: f64, lat: f64, crs: Crs, decimals: u32) -> Value {
    let (x, y) = crs.from_wgs84(lon, lat);
    json!({"type": "Point", "coordinates": [round(x, decimals), round(y, decimals)]})
}

fn ring(ls: &geo::LineString<f64>, crs: Crs, decimals: u32) -> Value {
    Value::Array(
        ls.0.iter()
            .map(|c| {
                let (x, y) = crs.from_wgs84(c.x, c.y);
                json!([round(x, decimals), round(y, decimals)])
            })
            .collect(),
    )
}

fn polygon_coords(p: &Polygon<f64>, crs: Crs, decimals: u32) -> Value {
    let mut rings = vec![ring(p.exterior(), crs, decimals)];
    rings.extend(p.interiors().iter().map(|r| ring(r, crs, decimals)));
    Value::Array(rings)
}

/// A (Multi)Polygon geometry in `crs` (input WGS84, already right-hand wound).
pub fn multipolygon(mp: &MultiPolygon<f64>, crs: Crs, decimals: u32) -> Value {
    if mp.0.len() == 1 {
        json!({"type": "Polygon", "coordinates": polygon_coords(&mp.0[0], crs, decimals)})
    } else {
        json!({"type": "MultiPolygon", "coordinates": mp.0.iter().map(|p| polygon_coords(p, crs, decimals)).collect::<Vec<_>>()})
    }
}

/// Properties of enterprise `i` as written to enterprises.geojson (also used by the server).
pub fn enterprise_properties(ds: &Dataset, i: usize) -> Map<String, Value> {
    let e = &ds.enterprises[i];
    let g = &ds.grades[i];
    let (dname, adcode) = ds.district_of(i).unwrap_or(("", ""));
    let mut p = Map::new();
    p.insert("id".into(), json!(e.id));
    p.insert("name".into(), json!(e.name));
    p.insert("credit_code".into(), json!(e.credit_code));
    p.insert("industry".into(), json!(e.industry));
    p.insert(
        "district".into(),
        if dname.is_empty() {
            Value::Null
        } else {
            json!(dname)
        },
    );
    p.insert(
        "adcode".into(),
        if adcode.is_empty() {
            Value::Null
        } else {
            json!(adcode)
        },
    );
    p.insert("district_stated".into(), json!(e.district_stated));
    p.insert("level".into(), json!(level_key(g.level)));
    p.insert("level_zh".into(), json!(level_zh(g.level)));
    p.insert("color".into(), json!(ds.style.color(g.level)));
    p.insert("reason".into(), json!(g.reason));
    p.insert("reason_zh".into(), json!(g.reason_zh));
    p.insert("rule".into(), json!(g.rule));
    p.insert("risk_points".into(), json!(g.risk_points));
    p.insert("open_hidden_dangers".into(), json!(g.open_hidden_dangers));
    p.insert(
        "open_major_hidden_dangers".into(),
        json!(g.open_major_hidden_dangers),
    );
    p.insert("major_hazard".into(), json!(e.major_hazard.map(|h| h.zh())));
    p.insert("employees".into(), json!(e.employees));
    p.insert("radius_m".into(), json!(ds.radius_m(i)));
    p.insert("src_crs".into(), json!(e.src_crs.as_str()));
    p.insert(
        "warnings".into(),
        if e.warnings.is_empty() {
            Value::Null
        } else {
            json!(e.warnings.join("; "))
        },
    );
    for (k, v) in &e.extra {
        let key = if p.contains_key(k) {
            format!("src_{k}")
        } else {
            k.clone()
        };
        p.insert(key, json!(v));
    }
    p
}

/// enterprises.geojson in `crs`.
pub fn write_enterprises(w: &mut dyn Write, ds: &Dataset, crs: Crs) -> std::io::Result<()> {
    let dec = ds.config.output.decimals;
    begin(w, "enterprises", crs)?;
    for (i, e) in ds.enterprises.iter().enumerate() {
        feature(
            w,
            i == 0,
            point(e.lon, e.lat, crs, dec),
            enterprise_properties(ds, i),
        )?;
    }
    end(w)
}

/// districts.geojson in `crs`: the boundaries converted from their source CRS.
pub fn write_districts(w: &mut dyn Write, ds: &Dataset, crs: Crs) -> std::io::Result<()> {
    let dec = ds.config.output.decimals;
    let src = ds.config.boundaries.crs;
    begin(w, "districts", crs)?;
    for (i, d) in ds.districts.districts.iter().enumerate() {
        let mut p = Map::new();
        p.insert("name".into(), json!(d.name));
        p.insert("adcode".into(), json!(d.adcode));
        for (k, v) in &d.properties {
            // DataV's center / centroid are points in the file's CRS: convert them too
            let v = match (k.as_str(), v.as_array()) {
                ("center" | "centroid", Some(a))
                    if a.len() == 2 && a.iter().all(|x| x.is_number()) =>
                {
                    let (x, y) =
                        src.to_wgs84(a[0].as_f64().unwrap_or(0.0), a[1].as_f64().unwrap_or(0.0));
                    let (x, y) = crs.from_wgs84(x, y);
                    json!([round(x, dec), round(y, dec)])
                }
                _ => v.clone(),
            };
            p.insert(k.clone(), v);
        }
        feature(w, i == 0, multipolygon(&d.shape, crs, dec), p)?;
    }
    end(w)
}
