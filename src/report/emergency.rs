//! The report's emergency-command sections (#27): coverage gaps by district, the
//! enterprises near city lifelines, the riskiest lifeline segments.

use super::{Cell, Table};
use crate::analyze::Analysis;
use crate::model::level_zh;
use crate::pipeline::Dataset;
use std::collections::BTreeMap;

/// Emergency coverage by district (#27): enterprises, the red and orange ones with
/// neither their own rescue team nor an agreement (缺少救援力量), those outside every fire
/// station's reach, and the nearest fire station's median straight-line distance.
pub fn coverage_by_district(ds: &Dataset, an: &Analysis) -> Option<Table> {
    let em = an.emergency.as_ref()?;
    // (enterprises, no team, outside reach, distances to the nearest station)
    let mut by: BTreeMap<String, (usize, usize, usize, Vec<f64>)> = BTreeMap::new();
    let fire = em
        .kinds
        .iter()
        .position(|k| k.kind == crate::model::ResourceKind::FireStation);
    for i in 0..ds.enterprises.len() {
        let d = ds
            .district_of(i)
            .map(|d| d.0.to_string())
            .unwrap_or_else(|| "（区县外）".into());
        let e = by.entry(d).or_default();
        e.0 += 1;
        if em.no_team.binary_search(&i).is_ok() {
            e.1 += 1;
        }
        if em.is_outside(i) {
            e.2 += 1;
        }
        if let Some(h) = fire
            .and_then(|k| em.nearest[i].get(k))
            .and_then(|v| v.first())
        {
            e.3.push(h.distance_m);
        }
    }
    let mut rows: Vec<(String, (usize, usize, usize, Vec<f64>))> = by.into_iter().collect();
    rows.sort_by(|a, b| {
        (b.1 .1 + b.1 .2)
            .cmp(&(a.1 .1 + a.1 .2))
            .then(a.0.cmp(&b.0))
    });
    let rows = rows
        .into_iter()
        .map(|(d, (n, team, out, mut dist))| {
            dist.sort_by(f64::total_cmp);
            let median = dist.get(dist.len() / 2).copied();
            vec![
                d.into(),
                n.into(),
                team.into(),
                out.into(),
                median
                    .map(|m| Cell::Num(m, 0))
                    .unwrap_or(Cell::Text(String::new())),
            ]
        })
        .collect();
    let reach = em.reach_m.round();
    Some(Table {
        name: "coverage",
        title: format!("应急救援覆盖缺口（按区县；消防站到达范围为直线 {reach} 米）"),
        header: vec![
            "区县",
            "企业数",
            "重大/较大风险企业无救援队伍且无救援协议",
            "位于所有消防站到达范围外",
            "距最近消防站中位数(m，直线)",
        ],
        rows,
    })
}

/// Enterprises in a lifeline's protection or control zone, or whose influence radius
/// reaches one (#27 §2): the seeds' 临近油气管道、高压输电线路 cases, protection zone first.
pub fn lifeline_enterprises(ds: &Dataset, an: &Analysis) -> Option<Table> {
    let ll = an.lifelines.as_ref()?;
    let mut v: Vec<(usize, &crate::analyze::lifelines::LineHit)> = ll
        .flagged()
        .flat_map(|(i, hs)| hs.iter().map(move |h| (i, h)))
        .collect();
    v.sort_by_key(|(i, h)| {
        (
            !h.in_protect,
            !h.in_control,
            std::cmp::Reverse(ds.grades[*i].level),
            ds.enterprises[*i].id.clone(),
        )
    });
    let rows = v
        .iter()
        .map(|(i, h)| {
            let e = &ds.enterprises[*i];
            let l = &ds.lifelines[h.lifeline];
            vec![
                e.id.clone().into(),
                e.name.clone().into(),
                level_zh(ds.grades[*i].level).into(),
                ds.district_of(*i)
                    .map(|d| d.0.to_string())
                    .unwrap_or_default()
                    .into(),
                l.kind.zh().into(),
                l.name.clone().unwrap_or_else(|| l.id.clone()).into(),
                h.zh().into(),
                Cell::Num(h.distance_m, 1),
            ]
        })
        .collect();
    Some(Table {
        name: "lifeline_enterprises",
        title: "临近城市生命线的企业（位于保护/控制范围内，或影响半径覆盖管线）".into(),
        header: vec![
            "企业编号",
            "企业名称",
            "风险等级",
            "区县",
            "管线类型",
            "管线",
            "关系",
            "距中心线(m)",
        ],
        rows,
    })
}

