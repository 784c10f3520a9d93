//! Rows → monitoring points and readings of major hazard sources (#27 §3). A point
//! names its enterprise (checked against the register), its quantity in the owner's
//! words and its high / high-high thresholds; a reading names its point, a value and a
//! time. Whether a reading's point exists, its time is not ahead of the clock and it is
//! not a repeat is the alarm engine's check (`riskmap_analyze::monitoring`), which sees
//! every source (files, the database, `POST /api/readings`) the same way.

use super::assessments::orphan;
use super::fields::{map_columns, MONITORING_POINT_FIELDS, READING_FIELDS};
use super::records::*;
use super::rejects::{Reject, RejectKind as K, RowIssues};
use super::table::Table;
use super::IngestError;
use crate::ingest::params::TableInput;
use crate::model::*;
use foldhash::{HashMap, HashSet};

/// Monitoring points read from a table.
#[derive(Debug, Default)]
pub struct PointRead {
    pub points: Vec<MonitoringPoint>,
    pub rejects: Vec<Reject>,
    pub rows_read: usize,
    pub rows_rejected: usize,
}

/// Read the monitoring points; `known` are the register's ids, `rejected` the ids of
/// its rejected rows.
pub fn read_points(
    t: &Table,
    input: &TableInput,
    known: &HashMap<&str, u32>,
    rejected: &HashSet<String>,
) -> Result<PointRead, IngestError> {
    let m = map_columns(
        &t.file,
        &t.headers,
        MONITORING_POINT_FIELDS,
        &input.columns,
        &[],
    )?;
    let mut out = PointRead {
        rows_read: t.rows.len(),
        ..Default::default()
    };
    let mut seen = SeenIds::default();
    for row in &t.rows {
        let mut is = RowIssues::default();
        let id = cell(t, row, &m, "id").trim().to_string();
        if id.is_empty() {
            is.add(
                K::MissingValue,
                header(t, &m, "id"),
                "",
                crate::tr!("测点编号为空", "the point id is empty"),
            );
        }
        seen.check(t, &m, &id, &mut is);
        let enterprise = cell(t, row, &m, "enterprise_id").trim().to_string();
        orphan(
            &enterprise,
            known,
            rejected,
            header(t, &m, "enterprise_id"),
            &mut is,
        );
        let qt = cell(t, row, &m, "quantity").trim();
        let quantity = Quantity::parse(qt);
        if quantity.is_none() {
            is.add(
                if qt.is_empty() { K::MissingValue } else { K::UnknownValue },
                header(t, &m, "quantity"),
                qt,
                crate::tr!(
                    "监测类型应为 可燃气体浓度（%LEL）、有毒气体浓度（ppm）、液位、压力 或 温度",
                    "the quantity is combustible gas (%LEL), toxic gas (ppm), level, pressure or temperature"
                ),
            );
        }
        let high = number(t, row, &m, "high", false, &mut is);
        let high_high = number(t, row, &m, "high_high", false, &mut is);
        if let (Some(h), Some(hh)) = (high, high_high) {
            if hh < h {
                is.add(
                    K::UnknownValue,
                    header(t, &m, "high_high"),
                    cell(t, row, &m, "high_high"),
                    crate::tr!(
                        "高高报值 {hh} 低于高报值 {h}",
                        "the high-high threshold {hh} is below the high threshold {h}"
                    ),
                );
            }
        }
        match quantity {
            Some(quantity) if is.is_empty() => {
                seen.insert(t, row, &id);
                let unit = cell(t, row, &m, "unit").trim();
                let name = cell(t, row, &m, "name").trim();
                out.points.push(MonitoringPoint {
                    id,
                    enterprise,
                    quantity,
                    name: (!name.is_empty()).then(|| name.to_string()),
                    unit: if unit.is_empty() {
                        quantity.unit().to_string()
                    } else {
                        unit.to_string()
                    },
                    high,
                    high_high,
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

/// Readings read from a table (in the table's order).
#[derive(Debug, Default)]
pub struct ReadingRead {
    pub readings: Vec<Reading>,
    pub rejects: Vec<Reject>,
    pub rows_read: usize,
    pub rows_rejected: usize,
}

/// A reading's cells as text, from any source (a table row, a posted JSON object).
#[derive(Debug, Default, Clone)]
pub struct RawReading<'a> {
    pub point: &'a str,
    pub enterprise: &'a str,
    pub quantity: &'a str,
    pub value: &'a str,
    pub time: &'a str,
}

/// One reading from its cells, or its rejects (at `file`/`line`, each column named by
/// `columns`, the source's header of each field, as the source names it).
pub fn parse_reading(
    raw: &RawReading,
    utc_offset_min: i32,
    file: &str,
    line: String,
    columns: &std::sync::Arc<Vec<(&'static str, String)>>,
) -> Result<Reading, Vec<Reject>> {
    let mut bad = Vec::new();
    let point = raw.point.trim();
    if point.is_empty() {
        bad.push((
            K::MissingValue,
            "point",
            String::new(),
            crate::tr!("测点编号为空", "the point id is empty"),
        ));
    }
    let v = raw.value.trim();
    let value = parse_number(v);
    if value.is_none() {
        bad.push((
            if v.is_empty() {
                K::MissingValue
            } else {
                K::UnparseableNumber
            },
            "value",
            v.to_string(),
            crate::tr!("监测值 `{v}` 不是数字", "the value `{v}` is not a number"),
        ));
    }
    let tt = raw.time.trim();
    let time = parse_time(tt, utc_offset_min);
    if time.is_none() {
        bad.push((
            if tt.is_empty() { K::MissingValue } else { K::UnparseableTime },
            "time",
            tt.to_string(),
            crate::tr!(
                "时间 `{tt}` 无法解析（如 2026-12-07 10:05:00、带时区的 ISO 8601，或 Unix 秒/毫秒）",
                "the time `{tt}` is not a time (e.g. 2026-12-07 10:05:00, ISO 8601 with an offset, or Unix seconds/milliseconds)"
            ),
        ));
    }
    let qt = raw.quantity.trim();
    let quantity = Quantity::parse(qt);
    if !qt.is_empty() && quantity.is_none() {
        bad.push((
            K::UnknownValue,
            "quantity",
            qt.to_string(),
            crate::tr!("不是已知的监测类型", "not a known quantity"),
        ));
    }
    match (value, time) {
        (Some(value), Some(time_ms)) if bad.is_empty() => Ok(Reading {
            point: point.to_string(),
            enterprise: Some(raw.enterprise.trim().to_string()).filter(|s| !s.is_empty()),
            quantity,
            value,
            time_ms,
            file: file.to_string(),
            line,
            columns: columns.clone(),
        }),
        _ => {
            let header = |f: &str| {
                columns
                    .iter()
                    .find(|(k, _)| *k == f)
                    .map_or(f.to_string(), |(_, h)| h.clone())
            };
            Err(bad
                .into_iter()
                .map(|(kind, col, value, message)| Reject {
                    file: file.to_string(),
                    line: line.clone(),
                    enterprise_id: raw.enterprise.trim().to_string(),
                    row_id: point.to_string(),
                    column: header(col),
                    value,
                    kind,
                    message,
                })
                .collect())
        }
    }
}

/// Read readings: each row parsed (value a number, time a time); rows that are not
/// are rejected here, the rest checked by the alarm engine.
pub fn read_readings(
    t: &Table,
    input: &TableInput,
    utc_offset_min: i32,
) -> Result<ReadingRead, IngestError> {
    let m = map_columns(&t.file, &t.headers, READING_FIELDS, &input.columns, &[])?;
    let mut out = ReadingRead {
        rows_read: t.rows.len(),
        ..Default::default()
    };
    let columns = std::sync::Arc::new(headers_of(&m, &t.headers));
    for row in &t.rows {
        let raw = RawReading {
            point: cell(t, row, &m, "point"),
            enterprise: cell(t, row, &m, "enterprise_id"),
            quantity: cell(t, row, &m, "quantity"),
            value: cell(t, row, &m, "value"),
            time: cell(t, row, &m, "time"),
        };
        match parse_reading(&raw, utc_offset_min, &t.file, line_label(t, row), &columns) {
            Ok(r) => out.readings.push(r),
            Err(rejects) => {
                out.rows_rejected += 1;
                out.rejects.extend(rejects);
            }
        }
    }
    Ok(out)
}

/// Follows a readings CSV a monitoring system appends to (`serve`): each [`poll`]
/// returns the readings of the complete lines added since the last (a line still being
/// written waits for its end), each a reading or the reject of its line. A file that
/// shrinks (rotated, rewritten) is read again from its start. The encoding (UTF-8 or
/// GBK/GB18030), delimiter and header are taken from its first line.
///
/// [`poll`]: ReadingTail::poll
pub struct ReadingTail {
    path: std::path::PathBuf,
    label: String,
    columns: std::collections::BTreeMap<String, String>,
    utc_offset_min: i32,
    offset: u64,
    line: usize,
    gb18030: bool,
    delimiter: u8,
    header: Option<(Vec<String>, super::fields::ColumnMap)>,
    by_field: std::sync::Arc<Vec<(&'static str, String)>>,
}

/// Most bytes a [`ReadingTail::poll`] reads.
const CHUNK: u64 = 16 << 20;

impl ReadingTail {
    pub fn new(path: &std::path::Path, input: &TableInput, utc_offset_min: i32) -> ReadingTail {
        ReadingTail {
            path: path.to_path_buf(),
            label: path.display().to_string(),
            columns: input.columns.clone(),
            utc_offset_min,
            offset: 0,
            line: 0,
            gb18030: false,
            delimiter: b',',
            header: None,
            by_field: Default::default(),
        }
    }

    /// Bytes read so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The readings (or rejects) of the lines completed since the last poll.
    pub fn poll(&mut self) -> Result<Vec<Result<Reading, Reject>>, IngestError> {
        use std::io::{Read, Seek, SeekFrom};
        let label = self.label.clone();
        let io = |e: std::io::Error| IngestError::Io {
            file: label.clone(),
            message: crate::i18n::io_error(&e),
        };
        let len = match std::fs::metadata(&self.path) {
            Ok(m) => m.len(),
            // not there (yet, or being replaced): nothing new
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io(e)),
        };
        if len < self.offset {
            self.offset = 0;
            self.line = 0;
            self.header = None;
        }
        if len == self.offset {
            return Ok(Vec::new());
        }
        let mut f = std::fs::File::open(&self.path).map_err(io)?;
        f.seek(SeekFrom::Start(self.offset)).map_err(io)?;
        // at most 16 MiB a poll: a year of readings is read in pieces, not into memory
        // at once (the next poll goes on where this one stopped)
        let take = (len - self.offset).min(CHUNK);
        let mut bytes = Vec::with_capacity(take as usize);
        f.take(take).read_to_end(&mut bytes).map_err(io)?;
        let Some(end) = bytes.iter().rposition(|&b| b == b'\n') else {
            if take == CHUNK {
                // 16 MiB without a line break is not a readings file's line: passed over
                self.offset += take;
            }
            return Ok(Vec::new());
        };
        bytes.truncate(end + 1);
        let first = self.offset == 0;
        self.offset += bytes.len() as u64;
        let mut body: &[u8] = &bytes;
        if first {
            if let Some(rest) = body.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
                body = rest;
            }
            self.gb18030 = std::str::from_utf8(body).is_err();
        }
        let text = if self.gb18030 {
            encoding_rs::GB18030.decode(body).0.into_owned()
        } else {
            String::from_utf8_lossy(body).into_owned()
        };
        let mut out = Vec::new();
        // the chunk ends with a newline: the split's last piece is empty, not a line
        for raw_line in text.strip_suffix('\n').unwrap_or(&text).split('\n') {
            self.line += 1;
            let l = raw_line.trim_end_matches('\r');
            if l.trim().is_empty() {
                continue;
            }
            if self.header.is_none() {
                self.delimiter = [b',', b'\t', b';', b'|']
                    .into_iter()
                    .max_by_key(|d| l.bytes().filter(|b| b == d).count())
                    .unwrap_or(b',');
                let headers = split_record(l, self.delimiter);
                let m = map_columns(&self.label, &headers, READING_FIELDS, &self.columns, &[])?;
                self.by_field = std::sync::Arc::new(headers_of(&m, &headers));
                self.header = Some((headers, m));
                continue;
            }
            let (_, m) = self.header.as_ref().expect("header read");
            let cells = split_record(l, self.delimiter);
            let get = |f: &str| {
                m.get(f)
                    .and_then(|i| cells.get(i))
                    .map(String::as_str)
                    .unwrap_or("")
            };
            let raw = RawReading {
                point: get("point"),
                enterprise: get("enterprise_id"),
                quantity: get("quantity"),
                value: get("value"),
                time: get("time"),
            };
            match parse_reading(
                &raw,
                self.utc_offset_min,
                &self.label,
                self.line.to_string(),
                &self.by_field,
            ) {
                Ok(r) => out.push(Ok(r)),
                Err(rejects) => out.extend(rejects.into_iter().map(Err)),
            }
        }
        Ok(out)
    }
}

/// Each reading field's header in a table.
pub fn headers_of(m: &super::fields::ColumnMap, headers: &[String]) -> Vec<(&'static str, String)> {
    READING_FIELDS
        .iter()
        .filter_map(|f| Some((f.name, headers.get(m.get(f.name)?)?.clone())))
        .collect()
}

/// One delimited line's cells (quotes as CSV has them).
fn split_record(line: &str, delimiter: u8) -> Vec<String> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(line.as_bytes());
    r.records()
        .next()
        .and_then(Result::ok)
        .map(|rec| rec.iter().map(|c| c.trim().to_string()).collect())
        .unwrap_or_default()
}

/// Follows a database table of readings (`serve` with `[readings] table`, or the
/// database's `readings`): each [`poll`] reads the rows after the last one read, by the
/// table's primary key (a `bigserial` id, or a timestamp), in key order, at most 100,000
/// at a time; a reject names the row by its key.
///
/// [`poll`]: ReadingPoll::poll
pub struct ReadingPoll {
    db: super::db::Db,
    table: String,
    select: String,
    key: String,
    key_type: String,
    last: Option<String>,
    headers: Vec<String>,
    map: super::fields::ColumnMap,
    by_field: std::sync::Arc<Vec<(&'static str, String)>>,
    label: String,
    utc_offset_min: i32,
}

impl ReadingPoll {
    /// Open `table` (its columns mapped as a file's headers are); an error when it has
    /// no primary key to follow it by.
    pub fn new(
        url: &str,
        table: &str,
        input: &TableInput,
        utc_offset_min: i32,
    ) -> Result<ReadingPoll, IngestError> {
        use super::db::{quote_ident, quote_table};
        let mut db = super::db::connect(url)?;
        let label = format!("{}:{table}", db.name);
        let err = |e: postgres::Error| IngestError::Io {
            file: label.clone(),
            message: super::db::pg_message(&e),
        };
        let qt = quote_table(table);
        let key = db
            .client
            .query(
                "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod) FROM pg_index i JOIN pg_attribute a
                   ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
                 WHERE i.indrelid = to_regclass($1) AND i.indisprimary ORDER BY a.attnum LIMIT 1",
                &[&qt],
            )
            .map_err(err)?;
        let Some(k) = key.first() else {
            return Err(IngestError::Column {
                file: label.clone(),
                message: crate::tr!(
                    "监测数据表没有主键，无法跟读新增的行：请加一列 id bigserial PRIMARY KEY",
                    "the readings table has no primary key to follow new rows by: add id bigserial PRIMARY KEY"
                ),
            });
        };
        let (key, key_type): (String, String) = (k.get(0), k.get(1));
        let stmt = db
            .client
            .prepare(&format!("SELECT * FROM {qt} LIMIT 0"))
            .map_err(err)?;
        let headers: Vec<String> = stmt
            .columns()
            .iter()
            .map(|c| c.name().to_string())
            .collect();
        let map = map_columns(&label, &headers, READING_FIELDS, &input.columns, &[])?;
        let select = headers
            .iter()
            .map(|h| format!("{}::text", quote_ident(h)))
            .collect::<Vec<_>>()
            .join(", ");
        let by_field = std::sync::Arc::new(headers_of(&map, &headers));
        Ok(ReadingPoll {
            db,
            table: qt,
            select,
            key: quote_ident(&key),
            key_type,
            last: None,
            headers,
            map,
            by_field,
            label,
            utc_offset_min,
        })
    }

    /// The readings (or rejects) of the rows added since the last poll.
    pub fn poll(&mut self) -> Result<Vec<Result<Reading, Reject>>, IngestError> {
        let sql = match &self.last {
            // the table's own key column (`riskmap_t.`), not the select list's text of
            // it: that would order 1, 10, 11, 12, 2, …
            None => format!(
                "SELECT {}, riskmap_t.{k}::text FROM {} AS riskmap_t ORDER BY riskmap_t.{k} LIMIT 100000",
                self.select,
                self.table,
                k = self.key
            ),
            Some(_) => format!(
                "SELECT {}, riskmap_t.{k}::text FROM {} AS riskmap_t WHERE riskmap_t.{k} > CAST($1::text AS {}) ORDER BY riskmap_t.{k} LIMIT 100000",
                self.select,
                self.table,
                self.key_type,
                k = self.key
            ),
        };
        let label = self.label.clone();
        let rows = match &self.last {
            None => self.db.client.query(sql.as_str(), &[]),
            Some(l) => self.db.client.query(sql.as_str(), &[l]),
        }
        .map_err(|e| IngestError::Io {
            file: label,
            message: super::db::pg_message(&e),
        })?;
        let n = self.headers.len();
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let cells: Vec<String> = (0..n)
                .map(|i| row.get::<_, Option<String>>(i).unwrap_or_default())
                .collect();
            let key: String = row.get::<_, Option<String>>(n).unwrap_or_default();
            let get = |f: &str| {
                self.map
                    .get(f)
                    .and_then(|i| cells.get(i))
                    .map(String::as_str)
                    .unwrap_or("")
            };
            let raw = RawReading {
                point: get("point"),
                enterprise: get("enterprise_id"),
                quantity: get("quantity"),
                value: get("value"),
                time: get("time"),
            };
            let line = format!("{}={key}", self.key.trim_matches('"'));
            match parse_reading(
                &raw,
                self.utc_offset_min,
                &self.label,
                line.clone(),
                &self.by_field,
            ) {
                Ok(r) => out.push(Ok(r)),
                Err(rejects) => out.extend(rejects.into_iter().map(Err)),
            }
            self.last = Some(key);
        }
        Ok(out)
    }
}
