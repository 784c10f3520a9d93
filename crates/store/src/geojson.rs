//! GeoJSON (RFC 7946) writers: one feature per line, coordinates rounded, rings by the
//! right-hand rule; a GCJ-02 copy names its CRS in the top-level `properties`.

use super::round;
use geo::{MultiPolygon, Polygon};
use riskmap_core::crs::Crs;
use riskmap_core::dataset::Dataset;
use riskmap_core::model::{level_key, level_zh};
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

struct RingSer<'a>(&'a geo::LineString<f64>, Crs, u32);

impl serde::Serialize for RingSer<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut q = s.serialize_seq(Some(self.0 .0.len()))?;
        for c in &self.0 .0 {
            let (x, y) = self.1.from_wgs84(c.x, c.y);
            q.serialize_element(&[round(x, self.2), round(y, self.2)])?;
        }
        q.end()
    }
}

struct PolySer<'a>(&'a Polygon<f64>, Crs, u32);

impl serde::Serialize for PolySer<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut q = s.serialize_seq(Some(1 + self.0.interiors().len()))?;
        q.serialize_element(&RingSer(self.0.exterior(), self.1, self.2))?;
        for h in self.0.interiors() {
            q.serialize_element(&RingSer(h, self.1, self.2))?;
        }
        q.end()
    }
}

/// A Polygon (one part) or MultiPolygon geometry in `crs`, serialised without building
/// JSON values (input WGS84, already right-hand wound).
pub struct PolygonGeometry<'a> {
    pub parts: &'a [Polygon<f64>],
    pub crs: Crs,
    pub decimals: u32,
}

impl serde::Serialize for PolygonGeometry<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        struct Parts<'a>(&'a PolygonGeometry<'a>);
        impl serde::Serialize for Parts<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut q = s.serialize_seq(Some(self.0.parts.len()))?;
                for p in self.0.parts {
                    q.serialize_element(&PolySer(p, self.0.crs, self.0.decimals))?;
                }
                q.end()
            }
        }
        let mut m = s.serialize_map(Some(2))?;
        if self.parts.len() == 1 {
            m.serialize_entry("type", "Polygon")?;
            m.serialize_entry(
                "coordinates",
                &PolySer(&self.parts[0], self.crs, self.decimals),
            )?;
        } else {
            m.serialize_entry("type", "MultiPolygon")?;
            m.serialize_entry("coordinates", &Parts(self))?;
        }
        m.end()
    }
}

/// A (Multi)Polygon geometry in `crs` as a JSON value.
pub fn multipolygon(mp: &MultiPolygon<f64>, crs: Crs, decimals: u32) -> Value {
    serde_json::to_value(PolygonGeometry {
        parts: &mp.0,
        crs,
        decimals,
    })
    .unwrap_or(Value::Null)
}

/// Built-in property names of an enterprise feature; a carried-through column with one of
/// these names is written as `src_<name>`.
pub const ENTERPRISE_KEYS: [&str; 24] = [
    "id",
    "name",
    "credit_code",
    "industry",
    "district",
    "adcode",
    "district_stated",
    "level",
    "level_zh",
    "color",
    "reason",
    "reason_zh",
    "rule",
    "risk_points",
    "open_hidden_dangers",
    "open_major_hidden_dangers",
    "major_hazard",
    "employees",
    "radius_m",
    "src_crs",
    "own_team",
    "rescue_partner",
    "warnings",
    "lon",
];

/// Properties of enterprise `i`, serialised straight from the dataset (no intermediate
/// map: 1M features are written in seconds). The server uses the same definition.
pub struct EnterpriseProps<'a> {
    pub ds: &'a Dataset,
    pub i: usize,
}

