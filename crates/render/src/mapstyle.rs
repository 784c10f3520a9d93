//! A MapLibre style (style spec v8) for the vector tileset, from a riskmap style
//! (`styles/*.toml`): the level colours, opacities, outlines and point radii of the raster
//! layers, Chinese district labels from the bundled font's glyphs, and for a style with
//! patterns (the colour-blind one) a sprite of pattern images the fills use.

use crate::tile::Tile;
use resvg::tiny_skia;
use riskmap_core::model::Level;
use riskmap_core::style::{Pattern, Style};
use serde_json::{json, Value};

/// The fontstack the style's labels use (the glyph ranges are served under this name).
pub const FONTSTACK: &str = "WenQuanYi Micro Hei Regular";

/// Where the style's resources are.
pub struct StyleUrls<'a> {
    /// TileJSON of the vector tileset.
    pub tilejson: &'a str,
    /// `…/{fontstack}/{range}.pbf`.
    pub glyphs: &'a str,
    /// The sprite's base URL (without `.json` / `.png`).
    pub sprite: &'a str,
}

/// The tileset's zooms: its last one, and the layers that stop before it (TileJSON's
/// per-layer `maxzoom`), which the style draws from a second source on the same tiles
/// whose `maxzoom` makes MapLibre overzoom them.
#[derive(Debug, Clone, Default)]
pub struct Zooms {
    pub maxzoom: u8,
    pub layer_maxzoom: Vec<(String, u8)>,
}

impl Zooms {
    /// From a TileJSON `vector_layers` array and the tileset's last zoom.
    pub fn from_vector_layers(vector_layers: &Value, maxzoom: u8) -> Zooms {
        let layer_maxzoom = vector_layers
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| {
                let z = l["maxzoom"].as_u64()? as u8;
                let id = l["id"].as_str()?.to_string();
                (z < maxzoom).then_some((id, z))
            })
            .collect();
        Zooms {
            maxzoom,
            layer_maxzoom,
        }
    }

    /// The source a layer is drawn from.
    fn source(&self, layer: &str) -> String {
        match self.layer_maxzoom.iter().find(|(l, _)| l == layer) {
            Some((_, z)) => format!("riskmap-z{z}"),
            None => "riskmap".into(),
        }
    }
}

fn by_level(s: &Style, key: &str) -> Value {
    json!([
        "match",
        ["get", key],
        "red",
        s.colors.red,
        "orange",
        s.colors.orange,
        "yellow",
        s.colors.yellow,
        "blue",
        s.colors.blue,
        s.colors.unassessed
    ])
}

fn pattern_name(level: &str) -> String {
    format!("riskmap-{level}")
}

