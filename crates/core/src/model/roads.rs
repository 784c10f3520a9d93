//! The road network emergency vehicles drive on (#27 §1): each road a line with its
//! class (道路等级) and, where known, its speed; travel times and the fire stations'
//! reach are measured along it.

use super::SourceRef;
use crate::crs::Crs;
use serde::{Deserialize, Serialize};

/// A road's class, as Chinese road registers and OpenStreetMap name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoadClass {
    /// 高速公路 (motorway).
    Motorway,
    /// 城市快速路 (trunk).
    Expressway,
    /// 主干路, 国道, 省道 (primary).
    Arterial,
    /// 次干路, 县道 (secondary, tertiary).
    Secondary,
    /// 支路, 乡道, 村道, 街巷 (residential, service, unclassified).
    Local,
}

impl RoadClass {
    pub const ALL: [RoadClass; 5] = [
        RoadClass::Motorway,
        RoadClass::Expressway,
        RoadClass::Arterial,
        RoadClass::Secondary,
        RoadClass::Local,
    ];

    pub fn key(self) -> &'static str {
        match self {
            RoadClass::Motorway => "motorway",
            RoadClass::Expressway => "expressway",
            RoadClass::Arterial => "arterial",
            RoadClass::Secondary => "secondary",
            RoadClass::Local => "local",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            RoadClass::Motorway => "高速公路",
            RoadClass::Expressway => "快速路",
            RoadClass::Arterial => "主干路",
            RoadClass::Secondary => "次干路",
            RoadClass::Local => "支路",
        }
    }

    /// The class an owner's word names (高速, 快速路, 主干道, 国道, 县道, 支路, 村道 …;
    /// OpenStreetMap's highway tags too).
    pub fn parse(s: &str) -> Option<RoadClass> {
        let t = super::word_key(s);
        if t.is_empty() {
            return None;
        }
        if let Some(c) = RoadClass::ALL.iter().find(|c| c.key() == t || c.zh() == t) {
            return Some(*c);
        }
        let has = |w: &[&str]| w.iter().any(|w| t.contains(w));
        if has(&["高速", "motorway"]) {
            return Some(RoadClass::Motorway);
        }
        if has(&["快速", "trunk", "expressway"]) {
            return Some(RoadClass::Expressway);
        }
        if has(&["主干", "国道", "省道", "primary", "arterial"]) {
            return Some(RoadClass::Arterial);
        }
        if has(&["次干", "县道", "secondary", "tertiary"]) {
            return Some(RoadClass::Secondary);
        }
        if has(&[
            "支路",
            "乡道",
            "村道",
            "街",
            "巷",
            "小区",
            "residential",
            "service",
            "unclassified",
            "living_street",
            "local",
            "track",
        ]) {
            return Some(RoadClass::Local);
        }
        None
    }
}

/// One road of the network (coordinates in WGS84).
#[derive(Debug, Clone)]
pub struct Road {
    pub id: String,
    pub name: Option<String>,
    pub class: RoadClass,
    /// Its own speed (限速 / 设计速度), km/h; else the class's from `[roads]`.
    pub speed_kmh: Option<f64>,
    /// Drivable only in the direction it is drawn (单行).
    pub oneway: bool,
    pub line: geo::MultiLineString<f64>,
    pub src_crs: Crs,
    pub source: SourceRef,
}
