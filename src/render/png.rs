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
/// no tRNS entry).
pub fn encode_indexed(
    w: u32,
    h: u32,
    indices: &[u8],
    palette: &[Rgba],
) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::with_capacity(4096);
    {
        let mut e = encoder(&mut out, w, h);
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
}
