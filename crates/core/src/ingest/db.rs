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

/// How the connection is secured, as libpq's `sslmode` says: `disable` (plain), `allow`
/// / `prefer` (TLS when the server offers it, the certificate not checked: libpq's
/// default), `require` (TLS, not checked), `verify-ca` (TLS, the certificate signed by
/// `sslrootcert` or, without it, a CA of the system store), `verify-full` (that, and
/// issued for the host connected to).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// Take libpq's `sslmode` and `sslrootcert` out of a URL's query (rust-postgres knows
/// only disable / prefer / require and no root certificates): the URL it parses, the
/// mode, the root certificate file.
fn split_tls(url: &str) -> Result<(String, SslMode, Option<std::path::PathBuf>), String> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, q),
        None => (url, ""),
    };
    let mut keep = Vec::new();
    let mut mode = SslMode::Prefer;
    let mut root = None;
    for kv in query.split('&').filter(|s| !s.is_empty()) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        match k {
            "sslmode" => {
                mode = match v {
                    "disable" => SslMode::Disable,
                    "allow" | "prefer" => SslMode::Prefer,
                    "require" => SslMode::Require,
                    "verify-ca" => SslMode::VerifyCa,
                    "verify-full" => SslMode::VerifyFull,
                    other => {
                        return Err(crate::tr!(
                            "sslmode = {other} 无法识别（disable、allow、prefer、require、verify-ca、verify-full）",
                            "sslmode = {other} is not one of disable, allow, prefer, require, verify-ca, verify-full"
                        ))
                    }
                }
            }
            "sslrootcert" => root = Some(std::path::PathBuf::from(percent_decode(v))),
            _ => keep.push(kv),
        }
    }
    let pg_mode = match mode {
        SslMode::Disable => "disable",
        SslMode::Prefer => "prefer",
        _ => "require",
    };
    keep.push(match pg_mode {
        "disable" => "sslmode=disable",
        "prefer" => "sslmode=prefer",
        _ => "sslmode=require",
    });
    Ok((format!("{base}?{}", keep.join("&")), mode, root))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).to_string()
}

/// A verifier that accepts any certificate but still checks the handshake's signatures:
/// libpq's `prefer` / `require` (encryption against eavesdropping, no identity).
#[derive(Debug)]
struct Unchecked(std::sync::Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _end: &rustls::pki_types::CertificateDer<'_>,
        _inter: &[rustls::pki_types::CertificateDer<'_>],
        _name: &rustls::pki_types::ServerName<'_>,
        _ocsp: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain checked against the roots, the host name not.
#[derive(Debug)]
struct CaOnly(std::sync::Arc<rustls::client::WebPkiServerVerifier>);

impl rustls::client::danger::ServerCertVerifier for CaOnly {
    fn verify_server_cert(
        &self,
        end: &rustls::pki_types::CertificateDer<'_>,
        inter: &[rustls::pki_types::CertificateDer<'_>],
        name: &rustls::pki_types::ServerName<'_>,
        ocsp: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        use rustls::CertificateError as C;
        match self.0.verify_server_cert(end, inter, name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(C::NotValidForName))
            | Err(rustls::Error::InvalidCertificate(C::NotValidForNameContext { .. })) => {
                Ok(rustls::client::danger::ServerCertVerified::assertion())
            }
            r => r,
        }
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// The TLS client for `mode` (rustls, ring): unchecked for prefer / require, the roots
/// of `root` (PEM; libpq's `sslrootcert`, default `~/.postgresql/root.crt`) or the
/// system's store for verify-ca / verify-full.
fn tls(mode: SslMode, root: Option<&std::path::Path>) -> Result<rustls::ClientConfig, String> {
    use std::sync::Arc;
    // ring, not aws-lc-rs: it builds with a C compiler alone (no cmake / NASM on a fresh
    // machine); rustls marks it deprecated only for lacking post-quantum key exchange,
    // which PostgreSQL servers do not offer
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    if matches!(mode, SslMode::Disable | SslMode::Prefer | SslMode::Require) {
        return Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Unchecked(provider)))
            .with_no_client_auth());
    }
    let mut roots = rustls::RootCertStore::empty();
    let default_root = std::env::var_os("HOME")
        .map(|h| std::path::Path::new(&h).join(".postgresql/root.crt"))
        .filter(|p| p.exists());
    match root.map(|p| p.to_path_buf()).or(default_root) {
        Some(p) => {
            let pem = std::fs::read(&p).map_err(|e| {
                let (p, e) = (p.display(), crate::i18n::io_error(&e));
                crate::tr!(
                    "无法读取 sslrootcert {p}：{e}",
                    "cannot read sslrootcert {p}: {e}"
                )
            })?;
            for c in rustls_pemfile::certs(&mut pem.as_slice()) {
                let c = c.map_err(|e| e.to_string())?;
                roots.add(c).map_err(|e| e.to_string())?;
            }
        }
        None => {
            for c in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(c);
            }
        }
    }
    let webpki =
        rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| e.to_string())?;
    Ok(if mode == SslMode::VerifyCa {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(CaOnly(webpki)))
            .with_no_client_auth()
    } else {
        builder.with_webpki_verifier(webpki).with_no_client_auth()
    })
}

