//! The level of a set of enterprises (an area or a grid cell): the highest level inside
//! (就高) or a weighted score per km² / per enterprise against thresholds.

use crate::config::{AreaRule, LevelRule, ScoreBasis};
use crate::export::summary::Counts;
use crate::model::Level;

/// An area's level and why.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaLevel {
    pub level: Option<Level>,
    pub reason: String,
    /// The score, for the `score` rule.
    pub score: Option<f64>,
}

/// Decide the level of a set with `counts` (red, orange, yellow, blue, unassessed) over
/// `area_km2`; `example` names an enterprise of the deciding level for the reason.
pub fn decide(
    rule: &LevelRule,
    counts: &Counts,
    area_km2: f64,
    example: impl Fn(Level) -> Option<String>,
) -> AreaLevel {
    let assessed: usize = counts[..4].iter().sum();
    if assessed == 0 {
        let reason = if counts[4] > 0 {
            format!("{} unassessed enterprise(s) only", counts[4])
        } else {
            "no enterprises".to_string()
        };
        return AreaLevel {
            level: None,
            reason,
            score: None,
        };
    }
    match rule.rule {
        AreaRule::Highest => {
            let (i, l) = Level::ALL
                .iter()
                .enumerate()
                .find(|(i, _)| counts[*i] > 0)
                .map(|(i, l)| (i, *l))
                .unwrap_or((3, Level::Blue));
            let ex = example(l)
                .map(|e| format!(", e.g. {e}"))
                .unwrap_or_default();
            AreaLevel {
                level: Some(l),
                reason: format!("highest: {} {} enterprise(s){ex}", counts[i], l.key()),
                score: None,
            }
        }
        AreaRule::Score => {
            let weighted: f64 = Level::ALL
                .iter()
                .enumerate()
                .map(|(i, l)| counts[i] as f64 * rule.weights.get(*l))
                .sum();
            let (score, unit) = match rule.score_basis {
                ScoreBasis::PerKm2 => (weighted / area_km2.max(1e-9), "per km²"),
                ScoreBasis::PerEnterprise => (weighted / assessed as f64, "per enterprise"),
            };
            let level = Level::ALL
                .iter()
                .copied()
                .find(|l| score >= rule.thresholds.get(*l));
            let reason = match level {
                Some(l) => format!(
                    "score {score:.3} {unit} ≥ {} ({} threshold)",
                    rule.thresholds.get(l),
                    l.key()
                ),
                None => format!("score {score:.3} {unit} below every threshold"),
            };
            AreaLevel {
                level,
                reason,
                score: Some(score),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highest_and_score() {
        let mut r = LevelRule::default();
        let c = [0, 2, 5, 9, 1];
        let a = decide(&r, &c, 10.0, |_| Some("E7".into()));
        assert_eq!(a.level, Some(Level::Orange));
        assert_eq!(a.reason, "highest: 2 orange enterprise(s), e.g. E7");
        r.rule = AreaRule::Score;
        // (2·4 + 5·2 + 9·1) / 10 km² = 2.7 ≥ 2 → red
        let a = decide(&r, &c, 10.0, |_| None);
        assert_eq!((a.level, a.score), (Some(Level::Red), Some(2.7)));
        let a = decide(&r, &c, 100.0, |_| None);
        assert_eq!(a.level, Some(Level::Blue), "0.27 per km²");
        r.score_basis = ScoreBasis::PerEnterprise;
        let a = decide(&r, &c, 100.0, |_| None);
        assert_eq!(a.score, Some(27.0 / 16.0));
        assert_eq!(a.level, Some(Level::Orange));
        assert_eq!(decide(&r, &[0, 0, 0, 0, 3], 1.0, |_| None).level, None);
    }
}
