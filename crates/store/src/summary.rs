//! summary.json (machine-readable counts, input hashes, config hash, version) and the
//! summary printed at the end of a run.

use riskmap_core::dataset::Dataset;
use riskmap_core::model::{level_slot, LEVEL_KEYS};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

pub use riskmap_core::model::Counts;

fn counts_json(c: &Counts) -> Value {
    let mut m = Map::new();
    for (k, v) in LEVEL_KEYS.iter().zip(c) {
        m.insert(k.to_string(), json!(v));
    }
    m.insert("total".into(), json!(c.iter().sum::<usize>()));
    Value::Object(m)
}

/// Per-level counts overall, per district and per industry.
pub struct Tally {
    pub total: Counts,
    pub by_district: BTreeMap<String, Counts>,
    pub by_industry: BTreeMap<String, Counts>,
    pub rejects_by_reason: BTreeMap<&'static str, usize>,
    /// Rejects beyond the readers' (the readings the alarm engine refused).
    pub later_rejects: usize,
}

impl Tally {
    /// Count rejects made after reading (each a refused row: a reading).
    pub fn add_rejects(&mut self, rs: &[riskmap_core::ingest::Reject]) {
        for r in rs {
            *self.rejects_by_reason.entry(r.kind.code()).or_default() += 1;
        }
        self.later_rejects += rs.len();
    }
}

/// Name used for enterprises outside every district.
pub const NO_DISTRICT: &str = "(无区县)";
/// Name used for enterprises with no industry.
pub const NO_INDUSTRY: &str = "(未填行业)";

pub fn tally(ds: &Dataset) -> Tally {
    let mut t = Tally {
        total: [0; 5],
        by_district: BTreeMap::new(),
        by_industry: BTreeMap::new(),
        rejects_by_reason: BTreeMap::new(),
        later_rejects: 0,
    };
    for (i, e) in ds.enterprises.iter().enumerate() {
        let s = level_slot(ds.grades[i].level);
        t.total[s] += 1;
        let d = ds
            .district_of(i)
            .map(|(n, _)| n.to_string())
            .unwrap_or_else(|| NO_DISTRICT.to_string());
        t.by_district.entry(d).or_insert([0; 5])[s] += 1;
        let ind = e
            .industry
            .clone()
            .unwrap_or_else(|| NO_INDUSTRY.to_string());
        t.by_industry.entry(ind).or_insert([0; 5])[s] += 1;
    }
    for d in &ds.districts.districts {
        t.by_district.entry(d.name.clone()).or_insert([0; 5]);
    }
    for r in &ds.rejects {
        *t.rejects_by_reason.entry(r.kind.code()).or_default() += 1;
    }
    t
}

/// The summary object; `extra` sections from later stages are appended.
pub fn summary_json(
    ds: &Dataset,
    t: &Tally,
    outputs: &[String],
    extra: Map<String, Value>,
) -> Value {
    let mut by_d = Map::new();
    for (k, c) in &t.by_district {
        by_d.insert(k.clone(), counts_json(c));
    }
    let mut by_i = Map::new();
    for (k, c) in &t.by_industry {
        by_i.insert(k.clone(), counts_json(c));
    }
    let rows_rejected: usize =
        ds.inputs.iter().map(|i| i.rows_rejected).sum::<usize>() + t.later_rejects;
    let open: usize = ds.grades.iter().map(|g| g.open_hidden_dangers).sum();
    let open_major: usize = ds.grades.iter().map(|g| g.open_major_hidden_dangers).sum();
    let warned = ds
        .enterprises
        .iter()
        .filter(|e| !e.warnings.is_empty())
        .count();
    let mut rules: BTreeMap<&str, usize> = BTreeMap::new();
    for g in &ds.grades {
        *rules.entry(g.rule).or_default() += 1;
    }
    let mut v = json!({
        "tool": "riskmap",
        "version": env!("CARGO_PKG_VERSION"),
        "title": ds.title,
        "data_date": ds.data_date,
        "config_sha256": ds.config_sha256,
        "region": {"kind": region_kind(ds), "bbox": ds.region_bbox.iter().map(|v| super::round(*v, 6)).collect::<Vec<_>>()},
        "inputs": ds.inputs,
        "warnings": ds.warnings,
        "enterprises": {
            "by_level": counts_json(&t.total),
            "by_district": by_d,
            "by_industry": by_i,
            "decided_by_rule": rules,
            "with_warnings": warned,
        },
        "hidden_dangers": {"open": open, "open_major": open_major},
        "rejects": {"rows": rows_rejected, "issues": ds.rejects.len() + t.later_rejects, "by_reason": t.rejects_by_reason},
        "outputs": outputs,
    });
    if let Some(o) = v.as_object_mut() {
        o.extend(extra);
    }
    v
}

fn region_kind(ds: &Dataset) -> &'static str {
    match ds.region {
        riskmap_core::ingest::Region::Bbox(_) => "bbox",
        riskmap_core::ingest::Region::Polygon(_) => "polygon",
        riskmap_core::ingest::Region::Districts { .. } => "districts",
        riskmap_core::ingest::Region::Open => "points",
    }
}

