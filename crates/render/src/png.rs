//! PNG encoding for tiles: 8-bit palette (indexed) with tRNS when a tile has at most 256
//! colours — four-color overlays almost always do — and lossless RGBA otherwise. Fast
//! deflate with adaptive filtering (fast deflate without filtering makes tiles ~15× larger).

/// An RGBA colour (straight alpha).
pub type Rgba = [u8; 4];

fn encoder<'a>(out: &'a mut Vec<u8>, w: u32, h: u32) -> png::Encoder<'a, &'a mut Vec<u8>> {
    let mut e = png::Encoder::new(out, w, h);
    e.set_depth(png::BitDepth::Eight);
    e.set_compression(png::Compression::Fast);
    e.set_filter(png::Filter::Adaptive);
    e
}

/// Encode palette indices with their palette (entries after the last translucent one need
/// no tRNS entry). The rows are filtered here rather than by the `png` crate's adaptive
/// filter, which tries five filters on every row: a tile row that repeats the row above
/// (two rows in three of a surface tile) is filtered Up, to zeros, without trying
/// anything, and any other row takes the cheaper of Sub and Up by the same
/// sum-of-absolute-values measure. Same pixels, files ~3 % smaller, encoding ~30 %
/// faster on the sample's surface tiles (`filtered_rows_match_the_png_crate`). The
/// deflate is `fdeflate` (the `png` crate's fast mode), the chunks the `png` crate's.
pub fn encode_indexed(
    w: u32,
    h: u32,
    indices: &[u8],
    palette: &[Rgba],
) -> Result<Vec<u8>, png::EncodingError> {
    let wu = w as usize;
    if wu == 0 || indices.len() != wu * h as usize {
        return Err(png::EncodingError::IoError(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} palette indices for a {w} × {h} image", indices.len()),
        )));
    }
    let idat = fdeflate::compress_to_vec(&filter_rows(indices, wu));
    let mut out = Vec::with_capacity(idat.len() + 64 + palette.len() * 4);
    {
        let mut e = png::Encoder::new(&mut out, w, h);
        e.set_depth(png::BitDepth::Eight);
        palette_header(&mut e, palette);
        let mut wr = e.write_header()?;
        wr.write_chunk(png::chunk::IDAT, &idat)?;
        wr.finish()?;
    }
    Ok(out)
}

/// PLTE and tRNS of an indexed PNG.
fn palette_header<W: std::io::Write>(e: &mut png::Encoder<'_, W>, palette: &[Rgba]) {
    e.set_color(png::ColorType::Indexed);
    let plte: Vec<u8> = palette.iter().flat_map(|c| [c[0], c[1], c[2]]).collect();
    let last_translucent = palette
        .iter()
        .rposition(|c| c[3] != 255)
        .map(|i| i + 1)
        .unwrap_or(0);
    let trns: Vec<u8> = palette[..last_translucent].iter().map(|c| c[3]).collect();
    e.set_palette(plte);
    if !trns.is_empty() {
        e.set_trns(trns);
    }
}

/// The PNG scanlines of 8-bit rows `w` wide: each a filter type byte and the filtered row
/// (see `encode_indexed`).
fn filter_rows(data: &[u8], w: usize) -> Vec<u8> {
    const SUB: u8 = 1;
    const UP: u8 = 2;
    // the measure of the png crate's adaptive filter: bytes read as signed, |·| summed
    let sad = |a: &[u8], b: &[u8]| -> u32 { sum_abs_diff(a, b) };
    let mut out = Vec::with_capacity(data.len() + data.len() / w);
    let zeros = vec![0u8; w];
    let mut prev: &[u8] = &zeros;
    for (y, row) in data.chunks_exact(w).enumerate() {
        if y > 0 && row == prev {
            out.push(UP);
            out.extend_from_slice(&zeros);
        } else if sad(row, prev) <= row[0] as u32 + sad(&row[1..], &row[..w - 1]) {
            out.push(UP);
            out.extend(row.iter().zip(prev).map(|(&x, &b)| x.wrapping_sub(b)));
        } else {
            out.push(SUB);
            out.push(row[0]);
            out.extend(row[1..].iter().zip(row).map(|(&x, &a)| x.wrapping_sub(a)));
        }
        prev = row;
    }
    out
}

