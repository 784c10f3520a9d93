//! CSV tables for people with Excel: rejects.csv (UTF-8 with BOM, Chinese headers).

use super::write_csv_bom;
use riskmap_core::ingest::Reject;
use std::io::Write;

/// Headers of rejects.csv: file, line, the row's enterprise id, the row's own id, column,
/// raw value, reason code, reason, message.
pub const REJECT_HEADERS: [&str; 9] = [
    "文件",
    "行号",
    "企业编号",
    "记录编号",
    "列",
    "原始值",
    "原因代码",
    "原因",
    "说明",
];

/// Write every reject, in input order.
pub fn write_rejects(w: &mut dyn Write, rejects: &[Reject]) -> std::io::Result<()> {
    write_csv_bom(w, &REJECT_HEADERS, rejects.iter().map(reject_record))
}

/// A reject's fields in the order of [`REJECT_HEADERS`] (rejects.csv, the PostGIS table).
pub fn reject_record(r: &Reject) -> Vec<String> {
    vec![
        r.file.clone(),
        r.line.clone(),
        r.enterprise_id.clone(),
        r.row_id.clone(),
        r.column.clone(),
        r.value.clone(),
        r.kind.code().to_string(),
        r.kind.zh().to_string(),
        r.message.clone(),
    ]
}
