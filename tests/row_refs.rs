//! Row references that point at the row: every reject names the line the row starts on
//! in the file as the user has it (CRLF, LF, CR-only, UTF-8 with BOM, GBK, UTF-16 with
//! and without BOM, tab and semicolon delimiters, quoted line breaks, blank lines), the
//! sheet row as Excel numbers it, the GeoJSON feature index and id, and the row's
//! enterprise id and own id. The expected lines are written by hand next to the text.

use riskmap::config::Config;
use riskmap::ingest::{Reject, RejectKind};
use riskmap::pipeline::load;
use std::path::{Path, PathBuf};

/// The register, one entry per physical line (`None` = the line break inside a quoted
/// cell continues the row). Bad rows: line 6 (longitude `abc`, E3), line 10 (no id, the
/// credit code stands in), line 11 (unknown level, E5), line 12 (E1 again).
const LINES: &[&str] = &[
    "企业编号,统一社会信用代码,企业名称,行业,经度,纬度,风险等级",
    "E1,,甲化工有限公司,化工,117.02,36.70,较大",
    "",
    "E2,,\"乙化工",
    "有限公司\",化工,117.37,36.86,重大",
    "E3,,丙钢铁有限公司,冶金,abc,36.22,一般",
    "E4,,丁钢铁有限公司,冶金,117.66,36.22,一般",
    "",
    "",
    ",913701173G1KC6GA4J,戊机械有限公司,机械,117.10,36.60,一般",
    "E5,,己机械有限公司,机械,117.10,36.60,紫色",
    "E1,,庚机械有限公司,机械,117.10,36.61,一般",
];

/// (line, enterprise id, reason) of every reject, in file order.
const EXPECTED: &[(&str, &str, RejectKind)] = &[
    ("6", "E3", RejectKind::UnparseableNumber),
    ("10", "913701173G1KC6GA4J", RejectKind::MissingValue),
    ("11", "E5", RejectKind::UnknownLevel),
    ("12", "E1", RejectKind::DuplicateId),
];

fn text(eol: &str, delim: char) -> String {
    let mut s = LINES.join(eol);
    s.push_str(eol);
    if delim != ',' {
        // no cell holds a comma, so the delimiter can be swapped wholesale
        s = s.replace(',', &delim.to_string());
    }
    s
}

fn utf16(s: &str, bom: bool, big_endian: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if bom {
        out.extend(if big_endian {
            [0xFE, 0xFF]
        } else {
            [0xFF, 0xFE]
        });
    }
    for u in s.encode_utf16() {
        out.extend(if big_endian {
            u.to_be_bytes()
        } else {
            u.to_le_bytes()
        });
    }
    out
}

fn run(path: &Path) -> Vec<Reject> {
    let mut c = Config::default();
    c.enterprises.path = Some(path.to_path_buf());
    let ds = load(&c).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        ds.enterprises.len(),
        3,
        "{}: {:?}",
        path.display(),
        ds.rejects
    );
    ds.rejects
}

fn check(label: &str, rejects: &[Reject]) {
    let got: Vec<(&str, &str, RejectKind)> = rejects
        .iter()
        .map(|r| (r.line.as_str(), r.enterprise_id.as_str(), r.kind))
        .collect();
    assert_eq!(got, EXPECTED, "{label}");
}

#[test]
fn every_line_ending_and_encoding_names_the_right_line_and_id() {
    let d = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("lf", text("\n", ',').into_bytes()),
        ("crlf", text("\r\n", ',').into_bytes()),
        ("cr", text("\r", ',').into_bytes()),
        ("bom-crlf", {
            let mut b = b"\xEF\xBB\xBF".to_vec();
            b.extend(text("\r\n", ',').into_bytes());
            b
        }),
        (
            "gbk-crlf",
            encoding_rs::GBK.encode(&text("\r\n", ',')).0.into_owned(),
        ),
        (
            "gbk-lf",
            encoding_rs::GBK.encode(&text("\n", ',')).0.into_owned(),
        ),
        ("utf16le-bom-crlf", utf16(&text("\r\n", '\t'), true, false)),
        ("utf16be-bom-crlf", utf16(&text("\r\n", '\t'), true, true)),
        (
            "utf16le-nobom-crlf",
            utf16(&text("\r\n", '\t'), false, false),
        ),
        ("utf16be-nobom-lf", utf16(&text("\n", ','), false, true)),
        ("tab-crlf", text("\r\n", '\t').into_bytes()),
        ("semicolon-crlf", text("\r\n", ';').into_bytes()),
    ];
    for (label, bytes) in cases {
        let p = d.path().join(format!("{label}.csv"));
        std::fs::write(&p, bytes).unwrap();
        check(label, &run(&p));
    }
}

