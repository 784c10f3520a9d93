//! The square grid layer drawn straight into palette indices. Square cells form a lattice
//! in the region's UTM zone, so a pixel finds its cell by arithmetic: blocks that no grid
//! line comes near are filled at once, and pixels near a line get their share of each
//! cell's fill and of the outline from a box filter over the pixel. A pixel's colour is a
//! function of its key (cell and quantised shares), and along a pixel row or column each
//! part of the key moves monotonically between line crossings, so a run whose two ends
//! share a key is filled at once and other runs are halved. (Hand-written: with
//! tiny-skia every covered pixel was blended in RGBA and the tile then mapped back to a
//! palette, several times the cost of encoding it, and the blends at cell corners often
//! overflowed 256 colours into RGBA PNGs.)
//!
//! H3 grids, and zooms where a cell is under `MIN_CELL_PX` pixels, keep the tiny-skia path.

use super::png::PaletteBuilder;
use super::raster::{block_point, bounds, exact_span, ffloor, UtmFrame, STEP};
use super::tile::Tile;
use riskmap_analyze::grid::Cell;
use riskmap_core::crs::Crs;
use riskmap_core::style::{parse_hex, Style};
use std::collections::HashMap;

/// Below this many pixels per cell the lattice path hands over to tiny-skia.
const MIN_CELL_PX: f64 = 6.0;
/// Coverage is quantised to 1/Q, which keeps a tile's colours well under 256.
const Q: f32 = 8.0;

/// The grid as a lattice: cell (i, j) covers UTM [i·size, (i+1)·size) × [j·size, …).
pub struct Lattice {
    frame: UtmFrame,
    i0: i64,
    j0: i64,
    w: i64,
    h: i64,
    /// 0: no cell; k > 0: fill `fills[k]`.
    codes: Vec<u8>,
    /// Premultiplied RGBA in 0..1 per code (0 transparent).
    fills: Vec<[f32; 4]>,
    /// Straight RGBA per code, as a solid tile of that cell would be coloured.
    solid: Vec<[u8; 4]>,
    /// Premultiplied outline colour and its width at 256 px.
    stroke: [f32; 4],
    stroke_px: f32,
}

/// A grid tile: palette indices with their palette (index 0 transparent).
pub struct LatticeTile {
    pub indices: Vec<u8>,
    pub palette: Vec<[u8; 4]>,
}

impl Lattice {
    /// The lattice of a square grid (`cells` from `analyze::grid`, `cell_m` apart).
    pub fn new(
        cells: &[Cell],
        utm: riskmap_core::utm::Utm,
        cell_m: f64,
        style: &Style,
    ) -> Option<Lattice> {
        if cells.is_empty() || !(cell_m > 0.0) {
            return None;
        }
        // each cell's lower-left corner is its ring's first vertex
        let keys: Vec<(i64, i64)> = cells
            .iter()
            .map(|c| {
                let p = c.shape.exterior().0.first().copied().unwrap_or_default();
                let (x, y) = utm.forward(p.x, p.y);
                ((x / cell_m).round() as i64, (y / cell_m).round() as i64)
            })
            .collect();
        let i0 = keys.iter().map(|k| k.0).min()?;
        let j0 = keys.iter().map(|k| k.1).min()?;
        let w = keys.iter().map(|k| k.0).max()? - i0 + 1;
        let h = keys.iter().map(|k| k.1).max()? - j0 + 1;
        if w * h > 50_000_000 {
            return None;
        }
        let d = &style.drawing;
        let alpha = (d.grid_opacity.clamp(0.0, 1.0) * 255.0).round() / 255.0;
        let mut fills = vec![[0f32; 4]];
        let mut solid = vec![[0u8; 4]];
        let mut code_of: HashMap<[u8; 3], u8> = HashMap::new();
        let mut codes = vec![0u8; (w * h) as usize];
        for (c, &(i, j)) in cells.iter().zip(&keys) {
            let rgb = style.rgb(c.level.level);
            let code = *code_of.entry(rgb).or_insert_with(|| {
                fills.push([
                    rgb[0] as f32 / 255.0 * alpha,
                    rgb[1] as f32 / 255.0 * alpha,
                    rgb[2] as f32 / 255.0 * alpha,
                    alpha,
                ]);
                solid.push([rgb[0], rgb[1], rgb[2], (alpha * 255.0).round() as u8]);
                (fills.len() - 1) as u8
            });
            codes[((j - j0) * w + (i - i0)) as usize] = code;
        }
        let ink = parse_hex(&d.grid_outline_color).unwrap_or([255, 255, 255]);
        let sa = (0.8f32 * 255.0).round() / 255.0;
        Some(Lattice {
            frame: UtmFrame {
                utm,
                x0: 0.0,
                y0: 0.0,
                res: cell_m,
                offset: 0.0,
            },
            i0,
            j0,
            w,
            h,
            codes,
            fills,
            solid,
            stroke: [
                ink[0] as f32 / 255.0 * sa,
                ink[1] as f32 / 255.0 * sa,
                ink[2] as f32 / 255.0 * sa,
                sa,
            ],
            stroke_px: d.grid_outline_width.max(0.0),
        })
    }

