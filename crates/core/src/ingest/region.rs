//! The region where a point may lie: a configured bbox or polygon, else the union of the
//! district boundaries (with a tolerance for generalised borders), else anywhere (the
//! points' own bbox, padded by the largest influence radius, is computed afterwards).

use crate::index::DistrictIndex;
use geo::{BoundingRect, Intersects, MultiPolygon, Point};

#[derive(Debug, Clone)]
pub enum Region {
    Bbox([f64; 4]),
    Polygon(MultiPolygon<f64>),
    /// Inside a district, or within `tolerance_m` of one.
    Districts {
        tolerance_m: f64,
    },
    /// No constraint beyond valid coordinates.
    Open,
}

impl Region {
    /// Whether a WGS84 point lies in the region (districts passed for `Districts`).
    pub fn contains(&self, lon: f64, lat: f64, districts: &DistrictIndex) -> bool {
        match self {
            Region::Bbox([w, s, e, n]) => lon >= *w && lon <= *e && lat >= *s && lat <= *n,
            Region::Polygon(mp) => mp.intersects(&Point::new(lon, lat)),
            Region::Districts { tolerance_m } => {
                districts.locate(lon, lat).is_some()
                    || districts.nearest_within(lon, lat, *tolerance_m).is_some()
            }
            Region::Open => (-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat),
        }
    }

    /// Plain words for messages.
    pub fn describe(&self) -> String {
        match self {
            Region::Bbox(b) => crate::tr!("配置的范围 {b:?}", "the configured bbox {b:?}"),
            Region::Polygon(_) => crate::tr!("配置的区域多边形", "the configured region polygon"),
            Region::Districts { tolerance_m } => {
                crate::tr!(
                    "区县边界（± {tolerance_m} 米）",
                    "the district boundaries (± {tolerance_m} m)"
                )
            }
            Region::Open => crate::tr!("有效坐标范围", "valid coordinates"),
        }
    }

    /// Bounding box, when the region itself has one.
    pub fn bbox(&self, districts: &DistrictIndex) -> Option<[f64; 4]> {
        match self {
            Region::Bbox(b) => Some(*b),
            Region::Polygon(mp) => mp
                .bounding_rect()
                .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y]),
            Region::Districts { .. } => districts.bbox(),
            Region::Open => None,
        }
    }
}
