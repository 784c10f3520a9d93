//! Rows that cannot be used, with where they are and why.

use serde::Serialize;

/// Why a row was rejected. `code()` is the machine name used in rejects.csv and summary.json.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectKind {
    MissingValue,
    UnparseableNumber,
    CoordinateOutOfRange,
    ZeroCoordinate,
    SwappedLatLon,
    OutsideRegion,
    NoGeometry,
    UnknownCrs,
    DuplicateId,
    UnknownLevel,
    UnknownValue,
    UnknownMethod,
    NotInTable,
    UnknownEnterprise,
    EnterpriseRejected,
    /// A reading of a point not in the monitoring points.
    UnknownPoint,
    /// A reading's time that is not a time.
    UnparseableTime,
    /// A reading's time later than now (beyond the clock tolerance).
    FutureTime,
    /// A reading of a point at a time it already has a reading for.
    DuplicateReading,
    /// A reading whose enterprise or quantity is not its point's.
    PointMismatch,
}

impl RejectKind {
    pub fn code(self) -> &'static str {
        match self {
            RejectKind::MissingValue => "missing_value",
            RejectKind::UnparseableNumber => "unparseable_number",
            RejectKind::CoordinateOutOfRange => "coordinate_out_of_range",
            RejectKind::ZeroCoordinate => "zero_coordinate",
            RejectKind::SwappedLatLon => "swapped_lat_lon",
            RejectKind::OutsideRegion => "outside_region",
            RejectKind::NoGeometry => "no_geometry",
            RejectKind::UnknownCrs => "unknown_crs",
            RejectKind::DuplicateId => "duplicate_id",
            RejectKind::UnknownLevel => "unknown_level",
            RejectKind::UnknownValue => "unknown_value",
            RejectKind::UnknownMethod => "unknown_method",
            RejectKind::NotInTable => "value_not_in_table",
            RejectKind::UnknownEnterprise => "unknown_enterprise",
            RejectKind::EnterpriseRejected => "enterprise_rejected",
            RejectKind::UnknownPoint => "unknown_point",
            RejectKind::UnparseableTime => "unparseable_time",
            RejectKind::FutureTime => "future_time",
            RejectKind::DuplicateReading => "duplicate_reading",
            RejectKind::PointMismatch => "point_mismatch",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            RejectKind::MissingValue => "缺少必填值",
            RejectKind::UnparseableNumber => "数值无法解析",
            RejectKind::CoordinateOutOfRange => "坐标超出范围",
            RejectKind::ZeroCoordinate => "坐标为(0,0)占位值",
            RejectKind::SwappedLatLon => "经纬度疑似颠倒",
            RejectKind::OutsideRegion => "坐标不在区域内",
            RejectKind::NoGeometry => "缺少有效几何",
            RejectKind::UnknownCrs => "未知坐标系",
            RejectKind::DuplicateId => "编号重复",
            RejectKind::UnknownLevel => "未知风险等级",
            RejectKind::UnknownValue => "未知取值",
            RejectKind::UnknownMethod => "未知评价方法",
            RejectKind::NotInTable => "取值不在评价表中",
            RejectKind::UnknownEnterprise => "企业不在名录中",
            RejectKind::EnterpriseRejected => "所属企业行已被拒绝",
            RejectKind::UnknownPoint => "测点不在监测点表中",
            RejectKind::UnparseableTime => "时间无法解析",
            RejectKind::FutureTime => "时间晚于当前时间",
            RejectKind::DuplicateReading => "重复读数",
            RejectKind::PointMismatch => "与测点登记不符",
        }
    }
}

/// One problem with one row.
#[derive(Debug, Clone, Serialize)]
pub struct Reject {
    pub file: String,
    /// Line (CSV, the line the row starts on, header = 1), row (XLSX, as Excel numbers
    /// it) or `feature N` (GeoJSON, 0-based index).
    pub line: String,
    /// The row's enterprise: its id (企业编号, else the credit code, else a GeoJSON
    /// feature's id) in the register, the enterprise it belongs to in the other tables.
    pub enterprise_id: String,
    /// The row's own id where the table has one (隐患编号, 风险点编号, a site's 编号).
    pub row_id: String,
    pub column: String,
    pub value: String,
    pub kind: RejectKind,
    pub message: String,
}

/// Where a row is: enough to find it in any tool that opens the file.
#[derive(Debug, Clone, Default)]
pub struct RowRef {
    pub file: String,
    pub line: String,
    pub enterprise_id: String,
    pub row_id: String,
}

impl RowRef {
    /// A reject of this row.
    pub fn reject(
        &self,
        kind: RejectKind,
        column: String,
        value: String,
        message: String,
    ) -> Reject {
        Reject {
            file: self.file.clone(),
            line: self.line.clone(),
            enterprise_id: self.enterprise_id.clone(),
            row_id: self.row_id.clone(),
            column,
            value,
            kind,
            message,
        }
    }
}

/// Collects the problems of the row being read.
#[derive(Debug, Default)]
pub struct RowIssues {
    pub issues: Vec<(RejectKind, String, String, String)>,
}

impl RowIssues {
    pub fn add(&mut self, kind: RejectKind, column: &str, value: &str, message: impl Into<String>) {
        self.issues
            .push((kind, column.to_string(), value.to_string(), message.into()));
    }
    pub fn is_empty(&self) -> bool {
        self.issues.is_empty()
    }
    pub fn into_rejects(self, at: &RowRef) -> Vec<Reject> {
        self.issues
            .into_iter()
            .map(|(kind, column, value, message)| at.reject(kind, column, value, message))
            .collect()
    }
}
