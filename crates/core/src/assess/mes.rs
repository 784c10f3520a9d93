//! MES: R = M × E × S, bands R > 180 red, ≥ 90 orange, ≥ 50 yellow (domain.md, unconfirmed).

use super::tables::MesTable;
use crate::model::{Level, Method};

/// Score R and its level.
pub fn grade(t: &MesTable, m: f64, e: f64, s: f64) -> (f64, Level) {
    let r = Method::Mes { m, e, s }.score().unwrap_or(0.0);
    (r, t.bands().classify(r))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Level::*;

    #[test]
    fn bands_at_and_around_thresholds() {
        let t = MesTable::default();
        for (m, e, s, want) in [
            (5.0, 10.0, 10.0, Red),   // 500
            (5.0, 6.0, 8.0, Red),     // 240
            (3.0, 6.0, 10.0, Orange), // 180: the top of the gap goes to orange
            (3.0, 10.0, 4.0, Orange), // 120
            (3.0, 3.0, 10.0, Orange), // 90: the bottom of orange
            (1.0, 10.0, 8.0, Yellow), // 80
            (5.0, 10.0, 1.0, Yellow), // 50: the bottom of yellow
            (3.0, 2.0, 8.0, Blue),    // 48
            (1.0, 1.0, 1.0, Blue),
        ] {
            assert_eq!(grade(&t, m, e, s).1, want, "M={m} E={e} S={s}");
        }
    }
}
