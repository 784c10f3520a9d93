//! The continuous risk surface: every graded enterprise splats its kernel (weight per
//! level, over its influence radius) into a raster in the region's UTM zone; the surface is
//! classified into the four levels by thresholds fixed for the whole map.
//!
//! Default rule (documented in README): each level's weight is 60 × the level below
//! (blue 1, yellow 60, orange 3,600, red 216,000) and each level's threshold is 2 % of its
//! weight. So a lone enterprise's disc is its own level out to √0.98 of its radius (98 %
//! of π r² with the Epanechnikov kernel, all of it with the Gaussian), its peak never
//! reaches the next level (w < 2 % × 60 w), and two overlapping orange discs (7,200) pass
//! the red threshold (4,320) where they add up to more than 1.2 × one orange peak.
//!
//! Splatting is by row bands in parallel: each band adds, in enterprise order, the
//! enterprises whose disc reaches it — never all cells × all enterprises — and the fixed
//! order makes the sums the same bytes on every run.

use super::Frame;
use crate::params::{Combine, Kernel, SurfaceConfig};
use rayon::prelude::*;
use riskmap_core::dataset::Dataset;
use riskmap_core::model::{Level, Radii};
use riskmap_core::Error;

/// A raster in UTM; row 0 is the southernmost.
pub struct Surface {
    pub utm: riskmap_core::utm::Utm,
    /// Lower-left corner (easting, northing).
    pub x0: f64,
    pub y0: f64,
    pub res: f64,
    pub width: usize,
    pub height: usize,
    /// Surface values, row-major from the south.
    pub values: Vec<f32>,
    /// Class per cell: 0 none, 1 blue, 2 yellow, 3 orange, 4 red.
    pub classes: Vec<u8>,
    /// Thresholds blue, yellow, orange, red.
    pub thresholds: [f64; 4],
}

/// Class id of a level (1 blue … 4 red).
pub fn class_of(l: Level) -> u8 {
    5 - l.rank()
}

/// Level of a class id.
pub fn level_of(c: u8) -> Option<Level> {
    match c {
        1 => Some(Level::Blue),
        2 => Some(Level::Yellow),
        3 => Some(Level::Orange),
        4 => Some(Level::Red),
        _ => None,
    }
}

/// One enterprise's disc in raster units.
#[derive(Clone, Copy)]
pub struct Disc {
    pub idx: usize,
    pub x: f64,
    pub y: f64,
    pub r: f64,
    pub w: f32,
}

const BAND: usize = 32;

impl Surface {
    /// Centre of cell (col, row) in UTM.
    pub fn centre(&self, col: usize, row: usize) -> (f64, f64) {
        (
            self.x0 + (col as f64 + 0.5) * self.res,
            self.y0 + (row as f64 + 0.5) * self.res,
        )
    }

    /// The cell holding a UTM position, if inside.
    pub fn cell_at(&self, x: f64, y: f64) -> Option<(usize, usize)> {
        let c = ((x - self.x0) / self.res).floor();
        let r = ((y - self.y0) / self.res).floor();
        (c >= 0.0 && r >= 0.0 && (c as usize) < self.width && (r as usize) < self.height)
            .then_some((c as usize, r as usize))
    }

    /// Classify a value.
    pub fn classify(&self, v: f64) -> u8 {
        self.thresholds
            .iter()
            .rposition(|t| v >= *t)
            .map(|i| i as u8 + 1)
            .unwrap_or(0)
    }

    /// The cells a disc's bounding box covers within `rows`: (row_lo, row_hi, col_lo,
    /// col_hi), half-open.
    fn disc_box(&self, d: &Disc, rows: std::ops::Range<usize>) -> (usize, usize, usize, usize) {
        let row_lo = (((d.y - d.r - self.y0) / self.res).floor().max(0.0) as usize).max(rows.start);
        let row_hi = (((d.y + d.r - self.y0) / self.res).ceil().max(0.0) as usize)
            .min(rows.end)
            .min(self.height);
        let col_lo = ((d.x - d.r - self.x0) / self.res).floor().max(0.0) as usize;
        let col_hi = (((d.x + d.r - self.x0) / self.res).ceil().max(0.0) as usize).min(self.width);
        (row_lo, row_hi, col_lo, col_hi)
    }

