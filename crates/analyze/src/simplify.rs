//! Topology-preserving Visvalingam–Whyatt simplification of zone polygons: geo 0.33's
//! `simplify_vw_preserve` (itself a port of Jason Davies' technique), step for step, with
//! its R*-tree of segments replaced by a uniform grid.
//!
//! Why not geo's own: every removed vertex takes two segments out of the index and puts
//! one back, and rstar's removal walks the tree through a draining iterator — on the
//! peer's 100k clustered points that removal alone was over a quarter of the zones stage,
//! whose large merged zones lose hundreds of thousands of vertices. A grid removes and
//! inserts a segment in the few cells its bounding box covers. Everything else is geo's:
//! the same min-heap of triangle areas in the same push order, the same rules for
//! self-intersections and minimum sizes, geo's own triangle area and segment
//! intersection; so the output is geo's to the bit (`same_as_geo`).

use geo::{Area, BoundingRect, Coord, Intersects, Line, LineString, Polygon, Triangle};
use riskmap_core::geom::segments::SegmentGrid;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// A candidate for removal: the triangle of a vertex and its retained neighbours.
struct VScore {
    left: usize,
    current: usize,
    right: usize,
    area: f64,
    /// Whether removing `current` made the new segment cross another.
    intersector: bool,
}

// a min-heap on the area, as geo orders it
impl Ord for VScore {
    fn cmp(&self, other: &VScore) -> Ordering {
        other
            .area
            .partial_cmp(&self.area)
            .unwrap_or(Ordering::Equal)
    }
}

