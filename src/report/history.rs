//! What changed since the last assessment. Every `build` keeps a snapshot of its graded
//! register in `output/history/NNNN_DATE.json` (numbered in run order; a run identical to
//! the last one adds none; the newest `[report] history_keep` are kept), and the report
//! compares the register with the newest snapshot that differs from it — or with another
//! output folder / snapshot given by `riskmap report --since`.

use super::{Cell, Table, LEVELS, LEVEL_COLS};
use crate::model::{level_key, level_zh, Level};
use crate::pipeline::Dataset;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One enterprise as graded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapEnterprise {
    pub id: String,
    pub name: String,
    pub district: Option<String>,
    pub industry: Option<String>,
    /// red / orange / yellow / blue / unassessed
    pub level: String,
    pub reason_zh: String,
}

/// One hidden danger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapDanger {
    pub id: String,
    pub enterprise_id: String,
    pub grade: String,
    pub open: bool,
}

/// A graded register at one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub data_date: Option<String>,
    pub enterprises: Vec<SnapEnterprise>,
    pub dangers: Vec<SnapDanger>,
}

impl Snapshot {
    pub fn of(ds: &Dataset) -> Snapshot {
        Snapshot {
            data_date: ds.data_date.clone(),
            enterprises: ds
                .enterprises
                .iter()
                .enumerate()
                .map(|(i, e)| SnapEnterprise {
                    id: e.id.clone(),
                    name: e.name.clone(),
                    district: ds.district_of(i).map(|d| d.0.to_string()),
                    industry: e.industry.clone(),
                    level: level_key(ds.grades[i].level).to_string(),
                    reason_zh: ds.grades[i].reason_zh.clone(),
                })
                .collect(),
            dangers: ds
                .dangers
                .iter()
                .map(|h| SnapDanger {
                    id: h.id.clone(),
                    enterprise_id: h.enterprise_id.clone(),
                    grade: h.grade.zh().to_string(),
                    open: h.status.is_open(),
                })
                .collect(),
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// A snapshot from an older output folder without history: its enterprises.geojson
    /// (levels and reasons; no hidden-danger ids).
    pub fn from_geojson(path: &Path) -> Result<Snapshot, String> {
        let v: serde_json::Value = serde_json::from_slice(
            &std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?,
        )
        .map_err(|e| format!("{}: {e}", path.display()))?;
        let s = |p: &serde_json::Value, k: &str| p[k].as_str().map(str::to_string);
        let enterprises = v["features"]
            .as_array()
            .ok_or_else(|| format!("{}: not a FeatureCollection", path.display()))?
            .iter()
            .map(|f| {
                let p = &f["properties"];
                SnapEnterprise {
                    id: s(p, "id").unwrap_or_default(),
                    name: s(p, "name").unwrap_or_default(),
                    district: s(p, "district"),
                    industry: s(p, "industry"),
                    level: s(p, "level").unwrap_or_else(|| "unassessed".into()),
                    reason_zh: s(p, "reason_zh").unwrap_or_default(),
                }
            })
            .collect();
        Ok(Snapshot {
            data_date: None,
            enterprises,
            dangers: vec![],
        })
    }
}

/// The snapshots in `dir/history`, oldest first.
pub fn list(out: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(out.join("history"))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.extension().is_some_and(|x| x == "json")
                        && p.file_name()
                            .is_some_and(|n| n.to_string_lossy().as_bytes()[0].is_ascii_digit())
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn read(p: &Path) -> Result<Snapshot, String> {
    serde_json::from_slice(&std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?)
        .map_err(|e| format!("{}: not a riskmap history snapshot: {e}", p.display()))
}

/// The newest snapshot in `out/history` that differs from `current`, with its file name.
pub fn previous(out: &Path, current: &Snapshot) -> Option<(String, Snapshot)> {
    list(out).iter().rev().find_map(|p| {
        let s = read(p).ok()?;
        (s != *current).then(|| {
            (
                p.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .to_string(),
                s,
            )
        })
    })
}

/// What `--since` names: a snapshot file, an output folder with history, or an output
/// folder with only enterprises.geojson.
pub fn since(path: &Path, current: &Snapshot) -> Result<(String, Snapshot), String> {
    if path.is_file() {
        return read(path).map(|s| (path.display().to_string(), s));
    }
    if let Some(p) = previous(path, current).or_else(|| {
        list(path)
            .last()
            .and_then(|p| read(p).ok().map(|s| (p.display().to_string(), s)))
    }) {
        return Ok((format!("{} ({})", path.display(), p.0), p.1));
    }
    let g = path.join("enterprises.geojson");
    if g.exists() {
        return Snapshot::from_geojson(&g).map(|s| (g.display().to_string(), s));
    }
    let p = path.display();
    Err(riskmap_core::tr!(
        "{p}：既不是历史快照，也不是输出目录（没有 history/，也没有 enterprises.geojson）",
        "{p}: neither a history snapshot nor an output folder (no history/ and no enterprises.geojson)"
    ))
}

/// The name the snapshot of this run gets, unless it equals the newest one (then none).
pub fn next_name(out: &Path, current: &Snapshot) -> Option<String> {
    let all = list(out);
    if let Some(last) = all.last() {
        if read(last).ok().as_ref() == Some(current) {
            return None;
        }
    }
    let seq = all
        .iter()
        .filter_map(|p| {
            p.file_name()?
                .to_string_lossy()
                .split('_')
                .next()?
                .parse::<u32>()
                .ok()
        })
        .max()
        .unwrap_or(0)
        + 1;
    let date: String = current
        .data_date
        .as_deref()
        .unwrap_or("undated")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    Some(format!("history/{seq:04}_{date}.json"))
}

/// Delete all but the newest `keep` snapshots.
pub fn prune(out: &Path, keep: usize) {
    let all = list(out);
    if all.len() > keep {
        for p in &all[..all.len() - keep] {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// One changed enterprise or hidden danger.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// 升级 / 降级 / 新增 / 移除 / 隐患新增 / 隐患销号
    pub kind: &'static str,
    pub id: String,
    pub name: String,
    pub district: String,
    pub old_level: String,
    pub new_level: String,
    pub old_reason: String,
    pub new_reason: String,
}

/// Every change against a previous snapshot, with per-level and per-district deltas.
#[derive(Debug, Clone)]
pub struct Changes {
    pub since: String,
    pub since_date: Option<String>,
    pub items: Vec<Change>,
    /// Per level (display order): before, after.
    pub levels: [(usize, usize); 5],
    /// Per district: name, before, after.
    pub districts: Vec<(String, [usize; 5], [usize; 5])>,
}

fn slot_of(key: &str) -> usize {
    ["red", "orange", "yellow", "blue", "unassessed"]
        .iter()
        .position(|k| *k == key)
        .unwrap_or(4)
}

fn zh_of(key: &str) -> &'static str {
    level_zh(LEVELS[slot_of(key)])
}

/// Compare `old` → `new`.
pub fn diff(since: String, old: &Snapshot, new: &Snapshot) -> Changes {
    let o: BTreeMap<&str, &SnapEnterprise> =
        old.enterprises.iter().map(|e| (e.id.as_str(), e)).collect();
    let n: BTreeMap<&str, &SnapEnterprise> =
        new.enterprises.iter().map(|e| (e.id.as_str(), e)).collect();
    let rank = |k: &str| 5 - slot_of(k); // red 5 … unassessed 1
    let mut items = vec![];
    for (id, e) in &n {
        match o.get(id) {
            None => items.push(Change {
                kind: "新增",
                id: id.to_string(),
                name: e.name.clone(),
                district: e.district.clone().unwrap_or_default(),
                old_level: String::new(),
                new_level: zh_of(&e.level).into(),
                old_reason: String::new(),
                new_reason: e.reason_zh.clone(),
            }),
            Some(p) if p.level != e.level => items.push(Change {
                kind: if rank(&e.level) > rank(&p.level) {
                    "升级"
                } else {
                    "降级"
                },
                id: id.to_string(),
                name: e.name.clone(),
                district: e.district.clone().unwrap_or_default(),
                old_level: zh_of(&p.level).into(),
                new_level: zh_of(&e.level).into(),
                old_reason: p.reason_zh.clone(),
                new_reason: e.reason_zh.clone(),
            }),
            _ => {}
        }
    }
    for (id, p) in &o {
        if !n.contains_key(id) {
            items.push(Change {
                kind: "移除",
                id: id.to_string(),
                name: p.name.clone(),
                district: p.district.clone().unwrap_or_default(),
                old_level: zh_of(&p.level).into(),
                new_level: String::new(),
                old_reason: p.reason_zh.clone(),
                new_reason: String::new(),
            });
        }
    }
    // hidden dangers: open now and not open before → opened; open before, not now → closed
    let od: BTreeMap<&str, &SnapDanger> = old.dangers.iter().map(|d| (d.id.as_str(), d)).collect();
    let nd: BTreeMap<&str, &SnapDanger> = new.dangers.iter().map(|d| (d.id.as_str(), d)).collect();
    let ent_name = |eid: &str| {
        n.get(eid)
            .or_else(|| o.get(eid))
            .map(|e| (e.name.clone(), e.district.clone().unwrap_or_default()))
    };
    if !old.dangers.is_empty() || old.enterprises.is_empty() {
        for (id, d) in &nd {
            let was_open = od.get(id).is_some_and(|x| x.open);
            if d.open && !was_open {
                let (name, district) = ent_name(&d.enterprise_id).unwrap_or_default();
                items.push(Change {
                    kind: "隐患新增",
                    id: id.to_string(),
                    name: format!("{name}（{}，{}隐患）", d.enterprise_id, d.grade),
                    district,
                    old_level: if od.contains_key(id) {
                        "已整改".into()
                    } else {
                        String::new()
                    },
                    new_level: "未整改".into(),
                    old_reason: String::new(),
                    new_reason: String::new(),
                });
            }
        }
        for (id, d) in &od {
            let now_open = nd.get(id).is_some_and(|x| x.open);
            if d.open && !now_open {
                let (name, district) = ent_name(&d.enterprise_id).unwrap_or_default();
                items.push(Change {
                    kind: "隐患销号",
                    id: id.to_string(),
                    name: format!("{name}（{}，{}隐患）", d.enterprise_id, d.grade),
                    district,
                    old_level: "未整改".into(),
                    new_level: if nd.contains_key(id) {
                        "已整改".into()
                    } else {
                        "已移除".into()
                    },
                    old_reason: String::new(),
                    new_reason: String::new(),
                });
            }
        }
    }
    let order = |k: &str| {
        ["升级", "降级", "新增", "移除", "隐患新增", "隐患销号"]
            .iter()
            .position(|x| *x == k)
            .unwrap_or(9)
    };
    items.sort_by(|a, b| order(a.kind).cmp(&order(b.kind)).then(a.id.cmp(&b.id)));
    let mut levels = [(0usize, 0usize); 5];
    for e in &old.enterprises {
        levels[slot_of(&e.level)].0 += 1;
    }
    for e in &new.enterprises {
        levels[slot_of(&e.level)].1 += 1;
    }
    let mut by_d: BTreeMap<String, ([usize; 5], [usize; 5])> = BTreeMap::new();
    for e in &old.enterprises {
        by_d.entry(e.district.clone().unwrap_or_default())
            .or_default()
            .0[slot_of(&e.level)] += 1;
    }
    for e in &new.enterprises {
        by_d.entry(e.district.clone().unwrap_or_default())
            .or_default()
            .1[slot_of(&e.level)] += 1;
    }
    Changes {
        since,
        since_date: old.data_date.clone(),
        items,
        levels,
        districts: by_d.into_iter().map(|(k, (a, b))| (k, a, b)).collect(),
    }
}

impl Changes {
    /// changes.csv / the changes sheet.
    pub fn table(&self) -> Table {
        Table {
            name: "changes",
            title: format!(
                "变化情况（与 {} 相比）",
                self.since_date.as_deref().unwrap_or(&self.since)
            ),
            header: vec![
                "变化",
                "编号",
                "名称",
                "区县",
                "原等级/状态",
                "现等级/状态",
                "原定级理由",
                "现定级理由",
            ],
            rows: self
                .items
                .iter()
                .map(|c| {
                    vec![
                        c.kind.into(),
                        c.id.clone().into(),
                        c.name.clone().into(),
                        c.district.clone().into(),
                        c.old_level.clone().into(),
                        c.new_level.clone().into(),
                        c.old_reason.clone().into(),
                        c.new_reason.clone().into(),
                    ]
                })
                .collect(),
        }
    }

    /// Per-district and per-level deltas.
    pub fn district_table(&self) -> Table {
        let delta = |a: usize, b: usize| Cell::Int(b as i64 - a as i64);
        let mut rows: Vec<Vec<Cell>> = self
            .districts
            .iter()
            .filter(|(_, a, b)| a != b)
            .map(|(name, a, b)| {
                let mut r: Vec<Cell> = vec![if name.is_empty() {
                    "（区外）".into()
                } else {
                    name.clone().into()
                }];
                r.extend((0..5).map(|k| delta(a[k], b[k])));
                r
            })
            .collect();
        let mut total: Vec<Cell> = vec!["全市".into()];
        total.extend(self.levels.iter().map(|&(a, b)| delta(a, b)));
        rows.push(total);
        let mut header = vec!["区县"];
        header.extend(LEVEL_COLS);
        Table {
            name: "changes_by_district",
            title: "各区县、各等级企业数变化（现 − 原）".into(),
            header,
            rows,
        }
    }

    pub fn count(&self, kind: &str) -> usize {
        self.items.iter().filter(|c| c.kind == kind).count()
    }
}

/// Level of a snapshot entry (for callers comparing).
pub fn level_of_key(k: &str) -> Option<Level> {
    LEVELS[slot_of(k)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::level_slot;

    fn ent(id: &str, level: &str) -> SnapEnterprise {
        SnapEnterprise {
            id: id.into(),
            name: format!("企业{id}"),
            district: Some("历下区".into()),
            industry: None,
            level: level.into(),
            reason_zh: format!("理由{level}"),
        }
    }

    #[test]
    fn slots_agree_with_the_model() {
        for l in LEVELS {
            assert_eq!(slot_of(level_key(l)), level_slot(l));
        }
    }

    #[test]
    fn diff_finds_each_kind_of_change() {
        let d = |id: &str, open: bool| SnapDanger {
            id: id.into(),
            enterprise_id: "A".into(),
            grade: "重大".into(),
            open,
        };
        let old = Snapshot {
            data_date: Some("2026-10-01".into()),
            enterprises: vec![
                ent("A", "orange"),
                ent("B", "red"),
                ent("C", "blue"),
                ent("D", "yellow"),
            ],
            dangers: vec![d("H1", true), d("H2", false)],
        };
        let new = Snapshot {
            data_date: Some("2026-11-01".into()),
            enterprises: vec![
                ent("A", "red"),
                ent("B", "yellow"),
                ent("D", "yellow"),
                ent("E", "blue"),
            ],
            dangers: vec![d("H1", false), d("H2", true), d("H3", true)],
        };
        let c = diff("x".into(), &old, &new);
        let kinds: Vec<(&str, &str)> = c.items.iter().map(|i| (i.kind, i.id.as_str())).collect();
        assert_eq!(
            kinds,
            [
                ("升级", "A"),
                ("降级", "B"),
                ("新增", "E"),
                ("移除", "C"),
                ("隐患新增", "H2"),
                ("隐患新增", "H3"),
                ("隐患销号", "H1")
            ]
        );
        assert_eq!(c.items[0].old_level, "较大风险");
        assert_eq!(c.items[0].new_level, "重大风险");
        assert_eq!(c.levels[0], (1, 1));
        assert_eq!(c.levels[3], (1, 1));
    }
}
