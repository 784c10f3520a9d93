//! Mutation fuzzing on stable Rust inside `cargo test` (issue #20 §4). Each target mutates
//! the seeds in tests/fuzz/corpus/<target>/ with a seeded RNG: byte flips, inserts, deletes,
//! duplicated and spliced chunks, odd numbers and tokens from tests/fuzz/dict/ (NUL, lone CR,
//! quotes, invalid UTF-8, BOMs, GBK), GBK and UTF-16 re-encodings, long lines; XLSX also
//! inside its rezipped XML. An input may give Ok or a clean Err, never a panic or a hang; the
//! server never a 5xx, and every 4xx is JSON with an `error`. An input with a new kind of
//! outcome joins the pool of parents.
//!
//! Every file in tests/fuzz/regressions/<target>/ is replayed first (its name after the first
//! dot is the file name the target reads). A new failure is minimised and saved there.
//! `RISKMAP_FUZZ_SECS` (default 3) is each target's budget and `RISKMAP_FUZZ_SEED` the seed;
//! a long run: `RISKMAP_FUZZ_SECS=600 cargo test --release --test fuzz -- --test-threads=1
//! --nocapture`. The input under test is always in target/tmp/fuzz-<target>-<pid>/, left
//! there if the process dies (stack overflow, out of memory, or the hang watchdog's exit).

