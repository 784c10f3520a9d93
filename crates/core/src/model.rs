//! The domain objects every stage shares: levels, enterprises, risk points, hidden dangers.

use crate::crs::Crs;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A risk level. Ordered so that `Red` is the greatest ("the highest wins" is `max`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Blue,
    Yellow,
    Orange,
    Red,
}

impl Level {
    /// From highest to lowest.
    pub const ALL: [Level; 4] = [Level::Red, Level::Orange, Level::Yellow, Level::Blue];

    pub const ACCEPTED: &'static str =
        "重大/较大/一般/低 (with or without 风险), red/orange/yellow/blue, \
         红/橙/黄/蓝, 1/2/3/4 (1 = highest), I/II/III/IV";

    /// [`Level::ACCEPTED`] in the language in use.
    pub fn accepted() -> String {
        crate::tr!(
            "重大/较大/一般/低（可带“风险”二字）、红/橙/黄/蓝、Ⅰ/Ⅱ/Ⅲ/Ⅳ级、1/2/3/4（1 最高）、red/orange/yellow/blue",
            "重大/较大/一般/低 (with or without 风险), red/orange/yellow/blue, 红/橙/黄/蓝, 1/2/3/4 (1 = highest), I/II/III/IV"
        )
    }

    pub fn key(self) -> &'static str {
        match self {
            Level::Red => "red",
            Level::Orange => "orange",
            Level::Yellow => "yellow",
            Level::Blue => "blue",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Level::Red => "重大风险",
            Level::Orange => "较大风险",
            Level::Yellow => "一般风险",
            Level::Blue => "低风险",
        }
    }

    /// Short Chinese word used in reasons (重大 / 较大 / 一般 / 低).
    pub fn zh_short(self) -> &'static str {
        match self {
            Level::Red => "重大",
            Level::Orange => "较大",
            Level::Yellow => "一般",
            Level::Blue => "低",
        }
    }

    /// Management tier that owns a risk of this level (domain.md §1).
    pub fn tier_zh(self) -> &'static str {
        match self {
            Level::Red => "企业主要负责人",
            Level::Orange => "企业（公司）级",
            Level::Yellow => "部门级，车间落实",
            Level::Blue => "车间 / 班组",
        }
    }

    /// 1 = red … 4 = blue.
    pub fn rank(self) -> u8 {
        match self {
            Level::Red => 1,
            Level::Orange => 2,
            Level::Yellow => 3,
            Level::Blue => 4,
        }
    }

    /// Parse any accepted spelling (domain.md §1) as registers write it: 重大 / 红 / 1 / I /
    /// red, with 「风险」「级」「企业」 around it (「较大风险企业」「Ⅱ级」「3级」), a note in
    /// brackets (「重大风险（红）」), full-width digits and letters, and the Unicode Roman
    /// numerals Ⅰ–Ⅳ. `None` for an unknown word.
    pub fn parse(s: &str) -> Option<Level> {
        let folded = fold_width(s);
        // a note in brackets: 「重大风险（红）」 is read by the words before it, 「（红）」
        // alone by its inside
        let t = folded.trim();
        let before = t.split(['(', '[', '【']).next().unwrap_or(t).trim();
        let t = if before.is_empty() {
            t.trim_matches(|c| matches!(c, '(' | ')' | '[' | ']' | '【' | '】'))
        } else {
            before
        };
        let lower = t.to_lowercase();
        let mut k = lower.as_str();
        for suffix in ["企业", "单位", "风险", "等级", "级", "色"] {
            k = k.trim_end_matches(suffix).trim();
        }
        for prefix in ["风险等级", "等级"] {
            k = k
                .trim_start_matches(prefix)
                .trim_start_matches([':', '：'])
                .trim();
        }
        Some(match k {
            "重大" | "red" | "红" | "1" | "i" | "一" => Level::Red,
            "较大" | "orange" | "橙" | "2" | "ii" | "二" => Level::Orange,
            "一般" | "yellow" | "黄" | "3" | "iii" | "三" => Level::Yellow,
            "低" | "较低" | "blue" | "蓝" | "4" | "iv" | "四" | "low" => Level::Blue,
            _ => return None,
        })
    }
}

