//! The report's vector maps, as inline SVG (sharp in print, no image files): the districts
//! filled by their level (the usual district 四色图) and one map per district with its
//! enterprises. Drawn here rather than by the raster renderer because a page of a report
//! wants a few hundred shapes in a fixed frame, with text that stays text.

use super::html::esc;
use crate::analyze::Analysis;
use crate::model::level_slot;
use crate::pipeline::Dataset;
use geo::{BoundingRect, InteriorPoint, MultiPolygon, Simplify};
use std::fmt::Write;

/// A map frame: lon/lat to SVG pixels, equirectangular with the centre latitude's
/// cos (at a city's size the difference from Web Mercator is below a pixel).
struct Frame {
    w0: f64,
    n0: f64,
    k: f64,
    kx: f64,
    width: f64,
    height: f64,
}

impl Frame {
    fn new(b: [f64; 4], width: f64) -> Frame {
        let [w, s, e, n] = b;
        let kx = ((s + n) / 2.0).to_radians().cos().max(0.2);
        let dx = ((e - w) * kx).max(1e-9);
        let dy = (n - s).max(1e-9);
        let k = width / dx;
        Frame {
            w0: w,
            n0: n,
            k,
            kx,
            width,
            height: (dy * k).clamp(width * 0.3, width * 1.6),
        }
    }
    fn xy(&self, lon: f64, lat: f64) -> (f64, f64) {
        ((lon - self.w0) * self.kx * self.k, (self.n0 - lat) * self.k)
    }
    fn path(&self, mp: &MultiPolygon<f64>) -> String {
        let mut d = String::new();
        for p in mp {
            for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
                for (i, c) in ring.0.iter().enumerate() {
                    let (x, y) = self.xy(c.x, c.y);
                    let _ = write!(d, "{}{x:.1},{y:.1}", if i == 0 { "M" } else { "L" });
                }
                d.push('Z');
            }
        }
        d
    }
}

fn padded(b: [f64; 4], f: f64) -> [f64; 4] {
    let (dx, dy) = ((b[2] - b[0]) * f, (b[3] - b[1]) * f);
    [b[0] - dx, b[1] - dy, b[2] + dx, b[3] + dy]
}

/// Districts simplified to the map's scale (a DataV boundary has thousands of vertices a
/// page cannot show).
fn simplified(ds: &Dataset, eps: f64) -> Vec<MultiPolygon<f64>> {
    ds.districts
        .districts
        .iter()
        .map(|d| d.shape.simplify(eps))
        .collect()
}

fn label(s: &mut String, x: f64, y: f64, text: &str, size: f64) {
    let _ = write!(
        s,
        r##"<text x="{x:.1}" y="{y:.1}" font-size="{size}" text-anchor="middle" dominant-baseline="middle" stroke="#fff" stroke-width="3" paint-order="stroke" fill="#111">{}</text>"##,
        esc(text)
    );
}

/// The districts filled by their level (`areas`), names over them, a legend; `None`
/// without boundaries or district statistics.
pub fn districts_by_level(ds: &Dataset, an: &Analysis, colors: &[String; 5]) -> Option<String> {
    let areas = an.areas.as_ref()?;
    let b = ds.districts.bbox()?;
    let f = Frame::new(padded(b, 0.03), 760.0);
    let shapes = simplified(ds, (b[2] - b[0]) / 1500.0);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="map" data-map="districts" viewBox="0 0 {:.0} {:.0}" width="100%">"#,
        f.width,
        f.height + 34.0
    );
    for (k, d) in ds.districts.districts.iter().enumerate() {
        let level = areas
            .iter()
            .find(|a| a.adcode == d.adcode && a.name == d.name)
            .and_then(|a| a.level.level);
        let _ = write!(
            s,
            r##"<path d="{}" fill="{}" fill-opacity="0.8" stroke="#fff" stroke-width="1.5" data-district="{}" data-level="{}"/>"##,
            f.path(&shapes[k]),
            colors[level_slot(level)],
            esc(&d.name),
            crate::model::level_key(level)
        );
    }
    for (k, d) in ds.districts.districts.iter().enumerate() {
        if let Some(p) = shapes[k].interior_point() {
            let (x, y) = f.xy(p.x(), p.y());
            label(&mut s, x, y, &d.name, 13.0);
        }
    }
    legend(&mut s, colors, f.height + 8.0);
    s.push_str("</svg>");
    Some(s)
}

