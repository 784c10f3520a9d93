//! PostgreSQL / PostGIS (#21) against a real server: `RISKMAP_TEST_DB` names a database
//! where the test user may create schemas and PostGIS is installed (`.ci/run` starts a
//! throw-away cluster and sets it). Without it these tests say so in one line and pass.
//!
//! - the sample loaded into PostgreSQL with COPY and built from there gives the same
//!   layers, byte for byte, as the build from the files;
//! - after `publish`, PostGIS's own ST_Contains agrees with riskmap's district for every
//!   enterprise, and ST_DWithin with `riskmap query --near`;
//! - a wrong password, a missing table or column, a table name with SQL in it are one
//!   clear line; a publish that fails half-way leaves the previous tables whole.

use std::path::{Path, PathBuf};
use std::process::Command;

fn test_db() -> Option<String> {
    match std::env::var("RISKMAP_TEST_DB") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            eprintln!("skipped: RISKMAP_TEST_DB is not set (no PostgreSQL/PostGIS server; .ci/run starts one)");
            None
        }
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn riskmap(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_riskmap"));
    c.current_dir(dir);
    c.env("RISKMAP_LANG", "zh");
    c
}

/// The URL with `search_path` set to `schema` (then public, where PostGIS lives).
fn with_schema(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{schema}%2Cpublic")
}

fn client(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).expect("connect to RISKMAP_TEST_DB")
}

/// A fresh schema for one test (dropped first if a previous run left it).
fn fresh_schema(c: &mut postgres::Client, name: &str) {
    c.batch_execute(&format!(
        "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name};"
    ))
    .unwrap();
}

/// The sample's district boundaries (DataV, GCJ-02 coordinates) as a PostGIS table.
fn load_boundaries(c: &mut postgres::Client, schema: &str) {
    let g: serde_json::Value = serde_json::from_slice(
        &std::fs::read(root().join("data/sample/jinan_districts_gcj02.geojson")).unwrap(),
    )
    .unwrap();
    c.batch_execute(&format!(
        "CREATE TABLE {schema}.boundaries (gid serial PRIMARY KEY, name text, adcode text, geom geometry(MultiPolygon, 4326))"
    ))
    .unwrap();
    for f in g["features"].as_array().unwrap() {
        let name = f["properties"]["name"].as_str().unwrap().to_string();
        let adcode = f["properties"]["adcode"]
            .to_string()
            .trim_matches('"')
            .to_string();
        let geom = f["geometry"].to_string();
        c.execute(
            &format!("INSERT INTO {schema}.boundaries (name, adcode, geom) VALUES ($1, $2, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON($3), 4326)))"),
            &[&name, &adcode, &geom],
        )
        .unwrap();
    }
}

/// The sample read from its files, output to `out`.
fn files_config(dir: &Path, out: &Path) -> PathBuf {
    let s = root().join("data/sample");
    config(
        dir,
        "files.toml",
        &format!(
            "[enterprises]\npath = \"{s}/enterprises.csv\"\n[assessments]\npath = \"{s}/assessments.csv\"\n[hazards]\npath = \"{s}/hidden_dangers.csv\"\n[sites]\npath = \"{s}/sites.csv\"\n[boundaries]\npath = \"{s}/jinan_districts_gcj02.geojson\"\n",
            s = s.display()
        ),
        out,
    )
}

/// The repo's sample config with the inputs taken out (they come from `inputs`), tiles
/// and report off, output to `out`.
fn config(dir: &Path, name: &str, inputs: &str, out: &Path) -> PathBuf {
    let mut t = String::new();
    t.push_str(inputs);
    t.push_str(&format!(
        "\n[tiles]\nenabled = false\n[report]\nenabled = false\n[overview]\nenabled = false\n[output]\ndir = \"{}\"\n",
        out.display()
    ));
    let p = dir.join(name);
    std::fs::write(&p, t).unwrap();
    p
}

fn run_ok(c: &mut Command) -> String {
    let o = c.output().unwrap();
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "{c:?}\n{out}");
    out
}

