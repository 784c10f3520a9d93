//! `riskmap serve` as a process over a real socket: concurrent clients get whole,
//! correct answers; HEAD has the GET's headers and no body; brotli and gzip when asked;
//! a request body over the limit, a method other than GET/HEAD and an over-long target
//! are refused with a status, and the server keeps answering after each.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn riskmap() -> Command {
    Command::new(env!("CARGO_BIN_EXE_riskmap"))
}

/// Send raw request bytes on a fresh connection; the status and the raw answer.
fn send(addr: &str, req: &[u8]) -> (u16, String, Vec<u8>) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(req).unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(buf.len());
    let head = String::from_utf8_lossy(&buf[..split]).to_lowercase();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = buf.get(split + 4..).unwrap_or(&[]).to_vec();
    (status, head, body)
}

fn get(addr: &str, path: &str, extra: &str) -> (u16, String, Vec<u8>) {
    send(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Connection: close\r\n\r\n")
            .as_bytes(),
    )
}

fn build(dir: &Path) -> std::path::PathBuf {
    let reg = dir.join("reg");
    let ok = |c: &mut Command| {
        let o = c.output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    ok(riskmap()
        .args(["sample", "--count", "300", "--out"])
        .arg(&reg));
    let cfg = dir.join("cfg.toml");
    std::fs::write(
        &cfg,
        format!(
            "[enterprises]\npath = \"{r}/enterprises.csv\"\n[boundaries]\npath = \"{r}/jinan_districts_gcj02.geojson\"\ncrs = \"gcj02\"\n[output]\ndir = \"{o}\"\n[tiles]\nenabled = true\nzoom = [8, 10]\nlayers = [\"points\"]\n",
            r = reg.display(),
            o = dir.join("out").display()
        ),
    )
    .unwrap();
    ok(riskmap().args(["build", "-q", "--config"]).arg(&cfg));
    cfg
}

#[test]
fn a_real_socket_answers_every_client_and_refuses_what_it_must() {
    let d = tempfile::tempdir().unwrap();
    let cfg = build(d.path());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut server = riskmap()
        .args(["serve", "--config"])
        .arg(&cfg)
        .args(["--addr", &addr])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let result = std::panic::catch_unwind(|| {
        let t = Instant::now();
        while std::net::TcpStream::connect(&addr).is_err() {
            assert!(
                t.elapsed() < Duration::from_secs(120),
                "serve did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let (st, _, stats) = get(&addr, "/api/stats", "");
        assert_eq!(st, 200);
        // 8 clients × 25 requests at once: every answer whole and the same
        let answers: Vec<Vec<u8>> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| {
                        (0..25)
                            .map(|_| {
                                let (st, _, body) = get(&addr, "/api/stats", "");
                                assert_eq!(st, 200);
                                body
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(answers.len(), 200);
        assert!(answers.iter().all(|a| *a == stats));
        // HEAD: the GET's status and type, no body
        let (st, head, body) = send(
            &addr,
            format!("HEAD /api/meta HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        );
        assert_eq!(st, 200);
        assert!(head.contains("content-type: application/json"), "{head}");
        assert!(body.is_empty());
        // brotli and gzip when the client asks; the decoded body is the plain one
        let (_, plain_head, plain) = get(&addr, "/geojson/enterprises.geojson", "");
        assert!(!plain_head.contains("content-encoding"));
        for (enc, name) in [("br", "br"), ("gzip", "gzip")] {
            let (st, head, body) = get(
                &addr,
                "/geojson/enterprises.geojson",
                &format!("Accept-Encoding: {enc}\r\n"),
            );
            assert_eq!(st, 200);
            assert!(
                head.contains(&format!("content-encoding: {name}")),
                "{head}"
            );
            assert!(body.len() < plain.len() / 2, "{name} compresses");
        }
        // a body over 16 KiB, a POST, an over-long target: refused, and still serving
        let big = vec![b'x'; 20_000];
        let mut req = format!(
            "GET /api/stats HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            big.len()
        )
        .into_bytes();
        req.extend(&big);
        let (st, _, _) = send(&addr, &req);
        assert!((400..500).contains(&st), "large body: {st}");
        let (st, _, _) = send(
            &addr,
            format!("POST /api/stats HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        );
        assert_eq!(st, 405, "POST");
        let long = format!("/api/stats?q={}", "a".repeat(5000));
        let (st, _, body) = get(&addr, &long, "");
        assert_eq!(st, 414);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert!(v["error"].as_str().unwrap().contains("4096"), "{v}");
        let (st, _, again) = get(&addr, "/api/stats", "");
        assert_eq!((st, again), (200, stats));
    });
    let _ = server.kill();
    let _ = server.wait();
    result.unwrap();
}