    #[inline(always)]
    fn code(&self, i: i64, j: i64) -> u8 {
        let (a, b) = (i - self.i0, j - self.j0);
        if a < 0 || b < 0 || a >= self.w || b >= self.h {
            0
        } else {
            self.codes[(b * self.w + a) as usize]
        }
    }

    /// Draw a tile, or None when its cells are too small for the lattice path (the
    /// caller draws it with tiny-skia) or it would need more than 256 colours.
    pub fn render(&self, tile: Tile, size: u32, crs: Crs) -> Option<LatticeTile> {
        let nodes = size / STEP + 1;
        let nc = self.frame.nodes(tile, size, crs, exact_span(tile.z, crs));
        let n = |a: u32, b: u32| nc[(b * nodes + a) as usize];
        // cell units per pixel, from the tile's corners
        let (first, last) = (n(0, 0), n(nodes - 1, nodes - 1));
        let per_px = ((last.0 - first.0).abs().max((last.1 - first.1).abs())) / size as f64;
        if per_px * MIN_CELL_PX > 1.0 {
            return None;
        }
        let scale = size as f32 / 256.0;
        let half_stroke = (self.stroke_px * scale / 2.0) as f64;
        // a grid line's stroke and antialiasing reach this far (cell units)
        let reach = (half_stroke + 1.0) * per_px;
        let mut out = vec![0u8; (size * size) as usize];
        let mut ink = Ink::new(self);
        let hs = half_stroke;
        let blocks = nodes - 1;
        for bj in 0..blocks {
            for bi in 0..blocks {
                let k = [n(bi, bj), n(bi + 1, bj), n(bi, bj + 1), n(bi + 1, bj + 1)];
                let (x0, y0) = (bi * STEP, bj * STEP);
                if let Some(code) = self.one_cell(&k, reach) {
                    let run = [ink.solid(code)?; STEP as usize];
                    for py in y0..y0 + STEP {
                        let row = (py * size + x0) as usize;
                        out[row..row + STEP as usize].copy_from_slice(&run);
                    }
                    continue;
                }
                let blk = Block::new(self, k, hs, x0, y0, size);
                let (ru, rv) = (blk.ru, blk.rv);
                // which lines come near the block (pixel centres lie within its corners)
                let [umin, umax, vmin, vmax] = bounds(&k);
                let (near_u, near_v) = (crosses(umin, umax, ru), crosses(vmin, vmax, rv));
                if near_u != near_v {
                    // Lines of one direction only: a pixel column (lines u = i) or row
                    // (v = j) at a time, t across the block.
                    let run = |t: u32| if near_u { Run::Column(t) } else { Run::Row(t) };
                    // a run clear of the lines, or whose two ends have the same key, is one
                    // colour (see `Block::draw`)
                    let uniform = |ink: &mut Ink, t: u32| -> Option<Option<u8>> {
                        let r = run(t);
                        let (ca, cb) = (blk.at(r, 0), blk.at(r, STEP - 1));
                        let (a, b, reach) = if near_u {
                            (ca.0, cb.0, ru)
                        } else {
                            (ca.1, cb.1, rv)
                        };
                        if !crosses(a.min(b), a.max(b), reach) {
                            return ink.solid(blk.cell(ca)).map(Some);
                        }
                        let ka = blk.key(ca);
                        if blk.linear(ca, cb) && ka == blk.key(cb) {
                            return ink.key(ka).map(Some);
                        }
                        Some(None)
                    };
                    if near_u {
                        // the uniform columns make one row, copied down the block; the
                        // others are drawn over it
                        let mut row = [0u8; STEP as usize];
                        let mut rest = 0u32;
                        for t in 0..STEP {
                            match uniform(&mut ink, t)? {
                                Some(idx) => row[t as usize] = idx,
                                None => rest |= 1 << t,
                            }
                        }
                        for py in y0..y0 + STEP {
                            let r = (py * size + x0) as usize;
                            out[r..r + STEP as usize].copy_from_slice(&row);
                        }
                        while rest != 0 {
                            let t = rest.trailing_zeros();
                            rest &= rest - 1;
                            blk.draw(&mut ink, &mut out, run(t), 0, STEP - 1)?;
                        }
                    } else {
                        for t in 0..STEP {
                            match uniform(&mut ink, t)? {
                                Some(idx) => {
                                    let r = ((y0 + t) * size + x0) as usize;
                                    out[r..r + STEP as usize].fill(idx);
                                }
                                None => blk.draw(&mut ink, &mut out, run(t), 0, STEP - 1)?,
                            }
                        }
                    }
                    continue;
                }
                // lines of both directions: row by row, the runs of pixels near a grid
                // line are drawn, the runs between them filled with their cell's colour
                for y in 0..STEP {
                    let row = ((y0 + y) * size + x0) as usize;
                    let mut near = [(0, 0); 4];
                    let nn = near_lines(
                        blk.at(Run::Row(y), 0),
                        blk.at(Run::Row(y), STEP - 1),
                        ru,
                        rv,
                        &mut near,
                    );
                    // the cell of a run of pixels clear of every line, from its first pixel
                    let cell = |x: u32| blk.cell(blk.at(Run::Row(y), x));
                    let mut x = 0;
                    for &(lo, hi) in &near[..nn] {
                        if x < lo {
                            let idx = ink.solid(cell(x))?;
                            out[row + x as usize..row + lo as usize].fill(idx);
                        }
                        blk.draw(&mut ink, &mut out, Run::Row(y), lo, hi - 1)?;
                        x = hi;
                    }
                    if x < STEP {
                        let idx = ink.solid(cell(x))?;
                        out[row + x as usize..row + STEP as usize].fill(idx);
                    }
                }
            }
        }
        let palette = ink.palette;
        if palette.colors.len() == 1 {
            return Some(LatticeTile {
                indices: vec![],
                palette: vec![],
            });
        }
        Some(LatticeTile {
            indices: out,
            palette: palette.colors,
        })
    }

