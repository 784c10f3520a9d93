//! Vector layers drawn with tiny-skia (antialiased): districts (fill by level + outline),
//! grid cells, enterprise points (radius by zoom, red last), and the composite. Geometry is
//! projected to global pixels of the tile's zoom, so shapes crossing a tile edge continue
//! exactly in the next tile.

use super::png::Dirty;
use super::tile::{world, Tile};
use geo::{LineString, Polygon};
use resvg::tiny_skia::{Color, FillRule, Paint, PathBuilder, Pixmap, Stroke, Transform};
use riskmap_core::crs::Crs;
use riskmap_core::dataset::Dataset;
use riskmap_core::style::{parse_hex, Style};

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
        self.px_world(world(lon, lat))
    }

    /// Tile-local pixel of a position in fractions of the world (`tile::world` of the
    /// point in the frame's CRS).
    pub fn px_world(&self, (u, v): (f64, f64)) -> (f32, f32) {
        let n = Tile::n(self.tile.z) as f64;
        let s = self.size as f64;
        (
            (u * n * s - self.tile.x as f64 * s) as f32,
            (v * n * s - self.tile.y as f64 * s) as f32,
        )
    }
}

fn color(hex: &str, alpha: f32) -> Color {
    let [r, g, b] = parse_hex(hex).unwrap_or([128, 128, 128]);
    Color::from_rgba8(r, g, b, (alpha.clamp(0.0, 1.0) * 255.0).round() as u8)
}

fn ring_path(pb: &mut PathBuilder, f: &Frame, ring: &LineString<f64>) {
    line_path(pb, f, ring.0.iter().map(|c| [c.x, c.y]), true);
}

/// Append WGS84 points as one sub-path in tile pixels (closed when `close`).
fn line_path(pb: &mut PathBuilder, f: &Frame, pts: impl Iterator<Item = [f64; 2]>, close: bool) {
    let mut first = true;
    for c in pts {
        let (x, y) = f.px(c[0], c[1]);
        if first {
            pb.move_to(x, y);
            first = false;
        } else {
            pb.line_to(x, y);
        }
    }
    if close && !first {
        pb.close();
    }
}

/// Fill a path with an antialiased colour (even-odd, for rings with holes).
fn fill(pm: &mut Pixmap, path: &resvg::tiny_skia::Path, c: Color) {
    let mut paint = Paint::default();
    paint.set_color(c);
    paint.anti_alias = true;
    pm.fill_path(path, &paint, FillRule::EvenOdd, Transform::identity(), None);
}

