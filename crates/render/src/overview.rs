//! The overview map for documents: the whole region with district outlines and Chinese
//! names, the zones and the enterprises, a legend with counts, a scale bar in km, a north
//! arrow, the title and the data date — written as SVG and rendered to PNG with resvg.
//!
//! Chinese text needs a CJK font: a system one is preferred when present (Noto/Source Han
//! Sans CJK, WenQuanYi, SimHei, Microsoft YaHei …); otherwise the bundled WenQuanYi Micro
//! Hei (Apache-2.0, from Debian's fonts-wqy-microhei, fonts/ of this crate) is used, so a fresh
//! machine renders the names; `--font FILE` overrides both.

use super::tile::pixel;
use resvg::tiny_skia::{Pixmap, Transform};
use resvg::usvg::fontdb;
use riskmap_analyze::Analysis;
use riskmap_core::dataset::Dataset;
use riskmap_core::model::{level_slot, Level};
use riskmap_core::style::Style;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

/// The bundled CJK font.
pub const BUNDLED_FONT: &[u8] = include_bytes!("../fonts/wqy-microhei.ttc");
/// Its family name.
pub const BUNDLED_FAMILY: &str = "WenQuanYi Micro Hei";

const SYSTEM_CJK: [&str; 8] = [
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "SimHei",
];

