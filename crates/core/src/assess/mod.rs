//! Assess: grade risk points by LEC, LS, MES or a direct level (one file per method), then
//! grade enterprises by "the highest wins" and the forced rules, recording why.

pub mod lec;
pub mod ls;
pub mod mes;
pub mod params;
pub mod rules;
pub mod tables;

pub use rules::{grade_all, id_positions, Grade, RuleSwitches};
pub use tables::GradingTables;

use crate::model::{Level, Method};

/// The level of an assessed risk point.
pub fn grade_point(tables: &GradingTables, method: &Method) -> Level {
    match *method {
        Method::Lec { l, e, c } => lec::grade(&tables.lec, l, e, c).1,
        Method::Ls { l, s } => ls::grade(&tables.ls, l, s).1,
        Method::Mes { m, e, s } => mes::grade(&tables.mes, m, e, s).1,
        Method::Direct(l) => l,
    }
}