/// Fill (and optionally stroke) polygons.
pub fn polygons(
    pm: &mut Pixmap,
    f: &Frame,
    polys: &[&Polygon<f64>],
    fill_color: Option<Color>,
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
    if let Some(c) = fill_color {
        fill(pm, &path, c);
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

/// Districts filled by their level, each ring clipped to `env` (WGS84, padded beyond the
/// tile so the clip edges stay outside it): a tile draws a few vertices, not whole
/// districts.
pub fn areas_clipped(
    pm: &mut Pixmap,
    f: &Frame,
    areas: &[&riskmap_analyze::areas::AreaStats],
    env: [f64; 4],
    style: &Style,
) {
    let d = &style.drawing;
    for a in areas {
        if a.total() == 0 {
            continue;
        }
        let mut pb = PathBuilder::new();
        for p in &a.shape.0 {
            for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
                line_path(&mut pb, f, clip_ring(&ring.0, env).into_iter(), true);
            }
        }
        let Some(path) = pb.finish() else { continue };
        fill(
            pm,
            &path,
            color(style.color(a.level.level), d.areas_opacity),
        );
    }
}

/// Sutherland–Hodgman clip of a closed ring to a rectangle (w, s, e, n). A concave ring
/// may come back with zero-width bridges along the rectangle's edges, which fill nothing
/// and lie outside the tile. (Hand-written: a boolean-ops clip per tile costs far more.)
pub fn clip_ring(ring: &[geo::Coord<f64>], env: [f64; 4]) -> Vec<[f64; 2]> {
    let mut pts: Vec<[f64; 2]> = ring.iter().map(|c| [c.x, c.y]).collect();
    if pts.len() > 1 && pts.first() == pts.last() {
        pts.pop();
    }
    // (axis, bound, keep when coordinate >= bound)
    for (axis, bound, ge) in [
        (0, env[0], true),
        (0, env[2], false),
        (1, env[1], true),
        (1, env[3], false),
    ] {
        if pts.is_empty() {
            break;
        }
        let inside = |p: &[f64; 2]| {
            if ge {
                p[axis] >= bound
            } else {
                p[axis] <= bound
            }
        };
        let mut out = Vec::with_capacity(pts.len() + 4);
        for i in 0..pts.len() {
            let (cur, prev) = (pts[i], pts[(i + pts.len() - 1) % pts.len()]);
            let (ci, pi) = (inside(&cur), inside(&prev));
            if ci != pi {
                let t = (bound - prev[axis]) / (cur[axis] - prev[axis]);
                let mut x = [
                    prev[0] + t * (cur[0] - prev[0]),
                    prev[1] + t * (cur[1] - prev[1]),
                ];
                x[axis] = bound;
                out.push(x);
            }
            if ci {
                out.push(cur);
            }
        }
        pts = out;
    }
    pts
}

/// District outlines: stroke the boundary pieces (polylines) that reach into the tile.
/// With `dirty`, the pixels each stroke may touch are marked there.
pub fn outlines(
    pm: &mut Pixmap,
    f: &Frame,
    runs: &[(usize, Vec<[f64; 2]>)],
    style: &Style,
    mut dirty: Option<&mut Dirty>,
) {
    let d = &style.drawing;
    let mut pb = PathBuilder::new();
    for (_, run) in runs {
        line_path(&mut pb, f, run.iter().copied(), false);
    }
    if let Some(dirty) = dirty.as_deref_mut() {
        // each segment in pieces of at most 8 px, each piece's box padded by half the
        // stroke (round caps) and a pixel of antialiasing
        let pad = d.outline_width * f.scale / 2.0 + 1.5;
        for (_, run) in runs {
            let pts: Vec<(f32, f32)> = run.iter().map(|c| f.px(c[0], c[1])).collect();
            for w in pts.windows(2) {
                let ((x0, y0), (x1, y1)) = (w[0], w[1]);
                let len = (x1 - x0).abs().max((y1 - y0).abs());
                let k = ((len / 8.0).ceil() as usize).clamp(1, 4096);
                for i in 0..k {
                    let (t0, t1) = (i as f32 / k as f32, (i + 1) as f32 / k as f32);
                    let (ax, ay) = (x0 + (x1 - x0) * t0, y0 + (y1 - y0) * t0);
                    let (bx, by) = (x0 + (x1 - x0) * t1, y0 + (y1 - y0) * t1);
                    dirty.add(
                        ax.min(bx) - pad,
                        ay.min(by) - pad,
                        ax.max(bx) + pad,
                        ay.max(by) + pad,
                        f.size,
                    );
                }
            }
        }
    }
    let Some(path) = pb.finish() else { return };
    let mut paint = Paint::default();
    paint.set_color(color(&d.outline_color, 1.0));
    paint.anti_alias = true;
    // round caps: where a ring's pieces meet (its first vertex) the caps make a round join
    let st = Stroke {
        width: d.outline_width * f.scale,
        line_cap: resvg::tiny_skia::LineCap::Round,
        // bevel joins (QGIS's default) keep every stroked pixel within half the width
        // of the line, inside the spans (a miter at a 30° turn reaches out twice the
        // width; round joins add an arc per vertex, 4 % more stroking time)
        line_join: resvg::tiny_skia::LineJoin::Bevel,
        ..Stroke::default()
    };
    pm.stroke_path(&path, &paint, &st, Transform::identity(), None);
}

/// A lifeline kind's colour (the viewer's and the style's).
pub fn lifeline_color(k: riskmap_core::model::LifelineKind) -> &'static str {
    use riskmap_core::model::LifelineKind as K;
    match k {
        K::Gas => "#f9a825",
        K::Pipeline => "#6d4c41",
        K::Power => "#8e24aa",
        K::Water => "#1e88e5",
        K::Heating => "#d84315",
    }
}

