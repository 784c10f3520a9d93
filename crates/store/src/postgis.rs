//! Publish the graded layers to PostGIS (`riskmap publish --db URL`, `[publish] db`):
//! `enterprises`, `districts`, `grid`, `zones`, `exposure`, the emergency layers where
//! their inputs are given (`resources`, `fire_reach`, `lifelines`, `lifeline_zones`,
//! `lifeline_segments`, `monitoring`) and `rejects` as tables with `geometry(…, 4326)`
//! columns, a GIST index each, primary keys and Chinese column comments, and a row per run
//! in `runs`.
//!
//! One transaction: every table is written under a temporary name (`COPY … FROM STDIN`,
//! geometry as EWKT that PostGIS parses on input), indexed, and swapped in by rename, so a
//! portal's query sees the previous layers or the new ones, never a half-written or empty
//! one; any failure rolls the whole publish back.

use riskmap_analyze::Analysis;
use riskmap_core::dataset::Dataset;
use riskmap_core::ingest::db::{quote_ident, Db};
use riskmap_core::model::{level_key, level_zh};
use riskmap_core::Error;
use wkt::ToWkt;

/// Where to publish.
#[derive(Debug, Clone)]
pub struct PublishParams {
    /// The schema the tables go to (created when missing).
    pub schema: String,
    /// The run's provenance for `runs` (tool version, config hash, …) as JSON.
    pub run: serde_json::Value,
}

/// What was published: (table, rows), and the time it took.
#[derive(Debug, Clone, Default)]
pub struct Published {
    pub tables: Vec<(String, usize)>,
    pub seconds: f64,
}

fn err(db: &str, what: &str, e: impl std::fmt::Display) -> Error {
    Error::Input(riskmap_core::tr!(
        "发布到 {db} 失败（{what}），之前的图层保持不变：{e}",
        "publishing to {db} failed ({what}); the previous layers are unchanged: {e}"
    ))
}

fn pg_err(db: &str, what: &str, e: postgres::Error) -> Error {
    err(db, what, riskmap_core::ingest::db::pg_message(&e))
}

