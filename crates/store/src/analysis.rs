//! Writers for the analysis products: areas, grid, zones, exposure (GeoJSON + CSV).

use super::geojson::{begin, end, feature, multipolygon, point};
use super::{round, write_csv_bom};
use geo::MultiPolygon;
use riskmap_analyze::areas::AreaStats;
use riskmap_analyze::exposure::Exposed;
use riskmap_analyze::grid::Cell;
use riskmap_analyze::rule::AreaLevel;
use riskmap_analyze::zones::Zone;
use riskmap_core::crs::Crs;
use riskmap_core::dataset::Dataset;
use riskmap_core::model::{level_key, level_zh, LEVEL_KEYS};
use serde_json::{json, Map, Value};
use std::io::Write;

fn level_props(p: &mut Map<String, Value>, ds: &Dataset, l: &AreaLevel, total: usize) {
    let key = if total == 0 {
        "none"
    } else {
        level_key(l.level)
    };
    p.insert("level".into(), json!(key));
    p.insert(
        "level_zh".into(),
        json!(if total == 0 {
            "无企业"
        } else {
            level_zh(l.level)
        }),
    );
    p.insert(
        "color".into(),
        if l.level.is_some() {
            json!(ds.style.color(l.level))
        } else {
            Value::Null
        },
    );
    p.insert("reason".into(), json!(l.reason));
    p.insert("reason_zh".into(), json!(l.reason_zh));
    if let Some(s) = l.score {
        p.insert("score".into(), json!(round(s, 6)));
    }
}

fn counts_props(p: &mut Map<String, Value>, c: &[usize; 5]) {
    for (k, v) in LEVEL_KEYS.iter().zip(c) {
        p.insert(k.to_string(), json!(v));
    }
    p.insert("total".into(), json!(c.iter().sum::<usize>()));
}

/// areas.geojson: one feature per boundary polygon.
pub fn write_areas_geojson(
    w: &mut dyn Write,
    ds: &Dataset,
    areas: &[AreaStats],
    name: &str,
    crs: Crs,
    dec: u32,
) -> std::io::Result<()> {
    begin(w, name, crs)?;
    for (i, a) in areas.iter().enumerate() {
        feature(
            w,
            i == 0,
            multipolygon(&a.shape, crs, dec),
            area_properties(ds, a),
        )?;
    }
    end(w)
}

/// The properties of an area (areas.geojson, the vector tiles).
pub fn area_properties(ds: &Dataset, a: &AreaStats) -> Map<String, Value> {
    let mut p = Map::new();
    p.insert("name".into(), json!(a.name));
    p.insert("adcode".into(), json!(a.adcode));
    counts_props(&mut p, &a.counts);
    p.insert(
        "open_major_hidden_dangers".into(),
        json!(a.open_major_hidden_dangers),
    );
    p.insert("area_km2".into(), json!(round(a.area_km2, 3)));
    p.insert("density_per_km2".into(), json!(round(a.density(), 4)));
    level_props(&mut p, ds, &a.level, a.total());
    p
}

/// Headers of areas.csv.
pub const AREA_HEADERS: [&str; 15] = [
    "名称",
    "区划代码",
    "重大风险",
    "较大风险",
    "一般风险",
    "低风险",
    "未评估",
    "合计",
    "未整改重大事故隐患",
    "面积(km²)",
    "密度(家/km²)",
    "区域等级",
    "等级代码",
    "判定依据",
    "评分",
];

/// areas.csv: the same table (UTF-8 BOM).
pub fn write_areas_csv(w: &mut dyn Write, areas: &[AreaStats]) -> std::io::Result<()> {
    write_csv_bom(
        w,
        &AREA_HEADERS,
        areas.iter().map(|a| {
            let c = a.counts;
            vec![
                a.name.clone(),
                a.adcode.clone(),
                c[0].to_string(),
                c[1].to_string(),
                c[2].to_string(),
                c[3].to_string(),
                c[4].to_string(),
                a.total().to_string(),
                a.open_major_hidden_dangers.to_string(),
                format!("{:.3}", a.area_km2),
                format!("{:.4}", a.density()),
                if a.total() == 0 {
                    "无企业".into()
                } else {
                    level_zh(a.level.level).into()
                },
                if a.total() == 0 {
                    "none".into()
                } else {
                    level_key(a.level.level).into()
                },
                a.level.reason.clone(),
                a.level.score.map(|s| format!("{s:.6}")).unwrap_or_default(),
            ]
        }),
    )
}

/// grid.geojson.
pub fn write_grid(
    w: &mut dyn Write,
    ds: &Dataset,
    cells: &[Cell],
    crs: Crs,
    dec: u32,
) -> std::io::Result<()> {
    begin(w, "grid", crs)?;
    for (i, c) in cells.iter().enumerate() {
        feature(
            w,
            i == 0,
            multipolygon(&MultiPolygon::new(vec![c.shape.clone()]), crs, dec),
            grid_properties(ds, c),
        )?;
    }
    end(w)
}

/// The properties of a grid cell (grid.geojson, the vector tiles).
pub fn grid_properties(ds: &Dataset, c: &Cell) -> Map<String, Value> {
    let mut p = Map::new();
    p.insert("id".into(), json!(c.id));
    counts_props(&mut p, &c.counts);
    p.insert(
        "open_major_hidden_dangers".into(),
        json!(c.open_major_hidden_dangers),
    );
    p.insert("area_km2".into(), json!(round(c.area_km2, 6)));
    p.insert("district".into(), json!(c.district));
    level_props(&mut p, ds, &c.level, c.counts.iter().sum());
    p
}