    /// The cell code every pixel of a footprint with corners `k` (cell units) lies in,
    /// `reach` or more from its edges, if one does.
    fn one_cell(&self, k: &[(f64, f64); 4], reach: f64) -> Option<u8> {
        let [umin, umax, vmin, vmax] = bounds(k);
        let (ia, ib) = (ffloor(umin - reach), ffloor(umax + reach));
        let (ja, jb) = (ffloor(vmin - reach), ffloor(vmax + reach));
        (ia == ib && ja == jb).then(|| self.code(ia as i64, ja as i64))
    }

    /// One pixel centred at lattice coordinates (u, v), `su` × `sv` cell units wide,
    /// reduced to what its colour depends on: its cell, and its quantised shares of the
    /// neighbouring cells' fills (box filter) and of the outline.
    #[inline]
    fn key(&self, u: f64, v: f64, su: f64, sv: f64, half_stroke: f64) -> Key {
        // (floor and round without libm calls: the baseline x86-64 target has no rounding
        // instruction and the calls dominated the profile)
        let (i, j) = (ffloor(u), ffloor(v));
        let (fu, fv) = (u - i, v - j);
        let (i, j) = (i as i64, j as i64);
        // most pixels of a block that a line crosses are still well inside one cell
        // (compared as distances in cell units: no division on this path)
        let reach = half_stroke + 1.0;
        if fu.min(1.0 - fu) > reach * su && fv.min(1.0 - fv) > reach * sv {
            return Key { i, j, q: [0; 6] };
        }
        let q = |x: f64| (x.clamp(0.0, 1.0) * Q as f64 + 0.5) as u8;
        // shares of the columns i-1 and i+1 and rows j-1 and j+1
        let (l, r) = (
            q((su / 2.0 - fu).max(0.0) / su),
            q((fu + su / 2.0 - 1.0).max(0.0) / su),
        );
        let (dn, up) = (
            q((sv / 2.0 - fv).max(0.0) / sv),
            q((fv + sv / 2.0 - 1.0).max(0.0) / sv),
        );
        // outline: the lines u = i and u = i + 1 (where a cell beside them exists), and
        // v = j and v = j + 1, each a band of `half_stroke` px either side
        let band = |dist_px: f64| {
            // overlap of [dist - hs, dist + hs] with the pixel [-0.5, 0.5]
            let lo = (dist_px - half_stroke).max(-0.5);
            let hi = (dist_px + half_stroke).min(0.5);
            (hi - lo).max(0.0)
        };
        let here = self.code(i, j);
        let mut cx = 0.0;
        if here != 0 || self.code(i - 1, j) != 0 {
            cx += band(fu / su);
        }
        if here != 0 || self.code(i + 1, j) != 0 {
            cx += band((1.0 - fu) / su);
        }
        let mut cy = 0.0;
        if here != 0 || self.code(i, j - 1) != 0 {
            cy += band(fv / sv);
        }
        if here != 0 || self.code(i, j + 1) != 0 {
            cy += band((1.0 - fv) / sv);
        }
        Key {
            i,
            j,
            q: [l, r, dn, up, q(cx.min(1.0)), q(cy.min(1.0))],
        }
    }