/// Σ |(a[i] − b[i]) as i8| over the shorter of `a` and `b`. Summed in 16 u16 lanes over
/// blocks of 256 bytes (each term ≤ 128, so a lane never overflows), a shape the compiler
/// turns into whole-register SIMD; a plain `u32` sum of the same terms compiled to four
/// bytes a step and cost a tenth of a tile's encode.
fn sum_abs_diff(a: &[u8], b: &[u8]) -> u32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut total = 0u32;
    for (ca, cb) in a.chunks(256).zip(b.chunks(256)) {
        let mut lanes = [0u16; 16];
        let mut xs = ca.chunks_exact(16);
        let mut ys = cb.chunks_exact(16);
        for (x, y) in (&mut xs).zip(&mut ys) {
            for k in 0..16 {
                lanes[k] += (x[k].wrapping_sub(y[k]) as i8).unsigned_abs() as u16;
            }
        }
        total += lanes.iter().map(|&l| l as u32).sum::<u32>();
        total += xs
            .remainder()
            .iter()
            .zip(ys.remainder())
            .map(|(&x, &y)| (x.wrapping_sub(y) as i8).unsigned_abs() as u32)
            .sum::<u32>();
    }
    total
}

/// The encoder the issue measures its encode-only ceiling with: the `png` crate's own
/// palette PNG, fast deflate, adaptive filter (`bench::encode_ceiling`).
pub fn encode_indexed_reference(
    w: u32,
    h: u32,
    indices: &[u8],
    palette: &[Rgba],
) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::with_capacity(4096);
    {
        let mut e = encoder(&mut out, w, h);
        palette_header(&mut e, palette);
        let mut wr = e.write_header()?;
        wr.write_image_data(indices)?;
        wr.finish()?;
    }
    Ok(out)
}

/// Encode straight-alpha RGBA.
pub fn encode_rgba(w: u32, h: u32, rgba: &[u8]) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::with_capacity(8192);
    {
        let mut e = encoder(&mut out, w, h);
        e.set_color(png::ColorType::Rgba);
        let mut wr = e.write_header()?;
        wr.write_image_data(rgba)?;
        wr.finish()?;
    }
    Ok(out)
}

/// Encode a premultiplied RGBA pixmap buffer (tiny-skia's layout) in one pass: pixels are
/// mapped to palette indices by their premultiplied value through a small open-addressing
/// table, and only each new colour is demultiplied. `None` when every pixel is transparent.
/// Falls back to straight RGBA when the tile has more than 256 colours. (Hand-written
/// because a separate demultiply pass plus a SipHash map per pixel cost more than the
/// deflate itself.)
pub fn encode_premultiplied(
    w: u32,
    h: u32,
    data: &[u8],
) -> Result<Option<Vec<u8>>, png::EncodingError> {
    let mut palette = PaletteBuilder::new();
    let mut indices = vec![0u8; (w * h) as usize];
    let (mut last_key, mut last_idx) = (u32::MAX, 0u8);
    for (px, out) in data.chunks_exact(4).zip(indices.iter_mut()) {
        let key = u32::from_le_bytes([px[0], px[1], px[2], px[3]]);
        if key != last_key {
            let Some(idx) = palette.index(key, || unpremultiply([px[0], px[1], px[2], px[3]]))
            else {
                return encode_rgba(w, h, &demultiply(data)).map(Some);
            };
            (last_key, last_idx) = (key, idx);
        }
        *out = last_idx;
    }
    if palette.colors.iter().all(|c| c[3] == 0) {
        return Ok(None);
    }
    encode_indexed(w, h, &indices, &palette.colors).map(Some)
}

/// A tile of palette indices under a drawn overlay: the indices, and their palette as
/// straight and as premultiplied colours.
pub struct Base<'a> {
    pub indices: &'a [u8],
    pub colors: &'a [Rgba],
    pub premultiplied: &'a [Rgba],
}

