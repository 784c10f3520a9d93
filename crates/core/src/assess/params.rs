//! The grading rules in force: tables and the enterprise-level switches (`[grading]`).

use crate::assess::tables::GradingTables;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Grading rules (domain.md §2–§3).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct GradingConfig {
    /// TOML file with the LEC / LS / MES tables and bands. Default: built-in domain.md
    /// values (the same as `styles/grading.toml`).
    pub tables: Option<PathBuf>,
    /// Inline tables, overriding the file's (same keys as `styles/grading.toml`).
    pub inline: Option<GradingTables>,
    /// An open (未整改 / 整改中) 重大事故隐患 forces red. Default true.
    pub open_major_hidden_danger_red: bool,
    /// A major hazard source grade is a floor (一级 red … 四级 blue). Default true.
    pub major_hazard_floor: bool,
    /// A fatal accident in the last 12 months (column `fatal_accident`) forces red. Default true.
    pub fatal_accident_red: bool,
}

impl Default for GradingConfig {
    fn default() -> Self {
        GradingConfig {
            tables: None,
            inline: None,
            open_major_hidden_danger_red: true,
            major_hazard_floor: true,
            fatal_accident_red: true,
        }
    }
}
