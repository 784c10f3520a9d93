//! The surface layer, drawn straight from the globally classified surface: every tile pixel
//! looks up the surface at its own location (bilinear interpolation of the kernel sums,
//! then the fixed global thresholds), 2×2 supersampled for antialiased edges. A pixel's
//! colour depends only on where it is, so neighbouring tiles meet without seams, and class
//! ids go straight into palette indices (no RGBA pass before encoding).

use super::tile::{unpixel, Tile};
use crate::analyze::surface::{level_of, Surface};
use crate::crs::Crs;
use crate::style::{parse_hex, Pattern, Style};

/// Min / max class pyramid over the class raster: O(1)-ish checks of whether a tile's
/// footprint is empty or one class only.
pub struct ClassPyramid {
    /// levels[k]: (width, height, min, max) of 2^k × 2^k blocks.
    levels: Vec<(usize, usize, Vec<u8>, Vec<u8>)>,
}

impl ClassPyramid {
    pub fn new(s: &Surface) -> ClassPyramid {
        let mut levels = vec![(s.width, s.height, s.classes.clone(), s.classes.clone())];
        while levels.last().map(|l| l.0 > 1 || l.1 > 1).unwrap_or(false) {
            let (w, h, mn, mx) = levels.last().unwrap_or(&levels[0]);
            let (nw, nh) = (w.div_ceil(2), h.div_ceil(2));
            let mut nmn = vec![u8::MAX; nw * nh];
            let mut nmx = vec![0u8; nw * nh];
            for y in 0..*h {
                for x in 0..*w {
                    let k = (y / 2) * nw + x / 2;
                    nmn[k] = nmn[k].min(mn[y * w + x]);
                    nmx[k] = nmx[k].max(mx[y * w + x]);
                }
            }
            levels.push((nw, nh, nmn, nmx));
        }
        ClassPyramid { levels }
    }

    /// Min and max class over cells [c0, c1] × [r0, r1] (clamped; conservative).
    pub fn range(&self, c0: i64, r0: i64, c1: i64, r1: i64) -> (u8, u8) {
        let (w, h) = (self.levels[0].0 as i64, self.levels[0].1 as i64);
        let (c0, r0, c1, r1) = (c0.max(0), r0.max(0), c1.min(w - 1), r1.min(h - 1));
        if c0 > c1 || r0 > r1 {
            return (0, 0);
        }
        let span = (c1 - c0).max(r1 - r0) as usize;
        let mut k = 0;
        while (1usize << (k + 1)) <= span / 2 && k + 1 < self.levels.len() {
            k += 1;
        }
        let (lw, _, mn, mx) = &self.levels[k];
        let (a, b) = ((c0 >> k) as usize, (c1 >> k) as usize);
        let (ra, rb) = ((r0 >> k) as usize, (r1 >> k) as usize);
        let (mut lo, mut hi) = (u8::MAX, 0);
        for r in ra..=rb {
            for c in a..=b {
                lo = lo.min(mn[r * lw + c]);
                hi = hi.max(mx[r * lw + c]);
            }
        }
        (lo, hi)
    }
}

/// The fixed palette of the surface layer: every mix of 4 supersamples over the 5 classes
/// (70 mixes), then pattern ink over each class.
pub struct SurfacePalette {
    pub colors: Vec<[u8; 4]>,
    /// Sorted 4-tuple of classes (base-5 code) → palette index.
    lut: [u8; 625],
    ink_base: usize,
    patterns: [Pattern; 5],
    spacing: u32,
}

