//! MapLibre glyph ranges: the signed-distance-field glyphs a style's `glyphs` URL serves
//! (`{fontstack}/{start}-{end}.pbf`, 256 code points each), in the `glyphs.proto` of
//! mapbox/node-fontnik. Outlines from ttf-parser, rasterised with tiny-skia at 24 px with
//! a 3 px buffer, distance fields (radius 8, cutoff 0.25) by sdf_glyph_renderer — the
//! parameters MapLibre's text shaping expects.

use prost::Message;
use resvg::tiny_skia;

/// `glyphs.proto` as prost messages.
pub mod proto {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Glyph {
        #[prost(uint32, required, tag = "1")]
        pub id: u32,
        /// The signed distance field, (width + 6) × (height + 6) bytes.
        #[prost(bytes = "vec", optional, tag = "2")]
        pub bitmap: Option<Vec<u8>>,
        #[prost(uint32, required, tag = "3")]
        pub width: u32,
        #[prost(uint32, required, tag = "4")]
        pub height: u32,
        #[prost(sint32, required, tag = "5")]
        pub left: i32,
        #[prost(sint32, required, tag = "6")]
        pub top: i32,
        #[prost(uint32, required, tag = "7")]
        pub advance: u32,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Fontstack {
        #[prost(string, required, tag = "1")]
        pub name: String,
        #[prost(string, required, tag = "2")]
        pub range: String,
        #[prost(message, repeated, tag = "3")]
        pub glyphs: Vec<Glyph>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Glyphs {
        #[prost(message, repeated, tag = "1")]
        pub stacks: Vec<Fontstack>,
    }
}

const SIZE: f64 = 24.0;
const BUFFER: usize = 3;
const RADIUS: usize = 8;
const CUTOFF: f64 = 0.25;

struct Pen {
    pb: tiny_skia::PathBuilder,
    scale: f32,
    dx: f32,
    dy: f32,
}

impl Pen {
    fn p(&self, x: f32, y: f32) -> (f32, f32) {
        (x * self.scale + self.dx, -y * self.scale + self.dy)
    }
}

impl ttf_parser::OutlineBuilder for Pen {
    fn move_to(&mut self, x: f32, y: f32) {
        let (x, y) = self.p(x, y);
        self.pb.move_to(x, y);
    }
    fn line_to(&mut self, x: f32, y: f32) {
        let (x, y) = self.p(x, y);
        self.pb.line_to(x, y);
    }
    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        let (x1, y1) = self.p(x1, y1);
        let (x, y) = self.p(x, y);
        self.pb.quad_to(x1, y1, x, y);
    }
    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        let (x1, y1) = self.p(x1, y1);
        let (x2, y2) = self.p(x2, y2);
        let (x, y) = self.p(x, y);
        self.pb.cubic_to(x1, y1, x2, y2, x, y);
    }
    fn close(&mut self) {
        self.pb.close();
    }
}