/// A font database with a CJK family: `font` if given, else a system CJK font, else the
/// bundled one. Returns the database and the family to use.
pub fn fonts(font: Option<&Path>) -> Result<(fontdb::Database, String), String> {
    let mut db = fontdb::Database::new();
    if let Some(p) = font {
        let data =
            std::fs::read(p).map_err(|e| format!("cannot read font {}: {e}", p.display()))?;
        db.load_font_data(data);
        let family = db
            .faces()
            .next()
            .and_then(|f| f.families.first().map(|x| x.0.clone()))
            .ok_or_else(|| format!("{} holds no usable font", p.display()))?;
        return Ok((db, family));
    }
    db.load_system_fonts();
    for fam in SYSTEM_CJK {
        let faces: Vec<(fontdb::ID, Option<std::path::PathBuf>)> = db
            .faces()
            .filter(|f| f.families.iter().any(|x| x.0 == fam))
            .map(|f| match &f.source {
                fontdb::Source::File(p) => (f.id, Some(p.clone())),
                _ => (f.id, None),
            })
            .collect();
        if faces.is_empty() {
            continue;
        }
        // fontdb (without memory maps) reads a system font's whole file each time a glyph
        // is wanted: 1.2 s of text on the overview with a 20 MB Noto Sans CJK collection.
        // The family's files are read once into memory instead.
        let files: std::collections::BTreeSet<std::path::PathBuf> =
            faces.iter().filter_map(|f| f.1.clone()).collect();
        let data: Vec<Vec<u8>> = files.iter().filter_map(|p| std::fs::read(p).ok()).collect();
        if data.len() == files.len() {
            for (id, path) in &faces {
                if path.is_some() {
                    db.remove_face(*id);
                }
            }
            for d in data {
                db.load_font_data(d);
            }
        }
        return Ok((db, fam.to_string()));
    }
    db.load_font_data(BUNDLED_FONT.to_vec());
    Ok((db, BUNDLED_FAMILY.to_string()))
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Draw the dots, in order, each an antialiased disc at its centre and radius to 0.1 px
/// (as the SVG has them). A dot is stamped from a coverage mask that tiny-skia draws once
/// per radius and position within a pixel, and blended as tiny-skia blends an opaque
/// colour over a partly covered pixel (dst · (255 − c) + colour · c, over 255, rounded
/// up). Filling a path per dot cost 2.7 µs each: 2.7 s of a 1M-enterprise build. (The
/// tiles' point sprites, `draw::blit`, blend premultiplied colour with their own
/// rounding and quantise coverage for the palette; here the overview keeps tiny-skia's
/// own result, as resvg would draw it.)
fn stamp_dots(pm: &mut Pixmap, dots: &[Dot], colors: &[[u8; 3]]) {
    use resvg::tiny_skia::{FillRule, Mask, PathBuilder};
    let (w, h) = (pm.width() as i64, pm.height() as i64);
    let data = pm.data_mut();
    // (radius, centre within the mask, in tenths of a pixel) → (side, coverage)
    let mut masks: std::collections::HashMap<(i64, i64, i64), (i64, Vec<u8>)> =
        std::collections::HashMap::new();
    for d in dots {
        let tenths = |v: f64| (v * 10.0).round() as i64;
        let (cx, cy, r) = (tenths(d.x), tenths(d.y), tenths(d.r));
        if r <= 0 {
            continue;
        }
        // the mask's top-left pixel, one clear of the disc, and the centre within it
        let (ox, oy) = ((cx - r).div_euclid(10) - 1, (cy - r).div_euclid(10) - 1);
        let (sx, sy) = (cx - 10 * ox, cy - 10 * oy);
        let (side, cover) = masks.entry((r, sx, sy)).or_insert_with(|| {
            let side = (2 * r + 9) / 10 + 3;
            let mut m = Mask::new(side as u32, side as u32).expect("a small mask");
            if let Some(path) =
                PathBuilder::from_circle(sx as f32 / 10.0, sy as f32 / 10.0, r as f32 / 10.0)
            {
                m.fill_path(&path, FillRule::Winding, true, Transform::identity());
            }
            (side, m.data().to_vec())
        });
        let [cr, cg, cb] = colors[d.fill];
        let src = [cr as u16, cg as u16, cb as u16, 255];
        for my in 0..*side {
            let y = oy + my;
            if y < 0 || y >= h {
                continue;
            }
            for mx in 0..*side {
                let x = ox + mx;
                let c = cover[(my * *side + mx) as usize] as u16;
                if c == 0 || x < 0 || x >= w {
                    continue;
                }
                let px = &mut data[((y * w + x) * 4) as usize..][..4];
                for (p, s) in px.iter_mut().zip(src) {
                    *p = ((*p as u16 * (255 - c) + s * c + 255) >> 8) as u8;
                }
            }
        }
    }
}

/// An enterprise on the overview: a filled circle (centre, radius in pixels) in one of
/// `Overview::fills`.
struct Dot {
    x: f64,
    y: f64,
    r: f64,
    fill: usize,
}

/// The overview in three layers, in drawing order: the SVG below the enterprises
/// (background, zones, district outlines), the enterprises, and the SVG above them
/// (district names, title, legend, scale bar, north arrow).
pub struct Overview {
    pub width: u32,
    pub height: u32,
    /// The `<svg>` opening tag.
    open: String,
    below: String,
    dots: Vec<Dot>,
    fills: Vec<String>,
    above: String,
}

impl Overview {
    /// The whole SVG document.
    pub fn svg(&self) -> String {
        let mut s = String::with_capacity(
            self.open.len() + self.below.len() + self.above.len() + 64 * self.dots.len() + 16,
        );
        s.push_str(&self.open);
        s.push_str(&self.below);
        s.push_str("<g>");
        for d in &self.dots {
            let (x, y, r) = (d.x, d.y, d.r);
            let _ = write!(
                s,
                r##"<circle cx="{x:.1}" cy="{y:.1}" r="{r:.1}" fill="{}"/>"##,
                self.fills[d.fill]
            );
        }
        s.push_str("</g>");
        s.push_str(&self.above);
        s.push_str("</svg>");
        s
    }

    /// Render to straight-alpha RGBA: the layers below and above the enterprises with
    /// resvg, the enterprises in between stamped (`stamp_dots`: the discs resvg would
    /// draw, at the SVG's rounded centres and radii). Parsing a million `<circle>`
    /// elements into resvg's tree was most of a 1M-enterprise build.
    pub fn rasterize(
        &self,
        db: fontdb::Database,
        family: &str,
    ) -> Result<(u32, u32, Vec<u8>), String> {
        let opt = options(db, family);
        let layer = |body: &str, pm| draw_svg(&format!("{}{body}</svg>", self.open), &opt, pm);
        let mut pm = layer(&self.below, None)?;
        let colors: Vec<[u8; 3]> = self
            .fills
            .iter()
            .map(|f| riskmap_core::style::parse_hex(f).unwrap_or([128, 128, 128]))
            .collect();
        stamp_dots(&mut pm, &self.dots, &colors);
        let pm = layer(&self.above, Some(pm))?;
        Ok((self.width, self.height, super::png::demultiply(pm.data())))
    }

    /// Lay the overview out, `width` pixels wide, with the zones.
    pub fn new(ds: &Dataset, an: &Analysis, style: &Style, width: u32, family: &str) -> Overview {
        Overview::with(
            ds,
            an,
            style,
            &OverviewParams {
                width,
                fill_districts: false,
            },
            family,
        )
    }

    /// Lay the overview out as `params` say: the zones over the district outlines, or
    /// (`fill_districts`) the districts filled by their level, the usual district 四色图.
    pub fn with(
        ds: &Dataset,
        an: &Analysis,
        style: &Style,
        params: &OverviewParams,
        family: &str,
    ) -> Overview {
        let width = params.width;
        let b = ds.region_bbox;
        // Web Mercator at a zoom whose pixels we scale to fit
        let z = 12u8;
        let (x0, y0) = pixel(b[0], b[3], z, 256);
        let (x1, y1) = pixel(b[2], b[1], z, 256);
        let margin = width as f64 * 0.04;
        let top = width as f64 * 0.09;
        let scale = (width as f64 - 2.0 * margin) / (x1 - x0);
        let map_h = (y1 - y0) * scale;
        // below the map: the legend in one row, then the scale bar
        let footer = width as f64 * 0.09;
        let height = (top + map_h + footer + margin * 0.5).ceil() as u32;
        let p = |lon: f64, lat: f64| -> (f64, f64) {
            let (x, y) = pixel(lon, lat, z, 256);
            (margin + (x - x0) * scale, top + (y - y0) * scale)
        };
        let fs = width as f64 / 2400.0;
        let open = format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="{family}">"##
        );
        let mut s = String::from(r##"<rect width="100%" height="100%" fill="white"/>"##);
        let path_of = |poly: &geo::Polygon<f64>| -> String {
            let mut d = String::new();
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                for (i, c) in ring.0.iter().enumerate() {
                    let (x, y) = p(c.x, c.y);
                    let _ = write!(d, "{}{:.1},{:.1}", if i == 0 { "M" } else { "L" }, x, y);
                }
                d.push('Z');
            }
            d
        };
        // the districts filled by their level (instead of the zones)
        let fill_districts = params.fill_districts && an.areas.is_some();
        if fill_districts {
            let areas = an.areas.as_deref().unwrap_or_default();
            for d in &ds.districts.districts {
                let level = areas
                    .iter()
                    .find(|a| a.adcode == d.adcode && a.name == d.name)
                    .and_then(|a| a.level.level);
                let _ = write!(
                    s,
                    r##"<g fill="{}" fill-opacity="{}" fill-rule="evenodd">"##,
                    style.color(level),
                    style.drawing.areas_opacity
                );
                for poly in &d.shape.0 {
                    let _ = write!(s, r##"<path d="{}"/>"##, path_of(poly));
                }
                s.push_str("</g>");
            }
        }
        // zones, low levels first
        if let (false, Some(zones)) = (fill_districts, &an.zones) {
            for l in [Level::Blue, Level::Yellow, Level::Orange, Level::Red] {
                let _ = write!(
                    s,
                    r##"<g fill="{}" fill-opacity="{}" fill-rule="evenodd">"##,
                    style.color(Some(l)),
                    style.drawing.surface_opacity
                );
                for zn in zones.iter().filter(|zn| zn.level == l) {
                    let _ = write!(s, r##"<path d="{}"/>"##, path_of(&zn.shape));
                }
                s.push_str("</g>");
            }
        }
        // district outlines
        let _ = write!(
            s,
            r##"<g fill="none" stroke="{}" stroke-width="{:.1}">"##,
            style.drawing.outline_color,
            2.0 * fs
        );
        for d in &ds.districts.districts {
            for poly in &d.shape.0 {
                let _ = write!(s, r##"<path d="{}"/>"##, path_of(poly));
            }
        }
        s.push_str("</g>");
        // enterprises, red last
        let mut order: Vec<usize> = (0..ds.enterprises.len()).collect();
        order.sort_by_key(|&i| (std::cmp::Reverse(level_slot(ds.grades[i].level)), i));
        let below = std::mem::take(&mut s);
        let mut fills: Vec<String> = Vec::new();
        let mut fill_of = |c: &str| {
            fills.iter().position(|f| f == c).unwrap_or_else(|| {
                fills.push(c.to_string());
                fills.len() - 1
            })
        };
        // the edge of light dots on the white page (the tiles' white point outline is
        // for a dark basemap)
        let ink = fill_of(DOT_EDGE);
        let mut dots: Vec<Dot> = Vec::with_capacity(ds.enterprises.len());
        for i in order {
            let e = &ds.enterprises[i];
            let (x, y) = p(e.lon, e.lat);
            let level = ds.grades[i].level;
            let r: f64 = if level == Some(Level::Red) { 3.0 } else { 2.0 } * fs;
            // yellow on white (and on a yellow zone) needs an edge to be seen
            if level == Some(Level::Yellow) {
                dots.push(Dot {
                    x,
                    y,
                    r: r + 0.8 * f64::max(fs, 0.5),
                    fill: ink,
                });
            }
            let fill = fill_of(style.color(level));
            dots.push(Dot { x, y, r, fill });
        }
        // district names at an interior point of their largest part
        for d in &ds.districts.districts {
            use geo::{Area, InteriorPoint};
            let Some(big) = d
                .shape
                .0
                .iter()
                .max_by(|a, b| a.unsigned_area().total_cmp(&b.unsigned_area()))
            else {
                continue;
            };
            let Some(ip) = big.interior_point() else {
                continue;
            };
            let (x, y) = p(ip.x(), ip.y());
            let _ = write!(
                s,
                r##"<text x="{x:.1}" y="{y:.1}" font-size="{:.0}" text-anchor="middle" fill="#222" stroke="white" stroke-width="{:.1}" paint-order="stroke">{}</text>"##,
                34.0 * fs,
                6.0 * fs,
                esc(&d.name)
            );
        }
        // title and date
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" font-size="{:.0}" text-anchor="middle" font-weight="bold" fill="#111">{}</text>"##,
            width as f64 / 2.0,
            top * 0.55,
            64.0 * fs,
            esc(&ds.title)
        );
        if let Some(date) = &ds.data_date {
            let _ = write!(
                s,
                r##"<text x="{:.1}" y="{:.1}" font-size="{:.0}" text-anchor="middle" fill="#444">数据日期：{}</text>"##,
                width as f64 / 2.0,
                top * 0.85,
                30.0 * fs,
                esc(date)
            );
        }
        // legend with counts
        let mut counts = [0usize; 5];
        for g in &ds.grades {
            counts[level_slot(g.level)] += 1;
        }
        let rows: [(Option<Level>, &str); 5] = [
            (Some(Level::Red), "重大风险"),
            (Some(Level::Orange), "较大风险"),
            (Some(Level::Yellow), "一般风险"),
            (Some(Level::Blue), "低风险"),
            (None, "未评估"),
        ];
        let (lx, ly, lw) = (
            margin,
            top + map_h + 40.0 * fs,
            (width as f64 - 2.0 * margin) / 5.0,
        );
        let _ = write!(
            s,
            r##"<text x="{lx:.1}" y="{:.1}" font-size="{:.0}" font-weight="bold">图例（企业数）</text>"##,
            ly - 8.0 * fs,
            28.0 * fs
        );
        for (k, (l, label)) in rows.iter().enumerate() {
            let x = lx + k as f64 * lw;
            // the enterprises' dot, as drawn
            let (r, edge) = if *l == Some(Level::Red) {
                (3.0, false)
            } else {
                (2.0, *l == Some(Level::Yellow))
            };
            let r = f64::max(r * 4.0, 6.0) * fs;
            let _ = write!(
                s,
                r##"<circle cx="{:.1}" cy="{:.1}" r="{r:.1}" fill="{}"{}/>"##,
                x + 25.0 * fs,
                ly + 27.0 * fs,
                style.color(*l),
                if edge || l.is_none() {
                    format!(r##" stroke="{DOT_EDGE}" stroke-width="{:.1}""##, 2.0 * fs)
                } else {
                    String::new()
                }
            );
            let _ = write!(
                s,
                r##"<text x="{:.1}" y="{:.1}" font-size="{:.0}">{label} {}</text>"##,
                x + 64.0 * fs,
                ly + 38.0 * fs,
                30.0 * fs,
                counts[level_slot(*l)]
            );
        }
        // the areas as drawn: the zones (or the districts' fills) at their opacity
        let (what, opacity, drawn) = if fill_districts {
            ("区县等级", style.drawing.areas_opacity, true)
        } else {
            (
                "风险区",
                style.drawing.surface_opacity,
                an.zones.as_ref().is_some_and(|z| !z.is_empty()),
            )
        };
        if drawn {
            let zy = ly + 62.0 * fs;
            let _ = write!(
                s,
                r##"<text x="{lx:.1}" y="{:.1}" font-size="{:.0}">{what}</text>"##,
                zy + 28.0 * fs,
                28.0 * fs
            );
            for (k, (l, label)) in rows.iter().take(4).enumerate() {
                let x = lx + 150.0 * fs + k as f64 * (lw - 30.0 * fs);
                let _ = write!(
                    s,
                    r##"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{}" fill-opacity="{opacity}" stroke="#999"/><text x="{:.1}" y="{:.1}" font-size="{:.0}">{label}</text>"##,
                    zy + 6.0 * fs,
                    50.0 * fs,
                    30.0 * fs,
                    style.color(*l),
                    x + 64.0 * fs,
                    zy + 30.0 * fs,
                    28.0 * fs
                );
            }
        }
        // scale bar: a round number of km near a fifth of the map width
        let lat_c = (b[1] + b[3]) / 2.0;
        let metres_per_px =
            40_075_016.7 * lat_c.to_radians().cos() / (256.0 * 2f64.powi(z as i32)) / scale;
        let target_km = (width as f64 - 2.0 * margin) * 0.2 * metres_per_px / 1000.0;
        let km = [1.0, 2.0, 5.0, 10.0, 20.0, 25.0, 50.0, 100.0]
            .iter()
            .copied()
            .rev()
            .find(|k| *k <= target_km)
            .unwrap_or(1.0);
        let bar = km * 1000.0 / metres_per_px;
        let (sx, sy) = (width as f64 - margin - bar, ly + 130.0 * fs);
        let _ = write!(
            s,
            r##"<g stroke="#111" stroke-width="{:.1}"><line x1="{sx:.1}" y1="{sy:.1}" x2="{:.1}" y2="{sy:.1}"/><line x1="{sx:.1}" y1="{:.1}" x2="{sx:.1}" y2="{sy:.1}"/><line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{sy:.1}"/></g><text x="{:.1}" y="{:.1}" font-size="{:.0}" text-anchor="middle">{} km</text>"##,
            4.0 * fs,
            sx + bar,
            sy - 14.0 * fs,
            sx + bar,
            sy - 14.0 * fs,
            sx + bar,
            sx + bar / 2.0,
            sy - 22.0 * fs,
            30.0 * fs,
            km
        );
        // north arrow
        let (nx, ny) = (width as f64 - margin - 40.0 * fs, top + 20.0 * fs);
        let _ = write!(
            s,
            r##"<path d="M{nx:.1},{ny:.1} L{:.1},{:.1} L{nx:.1},{:.1} L{:.1},{:.1} Z" fill="#111"/><text x="{nx:.1}" y="{:.1}" font-size="{:.0}" text-anchor="middle">北 N</text>"##,
            nx + 22.0 * fs,
            ny + 80.0 * fs,
            ny + 60.0 * fs,
            nx - 22.0 * fs,
            ny + 80.0 * fs,
            ny + 120.0 * fs,
            30.0 * fs
        );
        Overview {
            width,
            height,
            open,
            below,
            dots,
            fills,
            above: s,
        }
    }
}

/// The edge drawn around yellow dots (and the unassessed legend dot).
const DOT_EDGE: &str = "#555555";

/// How the overview is drawn (`[overview]`).
#[derive(Debug, Clone)]
pub struct OverviewParams {
    /// PNG width in pixels.
    pub width: u32,
    /// Fill the districts by their level instead of drawing the zones.
    pub fill_districts: bool,
}

/// resvg's options with the given fonts, `family` the default.
fn options(db: fontdb::Database, family: &str) -> resvg::usvg::Options<'static> {
    resvg::usvg::Options {
        fontdb: Arc::new(db),
        font_family: family.to_string(),
        ..Default::default()
    }
}

/// Parse SVG text and draw it onto `pm`, or onto a new pixmap of the SVG's size.
fn draw_svg(svg: &str, opt: &resvg::usvg::Options, pm: Option<Pixmap>) -> Result<Pixmap, String> {
    let tree = resvg::usvg::Tree::from_str(svg, opt).map_err(|e| format!("overview SVG: {e}"))?;
    let mut pm = match pm {
        Some(pm) => pm,
        None => {
            let size = tree.size().to_int_size();
            Pixmap::new(size.width(), size.height()).ok_or("overview too large")?
        }
    };
    resvg::render(&tree, Transform::default(), &mut pm.as_mut());
    Ok(pm)
}

/// Render SVG text to straight-alpha RGBA with the given fonts.
pub fn rasterize(
    svg: &str,
    db: fontdb::Database,
    family: &str,
) -> Result<(u32, u32, Vec<u8>), String> {
    let pm = draw_svg(svg, &options(db, family), None)?;
    Ok((pm.width(), pm.height(), super::png::demultiply(pm.data())))
}
