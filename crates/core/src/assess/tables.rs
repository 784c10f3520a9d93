//! Threshold tables for LEC, LS and MES (domain.md §2), read from `styles/grading.toml`
//! or the config, with the domain values as defaults.

use crate::model::Level;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// A lower bound a score must pass to reach a level: `"> 320"` or `">= 20"`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Bound {
    pub value: f64,
    pub inclusive: bool,
}

impl Bound {
    pub fn passes(&self, score: f64) -> bool {
        if self.inclusive {
            score >= self.value
        } else {
            score > self.value
        }
    }
}

impl FromStr for Bound {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim().replace('≥', ">=");
        let (inclusive, rest) = if let Some(r) = t.strip_prefix(">=") {
            (true, r)
        } else if let Some(r) = t.strip_prefix('>') {
            (false, r)
        } else {
            return Err(crate::tr!(
                "`{s}`：分级界限应写作 \"> N\" 或 \">= N\"",
                "`{s}`: a band is written \"> N\" or \">= N\""
            ));
        };
        let value: f64 = rest.trim().parse().map_err(|_| {
            let r = rest.trim();
            crate::tr!("`{s}`：`{r}` 不是数字", "`{s}`: `{r}` is not a number")
        })?;
        Ok(Bound { value, inclusive })
    }
}

impl TryFrom<String> for Bound {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<Bound> for String {
    fn from(b: Bound) -> String {
        b.to_string()
    }
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}",
            if self.inclusive { ">=" } else { ">" },
            self.value
        )
    }
}

/// Red / orange / yellow bounds; anything below yellow is blue.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bands {
    pub red: Bound,
    pub orange: Bound,
    pub yellow: Bound,
}

impl Bands {
    pub fn classify(&self, score: f64) -> Level {
        if self.red.passes(score) {
            Level::Red
        } else if self.orange.passes(score) {
            Level::Orange
        } else if self.yellow.passes(score) {
            Level::Yellow
        } else {
            Level::Blue
        }
    }
    fn b(red: &str, orange: &str, yellow: &str) -> Bands {
        Bands {
            red: b(red),
            orange: b(orange),
            yellow: b(yellow),
        }
    }
}

/// A built-in bound; the literals are known to parse.
fn b(s: &str) -> Bound {
    s.parse().unwrap_or(Bound {
        value: f64::INFINITY,
        inclusive: false,
    })
}

/// LEC: D = L × E × C.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LecTable {
    pub l: Vec<f64>,
    pub e: Vec<f64>,
    pub c: Vec<f64>,
    pub red: Bound,
    pub orange: Bound,
    pub yellow: Bound,
}

impl Default for LecTable {
    fn default() -> Self {
        LecTable {
            l: vec![10.0, 6.0, 3.0, 1.0, 0.5, 0.2, 0.1],
            e: vec![10.0, 6.0, 3.0, 2.0, 1.0, 0.5],
            c: vec![100.0, 40.0, 15.0, 7.0, 3.0, 1.0],
            red: b("> 320"),
            orange: b("> 160"),
            yellow: b("> 70"),
        }
    }
}

/// LS risk matrix: R = L × S, both 1–5; the bands depend on the chosen variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LsTable {
    pub l: Vec<f64>,
    pub s: Vec<f64>,
    /// Which entry of `variants` is used. Default "A".
    pub variant: String,
    pub variants: BTreeMap<String, Bands>,
}

impl Default for LsTable {
    fn default() -> Self {
        let mut variants = BTreeMap::new();
        variants.insert("A".to_string(), Bands::b(">= 20", ">= 10", ">= 4"));
        variants.insert("B".to_string(), Bands::b(">= 20", ">= 9", ">= 4"));
        variants.insert("C".to_string(), Bands::b(">= 20", ">= 15", ">= 9"));
        LsTable {
            l: vec![1.0, 2.0, 3.0, 4.0, 5.0],
            s: vec![1.0, 2.0, 3.0, 4.0, 5.0],
            variant: "A".into(),
            variants,
        }
    }
}

impl LecTable {
    pub fn bands(&self) -> Bands {
        Bands {
            red: self.red,
            orange: self.orange,
            yellow: self.yellow,
        }
    }
}

impl MesTable {
    pub fn bands(&self) -> Bands {
        Bands {
            red: self.red,
            orange: self.orange,
            yellow: self.yellow,
        }
    }
}

impl LsTable {
    pub fn bands(&self) -> Option<&Bands> {
        self.variants.get(&self.variant)
    }
}

/// MES: R = M × E × S.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MesTable {
    pub m: Vec<f64>,
    pub e: Vec<f64>,
    pub s: Vec<f64>,
    pub red: Bound,
    pub orange: Bound,
    pub yellow: Bound,
}

impl Default for MesTable {
    fn default() -> Self {
        MesTable {
            m: vec![5.0, 3.0, 1.0],
            e: vec![10.0, 6.0, 3.0, 2.0, 1.0],
            s: vec![10.0, 8.0, 4.0, 2.0, 1.0],
            // domain.md: > 180 red, 90–150 orange, 50–80 yellow, ≤ 48 blue; the published
            // table leaves 151–180 unassigned (only 180 = 3×6×10 occurs): it goes to orange.
            red: b("> 180"),
            orange: b(">= 90"),
            yellow: b(">= 50"),
        }
    }
}

