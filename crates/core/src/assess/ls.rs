//! LS risk matrix: R = L × S (each 1–5), bands by the configured variant (A, B or C).

use super::tables::LsTable;
use crate::model::{Level, Method};

/// Score R and its level under the table's variant (blue if the variant is missing,
/// which config validation prevents).
pub fn grade(t: &LsTable, l: f64, s: f64) -> (f64, Level) {
    let r = Method::Ls { l, s }.score().unwrap_or(0.0);
    (r, t.bands().map(|b| b.classify(r)).unwrap_or(Level::Blue))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Level::*;

    fn variant(v: &str) -> LsTable {
        LsTable {
            variant: v.into(),
            ..LsTable::default()
        }
    }

    #[test]
    fn every_product_in_every_variant() {
        // domain.md §2: A red 20–25 orange 10–16 yellow 4–9 blue 1–3;
        // B red 20–25 orange 9–16 yellow 4–8 blue 1–3; C red 20–25 orange 15–16 yellow 9–12 blue ≤ 8
        let expect = |v: &str, r: u32| -> Level {
            match v {
                "A" => match r {
                    20..=25 => Red,
                    10..=16 => Orange,
                    4..=9 => Yellow,
                    _ => Blue,
                },
                "B" => match r {
                    20..=25 => Red,
                    9..=16 => Orange,
                    4..=8 => Yellow,
                    _ => Blue,
                },
                _ => match r {
                    20..=25 => Red,
                    15..=16 => Orange,
                    9..=12 => Yellow,
                    _ => Blue,
                },
            }
        };
        for v in ["A", "B", "C"] {
            let t = variant(v);
            for l in 1..=5 {
                for s in 1..=5 {
                    let (r, got) = grade(&t, l as f64, s as f64);
                    assert_eq!(got, expect(v, l * s), "variant {v} L={l} S={s} R={r}");
                }
            }
        }
    }
}
