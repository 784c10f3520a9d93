//! Map styles (`styles/*.toml`): colours per level and labels. Later stages read their
//! drawing settings from the same file.

use crate::model::Level;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Colours per level as `#RRGGBB`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Colors {
    pub red: String,
    pub orange: String,
    pub yellow: String,
    pub blue: String,
    pub unassessed: String,
}

impl Default for Colors {
    fn default() -> Self {
        Colors {
            red: "#FF0000".into(),
            orange: "#FF8000".into(),
            yellow: "#FFFF00".into(),
            blue: "#0000FF".into(),
            unassessed: "#9E9E9E".into(),
        }
    }
}

/// A fill pattern drawn over a level's colour, for readers who cannot tell red from
/// orange: the patterns are continuous across tiles (drawn in global pixel coordinates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Pattern {
    #[default]
    None,
    /// Lines from lower left to upper right.
    Diagonal,
    /// Two sets of diagonal lines.
    Cross,
    /// A dot grid.
    Dots,
}

/// Patterns per level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Patterns {
    pub red: Pattern,
    pub orange: Pattern,
    pub yellow: Pattern,
    pub blue: Pattern,
    /// Ink of the patterns, `#RRGGBB`. Default black.
    pub ink: Option<String>,
    /// Line spacing in pixels. Default 6.
    pub spacing: Option<u32>,
}

/// How tiles and the overview are drawn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Drawing {
    /// Opacity of the surface (zones) fill, 0–1. Default 0.6.
    pub surface_opacity: f32,
    /// Opacity of district (area) fills, 0–1. Default 0.35.
    pub areas_opacity: f32,
    /// Opacity of grid cell fills, 0–1. Default 0.55.
    pub grid_opacity: f32,
    /// Outline colour and width (px) of districts.
    pub outline_color: String,
    pub outline_width: f32,
    /// Outline colour and width (px) of grid cells.
    pub grid_outline_color: String,
    pub grid_outline_width: f32,
    /// Point radius in pixels per zoom, `[[zoom, px], …]`, linear in between.
    pub point_radius: Vec<[f32; 2]>,
    /// Outline of points.
    pub point_outline_color: String,
    pub point_outline_width: f32,
    /// Order points are drawn in, first at the bottom; red last so it is never hidden.
    pub point_order: Vec<String>,
}

impl Default for Drawing {
    fn default() -> Self {
        Drawing {
            surface_opacity: 0.6,
            areas_opacity: 0.35,
            grid_opacity: 0.55,
            outline_color: "#333333".into(),
            outline_width: 1.2,
            grid_outline_color: "#FFFFFF".into(),
            grid_outline_width: 0.5,
            point_radius: vec![[8.0, 1.5], [12.0, 3.0], [16.0, 6.0]],
            point_outline_color: "#FFFFFF".into(),
            point_outline_width: 0.8,
            point_order: ["unassessed", "blue", "yellow", "orange", "red"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }
}

/// A style file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Style {
    /// Name shown in legends and TileJSON.
    pub name: String,
    pub colors: Colors,
    pub patterns: Patterns,
    pub drawing: Drawing,
}

impl Default for Style {
    fn default() -> Self {
        Style {
            name: "default".into(),
            colors: Colors::default(),
            patterns: Patterns::default(),
            drawing: Drawing::default(),
        }
    }
}

/// Parse `#RRGGBB` (or `RRGGBB`) into RGB.
pub fn parse_hex(s: &str) -> Option<[u8; 3]> {
    let h = s.trim().trim_start_matches('#');
    if h.len() != 6 || !h.is_ascii() {
        return None;
    }
    let p = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).ok();
    Some([p(0)?, p(2)?, p(4)?])
}

/// `styles/colorblind.toml`, compiled in (the vector tiles' second MapLibre style).
const COLORBLIND: &str = include_str!("../../../styles/colorblind.toml");

impl Style {
    /// The colour-blind style the repository ships (`styles/colorblind.toml`).
    pub fn colorblind() -> Style {
        toml::from_str(COLORBLIND).unwrap_or_default()
    }