/// The style document.
pub fn style(
    s: &Style,
    title: &str,
    urls: &StyleUrls<'_>,
    bounds: [f64; 4],
    zooms: &Zooms,
) -> Value {
    let d = &s.drawing;
    let has_patterns = Level::ALL.iter().any(|&l| s.pattern(l) != Pattern::None);
    let radius: Vec<Value> = d
        .point_radius
        .iter()
        .flat_map(|[z, r]| [json!(z), json!(r)])
        .collect();
    let zones_fill = json!({
        "id": "zones", "type": "fill", "source": "riskmap", "source-layer": "zones",
        "paint": {"fill-color": by_level(s, "level"), "fill-opacity": d.surface_opacity},
    });
    // levels with a pattern get a second fill, of their pattern image (colour and ink),
    // filtered to those levels (so no feature asks for an image the sprite lacks)
    let patterned: Vec<&str> = Level::ALL
        .iter()
        .filter(|&&l| s.pattern(l) != Pattern::None)
        .map(|l| l.key())
        .collect();
    let zones_pattern = (!patterned.is_empty()).then(|| {
        let mut m = vec![json!("match"), json!(["get", "level"])];
        for k in &patterned {
            m.push(json!(k));
            m.push(json!(pattern_name(k)));
        }
        m.push(json!(pattern_name(patterned[0])));
        json!({
            "id": "zones-pattern", "type": "fill", "source": "riskmap", "source-layer": "zones",
            "filter": ["in", ["get", "level"], ["literal", patterned]],
            "paint": {"fill-pattern": Value::Array(m), "fill-opacity": d.surface_opacity},
        })
    });
    let mut layers = vec![
        json!({"id": "areas", "type": "fill", "source": "riskmap", "source-layer": "areas",
               "layout": {"visibility": "none"},
               "paint": {"fill-color": by_level(s, "level"), "fill-opacity": d.areas_opacity}}),
        json!({"id": "grid", "type": "fill", "source": "riskmap", "source-layer": "grid",
               "layout": {"visibility": "none"},
               "paint": {"fill-color": by_level(s, "level"), "fill-opacity": d.grid_opacity,
                         "fill-outline-color": d.grid_outline_color}}),
        zones_fill,
    ];
    layers.extend(zones_pattern);
    // the emergency layers (#27), off until a user turns them on: the fire stations'
    // reach, the lifelines' protection (solid) and control (lighter) zones, the
    // resources by type
    layers.extend([
        json!({"id": "fire_reach", "type": "fill", "source": "riskmap", "source-layer": "fire_reach",
               "layout": {"visibility": "none"},
               "paint": {"fill-color": "#E53935", "fill-opacity": 0.12, "fill-outline-color": "#B71C1C"}}),
        json!({"id": "lifeline_zones", "type": "fill", "source": "riskmap", "source-layer": "lifeline_zones",
               "layout": {"visibility": "none"},
               "paint": {"fill-color": ["match", ["get", "type"], "gas", "#F9A825", "pipeline", "#6D4C41",
                                        "power", "#7B1FA2", "water", "#1E88E5", "heating", "#E64A19", "#757575"],
                         "fill-opacity": ["match", ["get", "role"], "protection", 0.35, 0.15]}}),
        json!({"id": "resources", "type": "circle", "source": "riskmap", "source-layer": "resources",
               "layout": {"visibility": "none"},
               "paint": {"circle-color": ["match", ["get", "type"], "fire_station", "#D32F2F", "hospital", "#2E7D32",
                                          "shelter", "#0277BD", "depot", "#6D4C41", "expert", "#6A1B9A", "#F57C00"],
                         "circle-radius": 5, "circle-stroke-color": "#FFFFFF", "circle-stroke-width": 1.5}}),
    ]);
    layers.extend([
        json!({"id": "districts", "type": "line", "source": "riskmap", "source-layer": "districts",
               "paint": {"line-color": d.outline_color, "line-width": d.outline_width}}),
        json!({"id": "enterprises", "type": "circle", "source": "riskmap", "source-layer": "enterprises",
               "layout": {"circle-sort-key": ["match", ["get", "level"], "red", 4, "orange", 3, "yellow", 2, "blue", 1, 0]},
               "paint": {"circle-color": by_level(s, "level"),
                         "circle-radius": 3,
                         "circle-stroke-color": d.point_outline_color,
                         "circle-stroke-width": d.point_outline_width}}),
        json!({"id": "district-labels", "type": "symbol", "source": "riskmap", "source-layer": "districts",
               "layout": {"text-field": ["get", "name"], "text-font": [FONTSTACK], "text-size": 14,
                          "symbol-placement": "point", "text-allow-overlap": false},
               "paint": {"text-color": "#222222", "text-halo-color": "#FFFFFF", "text-halo-width": 1.5}}),
    ]);
    // the circle radius above: ["interpolate", ["linear"], ["zoom"], z0, r0, z1, r1, …]
    if let Some(l) = layers.iter_mut().find(|l| l["id"] == "enterprises") {
        let mut e = vec![json!("interpolate"), json!(["linear"]), json!(["zoom"])];
        e.extend(radius.iter().cloned());
        l["paint"]["circle-radius"] = Value::Array(e);
    }
    let c = [(bounds[0] + bounds[2]) / 2.0, (bounds[1] + bounds[3]) / 2.0];
    let mut v = json!({
        "version": 8,
        "name": format!("{title} ({})", s.name),
        "metadata": {"riskmap:style": s.name},
        "center": c,
        "zoom": 9,
        "glyphs": urls.glyphs,
        "sources": {"riskmap": {"type": "vector", "url": urls.tilejson}},
        "layers": layers,
    });
    // layers that stop below the last zoom: from a source on the same tiles with their
    // maxzoom (MapLibre takes a source's own maxzoom over its TileJSON's)
    for l in v["layers"].as_array_mut().into_iter().flatten() {
        if let Some(sl) = l["source-layer"].as_str() {
            let src = zooms.source(sl);
            l["source"] = json!(src);
        }
    }
    for (_, z) in &zooms.layer_maxzoom {
        v["sources"][format!("riskmap-z{z}")] =
            json!({"type": "vector", "url": urls.tilejson, "maxzoom": z});
    }
    if has_patterns {
        v["sprite"] = json!(urls.sprite);
    }
    v
}