/// The lifeline segments most at risk (the first 30 of the ranking).
pub fn lifeline_segments(ds: &Dataset, an: &Analysis) -> Option<Table> {
    let ll = an.lifelines.as_ref()?;
    let near = ll.near_m;
    let rows = ll
        .ranking()
        .into_iter()
        .take(30)
        .map(|si| {
            let s = &ll.segments[si];
            let l = &ds.lifelines[s.lifeline];
            let mut row: Vec<Cell> = vec![
                s.rank.into(),
                format!("{}-{}", l.id, s.ordinal).into(),
                l.name.clone().unwrap_or_else(|| l.id.clone()).into(),
                l.kind.zh().into(),
                level_zh(s.level).into(),
            ];
            row.extend(s.near[..4].iter().map(|&n| Cell::from(n as usize)));
            row.push(s.sites.len().into());
            row
        })
        .collect();
    Some(Table {
        name: "lifeline_segments",
        title: format!("风险最高的生命线管段（周边 {near} 米内的企业）"),
        header: vec![
            "排名",
            "管段",
            "管线",
            "类型",
            "最高等级",
            "重大",
            "较大",
            "一般",
            "低",
            "敏感目标",
        ],
        rows,
    })
}

/// 重大危险源监测预警 (#27 §3): the points in alarm and the silent ones at the end of the
/// readings (the build's replay), most severe first.
pub fn monitoring_alarms(ds: &Dataset, an: &Analysis) -> Option<Table> {
    let rp = an.monitoring.as_ref()?;
    let m = &rp.monitor;
    let name_of = |id: &str| {
        ds.enterprises
            .iter()
            .find(|e| e.id == id)
            .map(|e| e.name.clone())
            .unwrap_or_default()
    };
    let mut rows: Vec<Vec<Cell>> = m
        .active(None)
        .into_iter()
        .map(|a| {
            let c = a.cause.as_ref();
            vec![
                a.enterprise.clone().into(),
                name_of(&a.enterprise).into(),
                a.name.clone().unwrap_or_else(|| a.point.clone()).into(),
                a.quantity_zh.to_string().into(),
                a.severity_zh.to_string().into(),
                c.map(|c| format!("{} {}", c.value, a.unit))
                    .unwrap_or_default()
                    .into(),
                c.map(|c| format!("{} {}", c.threshold, a.unit))
                    .unwrap_or_default()
                    .into(),
                a.since.clone().into(),
            ]
        })
        .collect();
    rows.extend(m.faults(rp.now_ms, None).into_iter().map(|f| {
        vec![
            f.enterprise.clone().into(),
            name_of(&f.enterprise).into(),
            f.name.clone().unwrap_or_else(|| f.point.clone()).into(),
            f.quantity_zh.to_string().into(),
            "离线".to_string().into(),
            String::new().into(),
            String::new().into(),
            f.last.clone().unwrap_or_else(|| "从未上报".into()).into(),
        ]
    }));
    let as_of = riskmap_core::model::format_time(rp.now_ms, m.config().utc_offset_min());
    Some(Table {
        name: "monitoring_alarms",
        title: format!(
            "截至 {as_of} 的监测报警与离线测点（{} 个监测点）",
            m.points().len()
        ),
        header: vec![
            "企业编号",
            "企业名称",
            "测点",
            "监测类型",
            "状态",
            "触发值",
            "报警值",
            "开始 / 最后数据",
        ],
        rows,
    })
}
