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
use crate::config::{Combine, Kernel};
use crate::model::Level;
use crate::pipeline::Dataset;
use crate::Error;
use rayon::prelude::*;

/// A raster in UTM; row 0 is the southernmost.
pub struct Surface {
    pub utm: crate::utm::Utm,
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
    /// every row the disc reaches. A row's cells are one run: q = d²/r² falls and then
    /// rises along the row in floating point too (each step computing it is a monotone
    /// rounding of a monotone function of the column), so its ends are estimated from
    /// the circle and then settled with `for_disc`'s own test.
    pub fn disc_rows(&self, d: &Disc, mut f: impl FnMut(usize, std::ops::Range<usize>)) {
        let r2 = d.r * d.r;
        let (row_lo, row_hi, col_lo, col_hi) = self.disc_box(d, 0..self.height);
        if col_lo >= col_hi {
            return;
        }
        let last = col_hi - 1;
        // the column whose centre is nearest the disc's (q is least there, give or take
        // a rounding: its neighbours are tried too)
        let centre = (d.x - self.x0) / self.res - 0.5;
        let near = centre.round().clamp(col_lo as f64, last as f64) as usize;
        for row in row_lo..row_hi {
            let cy = self.y0 + (row as f64 + 0.5) * self.res - d.y;
            let inside = |col: usize| {
                let cx = self.x0 + (col as f64 + 0.5) * self.res - d.x;
                (cx * cx + cy * cy) / r2 < 1.0
            };
            let Some(c) = [
                near,
                near.saturating_sub(1).max(col_lo),
                (near + 1).min(last),
            ]
            .into_iter()
            .find(|&c| inside(c)) else {
                continue;
            };
            // the run's end on the side `out` (−1 or +1) of c, from an estimate: outward
            // while inside, else inward (c is inside)
            let end = |estimate: f64, out: i64| {
                let (a, b) = if out < 0 { (col_lo, c) } else { (c, last) };
                let edge = if out < 0 { col_lo } else { last } as i64;
                let mut k = estimate.clamp(a as f64, b as f64) as i64;
                if inside(k as usize) {
                    while k != edge && inside((k + out) as usize) {
                        k += out;
                    }
                } else {
                    while !inside(k as usize) {
                        k -= out;
                    }
                }
                k as usize
            };
            let half = (r2 - cy * cy).max(0.0).sqrt() / self.res;
            let (lo, hi) = (
                end((centre - half).ceil(), -1),
                end((centre + half).floor(), 1),
            );
            f(row, lo..hi + 1);
        }
    }

    /// `for_disc` with the Epanechnikov kernel, summed into `band` (rows from `base`): the
    /// same values, from a branch-free loop over each row's span that the compiler can
    /// vectorise (cells outside the disc add exactly 0). This loop is most of the surface.
    fn splat_epanechnikov(
        &self,
        d: &Disc,
        rows: std::ops::Range<usize>,
        band: &mut [f32],
        base: usize,
    ) {
        let r2 = d.r * d.r;
        let (row_lo, row_hi, col_lo, col_hi) = self.disc_box(d, rows);
        if col_lo >= col_hi {
            return;
        }
        for row in row_lo..row_hi {
            let cy = self.y0 + (row as f64 + 0.5) * self.res - d.y;
            if cy * cy >= r2 {
                continue;
            }
            let line = &mut band[(row - base) * self.width..][col_lo..col_hi];
            for (i, v) in line.iter_mut().enumerate() {
                let cx = self.x0 + ((col_lo + i) as i32 as f64 + 0.5) * self.res - d.x;
                let q = (cx * cx + cy * cy) / r2;
                let k = if q < 1.0 { 1.0 - q } else { 0.0 };
                *v += d.w * k as f32;
            }
        }
    }
}

