//! Polygon validity for zones: geo 0.33's `Validation::is_valid` for polygons, check for
//! check, with its ring self-intersection test done through a grid of segments.
//!
//! Why not geo's own: it tests every segment of a ring against every other one
//! (`linestring_has_self_intersection`, no bounding-box filter), so a 20,000-vertex zone
//! costs 4 · 10⁸ segment tests; that was over 40 % of the zones stage on the generated
//! 100k register. Segments whose bounding boxes are disjoint cannot intersect (geo's
//! segment test uses exact orientation predicates), so testing only pairs that share a
//! grid cell gives geo's answer (`same_as_geo`). The checks between rings are geo's
//! (`relate` on prepared geometries), skipped only for holes whose boxes are disjoint.

use super::segments::SegmentGrid;
use geo::coordinate_position::CoordPos;
use geo::dimensions::{Dimensions, HasDimensions};
use geo::{BoundingRect, Intersects, Line, LineString, Polygon, PreparedGeometry, Relate};
use geo::{Rect, RemoveRepeatedPoints};

/// Whether geo would call the polygon valid.
pub fn is_valid(p: &Polygon<f64>) -> bool {
    if p.is_empty() {
        return true;
    }
    for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
        if ring.is_empty() {
            continue;
        }
        if ring.remove_repeated_points().0.len() < 4
            || self_intersects(ring)
            || ring.0.iter().any(|c| !c.x.is_finite() || !c.y.is_finite())
        {
            return false;
        }
    }
    let holes: Vec<&LineString<f64>> = p.interiors().iter().filter(|h| !h.is_empty()).collect();
    if holes.is_empty() {
        return true;
    }
    let exterior = Polygon::new(p.exterior().clone(), vec![]);
    let exterior = PreparedGeometry::from(&exterior);
    let boxes: Vec<Option<Rect<f64>>> = holes.iter().map(|h| h.bounding_rect()).collect();
    for (i, h1) in holes.iter().enumerate() {
        let h1 = Polygon::new((*h1).clone(), vec![]);
        let h1 = PreparedGeometry::from(&h1);
        let m = exterior.relate(&h1);
        // the hole inside the shell, touching its boundary at points at most
        if !m.is_contains()
            || m.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional
        {
            return false;
        }
        for (j, h2) in holes.iter().enumerate().skip(i + 1) {
            if !boxes[i].is_some_and(|a| boxes[j].is_some_and(|b| a.intersects(&b))) {
                continue;
            }
            let h2 = Polygon::new((*h2).clone(), vec![]);
            let m = h1.relate(&h2);
            // holes neither overlapping nor sharing a stretch of boundary
            if m.get(CoordPos::Inside, CoordPos::Inside) == Dimensions::TwoDimensional
                || m.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional
            {
                return false;
            }
        }
    }
    true
}