/// Encode an overlay (premultiplied RGBA in tiny-skia's layout, transparent where nothing
/// was drawn) composited source-over onto `base` (or onto nothing): the palette starts as
/// the base's, pixels the overlay leaves untouched keep their base index, and only overlay
/// pixels (within `dirty`) are blended and looked up — a tile's vectors cover a few
/// percent of it. `None` when every pixel is transparent. Falls back to straight RGBA
/// past 256 colours.
/// (Hand-written: blending the whole base into a pixmap and mapping every pixel back to a
/// palette cost more than the deflate.)
pub fn encode_over(
    w: u32,
    h: u32,
    overlay: &[u8],
    base: Option<&Base>,
    dirty: &Dirty,
) -> Result<Option<Vec<u8>>, png::EncodingError> {
    let n = (w * h) as usize;
    let mut palette = PaletteBuilder::new();
    let mut indices = match base {
        Some(b) => {
            for (c, p) in b.colors.iter().zip(b.premultiplied) {
                palette.seed(u32::from_le_bytes(*p), *c);
            }
            b.indices.to_vec()
        }
        None => {
            palette.seed(0, [0, 0, 0, 0]);
            vec![0u8; n]
        }
    };
    let under = |i: usize| -> Rgba {
        match base {
            Some(b) => b.premultiplied[b.indices[i] as usize],
            None => [0, 0, 0, 0],
        }
    };
    let mut drawn = false;
    for (y, &(x0, x1)) in dirty.rows.iter().enumerate().take(h as usize) {
        let row = y * w as usize;
        for i in row + x0 as usize..row + (x1.min(w)) as usize {
            let px = &overlay[4 * i..4 * i + 4];
            let a = px[3];
            if a == 0 {
                continue;
            }
            let c = over([px[0], px[1], px[2], a], under(i));
            let Some(idx) = palette.index(u32::from_le_bytes(c), || unpremultiply(c)) else {
                let mut full = vec![0u8; 4 * n];
                for (i, (o, f)) in overlay
                    .chunks_exact(4)
                    .zip(full.chunks_exact_mut(4))
                    .enumerate()
                {
                    let c = if o[3] != 0 {
                        unpremultiply(over([o[0], o[1], o[2], o[3]], under(i)))
                    } else if let Some(b) = base {
                        b.colors[b.indices[i] as usize]
                    } else {
                        [0, 0, 0, 0]
                    };
                    f.copy_from_slice(&c);
                }
                return encode_rgba(w, h, &full).map(Some);
            };
            indices[i] = idx;
            drawn = true;
        }
    }
    let painted = |i: &u8| palette.colors[*i as usize][3] != 0;
    if !drawn && !indices.iter().any(painted) {
        return Ok(None);
    }
    encode_indexed(w, h, &indices, &palette.colors).map(Some)
}

/// Per pixel row, the columns [x0, x1) where something may have been drawn: the
/// compositor looks at those pixels only (a tile's points and outlines cover a few
/// percent of it, and scanning the whole overlay showed in the profile).
pub struct Dirty {
    pub rows: Vec<(u32, u32)>,
}

impl Dirty {
    /// Nothing drawn yet, `h` rows.
    pub fn new(h: u32) -> Dirty {
        Dirty {
            rows: vec![(u32::MAX, 0); h as usize],
        }
    }

    /// Every pixel of a `w` × `h` tile.
    #[cfg(test)]
    pub fn all(w: u32, h: u32) -> Dirty {
        Dirty {
            rows: vec![(0, w); h as usize],
        }
    }

    /// Mark the pixels of [x0, x1) × [y0, y1) (clipped to the tile; `w` its width).
    pub fn add(&mut self, x0: f32, y0: f32, x1: f32, y1: f32, w: u32) {
        let h = self.rows.len() as f32;
        let (ya, yb) = (y0.floor().clamp(0.0, h), y1.ceil().clamp(0.0, h));
        let (xa, xb) = (
            x0.floor().clamp(0.0, w as f32) as u32,
            x1.ceil().clamp(0.0, w as f32) as u32,
        );
        if xa >= xb {
            return;
        }
        for r in &mut self.rows[ya as usize..yb as usize] {
            *r = (r.0.min(xa), r.1.max(xb));
        }
    }
}

