//! Ingest: read enterprise registers, assessments, hidden dangers and boundaries as users
//! have them (CSV in any of the encodings Excel writes, XLSX, GeoJSON), normalise every
//! coordinate to WGS84, check every row against the region and report every rejected row.

pub mod assessments;
pub mod boundaries;
pub mod credit;
pub mod db;
pub mod fields;
pub mod lifelines;
pub mod monitoring;
pub mod params;
pub mod records;
pub mod region;
pub mod rejects;
pub mod resources;
pub mod roads;
pub mod sites;
pub mod table;

pub use records::{read_assessments, read_enterprises, read_hidden_dangers, EnterpriseRead};
pub use region::Region;
pub use rejects::{Reject, RejectKind};

/// A whole input that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{}", crate::tr!("无法打开 {file}（应为{what}）：{message}", "cannot open {file} (expected {what}): {message}"))]
    Missing {
        file: String,
        what: String,
        message: String,
    },
    #[error("{}", crate::tr!("{file} 是空文件（应为{what}）", "{file} is empty (expected {what})"))]
    Empty { file: String, what: String },
    #[error("{}", crate::tr!("{file}：文本既不是 UTF-8 也不是 GBK/GB18030；请在 Excel 中另存为“CSV UTF-8”或“CSV”", "{file}: the text is neither UTF-8 nor GBK/GB18030; save it as CSV UTF-8 or CSV from Excel"))]
    Encoding { file: String },
    #[error("{}", crate::tr!("无法读取 {file}：{message}", "cannot read {file}: {message}"))]
    Io { file: String, message: String },
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    #[error("{file}: {message}")]
    Column { file: String, message: String },
    #[error("{}", crate::tr!("{file} 有 {size_mb} MB，超过 riskmap 单个{what}文件的上限 {limit_mb} MB（约 500 万行名录）；请拆分文件或从 PostgreSQL 读取", "{file} is {size_mb} MB, over the {limit_mb} MB riskmap reads from one {what} file (about 5 million register rows); split it or read it from PostgreSQL"))]
    TooLarge {
        file: String,
        what: String,
        size_mb: u64,
        limit_mb: u64,
    },
}

/// Largest input file read whole into memory (CSV, GeoJSON, boundaries): 1 GiB. A
/// register of 1M enterprises is ~150 MB; the limit keeps a stray multi-GB file from
/// taking the machine's memory (read, decoded and split it would need about three times
/// its size).
pub const MAX_INPUT_BYTES: u64 = 1 << 30;
/// Largest XLSX/ODS workbook: its XML unzips to many times the file's size.
pub const MAX_WORKBOOK_BYTES: u64 = 256 << 20;

/// The size check every reader makes before reading a file whole.
pub fn check_size(file: &str, what: &str, len: u64, limit: u64) -> Result<(), IngestError> {
    if len > limit {
        return Err(IngestError::TooLarge {
            file: file.to_string(),
            what: what.to_string(),
            size_mb: len.div_ceil(1 << 20),
            limit_mb: limit >> 20,
        });
    }
    Ok(())
}
