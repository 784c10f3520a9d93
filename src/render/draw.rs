//! Vector layers drawn with tiny-skia (antialiased): districts (fill by level + outline),
//! grid cells, enterprise points (radius by zoom, red last), and the composite. Geometry is
//! projected to global pixels of the tile's zoom, so shapes crossing a tile edge continue
//! exactly in the next tile.

use super::tile::{pixel, Tile};
use crate::crs::Crs;
use crate::model::Level;
use crate::pipeline::Dataset;
use crate::style::{parse_hex, Style};
use geo::{LineString, Polygon};
use resvg::tiny_skia::{Color, FillRule, Paint, PathBuilder, Pixmap, Stroke, Transform};

/// Tile being drawn: zoom, origin in global pixels, size, output CRS.
#[derive(Clone, Copy)]
pub struct Frame {
    pub tile: Tile,
    pub size: u32,
    pub crs: Crs,
    /// Scale of @2x tiles (strokes and points grow with it).
    pub scale: f32,
}

impl Frame {
    pub fn new(tile: Tile, size: u32, crs: Crs) -> Frame {
        Frame {
            tile,
            size,
            crs,
            scale: size as f32 / 256.0,
        }
    }
    /// Tile-local pixel of a WGS84 point.
    pub fn px(&self, lon: f64, lat: f64) -> (f32, f32) {
        let (lon, lat) = self.crs.from_wgs84(lon, lat);
        let (x, y) = pixel(lon, lat, self.tile.z, self.size);
        (
            (x - self.tile.x as f64 * self.size as f64) as f32,
            (y - self.tile.y as f64 * self.size as f64) as f32,
        )
    }
}

fn color(hex: &str, alpha: f32) -> Color {
    let [r, g, b] = parse_hex(hex).unwrap_or([128, 128, 128]);
    Color::from_rgba8(r, g, b, (alpha.clamp(0.0, 1.0) * 255.0).round() as u8)
}

fn ring_path(pb: &mut PathBuilder, f: &Frame, ring: &LineString<f64>) {
    let mut first = true;
    for c in &ring.0 {
        let (x, y) = f.px(c.x, c.y);
        if first {
            pb.move_to(x, y);
            first = false;
        } else {
            pb.line_to(x, y);
        }
    }
    pb.close();
}

/// Fill (and optionally stroke) polygons.
pub fn polygons(
    pm: &mut Pixmap,
    f: &Frame,
    polys: &[&Polygon<f64>],
    fill: Option<Color>,
    stroke: Option<(Color, f32)>,
) {
    let mut pb = PathBuilder::new();
    for p in polys {
        ring_path(&mut pb, f, p.exterior());
        for h in p.interiors() {
            ring_path(&mut pb, f, h);
        }
    }
    let Some(path) = pb.finish() else { return };
    if let Some(c) = fill {
        let mut paint = Paint::default();
        paint.set_color(c);
        paint.anti_alias = true;
        pm.fill_path(
            &path,
            &paint,
            FillRule::EvenOdd,
            Transform::identity(),
            None,
        );
    }
    if let Some((c, w)) = stroke {
        let mut paint = Paint::default();
        paint.set_color(c);
        paint.anti_alias = true;
        let st = Stroke {
            width: w * f.scale,
            ..Stroke::default()
        };
        pm.stroke_path(&path, &paint, &st, Transform::identity(), None);
    }
}

/// Districts filled by their level, with outlines. `fill = false` draws outlines only.
pub fn areas(
    pm: &mut Pixmap,
    f: &Frame,
    areas: &[&crate::analyze::areas::AreaStats],
    fill: bool,
    style: &Style,
) {
    let d = &style.drawing;
    for a in areas {
        let polys: Vec<&Polygon<f64>> = a.shape.0.iter().collect();
        let fc = if fill && a.total() > 0 {
            Some(color(style.color(a.level.level), d.areas_opacity))
        } else {
            None
        };
        polygons(
            pm,
            f,
            &polys,
            fc,
            Some((color(&d.outline_color, 1.0), d.outline_width)),
        );
    }
}

/// Grid cells filled by level.
pub fn grid(pm: &mut Pixmap, f: &Frame, cells: &[&crate::analyze::grid::Cell], style: &Style) {
    let d = &style.drawing;
    for c in cells {
        polygons(
            pm,
            f,
            &[&c.shape],
            Some(color(style.color(c.level.level), d.grid_opacity)),
            Some((color(&d.grid_outline_color, 0.8), d.grid_outline_width)),
        );
    }
}

/// Enterprise points (indices into the dataset), drawn in the style's level order.
pub fn points(pm: &mut Pixmap, f: &Frame, ds: &Dataset, idx: &[usize], style: &Style) {
    let d = &style.drawing;
    let r = style.point_radius(f.tile.z as f32) * f.scale;
    let rank = |l: Option<Level>| {
        d.point_order
            .iter()
            .position(|k| k == crate::model::level_key(l))
            .unwrap_or(0)
    };
    let mut order: Vec<usize> = idx.to_vec();
    order.sort_by_key(|&i| (rank(ds.grades[i].level), i));
    let outline = color(&d.point_outline_color, 1.0);
    for i in order {
        let e = &ds.enterprises[i];
        let (x, y) = f.px(e.lon, e.lat);
        let Some(path) = PathBuilder::from_circle(x, y, r) else {
            continue;
        };
        let mut paint = Paint::default();
        paint.anti_alias = true;
        paint.set_color(color(style.color(ds.grades[i].level), 1.0));
        pm.fill_path(
            &path,
            &paint,
            FillRule::Winding,
            Transform::identity(),
            None,
        );
        if d.point_outline_width > 0.0 {
            paint.set_color(outline);
            let st = Stroke {
                width: d.point_outline_width * f.scale,
                ..Stroke::default()
            };
            pm.stroke_path(&path, &paint, &st, Transform::identity(), None);
        }
    }
}

/// Straight-alpha RGBA bytes of a pixmap (tiny-skia stores premultiplied).
pub fn rgba(pm: &Pixmap) -> Vec<u8> {
    let mut out = Vec::with_capacity(pm.data().len());
    for p in pm.pixels() {
        let c = p.demultiply();
        out.extend_from_slice(&[c.red(), c.green(), c.blue(), c.alpha()]);
    }
    out
}
