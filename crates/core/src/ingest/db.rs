//! Read an input table from PostgreSQL / PostGIS (`--db URL`, `[database] url`): a table
//! of the `search_path` (or `schema.table`), or a query, streamed with
//! `COPY (SELECT …) TO STDOUT (FORMAT csv, HEADER)` into the same [`Table`] a CSV file
//! gives, so the same header aliases, validation and grading apply and the same register
//! gives the same grades from a file or from the database.
//!
//! A PostGIS geometry column becomes `lon` / `lat` columns (its point; SRID 4326 / 4490 /
//! 0 as stored, any other transformed to 4326 by PostGIS); other columns are read as
//! their text. Rows are named by the table's primary key (`主键 id=…`) instead of a line.
//! Identifiers are quoted and no config value is spliced into SQL unquoted; the password
//! (URL, `PGPASSWORD`, `~/.pgpass`) is never printed.

use super::table::{Builder, Table};
use super::IngestError;
use sha2::{Digest, Sha256};
use std::io::Read;

/// A connection, and a name for it in messages (user@host:port/db, no password).
pub struct Db {
    pub client: postgres::Client,
    pub name: String,
}

/// `"name"` with `"` doubled: an identifier, never SQL.
pub fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// `schema.table` or `table`, each part quoted.
pub fn quote_table(s: &str) -> String {
    match s.split_once('.') {
        Some((a, b)) if !a.is_empty() && !b.is_empty() => {
            format!("{}.{}", quote_ident(a), quote_ident(b))
        }
        _ => quote_ident(s),
    }
}

fn db_err(what: &str, e: impl std::fmt::Display) -> IngestError {
    IngestError::Io {
        file: what.to_string(),
        message: e.to_string(),
    }
}

/// The password `~/.pgpass` (or `PGPASSFILE`) holds for this host, port, database and
/// user: lines `host:port:db:user:password`, `*` matching anything, `\:` an escaped
/// colon (libpq's rules; the file is read as libpq reads it).
fn pgpass(host: &str, port: u16, db: &str, user: &str) -> Option<String> {
    let path = std::env::var_os("PGPASSFILE")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".pgpass")))?;
    let text = std::fs::read_to_string(path).ok()?;
    for line in text.lines() {
        if line.starts_with('#') {
            continue;
        }
        let mut fields = Vec::new();
        let mut cur = String::new();
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    if let Some(n) = chars.next() {
                        cur.push(n);
                    }
                }
                ':' if fields.len() < 4 => fields.push(std::mem::take(&mut cur)),
                c => cur.push(c),
            }
        }
        fields.push(cur);
        if fields.len() != 5 {
            continue;
        }
        let port_s = port.to_string();
        let ok = |f: &str, v: &str| f == "*" || f == v;
        if ok(&fields[0], host)
            && ok(&fields[1], &port_s)
            && ok(&fields[2], db)
            && ok(&fields[3], user)
        {
            return Some(fields[4].clone());
        }
    }
    None
}

/// Connect to `url` (`postgresql://user@host:port/db?sslmode=…`), the password from the
/// URL, else `PGPASSWORD`, else `~/.pgpass`.
pub fn connect(url: &str) -> Result<Db, IngestError> {
    let mut cfg: postgres::Config = url.parse().map_err(|e| {
        db_err(
            &crate::tr!("数据库地址", "the database URL"),
            crate::tr!(
                "无法解析（应为 postgresql://用户@主机:端口/数据库）：{e}",
                "cannot be parsed (postgresql://user@host:port/db expected): {e}"
            ),
        )
    })?;
    if cfg.get_user().is_none() {
        if let Ok(u) = std::env::var("PGUSER").or_else(|_| std::env::var("USER")) {
            cfg.user(&u);
        }
    }
    let user = cfg.get_user().unwrap_or("").to_string();
    let dbname = cfg.get_dbname().unwrap_or(&user).to_string();
    let host = match cfg.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".to_string(),
    };
    let port = cfg.get_ports().first().copied().unwrap_or(5432);
    if cfg.get_password().is_none() {
        if let Ok(p) = std::env::var("PGPASSWORD") {
            cfg.password(p);
        } else if let Some(p) = pgpass(&host, port, &dbname, &user) {
            cfg.password(p);
        }
    }
    let name = format!("{user}@{host}:{port}/{dbname}");
    let client = cfg.connect(postgres::NoTls).map_err(|e| {
        db_err(
            &name,
            crate::tr!("无法连接数据库：{e}", "cannot connect: {e}"),
        )
    })?;
    Ok(Db { client, name })
}