fn legend(s: &mut String, colors: &[String; 5], y: f64) {
    let names = ["重大风险", "较大风险", "一般风险", "低风险", "未评估"];
    for (i, n) in names.iter().enumerate() {
        let x = 10.0 + i as f64 * 110.0;
        let _ = write!(
            s,
            r#"<rect x="{x}" y="{y}" width="18" height="14" fill="{}" fill-opacity="0.8"/><text x="{}" y="{}" font-size="12" dominant-baseline="middle">{n}</text>"#,
            colors[i],
            x + 24.0,
            y + 7.0
        );
    }
}

/// Most enterprise dots a district page draws: red and orange first, then yellow and
/// blue while they fit (a province-sized register would make a page unreadable and the
/// file huge).
pub const MAX_DOTS: usize = 3000;

/// One district's map: its neighbours in grey, itself outlined, its enterprises as dots
/// by level (highest drawn last, on top). Returns the SVG and how many were left out.
pub fn district_map(ds: &Dataset, k: usize, colors: &[String; 5]) -> Option<(String, usize)> {
    let d = ds.districts.districts.get(k)?;
    let r = d.shape.bounding_rect()?;
    let b = [r.min().x, r.min().y, r.max().x, r.max().y];
    let f = Frame::new(padded(b, 0.06), 640.0);
    let shapes = simplified(ds, (b[2] - b[0]) / 1200.0);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="map" data-map="district" viewBox="0 0 {:.0} {:.0}" width="100%" style="max-height:150mm">"#,
        f.width,
        f.height + 34.0
    );
    let _ = write!(
        s,
        r##"<defs><clipPath id="clip{k}"><rect width="{:.0}" height="{:.0}"/></clipPath></defs><g clip-path="url(#clip{k})">"##,
        f.width, f.height
    );
    for (j, shape) in shapes.iter().enumerate() {
        if j == k {
            continue;
        }
        let _ = write!(
            s,
            r##"<path d="{}" fill="#f3f4f6" stroke="#9ca3af" stroke-width="1"/>"##,
            f.path(shape)
        );
    }
    let _ = write!(
        s,
        r##"<path d="{}" fill="#ffffff" stroke="#374151" stroke-width="2.2"/>"##,
        f.path(&shapes[k])
    );
    // the district's enterprises by level, highest last so they lie on top
    let mut by_level: [Vec<usize>; 5] = Default::default();
    for (i, e) in ds.enterprises.iter().enumerate() {
        if e.district == Some(k) {
            by_level[level_slot(ds.grades[i].level)].push(i);
        }
    }
    let mut budget = MAX_DOTS;
    let mut drawn: [Vec<usize>; 5] = Default::default();
    for slot in 0..5 {
        let take = by_level[slot].len().min(budget);
        drawn[slot] = by_level[slot][..take].to_vec();
        budget -= take;
    }
    let left_out: usize = (0..5).map(|i| by_level[i].len() - drawn[i].len()).sum();
    for slot in (0..5).rev() {
        let rad = if slot <= 1 { 3.6 } else { 2.2 };
        for &i in &drawn[slot] {
            let e = &ds.enterprises[i];
            let (x, y) = f.xy(e.lon, e.lat);
            let _ = write!(
                s,
                r##"<circle cx="{x:.1}" cy="{y:.1}" r="{rad}" fill="{}" stroke="#333" stroke-width="0.5"/>"##,
                colors[slot]
            );
        }
    }
    // neighbours' names where they show
    for (j, shape) in shapes.iter().enumerate() {
        if let Some(p) = shape.interior_point() {
            let (x, y) = f.xy(p.x(), p.y());
            if j != k && (0.0..f.width).contains(&x) && (0.0..f.height).contains(&y) {
                let _ = write!(
                    s,
                    r##"<text x="{x:.1}" y="{y:.1}" font-size="11" text-anchor="middle" fill="#6b7280">{}</text>"##,
                    esc(&ds.districts.districts[j].name)
                );
            }
        }
    }
    s.push_str("</g>");
    legend(&mut s, colors, f.height + 8.0);
    s.push_str("</svg>");
    Some((s, left_out))
}