/// An input's role as the console names it.
fn role_name(role: &str) -> String {
    match role {
        "enterprises" => riskmap_core::tr!("企业名录", "enterprises"),
        "assessments" => riskmap_core::tr!("风险点", "assessments"),
        "hazards" => riskmap_core::tr!("隐患", "hazards"),
        "sites" => riskmap_core::tr!("敏感目标", "sites"),
        "resources" => riskmap_core::tr!("应急资源", "resources"),
        "lifelines" => riskmap_core::tr!("城市生命线", "lifelines"),
        "roads" => riskmap_core::tr!("路网", "roads"),
        "monitoring_points" => riskmap_core::tr!("监测点", "monitoring points"),
        "readings" => riskmap_core::tr!("监测数据", "readings"),
        "boundaries" => riskmap_core::tr!("区县边界", "boundaries"),
        other => other.to_string(),
    }
}

/// `s` padded with spaces to `width` terminal columns (a CJK character takes two).
fn pad(s: &str, width: usize) -> String {
    let w: usize = s
        .chars()
        .map(|c| {
            if c >= '\u{1100}' && (c <= '\u{115f}' || c >= '\u{2e80}') {
                2
            } else {
                1
            }
        })
        .sum();
    format!("{s}{}", " ".repeat(width.saturating_sub(w)))
}

fn row(name: &str, c: &Counts) -> String {
    format!(
        "  {} {:>7} {:>7} {:>7} {:>7} {:>7} {:>8}\n",
        pad(name, 14),
        c[0],
        c[1],
        c[2],
        c[3],
        c[4],
        c.iter().sum::<usize>()
    )
}

/// The human summary printed after a run.
pub fn summary_text(ds: &Dataset, t: &Tally) -> String {
    let mut s = String::new();
    s.push_str(&format!("{}\n", ds.title));
    for i in &ds.inputs {
        let (role, file, format) = (role_name(i.role), &i.file, &i.format);
        let (n, ok, bad) = (i.rows_read, i.rows_accepted, i.rows_rejected);
        s.push_str(&riskmap_core::tr!(
            "  读取{role:<6} {file}（{format}）：{n} 行，接受 {ok}，拒绝 {bad}\n",
            "  read {role:<11} {file} ({format}): {n} rows, {ok} accepted, {bad} rejected\n"
        ));
    }
    for w in &ds.warnings {
        s.push_str(&riskmap_core::tr!("  警告：{w}\n", "  warning: {w}\n"));
    }
    if !t.rejects_by_reason.is_empty() {
        s.push_str(&riskmap_core::tr!(
            "被拒绝的行（详见 rejects.csv）：\n",
            "rejected (see rejects.csv):\n"
        ));
        for (k, v) in &t.rejects_by_reason {
            s.push_str(&format!("  {k:<26} {v}\n"));
        }
    }
    s.push_str(&riskmap_core::tr!(
        "各等级企业数        重大    较大    一般      低  未评估     合计\n",
        "enterprises per level    red  orange  yellow    blue  unass.    total\n"
    ));
    s.push_str(&row(&riskmap_core::tr!("全部", "all"), &t.total));
    s.push_str(&riskmap_core::tr!("各区县：\n", "per district:\n"));
    for (k, c) in &t.by_district {
        s.push_str(&row(k, c));
    }
    let open_major: usize = ds.grades.iter().map(|g| g.open_major_hidden_dangers).sum();
    s.push_str(&riskmap_core::tr!(
        "未整改的重大事故隐患：{open_major}\n",
        "open major hidden dangers: {open_major}\n"
    ));
    s
}

/// What a generation was built from, as its summary.json says.
pub struct Built {
    pub config_sha256: String,
    /// Each input's role and SHA-256, in the order read.
    pub inputs: Vec<(String, String)>,
}

/// The summary.json of the generation in `dir` (None: it has none).
pub fn built_from(dir: &std::path::Path) -> Option<Built> {
    let v: Value = serde_json::from_slice(&std::fs::read(dir.join("summary.json")).ok()?).ok()?;
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    Some(Built {
        config_sha256: s(&v["config_sha256"]),
        inputs: v["inputs"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| (s(&i["role"]), s(&i["sha256"])))
            .collect(),
    })
}

/// Whether the outputs in `dir` (a generation folder) were built from the inputs `ds`
/// read: the `inputs` of its summary.json against `ds.inputs`, role and SHA-256. `Ok`
/// when they match or `dir` has no summary yet; else the files that differ.
pub fn same_inputs(ds: &Dataset, dir: &std::path::Path) -> Result<(), Vec<String>> {
    let Some(b) = built_from(dir) else {
        return Ok(());
    };
    let built: Vec<(&str, &str)> = b
        .inputs
        .iter()
        .map(|(r, h)| (r.as_str(), h.as_str()))
        .collect();
    let now: Vec<(&str, &str)> = ds
        .inputs
        .iter()
        .map(|i| (i.role, i.sha256.as_str()))
        .collect();
    if built == now {
        return Ok(());
    }
    let mut changed: Vec<String> = ds
        .inputs
        .iter()
        .filter(|i| !built.contains(&(i.role, i.sha256.as_str())))
        .map(|i| i.file.clone())
        .collect();
    if changed.is_empty() {
        changed.push("the list of input files".into());
    }
    Err(changed)
}