/// Full-width ASCII (digits, letters, brackets, punctuation as an IME types them) to
/// ASCII, the Unicode Roman numerals Ⅰ–Ⅻ / ⅰ–ⅻ to Latin letters, the ideographic space
/// to a space. (Hand-written: a full NFKC table is far more than registers need.)
pub fn fold_width(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\u{FF01}'..='\u{FF5E}' => {
                out.push(char::from_u32(c as u32 - 0xFEE0).unwrap_or(c));
            }
            '\u{3000}' => out.push(' '),
            '\u{2160}'..='\u{216B}' | '\u{2170}'..='\u{217B}' => {
                let n = (c as u32 - if c >= '\u{2170}' { 0x2170 } else { 0x2160 }) as usize;
                out.push_str(
                    [
                        "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII",
                    ][n],
                );
            }
            c => out.push(c),
        }
    }
    out
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// Key for an optional level: `unassessed` when none.
pub fn level_key(l: Option<Level>) -> &'static str {
    l.map(Level::key).unwrap_or("unassessed")
}

/// Chinese label for an optional level: 未评估 when none.
pub fn level_zh(l: Option<Level>) -> &'static str {
    l.map(Level::zh).unwrap_or("未评估")
}

/// The levels in display order (red first; `None` = unassessed), indexed by
/// [`level_slot`].
pub const LEVELS: [Option<Level>; 5] = [
    Some(Level::Red),
    Some(Level::Orange),
    Some(Level::Yellow),
    Some(Level::Blue),
    None,
];

/// Keys of the five level classes in display order.
pub const LEVEL_KEYS: [&str; 5] = ["red", "orange", "yellow", "blue", "unassessed"];

/// Index into [`LEVEL_KEYS`].
pub fn level_slot(l: Option<Level>) -> usize {
    match l {
        Some(Level::Red) => 0,
        Some(Level::Orange) => 1,
        Some(Level::Yellow) => 2,
        Some(Level::Blue) => 3,
        None => 4,
    }
}

/// Grade of a major hazard source (重大危险源, GB 18218-2018).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum HazardGrade {
    One,
    Two,
    Three,
    Four,
}

impl HazardGrade {
    pub const ACCEPTED: &'static str =
        "一级/二级/三级/四级, 1/2/3/4, I/II/III/IV, or empty / 无 for none";

    /// [`HazardGrade::ACCEPTED`] in the language in use.
    pub fn accepted() -> String {
        crate::tr!(
            "一级/二级/三级/四级、1/2/3/4、I/II/III/IV，不是重大危险源则留空或填“无”",
            "一级/二级/三级/四级, 1/2/3/4, I/II/III/IV, or empty / 无 for none"
        )
    }

    /// `Ok(None)` for an explicit "none"; `Err` for an unknown word.
    pub fn parse(s: &str) -> Result<Option<HazardGrade>, ()> {
        let t = s.trim().to_lowercase();
        let k = t
            .trim_end_matches("重大危险源")
            .trim_end_matches('级')
            .trim();
        Ok(Some(match k {
            "" | "无" | "否" | "none" | "no" | "0" | "-" | "/" => return Ok(None),
            "一" | "1" | "i" => HazardGrade::One,
            "二" | "2" | "ii" => HazardGrade::Two,
            "三" | "3" | "iii" => HazardGrade::Three,
            "四" | "4" | "iv" => HazardGrade::Four,
            _ => return Err(()),
        }))
    }

    pub fn zh(self) -> &'static str {
        match self {
            HazardGrade::One => "一级",
            HazardGrade::Two => "二级",
            HazardGrade::Three => "三级",
            HazardGrade::Four => "四级",
        }
    }

    /// The level this grade forces as a floor (domain.md §3).
    pub fn floor(self) -> Level {
        match self {
            HazardGrade::One => Level::Red,
            HazardGrade::Two => Level::Orange,
            HazardGrade::Three => Level::Yellow,
            HazardGrade::Four => Level::Blue,
        }
    }
}

/// Where a record came from, for rejects and reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceRef {
    pub file: String,
    /// 1-based line (CSV, header is line 1), sheet row (XLSX) or feature index (GeoJSON).
    pub line: usize,
}

/// A supervised enterprise as ingested (coordinates already in WGS84).
#[derive(Debug, Clone)]
pub struct Enterprise {
    pub id: String,
    pub name: String,
    pub credit_code: Option<String>,
    pub industry: Option<String>,
    /// District as written in the register (may be empty or wrong).
    pub district_stated: Option<String>,
    pub lon: f64,
    pub lat: f64,
    pub src_crs: Crs,
    pub direct_level: Option<Level>,
    pub major_hazard: Option<HazardGrade>,
    pub employees: Option<u32>,
    pub radius_m: Option<f64>,
    pub fatal_accident: bool,
    /// Has its own rescue team (救援队伍 有/无); None when the register does not say.
    pub own_team: Option<bool>,
    /// The rescue team it has an agreement with (救援协议单位).
    pub rescue_partner: Option<String>,
    /// Columns with no built-in meaning, carried to the outputs in file order.
    pub extra: Vec<(String, String)>,
    pub source: SourceRef,
    /// Index of the district the point lies in (or is nearest to, within tolerance).
    pub district: Option<usize>,
    /// Data-quality notes that did not reject the row.
    pub warnings: Vec<String>,
}