/// Premultiplied source-over: `s + d·(1 − αs)`, each product rounded.
#[inline(always)]
fn over(s: Rgba, d: Rgba) -> Rgba {
    let inv = 255 - s[3] as u32;
    let mix = |sc: u8, dc: u8| {
        let x = dc as u32 * inv + 128;
        (sc as u32 + ((x + (x >> 8)) >> 8)).min(255) as u8
    };
    let a = mix(s[3], d[3]);
    [
        mix(s[0], d[0]).min(a),
        mix(s[1], d[1]).min(a),
        mix(s[2], d[2]).min(a),
        a,
    ]
}

/// A tile's palette as it is collected: colours keyed by a 32-bit word (their RGBA bytes)
/// in a small open-addressing table. (Hand-written because a SipHash map per pixel cost
/// more than the deflate.)
pub(crate) struct PaletteBuilder {
    keys: [u32; SLOTS],
    vals: [u16; SLOTS],
    pub colors: Vec<Rgba>,
}

const SLOTS: usize = 1024;

impl PaletteBuilder {
    pub(crate) fn new() -> PaletteBuilder {
        PaletteBuilder {
            keys: [0; SLOTS],
            vals: [u16::MAX; SLOTS],
            colors: Vec::new(),
        }
    }

    /// Append `color` as the next entry; its key maps to the first entry that had it.
    pub(crate) fn seed(&mut self, key: u32, color: Rgba) {
        let i = self.colors.len() as u8;
        self.index(key, || color);
        if self.colors.len() == i as usize {
            self.colors.push(color);
        }
    }

    /// The index of the colour keyed `key`, adding `color()` when it is new; None once
    /// a 257th colour would be needed.
    #[inline]
    pub(crate) fn index(&mut self, key: u32, color: impl FnOnce() -> Rgba) -> Option<u8> {
        let mut slot = (key.wrapping_mul(0x9E37_79B1) >> 22) as usize;
        loop {
            if self.vals[slot] == u16::MAX {
                if self.colors.len() == 256 {
                    return None;
                }
                self.colors.push(color());
                self.keys[slot] = key;
                self.vals[slot] = (self.colors.len() - 1) as u16;
                return Some(self.vals[slot] as u8);
            }
            if self.keys[slot] == key {
                return Some(self.vals[slot] as u8);
            }
            slot = (slot + 1) % SLOTS;
        }
    }
}

/// Premultiplied from straight alpha (each channel rounded).
pub(crate) fn premultiply(c: Rgba) -> Rgba {
    let a = c[3] as u16;
    let m = |v: u8| ((v as u16 * a + 127) / 255) as u8;
    [m(c[0]), m(c[1]), m(c[2]), c[3]]
}

/// Straight alpha from premultiplied (as tiny-skia's `demultiply`; transparent is 0,0,0,0).
pub(crate) fn unpremultiply(p: Rgba) -> Rgba {
    let a = p[3];
    if a == 0 {
        return [0, 0, 0, 0];
    }
    if a == 255 {
        return p;
    }
    // the same rounding as tiny-skia's `PremultipliedColorU8::demultiply`
    let k = a as f64 / 255.0;
    let f = |c: u8| (c as f64 / k + 0.5) as u8;
    [f(p[0]), f(p[1]), f(p[2]), a]
}