    /// The colour of a pixel from its key.
    #[inline]
    fn shade(&self, key: Key) -> Px {
        let Key { i, j, q } = key;
        let here = self.code(i, j);
        if q == [0; 6] {
            return Px::Solid(here);
        }
        let e = |n: u8| n as f64 / Q as f64;
        let [l, r, dn, up, cx, cy] = q.map(e);
        let cols = [(i - 1, l), (i, 1.0 - l - r), (i + 1, r)];
        let rows = [(j - 1, dn), (j, 1.0 - dn - up), (j + 1, up)];
        let cover = cx + cy - cx * cy;
        let mut fill = [0f32; 4];
        for &(cj, wy) in &rows {
            if wy == 0.0 {
                continue;
            }
            for &(ci, wx) in &cols {
                if wx == 0.0 {
                    continue;
                }
                let code = self.code(ci, cj) as usize;
                if code == 0 {
                    continue;
                }
                let w = (wx * wy) as f32;
                for (f, c) in fill.iter_mut().zip(&self.fills[code]) {
                    *f += w * c;
                }
            }
        }
        let cover = cover as f32;
        let sa = self.stroke[3] * cover;
        let mut px = [0u8; 4];
        for ch in 0..4 {
            let p = self.stroke[ch] * cover + fill[ch] * (1.0 - sa);
            px[ch] = (p.clamp(0.0, 1.0) * 255.0 + 0.5) as u8;
        }
        if px[3] == 0 {
            return Px::Solid(0);
        }
        Px::Blend(px)
    }
}

/// What a lattice pixel's colour depends on: its cell (i, j) and, in eighths, its shares
/// of the columns i-1 and i+1, of the rows j-1 and j+1, and its vertical and horizontal
/// outline coverage.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Key {
    i: i64,
    j: i64,
    q: [u8; 6],
}

const EPS: f64 = 1e-9;

/// Whether a grid line (an integer, in cell units) lies within `reach` of [lo, hi].
#[inline(always)]
fn crosses(lo: f64, hi: f64, reach: f64) -> bool {
    ffloor(lo - reach - EPS) != ffloor(hi + reach + EPS)
}

/// A straight run of a block's pixels: row or column t.
#[derive(Clone, Copy)]
enum Run {
    Row(u32),
    Column(u32),
}