/// How a risk point was assessed.
#[derive(Debug, Clone, PartialEq)]
pub enum Method {
    Lec { l: f64, e: f64, c: f64 },
    Ls { l: f64, s: f64 },
    Mes { m: f64, e: f64, s: f64 },
    Direct(Level),
}

impl Method {
    pub fn name(&self) -> &'static str {
        match self {
            Method::Lec { .. } => "LEC",
            Method::Ls { .. } => "LS",
            Method::Mes { .. } => "MES",
            Method::Direct(_) => "direct",
        }
    }

    /// The method's score (D for LEC, R for LS and MES); none for a direct level.
    pub fn score(&self) -> Option<f64> {
        let v = match *self {
            Method::Lec { l, e, c } => l * e * c,
            Method::Ls { l, s } => l * s,
            Method::Mes { m, e, s } => m * e * s,
            Method::Direct(_) => return None,
        };
        // products of table values like 0.1 × 10 × 7 carry binary noise; 1e-6 is far below any band
        Some((v * 1e6).round() / 1e6)
    }

    /// Symbol of the score in reasons: D for LEC, R otherwise.
    pub fn score_symbol(&self) -> &'static str {
        match self {
            Method::Lec { .. } => "D",
            _ => "R",
        }
    }
}

/// One assessed risk point (风险点) of an enterprise.
#[derive(Debug, Clone)]
pub struct RiskPoint {
    pub enterprise_id: String,
    pub name: String,
    pub method: Method,
    pub level: Level,
    pub source: SourceRef,
}

/// Grade of a hidden danger (隐患).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DangerGrade {
    General,
    Major,
}

/// Rectification status of a hidden danger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DangerStatus {
    Open,
    InProgress,
    Closed,
}

impl DangerStatus {
    /// Not yet rectified (open or in progress).
    pub fn is_open(self) -> bool {
        !matches!(self, DangerStatus::Closed)
    }
    pub fn zh(self) -> &'static str {
        match self {
            DangerStatus::Open => "未整改",
            DangerStatus::InProgress => "整改中",
            DangerStatus::Closed => "已整改",
        }
    }
}

/// A hidden danger (隐患) found at an enterprise.
#[derive(Debug, Clone)]
pub struct HiddenDanger {
    pub id: String,
    pub enterprise_id: String,
    pub grade: DangerGrade,
    pub status: DangerStatus,
    pub description: Option<String>,
    pub source: SourceRef,
}

impl DangerGrade {
    pub fn parse(s: &str) -> Option<DangerGrade> {
        let t = s.trim().to_lowercase();
        let k = t
            .trim_end_matches("事故隐患")
            .trim_end_matches("隐患")
            .trim();
        match k {
            "一般" | "general" | "minor" | "普通" => Some(DangerGrade::General),
            "重大" | "major" => Some(DangerGrade::Major),
            _ => None,
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            DangerGrade::General => "一般隐患",
            DangerGrade::Major => "重大事故隐患",
        }
    }
}

impl DangerStatus {
    pub fn parse(s: &str) -> Option<DangerStatus> {
        let k = s.trim().to_lowercase().replace([' ', '_', '-'], "");
        match k.as_str() {
            "未整改" | "open" | "未完成" | "待整改" => Some(DangerStatus::Open),
            "整改中" | "inprogress" | "progress" | "rectifying" => {
                Some(DangerStatus::InProgress)
            }
            "已整改" | "closed" | "done" | "rectified" | "已完成" | "已销号" => {
                Some(DangerStatus::Closed)
            }
            _ => None,
        }
    }
}