/// City lifelines: the control zone as a faint band, the protection zone as a stronger
/// one, the centre line over them, each in the kind's colour. A zone is the centre line
/// stroked with round caps and joins at twice its width: the set of points within the
/// width of the line (as a buffer), drawn in the tile's pixels, where Web Mercator is
/// conformal, at the line's latitude. Bands under a pixel are left to the line.
pub fn lifelines(
    pm: &mut Pixmap,
    f: &Frame,
    ds: &Dataset,
    zones: &[riskmap_analyze::lifelines::Zone],
    idx: &[usize],
) {
    use resvg::tiny_skia::{LineCap, LineJoin};
    let n = Tile::n(f.tile.z) as f64 * f.size as f64;
    for &i in idx {
        let l = &ds.lifelines[i];
        let mut pb = PathBuilder::new();
        for part in &l.line.0 {
            line_path(&mut pb, f, part.0.iter().map(|c| [c.x, c.y]), false);
        }
        let Some(path) = pb.finish() else { continue };
        let lat = geo::BoundingRect::bounding_rect(&l.line)
            .map(|r| (r.min().y + r.max().y) / 2.0)
            .unwrap_or(0.0);
        // pixels per metre on the ground at this latitude and zoom
        let ppm = n / (2.0 * std::f64::consts::PI * 6_378_137.0 * lat.to_radians().cos());
        let hex = lifeline_color(l.kind);
        let band = |pm: &mut Pixmap, width_m: f64, alpha: f32| {
            let w = (2.0 * width_m * ppm) as f32;
            if w < 1.0 {
                return;
            }
            let mut paint = Paint::default();
            paint.set_color(color(hex, alpha));
            paint.anti_alias = true;
            let st = Stroke {
                width: w,
                line_cap: LineCap::Round,
                line_join: LineJoin::Round,
                ..Stroke::default()
            };
            pm.stroke_path(&path, &paint, &st, Transform::identity(), None);
        };
        let z = &zones[i];
        if let Some(c) = z.control_m {
            band(pm, c, 0.12);
        }
        band(pm, z.protect_m, 0.35);
        let mut paint = Paint::default();
        paint.set_color(color(hex, 1.0));
        paint.anti_alias = true;
        let st = Stroke {
            width: 1.5 * f.scale,
            line_cap: LineCap::Round,
            line_join: LineJoin::Round,
            ..Stroke::default()
        };
        pm.stroke_path(&path, &paint, &st, Transform::identity(), None);
    }
}

/// Grid cells filled by level.
pub fn grid(pm: &mut Pixmap, f: &Frame, cells: &[&riskmap_analyze::grid::Cell], style: &Style) {
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

/// Pre-rendered enterprise circles (fill + outline, antialiased by tiny-skia) by colour,
/// radius and quarter-pixel offset: a point is then a small blit instead of two path
/// rasterisations, which matters when a low-zoom tile holds 100k+ enterprises.
#[derive(Default)]
pub struct Sprites {
    map: std::sync::Mutex<std::collections::HashMap<(u32, u32, u8, u8), std::sync::Arc<Pixmap>>>,
}

/// Sub-pixel positions are quantised to quarters.
const SUB: f32 = 4.0;

impl Sprites {
    fn get(
        &self,
        fill: Color,
        outline: Option<(Color, f32)>,
        r: f32,
        fx: u8,
        fy: u8,
    ) -> Option<std::sync::Arc<Pixmap>> {
        let c = fill.to_color_u8();
        let key = (
            u32::from_le_bytes([c.red(), c.green(), c.blue(), c.alpha()]),
            r.to_bits() ^ outline.map(|o| o.1.to_bits().rotate_left(7)).unwrap_or(0),
            fx,
            fy,
        );
        if let Some(p) = self.map.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Some(p);
        }
        let pad = Self::pad(r, outline.map(|o| o.1).unwrap_or(0.0));
        let side = 2 * pad as u32 + 2;
        let mut pm = Pixmap::new(side, side)?;
        let (cx, cy) = (pad as f32 + fx as f32 / SUB, pad as f32 + fy as f32 / SUB);
        circle(&mut pm, cx, cy, r, fill, outline)?;
        quantize_sprite(&mut pm, fill, outline.map(|o| o.0));
        let p = std::sync::Arc::new(pm);
        if let Ok(mut m) = self.map.lock() {
            m.insert(key, p.clone());
        }
        Some(p)
    }

    fn pad(r: f32, ow: f32) -> i32 {
        (r + ow / 2.0 + 1.5).ceil() as i32
    }
}

