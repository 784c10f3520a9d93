//! Zones: the classified surface vectorised into polygons per level (isobands), simplified
//! without breaking topology, in WGS84, each with the enterprises whose influence makes it.
//!
//! The isolines come from the `contour` crate's marching squares (linear smoothing). Its
//! own `isobands` assembles polygons by testing every ring against every other ring, which
//! is quadratic in the ring count (tens of thousands of discs here), so the bands are
//! assembled here instead: a band's shells are the lower threshold's outer rings and the
//! upper threshold's holes, and each hole goes to the smallest shell containing it, found
//! through an R-tree — O(n log n). Simplifying (`simplify`) and validating (`valid`) give
//! geo's results, with grids where geo's own were the bulk of the stage.

use super::surface::{Disc, Surface};
use super::Frame;
use crate::params::SurfaceConfig;
use geo::{BoundingRect, Coord, GeodesicArea, LineString, Polygon};
use rayon::prelude::*;
use riskmap_core::dataset::Dataset;
use riskmap_core::model::Level;
use riskmap_core::Error;
use rstar::primitives::GeomWithData;
use rstar::RTree;

/// One zone polygon.
#[derive(Debug, Clone)]
pub struct Zone {
    pub level: Level,
    /// Geodesic area of the WGS84 polygon.
    pub area_km2: f64,
    /// Indices of the enterprises whose influence reaches the zone (their disc overlaps
    /// the polygon), ascending.
    pub enterprises: Vec<usize>,
    /// The polygon in UTM (metres).
    pub utm: Polygon<f64>,
    /// The polygon in WGS84, right-hand rule.
    pub shape: Polygon<f64>,
}

fn signed_area(ring: &LineString<f64>) -> f64 {
    let c = &ring.0;
    let mut s = 0.0;
    for w in c.windows(2) {
        s += w[0].x * w[1].y - w[1].x * w[0].y;
    }
    s / 2.0
}

fn ring_contains(ring: &LineString<f64>, p: Coord<f64>) -> bool {
    // even-odd ray casting
    let c = &ring.0;
    let mut inside = false;
    for w in c.windows(2) {
        let (a, b) = (w[0], w[1]);
        if (a.y > p.y) != (b.y > p.y) && p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x {
            inside = !inside;
        }
    }
    inside
}

/// Outer rings (counter-clockwise) and holes (clockwise) of {value ≥ t}.
fn rings_at(
    s: &Surface,
    values: &[f64],
    t: f64,
) -> Result<(Vec<LineString<f64>>, Vec<LineString<f64>>), Error> {
    let lines = contour::ContourBuilder::new(s.width, s.height, true)
        .x_origin(s.x0)
        .y_origin(s.y0)
        .x_step(s.res)
        .y_step(s.res)
        .lines(values, &[t])
        .map_err(|e| Error::Input(format!("contouring the surface at {t}: {e:?}")))?;
    let (mut outer, mut holes) = (vec![], vec![]);
    for line in lines {
        for ring in line.into_inner().0 .0 {
            if ring.0.len() < 4 {
                continue;
            }
            // marching squares here wind the outline of {v ≥ t} clockwise and its holes
            // counter-clockwise (checked by the lone-disc test)
            if signed_area(&ring) < 0.0 {
                let mut r = ring;
                r.0.reverse();
                outer.push(r);
            } else {
                let mut r = ring;
                r.0.reverse();
                holes.push(r);
            }
        }
    }
    Ok((outer, holes))
}

/// Give each hole to the smallest shell containing it.
fn assemble(shells: Vec<LineString<f64>>, holes: Vec<LineString<f64>>) -> Vec<Polygon<f64>> {
    let areas: Vec<f64> = shells.iter().map(|s| signed_area(s).abs()).collect();
    let tree = riskmap_core::index::box_tree(shells.iter().map(|s| s.bounding_rect()));
    let mut assigned: Vec<Vec<LineString<f64>>> = vec![vec![]; shells.len()];
    for h in holes {
        let p = h.0[0];
        let best = tree
            .locate_all_at_point(&[p.x, p.y])
            .map(|g| g.data)
            .filter(|&i| ring_contains(&shells[i], p))
            .min_by(|&a, &b| areas[a].total_cmp(&areas[b]).then(a.cmp(&b)));
        if let Some(i) = best {
            assigned[i].push(h);
        }
    }
    shells
        .into_iter()
        .zip(assigned)
        .map(|(s, h)| Polygon::new(s, h))
        .collect()
}