fn rgba(hex: &str) -> tiny_skia::Color {
    let h = hex.trim_start_matches('#');
    let p = |i: usize| u8::from_str_radix(h.get(i..i + 2).unwrap_or("00"), 16).unwrap_or(0);
    tiny_skia::Color::from_rgba8(p(0), p(2), p(4), 255)
}

/// The sprite of a style's patterns at `ratio` (1 or 2): (sprite.json, sprite.png). One
/// square image per level with a pattern: the level's colour under the pattern's ink, a
/// whole number of pattern periods so the fill repeats seamlessly. None without patterns.
pub fn sprite(s: &Style, ratio: u32) -> Option<(Value, Vec<u8>)> {
    let levels: Vec<Level> = Level::ALL
        .into_iter()
        .filter(|&l| s.pattern(l) != Pattern::None)
        .collect();
    if levels.is_empty() {
        return None;
    }
    let spacing = s.patterns.spacing.unwrap_or(6).max(2);
    let period = spacing * 2;
    let size = period * ratio;
    let mut pm = tiny_skia::Pixmap::new(size * levels.len() as u32, size)?;
    let ink = rgba(s.patterns.ink.as_deref().unwrap_or("#000000"));
    let mut index = serde_json::Map::new();
    for (i, &l) in levels.iter().enumerate() {
        let x0 = (i as u32 * size) as f32;
        let sz = size as f32;
        let rect = tiny_skia::Rect::from_xywh(x0, 0.0, sz, sz)?;
        let mut paint = tiny_skia::Paint::default();
        paint.set_color(rgba(s.color(Some(l))));
        pm.fill_rect(rect, &paint, tiny_skia::Transform::identity(), None);
        let mut pb = tiny_skia::PathBuilder::new();
        let step = (spacing * ratio) as f32;
        let pat = s.pattern(l);
        // lines at 45° with the period dividing the tile: seamless when repeated
        let mut k = -sz;
        while k <= sz {
            if matches!(pat, Pattern::Diagonal | Pattern::Cross) {
                pb.move_to(x0 + k, sz);
                pb.line_to(x0 + k + sz, 0.0);
            }
            if pat == Pattern::Cross {
                pb.move_to(x0 + k, 0.0);
                pb.line_to(x0 + k + sz, sz);
            }
            k += step;
        }
        if pat == Pattern::Dots {
            let mut y = step / 2.0;
            while y < sz {
                let mut x = step / 2.0;
                while x < sz {
                    pb.push_circle(x0 + x, y, ratio as f32);
                    x += step;
                }
                y += step;
            }
        }
        if let Some(path) = pb.finish() {
            let mut paint = tiny_skia::Paint::default();
            paint.set_color(ink);
            paint.anti_alias = true;
            let clip = tiny_skia::Mask::from_pixmap(
                {
                    let mut m = tiny_skia::Pixmap::new(pm.width(), pm.height())?;
                    m.fill_rect(rect, &paint, tiny_skia::Transform::identity(), None);
                    m
                }
                .as_ref(),
                tiny_skia::MaskType::Alpha,
            );
            if pat == Pattern::Dots {
                pm.fill_path(
                    &path,
                    &paint,
                    tiny_skia::FillRule::Winding,
                    tiny_skia::Transform::identity(),
                    Some(&clip),
                );
            } else {
                let stroke = tiny_skia::Stroke {
                    width: ratio as f32,
                    ..Default::default()
                };
                pm.stroke_path(
                    &path,
                    &paint,
                    &stroke,
                    tiny_skia::Transform::identity(),
                    Some(&clip),
                );
            }
        }
        index.insert(
            pattern_name(l.key()),
            json!({"x": i as u32 * size, "y": 0, "width": size, "height": size, "pixelRatio": ratio}),
        );
    }
    let png = pm.encode_png().ok()?;
    Some((Value::Object(index), png))
}

