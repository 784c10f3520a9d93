//! The fields each input knows, their Chinese and English header aliases, and the mapping
//! of a file's headers onto them.

use super::IngestError;
use std::collections::BTreeMap;

/// A field of an input table.
#[derive(Debug)]
pub struct FieldDef {
    /// Canonical name, used in `[section.columns]` and in outputs.
    pub name: &'static str,
    /// Header spellings recognised without configuration (compared normalised).
    pub aliases: &'static [&'static str],
    pub required: bool,
}

const fn f(name: &'static str, aliases: &'static [&'static str], required: bool) -> FieldDef {
    FieldDef {
        name,
        aliases,
        required,
    }
}

pub const ENTERPRISE_FIELDS: &[FieldDef] = &[
    f(
        "id",
        &[
            "id",
            "企业编号",
            "编号",
            "企业id",
            "enterprise_id",
            "code",
            "企业代码",
        ],
        true,
    ),
    f(
        "credit_code",
        &[
            "credit_code",
            "统一社会信用代码",
            "信用代码",
            "uscc",
            "社会信用代码",
        ],
        false,
    ),
    f(
        "name",
        &[
            "name",
            "企业名称",
            "名称",
            "单位名称",
            "enterprise",
            "company",
        ],
        true,
    ),
    f(
        "lon",
        &["lon", "lng", "long", "longitude", "经度", "x"],
        true,
    ),
    f("lat", &["lat", "latitude", "纬度", "y"], true),
    f(
        "industry",
        &["industry", "行业", "行业类别", "所属行业", "行业类型"],
        false,
    ),
    f(
        "district",
        &[
            "district",
            "所属区县",
            "区县",
            "所在区县",
            "行政区",
            "区域",
            "county",
        ],
        false,
    ),
    f(
        "level",
        &["level", "风险等级", "风险级别", "等级", "risk_level"],
        false,
    ),
    f(
        "major_hazard",
        &[
            "major_hazard",
            "重大危险源等级",
            "重大危险源",
            "重大危险源级别",
            "hazard_grade",
        ],
        false,
    ),
    f(
        "employees",
        &["employees", "从业人数", "职工人数", "员工人数", "staff"],
        false,
    ),
    f("crs", &["crs", "坐标系", "坐标系统", "srs", "datum"], false),
    f(
        "radius",
        &[
            "radius",
            "影响半径",
            "影响半径m",
            "influence_radius",
            "radius_m",
        ],
        false,
    ),
    f(
        "fatal_accident",
        &["fatal_accident", "近12个月死亡事故", "死亡事故", "fatal"],
        false,
    ),
    // emergency command (#27): the enterprise's own rescue team (有/无) and the rescue
    // team it has an agreement with
    f(
        "own_team",
        &[
            "own_team",
            "救援队伍",
            "自有救援队伍",
            "有无救援队伍",
            "专职救援队伍",
            "rescue_team",
        ],
        false,
    ),
    f(
        "rescue_partner",
        &[
            "rescue_partner",
            "救援协议单位",
            "协议救援队伍",
            "救援协议队伍",
            "救援协议",
            "agreement",
        ],
        false,
    ),
];

pub const ASSESSMENT_FIELDS: &[FieldDef] = &[
    f(
        "id",
        &["id", "风险点编号", "评价编号", "编号", "point_id"],
        false,
    ),
    f(
        "enterprise_id",
        &[
            "enterprise_id",
            "企业编号",
            "企业id",
            "统一社会信用代码",
            "enterprise",
            "企业代码",
        ],
        true,
    ),
    f(
        "point",
        &[
            "point",
            "risk_point",
            "风险点",
            "风险点名称",
            "风险点位",
            "名称",
            "name",
        ],
        false,
    ),
    f("method", &["method", "评价方法", "方法", "评估方法"], true),
    f(
        "l",
        &["l", "可能性", "事故发生的可能性", "likelihood"],
        false,
    ),
    f("e", &["e", "暴露频率", "频繁程度", "exposure"], false),
    f("c", &["c", "后果", "consequence"], false),
    f("s", &["s", "严重性", "严重程度", "severity"], false),
    f("m", &["m", "控制措施", "管控措施状态", "control"], false),
    f("level", &["level", "风险等级", "等级", "风险级别"], false),
];

pub const HAZARD_FIELDS: &[FieldDef] = &[
    f(
        "id",
        &["id", "隐患编号", "编号", "hazard_id", "danger_id"],
        false,
    ),
    f(
        "enterprise_id",
        &[
            "enterprise_id",
            "企业编号",
            "企业id",
            "统一社会信用代码",
            "enterprise",
            "企业代码",
        ],
        true,
    ),
    f(
        "grade",
        &[
            "grade",
            "隐患等级",
            "隐患级别",
            "等级",
            "级别",
            "hazard_grade",
        ],
        true,
    ),
    f("status", &["status", "整改状态", "状态", "治理状态"], true),
    f(
        "description",
        &["description", "隐患描述", "描述", "内容", "隐患内容"],
        false,
    ),
];

pub const SITE_FIELDS: &[FieldDef] = &[
    f("id", &["id", "编号", "site_id"], false),
    f("name", &["name", "名称", "场所名称", "单位名称"], true),
    f("type", &["type", "类型", "场所类型", "类别", "kind"], true),
    f(
        "lon",
        &["lon", "lng", "long", "longitude", "经度", "x"],
        true,
    ),
    f("lat", &["lat", "latitude", "纬度", "y"], true),
    f(
        "population",
        &["population", "人数", "人口", "容纳人数"],
        false,
    ),
    f("crs", &["crs", "坐标系", "坐标系统", "srs"], false),
];

/// Emergency resources (#27): rescue teams, fire stations, depots, shelters, hospitals,
/// experts.
pub const RESOURCE_FIELDS: &[FieldDef] = &[
    f("id", &["id", "编号", "资源编号", "resource_id"], false),
    f(
        "name",
        &[
            "name",
            "名称",
            "资源名称",
            "单位名称",
            "队伍名称",
            "站点名称",
            "姓名",
        ],
        true,
    ),
    f(
        "type",
        &["type", "类型", "资源类型", "类别", "资源类别", "kind"],
        true,
    ),
    f(
        "subtype",
        &["subtype", "级别", "等级", "站级", "消防站类别", "class"],
        false,
    ),
    f(
        "owner",
        &[
            "owner",
            "所属单位",
            "隶属单位",
            "主管单位",
            "管理单位",
            "工作单位",
        ],
        false,
    ),
    f(
        "contact",
        &[
            "contact",
            "联系方式",
            "联系电话",
            "值班电话",
            "电话",
            "phone",
        ],
        false,
    ),
    f(
        "capacity",
        &[
            "capacity",
            "容量",
            "容纳人数",
            "队员人数",
            "人数",
            "床位数",
            "床位",
            "规模",
        ],
        false,
    ),
    f(
        "stock",
        &["stock", "物资", "储备物资", "物资清单", "储备", "items"],
        false,
    ),
    f(
        "expertise",
        &["expertise", "专业", "专业领域", "擅长领域", "specialty"],
        false,
    ),
    f(
        "lon",
        &["lon", "lng", "long", "longitude", "经度", "x"],
        true,
    ),
    f("lat", &["lat", "latitude", "纬度", "y"], true),
    f("crs", &["crs", "坐标系", "坐标系统", "srs"], false),
];

/// City lifelines (城市生命线, #27 §2): a line per row, its geometry from GeoJSON, the
/// database, or a WKT column of a CSV or sheet.
pub const LIFELINE_FIELDS: &[FieldDef] = &[
    f(
        "id",
        &[
            "id",
            "编号",
            "管线编号",
            "线路编号",
            "管道编号",
            "lifeline_id",
        ],
        false,
    ),
    f(
        "name",
        &["name", "名称", "管线名称", "线路名称", "管道名称"],
        false,
    ),
    f(
        "type",
        &[
            "type",
            "类型",
            "管线类型",
            "管线类别",
            "类别",
            "种类",
            "kind",
        ],
        true,
    ),
    f(
        "pressure",
        &[
            "pressure",
            "压力级制",
            "压力等级",
            "压力级别",
            "设计压力",
            "压力",
        ],
        false,
    ),
    f("voltage", &["voltage", "电压等级", "电压", "kv"], false),
    f(
        "owner",
        &[
            "owner",
            "权属单位",
            "管理单位",
            "运营单位",
            "产权单位",
            "所属单位",
        ],
        false,
    ),
    f(
        "diameter",
        &["diameter", "管径", "外径", "dn", "diameter_mm"],
        false,
    ),
    f(
        "span",
        &["span", "边导线间距", "导线间距", "线路宽度", "span_m"],
        false,
    ),
    f(
        "protect",
        &["protect", "保护范围", "保护距离", "保护宽度", "protect_m"],
        false,
    ),
    f(
        "control",
        &["control", "控制范围", "控制距离", "control_m"],
        false,
    ),
    f(
        "geometry",
        &[
            "\u{1}geometry",
            "wkt",
            "geometry",
            "geom",
            "the_geom",
            "shape",
            "几何",
            "空间坐标",
            "坐标串",
        ],
        true,
    ),
    f("crs", &["crs", "坐标系", "坐标系统", "srs"], false),
];

/// Monitoring points of major hazard sources (#27 §3).
pub const MONITORING_POINT_FIELDS: &[FieldDef] = &[
    f(
        "id",
        &[
            "id",
            "point",
            "point_id",
            "测点编号",
            "监测点编号",
            "点位编号",
            "测点编码",
            "位号",
            "tag",
        ],
        true,
    ),
    f(
        "enterprise_id",
        &[
            "enterprise_id",
            "enterprise",
            "企业编号",
            "企业id",
            "企业代码",
            "单位编号",
        ],
        true,
    ),
    f(
        "quantity",
        &[
            "quantity",
            "监测类型",
            "监测项",
            "监测指标",
            "测量类型",
            "指标",
            "参数",
            "type",
        ],
        true,
    ),
    f(
        "name",
        &["name", "测点名称", "点位名称", "名称", "监测点名称"],
        false,
    ),
    f("unit", &["unit", "单位", "计量单位"], false),
    f(
        "high",
        &[
            "high",
            "高报",
            "高报值",
            "一级报警值",
            "一级报警",
            "报警值",
            "alarm_high",
        ],
        false,
    ),
    f(
        "high_high",
        &[
            "high_high",
            "高高报",
            "高高报值",
            "二级报警值",
            "二级报警",
            "alarm_high_high",
        ],
        false,
    ),
];

/// Readings of monitoring points (#27 §3).
pub const READING_FIELDS: &[FieldDef] = &[
    f(
        "point",
        &[
            "point",
            "point_id",
            "测点编号",
            "监测点编号",
            "点位编号",
            "测点编码",
            "位号",
            "tag",
        ],
        true,
    ),
    f(
        "enterprise_id",
        &[
            "enterprise_id",
            "enterprise",
            "企业编号",
            "企业id",
            "企业代码",
        ],
        false,
    ),
    f(
        "quantity",
        &["quantity", "监测类型", "监测项", "监测指标"],
        false,
    ),
    f(
        "value",
        &["value", "数值", "监测值", "测量值", "读数", "实时值", "val"],
        true,
    ),
    f(
        "time",
        &[
            "time",
            "timestamp",
            "时间",
            "监测时间",
            "采集时间",
            "数据时间",
            "记录时间",
            "ts",
        ],
        true,
    ),
];

/// Roads (#27 §1): lines with a class and a speed.
pub const ROAD_FIELDS: &[FieldDef] = &[
    f(
        "id",
        &["id", "编号", "道路编号", "road_id", "osm_id"],
        false,
    ),
    f("name", &["name", "名称", "道路名称", "路名"], false),
    f(
        "class",
        &[
            "class",
            "道路等级",
            "等级",
            "道路类型",
            "道路类别",
            "类型",
            "highway",
            "fclass",
            "type",
        ],
        true,
    ),
    f(
        "speed",
        &["speed", "限速", "设计速度", "速度", "时速", "maxspeed"],
        false,
    ),
    f("oneway", &["oneway", "单行", "单向", "单行道"], false),
    f(
        "geometry",
        &[
            "\u{1}geometry",
            "wkt",
            "geometry",
            "geom",
            "the_geom",
            "shape",
            "几何",
            "坐标串",
        ],
        true,
    ),
    f("crs", &["crs", "坐标系", "坐标系统", "srs"], false),
];

/// The field list of a config section name.
pub fn fields_for(section: &str) -> &'static [FieldDef] {
    match section {
        "enterprises" => ENTERPRISE_FIELDS,
        "assessments" => ASSESSMENT_FIELDS,
        "hazards" => HAZARD_FIELDS,
        "sites" => SITE_FIELDS,
        "resources" => RESOURCE_FIELDS,
        "lifelines" => LIFELINE_FIELDS,
        "monitoring_points" => MONITORING_POINT_FIELDS,
        "readings" => READING_FIELDS,
        "roads" => ROAD_FIELDS,
        _ => &[],
    }
}

