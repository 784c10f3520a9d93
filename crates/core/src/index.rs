//! Spatial indexes: enterprises in an R-tree on the unit sphere (so nearest-neighbour order
//! and radius queries are exact great-circle answers in metres), and district polygons in
//! an R-tree of their bounding boxes for point-in-polygon.

use crate::crs::{haversine_m, EARTH_RADIUS_M};
use crate::ingest::boundaries::District;
use geo::{BoundingRect, Closest, HaversineClosestPoint, Intersects, Point};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

/// An R-tree of bounding boxes whose data is the position of the box in its list.
pub type BoxTree = RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>;

/// Bulk-load the boxes of a list of geometries (`None`, an empty geometry, is skipped).
pub fn box_tree(boxes: impl Iterator<Item = Option<geo::Rect<f64>>>) -> BoxTree {
    RTree::bulk_load(
        boxes
            .enumerate()
            .filter_map(|(i, r)| {
                r.map(|r| {
                    GeomWithData::new(
                        Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                        i,
                    )
                })
            })
            .collect(),
    )
}

/// Unit vector of a lon/lat on the sphere.
fn unit(lon: f64, lat: f64) -> [f64; 3] {
    let (lo, la) = (lon.to_radians(), lat.to_radians());
    [la.cos() * lo.cos(), la.cos() * lo.sin(), la.sin()]
}

/// Squared chord length (unit sphere) of a great-circle distance in metres.
fn chord2(metres: f64) -> f64 {
    let c = 2.0
        * (metres / (2.0 * EARTH_RADIUS_M))
            .min(std::f64::consts::FRAC_PI_2)
            .sin();
    c * c
}

/// An enterprise found by a query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// Index into the slice the index was built from.
    pub idx: usize,
    pub distance_m: f64,
}

/// R-tree over points (bulk-loaded) answering radius, k-nearest and bbox queries in metres.
pub struct PointIndex {
    tree: RTree<GeomWithData<[f64; 3], usize>>,
    lonlat: Vec<(f64, f64)>,
}

impl PointIndex {
    /// Bulk-load from WGS84 (lon, lat) pairs; hits refer to positions in this slice.
    pub fn new(points: &[(f64, f64)]) -> PointIndex {
        let items = points
            .iter()
            .enumerate()
            .map(|(i, &(x, y))| GeomWithData::new(unit(x, y), i))
            .collect();
        PointIndex {
            tree: RTree::bulk_load(items),
            lonlat: points.to_vec(),
        }
    }

    pub fn len(&self) -> usize {
        self.lonlat.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lonlat.is_empty()
    }

    fn hit(&self, idx: usize, lon: f64, lat: f64) -> Hit {
        let (x, y) = self.lonlat[idx];
        Hit {
            idx,
            distance_m: haversine_m(lon, lat, x, y),
        }
    }

    /// Everything within `radius_m` of (lon, lat), nearest first (ties by index).
    pub fn within(&self, lon: f64, lat: f64, radius_m: f64) -> Vec<Hit> {
        let q = unit(lon, lat);
        // pad the chord by a hair so that points exactly at the radius are not lost to rounding
        let r2 = chord2(radius_m * (1.0 + 1e-9) + 1e-6);
        let mut v: Vec<Hit> = self
            .tree
            .locate_within_distance(q, r2)
            .map(|g| self.hit(g.data, lon, lat))
            .filter(|h| h.distance_m <= radius_m)
            .collect();
        sort_hits(&mut v);
        v
    }

    /// The `k` nearest to (lon, lat), nearest first.
    pub fn nearest(&self, lon: f64, lat: f64, k: usize) -> Vec<Hit> {
        let q = unit(lon, lat);
        let mut v: Vec<Hit> = self
            .tree
            .nearest_neighbor_iter(&q)
            .take(k)
            .map(|g| self.hit(g.data, lon, lat))
            .collect();
        sort_hits(&mut v);
        v
    }

