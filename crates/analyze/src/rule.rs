//! The level of a set of enterprises (an area or a grid cell): the highest level inside
//! (就高) or a weighted score per km² / per enterprise against thresholds.

use crate::params::{AreaRule, LevelRule, ScoreBasis};
use riskmap_core::model::Counts;
use riskmap_core::model::Level;

/// An area's level and why.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaLevel {
    pub level: Option<Level>,
    pub reason: String,
    /// The same in Chinese.
    pub reason_zh: String,
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
        let (reason, reason_zh) = if counts[4] > 0 {
            (
                format!("{} unassessed enterprise(s) only", counts[4]),
                format!("仅有{}家未评估企业", counts[4]),
            )
        } else {
            ("no enterprises".to_string(), "无企业".to_string())
        };
        return AreaLevel {
            level: None,
            reason,
            reason_zh,
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
            let e = example(l);
            let ex = e
                .as_ref()
                .map(|e| format!(", e.g. {e}"))
                .unwrap_or_default();
            let ex_zh = e.map(|e| format!("，如 {e}")).unwrap_or_default();
            AreaLevel {
                level: Some(l),
                reason: format!("highest: {} {} enterprise(s){ex}", counts[i], l.key()),
                reason_zh: format!("就高：{}家{}企业{ex_zh}", counts[i], l.zh()),
                score: None,
            }
        }
        AreaRule::Score => {
            let weighted: f64 = Level::ALL
                .iter()
                .enumerate()
                .map(|(i, l)| counts[i] as f64 * rule.weights.get(*l))
                .sum();
            let (score, unit, unit_zh) = match rule.score_basis {
                ScoreBasis::PerKm2 => (weighted / area_km2.max(1e-9), "per km²", "每平方公里"),
                ScoreBasis::PerEnterprise => {
                    (weighted / assessed as f64, "per enterprise", "每家企业")
                }
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
            let reason_zh = match level {
                Some(l) => format!(
                    "分值 {score:.3}（{unit_zh}）≥ {}（{}阈值）",
                    rule.thresholds.get(l),
                    l.zh()
                ),
                None => format!("分值 {score:.3}（{unit_zh}）低于所有阈值"),
            };
            AreaLevel {
                level,
                reason,
                reason_zh,
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
        assert_eq!(a.reason_zh, "就高：2家较大风险企业，如 E7");
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
