//! Vector-tile geometry in world coordinates (Web Mercator as fractions of the world, y
//! down): vertex importance for simplification, clipping to a tile's buffered box, and
//! the command encoding of MVT 2.1 §4.3.
//!
//! Hand-written, after mapbox/geojson-vt: simplification is computed once per ring (each
//! vertex keeps the squared distance at which Douglas–Peucker would drop it), so every
//! zoom keeps the vertices above its own tolerance and neighbouring tiles agree along
//! their edges; clipping is Sutherland–Hodgman against one axis-aligned half-plane at a
//! time, each tile clipping its parent's pieces. `geo`'s `Simplify` gives one tolerance
//! per call (tiles cut from separately simplified pieces would not meet) and its boolean
//! ops clip general polygons, which a tile rectangle does not need.

/// A vertex: x, y (world units) and its importance (squared world distance; `INF` = kept
/// at every zoom: ring ends and the points a clip adds).
pub type V = [f64; 3];
pub const KEEP: f64 = f64::INFINITY;

/// Polygons: each is an exterior ring followed by its holes, every ring closed.
pub type Polys = Vec<Vec<Vec<V>>>;

/// Importance of every vertex of a closed ring (Douglas–Peucker order, iterative).
/// Vertices below `floor` (the finest tolerance any zoom uses) keep 0.
pub fn importance(ring: &mut [V], floor: f64) {
    let n = ring.len();
    if n == 0 {
        return;
    }
    ring[0][2] = KEEP;
    ring[n - 1][2] = KEEP;
    let mut stack = vec![(0usize, n - 1)];
    while let Some((first, last)) = stack.pop() {
        if last <= first + 1 {
            continue;
        }
        let (mut best, mut idx) = (floor, 0usize);
        let (a, b) = (ring[first], ring[last]);
        for (i, p) in ring.iter().enumerate().take(last).skip(first + 1) {
            let d = seg_dist2(p, &a, &b);
            if d > best {
                best = d;
                idx = i;
            }
        }
        if idx > 0 {
            ring[idx][2] = best;
            stack.push((first, idx));
            stack.push((idx, last));
        }
    }
}

/// Squared distance from `p` to the segment a–b (to a when a = b).
fn seg_dist2(p: &V, a: &V, b: &V) -> f64 {
    let (mut x, mut y) = (a[0], a[1]);
    let (dx, dy) = (b[0] - x, b[1] - y);
    if dx != 0.0 || dy != 0.0 {
        let t = ((p[0] - x) * dx + (p[1] - y) * dy) / (dx * dx + dy * dy);
        if t > 1.0 {
            x = b[0];
            y = b[1];
        } else if t > 0.0 {
            x += dx * t;
            y += dy * t;
        }
    }
    let (ex, ey) = (p[0] - x, p[1] - y);
    ex * ex + ey * ey
}

/// Bounding box (min x, min y, max x, max y) of rings.
pub fn bbox<'a>(rings: impl IntoIterator<Item = &'a Vec<V>>) -> [f64; 4] {
    let mut b = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for r in rings {
        for p in r {
            b[0] = b[0].min(p[0]);
            b[1] = b[1].min(p[1]);
            b[2] = b[2].max(p[0]);
            b[3] = b[3].max(p[1]);
        }
    }
    b
}

/// Keep the part of a closed ring on one side of `v = k` on `axis` (0 = x, 1 = y):
/// `upper` keeps v ≥ k, else v ≤ k. The result is closed, or empty.
fn clip_half(ring: &[V], axis: usize, k: f64, upper: bool) -> Vec<V> {
    let inside = |p: &V| if upper { p[axis] >= k } else { p[axis] <= k };
    let mut out: Vec<V> = Vec::with_capacity(ring.len() + 4);
    for w in ring.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        let (ia, ib) = (inside(a), inside(b));
        if ia {
            out.push(*a);
        }
        if ia != ib {
            let t = (k - a[axis]) / (b[axis] - a[axis]);
            let o = 1 - axis;
            let mut p = [0.0; 3];
            p[axis] = k;
            p[o] = a[o] + t * (b[o] - a[o]);
            p[2] = KEEP;
            out.push(p);
        }
    }
    if let (Some(f), Some(l)) = (out.first().copied(), out.last()) {
        if f[0] != l[0] || f[1] != l[1] {
            out.push(f);
        }
    }
    if out.len() < 4 {
        out.clear();
    }
    out
}