    /// Everything inside a WGS84 bbox (edges inclusive), in index order.
    pub fn in_bbox(&self, w: f64, s: f64, e: f64, n: f64) -> Vec<usize> {
        let env = sphere_aabb(w, s, e, n);
        let mut v: Vec<usize> = self
            .tree
            .locate_in_envelope_intersecting(&env)
            .map(|g| g.data)
            .filter(|&i| {
                let (x, y) = self.lonlat[i];
                x >= w && x <= e && y >= s && y <= n
            })
            .collect();
        v.sort_unstable();
        v
    }
}

fn sort_hits(v: &mut [Hit]) {
    v.sort_by(|a, b| {
        a.distance_m
            .total_cmp(&b.distance_m)
            .then(a.idx.cmp(&b.idx))
    });
}

/// Range of cos or sin over an angle interval [a, b] (radians, b − a < 2π).
fn trig_range(a: f64, b: f64, f: fn(f64) -> f64, peaks: &[(f64, f64)]) -> (f64, f64) {
    let (mut lo, mut hi) = (f(a).min(f(b)), f(a).max(f(b)));
    for &(angle, value) in peaks {
        // any angle + 2πk inside [a, b]?
        let k = ((a - angle) / std::f64::consts::TAU).ceil();
        if angle + k * std::f64::consts::TAU <= b {
            lo = lo.min(value);
            hi = hi.max(value);
        }
    }
    (lo, hi)
}

fn mul_range(a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
    let c = [a.0 * b.0, a.0 * b.1, a.1 * b.0, a.1 * b.1];
    (
        c.iter().cloned().fold(f64::MAX, f64::min),
        c.iter().cloned().fold(f64::MIN, f64::max),
    )
}

/// The 3-D box enclosing a lon/lat rectangle on the unit sphere (slightly padded).
fn sphere_aabb(w: f64, s: f64, e: f64, n: f64) -> AABB<[f64; 3]> {
    use std::f64::consts::{FRAC_PI_2, PI};
    let (w, e) = (w.to_radians(), e.to_radians().max(w.to_radians()));
    let (s, n) = (s.to_radians(), n.to_radians());
    let cos_lat = trig_range(s, n, f64::cos, &[(0.0, 1.0)]);
    let cos_lon = trig_range(w, e, f64::cos, &[(0.0, 1.0), (PI, -1.0)]);
    let sin_lon = trig_range(w, e, f64::sin, &[(FRAC_PI_2, 1.0), (-FRAC_PI_2, -1.0)]);
    let x = mul_range(cos_lat, cos_lon);
    let y = mul_range(cos_lat, sin_lon);
    let z = (s.sin(), n.sin());
    let pad = 1e-12;
    AABB::from_corners(
        [x.0 - pad, y.0 - pad, z.0 - pad],
        [x.1 + pad, y.1 + pad, z.1 + pad],
    )
}

/// District polygons with an R-tree over their bounding boxes.
pub struct DistrictIndex {
    pub districts: Vec<District>,
    tree: BoxTree,
    cells: Option<CellGrid>,
}

/// A grid over the districts' bounding box whose cells no boundary reaches know their
/// district (or that they lie outside all), so most points skip the point-in-polygon
/// test. Hand-written: geo's point-in-polygon walks every edge of a ring, which made
/// placing a 100k register's rows a fifth of its load time.
struct CellGrid {
    x0: f64,
    y0: f64,
    dx: f64,
    dy: f64,
    /// Per cell: a district index, OUTSIDE, or NEAR_BOUNDARY (ask the polygons).
    cell: Vec<u32>,
}

const OUTSIDE: u32 = u32::MAX - 1;
const NEAR_BOUNDARY: u32 = u32::MAX;

impl CellGrid {
    /// Cells a side of the grid.
    const N: usize = 1024;

