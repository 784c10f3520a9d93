//! The surface layer, drawn straight from the globally classified surface: every tile pixel
//! looks up the surface at its own location (bilinear interpolation of the kernel sums,
//! then the fixed global thresholds), 2×2 supersampled for antialiased edges. A pixel's
//! colour depends only on where it is, so neighbouring tiles meet without seams, and class
//! ids go straight into palette indices (no RGBA pass before encoding).

use super::tile::{unpixel, Tile};
use crate::analyze::surface::{level_of, Surface};
use crate::crs::Crs;
use crate::style::{parse_hex, Pattern, Style};
use rayon::prelude::*;

/// Min / max pyramid over a grid of u8 codes: O(1)-ish checks of whether a footprint holds
/// one code only.
struct MinMax {
    /// The codes themselves (level 0), `w` × `h`.
    base: Vec<u8>,
    w: usize,
    h: usize,
    /// levels[k - 1]: (width, height, min, max) of 2^k × 2^k blocks.
    levels: Vec<(usize, usize, Vec<u8>, Vec<u8>)>,
}

impl MinMax {
    fn new(w: usize, h: usize, base: Vec<u8>) -> MinMax {
        // one 2×2 reduction of the minima `mn` and maxima `mx` (sw × sh) into `omn` and
        // `omx`, both in one pass over the rows, rows in parallel
        fn reduce(
            (mn, mx): (&[u8], &[u8]),
            sw: usize,
            sh: usize,
            (omn, omx): (&mut [u8], &mut [u8]),
        ) {
            let nw = sw.div_ceil(2);
            omn.par_chunks_mut(nw)
                .zip(omx.par_chunks_mut(nw))
                .enumerate()
                .for_each(|(y, (rmn, rmx))| {
                    let (y0, y1) = (2 * y, (2 * y + 1).min(sh - 1));
                    for (x, (a, b)) in rmn.iter_mut().zip(rmx.iter_mut()).enumerate() {
                        let (x0, x1) = (2 * x, (2 * x + 1).min(sw - 1));
                        let k = [y0 * sw + x0, y0 * sw + x1, y1 * sw + x0, y1 * sw + x1];
                        *a = mn[k[0]].min(mn[k[1]]).min(mn[k[2]].min(mn[k[3]]));
                        *b = mx[k[0]].max(mx[k[1]]).max(mx[k[2]].max(mx[k[3]]));
                    }
                })
        }
        let mut levels: Vec<(usize, usize, Vec<u8>, Vec<u8>)> = Vec::new();
        let (mut cw, mut ch) = (w, h);
        while cw > 1 || ch > 1 {
            let (nw, nh) = (cw.div_ceil(2), ch.div_ceil(2));
            let mut nmn = vec![0u8; nw * nh];
            let mut nmx = vec![0u8; nw * nh];
            let src = match levels.last() {
                None => (&base[..], &base[..]),
                Some((_, _, mn, mx)) => (&mn[..], &mx[..]),
            };
            reduce(src, cw, ch, (&mut nmn, &mut nmx));
            levels.push((nw, nh, nmn, nmx));
            (cw, ch) = (nw, nh);
        }
        MinMax { base, w, h, levels }
    }

