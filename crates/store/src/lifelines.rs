//! Writers for city lifelines (#27 §2): lifelines.geojson (each line with its protection
//! and control zones and what lies in them), lifeline_segments.geojson (the lines cut
//! into fixed lengths, ranked by the risk around them), lifelines.csv (every enterprise
//! in a zone or reaching a line) and lifeline_segments.csv (the ranking). Distances are
//! metres in the region's UTM zone, measured from the centre line.

use super::geojson::{begin, end, feature, multipolygon};
use super::{round, write_csv_bom};
use riskmap_analyze::lifelines::Lifelines;
use riskmap_analyze::Frame;
use riskmap_core::crs::Crs;
use riskmap_core::dataset::Dataset;
use riskmap_core::model::{level_zh, Level};
use serde_json::{json, Map, Value};
use std::io::Write;

/// A (Multi)LineString geometry in `crs` (input WGS84).
pub fn line_geometry(parts: &[geo::LineString<f64>], crs: Crs, dec: u32) -> Value {
    let ring = |l: &geo::LineString<f64>| -> Vec<[f64; 2]> {
        l.0.iter()
            .map(|c| {
                let (x, y) = crs.from_wgs84(c.x, c.y);
                [round(x, dec), round(y, dec)]
            })
            .collect()
    };
    if parts.len() == 1 {
        json!({"type": "LineString", "coordinates": ring(&parts[0])})
    } else {
        json!({"type": "MultiLineString", "coordinates": parts.iter().map(ring).collect::<Vec<_>>()})
    }
}

fn ids(ds: &Dataset, v: &[usize]) -> Value {
    json!(v
        .iter()
        .map(|&i| ds.enterprises[i].id.as_str())
        .collect::<Vec<_>>())
}

fn site_names(ds: &Dataset, v: &[usize]) -> Value {
    json!(v
        .iter()
        .map(|&i| ds.sites[i].name.as_str())
        .collect::<Vec<_>>())
}

fn counts(p: &mut Map<String, Value>, c: &[u32; 5]) {
    for (k, n) in ["red", "orange", "yellow", "blue", "unassessed"]
        .iter()
        .zip(c)
    {
        p.insert(format!("near_{k}"), json!(n));
    }
}

/// The properties a lifeline's features share.
pub fn lifeline_properties(ds: &Dataset, ll: &Lifelines, i: usize) -> Map<String, Value> {
    let l = &ds.lifelines[i];
    let z = &ll.zones[i];
    let mut p = Map::new();
    p.insert("id".into(), json!(l.id));
    p.insert("name".into(), json!(l.name));
    p.insert("type".into(), json!(l.kind.key()));
    p.insert("type_zh".into(), json!(l.kind.zh()));
    p.insert("type_stated".into(), json!(l.kind_stated));
    p.insert("pressure".into(), json!(l.pressure.map(|x| x.key())));
    p.insert("pressure_zh".into(), json!(l.pressure.map(|x| x.zh())));
    p.insert("voltage_kv".into(), json!(l.voltage_kv));
    p.insert("owner".into(), json!(l.owner));
    p.insert("protect_m".into(), json!(round(z.protect_m, 3)));
    p.insert("control_m".into(), json!(z.control_m.map(|c| round(c, 3))));
    p.insert("rule".into(), json!(z.rule));
    p
}

/// lifelines.geojson: for each lifeline its centre line (`role` line, with what lies in
/// its zones and the levels within `near_m`), its protection zone and its control zone
/// (`role` protection / control).
pub fn write_lifelines_geojson(
    w: &mut dyn Write,
    ds: &Dataset,
    ll: &Lifelines,
    frame: &Frame,
    crs: Crs,
    dec: u32,
) -> std::io::Result<()> {
    begin(w, "lifelines", crs)?;
    let polys = ll.zone_polygons(ds, frame);
    let mut first = true;
    for (i, l) in ds.lifelines.iter().enumerate() {
        feature(
            w,
            first,
            line_geometry(&l.line.0, crs, dec),
            line_properties(ds, ll, i),
        )?;
        first = false;
        let (protect, control) = &polys[i];
        feature(
            w,
            false,
            multipolygon(protect, crs, dec),
            zone_properties(ds, ll, i, false),
        )?;
        if let Some(c) = control {
            feature(
                w,
                false,
                multipolygon(c, crs, dec),
                zone_properties(ds, ll, i, true),
            )?;
        }
    }
    end(w)
}