fn ring_length(r: &LineString<f64>) -> f64 {
    r.0.windows(2)
        .map(|w| (w[1].x - w[0].x).hypot(w[1].y - w[0].y))
        .sum()
}

/// Area (outer minus holes) and mean width (2 · area / perimeter) of a polygon.
fn area_and_width(p: &Polygon<f64>) -> (f64, f64) {
    let area = signed_area(p.exterior()).abs()
        - p.interiors()
            .iter()
            .map(|h| signed_area(h).abs())
            .sum::<f64>();
    let perimeter = ring_length(p.exterior()) + p.interiors().iter().map(ring_length).sum::<f64>();
    (
        area,
        if perimeter > 0.0 {
            2.0 * area / perimeter
        } else {
            0.0
        },
    )
}

/// Drop slivers (smaller or thinner than one raster cell: the sub-cell fringe where a
/// lone disc's edge passes through the lower thresholds), drop holes under one cell, then
/// simplify (keeping the unsimplified polygon if simplifying changed its area by more
/// than 5 %). Polygons up to [`VALIDATE_MAX_VERTICES`] are checked and, if a saddle of the
/// marching squares left them invalid, repaired (constrained Delaunay, `MakeValid`).
fn clean(p: Polygon<f64>, res: f64, eps: f64) -> Vec<Polygon<f64>> {
    use geo::MakeValid;
    use riskmap_core::geom::valid::is_valid;
    let holes: Vec<LineString<f64>> = p
        .interiors()
        .iter()
        .filter(|h| signed_area(h).abs() >= res * res)
        .cloned()
        .collect();
    let p = Polygon::new(p.exterior().clone(), holes);
    let (area, width) = area_and_width(&p);
    if area < res * res || width < res {
        return vec![];
    }
    let simple = super::simplify::vw_preserve(&p, eps);
    let (sa, _) = area_and_width(&simple);
    let candidate = if sa >= res * res && (sa - area).abs() <= 0.05 * area {
        simple
    } else {
        p.clone()
    };
    let vertices = p.exterior().0.len() + p.interiors().iter().map(|h| h.0.len()).sum::<usize>();
    if vertices > VALIDATE_MAX_VERTICES || is_valid(&candidate) {
        return vec![candidate];
    }
    if is_valid(&p) {
        return vec![p];
    }
    match p.make_valid() {
        Ok(mp) => {
            mp.0.into_iter()
                .filter(|q| {
                    let (a, w) = area_and_width(q);
                    a >= res * res && w >= res
                })
                .collect()
        }
        Err(_) => vec![p],
    }
}

/// Zones up to this many vertices are validated (and repaired) one by one; the
/// topology-preserving simplification keeps larger ones valid. (`valid::is_valid` tests a
/// ring's own segments through a grid, but the holes of the large merged zones are
/// related to the shell and to each other by geo's `relate`: validating every zone of
/// the peer's 100k points took 9.3 s instead of 2.4 s, and repaired none.)
const VALIDATE_MAX_VERTICES: usize = 20_000;

