//! Per-area statistics: enterprises per level, open major hidden dangers, geodesic area,
//! density and the area's level, for the districts and an optional second level (streets).

use super::rule::{decide, AreaLevel};
use crate::params::{AreasConfig, LevelRule};
use geo::{GeodesicArea, MultiPolygon};
use rayon::prelude::*;
use riskmap_core::dataset::Dataset;
use riskmap_core::index::DistrictIndex;
use riskmap_core::ingest::boundaries::read_boundaries;
use riskmap_core::model::Counts;
use riskmap_core::model::{level_slot, Level};
use riskmap_core::Error;
use std::path::Path;

/// One area's statistics.
#[derive(Debug, Clone)]
pub struct AreaStats {
    pub name: String,
    pub adcode: String,
    /// red, orange, yellow, blue, unassessed.
    pub counts: Counts,
    pub open_major_hidden_dangers: usize,
    /// Geodesic area on the WGS84 ellipsoid.
    pub area_km2: f64,
    pub level: AreaLevel,
    /// WGS84, right-hand rule.
    pub shape: MultiPolygon<f64>,
}

impl AreaStats {
    pub fn total(&self) -> usize {
        self.counts.iter().sum()
    }
    /// Enterprises per km².
    pub fn density(&self) -> f64 {
        if self.area_km2 > 0.0 {
            self.total() as f64 / self.area_km2
        } else {
            0.0
        }
    }
}

/// Statistics for polygons given the polygon each enterprise is in (`None` = none).
fn stats(
    ds: &Dataset,
    polys: &DistrictIndex,
    assignment: &[Option<usize>],
    rule: &LevelRule,
) -> Vec<AreaStats> {
    let n = polys.districts.len();
    let mut counts = vec![[0usize; 5]; n];
    let mut majors = vec![0usize; n];
    let mut first: Vec<[Option<usize>; 4]> = vec![[None; 4]; n];
    for (i, a) in assignment.iter().enumerate() {
        if let Some(d) = *a {
            let s = level_slot(ds.grades[i].level);
            counts[d][s] += 1;
            majors[d] += ds.grades[i].open_major_hidden_dangers;
            if s < 4 && first[d][s].is_none() {
                first[d][s] = Some(i);
            }
        }
    }
    polys
        .districts
        .par_iter()
        .enumerate()
        .map(|(d, p)| {
            let area_km2 = p.shape.geodesic_area_unsigned() / 1e6;
            let example = |l: Level| {
                first[d][level_slot(Some(l))]
                    .map(|i| format!("{} {}", ds.enterprises[i].id, ds.enterprises[i].name))
            };
            AreaStats {
                name: p.name.clone(),
                adcode: p.adcode.clone(),
                counts: counts[d],
                open_major_hidden_dangers: majors[d],
                area_km2,
                level: decide(rule, &counts[d], area_km2, example),
                shape: p.shape.clone(),
            }
        })
        .collect()
}

/// Statistics per district (the enterprises' district assignment from ingest).
pub fn district_stats(ds: &Dataset, rule: &LevelRule) -> Vec<AreaStats> {
    let assignment: Vec<Option<usize>> = ds.enterprises.iter().map(|e| e.district).collect();
    stats(ds, &ds.districts, &assignment, rule)
}

/// Statistics per polygon of a second boundary level (streets / towns).
pub fn street_stats(ds: &Dataset, path: &Path, c: &AreasConfig) -> Result<Vec<AreaStats>, Error> {
    let polys = DistrictIndex::new(read_boundaries(
        path,
        c.streets_crs,
        &c.streets_name_field,
        &c.streets_adcode_field,
    )?);
    let assignment: Vec<Option<usize>> = ds
        .enterprises
        .par_iter()
        .map(|e| polys.locate(e.lon, e.lat))
        .collect();
    Ok(stats(ds, &polys, &assignment, &c.level))
}
