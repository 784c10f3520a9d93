//! Rows → risk points (with their LEC / LS / MES / direct assessments) and hidden dangers,
//! each checked against the register's ids.

use super::fields::{map_columns, ColumnMap, ASSESSMENT_FIELDS, HAZARD_FIELDS};
use super::records::*;
use super::rejects::{Reject, RejectKind as K, RowIssues};
use super::table::{Row, Table};
use super::IngestError;
use crate::assess::tables::GradingTables;
use crate::ingest::params::TableInput;
use crate::model::*;
use foldhash::{HashMap, HashSet};
use rayon::prelude::*;

/// Risk points read from an assessments table.
#[derive(Debug, Default)]
pub struct AssessmentRead {
    pub points: Vec<RiskPoint>,
    pub rejects: Vec<Reject>,
    pub rows_read: usize,
    pub rows_rejected: usize,
}

pub(super) fn orphan(
    enterprise_id: &str,
    known: &HashMap<&str, u32>,
    rejected: &HashSet<String>,
    col: &str,
    is: &mut RowIssues,
) {
    if enterprise_id.is_empty() {
        is.add(
            K::MissingValue,
            col,
            "",
            crate::tr!("企业编号为空", "the enterprise id is empty"),
        );
    } else if !known.contains_key(enterprise_id) {
        if rejected.contains(enterprise_id) {
            is.add(
                K::EnterpriseRejected,
                col,
                enterprise_id,
                crate::tr!(
                    "企业 `{enterprise_id}` 在名录中已被拒绝（见其所在行）",
                    "enterprise `{enterprise_id}` was rejected in the register (see its row)"
                ),
            );
        } else {
            is.add(
                K::UnknownEnterprise,
                col,
                enterprise_id,
                crate::tr!(
                    "名录中没有企业 `{enterprise_id}`",
                    "no enterprise `{enterprise_id}` in the register"
                ),
            );
        }
    }
}

fn fmt_list(v: &[f64]) -> String {
    v.iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn table_value(
    t: &Table,
    row: &Row,
    m: &ColumnMap,
    field: &str,
    allowed: &[f64],
    free: bool,
    method: &str,
    is: &mut RowIssues,
) -> Option<f64> {
    let v = number(t, row, m, field, true, is)?;
    if !free && !allowed.iter().any(|a| (a - v).abs() < 1e-9) {
        is.add(
            K::NotInTable,
            header(t, m, field),
            cell(t, row, m, field),
            {
                let (f, a) = (field.to_uppercase(), fmt_list(allowed));
                crate::tr!(
                    "{method} 的 {f} = {v} 不在取值表中；可用：{a}（或设置 allow_free_values）",
                    "{method} {f} = {v} is not in the table; allowed: {a} (or set allow_free_values)"
                )
            },
        );
        return None;
    }
    Some(v)
}

/// Parse a method name.
pub fn parse_method(s: &str) -> Option<&'static str> {
    let k = s.trim().to_lowercase().replace([' ', '-', '_', '法'], "");
    Some(match k.as_str() {
        "lec" | "d=lec" | "作业条件危险性分析" | "作业条件危险性评价" | "作业条件危险性评价法" => {
            "LEC"
        }
        "ls" | "lxs" | "l×s" | "r=ls" | "风险矩阵" | "风险矩阵分析" | "矩阵" => "LS",
        "mes" => "MES",
        "direct" | "直接" | "直接判定" | "直接评定" | "经验" => "direct",
        _ => return None,
    })
}