/// A lifeline's centre line (`role` line): what lies in its zones and the levels within
/// `near_m`.
pub fn line_properties(ds: &Dataset, ll: &Lifelines, i: usize) -> Map<String, Value> {
    let l = &ds.lifelines[i];
    {
        let st = &ll.lines[i];
        let mut p = lifeline_properties(ds, ll, i);
        p.insert("role".into(), json!("line"));
        p.insert("role_zh".into(), json!("管线"));
        p.insert("length_m".into(), json!(round(st.length_m, 1)));
        p.insert("rank".into(), json!(st.rank));
        p.insert("level".into(), json!(st.level.map(Level::key)));
        p.insert(
            "level_zh".into(),
            json!(st.level.map(|l| level_zh(Some(l)))),
        );
        counts(&mut p, &st.near);
        p.insert("near_m".into(), json!(ll.near_m));
        p.insert("enterprises_in_protection".into(), ids(ds, &st.in_protect));
        p.insert("enterprises_in_control".into(), ids(ds, &st.in_control));
        p.insert("enterprises_reaching".into(), ids(ds, &st.reached_by));
        p.insert(
            "sites_in_protection".into(),
            site_names(ds, &st.sites_in_protect),
        );
        p.insert(
            "sites_in_control".into(),
            site_names(ds, &st.sites_in_control),
        );
        p.insert("warnings".into(), json!(l.warnings));
        p
    }
}

/// A lifeline's protection zone (`role` protection), or its control zone (`role`
/// control, which contains the protection zone), with the enterprises and sites inside.
pub fn zone_properties(
    ds: &Dataset,
    ll: &Lifelines,
    i: usize,
    control: bool,
) -> Map<String, Value> {
    let st = &ll.lines[i];
    let mut p = lifeline_properties(ds, ll, i);
    if !control {
        p.insert("role".into(), json!("protection"));
        p.insert("role_zh".into(), json!("保护范围"));
        p.insert("enterprises".into(), ids(ds, &st.in_protect));
        p.insert("sites".into(), site_names(ds, &st.sites_in_protect));
    } else {
        p.insert("role".into(), json!("control"));
        p.insert("role_zh".into(), json!("控制范围"));
        let mut inside = st.in_protect.clone();
        inside.extend(&st.in_control);
        inside.sort_unstable();
        let mut sites = st.sites_in_protect.clone();
        sites.extend(&st.sites_in_control);
        sites.sort_unstable();
        p.insert("enterprises".into(), ids(ds, &inside));
        p.insert("sites".into(), site_names(ds, &sites));
    }
    p
}

/// The fixed-length segments, most at risk first: their properties (rank 1 = the most
/// at risk, the levels within `near_m`, the sites near, the enterprises in the zone) and
/// line. lifeline_segments.geojson and the database's `lifeline_segments` table.
pub fn segment_features<'a>(
    ds: &Dataset,
    ll: &'a Lifelines,
) -> Vec<(Map<String, Value>, &'a geo::LineString<f64>)> {
    ll.ranking()
        .into_iter()
        .map(|si| {
            let s = &ll.segments[si];
            let l = &ds.lifelines[s.lifeline];
            let mut p = Map::new();
            p.insert("id".into(), json!(format!("{}-{}", l.id, s.ordinal)));
            p.insert("lifeline".into(), json!(l.id));
            p.insert("name".into(), json!(l.name));
            p.insert("type".into(), json!(l.kind.key()));
            p.insert("type_zh".into(), json!(l.kind.zh()));
            p.insert("ordinal".into(), json!(s.ordinal));
            p.insert("rank".into(), json!(s.rank));
            p.insert("length_m".into(), json!(round(s.length_m, 1)));
            p.insert("level".into(), json!(s.level.map(Level::key)));
            p.insert("level_zh".into(), json!(s.level.map(|l| level_zh(Some(l)))));
            counts(&mut p, &s.near);
            p.insert("near_m".into(), json!(ll.near_m));
            p.insert("sites".into(), site_names(ds, &s.sites));
            p.insert("enterprises_in_zone".into(), ids(ds, &s.in_zone));
            (p, &s.line)
        })
        .collect()
}

