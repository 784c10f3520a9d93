//! Ingest: read enterprise registers, assessments, hidden dangers and boundaries as users
//! have them (CSV in any of the encodings Excel writes, XLSX, GeoJSON), normalise every
//! coordinate to WGS84, check every row against the region and report every rejected row.

pub mod boundaries;
pub mod credit;
pub mod fields;
pub mod records;
pub mod region;
pub mod rejects;
pub mod table;

pub use records::{read_assessments, read_enterprises, read_hidden_dangers, EnterpriseRead};
pub use region::Region;
pub use rejects::{Reject, RejectKind};

/// A whole input that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot open {file} (expected {what}): {message}")]
    Missing {
        file: String,
        what: String,
        message: String,
    },
    #[error("{file} is empty (expected {what})")]
    Empty { file: String, what: String },
    #[error(
        "{file}: the text is neither UTF-8 nor GBK/GB18030; save it as CSV UTF-8 or CSV from Excel"
    )]
    Encoding { file: String },
    #[error("cannot read {file}: {message}")]
    Io { file: String, message: String },
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    #[error("{file}: {message}")]
    Column { file: String, message: String },
}