/// Read risk points; each must belong to an enterprise of `known`.
pub fn read_assessments(
    t: &Table,
    input: &TableInput,
    tables: &GradingTables,
    known: &HashMap<&str, u32>,
    rejected: &HashSet<String>,
) -> Result<AssessmentRead, IngestError> {
    let m = map_columns(&t.file, &t.headers, ASSESSMENT_FIELDS, &input.columns, &[])?;
    let free = tables.allow_free_values;
    let results: Vec<Result<RiskPoint, Vec<Reject>>> = t
        .rows
        .par_iter()
        .map(|row| {
            let mut is = RowIssues::default();
            let eid = cell(t, row, &m, "enterprise_id");
            orphan(
                eid,
                known,
                rejected,
                header(t, &m, "enterprise_id"),
                &mut is,
            );
            let mtext = cell(t, row, &m, "method");
            let level_text = cell(t, row, &m, "level");
            let method = match parse_method(mtext) {
                Some(x) => Some(x),
                None if mtext.is_empty() && !level_text.is_empty() => Some("direct"),
                None => {
                    is.add(
                        K::UnknownMethod,
                        header(t, &m, "method"),
                        mtext,
                        crate::tr!(
                            "无法识别的评价方法；可用：LEC、LS、MES、直接判定",
                            "unknown method; accepted: LEC, LS, MES, direct (直接判定)"
                        ),
                    );
                    None
                }
            };
            let method = match method {
                Some("LEC") => {
                    let l = table_value(t, row, &m, "l", &tables.lec.l, free, "LEC", &mut is);
                    let e = table_value(t, row, &m, "e", &tables.lec.e, free, "LEC", &mut is);
                    let c = table_value(t, row, &m, "c", &tables.lec.c, free, "LEC", &mut is);
                    match (l, e, c) {
                        (Some(l), Some(e), Some(c)) => Some(Method::Lec { l, e, c }),
                        _ => None,
                    }
                }
                Some("LS") => {
                    let l = table_value(t, row, &m, "l", &tables.ls.l, free, "LS", &mut is);
                    let s = table_value(t, row, &m, "s", &tables.ls.s, free, "LS", &mut is);
                    match (l, s) {
                        (Some(l), Some(s)) => Some(Method::Ls { l, s }),
                        _ => None,
                    }
                }
                Some("MES") => {
                    let mm = table_value(t, row, &m, "m", &tables.mes.m, free, "MES", &mut is);
                    let e = table_value(t, row, &m, "e", &tables.mes.e, free, "MES", &mut is);
                    let s = table_value(t, row, &m, "s", &tables.mes.s, free, "MES", &mut is);
                    match (mm, e, s) {
                        (Some(m), Some(e), Some(s)) => Some(Method::Mes { m, e, s }),
                        _ => None,
                    }
                }
                Some(_) => match Level::parse(level_text) {
                    Some(l) => Some(Method::Direct(l)),
                    None => {
                        let kind = if level_text.is_empty() {
                            K::MissingValue
                        } else {
                            K::UnknownLevel
                        };
                        is.add(kind, header(t, &m, "level"), level_text, {
                            let a = Level::accepted();
                            crate::tr!(
                                "直接判定须填写风险等级；可用：{a}",
                                "a direct assessment needs a level; accepted: {a}"
                            )
                        });
                        None
                    }
                },
                None => None,
            };
            match method {
                Some(method) if is.is_empty() => {
                    let level = crate::assess::grade_point(tables, &method);
                    let name = cell(t, row, &m, "point");
                    let name = if name.is_empty() {
                        format!("line {}", row.line)
                    } else {
                        name.to_string()
                    };
                    Ok(RiskPoint {
                        enterprise_id: eid.to_string(),
                        name,
                        method,
                        level,
                        source: SourceRef {
                            file: t.file.clone(),
                            line: row.line,
                        },
                    })
                }
                _ => Err(is.into_rejects(&row_ref(t, row, &m, Some("enterprise_id"), Some("id")))),
            }
        })
        .collect();
    let mut out = AssessmentRead {
        rows_read: t.rows.len(),
        ..Default::default()
    };
    for r in results {
        match r {
            Ok(p) => out.points.push(p),
            Err(rej) => {
                out.rows_rejected += 1;
                out.rejects.extend(rej);
            }
        }
    }
    Ok(out)
}

/// Hidden dangers read from a table.
#[derive(Debug, Default)]
pub struct HazardRead {
    pub dangers: Vec<HiddenDanger>,
    pub rejects: Vec<Reject>,
    pub rows_read: usize,
    pub rows_rejected: usize,
}

/// Read hidden dangers; each must belong to an enterprise of `known`.
pub fn read_hidden_dangers(
    t: &Table,
    input: &TableInput,
    known: &HashMap<&str, u32>,
    rejected: &HashSet<String>,
) -> Result<HazardRead, IngestError> {
    let m = map_columns(&t.file, &t.headers, HAZARD_FIELDS, &input.columns, &[])?;
    let mut out = HazardRead {
        rows_read: t.rows.len(),
        ..Default::default()
    };
    let mut seen: HashMap<String, String> = HashMap::default();
    for row in &t.rows {
        let mut is = RowIssues::default();
        let eid = cell(t, row, &m, "enterprise_id");
        orphan(
            eid,
            known,
            rejected,
            header(t, &m, "enterprise_id"),
            &mut is,
        );
        let gtext = cell(t, row, &m, "grade");
        let grade = DangerGrade::parse(gtext);
        if grade.is_none() {
            is.add(
                K::UnknownValue,
                header(t, &m, "grade"),
                gtext,
                crate::tr!(
                    "无法识别的隐患级别；可用：一般 / 重大",
                    "unknown hidden-danger grade; accepted: 一般 / 重大 (general / major)"
                ),
            );
        }
        let stext = cell(t, row, &m, "status");
        let status = DangerStatus::parse(stext);
        if status.is_none() {
            is.add(
                K::UnknownValue,
                header(t, &m, "status"),
                stext,
                crate::tr!("无法识别的整改状态；可用：未整改 / 整改中 / 已整改", "unknown status; accepted: 未整改 / 整改中 / 已整改 (open / in progress / closed)"),
            );
        }
        let id = cell(t, row, &m, "id");
        let id = if id.is_empty() {
            format!("{}#{}", t.file.rsplit('/').next().unwrap_or(""), row.line)
        } else {
            id.to_string()
        };
        if let Some(first) = seen.get(&id) {
            is.add(
                K::DuplicateId,
                header(t, &m, "id"),
                &id,
                crate::tr!(
                    "隐患 `{id}` 已在第 {first} 行列出",
                    "hidden danger `{id}` is already listed at line {first}"
                ),
            );
        }
        match (grade, status) {
            (Some(grade), Some(status)) if is.is_empty() => {
                seen.insert(id.clone(), line_label(t, row));
                out.dangers.push(HiddenDanger {
                    id,
                    enterprise_id: eid.to_string(),
                    grade,
                    status,
                    description: Some(cell(t, row, &m, "description").to_string())
                        .filter(|s| !s.is_empty()),
                    source: SourceRef {
                        file: t.file.clone(),
                        line: row.line,
                    },
                });
            }
            _ => {
                out.rows_rejected += 1;
                out.rejects.extend(is.into_rejects(&row_ref(
                    t,
                    row,
                    &m,
                    Some("enterprise_id"),
                    Some("id"),
                )));
            }
        }
    }
    Ok(out)
}