impl SurfacePalette {
    pub fn new(style: &Style) -> SurfacePalette {
        let alpha = (style.drawing.surface_opacity.clamp(0.0, 1.0) * 255.0).round();
        let class_rgb = |c: u8| -> [f32; 3] {
            let rgb = style.rgb(level_of(c));
            [rgb[0] as f32, rgb[1] as f32, rgb[2] as f32]
        };
        let mut colors = Vec::new();
        let mut lut = [0u8; 625];
        for a in 0..5u8 {
            for b in a..5 {
                for c in b..5 {
                    for d in c..5 {
                        let s = [a, b, c, d];
                        let painted: Vec<u8> = s.iter().copied().filter(|&x| x > 0).collect();
                        let col = if painted.is_empty() {
                            [0, 0, 0, 0]
                        } else {
                            let mut rgb = [0f32; 3];
                            for &p in &painted {
                                let q = class_rgb(p);
                                for i in 0..3 {
                                    rgb[i] += q[i] / painted.len() as f32;
                                }
                            }
                            let al = alpha * painted.len() as f32 / 4.0;
                            [
                                rgb[0].round() as u8,
                                rgb[1].round() as u8,
                                rgb[2].round() as u8,
                                al.round() as u8,
                            ]
                        };
                        let idx = colors.len() as u8;
                        colors.push(col);
                        // every ordering of the four samples maps to the same entry
                        for p in PERMUTATIONS {
                            let q = [s[p[0]], s[p[1]], s[p[2]], s[p[3]]];
                            let code = ((q[0] as usize * 5 + q[1] as usize) * 5 + q[2] as usize)
                                * 5
                                + q[3] as usize;
                            lut[code] = idx;
                        }
                    }
                }
            }
        }
        let ink_base = colors.len();
        let ink =
            parse_hex(style.patterns.ink.as_deref().unwrap_or("#000000")).unwrap_or([0, 0, 0]);
        for _ in 0..5 {
            colors.push([ink[0], ink[1], ink[2], (alpha.max(200.0)) as u8]);
        }
        let patterns = [
            Pattern::None,
            style.patterns.blue,
            style.patterns.yellow,
            style.patterns.orange,
            style.patterns.red,
        ];
        SurfacePalette {
            colors,
            lut,
            ink_base,
            patterns,
            spacing: style.patterns.spacing.unwrap_or(6).max(3),
        }
    }

    #[inline(always)]
    fn index(&self, s: [u8; 4]) -> u8 {
        self.lut[((s[0] as usize * 5 + s[1] as usize) * 5 + s[2] as usize) * 5 + s[3] as usize]
    }

    /// Pattern ink at a global pixel for a class, if any.
    #[inline(always)]
    fn ink(&self, class: u8, gx: i64, gy: i64) -> Option<u8> {
        let k = self.spacing as i64;
        let on = match self.patterns[class as usize] {
            Pattern::None => false,
            Pattern::Diagonal => (gx + gy).rem_euclid(k) == 0,
            Pattern::Cross => (gx + gy).rem_euclid(k) == 0 || (gx - gy).rem_euclid(k) == 0,
            Pattern::Dots => gx.rem_euclid(k) == 0 && gy.rem_euclid(k) == 0,
        };
        on.then(|| (self.ink_base + class as usize) as u8)
    }
}

/// The 24 orderings of four samples.
const PERMUTATIONS: [[usize; 4]; 24] = {
    let mut out = [[0usize; 4]; 24];
    let mut n = 0;
    let mut a = 0;
    while a < 4 {
        let mut b = 0;
        while b < 4 {
            let mut c = 0;
            while c < 4 {
                if a != b && a != c && b != c {
                    out[n] = [a, b, c, 6 - a - b - c];
                    n += 1;
                }
                c += 1;
            }
            b += 1;
        }
        a += 1;
    }
    out
};

/// What a surface tile turned out to be.
pub enum SurfaceTile {
    Empty,
    /// Every pixel of one class (and no pattern): the same bytes for every such tile.
    Solid(u8),
    /// Palette indices, row-major.
    Indices(Vec<u8>),
}

/// `floor` without a libm call (the baseline x86-64 target has no rounding instruction,
/// and the call dominated the profile).
#[inline(always)]
fn ffloor(x: f64) -> f64 {
    let t = x as i64 as f64;
    if t > x {
        t - 1.0
    } else {
        t
    }
}