#[test]
fn the_sample_from_postgis_equals_the_sample_from_files_and_publishes() {
    let Some(url) = test_db() else { return };
    let schema = format!("rt_{}", std::process::id());
    let mut c = client(&url);
    fresh_schema(&mut c, &schema);
    let sample = root().join("data/sample");
    // the tables as a platform's export would be (the loader `bench --db` uses), each
    // read back in file order
    let (_, queries) = riskmap::bench::load_into_db(&url, &schema, &sample).unwrap();
    let mut sql = String::new();
    for (table, q) in queries {
        let section = if table == "hidden_dangers" {
            "hazards"
        } else {
            table
        };
        sql.push_str(&format!("[{section}]\nsql = '''{q}'''\n"));
    }
    load_boundaries(&mut c, &schema);

    let d = tempfile::tempdir().unwrap();
    let files = files_config(d.path(), &d.path().join("out_files"));
    let db_url = with_schema(&url, &schema);
    let from_db = config(
        d.path(),
        "db.toml",
        // every table read back in file order; the boundaries from the database's default
        // table, which holds DataV's GCJ-02 coordinates, declared as for a file
        &format!("{sql}[boundaries]\ncrs = \"gcj02\"\n"),
        &d.path().join("out_db"),
    );
    run_ok(
        riskmap(d.path())
            .args(["build", "-q", "--config"])
            .arg(&files),
    );
    let said = run_ok(
        riskmap(d.path())
            .args(["build", "--config"])
            .arg(&from_db)
            .args(["--db", &db_url]),
    );
    // the password is never printed (the URL has none here, but the user is named)
    assert!(said.contains("postgis"), "{said}");
    // the districts: the same shapes, names and codes (the file's other DataV properties
    // are not in the table)
    let feats = |p: &str| -> Vec<serde_json::Value> {
        let v: serde_json::Value = serde_json::from_slice(
            &std::fs::read(d.path().join(p).join("districts.geojson")).unwrap(),
        )
        .unwrap();
        v["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                serde_json::json!([
                    f["properties"]["name"],
                    f["properties"]["adcode"],
                    f["geometry"]
                ])
            })
            .collect()
    };
    assert_eq!(feats("out_files"), feats("out_db"), "districts.geojson");
    for f in [
        "enterprises.geojson",
        "areas.geojson",
        "grid.geojson",
        "zones.geojson",
        "exposure.geojson",
    ] {
        let a = std::fs::read(d.path().join("out_files").join(f)).unwrap();
        let b = std::fs::read(d.path().join("out_db").join(f)).unwrap();
        if a != b {
            let (a, b) = (String::from_utf8_lossy(&a), String::from_utf8_lossy(&b));
            let k = a
                .bytes()
                .zip(b.bytes())
                .position(|(x, y)| x != y)
                .unwrap_or(0);
            let at = |s: &str| {
                s[s.floor_char_boundary(k.saturating_sub(300))
                    ..s.floor_char_boundary((k + 300).min(s.len()))]
                    .to_string()
            };
            panic!("{f}: the build from PostgreSQL differs from the build from files at byte {k}:\nfiles: {}\ndb:    {}", at(&a), at(&b));
        }
    }
    // the same rows rejected, named by table instead of file
    let rj = |p: &str| -> usize {
        std::fs::read_to_string(d.path().join(p).join("rejects.csv"))
            .unwrap()
            .lines()
            .count()
    };
    assert_eq!(rj("out_files"), rj("out_db"));

    // publish, then ask PostGIS
    let pubs = format!("pub_{}", std::process::id());
    c.batch_execute(&format!("DROP SCHEMA IF EXISTS {pubs} CASCADE"))
        .unwrap();
    let said = run_ok(
        riskmap(d.path())
            .args(["publish", "--config"])
            .arg(&from_db)
            .args(["--db", &db_url, "--to", &url, "--schema", &pubs]),
    );
    assert!(said.contains(&format!("{pubs}.enterprises")), "{said}");
    let g: serde_json::Value = serde_json::from_slice(
        &std::fs::read(d.path().join("out_db/enterprises.geojson")).unwrap(),
    )
    .unwrap();
    let n_geojson = g["features"].as_array().unwrap().len() as i64;
    let n: i64 = c
        .query_one(&format!("SELECT count(*) FROM {pubs}.enterprises"), &[])
        .unwrap()
        .get(0);
    assert_eq!(n, n_geojson);
    // every enterprise inside exactly one published district is in that district
    let rows = c
        .query(
            &format!(
                "SELECT e.id, e.district, array_agg(d.name) FROM {pubs}.enterprises e
                 JOIN {pubs}.districts d ON ST_Contains(d.geom, e.geom)
                 GROUP BY e.id, e.district"
            ),
            &[],
        )
        .unwrap();
    assert!(
        rows.len() as i64 > n_geojson * 9 / 10,
        "{} of {n_geojson} inside",
        rows.len()
    );
    for r in &rows {
        let id: String = r.get(0);
        let mine: Option<String> = r.get(1);
        let theirs: Vec<String> = r.get(2);
        if theirs.len() == 1 {
            assert_eq!(mine.as_deref(), Some(theirs[0].as_str()), "{id}");
        }
    }
    // ST_DWithin (on the sphere) answers as `riskmap query --near`
    let (lon, lat, radius) = (117.02, 36.66, 3000.0);
    let q = run_ok(
        riskmap(d.path())
            .args(["query", "--config"])
            .arg(&files)
            .args([
                "--near",
                &format!("{lon},{lat}"),
                "--radius",
                "3000",
                "--json",
            ]),
    );
    let q: serde_json::Value = serde_json::from_str(&q).unwrap();
    let mut ours: Vec<String> = q["enterprises"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| (e["distance_m"].as_f64().unwrap() - radius).abs() > 5.0)
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    let mut theirs: Vec<String> = c
        .query(
            &format!(
                "SELECT id FROM {pubs}.enterprises WHERE ST_DWithin(geom::geography, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography, $3, false)
                   AND abs(ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography, false) - $3) > 5"
            ),
            &[&lon, &lat, &radius],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    ours.sort();
    theirs.sort();
    assert!(ours.len() > 20, "{} enterprises near", ours.len());
    assert_eq!(ours, theirs);
    // indexes, keys, comments, the run
    let idx: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_indexes WHERE schemaname = $1 AND indexdef LIKE '%USING gist%'",
            &[&pubs],
        )
        .unwrap()
        .get(0);
    assert!(idx >= 5, "{idx} GIST indexes");
    let comment: Option<String> = c
        .query_one(
            &format!("SELECT col_description('{pubs}.enterprises'::regclass, 8)"),
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(comment.as_deref(), Some("风险等级"));
    let runs: i64 = c
        .query_one(&format!("SELECT count(*) FROM {pubs}.runs"), &[])
        .unwrap()
        .get(0);
    assert_eq!(runs, 1);

    // a publish that fails half-way (an object in the way of `zones`) leaves the
    // previous tables whole
    c.batch_execute(&format!(
        "CREATE VIEW {pubs}.zones__riskmap_new AS SELECT 1 AS x"
    ))
    .unwrap();
    let o = riskmap(d.path())
        .args(["publish", "--config"])
        .arg(&from_db)
        .args(["--db", &db_url, "--to", &url, "--schema", &pubs])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("zones") && err.contains("之前的图层保持不变"),
        "{err}"
    );
    let n2: i64 = c
        .query_one(&format!("SELECT count(*) FROM {pubs}.enterprises"), &[])
        .unwrap()
        .get(0);
    assert_eq!(n2, n_geojson);
    let runs: i64 = c
        .query_one(&format!("SELECT count(*) FROM {pubs}.runs"), &[])
        .unwrap()
        .get(0);
    assert_eq!(runs, 1, "the failed publish left no run behind");
    c.batch_execute(&format!(
        "DROP SCHEMA {pubs} CASCADE; DROP SCHEMA {schema} CASCADE"
    ))
    .unwrap();
}

