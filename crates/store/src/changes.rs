//! The change feed's log: what each generation changed against the one before it, kept
//! as `changes/NNNNNN.json` in the output folder (carried from generation to generation,
//! the newest `KEEP` kept) for `/api/changes?since=…`, `/api/events` and the alerts.

use serde::{Deserialize, Serialize};
use std::path::Path;

/// How many generations' change records are kept.
pub const KEEP: usize = 500;

/// One change between two generations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Item {
    /// level_up, level_down, added, removed, danger_opened, danger_closed,
    /// district_level, zones
    pub kind: String,
    /// 升级, 降级, 新增, 移除, 隐患新增, 隐患销号, 区县等级变化, 风险区变化
    pub kind_zh: String,
    /// The enterprise's id (or the hidden danger's, for danger_*).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
    /// The enterprise a hidden danger belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_id: Option<String>,
    /// The level before and after (red / orange / yellow / blue / unassessed / none),
    /// or for a hidden danger its grade (一般 / 重大).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade: Option<String>,
    /// Why the enterprise has its new level (定级依据).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_zh: Option<String>,
    /// Zones: the level's area before and after, km².
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub km2: Option<[f64; 2]>,
}

/// An alert a rule raised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// The rule's name (`[[alerts]] name`).
    pub rule: String,
    /// enterprise_red, major_danger_opened, district_up, reds_in_district
    pub kind: String,
    pub message_zh: String,
    pub message: String,
    /// The ids (enterprises, hidden dangers or the district) it is about.
    pub about: Vec<String>,
}

/// What one generation changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub generation: u64,
    /// The generation it is compared with (None: the first).
    pub previous: Option<u64>,
    /// When it was switched in (RFC 3339, UTC).
    pub time: String,
    /// build, update, watch
    pub by: String,
    /// Whether only the tiles the changes touch were drawn again.
    pub incremental: bool,
    pub items: Vec<Item>,
    pub alerts: Vec<Alert>,
}

fn name(generation: u64) -> String {
    format!("{generation:06}.json")
}

/// Write `e` into the generation folder being staged (`dir/changes/`), dropping the
/// records past [`KEEP`] that it carried.
pub fn write(dir: &Path, e: &Entry) -> std::io::Result<()> {
    let d = dir.join("changes");
    std::fs::create_dir_all(&d)?;
    let bytes = serde_json::to_vec_pretty(e).map_err(std::io::Error::other)?;
    crate::atomic::write_atomic(&d.join(name(e.generation)), &bytes)?;
    let mut all = list(dir);
    if all.len() > KEEP {
        all.truncate(all.len() - KEEP);
        for g in all {
            let _ = std::fs::remove_file(d.join(name(g)));
        }
    }
    Ok(())
}

/// The generations with a change record in `dir`, oldest first.
pub fn list(dir: &Path) -> Vec<u64> {
    let mut v: Vec<u64> = std::fs::read_dir(dir.join("changes"))
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| {
                    let n = e.file_name().to_string_lossy().to_string();
                    n.strip_suffix(".json")?.parse().ok()
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort_unstable();
    v
}

/// The records of `dir` after generation `since` (all with None), oldest first.
pub fn read_since(dir: &Path, since: Option<u64>) -> Vec<Entry> {
    list(dir)
        .into_iter()
        .filter(|&g| since.is_none_or(|s| g > s))
        .filter_map(|g| {
            let b = std::fs::read(dir.join("changes").join(name(g))).ok()?;
            serde_json::from_slice(&b).ok()
        })
        .collect()
}