/// The id of the zone at `index` in zones.geojson (also used by the server).
pub fn zone_id(index: usize) -> String {
    format!("Z{:05}", index + 1)
}

/// zones.geojson: one feature per zone polygon, red last.
pub fn write_zones(
    w: &mut dyn Write,
    ds: &Dataset,
    zones: &[Zone],
    crs: Crs,
    dec: u32,
) -> std::io::Result<()> {
    begin(w, "zones", crs)?;
    super::geojson::features_parallel(w, zones.len(), &|i, buf| {
        let z = &zones[i];
        struct Ids<'a>(&'a Dataset, &'a [usize]);
        impl serde::Serialize for Ids<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(self.1.iter().map(|&k| self.0.enterprises[k].id.as_str()))
            }
        }
        buf.extend_from_slice(b"{\"type\":\"Feature\",\"properties\":");
        let props = zone_properties(ds, z, i);
        // the ids go in last, streamed
        let text = props.to_string();
        buf.extend_from_slice(&text.as_bytes()[..text.len() - 1]);
        buf.extend_from_slice(b",\"enterprise_ids\":");
        serde_json::to_writer(&mut *buf, &Ids(ds, &z.enterprises))?;
        buf.extend_from_slice(b"},\"geometry\":");
        serde_json::to_writer(
            &mut *buf,
            &super::geojson::PolygonGeometry {
                parts: std::slice::from_ref(&z.shape),
                crs,
                decimals: dec,
            },
        )?;
        buf.extend_from_slice(b"}");
        Ok(())
    })?;
    end(w)
}

/// The properties of zone `i` but its enterprise ids (zones.geojson adds them; the
/// vector tiles carry the count).
pub fn zone_properties(ds: &Dataset, z: &Zone, i: usize) -> Value {
    json!({
        "id": zone_id(i),
        "level": z.level.key(),
        "level_zh": z.level.zh(),
        "color": ds.style.color(Some(z.level)),
        "area_km2": round(z.area_km2, 4),
        "enterprise_count": z.enterprises.len(),
    })
}

fn hit_text(ds: &Dataset, h: &riskmap_core::index::Hit) -> String {
    format!(
        "{} {} {} {:.0}m",
        ds.enterprises[h.idx].id,
        ds.enterprises[h.idx].name,
        level_zh(ds.grades[h.idx].level),
        h.distance_m
    )
}

/// Headers of exposure.csv.
pub const EXPOSURE_HEADERS: [&str; 15] = [
    "场所编号",
    "场所名称",
    "类型",
    "人数",
    "经度",
    "纬度",
    "所在区县",
    "暴露等级",
    "所在分区等级",
    "覆盖的重大/较大企业数",
    "最近企业编号",
    "最近企业名称",
    "最近企业等级",
    "距离(米)",
    "附近重大/较大企业",
];

/// exposure.csv (UTF-8 BOM), most exposed first.
pub fn write_exposure_csv(
    w: &mut dyn Write,
    ds: &Dataset,
    ex: &[Exposed],
    dec: u32,
) -> std::io::Result<()> {
    write_csv_bom(
        w,
        &EXPOSURE_HEADERS,
        ex.iter().map(|x| {
            let s = &ds.sites[x.site];
            let n = x.nearest.first();
            vec![
                s.id.clone(),
                s.name.clone(),
                s.kind.clone(),
                s.population.map(|p| p.to_string()).unwrap_or_default(),
                round(s.lon, dec).to_string(),
                round(s.lat, dec).to_string(),
                x.district.clone().unwrap_or_default(),
                x.level.zh().to_string(),
                x.zone_level.map(|l| l.zh()).unwrap_or("").to_string(),
                x.covering.len().to_string(),
                n.map(|h| ds.enterprises[h.idx].id.clone())
                    .unwrap_or_default(),
                n.map(|h| ds.enterprises[h.idx].name.clone())
                    .unwrap_or_default(),
                n.map(|h| level_zh(ds.grades[h.idx].level).to_string())
                    .unwrap_or_default(),
                n.map(|h| format!("{:.1}", h.distance_m))
                    .unwrap_or_default(),
                x.nearest
                    .iter()
                    .map(|h| hit_text(ds, h))
                    .collect::<Vec<_>>()
                    .join("; "),
            ]
        }),
    )
}

/// exposure.geojson.
pub fn write_exposure_geojson(
    w: &mut dyn Write,
    ds: &Dataset,
    ex: &[Exposed],
    crs: Crs,
    dec: u32,
) -> std::io::Result<()> {
    begin(w, "exposure", crs)?;
    for (i, x) in ex.iter().enumerate() {
        let s = &ds.sites[x.site];
        let near: Vec<Value> = x
            .nearest
            .iter()
            .map(|h| json!({"id": ds.enterprises[h.idx].id, "name": ds.enterprises[h.idx].name, "level": level_key(ds.grades[h.idx].level), "distance_m": round(h.distance_m, 1), "covers": x.covering.iter().any(|c| c.idx == h.idx)}))
            .collect();
        let mut p = Map::new();
        p.insert("id".into(), json!(s.id));
        p.insert("name".into(), json!(s.name));
        p.insert("type".into(), json!(s.kind));
        p.insert("population".into(), json!(s.population));
        p.insert("district".into(), json!(x.district));
        p.insert("level".into(), json!(x.level.key()));
        p.insert("level_zh".into(), json!(x.level.zh()));
        p.insert("zone_level".into(), json!(x.zone_level.map(|l| l.key())));
        p.insert("covering_count".into(), json!(x.covering.len()));
        p.insert("nearest".into(), Value::Array(near));
        feature(w, i == 0, point(s.lon, s.lat, crs, dec), p)?;
    }
    end(w)
}