/// lifeline_segments.geojson ([`segment_features`]).
pub fn write_segments_geojson(
    w: &mut dyn Write,
    ds: &Dataset,
    ll: &Lifelines,
    crs: Crs,
    dec: u32,
) -> std::io::Result<()> {
    begin(w, "lifeline_segments", crs)?;
    for (k, (p, line)) in segment_features(ds, ll).into_iter().enumerate() {
        feature(
            w,
            k == 0,
            line_geometry(std::slice::from_ref(line), crs, dec),
            p,
        )?;
    }
    end(w)
}

/// lifelines.csv (UTF-8 BOM): every enterprise in a zone or whose radius reaches a line,
/// one row per (enterprise, lifeline), in register order.
pub fn write_lifelines_csv(w: &mut dyn Write, ds: &Dataset, ll: &Lifelines) -> std::io::Result<()> {
    let header = [
        "企业编号",
        "企业名称",
        "风险等级",
        "所在区县",
        "管线编号",
        "管线名称",
        "管线类型",
        "关系",
        "距中心线(米)",
        "影响半径(米)",
        "保护范围(米)",
        "控制范围(米)",
        "依据",
    ];
    write_csv_bom(
        w,
        &header,
        ll.flagged().flat_map(|(i, hits)| {
            hits.iter().map(move |h| {
                let e = &ds.enterprises[i];
                let l = &ds.lifelines[h.lifeline];
                let z = &ll.zones[h.lifeline];
                vec![
                    e.id.clone(),
                    e.name.clone(),
                    level_zh(ds.grades[i].level).to_string(),
                    ds.district_of(i)
                        .map(|d| d.0.to_string())
                        .unwrap_or_default(),
                    l.id.clone(),
                    l.name.clone().unwrap_or_default(),
                    l.kind.zh().to_string(),
                    h.zh().to_string(),
                    format!("{:.2}", h.distance_m),
                    format!("{:.0}", ds.radius_m(i)),
                    format!("{}", round(z.protect_m, 3)),
                    z.control_m
                        .map(|c| round(c, 3).to_string())
                        .unwrap_or_default(),
                    z.rule.clone(),
                ]
            })
        }),
    )
}

/// lifeline_segments.csv (UTF-8 BOM): the segments from the most at risk.
pub fn write_segments_csv(w: &mut dyn Write, ds: &Dataset, ll: &Lifelines) -> std::io::Result<()> {
    let near = ll.near_m;
    let h = [
        "排名".to_string(),
        "管段编号".into(),
        "管线编号".into(),
        "管线名称".into(),
        "管线类型".into(),
        "长度(米)".into(),
        format!("周边{near}米内最高等级"),
        "重大".into(),
        "较大".into(),
        "一般".into(),
        "低".into(),
        "未评估".into(),
        "周边敏感目标".into(),
        "范围内企业".into(),
    ];
    let h: Vec<&str> = h.iter().map(String::as_str).collect();
    write_csv_bom(
        w,
        &h,
        ll.ranking().into_iter().map(|si| {
            let s = &ll.segments[si];
            let l = &ds.lifelines[s.lifeline];
            let mut row = vec![
                s.rank.to_string(),
                format!("{}-{}", l.id, s.ordinal),
                l.id.clone(),
                l.name.clone().unwrap_or_default(),
                l.kind.zh().to_string(),
                format!("{:.1}", s.length_m),
                s.level
                    .map(|l| level_zh(Some(l)).to_string())
                    .unwrap_or_default(),
            ];
            row.extend(s.near.iter().map(|n| n.to_string()));
            row.push(
                s.sites
                    .iter()
                    .map(|&i| ds.sites[i].name.as_str())
                    .collect::<Vec<_>>()
                    .join("；"),
            );
            row.push(
                s.in_zone
                    .iter()
                    .map(|&i| ds.enterprises[i].id.as_str())
                    .collect::<Vec<_>>()
                    .join("；"),
            );
            row
        }),
    )
}