    pub fn load(path: &Path) -> Result<Style, String> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            let (p, e) = (path.display(), crate::i18n::io_error(&e));
            crate::tr!("无法读取样式文件 {p}：{e}", "cannot read style {p}: {e}")
        })?;
        let s: Style = toml::from_str(&text).map_err(|e| {
            let p = path.display();
            crate::tr!("样式文件 {p}：{e}", "style {p}: {e}")
        })?;
        let d = &s.drawing;
        let ink = s.patterns.ink.clone().unwrap_or_else(|| "#000000".into());
        for (k, v) in [
            ("colors.red", &s.colors.red),
            ("colors.orange", &s.colors.orange),
            ("colors.yellow", &s.colors.yellow),
            ("colors.blue", &s.colors.blue),
            ("colors.unassessed", &s.colors.unassessed),
            ("drawing.outline_color", &d.outline_color),
            ("drawing.grid_outline_color", &d.grid_outline_color),
            ("drawing.point_outline_color", &d.point_outline_color),
            ("patterns.ink", &ink),
        ] {
            if parse_hex(v).is_none() {
                let p = path.display();
                return Err(crate::tr!(
                    "样式文件 {p}：{k} = `{v}` 不是 #RRGGBB 颜色",
                    "style {p}: {k} = `{v}` is not #RRGGBB"
                ));
            }
        }
        for (k, v) in [
            ("surface_opacity", d.surface_opacity),
            ("areas_opacity", d.areas_opacity),
            ("grid_opacity", d.grid_opacity),
        ] {
            if !(0.0..=1.0).contains(&v) {
                let p = path.display();
                return Err(crate::tr!(
                    "样式文件 {p}：drawing.{k} = {v} 须在 0..1 之间",
                    "style {p}: drawing.{k} = {v} must be within 0..1"
                ));
            }
        }
        Ok(s)
    }

    /// RGB of an optional level.
    pub fn rgb(&self, l: Option<Level>) -> [u8; 3] {
        parse_hex(self.color(l)).unwrap_or([128, 128, 128])
    }

    /// Pattern of a level.
    pub fn pattern(&self, l: Level) -> Pattern {
        match l {
            Level::Red => self.patterns.red,
            Level::Orange => self.patterns.orange,
            Level::Yellow => self.patterns.yellow,
            Level::Blue => self.patterns.blue,
        }
    }

    /// Point radius in pixels at a zoom.
    pub fn point_radius(&self, z: f32) -> f32 {
        let r = &self.drawing.point_radius;
        match r.iter().position(|p| p[0] >= z) {
            None => r.last().map(|p| p[1]).unwrap_or(3.0),
            Some(0) => r[0][1],
            Some(i) => {
                let (a, b) = (r[i - 1], r[i]);
                a[1] + (b[1] - a[1]) * (z - a[0]) / (b[0] - a[0]).max(1e-6)
            }
        }
    }

    /// Colour of an optional level (unassessed when none).
    pub fn color(&self, l: Option<Level>) -> &str {
        match l {
            Some(Level::Red) => &self.colors.red,
            Some(Level::Orange) => &self.colors.orange,
            Some(Level::Yellow) => &self.colors.yellow,
            Some(Level::Blue) => &self.colors.blue,
            None => &self.colors.unassessed,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::model::Level;

    #[test]
    fn shipped_default_style_matches_domain_colours() {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../styles/default.toml");
        let s = super::Style::load(&p).unwrap();
        // domain.md §1: #FF0000 red, #FF8000 orange, #FFFF00 yellow, #0000FF blue
        // (transcribed, not read from the code), for the shipped file and the built-in style
        for st in [&s, &super::Style::default()] {
            for (level, rgb) in [
                (Level::Red, [0xFF, 0x00, 0x00]),
                (Level::Orange, [0xFF, 0x80, 0x00]),
                (Level::Yellow, [0xFF, 0xFF, 0x00]),
                (Level::Blue, [0x00, 0x00, 0xFF]),
            ] {
                assert_eq!(st.rgb(Some(level)), rgb, "{level:?}");
            }
        }
        // the file says it is the defaults: it is
        assert_eq!(s, super::Style::default());
        let cb = super::Style::load(&p.with_file_name("colorblind.toml")).unwrap();
        assert_ne!(
            cb.pattern(Level::Red),
            cb.pattern(Level::Orange),
            "red and orange differ by more than hue"
        );
        assert!((s.point_radius(10.0) - 2.25).abs() < 1e-6);
        assert_eq!(super::parse_hex("#FF8000"), Some([255, 128, 0]));
    }
}