/// Connect to `url` (`postgresql://user@host:port/db?sslmode=…&sslrootcert=…`), the
/// password from the URL, else `PGPASSWORD`, else `~/.pgpass`; TLS as `sslmode` says.
pub fn connect(url: &str) -> Result<Db, IngestError> {
    let (url, mode, root) =
        split_tls(url).map_err(|m| db_err(&crate::tr!("数据库地址", "the database URL"), m))?;
    let url = url.as_str();
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
    let tls = tls(mode, root.as_deref()).map_err(|m| db_err(&name, m))?;
    let client = cfg
        .connect(tokio_postgres_rustls::MakeRustlsConnect::new(tls))
        .map_err(|e| {
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

impl Source<'_> {
    /// The FROM clause: the quoted table, or the query as a subselect.
    fn from_clause(&self) -> String {
        match self {
            Source::Table(t) => quote_table(t),
            Source::Sql(q) => format!("({}) AS riskmap_q", q.trim().trim_end_matches(';')),
        }
    }

    /// How messages and rejects name it: `user@host:port/db:表 name` or `…:查询`.
    pub fn label(&self, db: &Db) -> String {
        let what = match self {
            Source::Table(t) => crate::tr!("表 {t}", "table {t}"),
            Source::Sql(_) => crate::tr!("查询", "query"),
        };
        format!("{}:{what}", db.name)
    }
}

/// The name a table source's columns are qualified by in ORDER BY (its last part).
fn key_table<'a>(src: &Source<'a>) -> &'a str {
    match src {
        Source::Table(t) => t.rsplit_once('.').map_or(t, |(_, b)| b),
        Source::Sql(_) => "riskmap_q",
    }
}

/// What the server said (its own message when it sent one), for messages.
pub fn pg_message(e: &postgres::Error) -> String {
    e.as_db_error()
        .map(|d| d.message().to_string())
        .unwrap_or_else(|| e.to_string())
}

/// Which source a section reads: its `sql`, else its `table`, else `default` when the
/// database has such a table. `None`: nothing to read from the database.
pub fn source<'a>(
    db: &mut Db,
    sql: Option<&'a str>,
    table: Option<&'a str>,
    default: &'a str,
) -> Result<Option<Source<'a>>, IngestError> {
    Ok(match (sql, table) {
        (Some(q), _) => Some(Source::Sql(q)),
        (None, Some(t)) => Some(Source::Table(t)),
        (None, None) if table_exists(db, default)? => Some(Source::Table(default)),
        (None, None) => None,
    })
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
    read_with(db, src, what, false)
}

/// [`read`] for a table of lines or shapes: the geometry column, whatever its type,
/// becomes the [`super::table::GEOMETRY`] column as GeoJSON in 4326 (PostGIS's
/// `ST_AsGeoJSON`, 15 decimals), parsed by the shape's reader as a file's would be.
pub fn read_shapes(db: &mut Db, src: Source, what: &str) -> Result<(Table, String), IngestError> {
    read_with(db, src, what, true)
}

const GEOMETRY_COL: &str = "riskmap_geometry";