/// One STEP-px block of a tile whose corners `k` are in cell units: pixel centres are
/// bilinear between them, so they move linearly along any pixel row or column.
struct Block<'a> {
    lattice: &'a Lattice,
    k: [(f64, f64); 4],
    /// pixel extent in cell units along each axis
    su: f64,
    sv: f64,
    half_stroke: f64,
    /// `key`'s own test of "well inside one cell", in cell units
    ru: f64,
    rv: f64,
    /// the gap between a cell's two outline bands along each axis, in cell units
    gap_u: f64,
    gap_v: f64,
    x0: u32,
    y0: u32,
    size: u32,
}

impl<'a> Block<'a> {
    fn new(
        lattice: &'a Lattice,
        k: [(f64, f64); 4],
        half_stroke: f64,
        x0: u32,
        y0: u32,
        size: u32,
    ) -> Block<'a> {
        let su = ((k[1].0 - k[0].0).abs() / STEP as f64).max(1e-12);
        let sv = ((k[2].1 - k[0].1).abs() / STEP as f64).max(1e-12);
        let reach = half_stroke + 1.0;
        Block {
            lattice,
            k,
            su,
            sv,
            half_stroke,
            ru: reach * su,
            rv: reach * sv,
            gap_u: 1.0 - (2.0 * half_stroke + 1.0) * su,
            gap_v: 1.0 - (2.0 * half_stroke + 1.0) * sv,
            x0,
            y0,
            size,
        }
    }

    /// The centre of pixel s of a run, in cell units.
    #[inline(always)]
    fn at(&self, run: Run, s: u32) -> (f64, f64) {
        let (x, y) = match run {
            Run::Row(t) => (s, t),
            Run::Column(t) => (t, s),
        };
        block_point(
            &self.k,
            (x as f64 + 0.5) / STEP as f64,
            (y as f64 + 0.5) / STEP as f64,
        )
    }

    /// The code of the cell a pixel centre lies in.
    #[inline(always)]
    fn cell(&self, c: (f64, f64)) -> u8 {
        self.lattice.code(ffloor(c.0) as i64, ffloor(c.1) as i64)
    }

    #[inline(always)]
    fn key(&self, c: (f64, f64)) -> Key {
        self.lattice
            .key(c.0, c.1, self.su, self.sv, self.half_stroke)
    }

    /// Whether every part of the key moves monotonically between two pixel centres of a
    /// run: the centres move linearly, and the run cannot reach both outline bands of a
    /// cell along either axis. Then equal keys at the ends mean the same key between.
    #[inline(always)]
    fn linear(&self, a: (f64, f64), b: (f64, f64)) -> bool {
        (a.0 - b.0).abs() < self.gap_u && (a.1 - b.1).abs() < self.gap_v
    }

    /// Draw pixels lo..=hi of a run: halved until the ends of a part have the same key
    /// (one colour throughout) or are adjacent.
    fn draw(&self, ink: &mut Ink, out: &mut [u8], run: Run, lo: u32, hi: u32) -> Option<()> {
        let (ca, cb) = (self.at(run, lo), self.at(run, hi));
        let (ka, kb) = (self.key(ca), self.key(cb));
        self.halve(ink, out, run, (lo, ca, ka), (hi, cb, kb))
    }

    fn halve(
        &self,
        ink: &mut Ink,
        out: &mut [u8],
        run: Run,
        a: (u32, (f64, f64), Key),
        b: (u32, (f64, f64), Key),
    ) -> Option<()> {
        if a.2 == b.2 && self.linear(a.1, b.1) {
            let idx = ink.key(a.2)?;
            self.put(out, run, a.0, b.0, idx);
            return Some(());
        }
        if b.0 - a.0 <= 1 {
            let idx = ink.key(a.2)?;
            self.put(out, run, a.0, a.0, idx);
            if b.0 != a.0 {
                let idx = ink.key(b.2)?;
                self.put(out, run, b.0, b.0, idx);
            }
            return Some(());
        }
        let mid = (a.0 + b.0) / 2;
        let cm = self.at(run, mid);
        let m = (mid, cm, self.key(cm));
        self.halve(ink, out, run, a, m)?;
        self.halve(ink, out, run, m, b)
    }

    /// Pixels lo..=hi of a run set to `idx`.
    #[inline(always)]
    fn put(&self, out: &mut [u8], run: Run, lo: u32, hi: u32, idx: u8) {
        match run {
            Run::Row(t) => {
                let r = ((self.y0 + t) * self.size + self.x0) as usize;
                out[r + lo as usize..=r + hi as usize].fill(idx);
            }
            Run::Column(t) => {
                for y in self.y0 + lo..=self.y0 + hi {
                    out[(y * self.size + self.x0 + t) as usize] = idx;
                }
            }
        }
    }
}