#[test]
fn bad_rows_and_bad_setups_are_named() {
    let Some(url) = test_db() else { return };
    let schema = format!("bad_{}", std::process::id());
    let mut c = client(&url);
    fresh_schema(&mut c, &schema);
    // a register with a primary key, a PostGIS point column and bad rows
    c.batch_execute(&format!(
        "CREATE TABLE {schema}.监管对象 (企业编号 text PRIMARY KEY, 企业名称 text, 风险等级 text, 在册 boolean, geom geometry(Point));
         INSERT INTO {schema}.监管对象 VALUES
           ('A1', '甲', '重大', true, ST_SetSRID(ST_MakePoint(117.05, 36.66), 4326)),
           ('A2', '乙', '特大', true, ST_SetSRID(ST_MakePoint(117.06, 36.66), 4326)),
           ('A3', '丙', '一般', true, NULL),
           ('A4', '丁', '一般', true, 'SRID=4326;POINT EMPTY'),
           ('A5', '戊', '低', false, ST_SetSRID(ST_MakePoint(117.07, 36.67), 4326)),
           ('A6', '己', '较大', true, ST_Transform(ST_SetSRID(ST_MakePoint(117.08, 36.68), 4326), 3857));
         CREATE TABLE {schema}.keep_me (x int);"
    ))
    .unwrap();
    let d = tempfile::tempdir().unwrap();
    let db_url = with_schema(&url, &schema);
    let cfg = |name: &str, body: &str| {
        let p = d.path().join(name);
        std::fs::write(&p, format!("{body}\n[tiles]\nenabled = false\n[report]\nenabled = false\n[overview]\nenabled = false\n")).unwrap();
        p
    };
    let table = cfg("t.toml", "[enterprises]\ntable = \"监管对象\"\n");
    let o = riskmap(d.path())
        .args(["validate", "--config"])
        .arg(&table)
        .args(["--db", &db_url])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    // rejects name the table and the row's primary key
    assert!(
        out.contains("表 监管对象") && out.contains("企业编号=A2"),
        "{out}"
    );
    assert!(
        out.contains("企业编号=A3") && out.contains("企业编号=A4"),
        "{out}"
    );
    // 6 rows: A2 (level), A3 (NULL), A4 (empty) rejected; A6 (3857) transformed
    assert!(out.contains("6 行，接受 3，拒绝 3"), "{out}");
    // a query instead of the table
    let sql = cfg(
        "q.toml",
        "[enterprises]\nsql = \"SELECT * FROM 监管对象 WHERE 在册 AND geom IS NOT NULL AND NOT ST_IsEmpty(geom)\"\n",
    );
    let o = riskmap(d.path())
        .args(["validate", "--config"])
        .arg(&sql)
        .args(["--db", &db_url])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(out.contains("3 行，接受 2，拒绝 1"), "{out}");
    // a missing table, SQL in a table name: one line naming it, nothing executed
    for (name, want) in [
        ("nope", "没有表 nope"),
        ("keep_me\\\"; DROP TABLE keep_me; --", "没有表"),
    ] {
        let p = cfg("m.toml", &format!("[enterprises]\ntable = \"{name}\"\n"));
        let o = riskmap(d.path())
            .args(["validate", "--config"])
            .arg(&p)
            .args(["--db", &db_url])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(want) && err.lines().count() == 1, "{err}");
    }
    let still: bool = c
        .query_one(
            &format!("SELECT to_regclass('{schema}.keep_me') IS NOT NULL"),
            &[],
        )
        .unwrap()
        .get(0);
    assert!(still, "a table name is never SQL");
    // a table without the required columns
    c.batch_execute(&format!(
        "CREATE TABLE {schema}.enterprises (foo text, bar text)"
    ))
    .unwrap();
    let o = riskmap(d.path())
        .args(["validate", "--db", &db_url])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("找不到") && err.contains("foo"), "{err}");
    // a wrong password: one line, the password not in it
    let bad = {
        let rest = url.trim_start_matches("postgresql://");
        let (user_host, db) = rest.split_once('/').unwrap();
        let host = user_host.rsplit('@').next().unwrap();
        let user = user_host
            .split('@')
            .next()
            .unwrap()
            .split(':')
            .next()
            .unwrap();
        format!("postgresql://{user}:wrong-secret-pw@{host}/{db}")
    };
    let o = riskmap(d.path())
        .args(["validate", "--db", &bad])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(!err.contains("wrong-secret-pw"), "{err}");
    assert!(
        err.contains("无法连接数据库") || err.contains("password"),
        "{err}"
    );
    c.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .unwrap();
}

