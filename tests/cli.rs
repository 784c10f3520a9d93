//! The `riskmap` binary: help text, exit codes, query output, sample determinism.

use std::path::Path;
use std::process::Command;

mod common;

fn riskmap() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_riskmap"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

#[test]
fn help_in_plain_words() {
    for sub in ["build", "validate", "query", "sample"] {
        let o = riskmap().args([sub, "--help"]).output().unwrap();
        assert!(o.status.success());
        let s = String::from_utf8(o.stdout).unwrap();
        assert!(s.contains("用法：riskmap"), "{s}");
    }
    let o = riskmap().arg("--help").output().unwrap();
    let s = String::from_utf8(o.stdout).unwrap();
    assert!(
        s.contains("build")
            && s.contains("validate")
            && s.contains("query")
            && s.contains("sample")
    );
}

#[test]
fn unknown_config_key_is_exit_2_naming_the_key() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("bad.toml");
    std::fs::write(&p, "[output]\ndirr = \"x\"\n").unwrap();
    let o = riskmap()
        .args(["build", "--config"])
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8(o.stderr).unwrap();
    assert!(e.contains("output.dirr"), "{e}");
}

#[test]
fn query_near_and_at_as_json() {
    // 章丘刁镇 chemical park, given in GCJ-02 as a Gaode user would copy it
    let o = riskmap()
        .args([
            "query",
            "--near",
            "117.3760,36.8580",
            "--radius",
            "1500",
            "--crs",
            "gcj02",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let list = v["enterprises"].as_array().unwrap();
    assert!(!list.is_empty());
    let d: Vec<f64> = list
        .iter()
        .map(|e| e["distance_m"].as_f64().unwrap())
        .collect();
    assert!(
        d.windows(2).all(|w| w[0] <= w[1]) && *d.last().unwrap() <= 1500.0,
        "nearest first, within the radius"
    );
    let o = riskmap()
        .args(["query", "--at", "117.0,36.66"])
        .output()
        .unwrap();
    let s = String::from_utf8(o.stdout).unwrap();
    assert!(
        s.contains("区县 市中区") || s.contains("区县 历下区") || s.contains("区县 槐荫区"),
        "{s}"
    );
    assert!(s.contains("5 家企业"), "{s}");
    let o = riskmap()
        .args(["query", "--bbox", "117.5,36.0,117.0,37.0"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "an inverted bbox is an error");
}

#[test]
fn validate_exit_code_and_strict_build() {
    let d = tempfile::tempdir().unwrap();
    let o = riskmap().arg("validate").output().unwrap();
    assert_eq!(o.status.code(), Some(1), "the sample has dirty rows");
    let s = String::from_utf8(o.stdout).unwrap();
    assert!(s.contains("zero_coordinate") && s.contains("swapped_lat_lon"));
    let o = riskmap()
        .args(["build", "--strict", "--out"])
        .arg(d.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        std::fs::read_dir(d.path()).unwrap().count(),
        0,
        "--strict wrote nothing"
    );
}

#[test]
fn one_off_map_from_flags_without_config() {
    let d = tempfile::tempdir().unwrap();
    let reg = d.path().join("r.csv");
    std::fs::write(
        &reg,
        "企业编号,企业名称,经度,纬度,风险等级\nA,甲,117.03,36.71,重大\n",
    )
    .unwrap();
    let out = d.path().join("out");
    let o = riskmap()
        .args(["build", "--enterprises"])
        .arg(&reg)
        .args([
            "--crs",
            "gcj02",
            "--boundaries",
            "data/sample/jinan_districts_gcj02.geojson",
            "--boundaries-crs",
            "gcj02",
            "--zoom",
            "8-9",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // the whole set, as the sample writes it (#31): the map files, the tile archives in
    // the default formats, the report
    for f in [
        "report.html",
        "report.xlsx",
        "mbtiles/surface.mbtiles",
        "pmtiles/surface.pmtiles",
        "mbtiles/areas.mbtiles",
        "overview.png",
    ] {
        assert!(out.join(f).is_file(), "{f} not written");
    }
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("enterprises.geojson")).unwrap()).unwrap();
    assert_eq!(
        v["features"].as_array().unwrap().len(),
        1,
        "the sample's riskmap.toml was not mixed in"
    );
    assert_eq!(v["features"][0]["properties"]["level"], "red");
}

#[test]
fn sample_is_deterministic() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    for d in [a.path(), b.path()] {
        let o = riskmap()
            .args(["sample", "--count", "800", "--seed", "7", "--out"])
            .arg(d)
            .output()
            .unwrap();
        assert!(o.status.success());
    }
    for n in [
        "enterprises.csv",
        "assessments.csv",
        "hidden_dangers.csv",
        "sites.csv",
    ] {
        assert_eq!(
            std::fs::read(a.path().join(n)).unwrap(),
            std::fs::read(b.path().join(n)).unwrap(),
            "{n}"
        );
    }
    // and the bundled sample is what the default seed makes
    let c = tempfile::tempdir().unwrap();
    riskmap()
        .args(["sample", "--out"])
        .arg(c.path())
        .output()
        .unwrap();
    let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample/enterprises.csv");
    assert_eq!(
        std::fs::read(c.path().join("enterprises.csv")).unwrap(),
        std::fs::read(bundled).unwrap()
    );
}

#[test]
fn report_pdf_without_chromium_says_how_to_install_it() {
    let d = tempfile::tempdir().unwrap();
    let o = riskmap()
        .args(["report", "--pdf", "--out"])
        .arg(d.path())
        .env("PATH", "")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("apt-get install chromium"), "{err}");
    assert!(
        d.path().join("report.html").exists(),
        "the HTML report is still written"
    );
    assert!(!d.path().join("report.pdf").exists());
}

/// A missing input is exit 2 and one line naming the file, for each command that reads.
#[test]
fn missing_input_is_one_line_naming_the_file() {
    let d = tempfile::tempdir().unwrap();
    for cmd in ["build", "validate", "tiles", "report"] {
        let o = riskmap()
            .args([cmd, "--enterprises", "没有这个文件.csv", "--out"])
            .arg(d.path())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{cmd}");
        let err = String::from_utf8(o.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{cmd}: {err}");
        assert!(
            err.starts_with("riskmap: ") && err.contains("没有这个文件.csv"),
            "{cmd}: {err}"
        );
    }
}

/// `report --pdf` where Chromium is installed (`.ci/run` installs it before `cargo test`):
/// a PDF of A4 pages beside the HTML, and no temporary file left. Skipped, with one line,
/// where no Chromium is on PATH.
#[test]
fn report_pdf_with_chromium_is_an_a4_pdf() {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .any(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        });
    if !found {
        eprintln!("skipped: report --pdf needs Chromium (.ci/run installs it)");
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let o = riskmap()
        .args(["report", "--pdf", "--out"])
        .arg(d.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let pdf = std::fs::read(d.path().join("report.pdf")).unwrap();
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    let text = String::from_utf8_lossy(&pdf);
    let pages = text.matches("/Type /Page\n").count()
        + text.matches("/Type /Page/").count()
        + text.matches("/Type /Page ").count()
        + text.matches("/Type /Page>").count();
    assert!(pages >= 1, "no page objects in the PDF");
    // A4 is 595 × 842 pt
    assert!(
        text.contains("/MediaBox [0 0 594.") || text.contains("/MediaBox [0 0 595"),
        "pages are not A4"
    );
    // no temporary file anywhere in the output folder or its generations
    fn walk(p: &Path, left: &mut Vec<String>) {
        for e in std::fs::read_dir(p).unwrap().flatten() {
            let n = e.file_name().to_string_lossy().to_string();
            if n.contains(".tmp-") || n.ends_with(".partial") {
                left.push(e.path().display().to_string());
            }
            if e.file_type().unwrap().is_dir() {
                walk(&e.path(), left);
            }
        }
    }
    let mut left = vec![];
    walk(d.path(), &mut left);
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// `riskmap bench` smoke run on a small generated register (no peer): exit 0 and one
/// table row for the size with a time for every stage, the enterprise count the register
/// has, and a peak memory.
#[test]
fn bench_smoke_run_prints_a_row_per_size() {
    let d = tempfile::tempdir().unwrap();
    let o = riskmap()
        .args(["bench", "--sizes", "1500", "--peer-points", "0", "--work"])
        .arg(d.path())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let header = out
        .lines()
        .find(|l| l.starts_with("| run |"))
        .unwrap_or_else(|| panic!("no table header: {out}"));
    let cols: Vec<&str> = header.split('|').map(str::trim).collect();
    let rows: Vec<Vec<&str>> = out
        .lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("| run |") && !l.starts_with("|---"))
        .map(|l| l.split('|').map(str::trim).collect())
        .collect();
    assert_eq!(rows.len(), 1, "one row for one size: {out}");
    let row = &rows[0];
    assert_eq!(row.len(), cols.len(), "{header}\n{row:?}");
    let at = |name: &str| -> &str {
        row[cols
            .iter()
            .position(|c| *c == name)
            .unwrap_or_else(|| panic!("no column {name}: {header}"))]
    };
    // the generated register's enterprises, less its deliberate rejects
    let n: usize = at("enterprises").replace(',', "").parse().unwrap();
    assert!(n > 1400 && n <= 1500, "{n} enterprises");
    for stage in ["load s", "surface s", "zones s", "write s", "total s"] {
        let s: f64 = at(stage)
            .parse()
            .unwrap_or_else(|_| panic!("{stage}: {row:?}"));
        assert!(s >= 0.0 && s < 600.0, "{stage} {s}");
    }
    let total: f64 = at("total s").parse().unwrap();
    let load: f64 = at("load s").parse().unwrap();
    assert!(total >= load, "total {total} < load {load}");
    let mb: f64 = at("peak MB").parse().unwrap();
    assert!(mb > 1.0, "peak MB {mb}");
}

/// The analyst's path (#31): a workbook as an office keeps it — a title row and a date
/// row over the headers, Gaode GCJ-02 positions in degrees-minutes-seconds with no CRS
/// column, levels as 「Ⅱ级」「重大风险（红）」, DataV's district file beside it — through
/// `riskmap init` (which finds the sheet, the header row, the boundaries and, from the
/// districts the rows name, that the positions are GCJ-02) and `riskmap build` to the
/// whole set, with only the one truly bad row rejected.
#[test]
fn init_then_build_an_office_workbook() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let districts_file = root.join("data/sample/jinan_districts_gcj02.geojson");
    // rows from the sample's true positions: those a WGS84 reading would move across a
    // district border, and up to 40 it would not
    let (moved, kept) = common::border_rows();
    let rows: Vec<common::BorderRow> = moved.into_iter().chain(kept).collect();
    let dms = |v: f64| {
        let d = v.trunc();
        let m = ((v - d) * 60.0).trunc();
        let s = ((v - d) * 60.0 - m) * 60.0;
        format!("{d}°{m:02}′{s:05.2}″")
    };
    let levels = ["Ⅰ级", "Ⅱ级", "Ⅲ级", "Ⅳ级", "重大风险（红）", "较大风险企业"];
    let d = tempfile::tempdir().unwrap();
    let book = d.path().join("名录.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("企业名录").unwrap();
    ws.write_string(0, 0, "济南市安全生产风险企业名录").unwrap();
    ws.write_string(1, 0, "填报日期：2026-11-01").unwrap();
    for (c, t) in [
        "企业编号",
        "企业名称",
        "所属区县",
        "经度",
        "纬度",
        "风险等级",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string(2, c as u16, *t).unwrap();
    }
    for (i, row) in rows.iter().enumerate() {
        let r = 3 + i as u32;
        for (c, v) in [
            row.id.clone(),
            row.name.clone(),
            row.district.clone(),
            dms(row.gcj02.0),
            dms(row.gcj02.1),
            levels[i % levels.len()].to_string(),
        ]
        .iter()
        .enumerate()
        {
            ws.write_string(r, c as u16, v).unwrap();
        }
    }
    // the one truly bad row
    let bad = 3 + rows.len() as u32;
    for (c, v) in [
        "BAD1",
        "某某化工",
        "历下区",
        "117°03′15″",
        "36°39′30″",
        "Ⅴ级",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string(bad, c as u16, *v).unwrap();
    }
    wb.save(&book).unwrap();
    std::fs::copy(&districts_file, d.path().join("区县.geojson")).unwrap();

    let cfg = d.path().join("riskmap.toml");
    let o = riskmap()
        .arg("init")
        .arg(&book)
        .arg("--out")
        .arg(&cfg)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        o.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        said.contains("坐标系") && said.contains("区县边界"),
        "{said}"
    );
    let toml = std::fs::read_to_string(&cfg).unwrap();
    for want in [
        "header_row = 3",
        "crs = \"gcj02\"",
        "[boundaries]",
        "区县.geojson",
        "path = \"名录.xlsx\"",
        "region_name = \"济南市\"",
    ] {
        assert!(toml.contains(want), "{want} not in:\n{toml}");
    }
    // a second init does not overwrite it
    let again = riskmap()
        .arg("init")
        .arg(&book)
        .arg("--out")
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));

    let out = d.path().join("out");
    let o = riskmap()
        .args(["build", "--config"])
        .arg(&cfg)
        .args(["--zoom", "8-9", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("enterprises.geojson")).unwrap()).unwrap();
    let feats = v["features"].as_array().unwrap();
    assert_eq!(feats.len(), rows.len());
    // every enterprise in the district its row names (the GCJ-02 reading)
    for f in feats {
        assert_eq!(
            f["properties"]["district"], f["properties"]["district_stated"],
            "{}",
            f["properties"]["id"]
        );
    }
    let rejects = std::fs::read_to_string(out.join("rejects.csv")).unwrap();
    assert_eq!(rejects.lines().count(), 2, "{rejects}");
    assert!(rejects.contains("BAD1"));
    for f in [
        "report.html",
        "report.xlsx",
        "mbtiles/surface.mbtiles",
        "pmtiles/points.pmtiles",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let summary = std::fs::read_to_string(out.join("summary.json")).unwrap();
    assert!(!summary.contains("坐标系未注明"), "the CRS is stated now");
}

/// `crs = "auto"` (#31 §4): a register of Gaode positions with no CRS stated is read as
/// GCJ-02 because its rows' districts say so, and the positions written are the true
/// (WGS84) ones; the note names the system and the numbers.
#[test]
fn crs_auto_adopts_the_system_the_districts_point_to() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (moved, kept) = common::border_rows();
    let rows: Vec<common::BorderRow> = moved.into_iter().chain(kept).collect();
    let d = tempfile::tempdir().unwrap();
    let refs: Vec<&common::BorderRow> = rows.iter().collect();
    std::fs::write(
        d.path().join("名录.csv"),
        common::border_register(&refs, false),
    )
    .unwrap();
    std::fs::write(
        d.path().join("riskmap.toml"),
        format!(
            "[enterprises]\npath = \"名录.csv\"\ncrs = \"auto\"\n[boundaries]\npath = \"{}\"\n[tiles]\nenabled = false\n",
            root.join("data/sample/jinan_districts_gcj02.geojson").display()
        ),
    )
    .unwrap();
    let o = riskmap()
        .current_dir(d.path())
        .args(["build", "--config", "riskmap.toml"])
        .env_remove("LANG")
        .env_remove("RISKMAP_LANG")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        o.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        said.contains("crs = \"auto\"") && said.contains("GCJ-02"),
        "{said}"
    );
    let g: serde_json::Value = serde_json::from_slice(
        &std::fs::read(d.path().join("output/enterprises.geojson")).unwrap(),
    )
    .unwrap();
    let feats = g["features"].as_array().unwrap();
    assert_eq!(feats.len(), rows.len());
    for f in feats {
        let id = f["properties"]["id"]
            .as_str()
            .or(f["properties"]["企业编号"].as_str())
            .unwrap_or_else(|| panic!("{f}"));
        let r = rows.iter().find(|r| r.id == id).unwrap();
        let c = f["geometry"]["coordinates"].as_array().unwrap();
        let (x, y) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
        // written to the outputs' decimals; GCJ-02 back to WGS84 is good to centimetres
        assert!(
            (x - r.wgs84.0).abs() < 2e-6 && (y - r.wgs84.1).abs() < 2e-6,
            "{id}: ({x}, {y}) vs true {:?}",
            r.wgs84
        );
    }
}

/// A boundary file read in the wrong system (#31 §4): a WGS84 register (stated) over
/// DataV's GCJ-02 districts read as WGS84 is flagged with the numbers; read right, it is
/// not.
#[test]
fn a_boundary_crs_mismatch_is_flagged() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (moved, kept) = common::border_rows();
    let d = tempfile::tempdir().unwrap();
    let rows: Vec<&common::BorderRow> = moved.iter().chain(kept.iter()).collect();
    std::fs::write(d.path().join("r.csv"), common::border_register(&rows, true)).unwrap();
    let b = root.join("data/sample/jinan_districts_gcj02.geojson");
    let run = |bcrs: &str| {
        let o = riskmap()
            .current_dir(d.path())
            .args([
                "validate",
                "--enterprises",
                "r.csv",
                "--boundaries-crs",
                bcrs,
            ])
            .arg("--boundaries")
            .arg(&b)
            .env_remove("LANG")
            .env_remove("RISKMAP_LANG")
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    let wrong = run("wgs84");
    assert!(
        wrong.contains("边界文件的坐标系可能不对") && wrong.contains("gcj02"),
        "{wrong}"
    );
    let right = run("gcj02");
    assert!(!right.contains("边界文件的坐标系可能不对"), "{right}");
}
