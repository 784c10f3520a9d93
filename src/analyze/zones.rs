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

use super::surface::{class_of, Disc, Surface};
use super::Frame;
use crate::model::Level;
use crate::pipeline::Dataset;
use crate::Error;
use geo::{BoundingRect, Coord, GeodesicArea, LineString, Polygon};
use rayon::prelude::*;
use rstar::primitives::GeomWithData;
use rstar::RTree;

/// One zone polygon.
#[derive(Debug, Clone)]
pub struct Zone {
    pub level: Level,
    /// Geodesic area of the WGS84 polygon.
    pub area_km2: f64,
    /// Indices of the enterprises whose influence reaches the zone, ascending.
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
    let tree = crate::index::box_tree(shells.iter().map(|s| s.bounding_rect()));
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
    use super::valid::is_valid;
    use geo::MakeValid;
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

/// Label connected cells of equal class (8-connectivity); 0 = no class.
fn components(s: &Surface) -> Vec<u32> {
    let (w, h) = (s.width, s.height);
    let mut label = vec![0u32; w * h];
    let mut next = 0u32;
    let mut stack = Vec::new();
    for start in 0..w * h {
        if s.classes[start] == 0 || label[start] != 0 {
            continue;
        }
        next += 1;
        let c = s.classes[start];
        label[start] = next;
        stack.push(start);
        while let Some(k) = stack.pop() {
            let (x, y) = ((k % w) as i64, (k / w) as i64);
            for dy in -1..=1i64 {
                for dx in -1..=1i64 {
                    let (nx, ny) = (x + dx, y + dy);
                    if nx < 0 || ny < 0 || nx >= w as i64 || ny >= h as i64 {
                        continue;
                    }
                    let n = ny as usize * w + nx as usize;
                    if label[n] == 0 && s.classes[n] == c {
                        label[n] = next;
                        stack.push(n);
                    }
                }
            }
        }
    }
    label
}

/// Vectorise the classified surface.
pub fn build(ds: &Dataset, frame: &Frame, s: &Surface) -> Result<Vec<Zone>, Error> {
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
    let eps = ds.config.surface.simplify_m2.unwrap_or(s.res * s.res / 4.0);
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
    // enterprises per connected region of each class, from their discs
    let label = components(s);
    tick("components");
    let discs = super::surface::discs(ds, frame);
    let mut pairs: Vec<(u32, u32)> = discs
        .par_iter()
        .flat_map_iter(|d| {
            let mut seen: Vec<u32> = Vec::new();
            s.disc_rows(d, |r, cols| {
                let row = &label[r * s.width..][cols];
                // runs of one label along a row are the common case: one of each
                let mut prev = 0;
                for &l in row {
                    if l != 0 && l != prev {
                        seen.push(l);
                        prev = l;
                    }
                }
            });
            seen.sort_unstable();
            seen.dedup();
            seen.into_iter().map(move |l| (l, d.idx as u32))
        })
        .collect();
    pairs.par_sort_unstable();
    tick("disc pairs");
    let max_r = discs.iter().map(|d| d.r).fold(0.0, f64::max);
    let disc_tree = RTree::bulk_load(
        discs
            .iter()
            .map(|d| GeomWithData::new([d.x, d.y], *d))
            .collect::<Vec<_>>(),
    );
    let utm = frame.utm;
    let zones = polys
        .into_par_iter()
        .map(|(level, p)| {
            let class = class_of(level);
            let labels = labels_inside(s, &label, &p, class);
            let enterprises: Vec<usize> = if labels.is_empty() {
                by_distance(&disc_tree, &p, max_r)
            } else {
                let mut v: Vec<usize> = labels
                    .iter()
                    .flat_map(|&l| {
                        let a = pairs.partition_point(|x| x.0 < l);
                        let b = pairs.partition_point(|x| x.0 <= l);
                        pairs[a..b].iter().map(|x| x.1 as usize)
                    })
                    .collect();
                v.sort_unstable();
                v.dedup();
                v
            };
            let shape = p.map_coords_utm(&utm);
            Zone {
                level,
                area_km2: shape.geodesic_area_unsigned() / 1e6,
                enterprises,
                utm: p,
                shape,
            }
        })
        .collect();
    tick("ids and WGS84");
    Ok(zones)
}

/// Labels of the cells of `class` whose centres lie inside the polygon (holes excluded),
/// by scanline: every edge gives its crossings with the rows' centre lines, sorted per row
/// and paired into inside intervals — linear in vertices plus covered cells.
fn labels_inside(s: &Surface, label: &[u32], p: &Polygon<f64>, class: u8) -> Vec<u32> {
    let mut xs: Vec<(usize, f64)> = Vec::new();
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
            for row in r0..r1.min(s.height) {
                let y = s.y0 + (row as f64 + 0.5) * s.res;
                if y < lo || y >= hi {
                    continue;
                }
                xs.push((row, a.x + (y - a.y) * (b.x - a.x) / (b.y - a.y)));
            }
        }
    }
    xs.sort_by(|u, v| u.0.cmp(&v.0).then(u.1.total_cmp(&v.1)));
    let mut out: Vec<u32> = Vec::new();
    for pair in xs.chunks(2) {
        if let [(row, xa), (row_b, xb)] = pair {
            if row != row_b {
                continue;
            }
            let c0 = ((xa - s.x0) / s.res - 0.5).ceil().max(0.0) as usize;
            let c1 = (((xb - s.x0) / s.res - 0.5).ceil().max(0.0) as usize).min(s.width);
            for col in c0..c1 {
                let k = row * s.width + col;
                if s.classes[k] == class && label[k] != 0 && out.last() != Some(&label[k]) {
                    out.push(label[k]);
                }
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Fallback for tiny zones with no cell centre inside: discs within reach of the polygon.
fn by_distance(
    tree: &RTree<GeomWithData<[f64; 2], Disc>>,
    p: &Polygon<f64>,
    reach: f64,
) -> Vec<usize> {
    use geo::{Distance, Euclidean, Point};
    let Some(r) = p.bounding_rect() else {
        return vec![];
    };
    let env = rstar::AABB::from_corners(
        [r.min().x - reach, r.min().y - reach],
        [r.max().x + reach, r.max().y + reach],
    );
    let mut v: Vec<usize> = tree
        .locate_in_envelope(&env)
        .filter(|g| Euclidean.distance(&Point::new(g.data.x, g.data.y), p) < g.data.r)
        .map(|g| g.data.idx)
        .collect();
    v.sort_unstable();
    v
}

trait ToWgs {
    fn map_coords_utm(&self, utm: &crate::utm::Utm) -> Polygon<f64>;
}

impl ToWgs for Polygon<f64> {
    fn map_coords_utm(&self, utm: &crate::utm::Utm) -> Polygon<f64> {
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
