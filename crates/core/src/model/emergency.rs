//! Emergency command's model (#27): the resources (rescue teams, fire stations, depots,
//! shelters, hospitals, experts) and the city lifelines with their kinds, gas pressure
//! classes and voltages.

use super::SourceRef;
use crate::crs::Crs;
use serde::{Deserialize, Serialize};

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
        let t = super::word_key(s);
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
        let t = super::word_key(s);
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