/// TLS as libpq's `sslmode` has it, against a server whose `tlsonly` role is refused
/// without TLS (`.ci/run`: a self-signed certificate for 127.0.0.1; `RISKMAP_TEST_DB_TLS`
/// names the role, `RISKMAP_TEST_DB_CA` the certificate).
#[test]
fn sslmode_is_honoured() {
    let (Ok(url), Ok(ca)) = (
        std::env::var("RISKMAP_TEST_DB_TLS"),
        std::env::var("RISKMAP_TEST_DB_CA"),
    ) else {
        eprintln!(
            "skipped: RISKMAP_TEST_DB_TLS / RISKMAP_TEST_DB_CA are not set (.ci/run sets them)"
        );
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let connects = |query: &str| -> (bool, String) {
        let o = riskmap(d.path())
            .args(["validate", "--db", &format!("{url}?{query}")])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        // connected: the database was reached (it has no register for this role)
        (!err.contains("无法连接数据库"), err)
    };
    for (query, want) in [
        ("sslmode=disable", false),
        ("sslmode=prefer", true),
        ("sslmode=require", true),
        // a self-signed certificate is no CA of the system's
        ("sslmode=verify-full", false),
        (&format!("sslmode=verify-ca&sslrootcert={ca}") as &str, true),
        (
            &format!("sslmode=verify-full&sslrootcert={ca}") as &str,
            true,
        ),
    ] {
        let (ok, err) = connects(query);
        assert_eq!(ok, want, "{query}: {err}");
        assert!(
            !err.contains("riskmap-tls"),
            "the password is never printed: {err}"
        );
    }
}

/// The server cutting a publish off half-way (the connection terminated while the
/// publish waits to swap `zones` in) leaves the previous tables and runs as they were,
/// and the error names the table it was writing.
#[test]
fn a_publish_cut_off_by_the_server_leaves_the_previous_tables() {
    let Some(url) = test_db() else { return };
    let schema = format!("cut_{}", std::process::id());
    let mut c = client(&url);
    c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .unwrap();
    let d = tempfile::tempdir().unwrap();
    let files = files_config(d.path(), &d.path().join("out"));
    run_ok(
        riskmap(d.path())
            .args(["publish", "--config"])
            .arg(&files)
            .args(["--to", &url, "--schema", &schema]),
    );
    let count = |c: &mut postgres::Client, t: &str| -> i64 {
        c.query_one(&format!("SELECT count(*) FROM {schema}.{t}"), &[])
            .unwrap()
            .get(0)
    };
    let before = (count(&mut c, "enterprises"), count(&mut c, "zones"));
    // hold `zones` so the second publish waits at its swap, then cut it off
    let mut locker = client(&url);
    let mut tx = locker.transaction().unwrap();
    tx.batch_execute(&format!(
        "LOCK TABLE {schema}.zones IN ACCESS EXCLUSIVE MODE"
    ))
    .unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    let app = format!("riskmap_cut_{}", std::process::id());
    let child = riskmap(d.path())
        .args(["publish", "--config"])
        .arg(&files)
        .args([
            "--to",
            &format!("{url}{sep}application_name={app}"),
            "--schema",
            &schema,
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = std::time::Instant::now();
    let pid: i32 = loop {
        let r = c
            .query(
                "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
                &[&app],
            )
            .unwrap();
        if let Some(r) = r.first() {
            break r.get(0);
        }
        assert!(
            t0.elapsed().as_secs() < 120,
            "the publish never reached the swap of zones"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let _: bool = c
        .query_one("SELECT pg_terminate_backend($1)", &[&pid])
        .unwrap()
        .get(0);
    let o = child.wait_with_output().unwrap();
    tx.rollback().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(
        err.contains("（zones）") && err.contains("之前的图层保持不变"),
        "{err}"
    );
    assert_eq!(
        (count(&mut c, "enterprises"), count(&mut c, "zones")),
        before
    );
    assert_eq!(count(&mut c, "runs"), 1, "the cut-off publish left no run");
    let leftovers: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename LIKE '%riskmap_new'",
            &[&schema],
        )
        .unwrap()
        .get(0);
    assert_eq!(leftovers, 0);
    c.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .unwrap();
}

/// A tiny HTTP GET over loopback: (status line, body).
fn http_get(addr: &str, path: &str) -> Option<(String, String)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .ok();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut t = String::new();
    s.read_to_string(&mut t).ok()?;
    let (head, body) = t.split_once("\r\n\r\n")?;
    Some((head.lines().next()?.to_string(), body.to_string()))
}

/// The live map from the database (#22): `riskmap db install-triggers` puts a trigger on
/// every input table, and `serve --watch` hears an INSERT into hidden_dangers through
/// LISTEN/NOTIFY, updates, and serves the enterprise red with the change recorded.
#[test]
fn serve_watch_follows_the_tables_through_listen_notify() {
    use std::io::BufRead;
    let Some(url) = test_db() else { return };
    let schema = format!("live_{}", std::process::id());
    let mut c = client(&url);
    let sample = root().join("data/sample");
    riskmap::bench::load_into_db(&url, &schema, &sample).unwrap();
    load_boundaries(&mut c, &schema);
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("out");
    let cfg = d.path().join("live.toml");
    std::fs::write(
        &cfg,
        format!(
            "[boundaries]\ncrs = \"gcj02\"\n[tiles]\nenabled = true\nzoom = [8, 10]\n[report]\nenabled = false\n[overview]\nenabled = false\n[output]\ndir = \"{}\"\n",
            out.display()
        ),
    )
    .unwrap();
    let db_url = with_schema(&url, &schema);
    run_ok(
        riskmap(d.path())
            .args(["build", "-q", "--config"])
            .arg(&cfg)
            .args(["--db", &db_url]),
    );
    let said = run_ok(
        riskmap(d.path())
            .args(["db", "install-triggers", "--config"])
            .arg(&cfg)
            .args(["--db", &db_url]),
    );
    assert!(said.contains("已在 5 张表上创建触发器"), "{said}");
    let n: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_trigger t JOIN pg_class r ON r.oid = t.tgrelid JOIN pg_namespace n ON n.oid = r.relnamespace WHERE t.tgname = 'riskmap_changed' AND n.nspname = $1",
            &[&schema],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, 5, "a trigger on each input table");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut server = riskmap(d.path())
        .args(["serve", "--watch", "--addr", &addr, "--config"])
        .arg(&cfg)
        .args(["--db", &db_url])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let so = server.stdout.take().unwrap();
    std::thread::spawn(move || {
        for l in std::io::BufReader::new(so).lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // the watcher's first look: nothing changed since the build
        let first = rx
            .recv_timeout(std::time::Duration::from_secs(120))
            .expect("the watcher's first look");
        assert!(first.contains("输入未变"), "{first}");
        let snap: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("snapshot.json")).unwrap()).unwrap();
        let id = snap["enterprises"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["level"] == "blue")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        c.execute(
            &format!("INSERT INTO {schema}.hidden_dangers (\"隐患编号\", \"企业编号\", \"隐患等级\", \"整改状态\", \"隐患描述\") VALUES ('HW-1', $1, '重大', '未整改', '监控报警')"),
            &[&id],
        )
        .unwrap();
        let t = std::time::Instant::now();
        let line = loop {
            let l = rx
                .recv_timeout(std::time::Duration::from_secs(120))
                .expect("an update after the INSERT");
            if l.contains("已更新") {
                break l;
            }
        };
        assert!(line.contains("增量"), "{line}");
        // the server answers with the new generation: the enterprise is red
        let card = loop {
            let (_, body) = http_get(&addr, &format!("/api/enterprises/{id}")).unwrap();
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            if v["level"] == "red" || t.elapsed().as_secs() > 60 {
                break v;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        };
        assert_eq!(card["level"], "red", "{card}");
        let (status, body) = http_get(&addr, "/api/changes?since=1").unwrap();
        assert!(status.contains("200"), "{status}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        let e = &v["changes"][0];
        assert_eq!(e["by"], "watch");
        assert!(
            e["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["kind"] == "level_up" && i["id"] == id.as_str() && i["to"] == "red"),
            "{e}"
        );
    }));
    let _ = server.kill();
    let _ = server.wait();
    let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
}

/// City lifelines (#27 §2) from a PostGIS table (any geometry type and SRID in one
/// column, Chinese column names, a primary key): the same lines, zones and findings as
/// from the sample's GeoJSON; a line stored in UTM 50N (EPSG:32650) transformed by
/// PostGIS; a Point row and an unknown type rejected by their key.
#[test]
fn lifelines_from_postgis_equal_the_lifelines_from_the_file() {
    let Some(url) = test_db() else { return };
    let schema = format!("ll_{}", std::process::id());
    let mut c = client(&url);
    fresh_schema(&mut c, &schema);
    let gj: serde_json::Value = serde_json::from_slice(
        &std::fs::read(root().join("data/sample/lifelines.geojson")).unwrap(),
    )
    .unwrap();
    c.batch_execute(&format!(
        "CREATE TABLE {schema}.管线 (gid serial PRIMARY KEY, 编号 text, 名称 text, 类型 text, 压力级制 text, 电压等级 text, 管径 text, 权属单位 text, 坐标系 text, geom geometry)"
    ))
    .unwrap();
    let mut n = 0;
    for f in gj["features"].as_array().unwrap() {
        let p = &f["properties"];
        let s = |k: &str| p[k].as_str().map(str::to_string);
        n += 1;
        // the sample's lines are CGCS2000 (4490) but for one in GCJ-02 by its 坐标系;
        // the second stored in UTM 50N, as a surveyor's table would have it
        let srid = if n == 2 { 32650 } else { 4490 };
        c.execute(
            &format!(
                "INSERT INTO {schema}.管线 (编号, 名称, 类型, 压力级制, 电压等级, 管径, 权属单位, 坐标系, geom)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON($9), 4490), {srid}))"
            ),
            &[
                &s("编号"),
                &s("名称"),
                &s("类型"),
                &s("压力级制"),
                &s("电压等级"),
                &s("管径"),
                &s("权属单位"),
                &s("坐标系"),
                &f["geometry"].to_string(),
            ],
        )
        .ok();
    }
    let d = tempfile::tempdir().unwrap();
    let s = root().join("data/sample");
    let inputs = |lines: &str| {
        format!(
            "[enterprises]\npath = \"{s}/enterprises.csv\"\ncrs = \"wgs84\"\n[sites]\npath = \"{s}/sites.csv\"\n[boundaries]\npath = \"{s}/jinan_districts_gcj02.geojson\"\ncrs = \"gcj02\"\n[surface]\nenabled = false\n{lines}",
            s = s.display()
        )
    };
    let files = config(
        d.path(),
        "files.toml",
        &inputs(&format!(
            "[lifelines]\npath = \"{}/lifelines.geojson\"\ncrs = \"cgcs2000\"\n",
            s.display()
        )),
        &d.path().join("out_files"),
    );
    let from_db = config(
        d.path(),
        "db.toml",
        &inputs("[lifelines]\ntable = \"管线\"\ncrs = \"cgcs2000\"\n"),
        &d.path().join("out_db"),
    );
    run_ok(
        riskmap(d.path())
            .args(["build", "-q", "--config"])
            .arg(&files),
    );
    let said = run_ok(
        riskmap(d.path())
            .args(["build", "--config"])
            .arg(&from_db)
            .args(["--db", &with_schema(&url, &schema)]),
    );
    assert!(said.contains("城市生命线"), "{said}");
    let rows = |p: &str| -> Vec<Vec<String>> {
        let mut r = csv::Reader::from_path(d.path().join(p).join("lifelines.csv")).unwrap();
        r.records()
            .map(|x| x.unwrap().iter().map(str::to_string).collect())
            .collect()
    };
    let (a, b) = (rows("out_files"), rows("out_db"));
    assert!(a.len() > 50, "{}", a.len());
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        // every column but the distance (8): the UTM round trip moves a vertex by nanometres
        for k in 0..x.len() {
            if k == 8 {
                let (p, q): (f64, f64) = (x[k].parse().unwrap(), y[k].parse().unwrap());
                assert!((p - q).abs() <= 0.011, "{x:?} vs {y:?}");
            } else {
                assert_eq!(x[k], y[k], "{x:?} vs {y:?}");
            }
        }
    }
    let seg = |p: &str| -> Vec<Vec<String>> {
        let mut r = csv::Reader::from_path(d.path().join(p).join("lifeline_segments.csv")).unwrap();
        r.records()
            .map(|x| x.unwrap().iter().map(str::to_string).collect())
            .collect()
    };
    let (a, b) = (seg("out_files"), seg("out_db"));
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        // the length (5) to a decimetre: the UTM round trip again
        for k in 0..x.len() {
            if k == 5 {
                let (p, q): (f64, f64) = (x[k].parse().unwrap(), y[k].parse().unwrap());
                assert!((p - q).abs() <= 0.11, "{x:?} vs {y:?}");
            } else {
                assert_eq!(x[k], y[k], "lifeline_segments.csv: {x:?} vs {y:?}");
            }
        }
    }
    // the dirty rows by their key: the Point, the unknown type, the projected file's
    // metres (stored as 4490, so not transformed: rejected as not degrees), the repeated id
    let rejects = std::fs::read_to_string(d.path().join("out_db/rejects.csv")).unwrap();
    let lines: Vec<&str> = rejects.lines().filter(|l| l.contains("表 管线")).collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("gid=") && l.contains("unknown_value")),
        "{rejects}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("no_geometry") && l.contains("Point")),
        "{rejects}"
    );
    assert!(
        lines.iter().any(|l| l.contains("duplicate_id")),
        "{rejects}"
    );
}