#[test]
fn xlsx_rows_as_excel_numbers_them() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("名录.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    // the same rows, one physical line each (a cell's line break stays in its cell), so
    // Excel's row numbers: header 1, E1 2, blank 3, E2 4, E3 5, E4 6, blank 7-8, 戊 9 …
    let mut rows: Vec<String> = LINES.iter().map(|s| s.to_string()).collect();
    rows[3] = format!("{}\n{}", rows[3], rows[4]).replace('"', "");
    rows.remove(4);
    for (r, line) in rows.iter().enumerate() {
        for (c, cell) in line.split(',').enumerate() {
            if !cell.is_empty() {
                ws.write_string(r as u32, c as u16, cell).unwrap();
            }
        }
    }
    wb.save(&p).unwrap();
    let got: Vec<(String, String)> = run(&p)
        .iter()
        .map(|r| (r.line.clone(), r.enterprise_id.clone()))
        .collect();
    let want = [
        ("5", "E3"),
        ("9", "913701173G1KC6GA4J"),
        ("10", "E5"),
        ("11", "E1"),
    ];
    assert_eq!(got.len(), want.len());
    for ((line, id), (wl, wi)) in got.iter().zip(want) {
        assert_eq!((line.as_str(), id.as_str()), (wl, wi));
    }
}