/// The zoom-9 tile at the centre of `bounds` (for tests and previews).
pub fn centre_tile(bounds: [f64; 4]) -> Tile {
    crate::tile::tile(
        (bounds[0] + bounds[2]) / 2.0,
        (bounds[1] + bounds[3]) / 2.0,
        9,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(name: &str) -> Style {
        Style::load(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(format!("../../styles/{name}.toml")),
        )
        .unwrap()
    }

    #[test]
    fn default_and_colourblind_styles() {
        let urls = StyleUrls {
            tilejson: "/tiles/vector.json",
            glyphs: "/fonts/{fontstack}/{range}.pbf",
            sprite: "/sprites/colorblind",
        };
        let d = load("default");
        let zooms = Zooms::from_vector_layers(
            &serde_json::json!([{"id": "areas", "maxzoom": 12}, {"id": "zones", "maxzoom": 16}]),
            16,
        );
        let v = style(&d, "济南", &urls, [116.2, 36.0, 117.9, 37.6], &zooms);
        assert_eq!(v["version"], 8);
        // areas from the overview source (overzoomed past 12), zones from the full one
        let src = |id: &str| {
            v["layers"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["id"] == id)
                .unwrap()["source"]
                .clone()
        };
        assert_eq!(src("areas"), "riskmap-z12");
        assert_eq!(src("zones"), "riskmap");
        assert_eq!(v["sources"]["riskmap-z12"]["maxzoom"], 12);
        assert_eq!(v["sources"]["riskmap-z12"]["url"], "/tiles/vector.json");
        assert!(v.get("sprite").is_none());
        let z = v["layers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["id"] == "zones")
            .unwrap();
        assert_eq!(z["paint"]["fill-color"][3], "#FF0000");
        let r = v["layers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["id"] == "enterprises")
            .unwrap();
        assert_eq!(r["paint"]["circle-radius"][0], "interpolate");
        assert!(sprite(&d, 1).is_none());
        let cb = load("colorblind");
        let v = style(&cb, "济南", &urls, [116.2, 36.0, 117.9, 37.6], &zooms);
        assert_eq!(v["sprite"], "/sprites/colorblind");
        let z = v["layers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["id"] == "zones-pattern")
            .unwrap();
        assert_eq!(z["paint"]["fill-pattern"][2], "red");
        assert_eq!(z["paint"]["fill-pattern"][3], "riskmap-red");
        assert_eq!(z["filter"][2][1], serde_json::json!(["red", "orange"]));
        let (idx, png) = sprite(&cb, 2).unwrap();
        assert_eq!(idx["riskmap-red"]["pixelRatio"], 2);
        assert_eq!(idx["riskmap-orange"]["x"], 24);
        assert!(png.starts_with(b"\x89PNG"));
    }
}