/// `serve` follows a database table of readings (#27 §3) by its primary key: every row
/// once, new rows only on the next poll, a bad row named by its key and column, a
/// table without a key one clear error; the same rows as a file give the same readings.
#[test]
fn a_readings_table_is_followed_by_its_key() {
    use riskmap::ingest::monitoring::ReadingPoll;
    use riskmap::ingest::RejectKind;
    let Some(url) = test_db() else { return };
    let schema = format!("rd_{}", std::process::id());
    let mut c = client(&url);
    fresh_schema(&mut c, &schema);
    c.batch_execute(&format!(
        "CREATE TABLE {schema}.readings (id bigserial PRIMARY KEY, 测点编号 text, 监测值 text, 监测时间 timestamptz);
         CREATE TABLE {schema}.nokey (测点编号 text, 监测值 text, 监测时间 text);
         INSERT INTO {schema}.readings (测点编号, 监测值, 监测时间) SELECT 'GT101', (i % 7)::text, timestamptz '2026-11-30 08:00:00+08' + i * interval '1 minute' FROM generate_series(1, 12) i;"
    ))
    .unwrap();
    let url_s = with_schema(&url, &schema);
    let input = riskmap::ingest::params::TableInput::default();
    let mut poll = ReadingPoll::new(&url_s, "readings", &input, 480).unwrap();
    let first = poll.poll().unwrap();
    assert_eq!(first.len(), 12);
    let r = first[0].as_ref().unwrap();
    // 08:01 +08:00 as stored, whatever the session's time zone
    assert_eq!(
        r.time_ms,
        riskmap::model::parse_time("2026-11-30 08:01:00", 480).unwrap()
    );
    assert_eq!(
        (r.point.as_str(), r.value, r.line.as_str()),
        ("GT101", 1.0, "id=1")
    );
    let again = poll.poll().unwrap();
    assert!(again.is_empty(), "nothing new: {:?}", again.first());
    c.batch_execute(&format!(
        "INSERT INTO {schema}.readings (测点编号, 监测值, 监测时间) VALUES ('LT101', '8.8', '2026-11-30 09:00:00+08'), ('LT101', '坏值', '2026-11-30 09:01:00+08')"
    ))
    .unwrap();
    let next = poll.poll().unwrap();
    assert_eq!(next.len(), 2);
    assert_eq!(next[0].as_ref().unwrap().value, 8.8);
    let bad = next[1].as_ref().unwrap_err();
    assert_eq!(
        (bad.line.as_str(), bad.column.as_str(), bad.kind),
        ("id=14", "监测值", RejectKind::UnparseableNumber)
    );
    let e = ReadingPoll::new(&url_s, "nokey", &input, 480)
        .err()
        .expect("no key: an error");
    assert!(
        e.to_string().contains("主键") || e.to_string().contains("primary key"),
        "{e}"
    );
    c.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .unwrap();
}

