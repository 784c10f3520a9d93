//! LEC (作业条件危险性评价法): D = L × E × C, bands D > 320 red, > 160 orange, > 70 yellow.

use super::tables::LecTable;
use crate::model::{Level, Method};

/// Score D and its level.
pub fn grade(t: &LecTable, l: f64, e: f64, c: f64) -> (f64, Level) {
    let d = Method::Lec { l, e, c }.score().unwrap_or(0.0);
    (d, t.bands().classify(d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Level::*;

    fn level_of(d: f64) -> Level {
        LecTable::default().bands().classify(d)
    }

    #[test]
    fn bands_at_and_around_every_threshold() {
        // half-open bands: a boundary value belongs to the lower band
        for (d, want) in [
            (1000.0, Red),
            (320.01, Red),
            (320.0, Orange),
            (319.99, Orange),
            (160.01, Orange),
            (160.0, Yellow),
            (159.99, Yellow),
            (70.01, Yellow),
            (70.0, Blue),
            (69.99, Blue),
            (20.0, Blue),
            (0.1, Blue),
        ] {
            assert_eq!(level_of(d), want, "D = {d}");
        }
    }

    #[test]
    fn table_products() {
        let t = LecTable::default();
        assert_eq!(grade(&t, 10.0, 6.0, 7.0), (420.0, Red));
        assert_eq!(grade(&t, 6.0, 6.0, 7.0), (252.0, Orange));
        assert_eq!(grade(&t, 3.0, 6.0, 7.0), (126.0, Yellow));
        assert_eq!(grade(&t, 1.0, 10.0, 7.0), (70.0, Blue)); // a product on the boundary
        assert_eq!(grade(&t, 0.1, 10.0, 7.0), (7.0, Blue)); // 0.1 × 10 × 7 without float noise
    }

    #[test]
    fn monotonic_in_each_factor() {
        let t = LecTable::default();
        for &e in &t.e {
            for &c in &t.c {
                let mut ls = t.l.clone();
                ls.sort_by(f64::total_cmp);
                let levels: Vec<Level> = ls.iter().map(|&l| grade(&t, l, e, c).1).collect();
                assert!(levels.windows(2).all(|w| w[0] <= w[1]), "{levels:?}");
            }
        }
    }
}