/// An antialiased circle: filled, then stroked with `outline` (colour, width) if any.
fn circle(
    pm: &mut Pixmap,
    cx: f32,
    cy: f32,
    r: f32,
    fill: Color,
    outline: Option<(Color, f32)>,
) -> Option<()> {
    let path = PathBuilder::from_circle(cx, cy, r)?;
    let mut paint = Paint::default();
    paint.anti_alias = true;
    paint.set_color(fill);
    pm.fill_path(
        &path,
        &paint,
        FillRule::Winding,
        Transform::identity(),
        None,
    );
    if let Some((oc, ow)) = outline {
        paint.set_color(oc);
        let st = Stroke {
            width: ow,
            ..Stroke::default()
        };
        pm.stroke_path(&path, &paint, &st, Transform::identity(), None);
    }
    Some(())
}

/// Snap a sprite's antialiasing to 16 coverage levels and its fill/outline blends to
/// eighths, keeping the pure fill and outline colours exact: a tile where many sprites
/// overlap then still fits a 256-colour palette (with tiny-skia's 256 levels, sprites of
/// five colours at sixteen sub-pixel offsets overflowed it in one tile in sixteen, and
/// those tiles fell back to RGBA PNG, four times the bytes to deflate).
fn quantize_sprite(pm: &mut Pixmap, fill: Color, outline: Option<Color>) {
    let f = fill.to_color_u8();
    let f = [f.red() as f32, f.green() as f32, f.blue() as f32];
    let o = outline
        .map(|c| c.to_color_u8())
        .map(|c| [c.red() as f32, c.green() as f32, c.blue() as f32]);
    for px in pm.pixels_mut() {
        let a = px.alpha();
        if a == 0 {
            continue;
        }
        let s = px.demultiply();
        let s = [s.red() as f32, s.green() as f32, s.blue() as f32];
        // the share of the outline colour in the pixel, to eighths
        let t = match o {
            Some(o) => {
                let d: [f32; 3] = std::array::from_fn(|i| o[i] - f[i]);
                let dd = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
                if dd == 0.0 {
                    0.0
                } else {
                    let p =
                        ((s[0] - f[0]) * d[0] + (s[1] - f[1]) * d[1] + (s[2] - f[2]) * d[2]) / dd;
                    (p.clamp(0.0, 1.0) * 8.0).round() / 8.0
                }
            }
            None => 0.0,
        };
        let c: [f32; 3] = std::array::from_fn(|i| f[i] + (o.map_or(f[i], |o| o[i]) - f[i]) * t);
        let aq = ((a as f32 / 17.0).round() * 17.0) as u8;
        let [r, g, b, a] = super::png::premultiply([
            c[0].round() as u8,
            c[1].round() as u8,
            c[2].round() as u8,
            aq,
        ]);
        *px = resvg::tiny_skia::PremultipliedColorU8::from_rgba(r, g, b, a)
            .unwrap_or(resvg::tiny_skia::PremultipliedColorU8::TRANSPARENT);
    }
}

/// Source-over of a premultiplied sprite at integer offset (x, y), clipped to the pixmap.
fn blit(pm: &mut Pixmap, sprite: &Pixmap, x: i32, y: i32) {
    let (w, h) = (pm.width() as i32, pm.height() as i32);
    let (sw, sh) = (sprite.width() as i32, sprite.height() as i32);
    let src = sprite.pixels();
    let dst = pm.pixels_mut();
    for sy in 0..sh {
        let dy = y + sy;
        if dy < 0 || dy >= h {
            continue;
        }
        for sx in 0..sw {
            let dx = x + sx;
            if dx < 0 || dx >= w {
                continue;
            }
            let s = src[(sy * sw + sx) as usize];
            let sa = s.alpha();
            if sa == 0 {
                continue;
            }
            let d = &mut dst[(dy * w + dx) as usize];
            if sa == 255 {
                *d = s;
                continue;
            }
            let inv = 255 - sa as u32;
            let mix = |sc: u8, dc: u8| (sc as u32 + (dc as u32 * inv + 127) / 255).min(255) as u8;
            let a = mix(sa, d.alpha());
            let (r, g, b) = (
                mix(s.red(), d.red()).min(a),
                mix(s.green(), d.green()).min(a),
                mix(s.blue(), d.blue()).min(a),
            );
            if let Some(c) = resvg::tiny_skia::PremultipliedColorU8::from_rgba(r, g, b, a) {
                *d = c;
            }
        }
    }
}