    /// Visit every cell of a disc: (col, row, kernel value in 0..=1).
    pub fn for_disc(
        &self,
        d: &Disc,
        kernel: Kernel,
        rows: std::ops::Range<usize>,
        mut f: impl FnMut(usize, usize, f32),
    ) {
        let r2 = d.r * d.r;
        let (row_lo, row_hi, col_lo, col_hi) = self.disc_box(d, rows);
        for row in row_lo..row_hi {
            let cy = self.y0 + (row as f64 + 0.5) * self.res - d.y;
            for col in col_lo..col_hi {
                let cx = self.x0 + (col as f64 + 0.5) * self.res - d.x;
                let q = (cx * cx + cy * cy) / r2;
                if q < 1.0 {
                    let k = match kernel {
                        Kernel::Epanechnikov => 1.0 - q,
                        Kernel::Gaussian => (-2.0 * q).exp(),
                    };
                    f(col, row, k as f32);
                }
            }
        }
    }

    /// `for_disc`'s cells a row at a time, without the kernel: `f(row, columns)` for
    /// every row the disc reaches. (The splat's `RowRuns` seen from the tests; zones no
    /// longer read discs by cells.)
    #[cfg(test)]
    pub fn disc_rows(&self, d: &Disc, mut f: impl FnMut(usize, std::ops::Range<usize>)) {
        let Some(runs) = RowRuns::new(self, d, 0..self.height) else {
            return;
        };
        for row in runs.rows.clone() {
            if let Some(cols) = runs.run(self, row) {
                f(row, cols);
            }
        }
    }
}

/// A disc's cells row by row, exactly the cells `for_disc` visits (within `rows`). A
/// row's cells are one run: q = d²/r² falls and then rises along the row in floating
/// point too (each step computing it is a monotone rounding of a monotone function of
/// the column), so its ends are estimated from the circle and then settled with
/// `for_disc`'s own test (`disc_rows_match_for_disc`).
struct RowRuns {
    d: Disc,
    r2: f64,
    rows: std::ops::Range<usize>,
    col_lo: usize,
    last: usize,
    /// The disc's centre in (fractional) columns.
    centre: f64,
}

impl RowRuns {
    fn new(s: &Surface, d: &Disc, rows: std::ops::Range<usize>) -> Option<RowRuns> {
        let (row_lo, row_hi, col_lo, col_hi) = s.disc_box(d, rows);
        if col_lo >= col_hi || row_lo >= row_hi {
            return None;
        }
        Some(RowRuns {
            d: *d,
            r2: d.r * d.r,
            rows: row_lo..row_hi,
            col_lo,
            last: col_hi - 1,
            centre: (d.x - s.x0) / s.res - 0.5,
        })
    }

    /// The disc's cells in `row` (one of `rows`), if any.
    #[inline]
    fn run(&self, s: &Surface, row: usize) -> Option<std::ops::Range<usize>> {
        let (d, r2) = (&self.d, self.r2);
        let cy = s.y0 + (row as f64 + 0.5) * s.res - d.y;
        // `for_disc`'s test q = d²/r² < 1 without the division: for positive finite
        // d² and r², fl(d²/r²) < 1 exactly when d² < r² (division rounds monotonically,
        // r²/r² = 1, and the largest d² below r² gives a quotient at most 1 − 2⁻⁵³)
        let inside = |col: i64| {
            let cx = s.x0 + (col as f64 + 0.5) * s.res - d.x;
            cx * cx + cy * cy < r2
        };
        // the run's ends from the circle are off by far less than a cell (even where a
        // row grazes the disc, the error of √(r² − cy²) is ~√ulp(r²)), so each end is
        // one of three columns around its estimate; the cells inside are one run
        let half = (r2 - cy * cy).max(0.0).sqrt() / s.res;
        let e = -floor_i(half - self.centre); // ⌈centre − half⌉
        let lo = if inside(e - 1) {
            e - 1
        } else if inside(e) {
            e
        } else {
            e + 1
        };
        let f = floor_i(self.centre + half);
        let hi = if inside(f + 1) {
            f + 1
        } else if inside(f) {
            f
        } else {
            f - 1
        };
        let (lo, hi) = (lo.max(self.col_lo as i64), hi.min(self.last as i64));
        (lo <= hi).then(|| lo as usize..hi as usize + 1)
    }
}

