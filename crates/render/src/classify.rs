//! The classified surface as the surface layer samples it: a min / max pyramid of classes
//! and of 2×2 quads (is a footprint empty, one class, or inside quads of one class?), and
//! the class of a single sample (bilinear value, global thresholds, the drawing rule for
//! bands thinner than a cell). `raster` draws tiles from these.

use super::raster::*;
use rayon::prelude::*;
use riskmap_analyze::surface::Surface;

/// Min / max pyramid over a grid of u8 codes: O(1)-ish checks of whether a footprint holds
/// one code only.
pub(crate) struct MinMax {
    /// The codes themselves (level 0), `w` × `h`.
    base: Vec<u8>,
    w: usize,
    h: usize,
    /// levels[k - 1]: (width, height, min, max) of 2^k × 2^k blocks.
    levels: Vec<(usize, usize, Vec<u8>, Vec<u8>)>,
}

impl MinMax {
    pub(crate) fn new(w: usize, h: usize, base: Vec<u8>) -> MinMax {
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
    pub(crate) fn range(&self, c0: i64, r0: i64, c1: i64, r1: i64) -> (u8, u8) {
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

pub(crate) const MIXED: u8 = u8::MAX;

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
    pub(crate) fn quad_span(&self, b: [f64; 4]) -> Option<[i64; 4]> {
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
    pub(crate) fn span_class(
        &self,
        s: &Surface,
        b: [f64; 4],
        q: [i64; 4],
        last: &mut Mixed,
    ) -> Option<u8> {
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
    pub(crate) fn class_in(&self, s: &Surface, fc: f64, fr: f64, last: &mut Mixed) -> u8 {
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
    pub(crate) fn class_direct(&self, t: &[f64; 4], fc: f64, fr: f64) -> u8 {
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
    pub(crate) fn sample_block(
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
    pub(crate) fn mixed(&self, k: usize, last: &mut Mixed) {
        if last.k != k {
            *last = self.quad(k);
        }
    }

    /// The quad at padded cell k, ready to classify samples in it.
    #[inline(always)]
    pub(crate) fn quad(&self, k: usize) -> Mixed {
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
    pub(crate) fn sample_row(
        &self,
        s: &Surface,
        fcs: &[f64],
        frs: &[f64],
        out: &mut [u8],
        last: &mut Mixed,
    ) {
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
pub(crate) struct QuadSet {
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
    pub(crate) fn new(pyr: &ClassPyramid, q: [i64; 4]) -> Option<QuadSet> {
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
    pub(crate) fn sample_row(&self, s: &Surface, fcs: &[f64], frs: &[f64], out: &mut [u8]) {
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
    pub(crate) fn sample_run(
        &self,
        t: &[f64; 4],
        j: usize,
        fcs: &[f64],
        frs: &[f64],
        out: &mut [u8],
    ) {
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

/// Class at fractional cell coordinates (cell centres at .0): the bilinear value,
/// classified; where the four cells around share one class the interpolation cannot leave
/// it, and a class none of the four cells has is a band thinner than a cell (the fringe
/// where a lone disc's kernel falls through the lower thresholds) and is drawn as the
/// next lower class present — as zones.geojson drops such slivers.
pub(crate) fn class_at(s: &Surface, fc: f64, fr: f64) -> u8 {
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
pub(crate) fn bilinear(v: [f64; 4]) -> [f64; 4] {
    [v[0], v[1] - v[0], v[2] - v[0], v[0] - v[1] - v[2] + v[3]]
}

/// `bilinear`'s surface at (tx, ty) in 0..1.
#[inline(always)]
pub(crate) fn bilinear_at(c: &[f64; 4], tx: f64, ty: f64) -> f64 {
    let [p, q, r, w] = *c;
    p + tx * (q + w * ty) + r * ty
}

/// How many of the (rising) thresholds a value reaches: its class before `drawn_for`.
#[inline(always)]
pub(crate) fn reached_by(t: &[f64; 4], val: f64) -> u8 {
    (val >= t[0]) as u8 + (val >= t[1]) as u8 + (val >= t[2]) as u8 + (val >= t[3]) as u8
}

/// The class drawn where `reached` thresholds are reached among cells whose classes are
/// the bits of `present` (bit 0 always set): the highest present class up to it.
#[inline(always)]
pub(crate) fn drawn_for(present: u8, reached: u8) -> u8 {
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
    pub(crate) const NONE: Mixed = Mixed {
        k: usize::MAX,
        coef: [0.0; 4],
        drawn: [0; 8],
    };

    #[inline(always)]
    pub(crate) fn new(k: usize, cls: [u8; 4], v: [f64; 4]) -> Mixed {
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
    pub(crate) fn value(&self, tx: f64, ty: f64) -> f64 {
        bilinear_at(&self.coef, tx, ty)
    }

    /// Classes of samples (cell coordinates fcs, frs) all inside this quad, whose
    /// top-left cell is (cx, ry): in two loops the compiler vectorises.
    #[inline(always)]
    pub(crate) fn classify(
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
    pub(crate) fn class(&self, s: &Surface, tx: f64, ty: f64) -> u8 {
        self.class_of(s, self.value(tx, ty))
    }

    /// The class drawn for a value (monotone in it).
    #[inline(always)]
    pub(crate) fn class_of(&self, s: &Surface, val: f64) -> u8 {
        self.class_for(&s.thresholds, val)
    }

    /// `class_of` with the thresholds at hand (hot loops keep them in registers).
    #[inline(always)]
    pub(crate) fn class_for(&self, t: &[f64; 4], val: f64) -> u8 {
        // the thresholds rise (config validation): the class is how many are reached
        // a class none of the four cells has is a band thinner than a cell: drawn as the
        // highest class present below it
        self.drawn[reached_by(t, val) as usize & 7]
    }
}