use axum::{body::Body, http::Request, http::Uri};
use http_body_util::BodyExt;
use riskmap::config::{Config, TableInput};
use riskmap::crs::Crs;
use riskmap::index::DistrictIndex;
use riskmap::ingest::{self, boundaries::read_boundaries, table::read_table, Region};
use std::collections::HashSet;
use std::io::{Read, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::thread::{current, ThreadId};
use std::time::{Duration, Instant};
use tower::ServiceExt;

/// An input slower than this is a hang (unoptimised builds get 4×); the watchdog ends the
/// process at twice this.
const HANG: Duration = Duration::from_secs(if cfg!(debug_assertions) { 20 } else { 5 });

/// Failures in code this harness may not fix: (target, reproducer in regressions/<target>/,
/// signature: `|`-separated parts all found in the failure's description). The live fuzzer
/// counts such failures instead of failing, and the replay expects the reproducer to fail
/// (it says when one passes: then delete its entry, and it runs as a regression test).
///
/// Empty: what the fuzzer found so far is fixed (2f8545a); its reproducers are regressions.
const KNOWN_UNFIXED: &[(&str, &str, &str)] = &[];

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// splitmix64
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let z = (self.0 ^ (self.0 >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        let z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

fn fnv(d: &[u8]) -> u64 {
    let step = |h: u64, &b: &u8| (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
    d.iter().fold(0xcbf2_9ce4_8422_2325, step)
}

/// A dictionary of tests/fuzz/dict/: a token a line, a byte as `\xNN`, `#` comments.
fn dict(name: &str) -> Vec<Vec<u8>> {
    let text = std::fs::read_to_string(Path::new(ROOT).join("tests/fuzz/dict").join(name));
    let lines = text.unwrap_or_default();
    let tokens = lines
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty());
    let unescape = |l: &str| {
        let mut parts = l.split("\\x");
        let mut v = parts.next().unwrap_or("").as_bytes().to_vec();
        for p in parts {
            v.push(u8::from_str_radix(&p[..2], 16).unwrap());
            v.extend(&p.as_bytes()[2..]);
        }
        v
    };
    tokens.map(unescape).collect()
}

struct Dicts {
    numbers: Vec<Vec<u8>>,
    common: Vec<Vec<u8>>,
    target: Vec<Vec<u8>>,
}

#[derive(Clone)]
struct Input {
    /// The file name the target reads ("in.csv", "enterprises.csv", "uri").
    tag: String,
    data: Vec<u8>,
}

fn reencode(r: &mut Rng, d: &[u8]) -> Vec<u8> {
    let s = String::from_utf8_lossy(d.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(d)).into_owned();
    let utf16 = |le: bool, bom: bool| {
        let mut v = match (bom, le) {
            (false, _) => vec![],
            (true, true) => vec![0xFF, 0xFE],
            (true, false) => vec![0xFE, 0xFF],
        };
        for u in s.encode_utf16() {
            v.extend(if le { u.to_le_bytes() } else { u.to_be_bytes() });
        }
        v
    };
    match r.below(7) {
        0 => encoding_rs::GBK.encode(&s).0.into_owned(),
        1 => utf16(true, true),
        2 => utf16(false, true),
        3 => utf16(true, false),
        4 => [b"\xEF\xBB\xBF".as_slice(), s.as_bytes()].concat(),
        5 => s.replace('\n', "\r\n").into_bytes(),
        _ => s.replace('\n', "\r").into_bytes(),
    }
}

/// One to three (sometimes up to 16) stacked mutations of `parent`.
fn mutate(r: &mut Rng, parent: &[u8], pool: &[Input], dicts: &Dicts) -> Vec<u8> {
    let mut d = parent.to_vec();
    let rounds = 1 + if r.one_in(4) { r.below(16) } else { r.below(3) };
    for _ in 0..rounds {
        let len = d.len();
        let at = r.below(len + 1);
        let span = if r.one_in(3) { 512 } else { 8 };
        let end = (at + 1 + r.below(span)).min(len);
        match r.below(15) {
            0 if len > 0 => d[r.below(len)] ^= 1 << r.below(8),
            1 if len > 0 => d[r.below(len)] = *r.pick(b"\0\x7f\x80\xff\r\n\",;\t\\ %'{}[]<>&=.-e"),
            2 => {
                let bytes: Vec<u8> = (0..1 + r.below(16)).map(|_| r.next() as u8).collect();
                drop(d.splice(at..at, bytes));
            }
            3 => drop(d.drain(at..end)),
            4 => {
                let (chunk, to) = (d[at..end].to_vec(), r.below(len + 1));
                for _ in 0..if r.one_in(8) { 1 + r.below(64) } else { 1 } {
                    d.splice(to..to, chunk.iter().copied());
                }
            }
            5 => {
                // splice in a piece of another input
                let o = &r.pick(pool).data;
                let a = r.below(o.len() + 1);
                let piece = &o[a..(a + 1 + r.below(2048)).min(o.len())];
                drop(d.splice(
                    if r.one_in(2) { at..at } else { at..end },
                    piece.iter().copied(),
                ));
            }
            6 | 7 => {
                let from = if r.one_in(2) && !dicts.target.is_empty() {
                    &dicts.target
                } else {
                    &dicts.common
                };
                let tok = r.pick(from);
                drop(d.splice(
                    if r.one_in(3) { at..end } else { at..at },
                    tok.iter().copied(),
                ));
            }
            8 | 9 => {
                // a number (or a quoted value) replaced by an odd number
                let num = |b: u8| b.is_ascii_digit() || b"-+.eE".contains(&b);
                if let Some(i) = (at..len).chain(0..at).find(|&i| num(d[i]) || d[i] == b'"') {
                    let q = d[i] == b'"';
                    let j = (i + 1..len).find(|&j| if q { d[j] == b'"' } else { !num(d[j]) });
                    let tok = r.pick(&dicts.numbers);
                    drop(d.splice(i + q as usize..j.unwrap_or(len), tok.iter().copied()));
                }
            }
            10 => {
                let mut lines: Vec<Vec<u8>> =
                    d.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
                let (i, j) = (r.below(lines.len()), r.below(lines.len()));
                match r.below(3) {
                    0 => lines.insert(j, lines[i].clone()),
                    1 if lines.len() > 1 => drop(lines.remove(i)),
                    _ => lines.swap(i, j),
                }
                d = lines.join(&b'\n');
            }
            11 => d.truncate(at),
            12 => d = reencode(r, &d),
            13 => {
                let fill = std::iter::repeat_n(*r.pick(b"A9,\"\n\r \x00[{"), 1000 << r.below(8));
                drop(d.splice(at..at, fill));
            }
            _ => {}
        }
    }
    d.truncate(4 << 20);
    d
}

/// An XLSX mutation: mostly one inner file changed (mutated, dropped, renamed or doubled)
/// and the archive rezipped, stored or deflated; else the raw bytes.
fn mutate_xlsx(r: &mut Rng, parent: &[u8], pool: &[Input], dicts: &Dicts) -> Vec<u8> {
    let mut files = Vec::new();
    if let Ok(mut z) = zip::ZipArchive::new(std::io::Cursor::new(parent)) {
        for i in 0..z.len() {
            let Ok(mut f) = z.by_index(i) else { continue };
            let (name, mut v) = (f.name().map(|n| n.into_owned()).unwrap_or_default(), vec![]);
            if f.size() < 8 << 20 && f.read_to_end(&mut v).is_ok() {
                files.push((name, v));
            }
        }
    }
    if files.is_empty() || r.one_in(3) {
        return mutate(r, parent, pool, dicts);
    }
    let sheets: Vec<usize> = (0..files.len())
        .filter(|&i| files[i].0.contains("sheet"))
        .collect();
    let k = if !sheets.is_empty() && r.one_in(2) {
        *r.pick(&sheets)
    } else {
        r.below(files.len())
    };
    match r.below(12) {
        0 => drop(files.remove(k)),
        1 => {
            let name = mutate(r, files[k].0.as_bytes(), pool, dicts);
            files[k].0 = String::from_utf8_lossy(&name).chars().take(200).collect();
        }
        2 if files.len() < 64 => files.push(files[k].clone()),
        _ => files[k].1 = mutate(r, &files[k].1, pool, dicts),
    }
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let method = [
        zip::CompressionMethod::Stored,
        zip::CompressionMethod::Deflated,
    ][r.below(2)];
    let opts = zip::write::SimpleFileOptions::default().compression_method(method);
    for (name, data) in &files {
        if w.start_file(name, opts).is_ok() {
            w.write_all(data).unwrap();
        }
    }
    w.finish()
        .map(|c| c.into_inner())
        .unwrap_or_else(|_| parent.to_vec())
}

/// Panics as the hook saw them, on any thread (rayon re-raises a worker's in the caller):
/// thread, message, location, first frames (for a location's first panic).
static PANICS: Mutex<Vec<(ThreadId, String, String, String)>> = Mutex::new(Vec::new());
/// Targets running (the hook is silent meanwhile) and panics seen so far.
static FUZZING: AtomicUsize = AtomicUsize::new(0);
static GENERATION: AtomicUsize = AtomicUsize::new(0);

fn install_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if FUZZING.load(SeqCst) == 0 {
                return default(info);
            }
            GENERATION.fetch_add(1, SeqCst);
            let at = info.location().map(|l| l.to_string()).unwrap_or_default();
            let mut p = PANICS.lock().unwrap_or_else(|e| e.into_inner());
            let mut frames = String::new();
            if !p.iter().any(|x| x.2 == at) {
                // the first frames outside std and this harness, once per location
                let bt = std::backtrace::Backtrace::force_capture().to_string();
                let skip = [
                    "std::", "core::", "alloc::", "rust_", "__", "fuzz::", "test::",
                ];
                let numbered = bt
                    .lines()
                    .filter(|l| l.trim_start().starts_with(char::is_numeric));
                let kept: Vec<&str> = numbered
                    .filter(|l| !skip.iter().any(|s| l.contains(s)))
                    .collect();
                frames = kept[..kept.len().min(12)].join("\n");
            }
            if p.len() > 64 {
                p.drain(..32);
            }
            p.push((current().id(), payload_text(info.payload()), at, frames));
        }));
    });
}