/// Normalise a header for matching: trim, lowercase, drop spaces, BOM and any unit in
/// brackets, e.g. "经度（GCJ-02）" → "经度", " Lon (°)" → "lon".
pub fn normalise(h: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for ch in h.trim_start_matches('\u{feff}').chars() {
        match ch {
            '(' | '（' | '[' | '【' => depth += 1,
            ')' | '）' | ']' | '】' => depth = (depth - 1).max(0),
            c if depth == 0 && !c.is_whitespace() && c != '*' => out.extend(c.to_lowercase()),
            _ => {}
        }
    }
    out
}

/// Virtual column a GeoJSON reader adds: the feature's `id` member, or `F<index+1>`.
pub const FEATURE_ID: &str = "\u{1}feature_id";

/// Which column holds which field; the rest are extra.
#[derive(Debug, Clone)]
pub struct ColumnMap {
    cols: BTreeMap<&'static str, usize>,
    pub extra: Vec<usize>,
    /// A CRS named in the longitude header, e.g. "经度（GCJ-02）" or "百度经度".
    pub crs_hint: Option<crate::crs::Crs>,
}

/// The CRS a header names, if any ("经度(高德)", "lng_gcj02", "百度经度", "GPS经度").
pub fn crs_in_header(h: &str) -> Option<crate::crs::Crs> {
    use crate::crs::Crs;
    let k = h.to_lowercase();
    if k.contains("gcj")
        || k.contains("高德")
        || k.contains("火星")
        || k.contains("腾讯")
        || k.contains("amap")
    {
        Some(Crs::Gcj02)
    } else if k.contains("bd09") || k.contains("bd-09") || k.contains("百度") || k.contains("baidu")
    {
        Some(Crs::Bd09)
    } else if k.contains("cgcs") || k.contains("2000") || k.contains("天地图") {
        Some(Crs::Cgcs2000)
    } else if k.contains("wgs") || k.contains("gps") {
        Some(Crs::Wgs84)
    } else {
        None
    }
}