/// The discs of every graded enterprise (unassessed ones radiate nothing).
pub fn discs(ds: &Dataset, frame: &Frame) -> Vec<Disc> {
    let w = &ds.config.surface.weights;
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
pub fn build(ds: &Dataset, frame: &Frame) -> Result<Surface, Error> {
    let cfg = &ds.config.surface;
    let res = cfg.resolution_m;
    let utm = frame.utm;
    let discs = discs(ds, frame);
    let max_r = discs
        .iter()
        .map(|d| d.r)
        .fold(ds.config.influence_radius_m.max(), f64::max);
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
        return Err(Error::Input(format!(
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
        .for_each(|(b, chunk)| {
            // touch the band's fresh pages by writing first: summing into untouched
            // zeroed memory reads it first, and every page then faults twice (the shared
            // zero page, then a copy with a TLB flush on every core), which cost more
            // than the splat on small registers
            chunk.fill(0.0);
            let rows = b * BAND..((b + 1) * BAND).min(height);
            let base = rows.start;
            for &k in &buckets[b] {
                let d = &discs[k as usize];
                if (kernel, combine) == (Kernel::Epanechnikov, Combine::Sum) {
                    s.splat_epanechnikov(d, rows.clone(), chunk, base);
                    continue;
                }
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
            utm: crate::utm::Utm::new(50, true),
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
            utm: crate::utm::Utm::new(50, true),
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

    /// `disc_rows` gives exactly the cells `for_disc` visits, row by row: discs of
    /// every size (down to under a cell), centred on cell centres and edges, and clipped
    /// by the raster's edges.
    #[test]
    fn disc_rows_match_for_disc() {
        let s = small();
        let mut seed = 11u64;
        let mut rnd = || crate::testutil::lcg(&mut seed);
        let mut discs: Vec<Disc> = (0..400)
            .map(|i| Disc {
                idx: i,
                x: 1000.0 + (rnd() * 1.4 - 0.2) * 4500.0,
                y: 2000.0 + (rnd() * 1.4 - 0.2) * 3500.0,
                r: 10.0 + rnd() * 1500.0,
                w: 1.0,
            })
            .collect();
        // on a cell centre and on cell corners, radii a whole number of cells
        for (k, (x, y, r)) in [
            (1025.0, 2025.0, 100.0),
            (1500.0, 2500.0, 150.0),
            (3000.0, 3000.0, 50.0),
            (1000.0, 2000.0, 400.0),
        ]
        .into_iter()
        .enumerate()
        {
            discs.push(Disc {
                idx: 1000 + k,
                x,
                y,
                r,
                w: 1.0,
            });
        }
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

    /// The vectorisable Epanechnikov splat adds exactly what `for_disc` visits, discs
    /// clipped by the raster edges and by the band included.
    #[test]
    fn splat_matches_for_disc() {
        let s = small();
        let mut seed = 3u64;
        let mut rnd = || crate::testutil::lcg(&mut seed);
        let discs: Vec<Disc> = (0..60)
            .map(|i| Disc {
                idx: i,
                x: 1000.0 + (rnd() * 1.2 - 0.1) * 4500.0,
                y: 2000.0 + (rnd() * 1.2 - 0.1) * 3500.0,
                r: 60.0 + rnd() * 900.0,
                w: [1.0, 2.0, 4.0, 8.0][i % 4],
            })
            .collect();
        let rows = 13..51;
        let (mut fast, mut slow) = (vec![0f32; 38 * 90], vec![0f32; 38 * 90]);
        for d in &discs {
            s.splat_epanechnikov(d, rows.clone(), &mut fast, rows.start);
            s.for_disc(d, Kernel::Epanechnikov, rows.clone(), |col, row, kv| {
                slow[(row - rows.start) * 90 + col] += d.w * kv;
            });
        }
        assert!(slow.iter().filter(|&&v| v > 0.0).count() > 1000);
        let differ = fast
            .iter()
            .zip(&slow)
            .filter(|(a, b)| a.to_bits() != b.to_bits())
            .count();
        assert_eq!(differ, 0);
    }
}