/// Clip polygons to a box (min x, min y, max x, max y). Rings wholly inside are kept
/// as they are; a polygon whose exterior vanishes is dropped with its holes.
pub fn clip_polys(polys: &Polys, b: [f64; 4]) -> Polys {
    let mut out = Vec::new();
    for poly in polys {
        let mut rings: Vec<Vec<V>> = Vec::with_capacity(poly.len());
        for (i, ring) in poly.iter().enumerate() {
            let rb = bbox([ring]);
            let clipped = if rb[0] >= b[0] && rb[2] <= b[2] && rb[1] >= b[1] && rb[3] <= b[3] {
                ring.clone()
            } else if rb[2] < b[0] || rb[0] > b[2] || rb[3] < b[1] || rb[1] > b[3] {
                Vec::new()
            } else {
                let mut r = clip_half(ring, 0, b[0], true);
                if !r.is_empty() {
                    r = clip_half(&r, 0, b[2], false);
                }
                if !r.is_empty() {
                    r = clip_half(&r, 1, b[1], true);
                }
                if !r.is_empty() {
                    r = clip_half(&r, 1, b[3], false);
                }
                r
            };
            if clipped.is_empty() {
                if i == 0 {
                    break;
                }
                continue;
            }
            rings.push(clipped);
        }
        if !rings.is_empty() {
            out.push(rings);
        }
    }
    out
}

/// Zig-zag encoding of a command parameter.
fn zz(v: i64) -> u32 {
    ((v << 1) ^ (v >> 63)) as u32
}

fn command(id: u32, count: u32) -> u32 {
    (id & 0x7) | (count << 3)
}

/// Encode a point at tile coordinates.
pub fn point_commands(x: i64, y: i64) -> Vec<u32> {
    vec![command(1, 1), zz(x), zz(y)]
}

/// Twice the signed area (surveyor's formula) of a ring in tile coordinates, open or
/// closed: positive is clockwise on screen (y down), an exterior ring in MVT 2.1.
fn area2(r: &[(i64, i64)]) -> i64 {
    let n = r.len();
    (0..n)
        .map(|i| {
            let (a, b) = (r[i], r[(i + 1) % n]);
            a.0 * b.1 - b.0 * a.1
        })
        .sum()
}

/// Where a ring (open, repeated points and inner spikes removed) closes: drop the
/// closing point and spikes across the seam.
fn despike_wrap(r: &mut Vec<(i64, i64)>) {
    loop {
        while r.len() > 1 && r.first() == r.last() {
            r.pop();
        }
        let n = r.len();
        if n >= 3 && r[n - 2] == r[0] {
            // … A, X | A, …: X is a spike
            r.truncate(n - 1);
            continue;
        }
        if n >= 3 && r[1] == r[n - 1] {
            // … B | X, B, …: X is a spike
            r.remove(0);
            continue;
        }
        break;
    }
}

/// Encode polygons for a tile: vertices above `sq_tol` (squared world units) kept,
/// quantized by `q`, repeated points removed, rings smaller than `min_area2` (twice the
/// area, tile units²) dropped (a polygon with its exterior), winding set as MVT 2.1
/// wants (exterior clockwise on screen, holes counter-clockwise). None when nothing is
/// left.
pub fn polygon_commands(
    polys: &Polys,
    sq_tol: f64,
    q: &dyn Fn(f64, f64) -> (i64, i64),
    min_area2: i64,
) -> Option<Vec<u32>> {
    let mut out = Vec::new();
    let mut cur = (0i64, 0i64);
    for poly in polys {
        let mut kept: Vec<Vec<(i64, i64)>> = Vec::with_capacity(poly.len());
        for (i, ring) in poly.iter().enumerate() {
            let mut r: Vec<(i64, i64)> = Vec::with_capacity(ring.len());
            for p in ring {
                if p[2] > sq_tol {
                    let v = q(p[0], p[1]);
                    // repeated points dropped, and spikes (A, B, A → A): clipping along
                    // a tile edge and quantizing leave zero-width ones
                    if r.last() == Some(&v) {
                        continue;
                    }
                    if r.len() >= 2 && r[r.len() - 2] == v {
                        r.pop();
                        continue;
                    }
                    r.push(v);
                }
            }
            despike_wrap(&mut r);
            let a = if r.len() >= 3 { area2(&r) } else { 0 };
            if a.abs() < min_area2.max(1) {
                if i == 0 {
                    break;
                }
                continue;
            }
            // exterior: positive (clockwise on screen); holes: negative
            if (i == 0) != (a > 0) {
                r.reverse();
            }
            kept.push(r);
        }
        // a tile inside a hole clips the exterior and the hole to the same square:
        // nothing is left to draw
        let net: i64 = kept.iter().map(|r| area2(r)).sum();
        if net < min_area2.max(1) {
            continue;
        }
        for r in kept {
            out.push(command(1, 1));
            out.push(zz(r[0].0 - cur.0));
            out.push(zz(r[0].1 - cur.1));
            cur = r[0];
            out.push(command(2, (r.len() - 1) as u32));
            for &p in &r[1..] {
                out.push(zz(p.0 - cur.0));
                out.push(zz(p.1 - cur.1));
                cur = p;
            }
            out.push(command(7, 1));
        }
    }
    (!out.is_empty()).then_some(out)
}