/// Parse a yes/no cell (是/否, true/false, 1/0, y/n). Empty is no.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_lowercase().as_str() {
        "" | "否" | "无" | "false" | "no" | "n" | "0" => Some(false),
        "是" | "有" | "true" | "yes" | "y" | "1" => Some(true),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_types_in_offices_words() {
        use ResourceKind as K;
        for (w, k, c) in [
            ("消防站", K::FireStation, None),
            ("特勤消防站", K::FireStation, Some(FireClass::Special)),
            ("一级普通消防站", K::FireStation, Some(FireClass::First)),
            ("微型消防站", K::FireStation, Some(FireClass::Micro)),
            ("消防救援站", K::FireStation, None),
            ("矿山救护队", K::RescueTeam, None),
            ("国家危险化学品应急救援队", K::RescueTeam, None),
            ("医疗救援队", K::RescueTeam, None),
            ("企业专职救援队", K::EnterpriseTeam, None),
            ("社区志愿救援队", K::CommunityTeam, None),
            ("应急物资储备库", K::Depot, None),
            ("应急避难场所", K::Shelter, None),
            ("人民医院", K::Hospital, None),
            ("安全生产专家", K::Expert, None),
            ("fire_station", K::FireStation, None),
            ("Hospital", K::Hospital, None),
        ] {
            assert_eq!(ResourceKind::parse(w), Some((k, c)), "{w}");
        }
        assert_eq!(ResourceKind::parse("待定"), None);
        assert_eq!(ResourceKind::parse(""), None);
    }

    #[test]
    fn stock_as_written() {
        let s = parse_stock("帐篷 200 顶；棉被:500床、发电机×10台,柴油 1.5 吨\n若干手套");
        let v: Vec<(&str, Option<f64>, &str)> = s
            .iter()
            .map(|x| (x.item.as_str(), x.quantity, x.unit.as_str()))
            .collect();
        assert_eq!(
            v,
            [
                ("帐篷", Some(200.0), "顶"),
                ("棉被", Some(500.0), "床"),
                ("发电机", Some(10.0), "台"),
                ("柴油", Some(1.5), "吨"),
                ("若干手套", None, ""),
            ]
        );
        assert!(parse_stock(" ；、 ").is_empty());
    }

    #[test]
    fn level_words() {
        for (w, l) in [
            ("重大风险", Level::Red),
            ("较大", Level::Orange),
            ("一般风险", Level::Yellow),
            ("低", Level::Blue),
            ("RED", Level::Red),
            ("橙", Level::Orange),
            ("3", Level::Yellow),
            ("IV", Level::Blue),
            ("II", Level::Orange),
            // as offices write them (#31): Unicode Roman numerals, brackets, 企业, full width
            ("Ⅱ级", Level::Orange),
            ("Ⅰ", Level::Red),
            ("ⅳ级", Level::Blue),
            ("重大风险（红）", Level::Red),
            ("较大风险企业", Level::Orange),
            ("（黄）", Level::Yellow),
            ("黄色风险", Level::Yellow),
            ("３级", Level::Yellow),
            ("二级风险", Level::Orange),
            ("风险等级：低", Level::Blue),
            ("低风险（蓝色）", Level::Blue),
            ("Ｒｅｄ", Level::Red),
        ] {
            assert_eq!(Level::parse(w), Some(l), "{w}");
        }
        assert_eq!(Level::parse("高"), None);
        assert_eq!(Level::parse("5"), None);
        assert_eq!(Level::parse("Ⅴ级"), None);
        assert_eq!(Level::parse("（）"), None);
        assert_eq!(Level::parse(""), None);
        assert!(Level::Red > Level::Orange && Level::Yellow > Level::Blue);
    }

    #[test]
    fn hazard_words() {
        assert_eq!(HazardGrade::parse("一级"), Ok(Some(HazardGrade::One)));
        assert_eq!(
            HazardGrade::parse("三级重大危险源"),
            Ok(Some(HazardGrade::Three))
        );
        assert_eq!(HazardGrade::parse(""), Ok(None));
        assert_eq!(HazardGrade::parse("五级"), Err(()));
    }
}

/// A sensitive site (学校, 幼儿园, 医院, 养老院, 居民区, 人员密集场所 …).
#[derive(Debug, Clone)]
pub struct Site {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub population: Option<u32>,
    pub lon: f64,
    pub lat: f64,
    pub src_crs: Crs,
    pub source: SourceRef,
}

/// The kinds of emergency resource (应急资源), in the order they are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    /// 专业救援队伍 (国家/省/市级专业应急救援队伍, 矿山救护队, 危化救援队 …).
    RescueTeam,
    /// 企业救援队伍 (an enterprise's own full- or part-time team).
    EnterpriseTeam,
    /// 社区救援队伍 (community, township, volunteer teams).
    CommunityTeam,
    /// 消防站 (特勤站 / 一级站 / 二级站 / 小型站 / 微型消防站 as the subtype).
    FireStation,
    /// 应急物资库 with its stock.
    Depot,
    /// 避难场所 with its capacity.
    Shelter,
    /// 医院.
    Hospital,
    /// 专家 with their expertise.
    Expert,
}