/// The emergency layers (#27) published: resources, the stations' reach (by road), the
/// lifelines with their zones and ranked segments, the monitoring points; each table
/// holds what its GeoJSON holds, the geometries are valid, and PostGIS's own ST_DWithin
/// on the sphere finds the same enterprises in each protection zone as riskmap (away from
/// the zone's edge, where a buffer's polygon and the exact distance may differ by cm).
#[test]
fn emergency_layers_publish_and_postgis_agrees() {
    let Some(url) = test_db() else { return };
    let s = root().join("data/sample");
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("out");
    let cfg = config(
        d.path(),
        "emergency.toml",
        &format!(
            "[enterprises]\npath = \"{s}/enterprises.csv\"\n[assessments]\npath = \"{s}/assessments.csv\"\n\
             [hazards]\npath = \"{s}/hidden_dangers.csv\"\n[sites]\npath = \"{s}/sites.csv\"\n\
             [boundaries]\npath = \"{s}/jinan_districts_gcj02.geojson\"\n[resources]\npath = \"{s}/resources.csv\"\n\
             [lifelines]\npath = \"{s}/lifelines.geojson\"\ncrs = \"cgcs2000\"\n[roads]\npath = \"{s}/roads.geojson\"\n\
             [monitoring_points]\npath = \"{s}/monitoring_points.csv\"\n[readings]\npath = \"{s}/readings.csv\"\n",
            s = s.display()
        ),
        &out,
    );
    run_ok(riskmap(d.path()).args(["build", "--config"]).arg(&cfg));
    let pubs = format!("em_{}", std::process::id());
    let mut c = client(&url);
    c.batch_execute(&format!("DROP SCHEMA IF EXISTS {pubs} CASCADE"))
        .unwrap();
    let said = run_ok(
        riskmap(d.path())
            .args(["publish", "--config"])
            .arg(&cfg)
            .args(["--to", &url, "--schema", &pubs]),
    );
    for t in [
        "resources",
        "fire_reach",
        "lifelines",
        "lifeline_zones",
        "lifeline_segments",
        "monitoring",
    ] {
        assert!(said.contains(&format!("{pubs}.{t}")), "{t}: {said}");
    }
    let features = |f: &str| -> Vec<serde_json::Value> {
        let g: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join(f)).unwrap()).unwrap();
        g["features"].as_array().unwrap().clone()
    };
    let count = |c: &mut postgres::Client, q: &str| -> i64 { c.query_one(q, &[]).unwrap().get(0) };
    // each table holds its file's features, valid, in WGS84
    for (t, f, filter) in [
        ("resources", "resources.geojson", None),
        ("fire_reach", "fire_reach.geojson", None),
        ("lifelines", "lifelines.geojson", Some("line")),
        ("lifeline_segments", "lifeline_segments.geojson", None),
        ("monitoring", "monitoring.geojson", None),
    ] {
        let n = features(f)
            .iter()
            .filter(|x| filter.is_none_or(|r| x["properties"]["role"] == r))
            .count() as i64;
        assert!(n > 0, "{f}");
        assert_eq!(
            count(&mut c, &format!("SELECT count(*) FROM {pubs}.{t}")),
            n,
            "{t}"
        );
        assert_eq!(
            count(&mut c, &format!("SELECT count(*) FROM {pubs}.{t} WHERE NOT ST_IsValid(geom) OR ST_SRID(geom) <> 4326")),
            0,
            "{t}: invalid geometries"
        );
    }
    let zones = features("lifelines.geojson")
        .iter()
        .filter(|x| x["properties"]["role"] != "line")
        .count() as i64;
    assert_eq!(
        count(
            &mut c,
            &format!("SELECT count(*) FROM {pubs}.lifeline_zones")
        ),
        zones
    );
    // the stations' reach is by road in this config
    assert_eq!(
        count(
            &mut c,
            &format!("SELECT count(*) FROM {pubs}.fire_reach WHERE method <> 'road_network'")
        ),
        count(
            &mut c,
            &format!("SELECT count(*) FROM {pubs}.fire_reach WHERE drive_min IS NULL")
        ),
    );
    // the monitoring states as monitoring.geojson says them
    let mut states: Vec<(String, String)> = features("monitoring.geojson")
        .iter()
        .map(|x| {
            (
                x["properties"]["point"].as_str().unwrap().to_string(),
                x["properties"]["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    states.sort();
    let theirs: Vec<(String, String)> = c
        .query(
            &format!("SELECT point, state FROM {pubs}.monitoring ORDER BY point"),
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(states, theirs);
    // the enterprises of each protection zone: riskmap's list against ST_DWithin on the
    // sphere from the published centre line, leaving out those within 0.5 m of the edge
    let rows = c
        .query(
            &format!(
                "SELECT z.id, z.protect_m, z.enterprises::text,
                        (SELECT coalesce(json_agg(e.id ORDER BY e.id), '[]')::text FROM {pubs}.enterprises e, {pubs}.lifelines l
                          WHERE l.id = z.id AND ST_DWithin(l.geom::geography, e.geom::geography, z.protect_m, true)
                            AND abs(ST_Distance(l.geom::geography, e.geom::geography, true) - z.protect_m) > 0.5),
                        (SELECT coalesce(json_agg(e.id), '[]')::text FROM {pubs}.enterprises e, {pubs}.lifelines l
                          WHERE l.id = z.id AND abs(ST_Distance(l.geom::geography, e.geom::geography, true) - z.protect_m) <= 0.5)
                   FROM {pubs}.lifeline_zones z WHERE z.role = 'protection'"
            ),
            &[],
        )
        .unwrap();
    assert!(!rows.is_empty());
    let mut inside = 0;
    for r in &rows {
        let id: String = r.get(0);
        let ours: Vec<String> = serde_json::from_str(&r.get::<_, String>(2)).unwrap();
        let pg: Vec<String> = serde_json::from_str(&r.get::<_, String>(3)).unwrap();
        let edge: Vec<String> = serde_json::from_str(&r.get::<_, String>(4)).unwrap();
        let mut ours: Vec<String> = ours.into_iter().filter(|x| !edge.contains(x)).collect();
        ours.sort();
        assert_eq!(ours, pg, "lifeline {id}");
        inside += pg.len();
    }
    assert!(inside > 0, "some enterprise lies in a protection zone");
    // the readings the engine refused are in rejects, as in rejects.csv
    let lines = std::fs::read_to_string(out.join("rejects.csv"))
        .unwrap()
        .lines()
        .count() as i64;
    assert_eq!(
        count(&mut c, &format!("SELECT count(*) FROM {pubs}.rejects")),
        lines - 1
    );
    c.batch_execute(&format!("DROP SCHEMA {pubs} CASCADE"))
        .unwrap();
}