    fn new(districts: &[District], slow: impl Fn(f64, f64) -> Option<usize>) -> Option<CellGrid> {
        let b = districts.iter().filter_map(|d| d.bbox()).reduce(|a, b| {
            [
                a[0].min(b[0]),
                a[1].min(b[1]),
                a[2].max(b[2]),
                a[3].max(b[3]),
            ]
        })?;
        let n = Self::N;
        // a cell of margin on every side: points beyond the grid are outside every district
        let (dx, dy) = (
            (b[2] - b[0]) / (n - 2) as f64,
            (b[3] - b[1]) / (n - 2) as f64,
        );
        if !(dx > 0.0 && dy > 0.0 && dx.is_finite() && dy.is_finite()) {
            return None;
        }
        let mut g = CellGrid {
            x0: b[0] - dx,
            y0: b[1] - dy,
            dx,
            dy,
            cell: vec![OUTSIDE; n * n],
        };
        // every cell a ring edge's bounding box reaches, one more cell around (rounding)
        for d in districts {
            for poly in &d.shape.0 {
                for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                    for l in ring.lines() {
                        let (i0, j0) = g.at(l.start.x.min(l.end.x), l.start.y.min(l.end.y));
                        let (i1, j1) = g.at(l.start.x.max(l.end.x), l.start.y.max(l.end.y));
                        for j in j0.saturating_sub(1)..=(j1 + 1).min(n - 1) {
                            for i in i0.saturating_sub(1)..=(i1 + 1).min(n - 1) {
                                g.cell[j * n + i] = NEAR_BOUNDARY;
                            }
                        }
                    }
                }
            }
        }
        // the other cells in 4-connected runs that no boundary separates share their
        // district: one point-in-polygon test per run, at its first cell's centre
        let mut seen = vec![false; n * n];
        let mut stack = Vec::new();
        for start in 0..n * n {
            if seen[start] || g.cell[start] == NEAR_BOUNDARY {
                continue;
            }
            let (ci, cj) = (start % n, start / n);
            let here = slow(g.x0 + (ci as f64 + 0.5) * dx, g.y0 + (cj as f64 + 0.5) * dy)
                .map_or(OUTSIDE, |k| k as u32);
            seen[start] = true;
            stack.push(start);
            while let Some(k) = stack.pop() {
                g.cell[k] = here;
                let (i, j) = (k % n, k / n);
                let mut visit = |k2: usize| {
                    if !seen[k2] && g.cell[k2] != NEAR_BOUNDARY {
                        seen[k2] = true;
                        stack.push(k2);
                    }
                };
                if i > 0 {
                    visit(k - 1);
                }
                if i + 1 < n {
                    visit(k + 1);
                }
                if j > 0 {
                    visit(k - n);
                }
                if j + 1 < n {
                    visit(k + n);
                }
            }
        }
        Some(g)
    }

    /// The cell (column, row) of a point, clamped to the grid.
    fn at(&self, x: f64, y: f64) -> (usize, usize) {
        let last = (Self::N - 1) as f64;
        let i = ((x - self.x0) / self.dx).floor().clamp(0.0, last);
        let j = ((y - self.y0) / self.dy).floor().clamp(0.0, last);
        (i as usize, j as usize)
    }

    /// What the grid knows of a point: Some(district or OUTSIDE), or None near a
    /// boundary.
    fn lookup(&self, x: f64, y: f64) -> Option<u32> {
        let (fx, fy) = ((x - self.x0) / self.dx, (y - self.y0) / self.dy);
        // beyond the grid (its margin cells lie outside every district's box)
        let n = Self::N as f64;
        if !(fx >= 0.0 && fy >= 0.0 && fx < n && fy < n) {
            return Some(OUTSIDE);
        }
        let c = self.cell[fy as usize * Self::N + fx as usize];
        (c != NEAR_BOUNDARY).then_some(c)
    }
}