/// Vectorise the classified surface.
pub fn build(
    ds: &Dataset,
    frame: &Frame,
    s: &Surface,
    p: &SurfaceConfig,
) -> Result<Vec<Zone>, Error> {
    let debug = std::env::var_os("RISKMAP_DEBUG").is_some();
    let clock = std::time::Instant::now();
    let tick = |what: &str| {
        if debug {
            eprintln!("zones: {what} at {:.2} s", clock.elapsed().as_secs_f64());
        }
    };
    let values: Vec<f64> = s.values.par_iter().map(|&v| v as f64).collect();
    let per_t: Vec<(Vec<LineString<f64>>, Vec<LineString<f64>>)> = s
        .thresholds
        .par_iter()
        .map(|&t| rings_at(s, &values, t))
        .collect::<Result<_, _>>()?;
    drop(values);
    tick("isolines");
    let eps = p.simplify_m2.unwrap_or(s.res * s.res / 4.0);
    let levels = [Level::Blue, Level::Yellow, Level::Orange, Level::Red];
    let mut polys: Vec<(Level, Polygon<f64>)> = Vec::new();
    for (k, &level) in levels.iter().enumerate() {
        let (mut shells, mut holes) = (per_t[k].0.clone(), per_t[k].1.clone());
        if k + 1 < levels.len() {
            // the next level's area is cut out of this band: its outlines become holes here
            // and its holes (dips back below the next threshold) become shells
            shells.extend(
                per_t[k + 1]
                    .1
                    .iter()
                    .map(|r| LineString::new(r.0.iter().rev().copied().collect())),
            );
            holes.extend(
                per_t[k + 1]
                    .0
                    .iter()
                    .map(|r| LineString::new(r.0.iter().rev().copied().collect())),
            );
        }
        let assembled = assemble(shells, holes);
        tick("assemble");
        let ps: Vec<(Level, Polygon<f64>)> = assembled
            .into_par_iter()
            .flat_map_iter(|p| clean(p, s.res, eps).into_iter().map(move |p| (level, p)))
            .collect();
        polys.extend(ps);
        tick("clean");
    }
    tick("bands");
    // the enterprises of a zone: those whose disc (open, radius r) overlaps its polygon
    let discs = super::surface::discs(ds, frame, &p.weights);
    let mut members = memberships(&discs, &polys, s);
    tick("members");
    let utm = frame.utm;
    let zones = polys
        .into_par_iter()
        .zip(members.par_iter_mut())
        .map(|((level, p), m)| {
            let shape = p.map_coords_utm(&utm);
            Zone {
                level,
                area_km2: shape.geodesic_area_unsigned() / 1e6,
                enterprises: std::mem::take(m),
                utm: p,
                shape,
            }
        })
        .collect();
    tick("ids and WGS84");
    Ok(zones)
}

/// The polygon (index + 1; 0 none) whose area holds each cell's centre: every polygon's
/// rings cut the rows' centre lines, the crossings sorted per row pair into inside runs
/// (holes excluded). The bands are disjoint, so a centre has at most one polygon. Linear
/// in vertices plus cells.
fn owners(s: &Surface, polys: &[(Level, Polygon<f64>)]) -> Vec<u32> {
    let mut owner = vec![0u32; s.width * s.height];
    let mut xs: Vec<(usize, f64)> = Vec::new();
    for (k, (_, p)) in polys.iter().enumerate() {
        xs.clear();
        for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
            for w in ring.0.windows(2) {
                let (a, b) = (w[0], w[1]);
                if a.y == b.y {
                    continue;
                }
                let (lo, hi) = if a.y < b.y { (a.y, b.y) } else { (b.y, a.y) };
                // rows whose centre y is in [lo, hi)
                let r0 = ((lo - s.y0) / s.res - 0.5).ceil().max(0.0) as usize;
                let r1 = ((hi - s.y0) / s.res - 0.5).ceil().max(0.0) as usize;
                for row in r0.saturating_sub(1)..(r1 + 1).min(s.height) {
                    let y = s.y0 + (row as f64 + 0.5) * s.res;
                    if y < lo || y >= hi {
                        continue;
                    }
                    xs.push((row, a.x + (y - a.y) * (b.x - a.x) / (b.y - a.y)));
                }
            }
        }
        xs.sort_by(|u, v| u.0.cmp(&v.0).then(u.1.total_cmp(&v.1)));
        for pair in xs.chunks_exact(2) {
            let ((row, xa), (row_b, xb)) = (pair[0], pair[1]);
            debug_assert_eq!(row, row_b, "an even number of crossings per row");
            if row != row_b {
                continue;
            }
            // columns whose centre x is in [xa, xb)
            let c0 = ((xa - s.x0) / s.res - 0.5).ceil().max(0.0) as usize;
            let c1 = (((xb - s.x0) / s.res - 0.5).ceil().max(0.0) as usize).min(s.width);
            if c0 < c1 {
                owner[row * s.width + c0..row * s.width + c1].fill(k as u32 + 1);
            }
        }
    }
    owner
}

