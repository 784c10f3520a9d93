//! Enterprise grading: the highest level wins (就高) among risk points, the register's
//! direct level and the forced rules, each forced rule switchable (domain.md §3).

use crate::model::*;
use foldhash::HashMap;

/// Which forced rules apply.
#[derive(Debug, Clone, Copy)]
pub struct RuleSwitches {
    pub open_major_hidden_danger_red: bool,
    pub major_hazard_floor: bool,
    pub fatal_accident_red: bool,
}

impl From<&super::params::GradingConfig> for RuleSwitches {
    fn from(g: &super::params::GradingConfig) -> Self {
        RuleSwitches {
            open_major_hidden_danger_red: g.open_major_hidden_danger_red,
            major_hazard_floor: g.major_hazard_floor,
            fatal_accident_red: g.fatal_accident_red,
        }
    }
}

/// The grade of one enterprise and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Grade {
    /// `None` = unassessed (未评估): no risk point, no direct level and no forced rule.
    pub level: Option<Level>,
    /// Which rule and which input decided, e.g. `LEC D=270 at 储罐区`.
    pub reason: String,
    /// The same in Chinese.
    pub reason_zh: String,
    /// Machine name of the deciding rule: risk_point, direct, major_hazard_floor,
    /// open_major_hidden_danger, fatal_accident, none.
    pub rule: &'static str,
    pub risk_points: usize,
    pub open_hidden_dangers: usize,
    pub open_major_hidden_dangers: usize,
}

struct Candidate {
    level: Level,
    /// Lower wins among equal levels: forced rules explain a level before scores do.
    priority: u8,
    score: f64,
    rule: &'static str,
    reason: String,
    reason_zh: String,
}

