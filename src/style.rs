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

/// A style file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Style {
    /// Name shown in legends and TileJSON.
    pub name: String,
    pub colors: Colors,
}

impl Default for Style {
    fn default() -> Self {
        Style {
            name: "default".into(),
            colors: Colors::default(),
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

impl Style {
    pub fn load(path: &Path) -> Result<Style, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read style {}: {e}", path.display()))?;
        let s: Style =
            toml::from_str(&text).map_err(|e| format!("style {}: {e}", path.display()))?;
        for (k, v) in [
            ("red", &s.colors.red),
            ("orange", &s.colors.orange),
            ("yellow", &s.colors.yellow),
            ("blue", &s.colors.blue),
            ("unassessed", &s.colors.unassessed),
        ] {
            if parse_hex(v).is_none() {
                return Err(format!(
                    "style {}: colors.{k} = `{v}` is not #RRGGBB",
                    path.display()
                ));
            }
        }
        Ok(s)
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
    #[test]
    fn shipped_default_style_matches_domain_colours() {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("styles/default.toml");
        let s = super::Style::load(&p).unwrap();
        assert_eq!(s.colors, super::Colors::default());
        assert_eq!(super::parse_hex("#FF8000"), Some([255, 128, 0]));
    }
}