impl PartialOrd for VScore {
    fn partial_cmp(&self, other: &VScore) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Eq for VScore {}

impl PartialEq for VScore {
    fn eq(&self, other: &VScore) -> bool {
        self.area == other.area
    }
}

/// Simplify a polygon's rings (the exterior first, then the holes, against one shared
/// index so that no ring comes to cross another): geo's `Polygon::simplify_vw_preserve`.
pub fn vw_preserve(p: &Polygon<f64>, epsilon: f64) -> Polygon<f64> {
    let rings: Vec<&LineString<f64>> = std::iter::once(p.exterior()).chain(p.interiors()).collect();
    let mut grid = SegmentGrid::new(&rings);
    let mut out: Vec<LineString<f64>> = rings
        .iter()
        .map(|r| LineString::new(ring(r, epsilon, &mut grid)))
        .collect();
    let exterior = out.remove(0);
    Polygon::new(exterior, out)
}

/// geo's polygon constants: stop below INITIAL_MIN points, and do not remove a vertex
/// whose removal crosses a segment once only MIN_POINTS are left.
const INITIAL_MIN: usize = 4;
const MIN_POINTS: usize = 5;

/// geo's `visvalingam_preserve` on one ring.
fn ring(orig: &LineString<f64>, epsilon: f64, grid: &mut SegmentGrid) -> Vec<Coord<f64>> {
    let pts = &orig.0;
    if pts.len() < 3 || epsilon <= 0.0 {
        return pts.to_vec();
    }
    let max = pts.len();
    let mut counter = max;
    // retained neighbours of each point as a linked list; (0, 0) marks a removed one
    let mut adjacent: Vec<(i32, i32)> = (0..max)
        .map(|i| {
            if i == 0 {
                (-1, 1)
            } else {
                ((i - 1) as i32, (i + 1) as i32)
            }
        })
        .collect();
    let mut pq: BinaryHeap<VScore> = orig
        .triangles()
        .enumerate()
        .map(|(i, t)| VScore {
            area: t.unsigned_area(),
            current: i + 1,
            left: i,
            right: i + 2,
            intersector: false,
        })
        .collect();
    while let Some(mut smallest) = pq.pop() {
        if smallest.area > epsilon || counter <= INITIAL_MIN {
            break;
        }
        let (left, right) = adjacent[smallest.current];
        // a neighbour was removed since this triangle was scored
        if left != smallest.left as i32 || right != smallest.right as i32 {
            continue;
        }
        smallest.intersector = crosses(grid, &smallest, pts);
        if smallest.intersector && counter <= MIN_POINTS {
            break;
        }
        let (ll, _) = adjacent[left as usize];
        let (_, rr) = adjacent[right as usize];
        adjacent[left as usize] = (ll, right);
        adjacent[right as usize] = (left, rr);
        adjacent[smallest.current] = (0, 0);
        counter -= 1;
        let (l, m, r) = (
            pts[left as usize],
            pts[smallest.current],
            pts[right as usize],
        );
        let removed = grid.remove(l, m) && grid.remove(m, r);
        debug_assert!(removed, "a retained segment is in the grid");
        grid.insert(l, r);
        // rescore the neighbours' triangles; after a crossing, the vertex before goes
        // next (its area demoted to −ε)
        for (a, c, b) in [(ll, left, right), (left, right, rr)] {
            if a as usize >= max || b as usize >= max {
                continue;
            }
            let area =
                Triangle::new(pts[a as usize], pts[c as usize], pts[b as usize]).unsigned_area();
            let area = if smallest.intersector && (c as usize) < smallest.current {
                -epsilon
            } else {
                area
            };
            pq.push(VScore {
                area,
                current: c as usize,
                left: a as usize,
                right: b as usize,
                intersector: false,
            });
        }
    }
    pts.iter()
        .zip(&adjacent)
        .filter_map(|(c, adj)| (*adj != (0, 0)).then_some(*c))
        .collect()
}

/// Whether the segment that removing `t.current` leaves crosses a segment (other than
/// those sharing an end with it) whose box meets the triangle's box.
fn crosses(grid: &SegmentGrid, t: &VScore, pts: &[Coord<f64>]) -> bool {
    let (start, end) = (pts[t.left], pts[t.right]);
    let new = Line::new(start, end);
    let b = Triangle::new(start, pts[t.current], end).bounding_rect();
    grid.any(b.min(), b.max(), |_, a, c| {
        a != start && a != end && c != start && c != end && new.intersects(&Line::new(a, c))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::SimplifyVwPreserve;

    /// A ring of n points around (cx, cy): radius wobbling with a deterministic hash, so
    /// neighbours are nearly collinear (removable) with spikes and notches between.
    fn wobbly(cx: f64, cy: f64, r: f64, n: usize, seed: u64, clockwise: bool) -> LineString<f64> {
        let mut h = seed;
        let mut pts: Vec<Coord<f64>> = (0..n)
            .map(|i| {
                h = h
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let j = ((h >> 33) as f64 / (1u64 << 31) as f64 - 0.5) * 0.08 * r;
                let spike = if i % 37 == 0 { 0.3 * r } else { 0.0 };
                let a = i as f64 / n as f64 * std::f64::consts::TAU;
                let rr = r + j - spike + 0.15 * r * (5.0 * a).sin();
                Coord {
                    x: cx + rr * a.cos(),
                    y: cy + rr * a.sin(),
                }
            })
            .collect();
        if clockwise {
            pts.reverse();
        }
        pts.push(pts[0]);
        LineString::new(pts)
    }

    /// geo's own `simplify_vw_preserve` is the oracle: the same rings, point for point.
    #[test]
    fn same_as_geo() {
        let mut cases = vec![];
        for (k, n) in [5usize, 12, 80, 400, 3000].into_iter().enumerate() {
            let seed = k as u64 * 7919 + 1;
            cases.push(Polygon::new(
                wobbly(0.0, 0.0, 1000.0, n, seed, false),
                vec![],
            ));
            // holes close to the shell and to each other: removals are refused or
            // demoted where a simplified ring would cross its neighbour
            let holes = vec![
                wobbly(-300.0, 0.0, 250.0, n / 2 + 4, seed + 1, true),
                wobbly(300.0, 50.0, 260.0, n / 2 + 4, seed + 2, true),
                wobbly(0.0, 560.0, 200.0, n / 3 + 4, seed + 3, true),
            ];
            cases.push(Polygon::new(
                wobbly(0.0, 0.0, 1000.0, n, seed, false),
                holes,
            ));
        }
        // a comb: long thin teeth whose tips are cheap to cut but would cross
        let mut comb = vec![Coord { x: 0.0, y: 0.0 }];
        for i in 0..60 {
            let x = i as f64 * 10.0;
            comb.extend([
                Coord { x: x + 1.0, y: 0.0 },
                Coord {
                    x: x + 1.0,
                    y: 100.0,
                },
                Coord {
                    x: x + 6.0,
                    y: 100.3,
                },
                Coord { x: x + 6.0, y: 0.0 },
            ]);
        }
        comb.extend([Coord { x: 600.0, y: -10.0 }, Coord { x: 0.0, y: -10.0 }]);
        comb.push(comb[0]);
        cases.push(Polygon::new(LineString::new(comb), vec![]));
        let mut removed = 0;
        for p in &cases {
            for eps in [0.5, 25.0, 400.0, 5000.0] {
                let ours = vw_preserve(p, eps);
                let geo = p.simplify_vw_preserve(eps);
                assert_eq!(ours, geo, "eps {eps}, {} points", p.exterior().0.len());
                removed += p.exterior().0.len() - ours.exterior().0.len();
            }
        }
        // the cases do simplify (the test is not comparing untouched rings)
        assert!(removed > 5000, "{removed}");
    }
}
