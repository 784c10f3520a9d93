//! Monitoring of major hazard sources (重大危险源 实时监测, #27 §3): the points a DCS/SIS
//! or an online monitoring system reads, their quantities and alarm thresholds, and the
//! readings.

use serde::{Deserialize, Serialize};

/// What a monitoring point measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantity {
    /// 可燃气体浓度, %LEL.
    Combustible,
    /// 有毒气体浓度, ppm.
    Toxic,
    /// 液位 (m or %).
    Level,
    /// 压力 (MPa).
    Pressure,
    /// 温度 (℃).
    Temperature,
}

impl Quantity {
    pub const ALL: [Quantity; 5] = [
        Quantity::Combustible,
        Quantity::Toxic,
        Quantity::Level,
        Quantity::Pressure,
        Quantity::Temperature,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Quantity::Combustible => "combustible",
            Quantity::Toxic => "toxic",
            Quantity::Level => "level",
            Quantity::Pressure => "pressure",
            Quantity::Temperature => "temperature",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Quantity::Combustible => "可燃气体浓度",
            Quantity::Toxic => "有毒气体浓度",
            Quantity::Level => "液位",
            Quantity::Pressure => "压力",
            Quantity::Temperature => "温度",
        }
    }

    /// The unit a value is in when the point does not say.
    pub fn unit(self) -> &'static str {
        match self {
            Quantity::Combustible => "%LEL",
            Quantity::Toxic => "ppm",
            Quantity::Level => "m",
            Quantity::Pressure => "MPa",
            Quantity::Temperature => "℃",
        }
    }

    /// The quantity an owner's word names (可燃气体, %LEL, 储罐液位, 釜内压力, 温度,
    /// H2S, ppm …; English too).
    pub fn parse(s: &str) -> Option<Quantity> {
        let t = super::word_key(s);
        if t.is_empty() {
            return None;
        }
        if let Some(q) = Quantity::ALL.iter().find(|q| q.key() == t) {
            return Some(*q);
        }
        let has = |w: &[&str]| w.iter().any(|w| t.contains(w));
        // toxic before combustible: "有毒可燃气体" is a toxic gas detector's job too, and
        // H2S, CO, NH3, Cl2 are named by formula
        if has(&[
            "有毒",
            "毒性",
            "toxic",
            "ppm",
            "h2s",
            "硫化氢",
            "氨气",
            "氯气",
            "一氧化碳",
            "光气",
        ]) {
            return Some(Quantity::Toxic);
        }
        if has(&[
            "可燃",
            "lel",
            "combustible",
            "燃气浓度",
            "甲烷",
            "ch4",
            "爆炸下限",
        ]) {
            return Some(Quantity::Combustible);
        }
        if has(&["液位", "level", "液面"]) {
            return Some(Quantity::Level);
        }
        if has(&["压力", "pressure", "mpa", "kpa"]) {
            return Some(Quantity::Pressure);
        }
        if has(&["温度", "temperature", "temp", "℃"]) {
            return Some(Quantity::Temperature);
        }
        None
    }
}

/// A monitoring point (监测点位) of an enterprise's major hazard source.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MonitoringPoint {
    pub id: String,
    /// The enterprise's id in the register.
    pub enterprise: String,
    pub quantity: Quantity,
    /// 点位名称 / 位号 (e.g. "1#罐区 LT-101").
    pub name: Option<String>,
    /// The unit of its values (the quantity's when not given).
    pub unit: String,
    /// 高报 (first-level alarm) threshold, if set on the point.
    pub high: Option<f64>,
    /// 高高报 (second-level alarm) threshold, if set on the point.
    pub high_high: Option<f64>,
    pub source: super::SourceRef,
}

/// One reading of a monitoring point.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub point: String,
    /// The enterprise the reading says it is from (checked against the point's).
    pub enterprise: Option<String>,
    /// The quantity the reading says it is (checked against the point's).
    pub quantity: Option<Quantity>,
    pub value: f64,
    /// Milliseconds since the Unix epoch.
    pub time_ms: i64,
    /// Where it came from: file and line (or key), `POST /api/readings` and its index.
    pub file: String,
    pub line: String,
    /// The source's header of each field (`point` → 测点编号 …), shared by its readings:
    /// a refusal names the column as the file does.
    pub columns: std::sync::Arc<Vec<(&'static str, String)>>,
}

impl Reading {
    /// The source's header of a field (the field's name where the source has none).
    pub fn column<'a>(&'a self, field: &'a str) -> &'a str {
        self.columns
            .iter()
            .find(|(f, _)| *f == field)
            .map_or(field, |(_, h)| h.as_str())
    }
}