    /// Min and max code over [c0, c1] × [r0, r1] (clamped; conservative).
    fn range(&self, c0: i64, r0: i64, c1: i64, r1: i64) -> (u8, u8) {
        let (w, h) = (self.w as i64, self.h as i64);
        let (c0, r0, c1, r1) = (c0.max(0), r0.max(0), c1.min(w - 1), r1.min(h - 1));
        if c0 > c1 || r0 > r1 {
            return (0, 0);
        }
        let span = (c1 - c0).max(r1 - r0) as usize;
        let mut k = 0;
        while (1usize << (k + 1)) <= span / 2 && k < self.levels.len() {
            k += 1;
        }
        let (lw, mn, mx) = match k {
            0 => (self.w, &self.base, &self.base),
            _ => {
                let l = &self.levels[k - 1];
                (l.0, &l.2, &l.3)
            }
        };
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

/// Lookup structures over the classified surface for drawing tiles: a min / max pyramid of
/// classes (is a tile's footprint empty or one class?), the surface padded by one zero cell
/// on every side (so samples of a block known to be in range need no per-sample bounds
/// logic), and per padded cell the class its 2×2 quad shares (or MIXED), with its own
/// pyramid (is every sample of a block in quads of one class?).
pub struct ClassPyramid {
    /// Classes of the padded copy (`base`: cell (c, r) at (r + 1)·pw + c + 1).
    classes: MinMax,
    /// Width and height of the padded copy.
    pw: usize,
    ph: usize,
    pval: Vec<f32>,
    /// Per padded cell k (`base`): the class shared by cells k, k+1, k+pw, k+pw+1, or
    /// MIXED.
    quads: MinMax,
}

const MIXED: u8 = u8::MAX;

impl ClassPyramid {
    pub fn new(s: &Surface) -> ClassPyramid {
        let (pw, ph) = (s.width + 2, s.height + 2);
        let mut pcls = vec![0u8; pw * ph];
        let mut pval = vec![0f32; pw * ph];
        // padded row r + 1 holds surface row r (rows in parallel: the copy is most of
        // the time it takes to touch these fresh pages)
        pcls.par_chunks_mut(pw)
            .zip(pval.par_chunks_mut(pw))
            .skip(1)
            .take(s.height)
            .enumerate()
            .for_each(|(r, (c, v))| {
                let src = r * s.width;
                c[1..=s.width].copy_from_slice(&s.classes[src..src + s.width]);
                v[1..=s.width].copy_from_slice(&s.values[src..src + s.width]);
            });
        let mut quad = vec![MIXED; pw * ph];
        quad[..pw * (ph - 1)]
            .par_chunks_mut(pw)
            .enumerate()
            .for_each(|(r, row)| {
                for c in 0..pw - 1 {
                    let k = r * pw + c;
                    let a = pcls[k];
                    if a == pcls[k + 1] && a == pcls[k + pw] && a == pcls[k + pw + 1] {
                        row[c] = a;
                    }
                }
            });
        ClassPyramid {
            classes: MinMax::new(pw, ph, pcls),
            pw,
            ph,
            pval,
            quads: MinMax::new(pw, ph, quad),
        }
    }

    /// Min and max class over cells [c0, c1] × [r0, r1] (clamped; conservative).
    pub fn range(&self, c0: i64, r0: i64, c1: i64, r1: i64) -> (u8, u8) {
        self.classes.range(c0 + 1, r0 + 1, c1 + 1, r1 + 1)
    }

    /// The padded quads that samples with cell coordinates within `b` (cmin, cmax, rmin,
    /// rmax) read, if they all lie inside the padded copy.
    #[inline]
    fn quad_span(&self, b: [f64; 4]) -> Option<[i64; 4]> {
        let [cmin, cmax, rmin, rmax] = b;
        // samples are convex combinations of the block corners; a rounding ulp either way
        // only widens the span
        const EPS: f64 = 1e-9;
        let q = [
            ffloor(cmin - EPS) as i64 + 1,
            ffloor(rmin - EPS) as i64 + 1,
            ffloor(cmax + EPS) as i64 + 1,
            ffloor(rmax + EPS) as i64 + 1,
        ];
        (q[0] >= 0 && q[1] >= 0 && q[2] <= self.pw as i64 - 2 && q[3] <= self.ph as i64 - 2)
            .then_some(q)
    }

    /// The class of every sample within the bounds `b` (cmin, cmax, rmin, rmax) whose
    /// quads are `q`, when they all have one: uniform quads of that class, and mixed
    /// quads whose bilinear value over the part of the bounds inside them stays clear of
    /// the thresholds around it (a bilinear function over an axis-aligned rectangle takes
    /// its extremes at the corners; the margin covers the samples' rounding).
    #[inline]
    fn span_class(&self, s: &Surface, b: [f64; 4], q: [i64; 4], last: &mut Mixed) -> Option<u8> {
        if q[2] - q[0] > 1 || q[3] - q[1] > 1 {
            let (lo, hi) = self.quads.range(q[0], q[1], q[2], q[3]);
            return (lo == hi && lo != MIXED).then_some(lo);
        }
        // one to four quads (small blocks at high zoom): read them directly
        let mut class = None;
        for qr in q[1]..=q[3] {
            for qc in q[0]..=q[2] {
                let k = qr as usize * self.pw + qc as usize;
                let mut c = self.quads.base[k];
                if c == MIXED {
                    // padded quad (qc, qr) spans cell coordinates [qc - 1, qc] and rows alike
                    const EPS: f64 = 1e-9;
                    let (c0, r0) = ((qc - 1) as f64, (qr - 1) as f64);
                    let tx0 = fmax(b[0] - EPS - c0, 0.0);
                    let tx1 = fmin(b[1] + EPS - c0, 1.0);
                    let ty0 = fmax(b[2] - EPS - r0, 0.0);
                    let ty1 = fmin(b[3] + EPS - r0, 1.0);
                    self.mixed(k, last);
                    let v = [
                        last.value(tx0, ty0),
                        last.value(tx1, ty0),
                        last.value(tx0, ty1),
                        last.value(tx1, ty1),
                    ];
                    let margin = 1e-9 * (1.0 + last.coef.iter().map(|x| x.abs()).sum::<f64>());
                    let lo = last.class_of(s, fmin(fmin(v[0], v[1]), fmin(v[2], v[3])) - margin);
                    let hi = last.class_of(s, fmax(fmax(v[0], v[1]), fmax(v[2], v[3])) + margin);
                    if lo != hi {
                        return None;
                    }
                    c = lo;
                }
                if class.is_some_and(|x| x != c) {
                    return None;
                }
                class = Some(c);
            }
        }
        class
    }

    /// `class_at` for samples whose cells (floor(fc)..=floor(fc)+1 and the same in rows)
    /// lie within one cell of the surface, from the padded copy; `last` keeps the mixed
    /// quad read last (neighbouring samples mostly share it).
    #[inline(always)]
    fn class_in(&self, s: &Surface, fc: f64, fr: f64, last: &mut Mixed) -> u8 {
        let (c0, r0) = (ifloor(fc), ifloor(fr));
        let k = (r0 + 1) as usize * self.pw + (c0 + 1) as usize;
        let q = self.quads.base[k];
        if q != MIXED {
            return q;
        }
        self.mixed(k, last);
        last.class(s, fc - c0 as f64, fr - r0 as f64)
    }

    /// `class_in` without keeping a quad: for rows whose samples step across more than
    /// a cell (low zooms), where a quad is rarely read twice, only the class drawn for
    /// the thresholds reached is worked out (`Mixed::new` and `class_for`, inline).
    #[inline(always)]
    fn class_direct(&self, t: &[f64; 4], fc: f64, fr: f64) -> u8 {
        let (c0, r0) = (ifloor(fc), ifloor(fr));
        let k = (r0 + 1) as usize * self.pw + (c0 + 1) as usize;
        let q = self.quads.base[k];
        if q != MIXED {
            return q;
        }
        let (cb, pv, pw) = (&self.classes.base, &self.pval, self.pw);
        let present =
            1u8 | (1 << cb[k]) | (1 << cb[k + 1]) | (1 << cb[k + pw]) | (1 << cb[k + pw + 1]);
        let v = [
            pv[k] as f64,
            pv[k + 1] as f64,
            pv[k + pw] as f64,
            pv[k + pw + 1] as f64,
        ];
        let val = bilinear_at(&bilinear(v), fc - c0 as f64, fr - r0 as f64);
        drawn_for(present, reached_by(t, val))
    }

    /// Classes at the samples of a block (u0, v0, m: columns u0..=u0 + m, rows
    /// v0..=v0 + m, m at most MIN_BLOCK) of the node block `corners` that all lie inside
    /// the padded quad q (q[0] = q[2], q[1] = q[3]), into `corner`: positions as
    /// `row_points`, classes as `class_in`.
    #[inline(always)]
    fn sample_block(
        &self,
        s: &Surface,
        q: [i64; 4],
        (corners, (u0, v0, m)): SampledBlock,
        corner: &mut Corners,
        last: &mut Mixed,
        scratch: &mut BlockScratch,
    ) {
        let n = (m.min(MIN_BLOCK) + 1) as usize;
        let k = q[1] as usize * self.pw + q[0] as usize;
        debug_assert_eq!(self.quads.base[k], MIXED, "span_class fills uniform quads");
        self.mixed(k, last);
        let BlockScratch { fcs, frs, classes } = scratch;
        for r in 0..n {
            let v = v0 + r as u32;
            row_points(
                corners,
                u0,
                v,
                &mut fcs[r * n..][..n],
                &mut frs[r * n..][..n],
            );
        }
        // padded quad (qc, qr) spans cell coordinates [qc − 1, qc]
        let top_left = ((q[0] - 1) as f64, (q[1] - 1) as f64);
        let nn = n * n;
        last.classify(
            &s.thresholds,
            top_left,
            &fcs[..nn],
            &frs[..nn],
            &mut classes[..nn],
        );
        for r in 0..n {
            corner[(v0 as usize + r) * SIDE + u0 as usize..][..n]
                .copy_from_slice(&classes[r * n..][..n]);
        }
    }

    /// Make `last` the mixed quad at padded cell k.
    #[inline(always)]
    fn mixed(&self, k: usize, last: &mut Mixed) {
        if last.k != k {
            *last = self.quad(k);
        }
    }

    /// The quad at padded cell k, ready to classify samples in it.
    #[inline(always)]
    fn quad(&self, k: usize) -> Mixed {
        let pw = self.pw;
        let cls = [
            self.classes.base[k],
            self.classes.base[k + 1],
            self.classes.base[k + pw],
            self.classes.base[k + pw + 1],
        ];
        let v = [
            self.pval[k] as f64,
            self.pval[k + 1] as f64,
            self.pval[k + pw] as f64,
            self.pval[k + pw + 1] as f64,
        ];
        Mixed::new(k, cls, v)
    }

    /// `class_in` for a row of samples (cell coordinates linear along the row): when
    /// both ends lie clearly inside one quad, so does every sample between them, and the
    /// quad is looked up once.
    #[inline]
    fn sample_row(&self, s: &Surface, fcs: &[f64], frs: &[f64], out: &mut [u8], last: &mut Mixed) {
        const EPS: f64 = 1e-9;
        let cell = |x: f64| {
            let a = ifloor(x - EPS);
            (a == ifloor(x + EPS)).then_some(a)
        };
        let n = fcs.len();
        if let (Some(c0), Some(c1), Some(r0), Some(r1)) = (
            cell(fcs[0]),
            cell(fcs[n - 1]),
            cell(frs[0]),
            cell(frs[n - 1]),
        ) {
            if c0 == c1 && r0 == r1 {
                let k = (r0 + 1) as usize * self.pw + (c0 + 1) as usize;
                let q = self.quads.base[k];
                if q != MIXED {
                    out.fill(q);
                    return;
                }
                self.mixed(k, last);
                let (cf, rf) = (c0 as f64, r0 as f64);
                for ((o, &fc), &fr) in out.iter_mut().zip(fcs).zip(frs) {
                    *o = last.class(s, fc - cf, fr - rf);
                }
                return;
            }
        }
        // samples more than half a cell apart rarely share a mixed quad
        let (dc, dr) = (fcs[n - 1] - fcs[0], frs[n - 1] - frs[0]);
        if dc * dc + dr * dr > 0.25 * ((n - 1) * (n - 1)) as f64 {
            let t = &s.thresholds;
            for ((o, &fc), &fr) in out.iter_mut().zip(fcs).zip(frs) {
                *o = self.class_direct(t, fc, fr);
            }
            return;
        }
        for ((o, &fc), &fr) in out.iter_mut().zip(fcs).zip(frs) {
            *o = self.class_in(s, fc, fr, last);
        }
    }
}

/// The few quads a sampled block's samples fall in (up to 4 × 4), read once: each
/// sample then picks its quad by arithmetic and is classified without branches (the
/// bilinear class is computed for every sample and the quad's shared class, when it has
/// one, chosen instead), with `class_at`'s arithmetic to the bit.
struct QuadSet {
    /// Cell column and row of the first quad's top-left cell, and the columns and rows
    /// where the next quads start (+∞ past the set): a sample finds its quad by
    /// comparisons, without a float → int conversion.
    c0: f64,
    r0: f64,
    cols: [f64; 3],
    rows: [f64; 3],
    /// Quads per row.
    w: usize,
    /// Per quad: the bilinear surface, and the class it shares (or MIXED).
    quads: [Mixed; 16],
    shared: [u8; 16],
}

impl QuadSet {
    #[inline]
    fn new(pyr: &ClassPyramid, q: [i64; 4]) -> Option<QuadSet> {
        let (w, h) = ((q[2] - q[0] + 1) as usize, (q[3] - q[1] + 1) as usize);
        if w > 4 || h > 4 {
            return None;
        }
        // padded quad (qc, qr) spans cell coordinates [qc − 1, qc]
        let (c0, r0) = ((q[0] - 1) as f64, (q[1] - 1) as f64);
        let next = |o: f64, n: usize| {
            std::array::from_fn(|i| {
                if i + 1 < n {
                    o + (i + 1) as f64
                } else {
                    f64::INFINITY
                }
            })
        };
        let mut qs = QuadSet {
            c0,
            r0,
            cols: next(c0, w),
            rows: next(r0, h),
            w,
            quads: [Mixed::NONE; 16],
            shared: [0; 16],
        };
        for r in 0..h {
            for c in 0..w {
                let k = (q[1] as usize + r) * pyr.pw + q[0] as usize + c;
                qs.shared[r * w + c] = pyr.quads.base[k];
                qs.quads[r * w + c] = pyr.quad(k);
            }
        }
        Some(qs)
    }

    /// Classes of a row of samples (all inside the set's quads). The samples move
    /// linearly along the row, so the quads they fall in come in runs: each run is
    /// classified in its quad's arithmetic, in loops the compiler vectorises (no
    /// per-sample gather of a quad).
    #[inline]
    fn sample_row(&self, s: &Surface, fcs: &[f64], frs: &[f64], out: &mut [u8]) {
        let t = s.thresholds;
        let (cols, rows) = (self.cols, self.rows);
        let n = fcs.len().min(frs.len()).min(out.len());
        // a row whose end samples lie clearly inside one quad is one run (most rows at
        // high zoom): no per-sample comparisons
        const EPS: f64 = 1e-9;
        let idx = |x: f64, e: [f64; 3]| {
            (x >= e[0]) as usize + (x >= e[1]) as usize + (x >= e[2]) as usize
        };
        let (ca, ra) = (idx(fcs[0] - EPS, cols), idx(frs[0] - EPS, rows));
        if ca == idx(fcs[0] + EPS, cols)
            && ca == idx(fcs[n - 1] - EPS, cols)
            && ca == idx(fcs[n - 1] + EPS, cols)
            && ra == idx(frs[0] + EPS, rows)
            && ra == idx(frs[n - 1] - EPS, rows)
            && ra == idx(frs[n - 1] + EPS, rows)
        {
            self.sample_run(&t, ra * self.w + ca, fcs, frs, out);
            return;
        }
        // the quad of every sample: floor(fc) − c0 and floor(fr) − r0 by comparisons
        let mut js = [0u8; STEP as usize + 1];
        for ((j, &fc), &fr) in js.iter_mut().zip(&fcs[..n]).zip(&frs[..n]) {
            *j = (idx(fr, rows) * self.w + idx(fc, cols)) as u8;
        }
        let mut i0 = 0;
        while i0 < n {
            let j = js[i0];
            let i1 = i0 + 1 + js[i0 + 1..n].iter().take_while(|&&x| x == j).count();
            let (f, r) = (&fcs[i0..i1], &frs[i0..i1]);
            self.sample_run(&t, j as usize, f, r, &mut out[i0..i1]);
            i0 = i1;
        }
    }

    /// Classes of samples all inside quad j of the set.
    #[inline(always)]
    fn sample_run(&self, t: &[f64; 4], j: usize, fcs: &[f64], frs: &[f64], out: &mut [u8]) {
        let j = j & 15;
        if self.shared[j] != MIXED {
            out.fill(self.shared[j]);
            return;
        }
        let (ci, ri) = (j % self.w, j / self.w);
        let top_left = (self.c0 + ci as f64, self.r0 + ri as f64);
        self.quads[j].classify(t, top_left, fcs, frs, out);
    }
}

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
fn ifloor(x: f64) -> i64 {
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
fn row_points(k: &[(f64, f64); 4], u0: u32, v: u32, fcs: &mut [f64], frs: &mut [f64]) {
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
    Mixed::new(usize::MAX, cls, v).class(s, tx, ty)
}

/// The bilinear surface through the values at a quad's corners (top-left, top-right,
/// bottom-left, bottom-right) as p + q·tx + r·ty + w·tx·ty.
#[inline(always)]
fn bilinear(v: [f64; 4]) -> [f64; 4] {
    [v[0], v[1] - v[0], v[2] - v[0], v[0] - v[1] - v[2] + v[3]]
}

/// `bilinear`'s surface at (tx, ty) in 0..1.
#[inline(always)]
fn bilinear_at(c: &[f64; 4], tx: f64, ty: f64) -> f64 {
    let [p, q, r, w] = *c;
    p + tx * (q + w * ty) + r * ty
}

/// How many of the (rising) thresholds a value reaches: its class before `drawn_for`.
#[inline(always)]
fn reached_by(t: &[f64; 4], val: f64) -> u8 {
    (val >= t[0]) as u8 + (val >= t[1]) as u8 + (val >= t[2]) as u8 + (val >= t[3]) as u8
}

/// The class drawn where `reached` thresholds are reached among cells whose classes are
/// the bits of `present` (bit 0 always set): the highest present class up to it.
#[inline(always)]
fn drawn_for(present: u8, reached: u8) -> u8 {
    let below = present & ((2u32 << reached) - 1) as u8;
    (7 - below.leading_zeros()) as u8
}

/// A quad of cells whose classes differ, ready to classify samples inside it: the
/// bilinear surface as p + q·tx + r·ty + s·tx·ty, and per class reached the class drawn.
#[derive(Clone, Copy)]
pub(crate) struct Mixed {
    k: usize,
    coef: [f64; 4],
    /// The class drawn when k thresholds are reached: k itself when one of the four
    /// cells has class k, else the highest class below k that one has (or 0).
    drawn: [u8; 8],
}

impl Mixed {
    const NONE: Mixed = Mixed {
        k: usize::MAX,
        coef: [0.0; 4],
        drawn: [0; 8],
    };

    #[inline(always)]
    fn new(k: usize, cls: [u8; 4], v: [f64; 4]) -> Mixed {
        // bit c set when one of the four cells has class c (bit 0 always)
        let present = 1u8 | (1 << cls[0]) | (1 << cls[1]) | (1 << cls[2]) | (1 << cls[3]);
        Mixed {
            k,
            coef: bilinear(v),
            drawn: std::array::from_fn(|c| drawn_for(present, c as u8)),
        }
    }

    /// The bilinear value at (tx, ty) in 0..1 inside the quad.
    #[inline(always)]
    fn value(&self, tx: f64, ty: f64) -> f64 {
        bilinear_at(&self.coef, tx, ty)
    }

    /// Classes of samples (cell coordinates fcs, frs) all inside this quad, whose
    /// top-left cell is (cx, ry): in two loops the compiler vectorises.
    #[inline(always)]
    fn classify(
        &self,
        t: &[f64; 4],
        (cx, ry): (f64, f64),
        fcs: &[f64],
        frs: &[f64],
        out: &mut [u8],
    ) {
        for ((o, &fc), &fr) in out.iter_mut().zip(fcs).zip(frs) {
            *o = reached_by(t, self.value(fc - cx, fr - ry));
        }
        for o in out.iter_mut() {
            *o = self.drawn[*o as usize & 7];
        }
    }

    /// The class at (tx, ty) in 0..1 inside the quad.
    #[inline(always)]
    fn class(&self, s: &Surface, tx: f64, ty: f64) -> u8 {
        self.class_of(s, self.value(tx, ty))
    }

    /// The class drawn for a value (monotone in it).
    #[inline(always)]
    fn class_of(&self, s: &Surface, val: f64) -> u8 {
        self.class_for(&s.thresholds, val)
    }

    /// `class_of` with the thresholds at hand (hot loops keep them in registers).
    #[inline(always)]
    fn class_for(&self, t: &[f64; 4], val: f64) -> u8 {
        // the thresholds rise (config validation): the class is how many are reached
        // a class none of the four cells has is a band thinner than a cell: drawn as the
        // highest class present below it
        self.drawn[reached_by(t, val) as usize & 7]
    }
}

/// Pixels between a surface tile's nodes.
pub(crate) const STEP: u32 = 16;
/// Samples of one sampled block (reused: zeroing them per block cost as much as filling
/// them).
struct BlockScratch {
    fcs: [f64; BLOCK_SAMPLES],
    frs: [f64; BLOCK_SAMPLES],
    classes: [u8; BLOCK_SAMPLES],
}

const BLOCK_SAMPLES: usize = ((MIN_BLOCK + 1) * (MIN_BLOCK + 1)) as usize;

/// The smallest block drawn by sampling (larger mixed blocks are split once: a block's
/// corners and its quarters' lie on a 3 × 3 grid).
const MIN_BLOCK: u32 = 8;
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
    pub utm: crate::utm::Utm,
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
type SampledBlock<'a> = (&'a [(f64, f64); 4], (u32, u32, u32));

/// The pixel-corner classes of one 16-px node block (rows of SIDE).
type Corners = [u8; SIDE * SIDE];
const SIDE: usize = STEP as usize + 1;

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
mod tests {
    use super::*;

    /// Linear nodes between exact ones stay within 1/50 px (WGS84) or 1/20 px (GCJ-02) of
    /// the exact mapping, at every zoom, for 256 and 512 px tiles across Jinan.
    #[test]
    fn node_spacing_error() {
        let s = Surface {
            utm: crate::utm::Utm::new(50, true),
            x0: 300_000.0,
            y0: 3_950_000.0,
            res: 50.0,
            width: 0,
            height: 0,
            values: vec![],
            classes: vec![],
            thresholds: [1.0, 2.0, 3.0, 4.0],
        };
        for size in [256u32, 512] {
            for z in 8..=18u8 {
                for crs in [Crs::Wgs84, Crs::Gcj02] {
                    let mut worst: f64 = 0.0;
                    // tiles from the south-west to the north-east corner of Jinan
                    for k in 0..=8 {
                        let f = k as f64 / 8.0;
                        let (lon, lat) = (116.2 + 1.6 * f, 36.0 + 1.6 * f);
                        let t = crate::render::tile::tile(lon, lat, z);
                        let exact = cell_nodes(&s, t, size, crs, 1);
                        let fast = cell_nodes(&s, t, size, crs, exact_span(z, crs));
                        // metres per pixel here, over metres per cell
                        let px_m = 40_075_016.686 * lat.to_radians().cos()
                            / (size as f64 * 2f64.powi(z as i32));
                        for (a, b) in exact.iter().zip(&fast) {
                            let d = ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
                            worst = worst.max(d * s.res / px_m);
                        }
                    }
                    let bound = if crs == Crs::Gcj02 { 0.05 } else { 0.02 };
                    assert!(worst < bound, "z{z} {size}px {crs:?}: {worst:.4} px off");
                }
            }
        }
    }

    /// A synthetic surface near Jinan: Epanechnikov bumps of every level, overlapping.
    fn bumps() -> Surface {
        let utm = crate::utm::Utm::new(50, true);
        let (cx, cy) = utm.forward(117.0, 36.65);
        let (res, width, height) = (50.0, 400usize, 360usize);
        let (x0, y0) = (cx - 10_000.0, cy - 9_000.0);
        let mut values = vec![0f32; width * height];
        let mut seed = 7u64;
        let mut rnd = || crate::testutil::lcg(&mut seed);
        for _ in 0..300 {
            let (bx, by) = (rnd() * width as f64, rnd() * height as f64);
            let r = 5.0 + rnd() * 30.0;
            let w = [1.0, 2.0, 4.0, 8.0][(rnd() * 4.0) as usize] as f32;
            for row in 0..height {
                for col in 0..width {
                    let q = ((col as f64 + 0.5 - bx).powi(2) + (row as f64 + 0.5 - by).powi(2))
                        / (r * r);
                    if q < 1.0 {
                        values[row * width + col] += w * (1.0 - q) as f32;
                    }
                }
            }
        }
        let mut s = Surface {
            utm,
            x0,
            y0,
            res,
            width,
            height,
            values,
            classes: vec![],
            thresholds: [0.5, 2.0, 4.0, 8.0],
        };
        s.classes = s.values.iter().map(|&v| s.classify(v as f64)).collect();
        s
    }

    /// The bumps, their pyramid, a point amid them, and a plain and a hatched style (red
    /// cross-hatched, and what `hatch` adds).
    fn fixture(hatch: impl Fn(&mut Style)) -> (Surface, ClassPyramid, (f64, f64), [Style; 2]) {
        let s = bumps();
        let pyr = ClassPyramid::new(&s);
        let mut hatched = Style::default();
        hatched.patterns.red = Pattern::Cross;
        hatch(&mut hatched);
        let centre = s.utm.inverse(s.x0 + 10_000.0, s.y0 + 9_000.0);
        (s, pyr, centre, [Style::default(), hatched])
    }

    /// The surface tile drawn the slow way: every pixel from its four corners' classes,
    /// each classified on its own with `class_at` (`brute_corners`: bounds-checked, no
    /// pyramids, no quads, no block fills), mixed.
    fn brute(s: &Surface, pal: &SurfacePalette, tile: Tile, size: u32, crs: Crs) -> Vec<u8> {
        let c = brute_corners(s, tile, size, crs);
        let n = (size + 1) as usize;
        brute_mix(pal, tile, size, |px, py| {
            let k = py as usize * n + px as usize;
            [c[k], c[k + 1], c[k + n], c[k + n + 1]]
        })
    }

    /// Every pixel corner's class, (size + 1)² row-major, each on its own.
    fn brute_corners(s: &Surface, tile: Tile, size: u32, crs: Crs) -> Vec<u8> {
        let nodes = size / STEP + 1;
        let nc = cell_nodes(s, tile, size, crs, exact_span(tile.z, crs));
        let n = |a: u32, b: u32| nc[(b * nodes + a) as usize];
        let mut out = Vec::new();
        for y in 0..=size {
            for x in 0..=size {
                // the corner as the block left of / above it has it (a block's far edge)
                let (bi, bj) = ((x.max(1) - 1) / STEP, (y.max(1) - 1) / STEP);
                let (u, v) = (x - bi * STEP, y - bj * STEP);
                let corners = [n(bi, bj), n(bi + 1, bj), n(bi, bj + 1), n(bi + 1, bj + 1)];
                let (fc, fr) =
                    block_point(&corners, u as f64 / STEP as f64, v as f64 / STEP as f64);
                out.push(class_at(s, fc, fr));
            }
        }
        out
    }

    /// Pixels from the classes at their corners (`cls(px, py)`: top-left, top-right,
    /// bottom-left, bottom-right).
    fn brute_mix(
        pal: &SurfacePalette,
        tile: Tile,
        size: u32,
        cls: impl Fn(u32, u32) -> [u8; 4],
    ) -> Vec<u8> {
        let mut out = vec![0u8; (size * size) as usize];
        for py in 0..size {
            for px in 0..size {
                let cls = cls(px, py);
                let c = cls[0];
                out[(py * size + px) as usize] = if cls.iter().all(|&x| x == c) {
                    let (gx, gy) = (
                        tile.x as i64 * size as i64 + px as i64,
                        tile.y as i64 * size as i64 + py as i64,
                    );
                    if c > 0 {
                        pal.ink(c, gx, gy).unwrap_or(pal.index([c; 4]))
                    } else {
                        0
                    }
                } else {
                    pal.index(cls)
                };
            }
        }
        out
    }

    /// The fast path (pyramids, quads, block fills, row lookups) draws exactly what
    /// classifying every pixel corner on its own draws, at every zoom, in WGS84 and
    /// GCJ-02, with and without patterns. An equivalence test: it shares `cell_nodes` and
    /// `class_at` with the code, and so proves the shortcuts, not the mapping; the oracle
    /// from first principles (inverse Web Mercator, a kernel sum, the published
    /// thresholds and colours, no riskmap code) is
    /// `tests/tiles.rs::surface_tiles_match_a_kernel_sum_from_first_principles`.
    #[test]
    fn surface_tiles_match_brute_force() {
        let (s, pyr, centre, styles) = fixture(|h| h.patterns.orange = Pattern::Diagonal);
        let mut drawn = 0;
        for (pal, crs) in palettes_and_crss(&styles) {
            for z in [8u8, 11, 12, 13, 14, 16] {
                let t = crate::render::tile::tile(centre.0, centre.1, z);
                let tiles = [
                    (0i64, 0i64, 256u32),
                    (1, 0, 256),
                    (-1, -1, 256),
                    (0, 1, 512),
                ];
                for (dx, dy, size) in tiles {
                    let tile = Tile::new((t.x as i64 + dx) as u32, (t.y as i64 + dy) as u32, z);
                    let want = brute(&s, &pal, tile, size, crs);
                    let got = flat(render_surface(&s, &pyr, &pal, tile, size, crs), size);
                    let bad = want.iter().zip(&got).filter(|(a, b)| a != b).count();
                    assert_eq!(
                        bad, 0,
                        "z{z} {tile:?} {size}px {crs:?}: {bad} pixels differ"
                    );
                    drawn += usize::from(got.iter().any(|&i| i != 0));
                }
            }
        }
        assert!(drawn > 60, "tiles with something drawn: {drawn}");
    }

    /// Each style's palette with each output CRS.
    fn palettes_and_crss(styles: &[Style; 2]) -> Vec<(SurfacePalette, Crs)> {
        let crss = [Crs::Wgs84, Crs::Gcj02];
        styles
            .iter()
            .flat_map(|st| crss.map(|crs| (SurfacePalette::new(st), crs)))
            .collect()
    }

    fn flat(t: SurfaceTile, size: u32) -> Vec<u8> {
        match t {
            SurfaceTile::Empty => vec![0; (size * size) as usize],
            SurfaceTile::Solid(i) => vec![i; (size * size) as usize],
            SurfaceTile::Indices(v) => v,
        }
    }

    /// A tile's samples for its parent are its even corners' classes.
    fn even(corners: &[u8], size: u32) -> ParentSamples {
        let n = (size + 1) as usize;
        let g: Vec<u8> = (0..=size as usize / 2)
            .flat_map(|r| (0..=size as usize / 2).map(move |c| corners[2 * r * n + 2 * c]))
            .collect();
        if g.iter().all(|&c| c == g[0]) {
            ParentSamples::Uniform(g[0])
        } else {
            ParentSamples::Grid(g)
        }
    }

    /// Tiles derived from their children's samples, over two zooms, draw exactly what
    /// classifying each pixel corner where the lowest zoom's tile puts it draws; what a
    /// drawn tile gives its parent is its even corners' classes; and derived tiles stay
    /// within a few zone-edge pixels of drawing the tile itself (whose nodes are
    /// coarser).
    #[test]
    fn derived_tiles_match_brute_force() {
        let (s, pyr, centre, styles) = fixture(|h| h.patterns.yellow = Pattern::Dots);
        let mut drawn = 0;
        for (pal, crs) in palettes_and_crss(&styles) {
            for (z, size) in [(8u8, 256u32), (11, 256), (12, 512), (13, 256)] {
                let g = crate::render::tile::tile(centre.0, centre.1, z);
                let g = Tile::new(g.x, g.y + (z % 2) as u32, z);
                // the grandchildren drawn, the children and the tile derived
                let mut corners = std::collections::HashMap::new();
                let mut derived = Vec::new();
                for c in g.children() {
                    let mut samples = Vec::new();
                    for gc in c.children() {
                        let want = brute_corners(&s, gc, size, crs);
                        let (_, got) = draw_surface(&s, &pyr, &pal, gc, size, crs, true);
                        assert_eq!(got, even(&want, size), "z{} {gc:?} {crs:?}", gc.z);
                        corners.insert(gc, want);
                        samples.push(got);
                    }
                    let k = [&samples[0], &samples[1], &samples[2], &samples[3]];
                    derived.push((c, derive_surface(&pal, c, size, k)));
                }
                // a derived tile's corner (x, y) is its child's (2x mod size, …),
                // a grandchild's (4x mod size, …)
                let oracle = |t: Tile, depth: u32| {
                    let m = 1u32 << depth;
                    let corner = |x: u32, y: u32| {
                        let (gx, gy) = (x * m, y * m);
                        let (cx, cy) = ((gx.max(1) - 1) / size, (gy.max(1) - 1) / size);
                        let c = Tile::new(t.x * m + cx, t.y * m + cy, t.z + depth as u8);
                        let n = (size + 1) as usize;
                        let (u, v) = ((gx - cx * size) as usize, (gy - cy * size) as usize);
                        corners[&c][v * n + u]
                    };
                    brute_mix(&pal, t, size, |px, py| {
                        [(0, 0), (1, 0), (0, 1), (1, 1)].map(|(i, j)| corner(px + i, py + j))
                    })
                };
                for (c, (tile, _)) in &derived {
                    let got = flat(tile.clone(), size);
                    assert_eq!(got, oracle(*c, 1), "z{} {c:?} {size}px {crs:?}", c.z);
                }
                let k: Vec<&ParentSamples> = derived.iter().map(|d| &d.1 .1).collect();
                let got = flat(
                    derive_surface(&pal, g, size, [k[0], k[1], k[2], k[3]]).0,
                    size,
                );
                assert_eq!(got, oracle(g, 2), "z{z} {g:?} {size}px {crs:?}");
                let direct = flat(render_surface(&s, &pyr, &pal, g, size, crs), size);
                let differ = got.iter().zip(&direct).filter(|(a, b)| a != b).count();
                let lit = direct.iter().filter(|&&i| i != 0).count();
                // only zone-edge pixels (whose corners are not one class) differ
                let interior: Vec<u8> = (0..5u8)
                    .map(|c| pal.index([c; 4]))
                    .chain((0..5).map(|c| (pal.ink_base + c) as u8))
                    .collect();
                let inner = got
                    .iter()
                    .zip(&direct)
                    .filter(|(a, b)| a != b && interior.contains(a) && interior.contains(b))
                    .count();
                assert_eq!(inner, 0, "z{z} {g:?}: differences off the zone edges");
                assert!(
                    differ * 50 <= lit,
                    "z{z} {g:?}: {differ} of {lit} px differ"
                );
                drawn += usize::from(lit > 0);
            }
        }
        assert!(drawn >= 12, "tiles with something drawn: {drawn}");
    }
}