/// geo's `linestring_has_self_intersection`: two segments that intersect other than by
/// one's end being the other's start — tested for the pairs whose boxes meet.
fn self_intersects(ring: &LineString<f64>) -> bool {
    let grid = SegmentGrid::new(&[ring]);
    ring.lines().enumerate().any(|(i, line)| {
        let (lo, hi) = SegmentGrid::bounds(line.start, line.end);
        grid.any(lo, hi, |j, a, b| {
            j != i && line.intersects(&Line::new(a, b)) && line.start != b && line.end != a
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::Coord;
    use geo::Validation;

    fn ring(pts: &[(f64, f64)]) -> LineString<f64> {
        let mut v: Vec<Coord<f64>> = pts.iter().map(|&(x, y)| Coord { x, y }).collect();
        if v.first() != v.last() {
            v.push(v[0]);
        }
        LineString::new(v)
    }

    /// A closed ring of n points around (cx, cy) whose radius wobbles (deterministic);
    /// `fold` > 0 makes every 50th point jump across the ring, so that it self-intersects.
    fn wobbly(cx: f64, cy: f64, r: f64, n: usize, seed: u64, fold: f64) -> LineString<f64> {
        let mut h = seed;
        let pts: Vec<(f64, f64)> = (0..n)
            .map(|i| {
                h = h
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let j = ((h >> 33) as f64 / (1u64 << 31) as f64 - 0.5) * 0.05 * r;
                let a = i as f64 / n as f64 * std::f64::consts::TAU;
                let rr = if fold > 0.0 && i % 50 == 25 {
                    -fold * r
                } else {
                    r + j
                };
                (cx + rr * a.cos(), cy + rr * a.sin())
            })
            .collect();
        ring(&pts)
    }

    /// geo's own `is_valid` is the oracle, on valid and invalid polygons of every kind
    /// its checks look for.
    #[test]
    fn same_as_geo() {
        let sq = |x: f64, y: f64, s: f64| ring(&[(x, y), (x + s, y), (x + s, y + s), (x, y + s)]);
        let mut cases: Vec<Polygon<f64>> = vec![
            Polygon::new(sq(0.0, 0.0, 10.0), vec![]),
            // bow tie
            Polygon::new(
                ring(&[(0.0, 0.0), (10.0, 10.0), (10.0, 0.0), (0.0, 10.0)]),
                vec![],
            ),
            // too few points, and repeated points that leave too few
            Polygon::new(ring(&[(0.0, 0.0), (1.0, 1.0)]), vec![]),
            Polygon::new(
                ring(&[(0.0, 0.0), (0.0, 0.0), (1.0, 0.0), (1.0, 0.0)]),
                vec![],
            ),
            // a spike (a segment doubling back on itself)
            Polygon::new(
                ring(&[
                    (0.0, 0.0),
                    (10.0, 0.0),
                    (10.0, 5.0),
                    (15.0, 5.0),
                    (10.0, 5.0),
                    (10.0, 10.0),
                ]),
                vec![],
            ),
            // hole inside; hole outside; hole crossing the shell; hole on the shell's edge
            Polygon::new(sq(0.0, 0.0, 10.0), vec![sq(2.0, 2.0, 3.0)]),
            Polygon::new(sq(0.0, 0.0, 10.0), vec![sq(20.0, 2.0, 3.0)]),
            Polygon::new(sq(0.0, 0.0, 10.0), vec![sq(8.0, 2.0, 3.0)]),
            Polygon::new(sq(0.0, 0.0, 10.0), vec![sq(0.0, 2.0, 3.0)]),
            // a hole touching the shell at one point (valid)
            Polygon::new(
                sq(0.0, 0.0, 10.0),
                vec![ring(&[(0.0, 5.0), (3.0, 4.0), (3.0, 6.0)])],
            ),
            // non-finite coordinates
            Polygon::new(
                ring(&[(0.0, 0.0), (f64::NAN, 0.0), (1.0, 1.0), (0.0, 1.0)]),
                vec![],
            ),
            Polygon::new(LineString::new(vec![]), vec![]),
        ];
        // two square holes (corner, side): apart; overlapping; sharing an edge; touching
        // at a corner; nested
        for [a, b] in [
            [(1.0, 1.0, 3.0), (10.0, 10.0, 3.0)],
            [(1.0, 1.0, 5.0), (3.0, 3.0, 5.0)],
            [(1.0, 1.0, 3.0), (4.0, 1.0, 3.0)],
            [(1.0, 1.0, 3.0), (4.0, 4.0, 3.0)],
            [(1.0, 1.0, 9.0), (3.0, 3.0, 2.0)],
        ] {
            let holes = vec![sq(a.0, a.1, a.2), sq(b.0, b.1, b.2)];
            cases.push(Polygon::new(sq(0.0, 0.0, 20.0), holes));
        }
        for (k, n) in [8usize, 60, 500, 4000].into_iter().enumerate() {
            let s = k as u64 * 31 + 7;
            let holes = |fold: f64| {
                vec![
                    wobbly(-300.0, 0.0, 200.0, n / 2 + 4, s + 1, fold),
                    wobbly(300.0, 0.0, 200.0, n / 2 + 4, s + 2, 0.0),
                ]
            };
            cases.push(Polygon::new(wobbly(0.0, 0.0, 1000.0, n, s, 0.0), vec![]));
            cases.push(Polygon::new(
                wobbly(0.0, 0.0, 1000.0, n, s, 0.0),
                holes(0.0),
            ));
            cases.push(Polygon::new(wobbly(0.0, 0.0, 1000.0, n, s, 0.6), vec![]));
            cases.push(Polygon::new(
                wobbly(0.0, 0.0, 1000.0, n, s, 0.0),
                holes(0.5),
            ));
            // holes that overlap each other
            let mut h = holes(0.0);
            h.push(wobbly(-250.0, 0.0, 200.0, n / 2 + 4, s + 3, 0.0));
            cases.push(Polygon::new(wobbly(0.0, 0.0, 1000.0, n, s, 0.0), h));
        }
        let (mut valid, mut invalid) = (0, 0);
        for (k, p) in cases.iter().enumerate() {
            let geo = p.is_valid();
            assert_eq!(is_valid(p), geo, "case {k}");
            if geo {
                valid += 1;
            } else {
                invalid += 1;
            }
        }
        // both answers are exercised
        assert!(
            valid >= 8 && invalid >= 12,
            "{valid} valid, {invalid} invalid"
        );
    }
}