fn payload_text(p: &(dyn std::any::Any + Send)) -> String {
    let s = p.downcast_ref::<&str>().map(|s| s.to_string());
    s.or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// (location, message, first frames) of the latest panic with `msg` (or on this thread).
fn last_panic(msg: Option<&str>) -> Option<(String, String, String)> {
    let p = PANICS.lock().unwrap_or_else(|e| e.into_inner());
    let (me, mine) = (current().id(), |r: &&(_, String, _, _)| {
        msg.is_none_or(|m| r.1 == m)
    });
    let (_, m, at, _) = p
        .iter()
        .rev()
        .filter(mine)
        .find(|r| msg.is_some() || r.0 == me)?;
    let frames = p.iter().find(|x| x.2 == *at).map(|x| x.3.clone());
    Some((
        at.clone(),
        m.chars().take(300).collect(),
        frames.unwrap_or_default(),
    ))
}

/// An outcome's kind for novelty: the work path, digits and `quoted` text dropped, shortened.
fn norm(s: &str) -> String {
    let s = s.rsplit("fuzz-").next().unwrap_or(s);
    let mut quoted = false;
    let kept = s.chars().filter(|&c| {
        quoted ^= c == '`';
        !quoted
    });
    kept.map(|c| if c.is_ascii_digit() { '#' } else { c })
        .take(60)
        .collect()
}

type Exec<'a> = Box<dyn FnMut(&Input, &Path) -> Result<String, String> + 'a>;
/// A failure: kind (panic, bad, hang), description (its signature before the first ": "),
/// first frames of the panic's backtrace.
type Failure = (&'static str, String, String);

struct Fuzzer<'a> {
    work: PathBuf,
    exec: Exec<'a>,
    /// When the running input started (ms after `clock`, 0 = none) and its file name.
    current: Arc<(AtomicU64, Mutex<String>)>,
    clock: Instant,
}

impl Fuzzer<'_> {
    fn run(&mut self, inp: &Input) -> Result<String, Failure> {
        let path = self.work.join(&inp.tag);
        std::fs::write(&path, &inp.data).unwrap();
        *self.current.1.lock().unwrap() = inp.tag.clone();
        self.current
            .0
            .store(self.clock.elapsed().as_millis() as u64 + 1, SeqCst);
        let (t, generation) = (Instant::now(), GENERATION.load(SeqCst));
        let r = catch_unwind(AssertUnwindSafe(|| (self.exec)(inp, &path)));
        let took = t.elapsed();
        self.current.0.store(0, SeqCst);
        match r {
            Ok(Ok(_)) if took > HANG => Err(("hang", format!("hang: {took:?}"), String::new())),
            Ok(Ok(o)) => Ok(o),
            // a property broken, after a caught panic on this thread if one happened
            Ok(Err(e)) => match (GENERATION.load(SeqCst) != generation).then(|| last_panic(None)) {
                Some(Some((at, msg, frames))) => {
                    let class = e.split(": ").next().unwrap_or("");
                    Err((
                        "bad",
                        format!("{class} after panic at {at}: {msg} / {e}"),
                        frames,
                    ))
                }
                _ => Err(("bad", e, String::new())),
            },
            Err(p) => {
                let msg = payload_text(&*p);
                let (at, msg, frames) =
                    last_panic(Some(&msg)).unwrap_or(("?".into(), msg, "".into()));
                Err(("panic", format!("panic at {at}: {msg}"), frames))
            }
        }
    }

    /// The smallest input (by removing chunks) failing with the same signature, in a budget.
    fn minimise(&mut self, inp: &Input, sig: &str) -> Input {
        let (mut cur, mut tries, t) = (inp.clone(), 0, Instant::now());
        let mut chunk = cur.data.len().div_ceil(2).max(1);
        while tries < 3000 && t.elapsed() < Duration::from_secs(60) {
            let (mut i, mut shrunk) = (0, false);
            while i < cur.data.len() && tries < 3000 {
                let mut c = cur.clone();
                c.data.drain(i..(i + chunk).min(c.data.len()));
                tries += 1;
                match self.run(&c) {
                    Err((_, d, _)) if d.split(": ").next() == Some(sig) => {
                        (cur, shrunk) = (c, true)
                    }
                    _ => i += chunk,
                }
            }
            if !shrunk && chunk == 1 {
                break;
            }
            chunk = if shrunk { chunk } else { chunk.div_ceil(2) };
        }
        cur
    }
}