impl ResourceKind {
    pub const ALL: [ResourceKind; 8] = [
        ResourceKind::RescueTeam,
        ResourceKind::EnterpriseTeam,
        ResourceKind::CommunityTeam,
        ResourceKind::FireStation,
        ResourceKind::Depot,
        ResourceKind::Shelter,
        ResourceKind::Hospital,
        ResourceKind::Expert,
    ];

    pub fn key(self) -> &'static str {
        match self {
            ResourceKind::RescueTeam => "rescue_team",
            ResourceKind::EnterpriseTeam => "enterprise_team",
            ResourceKind::CommunityTeam => "community_team",
            ResourceKind::FireStation => "fire_station",
            ResourceKind::Depot => "depot",
            ResourceKind::Shelter => "shelter",
            ResourceKind::Hospital => "hospital",
            ResourceKind::Expert => "expert",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            ResourceKind::RescueTeam => "专业救援队伍",
            ResourceKind::EnterpriseTeam => "企业救援队伍",
            ResourceKind::CommunityTeam => "社区救援队伍",
            ResourceKind::FireStation => "消防站",
            ResourceKind::Depot => "应急物资库",
            ResourceKind::Shelter => "避难场所",
            ResourceKind::Hospital => "医院",
            ResourceKind::Expert => "专家",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            ResourceKind::RescueTeam => "Professional rescue team",
            ResourceKind::EnterpriseTeam => "Enterprise rescue team",
            ResourceKind::CommunityTeam => "Community rescue team",
            ResourceKind::FireStation => "Fire station",
            ResourceKind::Depot => "Emergency supplies depot",
            ResourceKind::Shelter => "Emergency shelter",
            ResourceKind::Hospital => "Hospital",
            ResourceKind::Expert => "Expert",
        }
    }

    /// A key (`fire_station`) or its Chinese or English name.
    pub fn from_key(s: &str) -> Option<ResourceKind> {
        let t = s.trim();
        ResourceKind::ALL.into_iter().find(|k| {
            k.key().eq_ignore_ascii_case(t) || k.zh() == t || k.en().eq_ignore_ascii_case(t)
        })
    }

    /// The kind and the fire-station class a register's type text names: keys and names
    /// as above, and the words offices use ("特勤消防站", "矿山救护队", "应急物资储备库",
    /// "应急避难场所", "人民医院", "安全生产专家", "微型消防站" …).
    pub fn parse(s: &str) -> Option<(ResourceKind, Option<FireClass>)> {
        if let Some(k) = ResourceKind::from_key(s) {
            return Some((k, None));
        }
        let t: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_lowercase();
        if t.is_empty() {
            return None;
        }
        let has = |w: &[&str]| w.iter().any(|x| t.contains(x));
        // the fire service's rescue stations (消防救援站) are fire stations
        if has(&["消防站", "消防救援站", "消防中队", "fire"]) {
            return Some((ResourceKind::FireStation, FireClass::parse(&t)));
        }
        if has(&["物资", "储备库", "仓库", "depot", "warehouse", "stock"]) {
            return Some((ResourceKind::Depot, None));
        }
        if has(&["避难", "疏散场所", "shelter"]) {
            return Some((ResourceKind::Shelter, None));
        }
        // a medical rescue team (医疗救援队) is a team, not a hospital
        if has(&["医院", "卫生院", "急救中心", "医疗", "hospital"]) && !has(&["队", "team"])
        {
            return Some((ResourceKind::Hospital, None));
        }
        if has(&["专家", "expert"]) {
            return Some((ResourceKind::Expert, None));
        }
        if has(&["救援", "救护", "队", "rescue", "team"]) {
            if has(&["企业", "厂", "公司", "enterprise", "company"]) {
                return Some((ResourceKind::EnterpriseTeam, None));
            }
            if has(&[
                "社区",
                "街道",
                "乡镇",
                "村",
                "志愿",
                "community",
                "volunteer",
            ]) {
                return Some((ResourceKind::CommunityTeam, None));
            }
            return Some((ResourceKind::RescueTeam, None));
        }
        None
    }
}

