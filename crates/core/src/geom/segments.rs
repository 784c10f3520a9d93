//! The segments of polygon rings in a uniform grid, for the zone polygons' simplification
//! (`simplify`, which removes and inserts segments as it goes) and validity checks
//! (`valid`): the few segments near a box are found without a tree.
//!
//! Hand-written because rstar, the R-tree the project uses elsewhere, removes an element
//! through a draining walk of the tree, which was over a quarter of the zones stage when
//! geo's simplification used it.

use geo::{Coord, LineString};

/// The segments of a polygon's rings in a uniform grid: each segment is listed in every
/// cell its bounding box covers, so any segment whose box meets a query box is found in a
/// cell the query covers.
pub struct SegmentGrid {
    x0: f64,
    y0: f64,
    /// 1 / cell side.
    inv: f64,
    nx: usize,
    ny: usize,
    cells: Vec<Vec<u32>>,
    /// Segment slots (start, end); freed slots are reused.
    segs: Vec<(Coord<f64>, Coord<f64>)>,
    free: Vec<u32>,
}

impl SegmentGrid {
    pub fn new(rings: &[&LineString<f64>]) -> SegmentGrid {
        let (mut minx, mut miny, mut maxx, mut maxy) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        let mut n = 0usize;
        for r in rings {
            for c in &r.0 {
                minx = minx.min(c.x);
                miny = miny.min(c.y);
                maxx = maxx.max(c.x);
                maxy = maxy.max(c.y);
            }
            n += r.0.len().saturating_sub(1);
        }
        if n == 0 || !(minx <= maxx && miny <= maxy) {
            (minx, miny, maxx, maxy) = (0.0, 0.0, 1.0, 1.0);
        }
        // about two segments per cell, at most 2048 cells a side
        let (w, h) = ((maxx - minx).max(1e-9), (maxy - miny).max(1e-9));
        let side = ((w * h) / (n.max(1) as f64 / 2.0).max(1.0))
            .sqrt()
            .max(w / 2048.0)
            .max(h / 2048.0);
        let inv = 1.0 / side;
        let nx = ((w * inv) as usize + 1).min(2048);
        let ny = ((h * inv) as usize + 1).min(2048);
        let mut g = SegmentGrid {
            x0: minx,
            y0: miny,
            inv,
            nx,
            ny,
            cells: vec![Vec::new(); nx * ny],
            segs: Vec::with_capacity(n),
            free: Vec::new(),
        };
        for r in rings {
            for w in r.0.windows(2) {
                g.insert(w[0], w[1]);
            }
        }
        g
    }

    /// Cells covering the box (clamped to the grid: points outside it fall in its edge
    /// cells, monotonically, so boxes that meet still share a cell).
    #[inline]
    fn span(&self, lo: Coord<f64>, hi: Coord<f64>) -> (usize, usize, usize, usize) {
        let cx = |x: f64| (((x - self.x0) * self.inv).max(0.0) as usize).min(self.nx - 1);
        let cy = |y: f64| (((y - self.y0) * self.inv).max(0.0) as usize).min(self.ny - 1);
        (cx(lo.x), cy(lo.y), cx(hi.x), cy(hi.y))
    }

    /// A segment's bounding box (min, max).
    pub fn bounds(a: Coord<f64>, b: Coord<f64>) -> (Coord<f64>, Coord<f64>) {
        (
            Coord {
                x: a.x.min(b.x),
                y: a.y.min(b.y),
            },
            Coord {
                x: a.x.max(b.x),
                y: a.y.max(b.y),
            },
        )
    }

    pub fn insert(&mut self, a: Coord<f64>, b: Coord<f64>) {
        let id = match self.free.pop() {
            Some(id) => {
                self.segs[id as usize] = (a, b);
                id
            }
            None => {
                self.segs.push((a, b));
                (self.segs.len() - 1) as u32
            }
        };
        let (lo, hi) = Self::bounds(a, b);
        let (c0, r0, c1, r1) = self.span(lo, hi);
        for r in r0..=r1 {
            for c in c0..=c1 {
                self.cells[r * self.nx + c].push(id);
            }
        }
    }

    /// Remove one segment from `a` to `b`; whether there was one.
    pub fn remove(&mut self, a: Coord<f64>, b: Coord<f64>) -> bool {
        let (lo, hi) = Self::bounds(a, b);
        let (c0, r0, c1, r1) = self.span(lo, hi);
        let first = &self.cells[r0 * self.nx + c0];
        let Some(&id) = first.iter().find(|&&i| self.segs[i as usize] == (a, b)) else {
            return false;
        };
        for r in r0..=r1 {
            for c in c0..=c1 {
                let cell = &mut self.cells[r * self.nx + c];
                if let Some(k) = cell.iter().position(|&i| i == id) {
                    cell.swap_remove(k);
                }
            }
        }
        self.free.push(id);
        true
    }

    /// Whether a segment whose bounding box meets [lo, hi] satisfies `f(id, start,
    /// end)` (ids are the order of insertion while nothing is removed: a fresh grid's
    /// segment i is ring segment i, the rings one after another).
    pub fn any(
        &self,
        lo: Coord<f64>,
        hi: Coord<f64>,
        mut f: impl FnMut(usize, Coord<f64>, Coord<f64>) -> bool,
    ) -> bool {
        let (c0, r0, c1, r1) = self.span(lo, hi);
        for r in r0..=r1 {
            for c in c0..=c1 {
                for &i in &self.cells[r * self.nx + c] {
                    let (a, b) = self.segs[i as usize];
                    let (slo, shi) = Self::bounds(a, b);
                    if slo.x <= hi.x
                        && lo.x <= shi.x
                        && slo.y <= hi.y
                        && lo.y <= shi.y
                        && f(i as usize, a, b)
                    {
                        return true;
                    }
                }
            }
        }
        false
    }
}
