//! The surface layer, drawn straight from the globally classified surface: every tile pixel
//! looks up the surface at its own location (bilinear interpolation of the kernel sums,
//! then the fixed global thresholds), 2×2 supersampled for antialiased edges. A pixel's
//! colour depends only on where it is, so neighbouring tiles meet without seams, and class
//! ids go straight into palette indices (no RGBA pass before encoding).

use super::tile::{unpixel, Tile};
use riskmap_analyze::surface::{level_of, Surface};
use riskmap_core::crs::Crs;
use riskmap_core::style::{parse_hex, Pattern, Style};

pub use super::classify::ClassPyramid;
use super::classify::*;

/// The fixed palette of the surface layer: every mix of 4 supersamples over the 5 classes
/// (70 mixes), then pattern ink over each class.
pub struct SurfacePalette {
    pub colors: Vec<[u8; 4]>,
    /// Four samples' classes (`mix_key`: 3 bits each) → palette index.
    lut: Box<[u8; 4096]>,
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
        let mut lut = Box::new([0u8; 4096]);
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
                            lut[mix_key(s[p[0]], s[p[1]], s[p[2]], s[p[3]])] = idx;
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
        self.lut[mix_key(s[0], s[1], s[2], s[3])]
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

/// The table key of four samples' classes (each 0..=4), 3 bits each.
#[inline(always)]
fn mix_key(a: u8, b: u8, c: u8, d: u8) -> usize {
    (a as usize | (b as usize) << 3 | (c as usize) << 6 | (d as usize) << 9) & 4095
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
#[derive(Clone, Debug)]
pub enum SurfaceTile {
    Empty,
    /// Every pixel of one class (and no pattern): the same bytes for every such tile.
    Solid(u8),
    /// Palette indices, row-major.
    Indices(Vec<u8>),
}

/// Whether every byte is `x`, 32 at a time (a byte-wise `all` does not vectorise, and
/// scanning tiles that start transparent showed in the profile).
pub(crate) fn all_eq(v: &[u8], x: u8) -> bool {
    let mut chunks = v.chunks_exact(32);
    let whole = chunks
        .by_ref()
        .all(|c| c.iter().fold(0u8, |a, &b| a | (b ^ x)) == 0);
    whole && chunks.remainder().iter().all(|&b| b == x)
}

/// The four quarters (x, y, side) of the square at (x, y) with side `m`.
#[inline(always)]
fn quarters(x: u32, y: u32, m: u32) -> [(u32, u32, u32); 4] {
    let h = m / 2;
    [(x, y, h), (x + h, y, h), (x, y + h, h), (x + h, y + h, h)]
}

/// `floor` to an integer (see `ffloor`; when an integer is wanted, converting first is
/// the cheaper way round).
#[inline(always)]
pub(crate) fn ifloor(x: f64) -> i64 {
    let t = x as i64;
    t - ((t as f64) > x) as i64
}

/// The point at fraction (tu, tv) of a block whose corner nodes are `k` (top-left,
/// top-right, bottom-left, bottom-right): bilinear, with the same arithmetic everywhere so
/// that blocks and sub-blocks sharing a point compute it to the same bits.
#[inline(always)]
pub(crate) fn block_point(k: &[(f64, f64); 4], tu: f64, tv: f64) -> (f64, f64) {
    let [a, b, c, d] = *k;
    (
        (a.0 * (1.0 - tu) + b.0 * tu) * (1.0 - tv) + (c.0 * (1.0 - tu) + d.0 * tu) * tv,
        (a.1 * (1.0 - tu) + b.1 * tu) * (1.0 - tv) + (c.1 * (1.0 - tu) + d.1 * tu) * tv,
    )
}

/// `block_point` for the samples (u0 + i, v), i < fcs.len(), of a block: the same
/// arithmetic, in a loop the compiler vectorises.
#[inline(always)]
pub(crate) fn row_points(k: &[(f64, f64); 4], u0: u32, v: u32, fcs: &mut [f64], frs: &mut [f64]) {
    // u / STEP for u in 0..=STEP, as `block_point` computes it
    const TU: [f64; STEP as usize + 1] = {
        let mut t = [0.0; STEP as usize + 1];
        let mut u = 0;
        while u <= STEP as usize {
            t[u] = u as f64 / STEP as f64;
            u += 1;
        }
        t
    };
    let [a, b, c, d] = *k;
    let tv = v as f64 / STEP as f64;
    let (sv, tv) = (1.0 - tv, tv);
    let n = fcs.len().min(frs.len());
    for ((fc, fr), &tu) in fcs
        .iter_mut()
        .zip(frs.iter_mut())
        .zip(&TU[u0 as usize..][..n])
    {
        let su = 1.0 - tu;
        *fc = (a.0 * su + b.0 * tu) * sv + (c.0 * su + d.0 * tu) * tv;
        *fr = (a.1 * su + b.1 * tu) * sv + (c.1 * su + d.1 * tu) * tv;
    }
}

/// (min x, max x, min y, max y) of four points.
#[inline(always)]
pub(crate) fn bounds(k: &[(f64, f64); 4]) -> [f64; 4] {
    [
        fmin(fmin(k[0].0, k[1].0), fmin(k[2].0, k[3].0)),
        fmax(fmax(k[0].0, k[1].0), fmax(k[2].0, k[3].0)),
        fmin(fmin(k[0].1, k[1].1), fmin(k[2].1, k[3].1)),
        fmax(fmax(k[0].1, k[1].1), fmax(k[2].1, k[3].1)),
    ]
}

/// The smaller of two finite numbers: one `minsd` (`f64::min` also handles NaN, which
/// costs a compare and a blend on the hot paths; coordinates and values here are finite).
#[inline(always)]
pub(crate) fn fmin(a: f64, b: f64) -> f64 {
    if a < b {
        a
    } else {
        b
    }
}

/// The larger of two finite numbers (see `fmin`).
#[inline(always)]
pub(crate) fn fmax(a: f64, b: f64) -> f64 {
    if a > b {
        a
    } else {
        b
    }
}

/// `floor` without a libm call (the baseline x86-64 target has no rounding instruction,
/// and the call dominated the profile) and without a float → int conversion: adding and
/// subtracting 1.5 · 2^52 rounds to the nearest integer, one less when that overshoots.
/// Exact for |x| < 2^51 (cell and pixel coordinates are far smaller).
#[inline(always)]
pub(crate) fn ffloor(x: f64) -> f64 {
    const ROUND: f64 = 6_755_399_441_055_744.0;
    let r = (x + ROUND) - ROUND;
    r - ((r > x) as u8 as f64)
}

/// Pixels between a surface tile's nodes.
pub(crate) const STEP: u32 = 16;
/// Samples of one sampled block (reused: zeroing them per block cost as much as filling
/// them).
pub(crate) struct BlockScratch {
    pub(crate) fcs: [f64; BLOCK_SAMPLES],
    pub(crate) frs: [f64; BLOCK_SAMPLES],
    pub(crate) classes: [u8; BLOCK_SAMPLES],
}

const BLOCK_SAMPLES: usize = ((MIN_BLOCK + 1) * (MIN_BLOCK + 1)) as usize;

/// The smallest block drawn by sampling (larger mixed blocks are split once: a block's
/// corners and its quarters' lie on a 3 × 3 grid).
pub(crate) const MIN_BLOCK: u32 = 8;
const _: () = assert!(STEP == 2 * MIN_BLOCK);

/// How many STEP-px node steps apart a surface tile's exact nodes are (UTM and GCJ-02
/// cost trig calls). In between, the tile→cell mapping is linear to within 1/50 px in
/// WGS84, 1/20 px in GCJ-02 (whose offset wiggles with a period of 1/3°);
/// `node_spacing_error` below checks it over the region. The error grows with the square
/// of the span and shrinks fourfold per zoom.
pub(crate) fn exact_span(z: u8, crs: Crs) -> u32 {
    match (crs, z) {
        (Crs::Gcj02, 0..=10) => 2,
        (Crs::Gcj02, 11..=12) => 4,
        (Crs::Gcj02, 13..=14) => 8,
        (Crs::Gcj02, _) => 16,
        (_, 0..=8) => 2,
        (_, 9..=10) => 4,
        (_, 11..=12) => 8,
        (_, _) => 16,
    }
}

/// Cell coordinates (column, row; cell centres at .0) of a tile's nodes, every STEP px
/// from its top-left corner, row-major; exact every `e` nodes, linear in between.
fn cell_nodes(s: &Surface, tile: Tile, size: u32, crs_out: Crs, e: u32) -> Vec<(f64, f64)> {
    let frame = UtmFrame {
        utm: s.utm,
        x0: s.x0,
        y0: s.y0,
        res: s.res,
        offset: 0.5,
    };
    frame.nodes(tile, size, crs_out, e)
}

/// Raster coordinates in a UTM zone: ((x − x0) / res − offset, (y − y0) / res − offset).
#[derive(Clone, Copy)]
pub(crate) struct UtmFrame {
    pub utm: riskmap_core::utm::Utm,
    pub x0: f64,
    pub y0: f64,
    pub res: f64,
    pub offset: f64,
}

impl UtmFrame {
    /// Raster coordinates of a tile's nodes, every STEP px from its top-left corner,
    /// row-major; exact every `e` nodes, linear in between.
    pub(crate) fn nodes(&self, tile: Tile, size: u32, crs_out: Crs, e: u32) -> Vec<(f64, f64)> {
        let s = self;
        let nodes = size / STEP + 1;
        let (ox, oy) = (tile.x as f64 * size as f64, tile.y as f64 * size as f64);
        let mut nc = vec![(0f64, 0f64); (nodes * nodes) as usize];
        let exact = |i: u32, j: u32| -> (f64, f64) {
            let (lon, lat) = unpixel(ox + (i * STEP) as f64, oy + (j * STEP) as f64, tile.z, size);
            let (lon, lat) = crs_out.to_wgs84(lon, lat);
            let (x, y) = s.utm.forward(lon, lat);
            ((x - s.x0) / s.res - s.offset, (y - s.y0) / s.res - s.offset)
        };
        // exact nodes every `e` nodes, linear between them along exact rows, then along
        // columns: edge nodes depend only on edge nodes, so tiles agree on shared edges
        let e = if e >= 1 && (nodes - 1) % e == 0 { e } else { 1 };
        let lerp = |a: (f64, f64), b: (f64, f64), t: f64| {
            (a.0 * (1.0 - t) + b.0 * t, a.1 * (1.0 - t) + b.1 * t)
        };
        for j in (0..nodes).step_by(e as usize) {
            for i in (0..nodes).step_by(e as usize) {
                nc[(j * nodes + i) as usize] = exact(i, j);
            }
            for i in 0..nodes {
                if i % e != 0 {
                    let (i0, t) = (i - i % e, (i % e) as f64 / e as f64);
                    let (a, b) = (
                        nc[(j * nodes + i0) as usize],
                        nc[(j * nodes + i0 + e) as usize],
                    );
                    nc[(j * nodes + i) as usize] = lerp(a, b, t);
                }
            }
        }
        for j in 0..nodes {
            if j % e != 0 {
                let (j0, t) = (j - j % e, (j % e) as f64 / e as f64);
                for i in 0..nodes {
                    let (a, b) = (
                        nc[(j0 * nodes + i) as usize],
                        nc[((j0 + e) * nodes + i) as usize],
                    );
                    nc[(j * nodes + i) as usize] = lerp(a, b, t);
                }
            }
        }
        nc
    }
}

/// A sampled block: the corner nodes of its 16-px node block, and (u0, v0, m), its
/// top-left sample and side within that block.
pub(crate) type SampledBlock<'a> = (&'a [(f64, f64); 4], (u32, u32, u32));

/// The pixel-corner classes of one 16-px node block (rows of SIDE).
pub(crate) type Corners = [u8; SIDE * SIDE];
pub(crate) const SIDE: usize = STEP as usize + 1;

/// Classes at the sample rows v0..=v0 + m of a sampled block (u0, v0, m: columns
/// u0..=u0 + m) of the node block `corners`, into `corner`: through the block's quads when
/// it has few, else sample by sample.
#[inline(always)]
fn sample_rows(
    s: &Surface,
    pyr: &ClassPyramid,
    span: Option<[i64; 4]>,
    (corners, (u0, v0, m)): SampledBlock,
    corner: &mut Corners,
    last: &mut Mixed,
) {
    let quads = span.and_then(|q| QuadSet::new(pyr, q));
    for v in v0..=v0 + m {
        let (mut fcs, mut frs) = ([0f64; STEP as usize + 1], [0f64; STEP as usize + 1]);
        let n = (m + 1) as usize;
        row_points(corners, u0, v, &mut fcs[..n], &mut frs[..n]);
        let dst = &mut corner[v as usize * SIDE + u0 as usize..][..n];
        if let Some(qs) = &quads {
            qs.sample_row(s, &fcs[..n], &frs[..n], dst);
        } else if span.is_some() {
            pyr.sample_row(s, &fcs[..n], &frs[..n], dst, last);
        } else {
            for (i, o) in dst.iter_mut().enumerate() {
                *o = class_at(s, fcs[i], frs[i]);
            }
        }
    }
}

/// The classes a tile's parent takes from it: the tile's pixel corners at even
/// positions, (size / 2 + 1)² of them, row-major. Pixel coordinates halve exactly from a
/// zoom to the one above, so every pixel corner of a tile is an even corner of one of
/// its four children (of the same size).
#[derive(Clone, Debug, PartialEq)]
pub enum ParentSamples {
    /// All of them this class (empty and one-class tiles).
    Uniform(u8),
    Grid(Vec<u8>),
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
    draw_surface(s, pyr, pal, tile, size, crs_out, false).0
}

/// Which classes are drawn with a pattern's ink, and whether any is.
fn patterned(pal: &SurfacePalette) -> ([bool; 5], bool) {
    let p: [bool; 5] = std::array::from_fn(|c| c > 0 && pal.patterns[c] != Pattern::None);
    (p, p.iter().any(|&x| x))
}

/// The most pixels `mix_row` draws at once.
const MIX_RUN: usize = 32;

/// One row of pixels (at most MIX_RUN) from the classes at their top and bottom corners
/// (`top` and `bottom` one longer than `dst`): each pixel mixes its four corners, and a patterned
/// class's own pixels may take its ink (`gx`, `gy`: the global pixel of `dst[0]`).
/// Whether anything is drawn.
#[inline(always)]
fn mix_row(
    pal: &SurfacePalette,
    (patterned, any_pattern): ([bool; 5], bool),
    top: &[u8],
    bottom: &[u8],
    dst: &mut [u8],
    (gx, gy): (i64, i64),
) -> bool {
    debug_assert!(dst.len() <= MIX_RUN);
    let n = dst.len().min(MIX_RUN);
    let (t, b) = (&top[..=n], &bottom[..=n]);
    // a column's two corners, as `mix_key` places the left ones; the right ones are
    // the next column's shifted by 3 bits
    let mut col = [0u16; MIX_RUN + 1];
    for ((k, &t), &b) in col.iter_mut().zip(t).zip(b) {
        *k = t as u16 | (b as u16) << 6;
    }
    let mut any = 0;
    for (o, k) in dst[..n].iter_mut().zip(col.windows(2)) {
        *o = pal.lut[(k[0] | k[1] << 3) as usize & 4095];
        any |= *o;
    }
    if any_pattern {
        for (i, o) in dst[..n].iter_mut().enumerate() {
            let c = t[i];
            if patterned[c as usize] && c == t[i + 1] && c == b[i] && c == b[i + 1] {
                *o = pal.ink(c, gx + i as i64, gy).unwrap_or(*o);
            }
        }
    }
    any != 0
}

/// A surface tile drawn from its four children's `ParentSamples` (in the order (2x, 2y),
/// (2x + 1, 2y), (2x, 2y + 1), (2x + 1, 2y + 1); a child not drawn gives
/// `Uniform(0)`), with the samples its own parent takes. Every pixel corner is a
/// child's even corner, located by the child's finer node interpolation: the tile is
/// the one `render_surface` draws but where a corner lies within that interpolation's
/// error (1/50 px) of a zone edge.
pub fn derive_surface(
    pal: &SurfacePalette,
    tile: Tile,
    size: u32,
    children: [&ParentSamples; 4],
) -> (SurfaceTile, ParentSamples) {
    let pat = patterned(pal);
    if let ParentSamples::Uniform(q) = *children[0] {
        if children.iter().all(|c| **c == ParentSamples::Uniform(q)) && !pat.0[q as usize] {
            return match q {
                0 => (SurfaceTile::Empty, ParentSamples::Uniform(0)),
                _ => (
                    SurfaceTile::Solid(pal.index([q; 4])),
                    ParentSamples::Uniform(q),
                ),
            };
        }
    }
    let (n, h, hs) = (
        (size + 1) as usize,
        (size / 2 + 1) as usize,
        (size / 2) as usize,
    );
    let mut grid = vec![0u8; n * n];
    for (k, child) in children.iter().enumerate() {
        let (ox, oy) = ((k & 1) * hs, (k >> 1) * hs);
        for r in 0..h {
            let dst = &mut grid[(oy + r) * n + ox..][..h];
            match child {
                ParentSamples::Uniform(q) => dst.fill(*q),
                ParentSamples::Grid(g) => dst.copy_from_slice(&g[r * h..][..h]),
            }
        }
    }
    let mut out = vec![0u8; (size * size) as usize];
    let (gx, gy) = (tile.x as i64 * size as i64, tile.y as i64 * size as i64);
    let mut drawn = false;
    let solid: [u8; 5] = std::array::from_fn(|c| pal.index([c as u8; 4]));
    for (py, dst) in out.chunks_exact_mut(size as usize).enumerate() {
        let (top, bottom) = (&grid[py * n..][..n], &grid[(py + 1) * n..][..n]);
        let gy = gy + py as i64;
        // runs of MIX_RUN pixels whose corners are all one class (most of a tile) are filled
        for (x0, dst) in (0..).step_by(MIX_RUN).zip(dst.chunks_mut(MIX_RUN)) {
            let (t, b) = (&top[x0..][..=dst.len()], &bottom[x0..][..=dst.len()]);
            let c = t[0];
            if !pat.0[c as usize] && all_eq(t, c) && all_eq(b, c) {
                dst.fill(solid[c as usize]);
                drawn |= c != 0;
            } else {
                drawn |= mix_row(pal, pat, t, b, dst, (gx + x0 as i64, gy));
            }
        }
    }
    if !drawn {
        return (SurfaceTile::Empty, ParentSamples::Uniform(0));
    }
    let q = grid[0];
    if all_eq(&grid, q) {
        let shared = ParentSamples::Uniform(q);
        if !pat.0[q as usize] {
            return (SurfaceTile::Solid(pal.index([q; 4])), shared);
        }
        return (SurfaceTile::Indices(out), shared);
    }
    let mut half = vec![0u8; h * h];
    for (r, row) in half.chunks_exact_mut(h).enumerate() {
        let src = &grid[2 * r * n..][..n];
        for (c, o) in row.iter_mut().enumerate() {
            *o = src[2 * c];
        }
    }
    (SurfaceTile::Indices(out), ParentSamples::Grid(half))
}

/// `render_surface`; with `keep`, the classes its parent takes from it too.
pub fn draw_surface(
    s: &Surface,
    pyr: &ClassPyramid,
    pal: &SurfacePalette,
    tile: Tile,
    size: u32,
    crs_out: Crs,
    keep: bool,
) -> (SurfaceTile, ParentSamples) {
    // cell coordinates at nodes every STEP px (exact ones every exact_span nodes, linear
    // between), then bilinear inside a block: the tile→UTM mapping is smooth
    let nodes = size / STEP + 1;
    let (ox, oy) = (tile.x as f64 * size as f64, tile.y as f64 * size as f64);
    let nc = cell_nodes(s, tile, size, crs_out, exact_span(tile.z, crs_out));
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
        return (SurfaceTile::Empty, ParentSamples::Uniform(0));
    }
    if lo == hi && pal.patterns[hi as usize] == Pattern::None {
        return (
            SurfaceTile::Solid(pal.index([hi; 4])),
            ParentSamples::Uniform(hi),
        );
    }
    let mut out = vec![0u8; (size * size) as usize];
    let n = |a: u32, b: u32| nc[(b * nodes + a) as usize];
    let blocks = nodes - 1;
    // classes at the pixel corners of a block: each pixel mixes its four corners (a 2×2
    // supersample whose samples neighbouring pixels share)
    let mut corner: Corners = [0; SIDE * SIDE];
    let mut scratch = BlockScratch {
        fcs: [0.0; BLOCK_SAMPLES],
        frs: [0.0; BLOCK_SAMPLES],
        classes: [0; BLOCK_SAMPLES],
    };
    let solid: [u8; 5] = std::array::from_fn(|c| pal.index([c as u8; 4]));
    let pat = patterned(pal);
    let patterned = pat.0;
    let (gx, gy) = (ox as i64, oy as i64);
    // whether any pixel is drawn: palette index 0 is only the mix of four class-0 samples
    let mut drawn = false;
    // the parent's samples: the even pixel corners (0 until drawn)
    let h = (size / 2 + 1) as usize;
    let mut half = if keep { vec![0u8; h * h] } else { Vec::new() };
    // pixels [x0, x0 + m) × [y0, y0 + m) all of class q (and so their corners);
    // whether that draws anything
    let fill = |out: &mut [u8], half: &mut [u8], x0: u32, y0: u32, m: u32, q: u8| -> bool {
        if q == 0 {
            return false;
        }
        if keep {
            // x0, y0 and m are even (blocks are multiples of MIN_BLOCK)
            for y in (y0..=y0 + m).step_by(2) {
                half[(y / 2) as usize * h + (x0 / 2) as usize..][..(m / 2 + 1) as usize].fill(q);
            }
        }
        for py in y0..y0 + m {
            let dst = &mut out[(py * size + x0) as usize..][..m as usize];
            if patterned[q as usize] {
                for (u, o) in dst.iter_mut().enumerate() {
                    let px = x0 as i64 + u as i64;
                    *o = pal
                        .ink(q, gx + px, gy + py as i64)
                        .unwrap_or(solid[q as usize]);
                }
            } else {
                dst.fill(solid[q as usize]);
            }
        }
        true
    };
    let mut stack: Vec<(u32, u32, u32)> = Vec::with_capacity(16);
    let mut last = Mixed::NONE;
    // node-aligned super-blocks of 4 × 4, then 2 × 2 node steps first (a tile is mostly
    // inside one zone): their samples lie within the bounding box of their nodes
    let mut todo: Vec<(u32, u32)> = Vec::with_capacity((blocks * blocks) as usize);
    let mut supers: Vec<(u32, u32, u32)> = Vec::with_capacity(16);
    for sj in (0..blocks).step_by(4) {
        for si in (0..blocks).step_by(4) {
            supers.push((si, sj, 4.min(blocks - si).min(blocks - sj)));
        }
    }
    while let Some((si, sj, nb)) = supers.pop() {
        if nb == 1 {
            todo.push((si, sj));
            continue;
        }
        let mut b = [f64::MAX, f64::MIN, f64::MAX, f64::MIN];
        for j in sj..=sj + nb {
            for i in si..=si + nb {
                let (fc, fr) = n(i, j);
                b = [
                    fmin(b[0], fc),
                    fmax(b[1], fc),
                    fmin(b[2], fr),
                    fmax(b[3], fr),
                ];
            }
        }
        if let Some(q) = pyr
            .quad_span(b)
            .and_then(|q| pyr.span_class(s, b, q, &mut last))
        {
            drawn |= fill(&mut out, &mut half, si * STEP, sj * STEP, nb * STEP, q);
            continue;
        }
        supers.extend(quarters(si, sj, nb));
    }
    for (bi, bj) in todo {
        let corners = [n(bi, bj), n(bi + 1, bj), n(bi, bj + 1), n(bi + 1, bj + 1)];
        // the samples at block-relative (u, v), u and v in {0, MIN_BLOCK, STEP}, the
        // only corners a block and its quarters have: the block's own corner nodes
        // (`block_point` gives them to the bit), the other five when it is split
        let mut grid = [corners[0]; 9];
        (grid[2], grid[6], grid[8]) = (corners[1], corners[2], corners[3]);
        let mut split = false;
        // blocks whose samples all fall in quads of one class are filled at once;
        // the others are split down to MIN_BLOCK px, then sampled
        stack.push((0, 0, STEP));
        while let Some((u0, v0, m)) = stack.pop() {
            if m < STEP && !split {
                for (u, v) in [(1, 0), (0, 1), (1, 1), (2, 1), (1, 2)] {
                    let t = |i: u32| (i * MIN_BLOCK) as f64 / STEP as f64;
                    grid[v as usize * 3 + u as usize] = block_point(&corners, t(u), t(v));
                }
                split = true;
            }
            let at = |u: u32, v: u32| grid[(v / MIN_BLOCK * 3 + u / MIN_BLOCK) as usize];
            let k = [
                at(u0, v0),
                at(u0 + m, v0),
                at(u0, v0 + m),
                at(u0 + m, v0 + m),
            ];
            let b = bounds(&k);
            let span = pyr.quad_span(b);
            let (x0, y0) = (bi * STEP + u0, bj * STEP + v0);
            if let Some(q) = span.and_then(|q| pyr.span_class(s, b, q, &mut last)) {
                drawn |= fill(&mut out, &mut half, x0, y0, m, q);
                continue;
            }
            if span.is_some() && m > MIN_BLOCK {
                stack.extend(quarters(u0, v0, m));
                continue;
            }
            if let Some(q) = span.filter(|q| q[0] == q[2] && q[1] == q[3]) {
                // every sample inside one mixed quad (most sampled blocks at high zoom):
                // the whole block in one loop, in that quad's arithmetic
                pyr.sample_block(
                    s,
                    q,
                    (&corners, (u0, v0, m)),
                    &mut corner,
                    &mut last,
                    &mut scratch,
                );
            } else {
                sample_rows(
                    s,
                    pyr,
                    span,
                    (&corners, (u0, v0, m)),
                    &mut corner,
                    &mut last,
                );
            }
            if keep {
                for v in (v0..=v0 + m).step_by(2) {
                    let row = &corner[v as usize * SIDE..][..SIDE];
                    let y = ((bj * STEP + v) / 2) as usize;
                    let x = ((bi * STEP + u0) / 2) as usize;
                    let dst = &mut half[y * h + x..][..(m / 2 + 1) as usize];
                    for (o, &c) in dst.iter_mut().zip(row[u0 as usize..].iter().step_by(2)) {
                        *o = c;
                    }
                }
            }
            for v in v0..v0 + m {
                let py = bj * STEP + v;
                let top = &corner[v as usize * SIDE..][..SIDE];
                let bottom = &corner[(v as usize + 1) * SIDE..][..SIDE];
                let (u0, n) = (u0 as usize, m as usize);
                let x0 = bi * STEP + u0 as u32;
                let dst = &mut out[(py * size + x0) as usize..][..n];
                let at = (gx + x0 as i64, gy + py as i64);
                drawn |= mix_row(pal, pat, &top[u0..], &bottom[u0..], dst, at);
            }
        }
    }
    if !drawn {
        debug_assert!(all_eq(&out, 0));
        return (SurfaceTile::Empty, ParentSamples::Uniform(0));
    }
    let shared = if keep {
        ParentSamples::Grid(half)
    } else {
        ParentSamples::Uniform(0)
    };
    (SurfaceTile::Indices(out), shared)
}

#[cfg(test)]
#[path = "raster_tests.rs"]
mod tests;