impl serde::Serialize for EnterpriseProps<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let (ds, i) = (self.ds, self.i);
        let e = &ds.enterprises[i];
        let g = &ds.grades[i];
        let d = ds.district_of(i);
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("id", &e.id)?;
        m.serialize_entry("name", &e.name)?;
        m.serialize_entry("credit_code", &e.credit_code)?;
        m.serialize_entry("industry", &e.industry)?;
        m.serialize_entry("district", &d.map(|x| x.0).filter(|x| !x.is_empty()))?;
        m.serialize_entry("adcode", &d.map(|x| x.1).filter(|x| !x.is_empty()))?;
        m.serialize_entry("district_stated", &e.district_stated)?;
        m.serialize_entry("level", level_key(g.level))?;
        m.serialize_entry("level_zh", level_zh(g.level))?;
        m.serialize_entry("color", ds.style.color(g.level))?;
        m.serialize_entry("reason", &g.reason)?;
        m.serialize_entry("reason_zh", &g.reason_zh)?;
        m.serialize_entry("rule", g.rule)?;
        m.serialize_entry("risk_points", &g.risk_points)?;
        m.serialize_entry("open_hidden_dangers", &g.open_hidden_dangers)?;
        m.serialize_entry("open_major_hidden_dangers", &g.open_major_hidden_dangers)?;
        m.serialize_entry("major_hazard", &e.major_hazard.map(|h| h.zh()))?;
        m.serialize_entry("employees", &e.employees)?;
        m.serialize_entry("radius_m", &ds.radius_m(i))?;
        m.serialize_entry("src_crs", e.src_crs.as_str())?;
        // emergency columns (#27), only when the register gives them
        if let Some(t) = e.own_team {
            m.serialize_entry("own_team", &t)?;
        }
        if let Some(p) = &e.rescue_partner {
            m.serialize_entry("rescue_partner", p)?;
        }
        m.serialize_entry(
            "warnings",
            &(!e.warnings.is_empty()).then(|| e.warnings.join("; ")),
        )?;
        for (k, v) in &e.extra {
            if ENTERPRISE_KEYS.contains(&k.as_str()) {
                m.serialize_entry(&format!("src_{k}"), v)?;
            } else {
                m.serialize_entry(k, v)?;
            }
        }
        m.end()
    }
}

/// Properties of enterprise `i` as a JSON map.
pub fn enterprise_properties(ds: &Dataset, i: usize) -> Map<String, Value> {
    match serde_json::to_value(EnterpriseProps { ds, i }) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// Write `n` features, serialised in parallel in chunks and written in order (so the bytes
/// are the same as a sequential write). `one(i, buf)` appends feature `i`'s JSON.
pub fn features_parallel(
    w: &mut dyn Write,
    n: usize,
    one: &(dyn Fn(usize, &mut Vec<u8>) -> serde_json::Result<()> + Sync),
) -> std::io::Result<()> {
    use rayon::prelude::*;
    const CHUNK: usize = 2048;
    const BATCH: usize = 64;
    let chunks = n.div_ceil(CHUNK);
    for batch in (0..chunks).step_by(BATCH) {
        let bufs: Vec<serde_json::Result<Vec<u8>>> = (batch..(batch + BATCH).min(chunks))
            .into_par_iter()
            .map(|c| {
                let mut buf = Vec::with_capacity(CHUNK * 512);
                for i in c * CHUNK..((c + 1) * CHUNK).min(n) {
                    buf.extend_from_slice(if i == 0 { b"\n" } else { b",\n" });
                    one(i, &mut buf)?;
                }
                Ok(buf)
            })
            .collect();
        for b in bufs {
            w.write_all(&b?)?;
        }
    }
    Ok(())
}

/// enterprises.geojson in `crs`.
pub fn write_enterprises(
    w: &mut dyn Write,
    ds: &Dataset,
    crs: Crs,
    dec: u32,
) -> std::io::Result<()> {
    begin(w, "enterprises", crs)?;
    features_parallel(w, ds.enterprises.len(), &|i, buf| {
        let e = &ds.enterprises[i];
        let (x, y) = crs.from_wgs84(e.lon, e.lat);
        buf.extend_from_slice(b"{\"type\":\"Feature\",\"properties\":");
        serde_json::to_writer(&mut *buf, &EnterpriseProps { ds, i })?;
        buf.extend_from_slice(b",\"geometry\":{\"type\":\"Point\",\"coordinates\":");
        serde_json::to_writer(&mut *buf, &[round(x, dec), round(y, dec)])?;
        buf.extend_from_slice(b"}}");
        Ok(())
    })?;
    end(w)
}

/// districts.geojson in `crs`: the boundaries converted from their source CRS.
pub fn write_districts(w: &mut dyn Write, ds: &Dataset, crs: Crs, dec: u32) -> std::io::Result<()> {
    let src = ds.boundaries_crs;
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