/// ⌊x⌋ for |x| < 2⁵³ without a libm call (the baseline x86-64 target has no rounding
/// instruction).
#[inline(always)]
fn floor_i(x: f64) -> i64 {
    let t = x as i64;
    t - ((t as f64) > x) as i64
}

/// The Epanechnikov sum over a band of rows (`chunk`, rows from `rows.start`) of the
/// discs `ks`: along a row a disc adds w·(1 − (cx² + cy²)/r²), a quadratic in the
/// column, over one run of cells (`RowRuns`). So each disc puts its three coefficients
/// where its run starts and takes them off where it ends, and one running sum per row
/// evaluates every cell once: O(rows per disc + cells) instead of O(cells per disc).
/// The sums are f64 (columns counted from the middle of the raster) and cells no disc
/// covers are exactly 0. (Hand-written: no crate splats kernels this way.)
fn splat_epanechnikov_rows(
    s: &Surface,
    discs: &[Disc],
    ks: &[u32],
    rows: std::ops::Range<usize>,
    chunk: &mut [f32],
    scratch: &mut RowSplat,
) {
    let w = s.width;
    let mid = (w / 2) as f64;
    let n = rows.len();
    let RowSplat { start, count } = scratch;
    // per row and column: coefficients (a, b, c) of a + b·u + c·u² (u = col − mid)
    // that start there, and how many runs start (+) and end (−) there (all zero
    // between calls); per row the columns runs cover
    start.resize(n * (w + 1), [0.0; 3]);
    count.resize(n * (w + 1), 0);
    let mut span = vec![(w, 0); n];
    for &k in ks {
        let d = &discs[k as usize];
        let Some(rr) = RowRuns::new(s, d, rows.clone()) else {
            continue;
        };
        // cx = res · (u − m), m the disc's centre in u
        let m = rr.centre - mid;
        let wv = d.w as f64;
        let kk = wv * s.res * s.res / rr.r2;
        for row in rr.rows.clone() {
            let Some(cols) = rr.run(s, row) else {
                continue;
            };
            let cy = s.y0 + (row as f64 + 0.5) * s.res - d.y;
            let coef = [wv * (1.0 - cy * cy / rr.r2) - kk * m * m, 2.0 * kk * m, -kk];
            let i = row - rows.start;
            let base = i * (w + 1);
            for (x, c) in start[base + cols.start].iter_mut().zip(coef) {
                *x += c;
            }
            for (x, c) in start[base + cols.end].iter_mut().zip(coef) {
                *x -= c;
            }
            count[base + cols.start] += 1;
            count[base + cols.end] -= 1;
            span[i] = (span[i].0.min(cols.start), span[i].1.max(cols.end));
        }
    }
    for (i, &(lo, hi)) in span.iter().enumerate() {
        if lo >= hi {
            continue;
        }
        let line = &mut chunk[i * w..][..w];
        let base = i * (w + 1);
        let (start, count) = (&mut start[base..][..=hi], &mut count[base..][..=hi]);
        let (mut acc, mut active) = ([0f64; 3], 0i32);
        for col in lo..hi {
            let c = std::mem::take(&mut start[col]);
            active += std::mem::take(&mut count[col]);
            if active == 0 {
                // no run covers the cell: exactly 0, and no rounding carried on
                acc = [0.0; 3];
                continue;
            }
            acc = [acc[0] + c[0], acc[1] + c[1], acc[2] + c[2]];
            let u = col as f64 - mid;
            line[col] = (acc[0] + u * (acc[1] + u * acc[2])) as f32;
        }
        // the runs ending at hi leave their entries there
        (start[hi], count[hi]) = ([0.0; 3], 0);
    }
}