/// A fire station's class (GB 51054-2014 城市消防站设计规范; 微型消防站 as the fire
/// service defines them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FireClass {
    /// 特勤站
    Special,
    /// 一级站 (普通消防站一级)
    First,
    /// 二级站
    Second,
    /// 小型站
    Small,
    /// 微型消防站
    Micro,
}

impl FireClass {
    pub fn zh(self) -> &'static str {
        match self {
            FireClass::Special => "特勤站",
            FireClass::First => "一级站",
            FireClass::Second => "二级站",
            FireClass::Small => "小型站",
            FireClass::Micro => "微型消防站",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            FireClass::Special => "special",
            FireClass::First => "first",
            FireClass::Second => "second",
            FireClass::Small => "small",
            FireClass::Micro => "micro",
        }
    }

    pub fn parse(s: &str) -> Option<FireClass> {
        let t: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_lowercase();
        let has = |w: &[&str]| w.iter().any(|x| t.contains(x));
        if has(&["特勤", "special"]) {
            Some(FireClass::Special)
        } else if has(&["微型", "micro"]) {
            Some(FireClass::Micro)
        } else if has(&["小型", "small"]) {
            Some(FireClass::Small)
        } else if has(&["二级", "2级", "second"]) {
            Some(FireClass::Second)
        } else if has(&["一级", "1级", "first"]) {
            Some(FireClass::First)
        } else {
            None
        }
    }
}

/// An emergency resource (应急资源).
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub id: String,
    pub name: String,
    pub kind: ResourceKind,
    /// The class of a fire station.
    pub fire_class: Option<FireClass>,
    /// The type as the register wrote it (e.g. 矿山救护队).
    pub kind_stated: String,
    pub owner: Option<String>,
    pub contact: Option<String>,
    /// Team members, shelter places, hospital beds … as the register gives it.
    pub capacity: Option<f64>,
    /// A depot's stock: (item, quantity, unit) in the register's order.
    pub stock: Vec<StockItem>,
    /// An expert's field.
    pub expertise: Option<String>,
    pub lon: f64,
    pub lat: f64,
    pub src_crs: Crs,
    pub source: SourceRef,
}

/// One line of a depot's stock.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StockItem {
    pub item: String,
    pub quantity: Option<f64>,
    pub unit: String,
}

/// A depot's stock as offices write it: items separated by `;`, `；`, `、`, `,`, `，` or
/// new lines, each "帐篷 200 顶", "帐篷:200顶", "棉被×500床" or just a name. Items whose
/// quantity cannot be read keep their text as the name.
pub fn parse_stock(s: &str) -> Vec<StockItem> {
    s.split(|c| matches!(c, ';' | '；' | '、' | ',' | '，' | '\n' | '\r' | '|'))
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(|x| {
            // the first digit starts the quantity; the rest after the number is the unit
            let Some(d) = x.find(|c: char| c.is_ascii_digit()) else {
                return StockItem {
                    item: x.to_string(),
                    quantity: None,
                    unit: String::new(),
                };
            };
            let (name, rest) = x.split_at(d);
            let name = name
                .trim()
                .trim_end_matches([':', '：', '×', 'x', 'X', '*', '='])
                .trim();
            let end = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(rest.len());
            let q = rest[..end].parse::<f64>().ok();
            let unit = rest[end..].trim();
            if name.is_empty() || q.is_none() {
                StockItem {
                    item: x.to_string(),
                    quantity: None,
                    unit: String::new(),
                }
            } else {
                StockItem {
                    item: name.to_string(),
                    quantity: q,
                    unit: unit.to_string(),
                }
            }
        })
        .collect()
}

/// The industry of an enterprise without one.
pub const UNCLASSIFIED: &str = "未分类";

/// A value per level.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Radii {
    pub red: f64,
    pub orange: f64,
    pub yellow: f64,
    pub blue: f64,
}

impl Default for Radii {
    fn default() -> Self {
        Radii {
            red: 1000.0,
            orange: 500.0,
            yellow: 300.0,
            blue: 100.0,
        }
    }
}

impl Radii {
    pub fn get(&self, l: crate::model::Level) -> f64 {
        use crate::model::Level::*;
        match l {
            Red => self.red,
            Orange => self.orange,
            Yellow => self.yellow,
            Blue => self.blue,
        }
    }
    pub fn max(&self) -> f64 {
        self.red.max(self.orange).max(self.yellow).max(self.blue)
    }
}

/// Counts per level class (red, orange, yellow, blue, unassessed).
pub type Counts = [usize; 5];