impl ColumnMap {
    pub fn get(&self, field: &str) -> Option<usize> {
        self.cols.get(field).copied()
    }
    pub fn has(&self, field: &str) -> bool {
        self.cols.contains_key(field)
    }
}

/// The column of each field `headers` name: the header `overrides` gives it (as written,
/// else normalised), else its first alias found (in alias order) in a column not already
/// taken. Fields no header names are absent. (The matching `map_columns` reads a file
/// with, and `Table::find_header` scores rows with.)
pub fn columns_named<S: AsRef<str>>(
    headers: &[S],
    defs: &[FieldDef],
    overrides: &BTreeMap<String, String>,
) -> BTreeMap<&'static str, usize> {
    let norm: Vec<String> = headers.iter().map(|h| normalise(h.as_ref())).collect();
    let mut cols = BTreeMap::new();
    for def in defs {
        if let Some(h) = overrides.get(def.name) {
            let target = normalise(h);
            let at = headers
                .iter()
                .position(|x| x.as_ref() == h)
                .or_else(|| norm.iter().position(|x| *x == target));
            if let Some(i) = at {
                cols.insert(def.name, i);
            }
        }
    }
    for def in defs {
        if cols.contains_key(def.name) {
            continue;
        }
        'alias: for a in def.aliases {
            for (i, h) in norm.iter().enumerate() {
                if h == a && !cols.values().any(|&c| c == i) {
                    cols.insert(def.name, i);
                    break 'alias;
                }
            }
        }
    }
    cols
}