/// Scratch of `splat_epanechnikov_rows`, reused from band to band (zero between calls).
#[derive(Default)]
struct RowSplat {
    start: Vec<[f64; 3]>,
    count: Vec<i32>,
}

/// The discs of every graded enterprise (unassessed ones radiate nothing).
pub fn discs(ds: &Dataset, frame: &Frame, w: &Radii) -> Vec<Disc> {
    (0..ds.enterprises.len())
        .filter_map(|i| {
            let l = ds.grades[i].level?;
            let (x, y) = frame.xy[i];
            Some(Disc {
                idx: i,
                x,
                y,
                r: ds.radius_m(i),
                w: w.get(l) as f32,
            })
        })
        .collect()
}

/// Compute the surface over the region (padded by the largest radius).
pub fn build(ds: &Dataset, frame: &Frame, cfg: &SurfaceConfig) -> Result<Surface, Error> {
    let res = cfg.resolution_m;
    let utm = frame.utm;
    let discs = discs(ds, frame, &cfg.weights);
    let max_r = discs.iter().map(|d| d.r).fold(ds.radii.max(), f64::max);
    // the region's bbox in UTM: sample its edges (a lon/lat box is curved in UTM)
    let b = ds.region_bbox;
    let (mut minx, mut miny, mut maxx, mut maxy) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for k in 0..=32 {
        let t = k as f64 / 32.0;
        for (lon, lat) in [
            (b[0] + t * (b[2] - b[0]), b[1]),
            (b[0] + t * (b[2] - b[0]), b[3]),
            (b[0], b[1] + t * (b[3] - b[1])),
            (b[2], b[1] + t * (b[3] - b[1])),
        ] {
            let (x, y) = utm.forward(lon, lat);
            minx = minx.min(x);
            maxx = maxx.max(x);
            miny = miny.min(y);
            maxy = maxy.max(y);
        }
    }
    for d in &discs {
        minx = minx.min(d.x);
        maxx = maxx.max(d.x);
        miny = miny.min(d.y);
        maxy = maxy.max(d.y);
    }
    let pad = max_r + 2.0 * res;
    let x0 = ((minx - pad) / res).floor() * res;
    let y0 = ((miny - pad) / res).floor() * res;
    let width = (((maxx + pad) - x0) / res).ceil() as usize;
    let height = (((maxy + pad) - y0) / res).ceil() as usize;
    if (width as u64) * (height as u64) > cfg.max_cells {
        return Err(Error::Input(riskmap_core::tr!(
            "按 {res} 米分辨率，风险面将有 {width} × {height} 个格；请增大 surface.resolution_m 或 surface.max_cells",
            "the surface would be {width} × {height} cells at {res} m; raise surface.resolution_m or surface.max_cells"
        )));
    }
    let t = &cfg.thresholds;
    let mut s = Surface {
        utm,
        x0,
        y0,
        res,
        width,
        height,
        values: vec![0.0; width * height],
        classes: Vec::new(),
        thresholds: [t.blue, t.yellow, t.orange, t.red],
    };
    // bucket the discs by the row bands they reach, in enterprise order
    let nbands = height.div_ceil(BAND);
    let mut buckets: Vec<Vec<u32>> = vec![Vec::new(); nbands];
    for (k, d) in discs.iter().enumerate() {
        let lo = (((d.y - d.r - y0) / res).floor().max(0.0) as usize / BAND).min(nbands - 1);
        let hi = (((d.y + d.r - y0) / res).ceil().max(0.0) as usize / BAND).min(nbands - 1);
        for b in buckets.iter_mut().take(hi + 1).skip(lo) {
            b.push(k as u32);
        }
    }
    let (kernel, combine) = (cfg.kernel, cfg.combine);
    let mut values = std::mem::take(&mut s.values);
    values
        .par_chunks_mut(BAND * width)
        .enumerate()
        .for_each_init(RowSplat::default, |scratch, (b, chunk)| {
            // touch the band's fresh pages by writing first: summing into untouched
            // zeroed memory reads it first, and every page then faults twice (the shared
            // zero page, then a copy with a TLB flush on every core), which cost more
            // than the splat on small registers
            chunk.fill(0.0);
            let rows = b * BAND..((b + 1) * BAND).min(height);
            let base = rows.start;
            if (kernel, combine) == (Kernel::Epanechnikov, Combine::Sum) {
                splat_epanechnikov_rows(&s, &discs, &buckets[b], rows, chunk, scratch);
                return;
            }
            for &k in &buckets[b] {
                let d = &discs[k as usize];
                s.for_disc(d, kernel, rows.clone(), |col, row, kv| {
                    let v = &mut chunk[(row - base) * width + col];
                    let c = d.w * kv;
                    match combine {
                        Combine::Sum => *v += c,
                        Combine::Max => *v = v.max(c),
                    }
                });
            }
        });
    let classes: Vec<u8> = values.par_iter().map(|&v| s.classify(v as f64)).collect();
    s.values = values;
    s.classes = classes;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert_eq!(class_of(Level::Red), 4);
        assert_eq!(class_of(Level::Blue), 1);
        assert_eq!(level_of(3), Some(Level::Orange));
        let s = Surface {
            utm: riskmap_core::utm::Utm::new(50, true),
            x0: 0.0,
            y0: 0.0,
            res: 1.0,
            width: 1,
            height: 1,
            values: vec![],
            classes: vec![],
            thresholds: [0.02, 1.2, 72.0, 4320.0],
        };
        assert_eq!(s.classify(0.0), 0);
        assert_eq!(s.classify(0.02), 1);
        assert_eq!(s.classify(1.0), 1);
        assert_eq!(s.classify(3600.0), 3, "a lone orange peak stays orange");
        assert_eq!(s.classify(7200.0), 4, "two orange peaks add up to red");
        assert_eq!(s.classify(216_000.0 * 0.02), 4);
    }

    /// A 90 × 70 surface of 50 m cells with no values, for the disc tests.
    fn small() -> Surface {
        Surface {
            utm: riskmap_core::utm::Utm::new(50, true),
            x0: 1000.0,
            y0: 2000.0,
            res: 50.0,
            width: 90,
            height: 70,
            values: vec![],
            classes: vec![],
            thresholds: [1.0, 2.0, 3.0, 4.0],
        }
    }

    /// `n` discs (seed `seed`) scattered over `small()`'s raster and past its edges: a
    /// coordinate is the raster's origin plus (u · scale − over) times its extent, u
    /// uniform in 0..1; radii `r.0` plus up to `r.1`; weights by index.
    fn scattered(
        seed: u64,
        n: usize,
        (scale, over): (f64, f64),
        r: (f64, f64),
        w: impl Fn(usize) -> f32,
    ) -> Vec<Disc> {
        let mut seed = seed;
        let mut rnd = || riskmap_core::testutil::lcg(&mut seed);
        (0..n)
            .map(|i| Disc {
                idx: i,
                x: 1000.0 + (rnd() * scale - over) * 4500.0,
                y: 2000.0 + (rnd() * scale - over) * 3500.0,
                r: r.0 + rnd() * r.1,
                w: w(i),
            })
            .collect()
    }

    /// Discs at given (x, y, r), numbered from `idx0`, all of weight `w`.
    fn pinned(idx0: usize, at: &[(f64, f64, f64)], w: f32) -> Vec<Disc> {
        at.iter()
            .enumerate()
            .map(|(k, &(x, y, r))| Disc {
                idx: idx0 + k,
                x,
                y,
                r,
                w,
            })
            .collect()
    }

    /// `disc_rows` gives exactly the cells `for_disc` visits, row by row: discs of
    /// every size (down to under a cell), centred on cell centres and edges, and clipped
    /// by the raster's edges.
    #[test]
    fn disc_rows_match_for_disc() {
        let s = small();
        let mut discs = scattered(11, 400, (1.4, 0.2), (10.0, 1500.0), |_| 1.0);
        // on a cell centre and on cell corners, radii a whole number of cells
        discs.extend(pinned(
            1000,
            &[
                (1025.0, 2025.0, 100.0),
                (1500.0, 2500.0, 150.0),
                (3000.0, 3000.0, 50.0),
                (1000.0, 2000.0, 400.0),
            ],
            1.0,
        ));
        let mut cells = 0;
        for d in &discs {
            let mut slow = vec![];
            s.for_disc(d, Kernel::Epanechnikov, 0..s.height, |c, r, _| {
                slow.push((r, c))
            });
            let mut fast = vec![];
            s.disc_rows(d, |r, cols| fast.extend(cols.map(|c| (r, c))));
            assert_eq!(fast, slow, "disc at ({}, {}) r {}", d.x, d.y, d.r);
            cells += slow.len();
        }
        assert!(cells > 100_000, "{cells}");
    }

    /// The row-run splat against the sum of `for_disc`'s kernel values in f64 (an
    /// independent oracle: cell by cell, disc by disc): discs of every size, weight and
    /// place, clipped by the raster edges and by the band; cells no disc reaches exactly 0.
    #[test]
    fn row_splat_matches_for_disc() {
        let s = small();
        let weight = |i: usize| [1.0, 2.0, 4.0, 8.0][i % 4];
        let mut discs = scattered(3, 60, (1.2, 0.1), (20.0, 900.0), weight);
        // on a cell centre, on a corner, and one under a cell across
        discs.extend(pinned(
            100,
            &[
                (1525.0, 2525.0, 150.0),
                (3000.0, 3000.0, 100.0),
                (4010.0, 3010.0, 20.0),
            ],
            3.0,
        ));
        let rows = 13..51;
        let ks: Vec<u32> = (0..discs.len() as u32).collect();
        let mut fast = vec![0f32; 38 * 90];
        // first every other disc, then all with the same scratch: it must come back clean
        let mut scratch = RowSplat::default();
        let odd: Vec<u32> = ks.iter().copied().filter(|k| k % 2 == 1).collect();
        splat_epanechnikov_rows(&s, &discs, &odd, rows.clone(), &mut fast, &mut scratch);
        fast.fill(0.0);
        splat_epanechnikov_rows(&s, &discs, &ks, rows.clone(), &mut fast, &mut scratch);
        let mut slow = vec![0f64; 38 * 90];
        let mut reached = vec![false; 38 * 90];
        for d in &discs {
            s.for_disc(d, Kernel::Epanechnikov, rows.clone(), |col, row, _| {
                let (cx, cy) = s.centre(col, row);
                let q = ((cx - d.x).powi(2) + (cy - d.y).powi(2)) / (d.r * d.r);
                slow[(row - rows.start) * 90 + col] += d.w as f64 * (1.0 - q);
                reached[(row - rows.start) * 90 + col] = true;
            });
        }
        assert!(reached.iter().filter(|&&r| r).count() > 1000);
        assert!(reached.iter().filter(|&&r| !r).count() > 100);
        for (i, ((&f, &v), &r)) in fast.iter().zip(&slow).zip(&reached).enumerate() {
            if !r {
                assert_eq!(f.to_bits(), 0, "cell {i}: no disc reaches it");
                continue;
            }
            let tol = 1e-6 * (1.0 + v.abs());
            assert!((f as f64 - v).abs() <= tol, "cell {i}: {f} against {v}");
        }
    }
}