/// A tile's palette as the lattice fills it: index 0 transparent, a cell's solid colour
/// remembered per code, blended colours keyed by their premultiplied value (as solid
/// ones are), None past 256 colours.
struct Ink<'a> {
    lattice: &'a Lattice,
    palette: PaletteBuilder,
    known: [u16; 256],
}

impl<'a> Ink<'a> {
    fn new(lattice: &'a Lattice) -> Ink<'a> {
        let mut palette = PaletteBuilder::new();
        palette.index(0, || [0, 0, 0, 0]);
        let mut known = [u16::MAX; 256];
        known[0] = 0;
        Ink {
            lattice,
            palette,
            known,
        }
    }

    /// The index of the cell colour `code` (0: no cell, transparent).
    #[inline]
    fn solid(&mut self, code: u8) -> Option<u8> {
        let k = self.known[code as usize];
        if k != u16::MAX {
            return Some(k as u8);
        }
        let rgba = self.lattice.solid[code as usize];
        let key = u32::from_le_bytes(super::png::premultiply(rgba));
        let i = self.palette.index(key, || rgba)?;
        self.known[code as usize] = i as u16;
        Some(i)
    }

    /// The index of a pixel's colour, from its key.
    #[inline]
    fn key(&mut self, key: Key) -> Option<u8> {
        match self.lattice.shade(key) {
            Px::Solid(code) => self.solid(code),
            Px::Blend(pm) => self
                .palette
                .index(u32::from_le_bytes(pm), || super::png::unpremultiply(pm)),
        }
    }
}

/// The pixels of one 16-px block row that lie near a grid line, as sorted runs
/// [lo, hi) put in `near`, their count returned (at most four; a fifth line widens the last
/// run to the row's end): `a` and `b`
/// are the first and last pixel centres in cell units (the centres between move linearly,
/// the block being bilinear), `ru` and `rv` the distances `Lattice::key` calls "well
/// inside one cell". A pixel of every other run is well inside its cell, with a pixel's
/// slack. A row near a horizontal line is near as a whole.
#[inline(always)]
fn near_lines(a: (f64, f64), b: (f64, f64), ru: f64, rv: f64, near: &mut [(u32, u32); 4]) -> usize {
    if crosses(a.1.min(b.1), a.1.max(b.1), rv) {
        near[0] = (0, STEP);
        return 1;
    }
    let mut nn = 0;
    let du = (b.0 - a.0) / (STEP - 1) as f64;
    let slack = ru + du.abs() + EPS;
    let (umin, umax) = (a.0.min(b.0), a.0.max(b.0));
    let mut line = ffloor(umin - slack);
    while line <= umax + slack {
        let r = if du.abs() < 1e-12 {
            (0, STEP)
        } else {
            let (x1, x2) = ((line - slack - a.0) / du, (line + slack - a.0) / du);
            let lo = ffloor(x1.min(x2)).clamp(0.0, STEP as f64) as u32;
            let hi = (ffloor(x1.max(x2)) + 2.0).clamp(0.0, STEP as f64) as u32;
            (lo, hi)
        };
        if r.0 < r.1 {
            if nn == near.len() {
                near[nn - 1].1 = STEP;
            } else {
                near[nn] = r;
                nn += 1;
            }
        }
        line += 1.0;
    }
    near[..nn].sort_unstable();
    nn
}

enum Px {
    /// Wholly inside one cell (code), or transparent (0).
    Solid(u8),
    /// A blended colour, premultiplied RGBA (the palette keys by it and stores it straight).
    Blend([u8; 4]),
}

#[cfg(test)]
#[path = "lattice_tests.rs"]
mod tests;