/// A reader that hashes what passes through it (the table's SHA-256 for the run's
/// provenance, computed on the stream).
struct Hashing<R> {
    inner: R,
    hash: Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

/// Where a table comes from: a table name or a query.
pub enum Source<'a> {
    Table(&'a str),
    Sql(&'a str),
}

/// Whether `table` exists (a relation the `search_path` or its schema names).
pub fn table_exists(db: &mut Db, table: &str) -> Result<bool, IngestError> {
    let row = db
        .client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&quote_table(table)])
        .map_err(|e| db_err(&db.name, e))?;
    Ok(row.get(0))
}

/// Read `src` as a [`Table`] named for messages `表 name` / `查询`; returns the table and
/// the SHA-256 of its CSV stream.
pub fn read(db: &mut Db, src: Source, what: &str) -> Result<(Table, String), IngestError> {
    let (from, label) = match src {
        Source::Table(t) => (quote_table(t), crate::tr!("表 {t}", "table {t}")),
        Source::Sql(q) => (
            format!("({}) AS riskmap_q", q.trim().trim_end_matches(';')),
            crate::tr!("查询", "query"),
        ),
    };
    let file = format!("{}:{label}", db.name);
    let err = |e: postgres::Error| {
        let e = e
            .as_db_error()
            .map(|d| d.message().to_string())
            .unwrap_or_else(|| e.to_string());
        db_err(
            &file,
            crate::tr!("读取{what}时出错：{e}", "reading {what}: {e}"),
        )
    };
    // the columns and their types, without reading a row
    let stmt = db
        .client
        .prepare(&format!("SELECT * FROM {from} LIMIT 0"))
        .map_err(err)?;
    let mut select = Vec::new();
    let mut geometry = false;
    for c in stmt.columns() {
        let q = quote_ident(c.name());
        if c.type_().name() == "geometry" || c.type_().name() == "geography" {
            if geometry {
                continue;
            }
            geometry = true;
            // its point, in 4326 unless stored as 4326, CGCS2000 (4490) or unstated (0)
            let g = format!(
                "(CASE WHEN ST_SRID({q}::geometry) IN (0, 4326, 4490) THEN {q}::geometry ELSE ST_Transform({q}::geometry, 4326) END)"
            );
            select.push(format!(
                "CASE WHEN GeometryType({g}) = 'POINT' AND NOT ST_IsEmpty({g}) THEN ST_X({g})::text END AS lon"
            ));
            select.push(format!(
                "CASE WHEN GeometryType({g}) = 'POINT' AND NOT ST_IsEmpty({g}) THEN ST_Y({g})::text END AS lat"
            ));
        } else {
            select.push(format!("{q}::text AS {q}"));
        }
    }
    if select.is_empty() {
        return Err(IngestError::Empty {
            file,
            what: what.to_string(),
        });
    }
    // the primary key, to name rows by
    let key: Option<String> = match src {
        Source::Table(t) => db
            .client
            .query(
                "SELECT a.attname::text FROM pg_index i JOIN pg_attribute a
                   ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
                 WHERE i.indrelid = to_regclass($1) AND i.indisprimary ORDER BY a.attnum LIMIT 1",
                &[&quote_table(t)],
            )
            .map_err(err)?
            .first()
            .map(|r| r.get(0)),
        Source::Sql(_) => None,
    };
    // rows in a fixed order, so the same table gives the same bytes out: by the primary
    // key, else as stored (no parallel scan to shuffle them; a table loaded from a file
    // then reads in the file's order)
    let order = match &key {
        Some(k) => format!(" ORDER BY {}", quote_ident(k)),
        None => {
            db.client
                .batch_execute("SET max_parallel_workers_per_gather = 0")
                .map_err(err)?;
            String::new()
        }
    };
    let copy = format!(
        "COPY (SELECT {} FROM {from}{order}) TO STDOUT (FORMAT csv, HEADER true)",
        select.join(", ")
    );
    let reader = db.client.copy_out(copy.as_str()).map_err(err)?;
    let mut hashing = Hashing {
        inner: reader,
        hash: Sha256::new(),
    };
    let mut b = Builder::new(&file);
    {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(&mut hashing);
        let mut rec = csv::StringRecord::new();
        let mut n = 0usize;
        loop {
            let more = rdr.read_record(&mut rec).map_err(|e| {
                db_err(
                    &file,
                    crate::tr!("读取{what}时出错：{e}", "reading {what}: {e}"),
                )
            })?;
            if !more {
                break;
            }
            n += 1;
            b.row(n, rec.iter(), None, None)?;
        }
    }
    let sha = format!("{:x}", hashing.hash.finalize());
    let mut t = b.table("postgresql".to_string(), false);
    t.key_col = key.and_then(|k| t.headers.iter().position(|h| *h == k));
    if t.headers.is_empty() {
        return Err(IngestError::Empty {
            file,
            what: what.to_string(),
        });
    }
    Ok((t, sha))
}

