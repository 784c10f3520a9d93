//! Coordinate reference systems used by Chinese registers, and distances in metres.
//!
//! Hand-written because no maintained crate implements the GCJ-02 / BD-09 obfuscations:
//! they are not in PROJ, and the published algorithm (domain.md §6) is short. The
//! inverse GCJ-02 → WGS84 has no closed form; it is solved iteratively to < 1 mm.

use serde::{Deserialize, Serialize};
use std::f64::consts::PI;
use std::fmt;
use std::str::FromStr;

/// A horizontal CRS a coordinate may come in. CGCS2000 is treated as WGS84 (domain.md §6).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default, PartialOrd, Ord,
)]
#[serde(try_from = "String", into = "String")]
pub enum Crs {
    #[default]
    Wgs84,
    Cgcs2000,
    Gcj02,
    Bd09,
}

impl Crs {
    pub const ACCEPTED: &'static str =
        "wgs84 (gps, epsg:4326), cgcs2000 (epsg:4490), gcj02 (gaode/amap/tencent/火星), bd09 (baidu/百度)";

    pub fn as_str(self) -> &'static str {
        match self {
            Crs::Wgs84 => "wgs84",
            Crs::Cgcs2000 => "cgcs2000",
            Crs::Gcj02 => "gcj02",
            Crs::Bd09 => "bd09",
        }
    }

    /// Convert a (lng, lat) in this CRS to WGS84.
    pub fn to_wgs84(self, lng: f64, lat: f64) -> (f64, f64) {
        match self {
            Crs::Wgs84 | Crs::Cgcs2000 => (lng, lat),
            Crs::Gcj02 => gcj02_to_wgs84(lng, lat),
            Crs::Bd09 => {
                let (x, y) = bd09_to_gcj02(lng, lat);
                gcj02_to_wgs84(x, y)
            }
        }
    }

    /// Convert a WGS84 (lng, lat) to this CRS.
    pub fn from_wgs84(self, lng: f64, lat: f64) -> (f64, f64) {
        match self {
            Crs::Wgs84 | Crs::Cgcs2000 => (lng, lat),
            Crs::Gcj02 => wgs84_to_gcj02(lng, lat),
            Crs::Bd09 => {
                let (x, y) = wgs84_to_gcj02(lng, lat);
                gcj02_to_bd09(x, y)
            }
        }
    }
}

impl fmt::Display for Crs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for Crs {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Crs> for String {
    fn from(c: Crs) -> String {
        c.as_str().to_string()
    }
}

impl FromStr for Crs {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // drop annotations such as "BD-09 (inferred)" or "GCJ-02（高德）"
        let core = s.split(['(', '（']).next().unwrap_or(s);
        let k: String = core
            .trim()
            .to_lowercase()
            .chars()
            .filter(|c| !matches!(c, '-' | '_' | ' ' | ':'))
            .collect();
        Ok(match k.as_str() {
            "wgs84" | "wgs" | "gps" | "epsg4326" | "4326" | "osm" | "天地图" => Crs::Wgs84,
            "cgcs2000" | "cgcs" | "epsg4490" | "4490" | "国家2000" | "2000" => Crs::Cgcs2000,
            "gcj02" | "gcj" | "amap" | "gaode" | "高德" | "tencent" | "腾讯" | "火星"
            | "火星坐标" => Crs::Gcj02,
            "bd09" | "bd09ll" | "bd" | "baidu" | "百度" => Crs::Bd09,
            _ => {
                let a = Crs::ACCEPTED;
                return Err(crate::tr!(
                    "无法识别的坐标系 `{s}`；可用：{a}",
                    "unknown CRS `{s}`; accepted: {a}"
                ));
            }
        })
    }
}

const GCJ_A: f64 = 6378245.0;
const GCJ_EE: f64 = 0.006_693_421_622_965_943;
const X_PI: f64 = PI * 3000.0 / 180.0;

/// Whether the GCJ-02 offset applies (the published rectangle around China).
pub fn in_china(lng: f64, lat: f64) -> bool {
    (72.004..=137.8347).contains(&lng) && (0.8293..=55.8271).contains(&lat)
}

fn gcj_delta(lng: f64, lat: f64) -> (f64, f64) {
    let x = lng - 105.0;
    let y = lat - 35.0;
    let mut dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    dlat += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    dlat += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    dlat += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    let mut dlng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    dlng += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    dlng += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    dlng += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    let radlat = lat / 180.0 * PI;
    let magic = 1.0 - GCJ_EE * radlat.sin() * radlat.sin();
    let sqrtmagic = magic.sqrt();
    let dlat = (dlat * 180.0) / ((GCJ_A * (1.0 - GCJ_EE)) / (magic * sqrtmagic) * PI);
    let dlng = (dlng * 180.0) / (GCJ_A / sqrtmagic * radlat.cos() * PI);
    (dlng, dlat)
}

/// WGS84 → GCJ-02 (published algorithm). Points outside China are returned unchanged.
pub fn wgs84_to_gcj02(lng: f64, lat: f64) -> (f64, f64) {
    if !in_china(lng, lat) {
        return (lng, lat);
    }
    let (dlng, dlat) = gcj_delta(lng, lat);
    (lng + dlng, lat + dlat)
}