/// Straight-alpha RGBA bytes of a premultiplied buffer.
pub fn demultiply(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    for px in data.chunks_exact(4) {
        out.extend_from_slice(&unpremultiply([px[0], px[1], px[2], px[3]]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sum_abs_diff_is_the_plain_sum() {
        // lengths around the 16-byte steps and 256-byte blocks, bytes from a fixed LCG
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut byte = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 56) as u8
        };
        for n in [0usize, 1, 15, 16, 17, 255, 256, 257, 511, 1000, 4096] {
            let a: Vec<u8> = (0..n).map(|_| byte()).collect();
            let b: Vec<u8> = (0..n + 3).map(|_| byte()).collect();
            let plain: u32 = a
                .iter()
                .zip(&b)
                .map(|(&p, &q)| (p.wrapping_sub(q) as i8).unsigned_abs() as u32)
                .sum();
            assert_eq!(sum_abs_diff(&a, &b), plain, "length {n}");
            // the largest terms in every lane of a whole block
            let hi = vec![128u8; n];
            let lo = vec![0u8; n];
            assert_eq!(sum_abs_diff(&hi, &lo), 128 * n as u32, "length {n}");
        }
    }

    fn decode(bytes: &[u8]) -> (png::ColorType, Vec<u8>, Option<Vec<u8>>) {
        let mut d = png::Decoder::new(std::io::Cursor::new(bytes));
        d.set_transformations(png::Transformations::EXPAND);
        let mut r = d.read_info().unwrap();
        let raw_color = r.info().color_type;
        let mut buf = vec![0; r.output_buffer_size().unwrap()];
        let info = r.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        (raw_color, buf, None)
    }

    #[test]
    fn palette_round_trip() {
        let mut rgba = vec![0u8; 16 * 16 * 4];
        for (i, px) in rgba.chunks_exact_mut(4).enumerate() {
            if i % 3 == 0 {
                px.copy_from_slice(&[160, 0, 0, 160]); // premultiplied 255,0,0 @ 160
            } else if i % 5 == 0 {
                px.copy_from_slice(&[0, 0, 255, 255]);
            }
        }
        let bytes = encode_premultiplied(16, 16, &rgba).unwrap().unwrap();
        let (color, out, _) = decode(&bytes);
        assert_eq!(color, png::ColorType::Indexed);
        assert_eq!(out, demultiply(&rgba), "expands back to the same RGBA");
        assert_eq!(&out[..4], &[255, 0, 0, 160]);
    }

    /// `encode_indexed`'s own row filtering decodes (with the `png` crate's reader) to the
    /// same indices, palette and tRNS as the `png` crate's adaptive encoder, for odd sizes
    /// and noise too, and its files are no larger on overlay-like tiles.
    #[test]
    fn filtered_rows_match_the_png_crate() {
        let raw = |bytes: &[u8]| {
            let mut d = png::Decoder::new(std::io::Cursor::new(bytes));
            d.set_transformations(png::Transformations::IDENTITY);
            let mut r = d.read_info().unwrap();
            let info = r.info().clone();
            let mut buf = vec![0; r.output_buffer_size().unwrap()];
            r.next_frame(&mut buf).unwrap();
            (
                buf,
                info.palette.map(|p| p.to_vec()),
                info.trns.map(|t| t.to_vec()),
            )
        };
        let palette: Vec<Rgba> = (0..40u8)
            .map(|i| {
                [
                    i * 6,
                    255 - i * 5,
                    i ^ 0x5a,
                    if i < 30 { i * 8 } else { 255 },
                ]
            })
            .collect();
        // discs and bands, as overlay tiles are
        let discs = |w: usize, h: usize| -> Vec<u8> {
            let mut v = vec![0u8; w * h];
            for (cx, cy, r, e) in [
                (60.0, 70.0, 50.0, 3u8),
                (150.0, 120.0, 70.0, 17),
                (90.0, 190.0, 45.0, 39),
            ] {
                for y in 0..h {
                    for x in 0..w {
                        let (dx, dy): (f64, f64) = (x as f64 - cx, y as f64 - cy);
                        if dx * dx + dy * dy < r * r {
                            v[y * w + x] = e;
                        }
                    }
                }
            }
            v
        };
        let mut seed = 0x2545f491u32;
        let mut noise = |n: usize| -> Vec<u8> {
            (0..n)
                .map(|_| {
                    seed = seed.wrapping_mul(1664525).wrapping_add(1013904223);
                    ((seed >> 24) % 40) as u8
                })
                .collect()
        };
        let stripes: Vec<u8> = (0..256 * 256).map(|i| ((i % 256) / 16 % 4) as u8).collect();
        let cases: Vec<(u32, u32, Vec<u8>, bool)> = vec![
            (256, 256, discs(256, 256), true),
            (256, 256, stripes, true),
            (256, 256, vec![5; 256 * 256], true),
            (37, 23, noise(37 * 23), false),
            (1, 9, noise(9), false),
            (9, 1, noise(9), false),
        ];
        for (w, h, idx, overlay) in cases {
            let ours = encode_indexed(w, h, &idx, &palette).unwrap();
            let theirs = encode_indexed_reference(w, h, &idx, &palette).unwrap();
            let (a, b) = (raw(&ours), raw(&theirs));
            assert_eq!(a.0, idx, "{w}×{h}: indices");
            assert_eq!(a, b, "{w}×{h}: same image, palette and tRNS");
            if overlay {
                assert!(
                    ours.len() <= theirs.len() * 21 / 20,
                    "{w}×{h}: {} bytes against the png crate's {}",
                    ours.len(),
                    theirs.len()
                );
            }
        }
        assert!(encode_indexed(4, 4, &[0; 15], &palette).is_err());
    }

    #[test]
    fn many_colours_fall_back_to_rgba() {
        let rgba: Vec<u8> = (0..64 * 64)
            .flat_map(|i| [(i % 256) as u8, (i / 256) as u8, 7, 255])
            .collect();
        let bytes = encode_premultiplied(64, 64, &rgba).unwrap().unwrap();
        let (color, out, _) = decode(&bytes);
        assert_eq!(color, png::ColorType::Rgba);
        assert_eq!(out, rgba);
    }

    #[test]
    fn premultiplied_matches_tiny_skia_demultiply() {
        use resvg::tiny_skia::{Color, Paint, PathBuilder, Pixmap, Transform};
        let mut pm = Pixmap::new(64, 64).unwrap();
        for (i, (x, y, r)) in [(20.0, 20.0, 15.0), (40.0, 35.0, 20.0)].iter().enumerate() {
            let mut paint = Paint::default();
            paint.anti_alias = true;
            paint.set_color(Color::from_rgba8(200, 40 * i as u8, 30, 170));
            let path = PathBuilder::from_circle(*x, *y, *r).unwrap();
            pm.fill_path(
                &path,
                &paint,
                Default::default(),
                Transform::identity(),
                None,
            );
        }
        let want: Vec<u8> = pm
            .pixels()
            .iter()
            .flat_map(|p| {
                let c = p.demultiply();
                if c.alpha() == 0 {
                    [0, 0, 0, 0]
                } else {
                    [c.red(), c.green(), c.blue(), c.alpha()]
                }
            })
            .collect();
        let bytes = encode_premultiplied(64, 64, pm.data()).unwrap().unwrap();
        let (_, out, _) = decode(&bytes);
        assert_eq!(out, want);
        let empty = Pixmap::new(8, 8).unwrap();
        assert!(encode_premultiplied(8, 8, empty.data()).unwrap().is_none());
    }

    /// Vectors composited over palette indices match drawing them with tiny-skia onto the
    /// base filled in: within 2 per straight channel (rounding, demultiplied), and exact with no
    /// base.
    #[test]
    fn overlay_over_indices_matches_tiny_skia() {
        use resvg::tiny_skia::{Color, Paint, PathBuilder, Pixmap, PremultipliedColorU8};
        use resvg::tiny_skia::{Stroke, Transform};
        let colors: Vec<Rgba> = vec![
            [0, 0, 0, 0],
            [230, 40, 30, 150],
            [250, 160, 40, 150],
            [40, 90, 230, 150],
            [0, 0, 0, 255],
        ];
        let premultiplied: Vec<Rgba> = colors.iter().map(|&c| premultiply(c)).collect();
        let (w, h) = (96u32, 80u32);
        let mut seed = 7u64;
        let indices: Vec<u8> = (0..w * h)
            .map(|i| {
                if i % 97 < 40 {
                    (riskmap_core::testutil::lcg(&mut seed) * 5.0) as u8
                } else {
                    ((i / w) % 4) as u8
                }
            })
            .collect();
        let draw = |pm: &mut Pixmap| {
            let mut paint = Paint::default();
            paint.anti_alias = true;
            paint.set_color(Color::from_rgba8(90, 40, 160, 255));
            let mut pb = PathBuilder::new();
            pb.move_to(3.3, 70.2);
            pb.line_to(90.1, 4.7);
            pb.line_to(60.4, 77.9);
            let line = pb.finish().unwrap();
            let st = Stroke {
                width: 2.5,
                ..Stroke::default()
            };
            pm.stroke_path(&line, &paint, &st, Transform::identity(), None);
            for (x, y, r, c) in [
                (30.2, 30.6, 9.3, [200, 30, 20]),
                (38.0, 36.4, 7.1, [30, 60, 210]),
            ] {
                paint.set_color(Color::from_rgba8(c[0], c[1], c[2], 230));
                let circle = PathBuilder::from_circle(x, y, r).unwrap();
                pm.fill_path(
                    &circle,
                    &paint,
                    Default::default(),
                    Transform::identity(),
                    None,
                );
            }
        };
        let mut overlay = Pixmap::new(w, h).unwrap();
        draw(&mut overlay);
        let base = Base {
            indices: &indices,
            colors: &colors,
            premultiplied: &premultiplied,
        };
        let got = decode(
            &encode_over(w, h, overlay.data(), Some(&base), &Dirty::all(w, h))
                .unwrap()
                .unwrap(),
        )
        .1;
        let mut want = Pixmap::new(w, h).unwrap();
        for (px, &i) in want.pixels_mut().iter_mut().zip(&indices) {
            let c = premultiplied[i as usize];
            *px = PremultipliedColorU8::from_rgba(c[0], c[1], c[2], c[3]).unwrap();
        }
        draw(&mut want);
        let want = demultiply(want.data());
        let worst = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (*a as i32 - *b as i32).abs())
            .max()
            .unwrap();
        assert!(worst <= 2, "differs by {worst}");
        assert!(got.chunks_exact(4).filter(|p| p[3] == 255).count() > 50);
        // without a base: the overlay itself
        let alone = encode_over(w, h, overlay.data(), None, &Dirty::all(w, h))
            .unwrap()
            .unwrap();
        assert_eq!(decode(&alone).1, demultiply(overlay.data()));
        // more than 256 colours: straight RGBA, the same pixels
        let mut many = Pixmap::new(w, h).unwrap();
        for (i, px) in many
            .pixels_mut()
            .iter_mut()
            .enumerate()
            .filter(|(i, _)| i % 3 == 0)
        {
            let a = (i % 200 + 40) as u8;
            let (r, g) = ((i % 97) as u8, (i / 97 % 40) as u8);
            *px = PremultipliedColorU8::from_rgba(r.min(a), g.min(a), 9, a).unwrap();
        }
        let bytes = encode_over(w, h, many.data(), Some(&base), &Dirty::all(w, h))
            .unwrap()
            .unwrap();
        let (color, got, _) = decode(&bytes);
        assert_eq!(color, png::ColorType::Rgba);
        let mut want = Pixmap::new(w, h).unwrap();
        for (px, &i) in want.pixels_mut().iter_mut().zip(&indices) {
            let c = premultiplied[i as usize];
            *px = PremultipliedColorU8::from_rgba(c[0], c[1], c[2], c[3]).unwrap();
        }
        want.draw_pixmap(
            0,
            0,
            many.as_ref(),
            &Default::default(),
            Transform::identity(),
            None,
        );
        let worst = got
            .iter()
            .zip(demultiply(want.data()))
            .map(|(a, b)| (*a as i32 - b as i32).abs())
            .max()
            .unwrap();
        assert!(worst <= 2, "RGBA fallback differs by {worst}");
        let empty = Pixmap::new(w, h).unwrap();
        assert!(encode_over(w, h, empty.data(), None, &Dirty::all(w, h))
            .unwrap()
            .is_none());
    }
}
