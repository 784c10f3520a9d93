//! Neighbourhood questions answered from the R-trees (`riskmap query`).

use crate::model::{level_key, level_zh};
use crate::pipeline::Dataset;
use serde::Serialize;

/// One enterprise in an answer.
#[derive(Debug, Clone, Serialize)]
pub struct Found {
    pub id: String,
    pub name: String,
    pub level: &'static str,
    pub level_zh: &'static str,
    pub reason: String,
    pub reason_zh: String,
    pub district: Option<String>,
    pub industry: Option<String>,
    pub lon: f64,
    pub lat: f64,
    /// Metres from the query point (absent for bbox queries).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_m: Option<f64>,
}

/// The answer to a query.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    /// The query point in WGS84, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<[f64; 2]>,
    /// District at the query point (for `--at`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
    pub count: usize,
    pub enterprises: Vec<Found>,
}

fn found(ds: &Dataset, i: usize, distance_m: Option<f64>) -> Found {
    let e = &ds.enterprises[i];
    let g = &ds.grades[i];
    Found {
        id: e.id.clone(),
        name: e.name.clone(),
        level: level_key(g.level),
        level_zh: level_zh(g.level),
        reason: g.reason.clone(),
        reason_zh: g.reason_zh.clone(),
        district: ds.district_of(i).map(|(n, _)| n.to_string()),
        industry: e.industry.clone(),
        lon: crate::export::round(e.lon, 7),
        lat: crate::export::round(e.lat, 7),
        distance_m: distance_m.map(|d| (d * 10.0).round() / 10.0),
    }
}

/// Enterprises within `radius_m` of a WGS84 point, nearest first.
pub fn near(ds: &Dataset, lon: f64, lat: f64, radius_m: f64) -> Answer {
    let hits = ds.index().within(lon, lat, radius_m);
    Answer {
        at: Some([lon, lat]),
        district: None,
        count: hits.len(),
        enterprises: hits
            .iter()
            .map(|h| found(ds, h.idx, Some(h.distance_m)))
            .collect(),
    }
}

/// The `k` nearest enterprises.
pub fn nearest(ds: &Dataset, lon: f64, lat: f64, k: usize) -> Answer {
    let hits = ds.index().nearest(lon, lat, k);
    Answer {
        at: Some([lon, lat]),
        district: None,
        count: hits.len(),
        enterprises: hits
            .iter()
            .map(|h| found(ds, h.idx, Some(h.distance_m)))
            .collect(),
    }
}

/// Enterprises inside a WGS84 bbox, in register order.
pub fn bbox(ds: &Dataset, w: f64, s: f64, e: f64, n: f64) -> Answer {
    let idx = ds.index().in_bbox(w, s, e, n);
    Answer {
        at: None,
        district: None,
        count: idx.len(),
        enterprises: idx.iter().map(|&i| found(ds, i, None)).collect(),
    }
}

/// What is at a point: its district and the `k` nearest enterprises.
pub fn at(ds: &Dataset, lon: f64, lat: f64, k: usize) -> Answer {
    let mut a = nearest(ds, lon, lat, k);
    a.district = ds
        .districts
        .locate(lon, lat)
        .map(|d| ds.districts.districts[d].name.clone());
    a
}

/// Plain-text table of an answer.
pub fn format_table(a: &Answer) -> String {
    let mut s = String::new();
    if let Some([x, y]) = a.at {
        s.push_str(&riskmap_core::tr!(
            "位置 {x:.6}, {y:.6}（WGS84）",
            "at {x:.6}, {y:.6} (WGS84)"
        ));
        if let Some(d) = &a.district {
            s.push_str(&riskmap_core::tr!(" — 区县 {d}", " — district {d}"));
        }
        s.push('\n');
    }
    let n = a.count;
    s.push_str(&riskmap_core::tr!("{n} 家企业\n", "{n} enterprise(s)\n"));
    if a.enterprises.is_empty() {
        return s;
    }
    let h = match riskmap_core::i18n::lang() {
        riskmap_core::i18n::Lang::Zh => ["距离", "等级", "编号", "名称", "区县", "定级理由"],
        riskmap_core::i18n::Lang::En => ["distance", "level", "id", "name", "district", "reason"],
    };
    s.push_str(&format!(
        "{:>10}  {:<8} {:<20} {:<28} {:<8} {}\n",
        h[0], h[1], h[2], h[3], h[4], h[5]
    ));
    for f in &a.enterprises {
        let d = f
            .distance_m
            .map(|d| format!("{d:.0} m"))
            .unwrap_or_default();
        s.push_str(&format!(
            "{:>10}  {:<8} {:<20} {:<28} {:<8} {}\n",
            d,
            f.level_zh,
            f.id,
            f.name,
            f.district.as_deref().unwrap_or("-"),
            if riskmap_core::i18n::lang() == riskmap_core::i18n::Lang::Zh {
                &f.reason_zh
            } else {
                &f.reason
            }
        ));
    }
    s
}