/// All grading tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct GradingTables {
    pub lec: LecTable,
    pub ls: LsTable,
    pub mes: MesTable,
    /// Accept L/E/C (and L/S, M/E/S) values that are not in the tables. Default false.
    pub allow_free_values: bool,
}

impl GradingTables {
    pub fn load(path: &std::path::Path) -> Result<GradingTables, String> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            let (p, e) = (path.display(), crate::i18n::io_error(&e));
            crate::tr!("无法读取 {p}：{e}", "cannot read {p}: {e}")
        })?;
        let t: GradingTables =
            toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        t.validate()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(t)
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.ls.bands().is_none() {
            let names: Vec<&String> = self.ls.variants.keys().collect();
            let v = &self.ls.variant;
            return Err(crate::tr!(
                "ls.variant `{v}` 不在 ls.variants {names:?} 之中",
                "ls.variant `{v}` is not one of the ls.variants {names:?}"
            ));
        }
        let check = |name: &str, b: &Bands| {
            if b.red.value < b.orange.value || b.orange.value < b.yellow.value {
                Err(crate::tr!(
                    "{name}：分级界限须从红到橙到黄依次降低",
                    "{name}: bands must fall from red to orange to yellow"
                ))
            } else {
                Ok(())
            }
        };
        check("lec", &self.lec.bands())?;
        check("mes", &self.mes.bands())?;
        for (k, b) in &self.ls.variants {
            check(&format!("ls.variants.{k}"), b)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bound_parse() {
        assert_eq!(
            ">= 20".parse::<Bound>().unwrap(),
            Bound {
                value: 20.0,
                inclusive: true
            }
        );
        assert_eq!(
            "> 320".parse::<Bound>().unwrap(),
            Bound {
                value: 320.0,
                inclusive: false
            }
        );
        assert!("< 3".parse::<Bound>().is_err());
    }

    /// The shipped tables and the built-in ones grade every product the value lists allow
    /// as `../shared/domain.md` §2 writes the bands (transcribed below, not read from the
    /// code), and list exactly the published values.
    #[test]
    fn shipped_and_builtin_tables_grade_as_the_domain_says() {
        use crate::model::Level::{self, *};
        // domain.md §2, literally
        let lec = |d: f64| -> Level {
            if d > 320.0 {
                Red
            } else if d > 160.0 {
                Orange
            } else if d > 70.0 {
                Yellow
            } else {
                Blue
            }
        };
        let ls = |variant: &str, r: f64| -> Level {
            let (red, orange, yellow) = match variant {
                "A" => (20.0, 10.0, 4.0),
                "B" => (20.0, 9.0, 4.0),
                "C" => (20.0, 15.0, 9.0),
                _ => unreachable!(),
            };
            if r >= red {
                Red
            } else if r >= orange {
                Orange
            } else if r >= yellow {
                Yellow
            } else {
                Blue
            }
        };
        // > 180 red, 90–150 orange, 50–80 yellow, ≤ 48 blue (only these products occur,
        // and 180 = 3·6·10, in the table's gap, is orange)
        let mes = |r: f64| -> Level {
            if r > 180.0 {
                Red
            } else if r >= 90.0 {
                Orange
            } else if r >= 50.0 {
                Yellow
            } else {
                assert!(r <= 48.0, "{r} falls between the published MES bands");
                Blue
            }
        };
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../styles/grading.toml");
        let shipped = GradingTables::load(&p).unwrap();
        for (name, t) in [
            ("shipped", &shipped),
            ("built-in", &GradingTables::default()),
        ] {
            assert_eq!(
                t.lec.l,
                [10.0, 6.0, 3.0, 1.0, 0.5, 0.2, 0.1],
                "{name} LEC L"
            );
            assert_eq!(t.lec.e, [10.0, 6.0, 3.0, 2.0, 1.0, 0.5], "{name} LEC E");
            assert_eq!(t.lec.c, [100.0, 40.0, 15.0, 7.0, 3.0, 1.0], "{name} LEC C");
            let mut products = 0;
            for l in &t.lec.l {
                for e in &t.lec.e {
                    for c in &t.lec.c {
                        let d = l * e * c;
                        assert_eq!(t.lec.bands().classify(d), lec(d), "{name} LEC D = {d}");
                        products += 1;
                    }
                }
            }
            assert_eq!(products, 7 * 6 * 6);
            assert!(!t.allow_free_values, "{name}: free values are opt-in");
            assert_eq!(t.ls.variant, "A", "{name}: variant A is the default");
            for v in ["A", "B", "C"] {
                let bands = &t.ls.variants[v];
                for l in 1..=5 {
                    for s in 1..=5 {
                        let r = (l * s) as f64;
                        assert_eq!(bands.classify(r), ls(v, r), "{name} LS {v} R = {r}");
                    }
                }
            }
            for m in [5.0, 3.0, 1.0] {
                for e in [10.0, 6.0, 3.0, 2.0, 1.0] {
                    for s in [10.0, 8.0, 4.0, 2.0, 1.0] {
                        let r = m * e * s;
                        assert_eq!(t.mes.bands().classify(r), mes(r), "{name} MES R = {r}");
                    }
                }
            }
        }
        // the file says it is the built-in defaults: it is
        assert_eq!(shipped, GradingTables::default());
    }
}