#[test]
fn geojson_features_by_index_and_id() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("名录.geojson");
    let f = |id: &str, name: &str, geom: &str, level: &str| {
        format!(
            r#"{{"type":"Feature","id":"{id}","properties":{{"企业名称":"{name}","风险等级":"{level}"}},"geometry":{geom}}}"#
        )
    };
    let pt = r#"{"type":"Point","coordinates":[117.02,36.70]}"#;
    let feats = [
        f("G1", "甲", pt, "一般"),
        f("G2", "乙", "null", "一般"),
        f("G3", "丙", pt, "紫色"),
        f(
            "G4",
            "丁",
            r#"{"type":"LineString","coordinates":[[1,2],[3,4]]}"#,
            "一般",
        ),
    ];
    std::fs::write(
        &p,
        format!(
            r#"{{"type":"FeatureCollection","features":[{}]}}"#,
            feats.join(",")
        ),
    )
    .unwrap();
    let mut c = Config::default();
    c.enterprises.path = Some(p.clone());
    let ds = load(&c).unwrap();
    let got: Vec<(&str, &str, RejectKind)> = ds
        .rejects
        .iter()
        .map(|r| (r.line.as_str(), r.enterprise_id.as_str(), r.kind))
        .collect();
    assert_eq!(
        got,
        [
            ("feature 1", "G2", RejectKind::NoGeometry),
            ("feature 2", "G3", RejectKind::UnknownLevel),
            ("feature 3", "G4", RejectKind::NoGeometry),
        ]
    );
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Assessment and hidden-danger rejects name their enterprise and their own id, on CRLF
/// files with a blank line before the bad row.
#[test]
fn other_tables_name_the_enterprise_and_their_own_id() {
    let d = tempfile::tempdir().unwrap();
    let reg = write(
        d.path(),
        "e.csv",
        "企业编号,企业名称,经度,纬度\r\nE1,甲,117.02,36.70\r\nE2,乙,117.37,36.86\r\n",
    );
    let asm = write(
        d.path(),
        "a.csv",
        "风险点编号,企业编号,风险点名称,评价方法,L,E,C\r\nP1,E1,储罐区,LEC,3,6,15\r\n\r\nP2,E2,仓库,LEC,3,6,16\r\nP3,E9,锅炉房,LEC,1,1,1\r\n",
    );
    let hz = write(
        d.path(),
        "h.csv",
        "隐患编号,企业编号,隐患等级,整改状态\r\nH-1,E1,重大,未整改\r\n\r\n\r\nH-2,E2,重大,搁置\r\n",
    );
    let mut c = Config::default();
    c.enterprises.path = Some(reg);
    c.assessments.path = Some(asm);
    c.hazards.path = Some(hz);
    let ds = load(&c).unwrap();
    let got: Vec<(&str, &str, &str, &str, RejectKind)> = ds
        .rejects
        .iter()
        .map(|r| {
            let file = Path::new(&r.file).file_name().unwrap().to_str().unwrap();
            (
                file,
                r.line.as_str(),
                r.enterprise_id.as_str(),
                r.row_id.as_str(),
                r.kind,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("a.csv", "4", "E2", "P2", RejectKind::NotInTable),
            ("a.csv", "5", "E9", "P3", RejectKind::UnknownEnterprise),
            ("h.csv", "5", "E2", "H-2", RejectKind::UnknownValue),
        ]
    );
    // rejects.csv carries both ids beside the line
    let mut buf = Vec::new();
    riskmap::export::tables::write_rejects(&mut buf, &ds.rejects).unwrap();
    let text = String::from_utf8(buf).unwrap();
    let mut lines = text.trim_start_matches('\u{feff}').lines();
    assert_eq!(
        lines.next().unwrap(),
        "文件,行号,企业编号,记录编号,列,原始值,原因代码,原因,说明"
    );
    let first: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(
        &first[1..8],
        [
            "4",
            "E2",
            "P2",
            "C",
            "16",
            "value_not_in_table",
            "取值不在评价表中"
        ]
    );
}

/// A boundary whose ring crosses itself or is not closed is named in a warning; a valid
/// one is not.
#[test]
fn invalid_boundaries_are_named() {
    let d = tempfile::tempdir().unwrap();
    let poly = |name: &str, ring: &str| {
        format!(
            r#"{{"type":"Feature","properties":{{"name":"{name}","adcode":1}},"geometry":{{"type":"Polygon","coordinates":[{ring}]}}}}"#
        )
    };
    let feats = [
        poly(
            "好区",
            "[[117,36],[117.1,36],[117.1,36.1],[117,36.1],[117,36]]",
        ),
        // a bow tie: the ring crosses itself at (117.15, 36.05)
        poly(
            "蝴蝶区",
            "[[117.1,36],[117.2,36.1],[117.2,36],[117.1,36.1],[117.1,36]]",
        ),
        // last position is not the first
        poly(
            "开口区",
            "[[117.3,36],[117.4,36],[117.4,36.1],[117.3,36.1]]",
        ),
    ];
    let b = write(
        d.path(),
        "b.geojson",
        &format!(
            r#"{{"type":"FeatureCollection","features":[{}]}}"#,
            feats.join(",")
        ),
    );
    let reg = write(
        d.path(),
        "e.csv",
        "企业编号,企业名称,经度,纬度\nE1,甲,117.05,36.05\n",
    );
    let mut c = Config::default();
    c.enterprises.path = Some(reg);
    c.boundaries.path = Some(b);
    let ds = load(&c).unwrap();
    assert_eq!(ds.warnings.len(), 2, "{:?}", ds.warnings);
    assert!(
        ds.warnings[0].contains("第 1 个要素（蝴蝶区）"),
        "{}",
        ds.warnings[0]
    );
    assert!(
        ds.warnings[0].contains("self-intersection"),
        "{}",
        ds.warnings[0]
    );
    assert!(
        ds.warnings[1].contains("第 2 个要素（开口区）"),
        "{}",
        ds.warnings[1]
    );
    assert!(ds.warnings[1].contains("未闭合"), "{}", ds.warnings[1]);
}

/// A 2 GB input (sparse: no disk used) is refused before it is read, with its size and
/// the limit, for a register, a workbook and a boundary file alike.
#[test]
fn huge_inputs_are_refused_before_reading() {
    let d = tempfile::tempdir().unwrap();
    let sparse = |name: &str, len: u64| {
        let p = d.path().join(name);
        std::fs::File::create(&p).unwrap().set_len(len).unwrap();
        p
    };
    let big = sparse("名录.csv", 2 << 30);
    let mut c = Config::default();
    c.enterprises.path = Some(big);
    let e = load(&c).err().expect("refused").to_string();
    assert!(
        e.contains("名录.csv 有 2048 MB，超过") && e.contains("1024 MB"),
        "{e}"
    );
    let wb = sparse("名录.xlsx", 300 << 20);
    c.enterprises.path = Some(wb);
    let e = load(&c).err().expect("refused").to_string();
    assert!(e.contains("有 300 MB，超过") && e.contains("256 MB"), "{e}");
    let reg = write(
        d.path(),
        "e.csv",
        "企业编号,企业名称,经度,纬度\nE1,甲,117.05,36.05\n",
    );
    c.enterprises.path = Some(reg);
    c.boundaries.path = Some(sparse("区县.geojson", 2 << 30));
    let e = load(&c).err().expect("refused").to_string();
    assert!(e.contains("区县.geojson 有 2048 MB"), "{e}");
}
