//! Chinese first, English on request (#31 §2): the message catalogue (every `tr!` pair in
//! the sources) and what the command prints when things go wrong.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn riskmap(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_riskmap"));
    c.current_dir(dir);
    // a user who has said nothing: no language setting at all
    for k in ["LANG", "LC_ALL", "LC_MESSAGES", "RISKMAP_LANG", "LANGUAGE"] {
        c.env_remove(k);
    }
    c
}

fn is_cjk(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c)
        || ('\u{3000}'..='\u{303f}').contains(&c)
        || ('\u{ff00}'..='\u{ffef}').contains(&c)
}

/// Read one Rust string literal starting at `s[i]` (`"`), returning its text as written
/// (escapes kept) and the index after it.
fn literal(s: &[char], mut i: usize) -> Option<(String, usize)> {
    if s.get(i) != Some(&'"') {
        return None;
    }
    i += 1;
    let mut out = String::new();
    while i < s.len() {
        match s[i] {
            '\\' => {
                out.push(s[i]);
                out.push(*s.get(i + 1)?);
                i += 2;
            }
            '"' => return Some((out, i + 1)),
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    None
}

fn skip_ws(s: &[char], mut i: usize) -> usize {
    while i < s.len() && s[i].is_whitespace() {
        i += 1;
    }
    i
}

/// The `{name}` placeholders of a format string (`{{` escapes skipped), sorted.
fn placeholders(f: &str) -> Vec<String> {
    let c: Vec<char> = f.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        if c[i] == '{' && c.get(i + 1) == Some(&'{') {
            i += 2;
        } else if c[i] == '{' {
            let end = c[i..].iter().position(|&x| x == '}').map(|p| i + p);
            let Some(end) = end else { break };
            let inner: String = c[i + 1..end].iter().collect();
            out.push(inner.split(':').next().unwrap_or("").to_string());
            i = end + 1;
        } else {
            i += 1;
        }
    }
    out.sort();
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Every pair of the catalogue: the Chinese side is Chinese, and both sides name the same
/// placeholders (a value said in one language and lost in the other is a bug).
#[test]
fn every_message_pair_is_chinese_and_english_with_the_same_values() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    rust_files(&root.join("crates"), &mut files);
    let mut pairs = 0;
    let mut bad = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let s: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i + 4 < s.len() {
            let at_tr = s[i..i + 4] == ['t', 'r', '!', '(']
                && (i == 0 || !s[i - 1].is_alphanumeric() && s[i - 1] != '_');
            if !at_tr {
                i += 1;
                continue;
            }
            let j = skip_ws(&s, i + 4);
            let Some((zh, k)) = literal(&s, j) else {
                i += 4;
                continue;
            };
            let k = skip_ws(&s, k);
            if s.get(k) != Some(&',') {
                i += 4;
                continue;
            }
            let Some((en, _)) = literal(&s, skip_ws(&s, k + 1)) else {
                i += 4;
                continue;
            };
            pairs += 1;
            let at = format!("{}: {zh:?}", f.strip_prefix(root).unwrap().display());
            if !zh.chars().any(is_cjk) {
                bad.push(format!("{at}: the Chinese side has no Chinese"));
            }
            if en == zh {
                bad.push(format!("{at}: both sides are the same"));
            }
            if placeholders(&zh) != placeholders(&en) {
                bad.push(format!(
                    "{at}: placeholders differ: {:?} vs {:?}",
                    placeholders(&zh),
                    placeholders(&en)
                ));
            }
            i = k;
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    // the catalogue is where the messages are: a sweep that lost it would find few
    assert!(pairs > 150, "only {pairs} tr! pairs found");
}

/// Words of a line that read as an English sentence: three or more words of Latin
/// letters in a row, once what is not prose is taken out (paths, `code`, --flags,
/// identifiers with _ . : / digits, the usage line's [OPTIONS]).
fn english_runs(line: &str) -> Vec<String> {
    let mut cleaned = String::new();
    let mut in_tick = false;
    for c in line.chars() {
        if c == '`' {
            in_tick = !in_tick;
            cleaned.push(' ');
        } else if !in_tick {
            cleaned.push(c);
        }
    }
    let mut runs = Vec::new();
    let mut run: Vec<&str> = Vec::new();
    for tok in cleaned.split(|c: char| c.is_whitespace()) {
        let word = tok.trim_matches(|c: char| ",;()（）。，：:'\"<>[]".contains(c));
        let prose = word.len() >= 2
            && word
                .chars()
                .all(|c| c.is_ascii_alphabetic() || c == '-' || c == '\'')
            && !word.starts_with('-')
            && word != "OPTIONS";
        if prose && tok.chars().all(|c| !is_cjk(c)) {
            run.push(word);
        } else {
            if run.len() >= 3 {
                runs.push(run.join(" "));
            }
            run.clear();
        }
    }
    if run.len() >= 3 {
        runs.push(run.join(" "));
    }
    runs
}

/// Names of things that are not sentences even when three come together.
const NOT_PROSE: &[&str] = &["GeoJSON Polygon MultiPolygon"];

struct Case {
    name: &'static str,
    args: Vec<String>,
}

/// The failing and warning cases, in Chinese (no language set): every line they print,
/// and the 说明 of every rejected row, without an English sentence; with `--lang en` the
/// same cases speak English.
#[test]
fn failing_cases_speak_chinese_unless_asked_for_english() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let districts = root.join("data/sample/jinan_districts_gcj02.geojson");
    // a register as Excel writes it (CRLF, BOM) with a row for every kind of problem
    let rows = [
        "企业编号,统一社会信用代码,企业名称,所属区县,经度,纬度,坐标系,风险等级,从业人数,重大危险源等级,是否发生死亡事故",
        "A1,91370102MA3C4DKX0N,甲化工,历下区,117.05,36.66,WGS84,重大,10,,否",
        "A2,,乙钢铁,市中区,36.66,117.05,WGS84,较大,10,,否",
        "A3,,丙商贸,历城区,0,0,WGS84,一般,10,,否",
        "A4,,丁仓储,历城区,117.1,36.7,WGS84,特大,10,,否",
        "A5,,戊物流,历城区,117.1,36.7,XYZ,一般,10,,否",
        "A6,,己加工,历城区,东经一百一,36.7,WGS84,一般,10,,否",
        ",,庚厂,历城区,117.1,36.7,WGS84,一般,10,,否",
        "A1,,重复,历下区,117.05,36.66,WGS84,一般,10,,否",
        "A7,,辛厂,历城区,117.1,36.7,WGS84,一般,-3,,否",
        "A8,,壬厂,历城区,117.1,36.7,WGS84,一般,10,五级,否",
        "A9,,癸厂,历城区,117.1,36.7,WGS84,一般,10,,也许",
        "A10,12345,子厂,天桥区,117.1,36.7,WGS84,一般,10,,否",
        "A11,,丑厂,历城区,140.0,20.0,WGS84,一般,10,,否",
        "A12,,寅厂,历城区,117.2,36.7,WGS84,低,10,,否",
    ];
    let mut csv = vec![0xEF, 0xBB, 0xBF];
    csv.extend(rows.join("\r\n").into_bytes());
    std::fs::write(dir.join("dirty.csv"), &csv).unwrap();
    // hidden dangers and assessments with their own problems
    std::fs::write(
        dir.join("hazards.csv"),
        "隐患编号,企业编号,隐患级别,整改状态\r\nH1,A1,重大,未整改\r\nH2,NOPE,一般,已整改\r\nH3,A2,特别,已整改\r\nH4,A1,一般,不知道\r\nH1,A1,一般,已整改\r\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("assessments.csv"),
        "企业编号,风险点编号,风险点名称,评价方法,L,E,C,风险等级\r\nA1,P1,储罐,LEC,3,6,15,\r\nA1,P2,反应釜,LEC,7,6,16,\r\nA1,P3,管线,XYZ,3,6,15,\r\nA1,P4,仓库,直接判定,,,,\r\n",
    )
    .unwrap();
    std::fs::write(dir.join("empty.csv"), "").unwrap();
    std::fs::write(
        dir.join("gbk_bad.csv"),
        [0xff, 0xfe, 0xfd, 0x81, 0x30, 0x0a, 0xc3],
    )
    .unwrap();
    std::fs::write(
        dir.join("unknown_key.toml"),
        "[enterprises]\npath = \"dirty.csv\"\ncolour = 1\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("bad_value.toml"),
        "[enterprises]\npath = \"dirty.csv\"\n[grid]\ncell_m = 1\n",
    )
    .unwrap();
    std::fs::write(dir.join("nohdr.csv"), "名称,地址\r\n甲,乙\r\n").unwrap();
    std::fs::write(dir.join("exists.toml"), "").unwrap();
    // an unstated CRS: the sample's GCJ-02 positions with no CRS column (the doubt warning)
    let (moved, kept) = common::border_rows();
    let rows: Vec<&common::BorderRow> = moved.iter().chain(kept.iter()).collect();
    std::fs::write(dir.join("gcj.csv"), common::border_register(&rows, false)).unwrap();

    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let b = districts.display().to_string();
    let cases = vec![
        Case {
            name: "missing register",
            args: s(&["build", "--enterprises", "nope.csv"]),
        },
        Case {
            name: "empty register",
            args: s(&["build", "--enterprises", "empty.csv"]),
        },
        Case {
            name: "undecodable register",
            args: s(&["validate", "--enterprises", "gbk_bad.csv"]),
        },
        Case {
            name: "no id column",
            args: s(&["validate", "--enterprises", "nohdr.csv"]),
        },
        Case {
            name: "unknown config key",
            args: s(&["build", "--config", "unknown_key.toml"]),
        },
        Case {
            name: "bad config value",
            args: s(&["build", "--config", "bad_value.toml"]),
        },
        Case {
            name: "missing config",
            args: s(&["build", "--config", "nope.toml"]),
        },
        Case {
            name: "dirty register",
            args: s(&[
                "validate",
                "--enterprises",
                "dirty.csv",
                "--boundaries",
                &b,
                "--hazards",
                "hazards.csv",
                "--assessments",
                "assessments.csv",
            ]),
        },
        Case {
            name: "strict build",
            args: s(&[
                "build",
                "--strict",
                "--enterprises",
                "dirty.csv",
                "--boundaries",
                &b,
                "--out",
                "out_strict",
            ]),
        },
        Case {
            name: "dirty build",
            args: s(&[
                "build",
                "--enterprises",
                "dirty.csv",
                "--boundaries",
                &b,
                "--hazards",
                "hazards.csv",
                "--assessments",
                "assessments.csv",
                "--out",
                "out_dirty",
                "--zoom",
                "8-9",
            ]),
        },
        Case {
            name: "unstated crs",
            args: s(&["validate", "--enterprises", "gcj.csv", "--boundaries", &b]),
        },
        Case {
            name: "unknown subcommand",
            args: s(&["bulid"]),
        },
        Case {
            name: "unknown flag",
            args: s(&["build", "--enterprise", "dirty.csv"]),
        },
        Case {
            name: "bad crs value",
            args: s(&["build", "--crs", "mars"]),
        },
        Case {
            name: "serve without tiles",
            args: s(&[
                "serve",
                "--enterprises",
                "dirty.csv",
                "--out",
                "nothing_here",
            ]),
        },
        Case {
            name: "init over a config",
            args: s(&["init", "dirty.csv", "--out", "exists.toml"]),
        },
        Case {
            name: "query without a question",
            args: s(&["query", "--enterprises", "dirty.csv"]),
        },
        Case {
            name: "query bad point",
            args: s(&["query", "--enterprises", "dirty.csv", "--at", "abc"]),
        },
        Case {
            name: "query answer",
            args: s(&[
                "query",
                "--enterprises",
                "dirty.csv",
                "--boundaries",
                &b,
                "--at",
                "117.05,36.66",
            ]),
        },
        Case {
            name: "help",
            args: s(&["--help"]),
        },
        Case {
            name: "build help",
            args: s(&["build", "--help"]),
        },
        Case {
            name: "query help",
            args: s(&["query", "--help"]),
        },
        Case {
            name: "init help",
            args: s(&["init", "--help"]),
        },
    ];
    let mut found = Vec::new();
    for c in &cases {
        let o = riskmap(dir).args(&c.args).output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(!text.trim().is_empty(), "{}: printed nothing", c.name);
        assert!(
            text.chars().any(is_cjk),
            "{}: no Chinese at all:\n{text}",
            c.name
        );
        for line in text.lines() {
            for r in english_runs(line) {
                if !NOT_PROSE.contains(&r.as_str()) {
                    found.push(format!("{}: `{r}` in: {line}", c.name));
                }
            }
        }
    }
    // the 说明 of every rejected row
    let rejects = std::fs::read_to_string(dir.join("out_dirty/rejects.csv"))
        .expect("the dirty build wrote rejects.csv");
    assert!(rejects.lines().count() > 12, "{rejects}");
    for line in rejects.lines() {
        for r in english_runs(line) {
            found.push(format!("rejects.csv: `{r}` in: {line}"));
        }
    }
    assert!(
        found.is_empty(),
        "English in Chinese mode:\n{}",
        found.join("\n")
    );

    // asked for English, the same cases speak it
    for (args, want) in [
        (
            s(&["build", "--enterprises", "nope.csv", "--lang", "en"]),
            "cannot open",
        ),
        (
            s(&[
                "--lang=en",
                "validate",
                "--enterprises",
                "dirty.csv",
                "--boundaries",
                &b,
            ]),
            "look swapped",
        ),
        (
            s(&["build", "--lang", "en", "--config", "unknown_key.toml"]),
            "unknown key",
        ),
        (s(&["build", "--help", "--lang", "en"]), "Fail (exit 1)"),
    ] {
        let o = riskmap(dir).args(&args).output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(text.contains(want), "{args:?}: `{want}` not in:\n{text}");
    }
    // an English locale is asked for English too; RISKMAP_LANG wins over it
    let o = riskmap(dir)
        .env("LANG", "en_US.UTF-8")
        .args(["build", "--enterprises", "nope.csv"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot open"));
    let o = riskmap(dir)
        .env("LANG", "en_US.UTF-8")
        .env("RISKMAP_LANG", "zh")
        .args(["build", "--enterprises", "nope.csv"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stderr).contains("无法打开"));
}