/// Map headers to fields: configured names first, then aliases (in alias order).
/// `geometry_supplies` lists fields a GeoJSON geometry provides (lon, lat).
pub fn map_columns(
    file: &str,
    headers: &[String],
    defs: &'static [FieldDef],
    overrides: &BTreeMap<String, String>,
    geometry_supplies: &[&str],
) -> Result<ColumnMap, IngestError> {
    let mut cols = columns_named(headers, defs, overrides);
    if let Some(def) = defs
        .iter()
        .find(|d| overrides.contains_key(d.name) && !cols.contains_key(d.name))
    {
        return Err(IngestError::Column {
            file: file.to_string(),
            message: {
                let (n, h, all) = (def.name, &overrides[def.name], headers.join(", "));
                crate::tr!(
                    "配置把 `{n}` 对应到表头 `{h}`，但文件中没有这一列；现有表头：{all}",
                    "the config maps `{n}` to the header `{h}`, which the file does not have; headers are: {all}"
                )
            },
        });
    }
    // a GeoJSON feature's own id stands in for a missing id column
    if !cols.contains_key("id") && defs.iter().any(|d| d.name == "id") {
        if let Some(i) = headers.iter().position(|h| h == FEATURE_ID) {
            cols.insert("id", i);
        }
    }
    let mut missing: Vec<&str> = defs
        .iter()
        .filter(|d| {
            d.required && !cols.contains_key(d.name) && !geometry_supplies.contains(&d.name)
        })
        .map(|d| d.name)
        .collect();
    // an enterprise register keyed by credit code only: the code is the id
    if missing.contains(&"id") {
        if let Some(&c) = cols.get("credit_code") {
            cols.insert("id", c);
            missing.retain(|m| *m != "id");
        }
    }
    if !missing.is_empty() {
        let hints: Vec<String> = missing
            .iter()
            .map(|m| {
                let d = defs
                    .iter()
                    .find(|d| d.name == *m)
                    .map(|d| d.aliases.join(" / "))
                    .unwrap_or_default();
                crate::tr!("`{m}`（表头如 {d}）", "`{m}` (a header such as {d})")
            })
            .collect();
        return Err(IngestError::Column {
            file: file.to_string(),
            message: {
                let (h, all, m0) = (hints.join(", "), headers.join(", "), missing[0]);
                crate::tr!(
                    "找不到 {h} 对应的列；现有表头：{all}。可在配置中指定，例如 [section.columns] {m0} = \"你的表头\"",
                    "no column for {h}; headers are: {all}. Map one in the config, e.g. [section.columns] {m0} = \"your header\""
                )
            },
        });
    }
    let used: Vec<usize> = cols.values().copied().collect();
    let extra = (0..headers.len())
        .filter(|i| {
            !used.contains(i) && !headers[*i].trim().is_empty() && headers[*i] != FEATURE_ID
        })
        .collect();
    let crs_hint = cols.get("lon").and_then(|&i| crs_in_header(&headers[i]));
    Ok(ColumnMap {
        cols,
        extra,
        crs_hint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_and_overrides() {
        let h: Vec<String> = [
            "企业编号",
            "企业名称",
            "经度（GCJ-02）",
            "纬度",
            "X坐标",
            "备注",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let m = map_columns("f", &h, ENTERPRISE_FIELDS, &BTreeMap::new(), &[]).unwrap();
        assert_eq!(
            (m.get("id"), m.get("name"), m.get("lon"), m.get("lat")),
            (Some(0), Some(1), Some(2), Some(3))
        );
        assert_eq!(m.extra, vec![4, 5]);
        assert_eq!(m.crs_hint, Some(crate::crs::Crs::Gcj02));
        let mut o = BTreeMap::new();
        o.insert("lon".to_string(), "X坐标".to_string());
        let m = map_columns("f", &h, ENTERPRISE_FIELDS, &o, &[]).unwrap();
        assert_eq!(m.get("lon"), Some(4));
    }

    #[test]
    fn missing_column_hint() {
        let h: Vec<String> = ["编号", "名称", "X", "Y坐标"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let e = map_columns("reg.csv", &h, ENTERPRISE_FIELDS, &BTreeMap::new(), &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("`lat`") && e.contains("reg.csv"), "{e}");
    }

    #[test]
    fn credit_code_as_id() {
        let h: Vec<String> = ["统一社会信用代码", "企业名称", "lng", "lat"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let m = map_columns("f", &h, ENTERPRISE_FIELDS, &BTreeMap::new(), &[]).unwrap();
        assert_eq!(m.get("id"), Some(0));
    }
}