/// The kinds of city lifeline (城市生命线, #27 §2), in the order they are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LifelineKind {
    /// 燃气管道 (city gas mains, by pressure class).
    Gas,
    /// 长输油气管道 (long-distance oil and gas pipelines, 石油天然气管道保护法).
    Pipeline,
    /// 高压输电线路 (overhead power lines, by voltage; 电力设施保护条例).
    Power,
    /// 供水管道.
    Water,
    /// 供热管道.
    Heating,
}

impl LifelineKind {
    pub const ALL: [LifelineKind; 5] = [
        LifelineKind::Gas,
        LifelineKind::Pipeline,
        LifelineKind::Power,
        LifelineKind::Water,
        LifelineKind::Heating,
    ];

    pub fn key(self) -> &'static str {
        match self {
            LifelineKind::Gas => "gas",
            LifelineKind::Pipeline => "pipeline",
            LifelineKind::Power => "power",
            LifelineKind::Water => "water",
            LifelineKind::Heating => "heating",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            LifelineKind::Gas => "燃气管道",
            LifelineKind::Pipeline => "长输油气管道",
            LifelineKind::Power => "高压输电线路",
            LifelineKind::Water => "供水管道",
            LifelineKind::Heating => "供热管道",
        }
    }

    /// The kind a cell names, in the words owners' registers use ("天然气长输管道",
    /// "110kV 架空线", "自来水管") or English. A long-distance line is told from a city
    /// main by 长输 / 输油 / 输气 / 原油 / 成品油 / 油气, before the gas words match.
    pub fn parse(s: &str) -> Option<LifelineKind> {
        let t = s.trim().to_lowercase();
        if t.is_empty() {
            return None;
        }
        let any = |ws: &[&str]| ws.iter().any(|w| t.contains(w));
        if let Some(k) = LifelineKind::ALL.into_iter().find(|k| t == k.key()) {
            return Some(k);
        }
        if any(&[
            "长输",
            "输油",
            "输气",
            "原油",
            "成品油",
            "油气",
            "pipeline",
            "oil",
        ]) {
            Some(LifelineKind::Pipeline)
        } else if any(&["燃气", "天然气", "煤气", "液化气", "gas"]) {
            Some(LifelineKind::Gas)
        } else if any(&["电", "kv", "千伏", "架空", "power", "electric"]) {
            Some(LifelineKind::Power)
        } else if any(&["供水", "给水", "自来水", "水管", "输水", "water"]) {
            Some(LifelineKind::Water)
        } else if any(&["供热", "热力", "供暖", "蒸汽", "heat"]) {
            Some(LifelineKind::Heating)
        } else {
            None
        }
    }
}

/// City gas pressure classes (GB 50028-2006 城镇燃气设计规范 表 6.1.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GasPressure {
    /// 低压 P < 0.01 MPa.
    Low,
    /// 中压 B 0.01 ≤ P ≤ 0.2 MPa.
    MediumB,
    /// 中压 A 0.2 < P ≤ 0.4 MPa.
    MediumA,
    /// 次高压 B 0.4 < P ≤ 0.8 MPa.
    SubHighB,
    /// 次高压 A 0.8 < P ≤ 1.6 MPa.
    SubHighA,
    /// 高压 B 1.6 < P ≤ 2.5 MPa.
    HighB,
    /// 高压 A 2.5 < P ≤ 4.0 MPa (and above: 高压及以上).
    HighA,
}