fn read_with(
    db: &mut Db,
    src: Source,
    what: &str,
    shapes: bool,
) -> Result<(Table, String), IngestError> {
    let (from, file) = (src.from_clause(), src.label(db));
    let err = |e: postgres::Error| {
        let e = pg_message(&e);
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
            if shapes {
                select.push(format!(
                    "ST_AsGeoJSON({g}, 15) AS {}",
                    quote_ident(GEOMETRY_COL)
                ));
                continue;
            }
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
        // the table's own column, not the select list's text of it (`gid::text AS gid`
        // would order 1, 10, 11, …, 2)
        Some(k) => format!(
            " ORDER BY {}.{}",
            quote_ident(key_table(&src)),
            quote_ident(k)
        ),
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
    if shapes {
        if let Some(h) = t.headers.iter_mut().find(|h| *h == GEOMETRY_COL) {
            *h = super::table::GEOMETRY.to_string();
        }
    }
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
/// as properties), read by the same reader as a boundary file. Returns the text, its
/// SHA-256 and the source's label.
pub fn boundaries_geojson(
    db: &mut Db,
    src: Source,
) -> Result<(Vec<u8>, String, String), IngestError> {
    let (from, file) = (src.from_clause(), src.label(db));
    let err = |e: postgres::Error| {
        let e = pg_message(&e);
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
    Ok((text.into_bytes(), sha, file))
}

/// The channel riskmap's triggers notify (`riskmap db install-triggers`) and
/// `serve --watch` listens on.
pub const CHANNEL: &str = "riskmap_changed";

/// Create (or replace) the function `riskmap_notify()` and on each of `tables` a
/// statement-level trigger `riskmap_changed` (after INSERT, UPDATE, DELETE, TRUNCATE)
/// that notifies [`CHANNEL`] with the table's name; in one transaction. Returns the
/// tables given triggers (those that exist).
pub fn install_triggers(db: &mut Db, tables: &[String]) -> Result<Vec<String>, IngestError> {
    let name = db.name.clone();
    let mut done = Vec::new();
    let mut tx = db
        .client
        .transaction()
        .map_err(|e| db_err(&name, pg_message(&e)))?;
    tx.batch_execute(&format!(
        "CREATE OR REPLACE FUNCTION riskmap_notify() RETURNS trigger LANGUAGE plpgsql AS $f$
         BEGIN PERFORM pg_notify('{CHANNEL}', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME); RETURN NULL; END $f$;"
    ))
    .map_err(|e| db_err(&name, pg_message(&e)))?;
    for t in tables {
        let exists: bool = tx
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&quote_table(t)])
            .map_err(|e| db_err(&name, pg_message(&e)))?
            .get(0);
        if !exists {
            continue;
        }
        let q = quote_table(t);
        tx.batch_execute(&format!(
            "DROP TRIGGER IF EXISTS riskmap_changed ON {q};
             CREATE TRIGGER riskmap_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {q}
             FOR EACH STATEMENT EXECUTE FUNCTION riskmap_notify();"
        ))
        .map_err(|e| db_err(&format!("{name}:{t}"), pg_message(&e)))?;
        done.push(t.clone());
    }
    tx.commit().map_err(|e| db_err(&name, pg_message(&e)))?;
    Ok(done)
}

/// LISTEN on [`CHANNEL`]; after each burst of notifications has settled (`quiet` with
/// none), call `changed` (false stops). Calls it once first, when listening has begun
/// (changes made before). Returns when the connection fails.
pub fn listen(
    mut db: Db,
    quiet: std::time::Duration,
    mut changed: impl FnMut() -> bool,
) -> Result<(), IngestError> {
    let name = db.name.clone();
    db.client
        .batch_execute(&format!("LISTEN {CHANNEL}"))
        .map_err(|e| db_err(&name, pg_message(&e)))?;
    if !changed() {
        return Ok(());
    }
    loop {
        {
            use postgres::fallible_iterator::FallibleIterator;
            let mut n = db.client.notifications();
            let first = n.blocking_iter().next();
            match first {
                Ok(Some(_)) => {}
                Ok(None) => return Ok(()),
                Err(e) => return Err(db_err(&name, pg_message(&e))),
            }
            // the rest of the burst
            loop {
                match n.timeout_iter(quiet).next() {
                    Ok(Some(_)) => continue,
                    Ok(None) => break,
                    Err(e) => return Err(db_err(&name, pg_message(&e))),
                }
            }
        }
        if !changed() {
            return Ok(());
        }
    }
}