/// Class at fractional cell coordinates (cell centres at .0): the bilinear value,
/// classified; where the four cells around share one class the interpolation cannot leave
/// it, and a class none of the four cells has is a band thinner than a cell (the fringe
/// where a lone disc's kernel falls through the lower thresholds) and is drawn as the
/// next lower class present — as zones.geojson drops such slivers.
fn class_at(s: &Surface, fc: f64, fr: f64) -> u8 {
    let (c0, r0) = (ffloor(fc), ffloor(fr));
    let (tx, ty) = (fc - c0, fr - r0);
    let (c0, r0) = (c0 as i64, r0 as i64);
    let idx = |c: i64, r: i64| -> Option<usize> {
        (c >= 0 && r >= 0 && c < s.width as i64 && r < s.height as i64)
            .then(|| r as usize * s.width + c as usize)
    };
    let cells = [
        idx(c0, r0),
        idx(c0 + 1, r0),
        idx(c0, r0 + 1),
        idx(c0 + 1, r0 + 1),
    ];
    let cls = cells.map(|k| k.map(|k| s.classes[k]).unwrap_or(0));
    if cls[0] == cls[1] && cls[1] == cls[2] && cls[2] == cls[3] {
        return cls[0];
    }
    let v = cells.map(|k| k.map(|k| s.values[k] as f64).unwrap_or(0.0));
    let a = v[0] * (1.0 - tx) + v[1] * tx;
    let b = v[2] * (1.0 - tx) + v[3] * tx;
    let val = a * (1.0 - ty) + b * ty;
    let c = s.classify(val);
    if cls.contains(&c) {
        c
    } else {
        cls.iter().copied().filter(|&k| k < c).max().unwrap_or(0)
    }
}