/// Enterprise points (indices into the dataset; `world` their positions in the frame's
/// CRS, `Renderer::world`), drawn in the style's level order.
/// The pixels each sprite covers are marked in `dirty`.
#[allow(clippy::too_many_arguments)]
pub fn points(
    pm: &mut Pixmap,
    f: &Frame,
    ds: &Dataset,
    world: &[(f64, f64)],
    idx: &[usize],
    style: &Style,
    sprites: &Sprites,
    dirty: &mut Dirty,
) {
    let d = &style.drawing;
    let r = style.point_radius(f.tile.z as f32) * f.scale;
    // per level (model::level_slot): draw rank and fill, worked out once per tile
    let levels = riskmap_core::model::LEVELS;
    let rank = levels.map(|l| {
        d.point_order
            .iter()
            .position(|k| k == riskmap_core::model::level_key(l))
            .unwrap_or(0)
    });
    let fill = levels.map(|l| color(style.color(l), 1.0));
    let slot = |i: usize| riskmap_core::model::level_slot(ds.grades[i].level);
    let mut order: Vec<usize> = idx.to_vec();
    order.sort_unstable_by_key(|&i| (rank[slot(i)], i));
    let outline = (d.point_outline_width > 0.0).then(|| {
        (
            color(&d.point_outline_color, 1.0),
            d.point_outline_width * f.scale,
        )
    });
    let pad = Sprites::pad(r, outline.map(|o| o.1).unwrap_or(0.0));
    // this tile's sprites by level and quarter-pixel offset: the shared cache (a mutex
    // and a hash) is asked once per kind, not once per point
    let mut local: [Option<std::sync::Arc<Pixmap>>; 5 * 16] = std::array::from_fn(|_| None);
    for i in order {
        let (x, y) = f.px_world(world[i]);
        // integer pixel and quarter-pixel remainder
        let (qx, qy) = ((x * SUB).round(), (y * SUB).round());
        let (ix, iy) = ((qx / SUB).floor(), (qy / SUB).floor());
        let (fx, fy) = ((qx - ix * SUB) as u8, (qy - iy * SUB) as u8);
        let k = slot(i);
        let cached = &mut local[(k * 16 + fx as usize * 4 + fy as usize) % 80];
        if cached.is_none() {
            *cached = sprites.get(fill[k], outline, r, fx, fy);
        }
        if let Some(sp) = cached {
            let (x, y) = (ix as i32 - pad, iy as i32 - pad);
            blit(pm, sp, x, y);
            let (x, y) = (x as f32, y as f32);
            let (w, h) = (sp.width() as f32, sp.height() as f32);
            dirty.add(x, y, x + w, y + h, f.size);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every pixel a district outline touches lies inside the spans it marks (the
    /// compositor reads nothing else), for long diagonals, short zigzags, pieces leaving
    /// the tile, and @2x strokes.
    #[test]
    fn outline_spans_cover_the_stroke() {
        for (z, size, width) in [
            (12u8, 256u32, 1.2),
            (15, 256, 1.2),
            (15, 512, 1.2),
            (15, 256, 3.0),
        ] {
            let tile = super::super::tile::tile(117.0, 36.65, z);
            let b = tile.bounds();
            let (w, s, e, n) = (b[0], b[1], b[2], b[3]);
            let (dx, dy) = (e - w, n - s);
            let at = |u: f64, v: f64| [w + dx * u, n - dy * v];
            let mut zigzag = Vec::new();
            for i in 0..40 {
                let u = 0.1 + 0.02 * i as f64;
                zigzag.push(at(u, 0.5 + if i % 2 == 0 { 0.004 } else { -0.004 }));
            }
            let runs = vec![
                (0, vec![at(-0.2, -0.1), at(1.3, 1.2)]),
                (1, vec![at(0.9, 0.05), at(0.93, 0.97), at(0.2, 0.99)]),
                (2, zigzag),
                (3, vec![at(0.5, -0.5), at(0.52, 0.3)]),
            ];
            let turns = vec![
                // sharp turns: at 30° a miter join (tiny-skia's limit is 4) would reach
                // twice the width out of the vertex, past the spans for wide strokes; at
                // a hairpin the limit falls back to a bevel
                (4, vec![at(0.3, 0.7), at(0.7, 0.71), at(0.3, 0.72)]),
                (
                    5,
                    vec![at(0.3, 0.6), at(0.7, 0.6), at(0.3, 0.6 + 0.4 * 0.5774)],
                ),
                (
                    6,
                    vec![at(0.6, 0.3), at(0.6, 0.1), at(0.6 + 0.2 * 0.5774, 0.3)],
                ),
            ];
            let mut style = Style::default();
            style.drawing.outline_width = width;
            let f = Frame::new(tile, size, Crs::Wgs84);
            // all runs at once, and each run and sharp turn alone (a row's span is the
            // hull of what the row holds, so another run could hide a pixel drawn outside
            // a run's own pieces)
            let alone = runs.iter().chain(&turns).map(|r| vec![r.clone()]);
            for (k, runs) in std::iter::once(runs.clone()).chain(alone).enumerate() {
                let mut pm = Pixmap::new(size, size).unwrap();
                let mut dirty = Dirty::new(size);
                outlines(&mut pm, &f, &runs, &style, Some(&mut dirty));
                let mut drawn = 0;
                for (i, p) in pm.pixels().iter().enumerate() {
                    if p.alpha() == 0 {
                        continue;
                    }
                    drawn += 1;
                    let (x, y) = ((i as u32) % size, (i as u32) / size);
                    let (a, b) = dirty.rows[y as usize];
                    assert!(
                        a <= x && x < b,
                        "z{z} {size}px {width}px, case {k}: ({x}, {y}) drawn outside {a}..{b}"
                    );
                }
                assert!(drawn > 0, "case {k}: nothing drawn");
                if k == 0 {
                    assert!(drawn > 3 * size as usize, "z{z}: {drawn} pixels drawn");
                    let marked: u32 = dirty.rows.iter().map(|&(a, b)| b.saturating_sub(a)).sum();
                    assert!(marked < size * size / 2, "spans stay tight: {marked}");
                }
            }
        }
    }

    /// Sprites keep the level colour exact inside, snap coverage to sixteenths (within
    /// half a step of tiny-skia's own antialiasing) and stay few colours in all.
    #[test]
    fn sprites_are_quantised_but_faithful() {
        let sprites = Sprites::default();
        let fill = Color::from_rgba8(229, 57, 53, 255);
        let outline = Color::from_rgba8(255, 255, 255, 255);
        let mut colours = std::collections::HashSet::new();
        for (fx, fy) in [(0u8, 0u8), (1, 2), (3, 3), (2, 0)] {
            let sp = sprites
                .get(fill, Some((outline, 1.0)), 5.0, fx, fy)
                .unwrap();
            // the same circle, unquantised
            let mut want = Pixmap::new(sp.width(), sp.height()).unwrap();
            let pad = Sprites::pad(5.0, 1.0) as f32;
            let (cx, cy) = (pad + fx as f32 / SUB, pad + fy as f32 / SUB);
            circle(&mut want, cx, cy, 5.0, fill, Some((outline, 1.0))).unwrap();
            for (g, w) in sp.pixels().iter().zip(want.pixels()) {
                assert_eq!(g.alpha() % 17, 0);
                assert!((g.alpha() as i32 - w.alpha() as i32).abs() <= 9);
                colours.insert((g.red(), g.green(), g.blue(), g.alpha()));
            }
            let c = sp.pixel(pad as u32, pad as u32).unwrap().demultiply();
            assert_eq!(
                (c.red(), c.green(), c.blue(), c.alpha()),
                (229, 57, 53, 255)
            );
        }
        assert!(colours.len() <= 40, "{} colours", colours.len());
    }
}