/// The district boundaries of a table or query with a (Multi)Polygon column: the rows as
/// GeoJSON features (PostGIS's `ST_AsGeoJSON` of the geometry in 4326, the other columns
/// as properties), read by the same reader as a boundary file.
pub fn boundaries_geojson(db: &mut Db, src: Source) -> Result<(Vec<u8>, String), IngestError> {
    let (from, label) = match src {
        Source::Table(t) => (quote_table(t), crate::tr!("表 {t}", "table {t}")),
        Source::Sql(q) => (
            format!("({}) AS riskmap_q", q.trim().trim_end_matches(';')),
            crate::tr!("查询", "query"),
        ),
    };
    let file = format!("{}:{label}", db.name);
    let err = |e: postgres::Error| {
        let e = e
            .as_db_error()
            .map(|d| d.message().to_string())
            .unwrap_or_else(|| e.to_string());
        db_err(
            &file,
            crate::tr!("读取区县边界时出错：{e}", "reading the boundaries: {e}"),
        )
    };
    let stmt = db
        .client
        .prepare(&format!("SELECT * FROM {from} LIMIT 0"))
        .map_err(err)?;
    let geom = stmt
        .columns()
        .iter()
        .find(|c| c.type_().name() == "geometry")
        .map(|c| quote_ident(c.name()))
        .ok_or_else(|| db_err(&file, crate::tr!("没有 geometry 列", "no geometry column")))?;
    let props: Vec<String> = stmt
        .columns()
        .iter()
        .filter(|c| c.type_().name() != "geometry")
        .map(|c| {
            let q = quote_ident(c.name());
            format!("'{}', {q}::text", c.name().replace('\'', "''"))
        })
        .collect();
    let sql = format!(
        "SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(json_build_object(
            'type', 'Feature',
            'properties', json_build_object({}),
            'geometry', ST_AsGeoJSON(CASE WHEN ST_SRID({geom}) IN (0, 4326, 4490) THEN {geom} ELSE ST_Transform({geom}, 4326) END)::json
         )), '[]'::json))::text FROM {from}",
        props.join(", ")
    );
    let row = db.client.query_one(sql.as_str(), &[]).map_err(err)?;
    let text: String = row.get(0);
    let sha = format!("{:x}", Sha256::digest(text.as_bytes()));
    Ok((text.into_bytes(), sha))
}
