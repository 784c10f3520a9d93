//! The domain objects every stage shares: levels, enterprises, risk points, hidden dangers.

use crate::crs::Crs;
use serde::{Deserialize, Serialize};

mod emergency;
mod monitoring;
mod roads;
pub use emergency::*;
pub use monitoring::*;
pub use roads::*;
use std::fmt;

/// A word from a register as the parsers compare it: without any whitespace, lower-case
/// ("消防 站" and "Fire Station" → "消防站", "firestation").
pub(crate) fn word_key(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

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