impl DistrictIndex {
    pub fn new(districts: Vec<District>) -> DistrictIndex {
        let tree = box_tree(districts.iter().map(|d| d.shape.bounding_rect()));
        let mut idx = DistrictIndex {
            districts,
            tree,
            cells: None,
        };
        idx.cells = CellGrid::new(&idx.districts, |x, y| idx.locate_exact(x, y));
        idx
    }

    pub fn is_empty(&self) -> bool {
        self.districts.is_empty()
    }

    /// The district containing the point. A point on a border shared by several districts
    /// belongs to the one listed first in the file, so it is counted exactly once.
    pub fn locate(&self, lon: f64, lat: f64) -> Option<usize> {
        match self.cells.as_ref().and_then(|g| g.lookup(lon, lat)) {
            Some(OUTSIDE) => None,
            Some(k) => Some(k as usize),
            None => self.locate_exact(lon, lat),
        }
    }

    /// `locate` by the polygons alone.
    fn locate_exact(&self, lon: f64, lat: f64) -> Option<usize> {
        let p = Point::new(lon, lat);
        self.tree
            .locate_all_at_point(&[lon, lat])
            .map(|g| g.data)
            .filter(|&i| self.districts[i].shape.intersects(&p))
            .min()
    }

    /// The nearest district within `tolerance_m` of a point outside all of them.
    pub fn nearest_within(&self, lon: f64, lat: f64, tolerance_m: f64) -> Option<(usize, f64)> {
        if tolerance_m <= 0.0 {
            return None;
        }
        let dlat = tolerance_m / 111_000.0 * 1.1;
        let dlon = dlat / lat.to_radians().cos().max(0.01);
        let env = AABB::from_corners([lon - dlon, lat - dlat], [lon + dlon, lat + dlat]);
        let p = Point::new(lon, lat);
        let mut best: Option<(usize, f64)> = None;
        let mut cands: Vec<usize> = self
            .tree
            .locate_in_envelope_intersecting(&env)
            .map(|g| g.data)
            .collect();
        cands.sort_unstable();
        for i in cands {
            let d = match self.districts[i].shape.haversine_closest_point(&p) {
                Closest::Intersection(_) => 0.0,
                Closest::SinglePoint(q) => haversine_m(lon, lat, q.x(), q.y()),
                Closest::Indeterminate => continue,
            };
            if d <= tolerance_m && best.is_none_or(|(_, b)| d < b) {
                best = Some((i, d));
            }
        }
        best
    }