/// A layer: its columns (name, SQL type, Chinese comment), the primary key, and rows as
/// CSV records whose last field is the geometry as EWKT (empty: none).
struct Layer {
    name: &'static str,
    comment: &'static str,
    columns: Vec<(&'static str, &'static str, &'static str)>,
    key: &'static str,
    geometry: &'static str,
    rows: Vec<Vec<String>>,
}

fn ewkt(g: &impl ToWkt<f64>) -> String {
    format!("SRID=4326;{}", g.wkt_string())
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

fn layers(ds: &Dataset, an: &Analysis) -> Vec<Layer> {
    let mut out = Vec::new();
    // enterprises
    let rows = ds
        .enterprises
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let g = &ds.grades[i];
            let (district, adcode) = ds
                .district_of(i)
                .map(|(n, a)| (n.to_string(), a.to_string()))
                .unwrap_or_default();
            vec![
                e.id.clone(),
                e.name.clone(),
                opt(e.credit_code.clone()),
                opt(e.industry.clone()),
                district,
                adcode,
                level_key(g.level).to_string(),
                level_zh(g.level).to_string(),
                g.rule.to_string(),
                g.reason.clone(),
                g.reason_zh.clone(),
                g.risk_points.to_string(),
                g.open_hidden_dangers.to_string(),
                g.open_major_hidden_dangers.to_string(),
                opt(e.major_hazard.map(|h| h.zh())),
                opt(e.employees),
                format!("{}", ds.radius_m(i)),
                e.src_crs.as_str().to_string(),
                ewkt(&geo::Point::new(e.lon, e.lat)),
            ]
        })
        .collect();
    out.push(Layer {
        name: "enterprises",
        comment: "监管企业及其风险等级（WGS84）",
        columns: vec![
            ("id", "text", "企业编号"),
            ("name", "text", "企业名称"),
            ("credit_code", "text", "统一社会信用代码"),
            ("industry", "text", "行业"),
            ("district", "text", "所在区县（按坐标）"),
            ("adcode", "text", "行政区划代码"),
            (
                "level",
                "text",
                "风险等级代码 red/orange/yellow/blue/unassessed",
            ),
            ("level_zh", "text", "风险等级"),
            ("rule", "text", "定级规则代码"),
            ("reason", "text", "定级理由（英文）"),
            ("reason_zh", "text", "定级理由"),
            ("risk_points", "integer", "风险点数"),
            ("open_hidden_dangers", "integer", "未整改隐患数"),
            (
                "open_major_hidden_dangers",
                "integer",
                "未整改重大事故隐患数",
            ),
            ("major_hazard", "text", "重大危险源等级"),
            ("employees", "integer", "从业人数"),
            ("radius_m", "double precision", "影响半径（米）"),
            ("src_crs", "text", "原始坐标系"),
        ],
        key: "id",
        geometry: "Point",
        rows,
    });
    // districts with their statistics
    if let Some(areas) = &an.areas {
        let rows = areas
            .iter()
            .enumerate()
            .map(|(k, a)| {
                vec![
                    (k + 1).to_string(),
                    a.name.clone(),
                    a.adcode.clone(),
                    level_key(a.level.level).to_string(),
                    level_zh(a.level.level).to_string(),
                    a.level.reason_zh.clone(),
                    a.counts[0].to_string(),
                    a.counts[1].to_string(),
                    a.counts[2].to_string(),
                    a.counts[3].to_string(),
                    a.counts[4].to_string(),
                    a.total().to_string(),
                    a.open_major_hidden_dangers.to_string(),
                    format!("{}", a.area_km2),
                    ewkt(&a.shape),
                ]
            })
            .collect();
        out.push(Layer {
            name: "districts",
            comment: "区县及其风险等级、各等级企业数",
            columns: vec![
                ("gid", "integer", "序号"),
                ("name", "text", "区县"),
                ("adcode", "text", "行政区划代码"),
                ("level", "text", "区域风险等级代码"),
                ("level_zh", "text", "区域风险等级"),
                ("reason_zh", "text", "定级理由"),
                ("red", "integer", "重大风险企业数"),
                ("orange", "integer", "较大风险企业数"),
                ("yellow", "integer", "一般风险企业数"),
                ("blue", "integer", "低风险企业数"),
                ("unassessed", "integer", "未评估企业数"),
                ("total", "integer", "企业总数"),
                (
                    "open_major_hidden_dangers",
                    "integer",
                    "未整改重大事故隐患数",
                ),
                ("area_km2", "double precision", "面积（平方千米）"),
            ],
            key: "gid",
            geometry: "MultiPolygon",
            rows,
        });
    }
    if let Some(cells) = &an.grid {
        let rows = cells
            .iter()
            .map(|c| {
                vec![
                    c.id.clone(),
                    level_key(c.level.level).to_string(),
                    level_zh(c.level.level).to_string(),
                    c.level.reason_zh.clone(),
                    c.counts.iter().sum::<usize>().to_string(),
                    c.counts[0].to_string(),
                    c.open_major_hidden_dangers.to_string(),
                    opt(c.district.clone()),
                    ewkt(&geo::MultiPolygon::new(vec![c.shape.clone()])),
                ]
            })
            .collect();
        out.push(Layer {
            name: "grid",
            comment: "网格及其风险等级",
            columns: vec![
                ("id", "text", "网格编号"),
                ("level", "text", "网格风险等级代码"),
                ("level_zh", "text", "网格风险等级"),
                ("reason_zh", "text", "定级理由"),
                ("total", "integer", "企业数"),
                ("red", "integer", "重大风险企业数"),
                (
                    "open_major_hidden_dangers",
                    "integer",
                    "未整改重大事故隐患数",
                ),
                ("district", "text", "所在区县"),
            ],
            key: "id",
            geometry: "MultiPolygon",
            rows,
        });
    }
    if let Some(zones) = &an.zones {
        let rows = zones
            .iter()
            .enumerate()
            .map(|(k, z)| {
                vec![
                    crate::analysis::zone_id(k),
                    z.level.key().to_string(),
                    z.level.zh().to_string(),
                    format!("{}", z.area_km2),
                    z.enterprises.len().to_string(),
                    ewkt(&geo::MultiPolygon::new(vec![z.shape.clone()])),
                ]
            })
            .collect();
        out.push(Layer {
            name: "zones",
            comment: "风险分区（连续风险面按等级划出的区域）",
            columns: vec![
                ("id", "text", "分区编号"),
                ("level", "text", "风险等级代码"),
                ("level_zh", "text", "风险等级"),
                ("area_km2", "double precision", "面积（平方千米）"),
                ("enterprises", "integer", "影响该区的企业数"),
            ],
            key: "id",
            geometry: "MultiPolygon",
            rows,
        });
    }
    if let Some(x) = &an.exposure {
        let rows = x
            .iter()
            .enumerate()
            .map(|(k, e)| {
                let s = &ds.sites[e.site];
                vec![
                    (k + 1).to_string(),
                    s.id.clone(),
                    s.name.clone(),
                    s.kind.clone(),
                    e.level.key().to_string(),
                    e.level.zh().to_string(),
                    opt(e.district.clone()),
                    e.covering.len().to_string(),
                    ewkt(&geo::Point::new(s.lon, s.lat)),
                ]
            })
            .collect();
        out.push(Layer {
            name: "exposure",
            comment: "处在风险影响范围内的敏感目标",
            columns: vec![
                ("gid", "integer", "序号"),
                ("site_id", "text", "敏感目标编号"),
                ("name", "text", "名称"),
                ("kind", "text", "类型"),
                ("level", "text", "所处风险等级代码"),
                ("level_zh", "text", "所处风险等级"),
                ("district", "text", "所在区县"),
                ("covering", "integer", "影响它的企业数"),
            ],
            key: "gid",
            geometry: "Point",
            rows,
        });
    }
    emergency_layers(ds, an, &mut out);
    // the readers' rejects and the readings the alarm engine refused, as rejects.csv
    let rows = crate::monitoring::all_rejects(ds, an)
        .iter()
        .enumerate()
        .map(|(k, r)| {
            let mut row = vec![(k + 1).to_string()];
            row.extend(crate::tables::reject_record(r));
            row
        })
        .collect();
    out.push(Layer {
        name: "rejects",
        comment: "未能使用的输入行及原因",
        columns: vec![
            ("gid", "integer", "序号"),
            ("file", "text", "文件或表"),
            ("line", "text", "行号或主键"),
            ("enterprise_id", "text", "企业编号"),
            ("row_id", "text", "记录编号"),
            ("column_name", "text", "列"),
            ("value", "text", "值"),
            ("code", "text", "原因代码"),
            ("reason_zh", "text", "原因"),
            ("message", "text", "说明"),
        ],
        key: "gid",
        geometry: "",
        rows,
    });
    out
}