fn fmt_score(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Grade one enterprise from its risk points and hidden dangers.
pub fn grade_enterprise(
    e: &Enterprise,
    points: &[&RiskPoint],
    dangers: &[&HiddenDanger],
    sw: RuleSwitches,
) -> Grade {
    let mut c: Vec<Candidate> = Vec::new();
    let open: Vec<&&HiddenDanger> = dangers.iter().filter(|d| d.status.is_open()).collect();
    let open_major: Vec<&&HiddenDanger> = open
        .iter()
        .copied()
        .filter(|d| d.grade == DangerGrade::Major)
        .collect();
    if sw.open_major_hidden_danger_red {
        if let Some(d) = open_major.first() {
            let more = if open_major.len() > 1 {
                format!(" (+{} more)", open_major.len() - 1)
            } else {
                String::new()
            };
            c.push(Candidate {
                level: Level::Red,
                priority: 0,
                score: 0.0,
                rule: "open_major_hidden_danger",
                reason: format!("open major hidden danger #{}{more}", d.id),
                reason_zh: format!("存在{}的重大事故隐患 #{}{more}", d.status.zh(), d.id),
            });
        }
    }
    if sw.fatal_accident_red && e.fatal_accident {
        c.push(Candidate {
            level: Level::Red,
            priority: 1,
            score: 0.0,
            rule: "fatal_accident",
            reason: "fatal accident in the last 12 months".into(),
            reason_zh: "近12个月发生死亡事故".into(),
        });
    }
    if sw.major_hazard_floor {
        if let Some(g) = e.major_hazard {
            c.push(Candidate {
                level: g.floor(),
                priority: 2,
                score: 0.0,
                rule: "major_hazard_floor",
                reason: format!("major hazard source {} (floor {})", g.zh(), g.floor()),
                reason_zh: format!("{}重大危险源（不低于{}）", g.zh(), g.floor().zh()),
            });
        }
    }
    for p in points {
        let (reason, reason_zh) = match (&p.method, p.method.score()) {
            (Method::Direct(l), _) => (
                format!("direct level {} at {}", l.zh_short(), p.name),
                format!("{}直接判定为{}", p.name, l.zh()),
            ),
            (m, Some(s)) => (
                format!(
                    "{} {}={} at {}",
                    m.name(),
                    m.score_symbol(),
                    fmt_score(s),
                    p.name
                ),
                format!(
                    "{} {} {}={}，{}",
                    p.name,
                    m.name(),
                    m.score_symbol(),
                    fmt_score(s),
                    p.level.zh()
                ),
            ),
            (m, None) => (format!("{} at {}", m.name(), p.name), p.name.clone()),
        };
        c.push(Candidate {
            level: p.level,
            priority: 3,
            score: p.method.score().unwrap_or(0.0),
            rule: "risk_point",
            reason,
            reason_zh,
        });
    }
    if let Some(l) = e.direct_level {
        c.push(Candidate {
            level: l,
            priority: 4,
            score: 0.0,
            rule: "direct",
            reason: format!("direct level {} in the register", l.zh_short()),
            reason_zh: format!("名录直接填报{}", l.zh()),
        });
    }
    // highest level; then lowest priority; then highest score; then first listed
    let best = c.iter().enumerate().max_by(|(ia, a), (ib, b)| {
        a.level
            .cmp(&b.level)
            .then(b.priority.cmp(&a.priority))
            .then(a.score.total_cmp(&b.score))
            .then(ib.cmp(ia))
    });
    let (level, reason, reason_zh, rule) = match best {
        Some((_, b)) => (Some(b.level), b.reason.clone(), b.reason_zh.clone(), b.rule),
        None => (
            None,
            "no risk assessment".to_string(),
            "无风险评估记录".to_string(),
            "none",
        ),
    };
    Grade {
        level,
        reason,
        reason_zh,
        rule,
        risk_points: points.len(),
        open_hidden_dangers: open.len(),
        open_major_hidden_dangers: open_major.len(),
    }
}

/// Each enterprise id's position in `enterprises`: how the other tables' rows find
/// their enterprise (reading checks them against it, grading groups by it).
pub fn id_positions(enterprises: &[Enterprise]) -> HashMap<&str, u32> {
    enterprises
        .iter()
        .enumerate()
        .map(|(i, e)| (e.id.as_str(), i as u32))
        .collect()
}

/// Grade every enterprise (in parallel); the result is aligned with `enterprises`. `at`
/// is `id_positions(enterprises)` (it may be empty when there are no points and no
/// dangers: nothing is looked up then).
pub fn grade_all(
    enterprises: &[Enterprise],
    at: &HashMap<&str, u32>,
    points: &[RiskPoint],
    dangers: &[HiddenDanger],
    sw: RuleSwitches,
) -> Vec<Grade> {
    use rayon::prelude::*;
    let n = enterprises.len();
    let (p_start, p_refs) = by_owner(points, |p| at.get(p.enterprise_id.as_str()).copied(), n);
    let (d_start, d_refs) = by_owner(dangers, |d| at.get(d.enterprise_id.as_str()).copied(), n);
    enterprises
        .par_iter()
        .enumerate()
        .map(|(i, e)| {
            let p = &p_refs[p_start[i]..p_start[i + 1]];
            let d = &d_refs[d_start[i]..d_start[i + 1]];
            grade_enterprise(e, p, d, sw)
        })
        .collect()
}

/// Items grouped by the enterprise they belong to (`owner`: its index, None for an id
/// no enterprise has), each group in file order: enterprise i's are
/// `refs[start[i]..start[i + 1]]`. A counting sort into one array, where a map of
/// vectors cost an allocation per enterprise (most of grading a 1M register).
fn by_owner<T>(items: &[T], owner: impl Fn(&T) -> Option<u32>, n: usize) -> (Vec<usize>, Vec<&T>) {
    let owners: Vec<Option<u32>> = items.iter().map(owner).collect();
    let mut start = vec![0usize; n + 1];
    for o in owners.iter().flatten() {
        start[*o as usize + 1] += 1;
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut slot: Vec<Option<&T>> = vec![None; start[n]];
    let mut next = start.clone();
    for (x, o) in items.iter().zip(&owners) {
        if let Some(o) = o {
            slot[next[*o as usize]] = Some(x);
            next[*o as usize] += 1;
        }
    }
    (start, slot.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crs::Crs;

    const ALL_ON: RuleSwitches = RuleSwitches {
        open_major_hidden_danger_red: true,
        major_hazard_floor: true,
        fatal_accident_red: true,
    };

    fn ent() -> Enterprise {
        Enterprise {
            id: "E1".into(),
            name: "测试企业".into(),
            credit_code: None,
            industry: None,
            district_stated: None,
            lon: 117.0,
            lat: 36.6,
            src_crs: Crs::Wgs84,
            direct_level: None,
            major_hazard: None,
            employees: None,
            radius_m: None,
            fatal_accident: false,
            own_team: None,
            rescue_partner: None,
            extra: vec![],
            source: SourceRef {
                file: "t".into(),
                line: 2,
            },
            district: None,
            warnings: vec![],
        }
    }

    fn pt(name: &str, method: Method, level: Level) -> RiskPoint {
        RiskPoint {
            enterprise_id: "E1".into(),
            name: name.into(),
            method,
            level,
            source: SourceRef {
                file: "a".into(),
                line: 2,
            },
        }
    }

    fn hd(id: &str, grade: DangerGrade, status: DangerStatus) -> HiddenDanger {
        HiddenDanger {
            id: id.into(),
            enterprise_id: "E1".into(),
            grade,
            status,
            description: None,
            source: SourceRef {
                file: "h".into(),
                line: 2,
            },
        }
    }

    #[test]
    fn highest_risk_point_wins_with_reason() {
        let a = pt(
            "储罐区",
            Method::Lec {
                l: 3.0,
                e: 6.0,
                c: 15.0,
            },
            Level::Orange,
        ); // 270
        let b = pt("办公楼", Method::Ls { l: 2.0, s: 2.0 }, Level::Yellow);
        let g = grade_enterprise(&ent(), &[&b, &a], &[], ALL_ON);
        assert_eq!(g.level, Some(Level::Orange));
        assert_eq!(g.reason, "LEC D=270 at 储罐区");
        assert_eq!(g.risk_points, 2);
    }

    #[test]
    fn unassessed_is_not_blue() {
        let g = grade_enterprise(&ent(), &[], &[], ALL_ON);
        assert_eq!(g.level, None);
        assert_eq!(g.rule, "none");
    }

    #[test]
    fn open_major_hidden_danger_forces_red_and_can_be_switched_off() {
        let a = pt("仓库", Method::Ls { l: 1.0, s: 2.0 }, Level::Blue);
        let open = hd("H-0012", DangerGrade::Major, DangerStatus::InProgress);
        let g = grade_enterprise(&ent(), &[&a], &[&open], ALL_ON);
        assert_eq!(
            (g.level, g.reason.as_str()),
            (Some(Level::Red), "open major hidden danger #H-0012")
        );
        assert_eq!(g.open_major_hidden_dangers, 1);
        let off = RuleSwitches {
            open_major_hidden_danger_red: false,
            ..ALL_ON
        };
        assert_eq!(
            grade_enterprise(&ent(), &[&a], &[&open], off).level,
            Some(Level::Blue)
        );
        // closed or general dangers force nothing
        let closed = hd("H-1", DangerGrade::Major, DangerStatus::Closed);
        let general = hd("H-2", DangerGrade::General, DangerStatus::Open);
        let g = grade_enterprise(&ent(), &[&a], &[&closed, &general], ALL_ON);
        assert_eq!(
            (g.level, g.open_hidden_dangers, g.open_major_hidden_dangers),
            (Some(Level::Blue), 1, 0)
        );
    }

    #[test]
    fn major_hazard_is_a_floor() {
        let a = pt(
            "反应釜",
            Method::Lec {
                l: 10.0,
                e: 6.0,
                c: 40.0,
            },
            Level::Red,
        );
        let mut e = ent();
        e.major_hazard = Some(HazardGrade::Two);
        assert_eq!(
            grade_enterprise(&e, &[&a], &[], ALL_ON).level,
            Some(Level::Red),
            "a floor never lowers"
        );
        let b = pt("库房", Method::Ls { l: 1.0, s: 1.0 }, Level::Blue);
        let g = grade_enterprise(&e, &[&b], &[], ALL_ON);
        assert_eq!(
            (g.level, g.rule),
            (Some(Level::Orange), "major_hazard_floor")
        );
        let off = RuleSwitches {
            major_hazard_floor: false,
            ..ALL_ON
        };
        assert_eq!(
            grade_enterprise(&e, &[&b], &[], off).level,
            Some(Level::Blue)
        );
    }

    #[test]
    fn fatal_accident_and_direct_level() {
        let mut e = ent();
        e.direct_level = Some(Level::Yellow);
        let g = grade_enterprise(&e, &[], &[], ALL_ON);
        assert_eq!((g.level, g.rule), (Some(Level::Yellow), "direct"));
        e.fatal_accident = true;
        assert_eq!(
            grade_enterprise(&e, &[], &[], ALL_ON).level,
            Some(Level::Red)
        );
        let off = RuleSwitches {
            fatal_accident_red: false,
            ..ALL_ON
        };
        assert_eq!(
            grade_enterprise(&e, &[], &[], off).level,
            Some(Level::Yellow)
        );
    }

    /// Each enterprise gets exactly its items, in file order; items of unknown ids none.
    #[test]
    fn items_grouped_by_owner_in_file_order() {
        let items = [(2, 'a'), (9, 'x'), (0, 'b'), (2, 'c'), (0, 'd'), (2, 'e')];
        let owner = |&(o, _): &(u32, char)| (o < 4).then_some(o);
        let (start, refs) = by_owner(&items, owner, 4);
        let group =
            |i: usize| -> String { refs[start[i]..start[i + 1]].iter().map(|x| x.1).collect() };
        let groups: Vec<String> = (0..4).map(group).collect();
        assert_eq!(groups, ["bd", "", "ace", ""]);
        assert_eq!(refs.len(), 5);
    }
}
