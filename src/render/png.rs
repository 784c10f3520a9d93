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

/// Encode straight-alpha RGBA pixels, as a palette PNG when they hold ≤ 256 colours
/// (palette in order of first appearance, so the bytes are deterministic).
pub fn encode_auto(w: u32, h: u32, rgba: &[u8]) -> Result<Vec<u8>, png::EncodingError> {
    let mut palette: Vec<Rgba> = Vec::new();
    let mut lookup: std::collections::HashMap<u32, u8> = std::collections::HashMap::new();
    let mut indices = Vec::with_capacity((w * h) as usize);
    let mut last: Option<(u32, u8)> = None;
    for px in rgba.chunks_exact(4) {
        // fully transparent pixels are all the same colour
        let c: Rgba = if px[3] == 0 {
            [0, 0, 0, 0]
        } else {
            [px[0], px[1], px[2], px[3]]
        };
        let key = u32::from_le_bytes(c);
        // runs of one colour are the common case: skip the hash lookup
        if let Some((k, i)) = last {
            if k == key {
                indices.push(i);
                continue;
            }
        }
        let i = match lookup.get(&key) {
            Some(&i) => i,
            None => {
                if palette.len() == 256 {
                    return encode_rgba(w, h, rgba);
                }
                palette.push(c);
                let i = (palette.len() - 1) as u8;
                lookup.insert(key, i);
                i
            }
        };
        last = Some((key, i));
        indices.push(i);
    }
    encode_indexed(w, h, &indices, &palette)
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
                px.copy_from_slice(&[255, 0, 0, 160]);
            } else if i % 5 == 0 {
                px.copy_from_slice(&[0, 0, 255, 255]);
            }
        }
        let bytes = encode_auto(16, 16, &rgba).unwrap();
        let (color, out, _) = decode(&bytes);
        assert_eq!(color, png::ColorType::Indexed);
        assert_eq!(out, rgba, "expands back to the same RGBA");
    }

    #[test]
    fn many_colours_fall_back_to_rgba() {
        let rgba: Vec<u8> = (0..64 * 64)
            .flat_map(|i| [(i % 256) as u8, (i / 256) as u8, 7, 255])
            .collect();
        let bytes = encode_auto(64, 64, &rgba).unwrap();
        let (color, out, _) = decode(&bytes);
        assert_eq!(color, png::ColorType::Rgba);
        assert_eq!(out, rgba);
    }
}