/// Render the surface into a tile of `size` pixels; tiles in `crs_out` (GCJ-02 tiles put
/// each pixel where a Gaode basemap has that place).
pub fn render_surface(
    s: &Surface,
    pyr: &ClassPyramid,
    pal: &SurfacePalette,
    tile: Tile,
    size: u32,
    crs_out: Crs,
) -> SurfaceTile {
    // cell coordinates at a coarse grid of nodes every 2·STEP px, exact (UTM and GCJ-02
    // cost trig calls); the STEP nodes between them bilinear, and bilinear again inside a
    // block (the tile→UTM mapping is smooth: at z8 the error over 32 px is ~10 m against
    // 600 m pixels). Edge nodes depend only on edge nodes, so tiles agree on shared edges.
    const STEP: u32 = 16;
    let nodes = size / STEP + 1;
    let (ox, oy) = (tile.x as f64 * size as f64, tile.y as f64 * size as f64);
    let mut nc = vec![(0f64, 0f64); (nodes * nodes) as usize];
    let exact = |i: u32, j: u32| -> (f64, f64) {
        let (lon, lat) = unpixel(ox + (i * STEP) as f64, oy + (j * STEP) as f64, tile.z, size);
        let (lon, lat) = crs_out.to_wgs84(lon, lat);
        let (x, y) = s.utm.forward(lon, lat);
        ((x - s.x0) / s.res - 0.5, (y - s.y0) / s.res - 0.5)
    };
    let even = nodes % 2 == 1; // an even number of blocks: every other node is exact
    for j in 0..nodes {
        for i in 0..nodes {
            let k = (j * nodes + i) as usize;
            nc[k] = if !even || (i % 2 == 0 && j % 2 == 0) {
                exact(i, j)
            } else {
                (0.0, 0.0)
            };
        }
    }
    if even {
        let at = |nc: &[(f64, f64)], i: u32, j: u32| nc[(j * nodes + i) as usize];
        let avg2 = |a: (f64, f64), b: (f64, f64)| ((a.0 + b.0) * 0.5, (a.1 + b.1) * 0.5);
        for j in (0..nodes).step_by(2) {
            for i in (1..nodes).step_by(2) {
                nc[(j * nodes + i) as usize] = avg2(at(&nc, i - 1, j), at(&nc, i + 1, j));
            }
        }
        for j in (1..nodes).step_by(2) {
            for i in 0..nodes {
                nc[(j * nodes + i) as usize] = avg2(at(&nc, i, j - 1), at(&nc, i, j + 1));
            }
        }
    }
    let (mut cmin, mut rmin, mut cmax, mut rmax) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for &(fc, fr) in &nc {
        cmin = cmin.min(fc);
        cmax = cmax.max(fc);
        rmin = rmin.min(fr);
        rmax = rmax.max(fr);
    }
    let (lo, hi) = pyr.range(
        cmin.floor() as i64 - 1,
        rmin.floor() as i64 - 1,
        cmax.ceil() as i64 + 1,
        rmax.ceil() as i64 + 1,
    );
    if hi == 0 {
        return SurfaceTile::Empty;
    }
    if lo == hi && pal.patterns[hi as usize] == Pattern::None {
        return SurfaceTile::Solid(pal.index([hi; 4]));
    }
    let mut out = vec![0u8; (size * size) as usize];
    let n = |a: u32, b: u32| nc[(b * nodes + a) as usize];
    let blocks = nodes - 1;
    let side = (STEP + 1) as usize;
    // classes at the pixel corners of a block: each pixel mixes its four corners (a 2×2
    // supersample whose samples neighbouring pixels share)
    let mut corner = vec![0u8; side * side];
    for bj in 0..blocks {
        for bi in 0..blocks {
            // a block of STEP × STEP pixels whose cells are all one class is filled at once
            let corners = [n(bi, bj), n(bi + 1, bj), n(bi, bj + 1), n(bi + 1, bj + 1)];
            // every sample of the block reads the cells floor(c)..floor(c)+1 (the mapping
            // is near-linear, so the corners bound the block; half a cell of slack)
            let c_lo = ffloor(corners.iter().map(|c| c.0).fold(f64::MAX, f64::min) - 0.5) as i64;
            let c_hi =
                ffloor(corners.iter().map(|c| c.0).fold(f64::MIN, f64::max) + 0.5) as i64 + 1;
            let r_lo = ffloor(corners.iter().map(|c| c.1).fold(f64::MAX, f64::min) - 0.5) as i64;
            let r_hi =
                ffloor(corners.iter().map(|c| c.1).fold(f64::MIN, f64::max) + 0.5) as i64 + 1;
            let (lo, hi) = pyr.range(c_lo, r_lo, c_hi, r_hi);
            if hi == 0 {
                continue;
            }
            if lo == hi && pal.patterns[hi as usize] == Pattern::None {
                let i = pal.index([hi; 4]);
                for py in bj * STEP..(bj + 1) * STEP {
                    let row = (py * size) as usize;
                    out[row + (bi * STEP) as usize..row + ((bi + 1) * STEP) as usize].fill(i);
                }
                continue;
            }
            let (a, b, c, d) = (corners[0], corners[1], corners[2], corners[3]);
            for v in 0..side {
                let tv = v as f64 / STEP as f64;
                for u in 0..side {
                    let tu = u as f64 / STEP as f64;
                    let fc = (a.0 * (1.0 - tu) + b.0 * tu) * (1.0 - tv)
                        + (c.0 * (1.0 - tu) + d.0 * tu) * tv;
                    let fr = (a.1 * (1.0 - tu) + b.1 * tu) * (1.0 - tv)
                        + (c.1 * (1.0 - tu) + d.1 * tu) * tv;
                    corner[v * side + u] = class_at(s, fc, fr);
                }
            }
            for v in 0..STEP as usize {
                let py = bj * STEP + v as u32;
                for u in 0..STEP as usize {
                    let px = bi * STEP + u as u32;
                    let k = v * side + u;
                    let cls = [
                        corner[k],
                        corner[k + 1],
                        corner[k + side],
                        corner[k + side + 1],
                    ];
                    let top = cls[0].max(cls[1]).max(cls[2]).max(cls[3]);
                    let uniform = cls[0] == cls[1] && cls[1] == cls[2] && cls[2] == cls[3];
                    let idx = match (uniform, top) {
                        (true, 0) => 0,
                        (true, c) => pal
                            .ink(c, (ox as i64) + px as i64, (oy as i64) + py as i64)
                            .unwrap_or_else(|| pal.index(cls)),
                        _ => pal.index(cls),
                    };
                    out[(py * size + px) as usize] = idx;
                }
            }
        }
    }
    if out.iter().all(|&i| i == 0) {
        return SurfaceTile::Empty;
    }
    SurfaceTile::Indices(out)
}