    /// Union bbox of all districts.
    pub fn bbox(&self) -> Option<[f64; 4]> {
        self.districts
            .iter()
            .filter_map(|d| d.bbox())
            .reduce(|a, b| {
                [
                    a[0].min(b[0]),
                    a[1].min(b[1]),
                    a[2].max(b[2]),
                    a[3].max(b[3]),
                ]
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testutil::lcg;

    fn points(n: usize) -> Vec<(f64, f64)> {
        let mut s = 7;
        (0..n)
            .map(|_| (116.2 + 1.8 * lcg(&mut s), 36.0 + 1.5 * lcg(&mut s)))
            .collect()
    }

    #[test]
    fn radius_query_equals_brute_force() {
        let pts = points(3000);
        let idx = PointIndex::new(&pts);
        let mut s = 99;
        for _ in 0..50 {
            let (x, y) = (116.2 + 1.8 * lcg(&mut s), 36.0 + 1.5 * lcg(&mut s));
            let r = 500.0 + 5000.0 * lcg(&mut s);
            let got: Vec<usize> = idx.within(x, y, r).iter().map(|h| h.idx).collect();
            let mut want: Vec<(f64, usize)> = pts
                .iter()
                .enumerate()
                .map(|(i, &(a, b))| (haversine_m(x, y, a, b), i))
                .filter(|(d, _)| *d <= r)
                .collect();
            want.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            assert_eq!(got, want.iter().map(|w| w.1).collect::<Vec<_>>());
        }
    }

    /// The cell grid answers exactly what testing every district polygon answers: for
    /// random points over Jinan and beyond, for every boundary vertex and edge midpoint
    /// (on a border), and for points a hair to either side of them.
    #[test]
    fn district_cells_match_every_polygon() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../data/sample/jinan_districts_gcj02.geojson"
        );
        let districts = crate::ingest::boundaries::read_boundaries(
            std::path::Path::new(path),
            crate::crs::Crs::Gcj02,
            "name",
            "adcode",
        )
        .unwrap();
        let idx = DistrictIndex::new(districts);
        assert!(idx.cells.is_some() && idx.districts.len() >= 10);
        let brute = |x: f64, y: f64| {
            let p = Point::new(x, y);
            (0..idx.districts.len()).find(|&i| idx.districts[i].shape.intersects(&p))
        };
        let b = idx.bbox().unwrap();
        let (w, h) = (b[2] - b[0], b[3] - b[1]);
        let mut probes = Vec::new();
        let mut s = 11;
        for _ in 0..60_000 {
            probes.push((
                b[0] - 0.1 * w + 1.2 * w * lcg(&mut s),
                b[1] - 0.1 * h + 1.2 * h * lcg(&mut s),
            ));
        }
        for d in idx.districts.iter() {
            for poly in &d.shape.0 {
                for l in poly.exterior().lines().step_by(7) {
                    let m = ((l.start.x + l.end.x) / 2.0, (l.start.y + l.end.y) / 2.0);
                    for (x, y) in [(l.start.x, l.start.y), m] {
                        for (ex, ey) in [
                            (0.0, 0.0),
                            (1e-9, 0.0),
                            (-1e-9, 0.0),
                            (0.0, 1e-9),
                            (0.0, -1e-9),
                            (3e-4, 2e-4),
                            (-2e-4, -3e-4),
                        ] {
                            probes.push((x + ex, y + ey));
                        }
                    }
                }
            }
        }
        let mut inside = 0;
        for &(x, y) in &probes {
            let want = brute(x, y);
            assert_eq!(idx.locate(x, y), want, "({x}, {y})");
            inside += usize::from(want.is_some());
        }
        // most random points fall in a cell the grid answers alone
        let g = idx.cells.as_ref().unwrap();
        let known = probes[..60_000]
            .iter()
            .filter(|p| g.lookup(p.0, p.1).is_some())
            .count();
        assert!(
            inside > 20_000 && known > 50_000,
            "inside {inside}, known {known}"
        );
    }

    #[test]
    fn nearest_equals_brute_force() {
        let pts = points(2000);
        let idx = PointIndex::new(&pts);
        let mut s = 5;
        for _ in 0..50 {
            let (x, y) = (116.2 + 1.8 * lcg(&mut s), 36.0 + 1.5 * lcg(&mut s));
            let got: Vec<f64> = idx.nearest(x, y, 7).iter().map(|h| h.distance_m).collect();
            let mut d: Vec<f64> = pts.iter().map(|&(a, b)| haversine_m(x, y, a, b)).collect();
            d.sort_by(f64::total_cmp);
            assert_eq!(got.len(), 7, "seven asked, 2000 there");
            for (g, w) in got.iter().zip(&d[..7]) {
                assert!((g - w).abs() < 1e-6, "{g} vs {w}");
            }
        }
    }

    #[test]
    fn bbox_equals_brute_force() {
        let pts = points(3000);
        let idx = PointIndex::new(&pts);
        let mut s = 11;
        for _ in 0..50 {
            let (a, b) = (116.2 + 1.8 * lcg(&mut s), 36.0 + 1.5 * lcg(&mut s));
            let (c, d) = (a + 0.5 * lcg(&mut s), b + 0.4 * lcg(&mut s));
            let got = idx.in_bbox(a, b, c, d);
            let want: Vec<usize> = (0..pts.len())
                .filter(|&i| pts[i].0 >= a && pts[i].0 <= c && pts[i].1 >= b && pts[i].1 <= d)
                .collect();
            assert_eq!(got, want);
        }
    }
}