/// GCJ-02 → WGS84, solved by fixed-point iteration on the forward transform until it
/// reproduces the input to 1e-10° (≈ 0.01 mm). Converges in 3–6 steps in China; the
/// one-step approximation `2p − f(p)` alone is off by up to ~4 m.
pub fn gcj02_to_wgs84(lng: f64, lat: f64) -> (f64, f64) {
    if !in_china(lng, lat) {
        return (lng, lat);
    }
    let (mut x, mut y) = (lng, lat);
    for _ in 0..30 {
        let (fx, fy) = wgs84_to_gcj02(x, y);
        let (ex, ey) = (fx - lng, fy - lat);
        if ex.abs() < 1e-10 && ey.abs() < 1e-10 {
            break;
        }
        x -= ex;
        y -= ey;
    }
    (x, y)
}

/// GCJ-02 → WGS84 by the one-step approximation; kept only to show (in tests) why the
/// iterative inverse is needed.
pub fn gcj02_to_wgs84_approx(lng: f64, lat: f64) -> (f64, f64) {
    let (fx, fy) = wgs84_to_gcj02(lng, lat);
    (2.0 * lng - fx, 2.0 * lat - fy)
}

/// GCJ-02 → BD-09 (the x_pi formula used by Baidu, AMap and DataV).
pub fn gcj02_to_bd09(lng: f64, lat: f64) -> (f64, f64) {
    let z = (lng * lng + lat * lat).sqrt() + 0.00002 * (lat * X_PI).sin();
    let theta = lat.atan2(lng) + 0.000003 * (lng * X_PI).cos();
    (z * theta.cos() + 0.0065, z * theta.sin() + 0.006)
}

/// BD-09 → GCJ-02 (the published inverse of [`gcj02_to_bd09`]).
pub fn bd09_to_gcj02(lng: f64, lat: f64) -> (f64, f64) {
    let x = lng - 0.0065;
    let y = lat - 0.006;
    let z = (x * x + y * y).sqrt() - 0.00002 * (y * X_PI).sin();
    let theta = y.atan2(x) - 0.000003 * (x * X_PI).cos();
    (z * theta.cos(), z * theta.sin())
}

/// Mean Earth radius (IUGG), metres.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Great-circle distance in metres between two WGS84 points (haversine).
pub fn haversine_m(lng1: f64, lat1: f64, lng2: f64, lat2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lng2 - lng1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
}

/// Parse "LON,LAT" (comma or whitespace separated).
pub fn parse_lonlat(s: &str) -> Result<(f64, f64), String> {
    let parts: Vec<&str> = s
        .split(|c: char| c == ',' || c == '，' || c.is_whitespace())
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() != 2 {
        return Err(crate::tr!(
            "应为 经度,纬度，实际为 `{s}`",
            "expected LON,LAT, got `{s}`"
        ));
    }
    let lon: f64 = parts[0].parse().map_err(|_| {
        let p = parts[0];
        crate::tr!("经度 `{p}` 不是数字", "longitude `{p}` is not a number")
    })?;
    let lat: f64 = parts[1].parse().map_err(|_| {
        let p = parts[1];
        crate::tr!("纬度 `{p}` 不是数字", "latitude `{p}` is not a number")
    })?;
    if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
        return Err(crate::tr!(
            "经度 {lon} 超出 −180..180",
            "longitude {lon} out of range −180..180"
        ));
    }
    if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
        return Err(crate::tr!(
            "纬度 {lat} 超出 −90..90",
            "latitude {lat} out of range −90..90"
        ));
    }
    Ok((lon, lat))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_reference_vectors() {
        let cases: [(&str, (f64, f64), (f64, f64)); 7] = [
            (
                "wgs-gcj",
                (116.404, 39.915),
                (116.41024449916938, 39.91640428150164),
            ),
            (
                "gcj-wgs-approx",
                (116.404, 39.915),
                (116.39775550083061, 39.91359571849836),
            ),
            (
                "gcj-bd",
                (116.404, 39.915),
                (116.41036949371029, 39.92133699351021),
            ),
            (
                "bd-gcj",
                (116.404, 39.915),
                (116.39762729119315, 39.90865673957631),
            ),
            (
                "wgs-gcj",
                (121.5272106, 31.1774276),
                (121.531541859215, 31.17530398364597),
            ),
            (
                "wgs-gcj",
                (113.912316, 22.543847),
                (113.9171764808363, 22.540796131694766),
            ),
            (
                "wgs-gcj",
                (116.377817, 39.911954),
                (116.38404722455657, 39.91334545536069),
            ),
        ];
        for (kind, (x, y), (ex, ey)) in cases {
            let (gx, gy) = match kind {
                "wgs-gcj" => wgs84_to_gcj02(x, y),
                "gcj-wgs-approx" => gcj02_to_wgs84_approx(x, y),
                "gcj-bd" => gcj02_to_bd09(x, y),
                _ => bd09_to_gcj02(x, y),
            };
            assert!(
                (gx - ex).abs() < 1e-9 && (gy - ey).abs() < 1e-9,
                "{kind} {x},{y}: got {gx},{gy}"
            );
        }
    }

    #[test]
    fn crs_names() {
        assert_eq!("GCJ-02".parse::<Crs>().unwrap(), Crs::Gcj02);
        assert_eq!("高德".parse::<Crs>().unwrap(), Crs::Gcj02);
        assert_eq!("BD09".parse::<Crs>().unwrap(), Crs::Bd09);
        assert_eq!("EPSG:4490".parse::<Crs>().unwrap(), Crs::Cgcs2000);
        assert!("utm50".parse::<Crs>().is_err());
        assert_eq!("BD-09 (inferred)".parse::<Crs>().unwrap(), Crs::Bd09);
    }

    #[test]
    fn haversine_known_distance() {
        // one degree of latitude on the mean sphere
        let d = haversine_m(117.0, 36.0, 117.0, 37.0);
        assert!((d - 111_195.08).abs() < 0.1, "{d}");
    }
}
