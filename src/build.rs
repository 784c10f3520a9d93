//! `riskmap build`: load, run every configured stage, write all outputs as one atomic set.

use crate::export::{self, summary, OutputSet};
use crate::pipeline::Dataset;
use crate::Error;
use std::path::PathBuf;

/// Options of a build beyond the config.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Any rejected row fails the run and nothing is written.
    pub strict: bool,
}

/// What a build wrote.
pub struct BuildReport {
    pub outputs: Vec<PathBuf>,
    pub summary_text: String,
    pub rows_rejected: usize,
}

fn io(path: &std::path::Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Write every output of a loaded dataset into the configured output folder.
pub fn build(ds: &Dataset, opts: &BuildOptions) -> Result<BuildReport, Error> {
    let rows_rejected: usize = ds.inputs.iter().map(|i| i.rows_rejected).sum();
    if opts.strict && rows_rejected > 0 {
        return Err(Error::Strict(rows_rejected));
    }
    let out = ds.config.output.dir.clone();
    let mut set = OutputSet::new();
    let mut names: Vec<String> = Vec::new();
    let stage = |set: &mut OutputSet,
                 name: &str,
                 f: &mut dyn FnMut(&mut dyn std::io::Write) -> std::io::Result<()>|
     -> Result<(), Error> {
        let p = out.join(name);
        set.stage(&p, |w| f(w)).map_err(io(&p))
    };
    names.push("enterprises.geojson".into());
    stage(&mut set, "enterprises.geojson", &mut |w| {
        export::geojson::write_enterprises(w, ds, crate::crs::Crs::Wgs84)
    })?;
    if !ds.districts.is_empty() {
        names.push("districts.geojson".into());
        stage(&mut set, "districts.geojson", &mut |w| {
            export::geojson::write_districts(w, ds, crate::crs::Crs::Wgs84)
        })?;
    }
    for &crs in &ds.config.output.crs_out {
        if matches!(crs, crate::crs::Crs::Wgs84 | crate::crs::Crs::Cgcs2000) {
            continue;
        }
        names.push(format!("enterprises.{crs}.geojson"));
        stage(&mut set, &format!("enterprises.{crs}.geojson"), &mut |w| {
            export::geojson::write_enterprises(w, ds, crs)
        })?;
        if !ds.districts.is_empty() {
            names.push(format!("districts.{crs}.geojson"));
            stage(&mut set, &format!("districts.{crs}.geojson"), &mut |w| {
                export::geojson::write_districts(w, ds, crs)
            })?;
        }
    }
    names.push("rejects.csv".into());
    stage(&mut set, "rejects.csv", &mut |w| {
        export::tables::write_rejects(w, &ds.rejects)
    })?;
    let t = summary::tally(ds);
    names.push("summary.json".into());
    let json = summary::summary_json(ds, &t, &names, Default::default());
    let bytes = serde_json::to_vec_pretty(&json).unwrap_or_default();
    stage(&mut set, "summary.json", &mut |w| w.write_all(&bytes))?;
    let outputs = set.commit().map_err(io(&out))?;
    Ok(BuildReport {
        outputs,
        summary_text: summary::summary_text(ds, &t),
        rows_rejected,
    })
}