/// The positions a geometry's commands visit (for tests).
#[cfg(test)]
pub(crate) fn decode_commands(c: &[u32]) -> Vec<(i64, i64)> {
    let mut pts = vec![];
    let (mut x, mut y) = (0i64, 0i64);
    let unz = |v: u32| ((v >> 1) as i64) ^ -((v & 1) as i64);
    let mut i = 0;
    while i < c.len() {
        let (id, n) = (c[i] & 7, c[i] >> 3);
        i += 1;
        if id == 7 {
            continue;
        }
        for _ in 0..n {
            x += unz(c[i]);
            y += unz(c[i + 1]);
            pts.push((x, y));
            i += 2;
        }
    }
    pts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(pts: &[(f64, f64)]) -> Vec<V> {
        let mut r: Vec<V> = pts.iter().map(|&(x, y)| [x, y, 0.0]).collect();
        r.push(r[0]);
        importance(&mut r, 0.0);
        r
    }

    #[test]
    fn clip_square_to_box() {
        let sq = vec![vec![ring(&[
            (0.0, 0.0),
            (4.0, 0.0),
            (4.0, 4.0),
            (0.0, 4.0),
        ])]];
        let c = clip_polys(&sq, [1.0, 1.0, 2.0, 3.0]);
        assert_eq!(c.len(), 1);
        let b = bbox(&c[0]);
        assert_eq!(b, [1.0, 1.0, 2.0, 3.0]);
        // outside: nothing
        assert!(clip_polys(&sq, [5.0, 5.0, 6.0, 6.0]).is_empty());
    }

    #[test]
    fn winding_and_commands() {
        // counter-clockwise on screen given: reversed to clockwise
        let sq = vec![vec![ring(&[
            (0.0, 0.0),
            (0.0, 10.0),
            (10.0, 10.0),
            (10.0, 0.0),
        ])]];
        let q = |x: f64, y: f64| (x.round() as i64, y.round() as i64);
        let c = polygon_commands(&sq, -1.0, &q, 0).unwrap();
        // MoveTo(1) + 2 params, LineTo(3) + 6 params, ClosePath
        assert_eq!(c.len(), 11);
        assert_eq!(c[0], 9);
        assert_eq!(c[3], 2 | (3 << 3));
        assert_eq!(c[10], 15);
        // decode and check the winding
        assert!(area2(&decode_commands(&c)) > 0);
    }

    #[test]
    fn spikes_are_removed() {
        let mut r = vec![(0, 0), (10, 0), (10, 10), (5, 10), (5, 8)];
        // the closing stretch (5, 10) → (5, 8) → back to (0, 0): no spike
        despike_wrap(&mut r);
        assert_eq!(r.len(), 5);
        let sq = vec![vec![ring(&[
            (0.0, 0.0),
            (10.0, 0.0),
            (10.0, 10.0),
            (5.0, 10.0),
            (5.0, 7.0),
            (5.0, 10.0),
            (0.0, 10.0),
        ])]];
        let q = |x: f64, y: f64| (x.round() as i64, y.round() as i64);
        let c = polygon_commands(&sq, -1.0, &q, 0).unwrap();
        // the spike (5, 10) → (5, 7) → (5, 10) gone: five points left (the collinear
        // (5, 10) too, with every vertex kept here): MoveTo + LineTo(4) + ClosePath
        assert_eq!(c.len(), 13, "{c:?}");
        assert!(!c.contains(&zz(-3)) && !c.contains(&zz(3)), "{c:?}");
    }

    #[test]
    fn simplification_keeps_ends_and_corners() {
        // a square with a midpoint on one side: the midpoint matters least
        let r = ring(&[
            (0.0, 0.0),
            (5.0, 0.0),
            (10.0, 0.0),
            (10.0, 10.0),
            (0.0, 10.0),
        ]);
        assert_eq!(r[0][2], KEEP);
        assert_eq!(r[1][2], 0.0);
        assert!(r[2][2] > 0.0 && r[3][2] > 0.0 && r[4][2] > 0.0);
    }
}