impl GasPressure {
    pub fn zh(self) -> &'static str {
        match self {
            GasPressure::Low => "低压",
            GasPressure::MediumB => "中压B",
            GasPressure::MediumA => "中压A",
            GasPressure::SubHighB => "次高压B",
            GasPressure::SubHighA => "次高压A",
            GasPressure::HighB => "高压B",
            GasPressure::HighA => "高压A",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            GasPressure::Low => "low",
            GasPressure::MediumB => "medium_b",
            GasPressure::MediumA => "medium_a",
            GasPressure::SubHighB => "sub_high_b",
            GasPressure::SubHighA => "sub_high_a",
            GasPressure::HighB => "high_b",
            GasPressure::HighA => "high_a",
        }
    }

    /// The group CJJ 51-2016 §3.1.3 sets protection ranges for: low and medium, sub-high,
    /// high and above.
    pub fn group(self) -> GasGroup {
        match self {
            GasPressure::Low | GasPressure::MediumB | GasPressure::MediumA => GasGroup::LowMedium,
            GasPressure::SubHighB | GasPressure::SubHighA => GasGroup::SubHigh,
            GasPressure::HighB | GasPressure::HighA => GasGroup::High,
        }
    }

    /// The class of a design pressure in MPa (GB 50028 表 6.1.6).
    pub fn from_mpa(p: f64) -> Option<GasPressure> {
        if !(p.is_finite() && p >= 0.0) {
            return None;
        }
        Some(if p < 0.01 {
            GasPressure::Low
        } else if p <= 0.2 {
            GasPressure::MediumB
        } else if p <= 0.4 {
            GasPressure::MediumA
        } else if p <= 0.8 {
            GasPressure::SubHighB
        } else if p <= 1.6 {
            GasPressure::SubHighA
        } else if p <= 2.5 {
            GasPressure::HighB
        } else {
            GasPressure::HighA
        })
    }

    /// A class as registers write it: 中压A, 中压 A 级, 次高压, 高压B, "0.4MPa", "0.4",
    /// "medium-A". A class named without A/B (中压, 次高压, 高压) takes its higher half,
    /// so the zone is never narrower than the line needs.
    pub fn parse(s: &str) -> Option<GasPressure> {
        let t: String = s
            .trim()
            .to_lowercase()
            .chars()
            .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '_' | '级'))
            .collect();
        if t.is_empty() {
            return None;
        }
        let num: String = t
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        if !num.is_empty() {
            let v: f64 = num.parse().ok()?;
            let rest = &t[num.len()..];
            let mpa = match rest {
                "" | "mpa" | "兆帕" => v,
                "kpa" | "千帕" => v / 1000.0,
                _ => return None,
            };
            return GasPressure::from_mpa(mpa);
        }
        let b = t.ends_with('b');
        let pick = |a: GasPressure, bb: GasPressure| if b { bb } else { a };
        if t.starts_with("次高") || t.starts_with("subhigh") {
            Some(pick(GasPressure::SubHighA, GasPressure::SubHighB))
        } else if t.starts_with("中") || t.starts_with("medium") || t.starts_with("m") {
            Some(pick(GasPressure::MediumA, GasPressure::MediumB))
        } else if t.starts_with("高") || t.starts_with("high") {
            Some(pick(GasPressure::HighA, GasPressure::HighB))
        } else if t.starts_with("低") || t.starts_with("low") {
            Some(GasPressure::Low)
        } else {
            None
        }
    }
}

/// The pressure groups with their own protection ranges (CJJ 51-2016 §3.1.3–3.1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GasGroup {
    LowMedium,
    SubHigh,
    High,
}

/// A voltage as registers write it: "110kV", "110 千伏", "500", "10KV", "380V".
/// A bare number is kilovolts unless it is 1000 or more with a V (volts).
pub fn parse_voltage_kv(s: &str) -> Option<f64> {
    let t: String = s
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let start = t.find(|c: char| c.is_ascii_digit())?;
    let num: String = t[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let v: f64 = num.parse().ok()?;
    let rest = &t[start + num.len()..];
    let kv = if rest.starts_with("kv") || rest.starts_with("千伏") || rest.is_empty() {
        v
    } else if rest.starts_with('v') || rest.starts_with("伏") {
        v / 1000.0
    } else {
        v
    };
    (kv.is_finite() && kv > 0.0).then_some(kv)
}

/// A city lifeline (城市生命线) as read: its centre line in WGS84.
#[derive(Debug, Clone)]
pub struct Lifeline {
    pub id: String,
    pub name: Option<String>,
    pub kind: LifelineKind,
    /// The kind as the file wrote it.
    pub kind_stated: String,
    /// A gas main's pressure class.
    pub pressure: Option<GasPressure>,
    /// A power line's voltage in kV.
    pub voltage_kv: Option<f64>,
    pub owner: Option<String>,
    /// Half the line's own width in metres, from which zones are measured: half a pipe's
    /// outside diameter (管壁外缘), half the spread of a power line's outer conductors
    /// (导线边线); 0 when the row does not say (the zone is measured from the line drawn).
    pub body_m: f64,
    /// A protection width given on the row (保护范围), overriding the configured one.
    pub protect_m: Option<f64>,
    /// A control width given on the row (控制范围), overriding the configured one.
    pub control_m: Option<f64>,
    /// WGS84 centre line (each part at least two positions).
    pub line: geo::MultiLineString<f64>,
    pub src_crs: Crs,
    pub source: SourceRef,
    /// What the row left unsaid that the zone's width depends on.
    pub warnings: Vec<String>,
}
