//! Grid aggregation: square cells laid in the region's UTM zone (true area within 0.1 % of
//! the requested size across a zone), or H3 hexagons. Cells with no enterprise are not kept.

use super::rule::{decide, AreaLevel};
use super::Frame;
use crate::params::{GridConfig, GridKind, LevelRule};
use geo::orient::{Direction, Orient};
use geo::{Coord, LineString, Polygon};
use riskmap_core::dataset::Dataset;
use riskmap_core::model::Counts;
use riskmap_core::model::{level_slot, Level};
use riskmap_core::Error;
use std::collections::BTreeMap;

/// One grid cell with enterprises.
#[derive(Debug, Clone)]
pub struct Cell {
    /// `E{easting}_N{northing}` of the lower-left corner (square) or the H3 index.
    pub id: String,
    pub counts: Counts,
    pub open_major_hidden_dangers: usize,
    pub area_km2: f64,
    pub level: AreaLevel,
    /// District of the cell's centre.
    pub district: Option<String>,
    /// WGS84, counter-clockwise.
    pub shape: Polygon<f64>,
}

#[derive(Default)]
struct Acc {
    counts: Counts,
    majors: usize,
    first: [Option<usize>; 4],
}

fn add(acc: &mut Acc, ds: &Dataset, i: usize) {
    let s = level_slot(ds.grades[i].level);
    acc.counts[s] += 1;
    acc.majors += ds.grades[i].open_major_hidden_dangers;
    if s < 4 && acc.first[s].is_none() {
        acc.first[s] = Some(i);
    }
}

fn finish(
    ds: &Dataset,
    rule: &LevelRule,
    id: String,
    acc: &Acc,
    area_km2: f64,
    shape: Polygon<f64>,
    centre: (f64, f64),
) -> Cell {
    let example = |l: Level| {
        acc.first[level_slot(Some(l))]
            .map(|i| format!("{} {}", ds.enterprises[i].id, ds.enterprises[i].name))
    };
    Cell {
        id,
        counts: acc.counts,
        open_major_hidden_dangers: acc.majors,
        area_km2,
        level: decide(rule, &acc.counts, area_km2, example),
        district: ds
            .districts
            .locate(centre.0, centre.1)
            .map(|d| ds.districts.districts[d].name.clone()),
        shape,
    }
}

/// Build the grid configured in `[grid]`.
pub fn build(ds: &Dataset, frame: &Frame, p: &GridConfig) -> Result<Vec<Cell>, Error> {
    match p.kind {
        GridKind::Square => Ok(square(ds, frame, p)),
        GridKind::H3 => h3(ds, p),
    }
}

/// Index of the square cell holding a UTM position (floor, so boundaries belong to the
/// cell to the north-east: each point is counted once).
pub fn square_key(x: f64, y: f64, size: f64) -> (i64, i64) {
    ((x / size).floor() as i64, (y / size).floor() as i64)
}

/// The lon/lat outline of the UTM square with lower-left corner (x0, y0), counter-clockwise
/// (as in UTM: the projection is conformal), lower-left corner first.
pub fn square_shape(utm: &riskmap_core::utm::Utm, x0: f64, y0: f64, size: f64) -> Polygon<f64> {
    let ring: Vec<Coord<f64>> = [
        (x0, y0),
        (x0 + size, y0),
        (x0 + size, y0 + size),
        (x0, y0 + size),
        (x0, y0),
    ]
    .iter()
    .map(|&(x, y)| {
        let (lon, lat) = utm.inverse(x, y);
        Coord { x: lon, y: lat }
    })
    .collect();
    Polygon::new(LineString::new(ring), vec![])
}

fn square(ds: &Dataset, frame: &Frame, p: &GridConfig) -> Vec<Cell> {
    let size = p.cell_m;
    let mut cells: BTreeMap<(i64, i64), Acc> = BTreeMap::new();
    for (i, &(x, y)) in frame.xy.iter().enumerate() {
        add(cells.entry(square_key(x, y, size)).or_default(), ds, i);
    }
    let utm = frame.utm;
    let area_km2 = size * size / 1e6;
    cells
        .iter()
        .map(|(&(i, j), acc)| {
            let (x0, y0) = (i as f64 * size, j as f64 * size);
            let centre = utm.inverse(x0 + size / 2.0, y0 + size / 2.0);
            finish(
                ds,
                &p.level,
                format!("E{}_N{}", x0 as i64, y0 as i64),
                acc,
                area_km2,
                square_shape(&utm, x0, y0, size),
                centre,
            )
        })
        .collect()
}

fn h3(ds: &Dataset, p: &GridConfig) -> Result<Vec<Cell>, Error> {
    let res = h3o::Resolution::try_from(p.h3_resolution)
        .map_err(|e| Error::Input(format!("grid.h3_resolution: {e}")))?;
    let mut cells: BTreeMap<u64, Acc> = BTreeMap::new();
    for (i, e) in ds.enterprises.iter().enumerate() {
        let ll = h3o::LatLng::new(e.lat, e.lon)
            .map_err(|err| Error::Input(format!("enterprise {}: {err}", e.id)))?;
        add(cells.entry(u64::from(ll.to_cell(res))).or_default(), ds, i);
    }
    Ok(cells
        .iter()
        .filter_map(|(&k, acc)| {
            let cell = h3o::CellIndex::try_from(k).ok()?;
            let mut ring: Vec<Coord<f64>> = cell
                .boundary()
                .iter()
                .map(|v| Coord {
                    x: v.lng(),
                    y: v.lat(),
                })
                .collect();
            ring.push(ring[0]);
            let shape = Polygon::new(LineString::new(ring), vec![]).orient(Direction::Default);
            let c = h3o::LatLng::from(cell);
            Some(finish(
                ds,
                &p.level,
                cell.to_string(),
                acc,
                cell.area_km2(),
                shape,
                (c.lng(), c.lat()),
            ))
        })
        .collect())
}