/// A cell from a GeoJSON property: null is NULL, arrays and objects their JSON (for
/// `jsonb` columns), the rest as text.
fn cell(v: Option<&serde_json::Value>) -> String {
    use serde_json::Value;
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    }
}

/// A layer from its features' property maps (the GeoJSON output's own, so the table and
/// the file say the same), the columns picked by key; `gid` is the feature's ordinal.
fn props_layer(
    name: &'static str,
    comment: &'static str,
    geometry: &'static str,
    columns: Vec<(&'static str, &'static str, &'static str)>,
    feats: Vec<(serde_json::Map<String, serde_json::Value>, String)>,
) -> Layer {
    let rows = feats
        .into_iter()
        .enumerate()
        .map(|(k, (p, g))| {
            let mut row: Vec<String> = columns
                .iter()
                .map(|(c, ..)| {
                    if *c == "gid" {
                        (k + 1).to_string()
                    } else {
                        cell(p.get(*c))
                    }
                })
                .collect();
            row.push(g);
            row
        })
        .collect();
    Layer {
        name,
        comment,
        columns,
        key: "gid",
        geometry,
        rows,
    }
}

/// The emergency layers (#27) where their inputs are given: resources and the fire
/// stations' reach, lifelines with their zones and ranked segments, monitoring points.
fn emergency_layers(ds: &Dataset, an: &Analysis, out: &mut Vec<Layer>) {
    if let Some(em) = &an.emergency {
        let feats = (0..ds.resources.len())
            .map(|i| {
                let r = &ds.resources[i];
                (
                    crate::emergency::resource_properties(ds, i),
                    ewkt(&geo::Point::new(r.lon, r.lat)),
                )
            })
            .collect();
        out.push(props_layer(
            "resources",
            "应急资源（WGS84）",
            "Point",
            vec![
                ("gid", "integer", "序号"),
                ("id", "text", "资源编号"),
                ("name", "text", "名称"),
                ("type", "text", "类型代码"),
                ("type_zh", "text", "类型"),
                ("class_zh", "text", "消防站类别"),
                ("owner", "text", "所属单位"),
                ("contact", "text", "联系方式"),
                ("capacity", "double precision", "容量"),
                ("stock", "jsonb", "储备物资"),
                ("expertise", "text", "专业领域"),
                ("district", "text", "所在区县"),
                ("src_crs", "text", "原坐标系"),
            ],
            feats,
        ));
        let feats = crate::emergency::fire_reach_features(ds, em)
            .into_iter()
            .map(|(p, mp)| (p, ewkt(&mp)))
            .collect();
        out.push(props_layer(
            "fire_reach",
            "消防站到达范围（路网行车或直线距离）",
            "MultiPolygon",
            vec![
                ("gid", "integer", "序号"),
                ("id", "text", "消防站编号"),
                ("name", "text", "名称"),
                ("class_zh", "text", "消防站类别"),
                ("enterprises", "integer", "由其最先到达的企业数"),
                ("method", "text", "计算方法代码"),
                ("method_zh", "text", "计算方法"),
                ("drive_min", "double precision", "行车时间（分钟）"),
                ("reach_m", "double precision", "直线到达半径（米）"),
            ],
            feats,
        ));
    }
    if let Some(ll) = &an.lifelines {
        let lifeline = |extra: Vec<(&'static str, &'static str, &'static str)>| {
            let mut c = vec![
                ("gid", "integer", "序号"),
                ("id", "text", "管线编号"),
                ("name", "text", "名称"),
                ("type", "text", "类型代码"),
                ("type_zh", "text", "类型"),
                ("pressure_zh", "text", "压力级制"),
                ("voltage_kv", "double precision", "电压（千伏）"),
                ("owner", "text", "权属单位"),
                ("protect_m", "double precision", "保护范围（米）"),
                ("control_m", "double precision", "控制范围（米）"),
                ("rule", "text", "依据"),
            ];
            c.extend(extra);
            c
        };
        let feats = (0..ds.lifelines.len())
            .map(|i| {
                (
                    crate::lifelines::line_properties(ds, ll, i),
                    ewkt(&ds.lifelines[i].line),
                )
            })
            .collect();
        out.push(props_layer(
            "lifelines",
            "城市生命线（管线中心线）及其保护、控制范围内的企业",
            "MultiLineString",
            lifeline(vec![
                ("length_m", "double precision", "长度（米）"),
                ("rank", "integer", "风险排序"),
                ("level_zh", "text", "周边最高风险等级"),
                ("enterprises_in_protection", "jsonb", "保护范围内的企业"),
                ("enterprises_in_control", "jsonb", "控制范围内的企业"),
                ("enterprises_reaching", "jsonb", "影响半径触及管线的企业"),
                ("sites_in_protection", "jsonb", "保护范围内的敏感目标"),
            ]),
            feats,
        ));
        let polys = ll.zone_polygons(ds, &an.frame);
        let mut feats = Vec::new();
        for (i, (protect, control)) in polys.iter().enumerate() {
            feats.push((
                crate::lifelines::zone_properties(ds, ll, i, false),
                ewkt(protect),
            ));
            if let Some(c) = control {
                feats.push((crate::lifelines::zone_properties(ds, ll, i, true), ewkt(c)));
            }
        }
        out.push(props_layer(
            "lifeline_zones",
            "城市生命线保护范围与控制范围",
            "MultiPolygon",
            lifeline(vec![
                ("role", "text", "范围类型代码"),
                ("role_zh", "text", "范围类型"),
                ("enterprises", "jsonb", "范围内的企业"),
                ("sites", "jsonb", "范围内的敏感目标"),
            ]),
            feats,
        ));
        let feats = crate::lifelines::segment_features(ds, ll)
            .into_iter()
            .map(|(p, line)| (p, ewkt(&geo::MultiLineString(vec![line.clone()]))))
            .collect();
        out.push(props_layer(
            "lifeline_segments",
            "城市生命线管段（按周边风险排序）",
            "MultiLineString",
            vec![
                ("gid", "integer", "序号"),
                ("id", "text", "管段编号"),
                ("lifeline", "text", "管线编号"),
                ("name", "text", "名称"),
                ("type_zh", "text", "类型"),
                ("ordinal", "integer", "管段序号"),
                ("rank", "integer", "风险排序（1 为最高）"),
                ("length_m", "double precision", "长度（米）"),
                ("level_zh", "text", "周边最高风险等级"),
                ("sites", "jsonb", "周边敏感目标"),
                ("enterprises_in_zone", "jsonb", "保护或控制范围内的企业"),
            ],
            feats,
        ));
    }
    if let Some(rp) = &an.monitoring {
        let feats = crate::monitoring::point_rows(ds, rp)
            .into_iter()
            .filter_map(|(e, p)| {
                let e = &ds.enterprises[e?];
                Some((p, ewkt(&geo::Point::new(e.lon, e.lat))))
            })
            .collect();
        out.push(props_layer(
            "monitoring",
            "重大危险源监测点及其报警状态（发布时）",
            "Point",
            vec![
                ("gid", "integer", "序号"),
                ("point", "text", "测点编号"),
                ("name", "text", "测点名称"),
                ("enterprise_id", "text", "企业编号"),
                ("enterprise", "text", "企业名称"),
                ("level", "text", "企业风险等级"),
                ("quantity_zh", "text", "监测类型"),
                ("unit", "text", "单位"),
                ("high", "double precision", "高报值"),
                ("high_high", "double precision", "高高报值"),
                ("value", "double precision", "最新读数"),
                ("time", "text", "读数时间"),
                ("state", "text", "状态"),
                ("fault", "boolean", "离线"),
                ("since", "text", "报警起始"),
                ("cause", "jsonb", "引发报警的读数"),
            ],
            feats,
        ));
    }
}

/// Write every layer into `schema` in one transaction, swapping each in by rename, and
/// add the run to `runs`.
pub fn publish(
    db: &mut Db,
    ds: &Dataset,
    an: &Analysis,
    p: &PublishParams,
) -> Result<Published, Error> {
    let clock = std::time::Instant::now();
    let name = db.name.clone();
    let schema = quote_ident(&p.schema);
    let has_postgis: bool = db
        .client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'postgis')",
            &[],
        )
        .map_err(|e| pg_err(&name, "PostGIS", e))?
        .get(0);
    if !has_postgis {
        return Err(err(
            &name,
            "PostGIS",
            riskmap_core::tr!(
                "数据库没有 PostGIS 扩展：请由管理员执行 CREATE EXTENSION postgis",
                "the database has no PostGIS extension: CREATE EXTENSION postgis"
            ),
        ));
    }
    let layers = layers(ds, an);
    let mut tx = db
        .client
        .transaction()
        .map_err(|e| pg_err(&name, "BEGIN", e))?;
    tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
        .map_err(|e| pg_err(&name, "CREATE SCHEMA", e))?;
    let mut report = Published::default();
    for l in &layers {
        let tmp = format!("{}__riskmap_new", l.name);
        let qt = format!("{schema}.{}", quote_ident(&tmp));
        let mut cols: Vec<String> = l
            .columns
            .iter()
            .map(|(c, t, _)| format!("{} {t}", quote_ident(c)))
            .collect();
        if !l.geometry.is_empty() {
            cols.push(format!("geom geometry({}, 4326)", l.geometry));
        }
        let ddl = format!(
            "DROP TABLE IF EXISTS {qt}; CREATE TABLE {qt} ({}, CONSTRAINT {} PRIMARY KEY ({}))",
            cols.join(", "),
            quote_ident(&format!("{tmp}_pkey")),
            quote_ident(l.key)
        );
        tx.batch_execute(&ddl)
            .map_err(|e| pg_err(&name, l.name, e))?;
        let mut names: Vec<String> = l.columns.iter().map(|c| quote_ident(c.0)).collect();
        if !l.geometry.is_empty() {
            names.push("geom".into());
        }
        {
            let w = tx
                .copy_in(&format!(
                    "COPY {qt} ({}) FROM STDIN (FORMAT csv, NULL '')",
                    names.join(", ")
                ))
                .map_err(|e| pg_err(&name, l.name, e))?;
            let mut csvw = csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(std::io::BufWriter::with_capacity(1 << 20, w));
            for r in &l.rows {
                csvw.write_record(r).map_err(|e| err(&name, l.name, e))?;
            }
            let buf = csvw
                .into_inner()
                .map_err(|e| err(&name, l.name, e.error().to_string()))?;
            let w = buf
                .into_inner()
                .map_err(|e| err(&name, l.name, e.error().to_string()))?;
            w.finish().map_err(|e| pg_err(&name, l.name, e))?;
        }
        let final_t = format!("{schema}.{}", quote_ident(l.name));
        let mut post = String::new();
        if !l.geometry.is_empty() {
            post.push_str(&format!(
                "CREATE INDEX {} ON {qt} USING GIST (geom);",
                quote_ident(&format!("{tmp}_geom_idx"))
            ));
        }
        post.push_str(&format!(
            "COMMENT ON TABLE {qt} IS '{}';",
            l.comment.replace('\'', "''")
        ));
        for (c, _, zh) in &l.columns {
            post.push_str(&format!(
                "COMMENT ON COLUMN {qt}.{} IS '{}';",
                quote_ident(c),
                zh.replace('\'', "''")
            ));
        }
        if !l.geometry.is_empty() {
            post.push_str(&format!("COMMENT ON COLUMN {qt}.geom IS '几何（WGS84）';"));
        }
        // the swap: the old table goes, the new one takes its names
        post.push_str(&format!(
            "DROP TABLE IF EXISTS {final_t}; ALTER TABLE {qt} RENAME TO {}; ALTER TABLE {final_t} RENAME CONSTRAINT {} TO {};",
            quote_ident(l.name),
            quote_ident(&format!("{tmp}_pkey")),
            quote_ident(&format!("{}_pkey", l.name)),
        ));
        if !l.geometry.is_empty() {
            post.push_str(&format!(
                "ALTER INDEX {schema}.{} RENAME TO {};",
                quote_ident(&format!("{tmp}_geom_idx")),
                quote_ident(&format!("{}_geom_idx", l.name))
            ));
        }
        tx.batch_execute(&post)
            .map_err(|e| pg_err(&name, l.name, e))?;
        report.tables.push((l.name.to_string(), l.rows.len()));
    }
    // the run's provenance
    tx.batch_execute(&format!(
        "CREATE TABLE IF NOT EXISTS {schema}.runs (run_id bigserial PRIMARY KEY, published_at timestamptz NOT NULL DEFAULT now(), provenance jsonb NOT NULL);
         COMMENT ON TABLE {schema}.runs IS '每次发布的来源：输入文件及其 SHA-256、各表行数、软件版本';"
    ))
    .map_err(|e| pg_err(&name, "runs", e))?;
    let mut run = p.run.clone();
    run["tables"] = serde_json::json!(report
        .tables
        .iter()
        .map(|(t, n)| (t.clone(), serde_json::json!(n)))
        .collect::<serde_json::Map<_, _>>());
    let run_text = run.to_string();
    tx.execute(
        &format!("INSERT INTO {schema}.runs (provenance) VALUES ($1::text::jsonb)"),
        &[&run_text],
    )
    .map_err(|e| pg_err(&name, "runs", e))?;
    tx.commit().map_err(|e| pg_err(&name, "COMMIT", e))?;
    report.seconds = clock.elapsed().as_secs_f64();
    Ok(report)
}