/// Ends the process when an input runs over twice [`HANG`], saving it as a reproducer.
fn watchdog(target: &'static str, f: &Fuzzer, regdir: PathBuf, done: Arc<AtomicBool>) {
    let (current, clock, work) = (f.current.clone(), f.clock, f.work.clone());
    std::thread::spawn(move || {
        while !done.load(SeqCst) {
            std::thread::sleep(Duration::from_millis(100));
            let s = current.0.load(SeqCst);
            if s != 0 && clock.elapsed().as_millis() as u64 > s + 2 * HANG.as_millis() as u64 {
                let tag = current.1.lock().unwrap().clone();
                let data = std::fs::read(work.join(&tag)).unwrap_or_default();
                let p = regdir.join(format!("hang-{:016x}.{tag}", fnv(&data)));
                let _ = std::fs::create_dir_all(&regdir).and_then(|_| std::fs::write(&p, &data));
                eprintln!(
                    "fuzz {target}: an input ran over {:?}; saved {}",
                    2 * HANG,
                    p.display()
                );
                std::process::exit(3);
            }
        }
    });
}

/// Replay the regressions, then fuzz for the budget; fails naming every new reproducer.
fn fuzz(target: &'static str, seeds: Vec<Input>, exec: Exec<'_>) {
    install_hook();
    let known = |d: &str| {
        let sig = |s: &str| s.split('|').all(|p| d.contains(p));
        KNOWN_UNFIXED.iter().any(|(t, _, s)| *t == target && sig(s))
    };
    let target_dict = dict(&format!("{target}.dict"));
    let dicts = Dicts {
        numbers: dict("numbers.dict"),
        common: dict("common.dict"),
        target: target_dict,
    };
    let work = format!("fuzz-{target}-{}", std::process::id());
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(work);
    std::fs::create_dir_all(&work).unwrap();
    let current = Arc::new((AtomicU64::new(0), Mutex::new(String::new())));
    let mut f = Fuzzer {
        work,
        exec,
        current,
        clock: Instant::now(),
    };
    let regdir = Path::new(ROOT).join("tests/fuzz/regressions").join(target);
    let done = Arc::new(AtomicBool::new(false));
    watchdog(target, &f, regdir.clone(), done.clone());
    FUZZING.fetch_add(1, SeqCst);
    let mut failures = Vec::new();
    let mut regs: Vec<PathBuf> = std::fs::read_dir(&regdir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    regs.sort();
    for p in regs {
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        let Some((_, tag)) = name.split_once('.') else {
            continue;
        };
        let inp = Input {
            tag: tag.to_string(),
            data: std::fs::read(&p).unwrap(),
        };
        match (
            KNOWN_UNFIXED.iter().any(|k| k.0 == target && k.1 == name),
            f.run(&inp),
        ) {
            (false, Err((_, d, frames))) => {
                failures.push(format!("{}: {d}\n{frames}", p.display()))
            }
            (true, Ok(_)) => {
                eprintln!("fuzz {target}: {name} passes now: drop it from KNOWN_UNFIXED")
            }
            _ => {}
        }
    }
    let env = |k: &str| std::env::var(k).ok().and_then(|s| s.parse::<f64>().ok());
    let secs = env("RISKMAP_FUZZ_SECS").unwrap_or(3.0);
    let mut r = Rng(env("RISKMAP_FUZZ_SEED").unwrap_or(20.0) as u64 ^ fnv(target.as_bytes()));
    let (mut pool, mut seen, mut sigs) = (seeds.clone(), HashSet::new(), HashSet::new());
    let (mut n, mut known_hits, t) = (0usize, 0, Instant::now());
    let xlsx = ["in.xlsx", "in.xls", "in.xlsb", "in.ods", "in.xlsm"];
    while n < seeds.len() || t.elapsed().as_secs_f64() < secs {
        let mut inp = seeds.get(n).unwrap_or_else(|| r.pick(&pool)).clone();
        if n >= seeds.len() {
            if xlsx.contains(&inp.tag.as_str()) {
                inp.tag = if r.one_in(10) {
                    r.pick(&xlsx).to_string()
                } else {
                    inp.tag
                };
                inp.data = mutate_xlsx(&mut r, &inp.data, &pool, &dicts);
            } else {
                inp.data = mutate(&mut r, &inp.data, &pool, &dicts);
            }
        }
        n += 1;
        match f.run(&inp) {
            Ok(o) if seen.len() < 20_000 && seen.insert(format!("{}|{o}", inp.tag)) => {
                let at = if pool.len() < 2000 {
                    pool.len()
                } else {
                    r.below(2000)
                };
                if inp.data.len() < 1 << 16 {
                    pool.insert(at, inp);
                    pool.truncate(2000);
                }
            }
            Ok(_) => {}
            Err((_, d, _)) if known(&d) => known_hits += 1,
            Err((kind, d, frames)) => {
                let sig = d.split(": ").next().unwrap_or("").to_string();
                if sigs.insert(sig.clone()) {
                    let m = if kind == "hang" {
                        inp
                    } else {
                        f.minimise(&inp, &sig)
                    };
                    // the minimised input's own description
                    let (d, frames) = f.run(&m).err().map_or((d, frames), |(_, d, f)| (d, f));
                    let p = regdir.join(format!("{kind}-{:016x}.{}", fnv(&m.data), m.tag));
                    std::fs::create_dir_all(&regdir)
                        .and_then(|_| std::fs::write(&p, &m.data))
                        .unwrap();
                    failures.push(format!("{}: {d}\n{frames}", p.display()));
                }
            }
        }
    }
    FUZZING.fetch_sub(1, SeqCst);
    done.store(true, SeqCst);
    let _ = std::fs::remove_dir_all(&f.work);
    let (el, ps, os) = (t.elapsed().as_secs_f64(), pool.len(), seen.len());
    eprint!(
        "fuzz {target}: {n} inputs in {el:.1} s ({:.0}/s), pool {ps}, ",
        n as f64 / el
    );
    eprintln!(
        "outcomes {os}, known-unfixed hits {known_hits}, new failures {}",
        failures.len()
    );
    if !failures.is_empty() {
        // printed here: the panic hook is silent while other targets run
        eprintln!(
            "fuzz {target}: fix or list in KNOWN_UNFIXED:\n{}",
            failures.join("\n\n")
        );
        panic!("fuzz {target}: {} failures (listed above)", failures.len());
    }
}

/// Seeds: every file of corpus/<target>/, named by `tag`.
fn seeds(target: &str, tag: impl Fn(&str) -> String) -> Vec<Input> {
    let dir = std::fs::read_dir(Path::new(ROOT).join("tests/fuzz/corpus").join(target)).unwrap();
    let mut v: Vec<(String, PathBuf)> = dir
        .flatten()
        .map(|e| (tag(&e.file_name().to_string_lossy()), e.path()))
        .collect();
    v.sort();
    v.into_iter()
        .map(|(tag, p)| Input {
            tag,
            data: std::fs::read(p).unwrap(),
        })
        .collect()
}

fn ext_tag(name: &str) -> String {
    format!("in.{}", name.rsplit('.').next().unwrap_or("csv"))
}

/// Read a table, then every kind of record from it.
fn read_records(inp: &Input, path: &Path) -> Result<String, String> {
    let sheet = (fnv(&inp.data) % 5 == 0).then_some("企业名录");
    let t = match read_table(path, sheet, "a fuzzed table") {
        Ok(t) => t,
        Err(e) => return Ok(norm(&e.to_string())),
    };
    let width = t.headers.len() + 1;
    let cells: usize = t
        .rows
        .iter()
        .flat_map(|r| (0..width).map(|c| t.cell(r, c).len()))
        .sum();
    let (none, input) = (DistrictIndex::new(vec![]), TableInput::default());
    let e = ingest::read_enterprises(&t, &input, None, &Region::Open, &none, 200.0);
    let bbox = Region::Bbox([116.0, 36.0, 118.0, 38.0]);
    let s = ingest::records::read_sites(&t, &input, Some(Crs::Gcj02), &bbox, &none);
    let ids = e
        .as_ref()
        .map(|r| riskmap::assess::id_positions(&r.enterprises));
    let (ids, tables) = (
        ids.unwrap_or_default(),
        riskmap::assess::GradingTables::default(),
    );
    let a = ingest::read_assessments(&t, &input, &tables, &ids, &Default::default());
    let h = ingest::read_hidden_dangers(&t, &input, &ids, &Default::default());
    let oks = [e.is_ok(), s.is_ok(), a.is_ok(), h.is_ok()].map(|b| b as u8);
    let got = e.map(|r| format!("{}/{}", r.enterprises.len().min(5), r.rejects.len().min(5)));
    let (hs, rs) = (t.headers.len().min(20), t.rows.len().min(10));
    let got = got.unwrap_or_else(|e| norm(&e.to_string()));
    Ok(format!(
        "{} h{hs} r{rs} c{} {oks:?} {got}",
        t.format,
        cells.min(1)
    ))
}

#[test]
fn fuzz_csv() {
    fuzz("csv", seeds("csv", ext_tag), Box::new(read_records));
}

#[test]
fn fuzz_xlsx() {
    fuzz("xlsx", seeds("xlsx", ext_tag), Box::new(read_records));
}

#[test]
fn fuzz_geojson() {
    fuzz("geojson", seeds("geojson", ext_tag), Box::new(read_records));
}

#[test]
fn fuzz_boundaries() {
    let exec = |_: &Input, p: &Path| {
        let mut out = String::new();
        for crs in [Crs::Wgs84, Crs::Gcj02, Crs::Bd09] {
            let d = match read_boundaries(p, crs, "name", "adcode") {
                Ok(d) => d,
                Err(e) => return Ok(norm(&e.to_string())),
            };
            let n = d.len().min(5);
            let idx = DistrictIndex::new(d);
            let [w, s, e, nn] = idx.bbox().unwrap_or([117.0, 36.6, 117.0, 36.6]);
            let (x, y) = ((w + e) / 2.0, (s + nn) / 2.0);
            let near = idx.nearest_within(x, y, 5000.0).map(|h| h.0);
            let hits = (idx.locate(x, y), near, idx.locate(117.0, 36.65));
            out = format!("ok {n} {hits:?}");
        }
        Ok(out)
    };
    fuzz("boundaries", seeds("boundaries", ext_tag), Box::new(exec));
}

#[test]
fn fuzz_config() {
    let exec = |inp: &Input, p: &Path| {
        let text = String::from_utf8_lossy(&inp.data);
        let _ = Config::parse_str(&text, Path::new("fuzz.toml")).map(|c| c.validate());
        let cfg = match Config::load(p).map(|c| c.validate().map(|_| c)) {
            Ok(Ok(c)) => c,
            Ok(Err(e)) | Err(e) => return Ok(norm(&e.to_string())),
        };
        // only regular files (a mutated path could name a device)
        let file = |o: &Option<PathBuf>| o.as_ref().is_none_or(|p| p.is_file());
        let g = file(&cfg.grading.tables).then(|| riskmap::pipeline::grading_tables(&cfg).is_ok());
        let s = file(&cfg.output.style).then(|| riskmap::pipeline::style(&cfg).is_ok());
        Ok(format!("valid {g:?} {s:?}"))
    };
    fuzz(
        "config",
        seeds("config", |_| "riskmap.toml".into()),
        Box::new(exec),
    );
}

fn pipeline_config(dir: &Path) -> Config {
    let mut c = Config::default();
    c.enterprises.path = Some(dir.join("enterprises.csv"));
    c.assessments.path = Some(dir.join("assessments.csv"));
    c.hazards.path = Some(dir.join("hidden_dangers.csv"));
    c.boundaries.path = Some(dir.join("districts_gcj02.geojson"));
    c.boundaries.crs = Some(Crs::Gcj02);
    c
}

/// The whole ingest with one of its four files mutated.
#[test]
fn fuzz_pipeline() {
    let fixed = seeds("pipeline", |n| n.to_string());
    let exec = |inp: &Input, p: &Path| {
        let dir = p.parent().unwrap();
        for f in fixed.iter().filter(|f| f.tag != inp.tag) {
            std::fs::write(dir.join(&f.tag), &f.data).unwrap();
        }
        let ds = match riskmap::pipeline::load(&pipeline_config(dir)) {
            Ok(ds) => ds,
            Err(e) => return Ok(norm(&e.to_string())),
        };
        ds.index();
        let c = [
            ds.enterprises.len(),
            ds.points.len(),
            ds.dangers.len(),
            ds.rejects.len(),
        ];
        Ok(format!("ok {:?}", c.map(|n| n.min(9))))
    };
    fuzz("pipeline", fixed.clone(), Box::new(exec));
}

/// Bytes as a request target: a leading `/`, and what a URI cannot hold percent-encoded
/// (a `%` stays, so malformed escapes reach the server).
fn to_uri(d: &[u8]) -> Option<Uri> {
    let mut s = String::from(if d.first() == Some(&b'/') { "" } else { "/" });
    for &b in d {
        match b.is_ascii_graphic() && !b"\"<>\\^`{|}#".contains(&b) {
            true => s.push(b as char),
            false => s.push_str(&format!("%{b:02X}")),
        }
    }
    s.parse().ok()
}

/// Mutated request targets through the router (as tests/serve.rs, no socket).
#[test]
fn fuzz_serve() {
    // a small built map: the pipeline seeds, tiles at z8-9
    let dir = tempfile::tempdir().unwrap();
    let corpus = Path::new(ROOT).join("tests/fuzz/corpus");
    let mut cfg = Config::load(&Path::new(ROOT).join("riskmap.toml")).unwrap();
    let p = pipeline_config(&corpus.join("pipeline"));
    (cfg.enterprises.path, cfg.assessments.path) = (p.enterprises.path, p.assessments.path);
    (cfg.hazards.path, cfg.boundaries.path) = (p.hazards.path, p.boundaries.path);
    cfg.sites.path = Some(corpus.join("csv/sites.csv"));
    cfg.output.dir = dir.path().to_path_buf();
    (cfg.tiles.zoom, cfg.report.enabled, cfg.surface.resolution_m) = ([8, 9], false, 200.0);
    let ds = riskmap::pipeline::load(&cfg).unwrap();
    let report = riskmap::build::build(&ds, &cfg, &Default::default()).unwrap();
    let topts = riskmap::tiles::TilesOptions {
        quiet: true,
        ..Default::default()
    };
    riskmap::tiles::run(&ds, &report.analysis, &cfg.tiles_params(), &topts).unwrap();
    let state =
        riskmap::serve::state(ds, report.analysis, dir.path(), &cfg.serve_params()).unwrap();
    let app = riskmap::serve::router(Arc::new(state));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut uris = Vec::new();
    for f in seeds("serve", |n| n.to_string()) {
        let lines = f.data.split(|&b| b == b'\n').filter(|l| !l.is_empty());
        uris.extend(lines.map(|l| Input {
            tag: "uri".into(),
            data: l.to_vec(),
        }));
    }
    // a failure's signature names the route by its first segment and number of segments
    let route = |u: &Uri| {
        let first = u.path().split('/').nth(1).unwrap_or("");
        format!("/{first} ({} segments)", u.path().split('/').count() - 1)
    };
    let exec = |inp: &Input, _: &Path| {
        let Some(uri) = to_uri(&inp.data) else {
            return Ok("not a URI".into());
        };
        let req = Request::get(uri.clone()).body(Body::empty()).unwrap();
        let (status, body) = rt.block_on(async {
            let r = app.clone().oneshot(req).await.unwrap();
            (
                r.status(),
                r.into_body().collect().await.unwrap().to_bytes(),
            )
        });
        let text: String = String::from_utf8_lossy(&body).chars().take(200).collect();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        if status.is_server_error() {
            return Err(format!(
                "{status} on {}: {uri} answered {text:?}",
                route(&uri)
            ));
        }
        if status.is_client_error() && !v["error"].is_string() {
            let r = route(&uri);
            return Err(format!(
                "{status} without a JSON error on {r}: {uri} answered {text:?}"
            ));
        }
        Ok(format!(
            "{} {} {}",
            status.as_u16(),
            route(&uri),
            v["param"]
        ))
    };
    fuzz("serve", uris, Box::new(exec));
}