/// Parse a reading's time as monitoring systems export it: `2026-12-07 10:05:00`,
/// `2026/12/7 10:05`, `2026-12-07T10:05:00.250+08:00`, `…Z`, or a Unix time in seconds
/// or milliseconds. A time without an offset is local time `utc_offset_min` minutes
/// east of UTC (China: +480). Milliseconds since the epoch; `None` if not a time.
///
/// Hand-written: humantime reads only `Z` times, and a date library for one format
/// family is a heavy dependency.
pub fn parse_time(s: &str, utc_offset_min: i32) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        let n: i64 = s.parse().ok()?;
        // 10 digits: seconds (until 2286); 13: milliseconds
        return match s.len() {
            9 | 10 => Some(n * 1000),
            12 | 13 => Some(n),
            _ => None,
        };
    }
    let (date, rest) = match s.find(['T', 't', ' ']) {
        Some(i) => (&s[..i], s[i + 1..].trim_start()),
        None => (s, ""),
    };
    let mut d = date.split(['-', '/', '.']);
    let y: i64 = d.next()?.parse().ok()?;
    let mo: i64 = d.next()?.parse().ok()?;
    let da: i64 = d.next()?.parse().ok()?;
    if d.next().is_some() || !(1970..=9999).contains(&y) || !(1..=12).contains(&mo) {
        return None;
    }
    let dim = [
        31,
        28 + leap(y) as i64,
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ][mo as usize - 1];
    if !(1..=dim).contains(&da) {
        return None;
    }
    // the offset at the end: Z, +08:00, +0800, +08
    let (clock, offset_min) = if let Some(c) = rest.strip_suffix(['Z', 'z']) {
        (c, 0)
    } else if let Some(i) = rest.rfind(['+', '-']).filter(|&i| i > 0) {
        let (c, o) = (&rest[..i], &rest[i..]);
        let sign = if o.starts_with('-') { -1 } else { 1 };
        let digits: String = o[1..].chars().filter(|c| *c != ':').collect();
        if !digits.bytes().all(|b| b.is_ascii_digit()) || !(digits.len() == 2 || digits.len() == 4)
        {
            return None;
        }
        let h: i32 = digits[..2].parse().ok()?;
        let m: i32 = if digits.len() == 4 {
            digits[2..].parse().ok()?
        } else {
            0
        };
        if h > 14 || m > 59 {
            return None;
        }
        (c, sign * (h * 60 + m))
    } else {
        (rest, utc_offset_min)
    };
    let clock = clock.trim();
    let (mut hh, mut mi, mut ms) = (0i64, 0i64, 0i64);
    if !clock.is_empty() {
        let mut c = clock.split(':');
        hh = c.next()?.parse().ok()?;
        mi = c.next()?.parse().ok()?;
        if let Some(sec) = c.next() {
            let (whole, frac) = sec.split_once(['.', ',']).unwrap_or((sec, ""));
            let whole: i64 = whole.parse().ok()?;
            if whole > 60 || !frac.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let frac3: String = frac.chars().chain("000".chars()).take(3).collect();
            ms = whole * 1000 + frac3.parse::<i64>().ok()?;
        }
        if c.next().is_some() || hh > 23 || mi > 59 {
            return None;
        }
    }
    let days = days_from_civil(y, mo, da);
    Some(((days * 24 + hh) * 60 + mi - offset_min as i64) * 60_000 + ms)
}

fn leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A time as `2026-12-07 10:05:00` in local time `utc_offset_min` east of UTC (the
/// inverse of [`parse_time`] for display; milliseconds dropped).
pub fn format_time(ms: i64, utc_offset_min: i32) -> String {
    let secs = ms.div_euclid(1000) + utc_offset_min as i64 * 60;
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // civil_from_days (H. Hinnant)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + (m <= 2) as i64;
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_as_systems_write_them() {
        // 2026-12-07 02:05:00 UTC
        let t = 1_796_609_100_000;
        assert_eq!(parse_time("2026-12-07 10:05:00", 480), Some(t));
        assert_eq!(parse_time("2026/12/7 10:05", 480), Some(t));
        assert_eq!(parse_time("2026-12-07T02:05:00Z", 480), Some(t));
        assert_eq!(parse_time("2026-12-07T10:05:00+08:00", 0), Some(t));
        assert_eq!(parse_time("2026-12-07T10:05:00.250+0800", 0), Some(t + 250));
        assert_eq!(parse_time("1796609100", 480), Some(t));
        assert_eq!(parse_time("1796609100000", 480), Some(t));
        assert_eq!(format_time(t, 480), "2026-12-07 10:05:00");
        for bad in [
            "",
            "yesterday",
            "2026-13-01 00:00",
            "2026-02-29 00:00",
            "2026-12-07 24:00",
            "12345",
        ] {
            assert_eq!(parse_time(bad, 480), None, "{bad}");
        }
        assert!(parse_time("2024-02-29 00:00", 480).is_some());
    }

    #[test]
    fn quantities_in_owners_words() {
        assert_eq!(Quantity::parse("可燃气体浓度"), Some(Quantity::Combustible));
        assert_eq!(Quantity::parse("%LEL"), Some(Quantity::Combustible));
        assert_eq!(Quantity::parse("硫化氢"), Some(Quantity::Toxic));
        assert_eq!(Quantity::parse("有毒气体 ppm"), Some(Quantity::Toxic));
        assert_eq!(Quantity::parse("储罐液位"), Some(Quantity::Level));
        assert_eq!(Quantity::parse("釜内压力"), Some(Quantity::Pressure));
        assert_eq!(Quantity::parse("Temperature"), Some(Quantity::Temperature));
        assert_eq!(Quantity::parse("流量"), None);
    }
}
