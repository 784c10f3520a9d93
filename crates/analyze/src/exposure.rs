//! Exposure of sensitive sites: a site inside an orange or red zone, or within a red or
//! orange enterprise's influence radius, is listed with the zone level and the nearest
//! such enterprises (great-circle metres from the R-tree).

use super::zones::Zone;
use super::Frame;
use geo::{Contains, Point};
use rayon::prelude::*;
use riskmap_core::dataset::Dataset;
use riskmap_core::index::Hit;
use riskmap_core::model::Level;

/// A site found exposed.
#[derive(Debug, Clone)]
pub struct Exposed {
    /// Index into `Dataset::sites`.
    pub site: usize,
    /// Level of the zone the site lies in (any level), if any.
    pub zone_level: Option<Level>,
    /// The higher of the zone level and the covering enterprises' levels.
    pub level: Level,
    /// Red/orange enterprises whose radius covers the site, nearest first.
    pub covering: Vec<Hit>,
    /// The nearest red/orange enterprises (covering ones first), at most `exposure.nearest`.
    pub nearest: Vec<Hit>,
    pub district: Option<String>,
}

/// Assess every site against the zones and the red/orange enterprises.
pub fn assess(ds: &Dataset, frame: &Frame, zones: &[Zone], nearest: usize) -> Vec<Exposed> {
    let tree = riskmap_core::index::box_tree(
        zones
            .iter()
            .map(|z| geo::BoundingRect::bounding_rect(&z.utm)),
    );
    let high = |i: usize| matches!(ds.grades[i].level, Some(Level::Red | Level::Orange));
    // the farthest any red/orange enterprise reaches
    let reach = (0..ds.enterprises.len())
        .filter(|&i| high(i))
        .map(|i| ds.radius_m(i))
        .fold(0.0, f64::max);
    let k = nearest.max(1);
    ds.sites
        .par_iter()
        .enumerate()
        .filter_map(|(si, site)| {
            let (x, y) = frame.utm.forward(site.lon, site.lat);
            let zone_level = tree
                .locate_all_at_point(&[x, y])
                .filter(|g| zones[g.data].utm.contains(&Point::new(x, y)))
                .map(|g| zones[g.data].level)
                .max();
            let covering: Vec<Hit> = if reach > 0.0 {
                ds.index()
                    .within(site.lon, site.lat, reach)
                    .into_iter()
                    .filter(|h| high(h.idx) && h.distance_m <= ds.radius_m(h.idx))
                    .collect()
            } else {
                vec![]
            };
            let in_high_zone = matches!(zone_level, Some(Level::Red | Level::Orange));
            if !in_high_zone && covering.is_empty() {
                return None;
            }
            let mut nearest: Vec<Hit> = covering.iter().take(k).copied().collect();
            if nearest.len() < k {
                // name the nearest red/orange enterprises even when none covers the site
                let more: Vec<Hit> = ds
                    .index()
                    .within(site.lon, site.lat, reach.max(1.0) * 3.0)
                    .into_iter()
                    .filter(|h| high(h.idx) && !nearest.iter().any(|n| n.idx == h.idx))
                    .take(k - nearest.len())
                    .collect();
                nearest.extend(more);
            }
            let covering_level = covering.iter().filter_map(|h| ds.grades[h.idx].level).max();
            let level = zone_level.max(covering_level).unwrap_or(Level::Orange);
            Some(Exposed {
                site: si,
                zone_level,
                level,
                covering,
                nearest,
                district: ds
                    .districts
                    .locate(site.lon, site.lat)
                    .map(|d| ds.districts.districts[d].name.clone()),
            })
        })
        .collect()
}