/// For each polygon (all in UTM), the enterprises whose disc overlaps it, ascending: the
/// polygons whose rings come within the disc's radius of its centre (one R-tree of every
/// polygon's segments), and the polygon holding the centre (`owners`; where the radius is
/// under a cell and a ring passes within a cell of the centre, a ray's crossings decide).
/// One query per disc. Geometric, not by raster cells of the zone's class: a band thinner
/// than a cell (the orange between a red disc's edge and the yellow around it) has a
/// polygon but few or no cells of its class, and one connected region of cells can be
/// vectorised as several polygons (cells touching at a corner).
fn memberships(discs: &[Disc], polys: &[(Level, Polygon<f64>)], s: &Surface) -> Vec<Vec<usize>> {
    use rstar::primitives::Line;
    let owner = owners(s, polys);
    let segs: Vec<GeomWithData<Line<[f64; 2]>, u32>> = polys
        .iter()
        .enumerate()
        .flat_map(|(k, (_, p))| {
            std::iter::once(p.exterior())
                .chain(p.interiors())
                .flat_map(move |ring| {
                    ring.0.windows(2).map(move |w| {
                        GeomWithData::new(Line::new([w[0].x, w[0].y], [w[1].x, w[1].y]), k as u32)
                    })
                })
        })
        .collect();
    let tree = RTree::bulk_load(segs);
    // whether polygon k holds (x, y): even-odd crossings of its rings by the ray towards +x
    let holds = |k: u32, x: f64, y: f64| -> bool {
        let ray = rstar::AABB::from_corners([x, y], [f64::MAX / 4.0, y]);
        let mut odd = false;
        for g in tree.locate_in_envelope_intersecting(&ray) {
            if g.data != k {
                continue;
            }
            let ([ax, ay], [bx, by]) = (g.geom().from, g.geom().to);
            if (ay > y) != (by > y) && x < ax + (y - ay) * (bx - ax) / (by - ay) {
                odd = !odd;
            }
        }
        odd
    };
    let mut pairs: Vec<(u32, u32)> = discs
        .par_iter()
        .flat_map_iter(|d| {
            let c = [d.x, d.y];
            let mut hit: Vec<u32> = tree
                .locate_within_distance(c, d.r * d.r)
                .map(|g| g.data)
                .collect();
            let (col, row) = ((d.x - s.x0) / s.res, (d.y - s.y0) / s.res);
            let o = if col >= 0.0 && row >= 0.0 && col < s.width as f64 && row < s.height as f64 {
                owner[row as usize * s.width + col as usize]
            } else {
                0
            };
            if d.r >= s.res {
                // a ring between the centre and its cell's centre is within the radius,
                // so the polygons on both sides of it are hit already
                if o != 0 {
                    hit.push(o - 1);
                }
            } else {
                let mut near: Vec<u32> = tree
                    .locate_within_distance(c, s.res * s.res)
                    .map(|g| g.data)
                    .collect();
                if near.is_empty() {
                    if o != 0 {
                        hit.push(o - 1);
                    }
                } else {
                    if o != 0 {
                        near.push(o - 1);
                    }
                    near.sort_unstable();
                    near.dedup();
                    hit.extend(near.into_iter().filter(|&k| holds(k, d.x, d.y)));
                }
            }
            hit.sort_unstable();
            hit.dedup();
            hit.into_iter().map(move |k| (k, d.idx as u32))
        })
        .collect();
    pairs.par_sort_unstable();
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); polys.len()];
    for (k, i) in pairs {
        out[k as usize].push(i as usize);
    }
    out
}

trait ToWgs {
    fn map_coords_utm(&self, utm: &riskmap_core::utm::Utm) -> Polygon<f64>;
}

impl ToWgs for Polygon<f64> {
    fn map_coords_utm(&self, utm: &riskmap_core::utm::Utm) -> Polygon<f64> {
        let f = |ls: &LineString<f64>| {
            LineString::new(
                ls.0.iter()
                    .map(|c| {
                        let (x, y) = utm.inverse(c.x, c.y);
                        Coord { x, y }
                    })
                    .collect(),
            )
        };
        Polygon::new(f(self.exterior()), self.interiors().iter().map(f).collect())
    }
}