/// One glyph of `face`, or None when the font has no glyph for `cp`.
fn glyph(face: &ttf_parser::Face<'_>, cp: u32) -> Option<proto::Glyph> {
    let c = char::from_u32(cp)?;
    let gid = face.glyph_index(c)?;
    let scale = SIZE / f64::from(face.units_per_em());
    let ascender = (f64::from(face.ascender()) * scale).round() as i32;
    let advance = face
        .glyph_hor_advance(gid)
        .map(|a| (f64::from(a) * scale).round() as u32)
        .unwrap_or(0);
    let Some(b) = face.glyph_bounding_box(gid) else {
        // a space: metrics only
        return Some(proto::Glyph {
            id: cp,
            bitmap: None,
            width: 0,
            height: 0,
            left: 0,
            top: -ascender,
            advance,
        });
    };
    let w = ((f64::from(b.x_max) - f64::from(b.x_min)) * scale).round() as usize;
    let h = ((f64::from(b.y_max) - f64::from(b.y_min)) * scale).round() as usize;
    let left = (f64::from(b.x_min) * scale).round() as i32;
    let top = (f64::from(b.y_max) * scale).round() as i32;
    let (pw, ph) = (w + 2 * BUFFER, h + 2 * BUFFER);
    let mut pen = Pen {
        pb: tiny_skia::PathBuilder::new(),
        scale: scale as f32,
        dx: (BUFFER as f64 - f64::from(b.x_min) * scale) as f32,
        dy: (BUFFER as f64 + f64::from(b.y_max) * scale) as f32,
    };
    face.outline_glyph(gid, &mut pen)?;
    let mut alpha = vec![0u8; pw * ph];
    if let (Some(path), Some(mut pm)) = (
        pen.pb.finish(),
        tiny_skia::Pixmap::new(pw as u32, ph as u32),
    ) {
        let mut paint = tiny_skia::Paint::default();
        paint.set_color_rgba8(0, 0, 0, 255);
        paint.anti_alias = true;
        pm.fill_path(
            &path,
            &paint,
            tiny_skia::FillRule::Winding,
            tiny_skia::Transform::identity(),
            None,
        );
        for (a, p) in alpha.iter_mut().zip(pm.pixels()) {
            *a = p.alpha();
        }
    }
    let bitmap = sdf_glyph_renderer::BitmapGlyph::new(alpha, w, h, BUFFER)
        .ok()
        .map(|g| g.render_sdf(RADIUS))
        .and_then(|sdf| sdf_glyph_renderer::clamp_to_u8(&sdf, CUTOFF).ok());
    Some(proto::Glyph {
        id: cp,
        bitmap,
        width: w as u32,
        height: h as u32,
        left,
        top: top - ascender,
        advance,
    })
}

/// The glyph range starting at `start` (a multiple of 256) of face `index` of a font file,
/// named `name` (the fontstack a style asks for), protobuf-encoded.
pub fn range(font: &[u8], index: u32, name: &str, start: u32) -> Result<Vec<u8>, String> {
    let face = ttf_parser::Face::parse(font, index).map_err(|e| format!("font: {e}"))?;
    let start = start - start % 256;
    let glyphs = (start..start + 256)
        .filter_map(|cp| glyph(&face, cp))
        .collect();
    let g = proto::Glyphs {
        stacks: vec![proto::Fontstack {
            name: name.to_string(),
            range: format!("{start}-{}", start + 255),
            glyphs,
        }],
    };
    Ok(g.encode_to_vec())
}

/// Decode a glyph range (for tests and tools that check what a server sends).
pub fn decode(bytes: &[u8]) -> Result<proto::Glyphs, String> {
    proto::Glyphs::decode(bytes).map_err(|e| format!("glyphs.proto: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chinese_range_decodes_with_sdf_glyphs() {
        let font = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fonts/wqy-microhei.ttc"
        ))
        .unwrap();
        // 济 U+6D4E
        let start = 0x6D4E / 256 * 256;
        let b = range(&font, 0, "WenQuanYi Micro Hei Regular", start).unwrap();
        let g = proto::Glyphs::decode(&b[..]).unwrap();
        assert_eq!(g.stacks.len(), 1);
        let s = &g.stacks[0];
        assert_eq!(s.range, format!("{start}-{}", start + 255));
        let ji = s.glyphs.iter().find(|x| x.id == 0x6D4E).expect("济");
        let bm = ji.bitmap.as_ref().unwrap();
        assert_eq!(bm.len() as u32, (ji.width + 6) * (ji.height + 6));
        assert!(
            ji.width > 15 && ji.width <= 24 && ji.height > 15 && ji.height <= 26,
            "{ji:?}"
        );
        assert!((20..=26).contains(&ji.advance));
        // inside the stroke the field passes 192 (the edge); the corners are far outside
        assert!(bm.iter().any(|&v| v > 200));
        assert!(bm[0] < 100);
        // ASCII: 'A' and a space
        let b = range(&font, 0, "x", 0).unwrap();
        let g = proto::Glyphs::decode(&b[..]).unwrap();
        let a = g.stacks[0].glyphs.iter().find(|x| x.id == 65).unwrap();
        assert!(a.width > 8 && a.top < 0 && a.top > -24, "{a:?}");
        let sp = g.stacks[0].glyphs.iter().find(|x| x.id == 32).unwrap();
        assert!(sp.bitmap.is_none() && sp.advance > 0);
    }
}
