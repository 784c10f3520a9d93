//! Polygon geometry the readers and the analysis share: validity (OGC simple features, as
//! GEOS's `IsValid` judges) and a grid index of ring segments.

pub mod segments;
pub mod valid;
