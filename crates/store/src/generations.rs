//! Output generations: a run's outputs are one set, switched in with one atomic step.
//!
//! The layout follows Kubernetes' atomic writer (its `..data` link):
//!
//! ```text
//! output/
//!   .generations/000007/         a complete set (every file of one run)
//!   .generations/000008/         the newest complete set
//!   .generations/000009.partial/ a run being written (removed at the next start if killed)
//!   current -> .generations/000008
//!   enterprises.geojson -> current/enterprises.geojson   (one link per entry)
//!   mbtiles -> current/mbtiles
//!   .lock                        held by the run writing (one writer at a time)
//! ```
//!
//! A run writes its whole set into a staging folder beside the others, syncs every file
//! and the folders, renames the folder complete, and then swaps `current` by renaming a
//! new link over it — one `rename(2)`, atomic on POSIX file systems. The entry links at
//! the top go through `current`, so `output/enterprises.geojson` and
//! `output/mbtiles/points.mbtiles` resolve, at every instant, into the complete previous
//! set or the complete new one, never into a mix, and the paths users and portals know
//! stay the same. Entries a generation adds get their link after the swap; links whose
//! entry the new set lacks are removed after it.
//!
//! `riskmap tiles` and `riskmap report` rewrite part of the set: they start from the
//! current generation's files, hard-linked into the staging folder (no copy), replace
//! what they render and switch the same way. Sharing inodes is safe because every writer
//! of riskmap writes a new file and renames it into place (`OutputSet`, the tile sinks):
//! nothing opens a carried file for writing, which would change the old generation too. The last `keep` generations stay on disk for
//! `riskmap rollback`.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

const GENS: &str = ".generations";
const CURRENT: &str = "current";
const PARTIAL: &str = ".partial";

/// The output folder's generations; holds the folder's lock while alive.
pub struct Generations {
    root: PathBuf,
    keep: usize,
    _lock: fs::File,
}

/// A generation being written: `dir()` is where the run puts its files. Dropped without
/// [`Generations::commit`], it is removed and the current generation stays as it was.
pub struct Staging {
    dir: PathBuf,
    number: u64,
    done: bool,
}

impl Staging {
    /// The folder to write the new set into.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
    /// The generation's number.
    pub fn number(&self) -> u64 {
        self.number
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

fn gen_name(n: u64) -> String {
    format!("{n:06}")
}

/// Sync a folder, so the renames and links in it survive a power cut.
fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// Names riskmap writes at the top of an output folder: what a folder written before
/// generations existed holds, moved into the first generation on upgrade.
fn is_output_name(name: &str) -> bool {
    const EXACT: &[&str] = &[
        "summary.json",
        "rejects.csv",
        "surface.tif",
        "surface.tif.aux.xml",
        "overview.png",
        "overview.svg",
        "report.html",
        "report.xlsx",
        "report.pdf",
        "report",
        "history",
        "tiles",
        "mbtiles",
        "pmtiles",
        "tilejson",
    ];
    EXACT.contains(&name) || name.ends_with(".geojson") || name.ends_with(".csv")
}

impl Generations {
    /// Open (creating) the output folder: take its lock, remove what killed runs left
    /// (staging folders, half-made links), and move the files of a folder written before
    /// generations into generation 0.
    pub fn open(root: &Path, keep: usize) -> io::Result<Generations> {
        fs::create_dir_all(root.join(GENS))?;
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(root.join(".lock"))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(io::Error::other(format!(
                    "{}: another riskmap run is writing this output folder (its .lock is held); wait for it or use another --out",
                    root.display()
                )))
            }
            Err(fs::TryLockError::Error(e)) => return Err(e),
        }
        let g = Generations {
            root: root.to_path_buf(),
            keep: keep.max(1),
            _lock: lock,
        };
        g.clean_leftovers()?;
        g.migrate_flat()?;
        Ok(g)
    }

    fn gens(&self) -> PathBuf {
        self.root.join(GENS)
    }

    /// Complete generations, oldest first.
    pub fn list(&self) -> io::Result<Vec<u64>> {
        list(&self.root)
    }

    /// The current generation's number, if there is one.
    pub fn current(&self) -> Option<u64> {
        current_number(&self.root)
    }

    fn clean_leftovers(&self) -> io::Result<()> {
        for e in fs::read_dir(self.gens())?.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if name.ends_with(PARTIAL) {
                fs::remove_dir_all(e.path())?;
            }
        }
        for e in fs::read_dir(&self.root)?.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            // link temps (below), and the temp files of writes before generations
            if name.starts_with(".link-") || name.contains(".tmp-") {
                let p = e.path();
                if p.is_dir() && !p.is_symlink() {
                    fs::remove_dir_all(&p)?;
                } else {
                    fs::remove_file(&p)?;
                }
            }
        }
        Ok(())
    }

    /// A folder of plain output files (riskmap before generations): move them into
    /// generation 0 and make it current, so the first new run can switch away from it
    /// (a folder cannot be replaced by a link in one step).
    fn migrate_flat(&self) -> io::Result<()> {
        if self.current().is_some() {
            return Ok(());
        }
        let mut flat = Vec::new();
        for e in fs::read_dir(&self.root)?.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            let ft = e.file_type()?;
            if !ft.is_symlink() && is_output_name(&name) {
                flat.push(name);
            }
        }
        if flat.is_empty() {
            return Ok(());
        }
        let n = self.list()?.last().map_or(0, |n| n + 1);
        let staging = self.gens().join(format!("{}{PARTIAL}", gen_name(n)));
        fs::create_dir_all(&staging)?;
        for name in &flat {
            fs::rename(self.root.join(name), staging.join(name))?;
        }
        let s = Staging {
            dir: staging,
            number: n,
            done: false,
        };
        self.commit(s).map(|_| ())
    }

    /// Start a generation. `carry` picks the current generation's top entries (by name)
    /// that the new one starts with, hard-linked (a file system without hard links gets
    /// copies).
    pub fn stage(&self, carry: impl Fn(&str) -> bool) -> io::Result<Staging> {
        let n = self
            .list()?
            .last()
            .copied()
            .max(self.current())
            .map_or(1, |n| n + 1);
        let dir = self.gens().join(format!("{}{PARTIAL}", gen_name(n)));
        fs::create_dir_all(&dir)?;
        let s = Staging {
            dir,
            number: n,
            done: false,
        };
        if let Some(cur) = self.current() {
            let from = self.gens().join(gen_name(cur));
            for e in fs::read_dir(&from)?.flatten() {
                let name = e.file_name().to_string_lossy().to_string();
                if carry(&name) {
                    link_tree(&e.path(), &s.dir.join(&name))?;
                }
            }
        }
        Ok(s)
    }

    /// Make a staged generation current: sync it, mark it complete, swap `current`,
    /// update the entry links and remove the generations past `keep`. Returns the
    /// generation's folder.
    pub fn commit(&self, mut s: Staging) -> io::Result<PathBuf> {
        sync_tree(&s.dir, 2)?;
        let done = self.gens().join(gen_name(s.number));
        fs::rename(&s.dir, &done)?;
        s.done = true;
        sync_dir(&self.gens())?;
        self.switch_to(s.number)?;
        self.prune()?;
        Ok(done)
    }

    /// Point `current` (and the entry links) at generation `n`.
    fn switch_to(&self, n: u64) -> io::Result<()> {
        let target = Path::new(GENS).join(gen_name(n));
        replace_link(&self.root, CURRENT, &target)?;
        let dir = self.gens().join(gen_name(n));
        let mut names = std::collections::BTreeSet::new();
        for e in fs::read_dir(&dir)?.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if !name.starts_with('.') {
                names.insert(name);
            }
        }
        for name in &names {
            let want = Path::new(CURRENT).join(name);
            let at = self.root.join(name);
            if fs::read_link(&at).ok().as_deref() != Some(&want) {
                replace_link(&self.root, name, &want)?;
            }
        }
        // links into `current` whose entry this generation does not have
        for e in fs::read_dir(&self.root)?.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if names.contains(&name) || name == CURRENT {
                continue;
            }
            if let Ok(t) = fs::read_link(e.path()) {
                if t.starts_with(CURRENT) {
                    fs::remove_file(e.path())?;
                }
            }
        }
        sync_dir(&self.root)
    }

    fn prune(&self) -> io::Result<()> {
        let cur = self.current();
        let all = self.list()?;
        let mut kept = 0;
        for &n in all.iter().rev() {
            if Some(n) == cur {
                continue;
            }
            kept += 1;
            // the current one counts as one of `keep`
            if kept >= self.keep {
                fs::remove_dir_all(self.gens().join(gen_name(n)))?;
            }
        }
        Ok(())
    }

    /// Switch back to the newest generation older than the current one; returns it.
    pub fn rollback(&self) -> io::Result<u64> {
        let cur = self
            .current()
            .ok_or_else(|| io::Error::other("no current generation to roll back from"))?;
        let prev = self
            .list()?
            .into_iter()
            .filter(|&n| n < cur)
            .next_back()
            .ok_or_else(|| {
                io::Error::other(format!(
                    "generation {cur} is the oldest kept; nothing to roll back to"
                ))
            })?;
        self.switch_to(prev)?;
        // the generation rolled back from goes: the next run must not resurrect it
        fs::remove_dir_all(self.gens().join(gen_name(cur)))?;
        Ok(prev)
    }
}

/// Complete generations of an output folder, oldest first.
pub fn list(root: &Path) -> io::Result<Vec<u64>> {
    let mut v = Vec::new();
    let rd = match fs::read_dir(root.join(GENS)) {
        Ok(rd) => rd,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(v),
        Err(e) => return Err(e),
    };
    for e in rd.flatten() {
        if let Ok(n) = e.file_name().to_string_lossy().parse::<u64>() {
            v.push(n);
        }
    }
    v.sort_unstable();
    Ok(v)
}

/// The number of the generation `root/current` points at.
pub fn current_number(root: &Path) -> Option<u64> {
    let t = fs::read_link(root.join(CURRENT)).ok()?;
    t.file_name()?.to_str()?.parse().ok()
}

/// The folder of the current generation: where a reader finds one whole set. A folder
/// written before generations existed (no `current`) is its own set.
pub fn current_dir(root: &Path) -> PathBuf {
    match current_number(root) {
        Some(n) => root.join(GENS).join(gen_name(n)),
        None => root.to_path_buf(),
    }
}

/// Put a link `dir/name -> target` in place with one rename (replacing a file or link).
fn replace_link(dir: &Path, name: &str, target: &Path) -> io::Result<()> {
    let tmp = dir.join(format!(".link-{}-{name}", std::process::id()));
    let _ = fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp)?;
    fs::rename(&tmp, dir.join(name)).inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })
}

/// Hard-link a file or a folder tree (copy where links are refused).
fn link_tree(from: &Path, to: &Path) -> io::Result<()> {
    let ft = fs::symlink_metadata(from)?.file_type();
    if ft.is_dir() {
        fs::create_dir_all(to)?;
        for e in fs::read_dir(from)?.flatten() {
            link_tree(&e.path(), &to.join(e.file_name()))?;
        }
        Ok(())
    } else if ft.is_file() {
        fs::hard_link(from, to).or_else(|_| fs::copy(from, to).map(|_| ()))
    } else {
        Ok(())
    }
}

/// fsync the folders of a generation down to `depth` levels (the files written through
/// `OutputSet` and the tile archives are synced as they are finished). The folders of an
/// XYZ pyramid below `tiles/{layer}/` are not: neither are its tens of thousands of tile
/// files, which would cost more than rendering them; after a power cut (not a killed
/// run) the newest XYZ folder may lack tiles, every other output is whole.
fn sync_tree(dir: &Path, depth: usize) -> io::Result<()> {
    if depth > 0 {
        for e in fs::read_dir(dir)?.flatten() {
            if e.file_type()?.is_dir() {
                sync_tree(&e.path(), depth - 1)?;
            }
        }
    }
    sync_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(p: &Path) -> String {
        fs::read_to_string(p).unwrap()
    }

    #[test]
    fn runs_switch_whole_sets_and_keep_the_last_ones() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("out");
        for (i, files) in [
            vec![("a.csv", "1"), ("b.csv", "1")],
            vec![("a.csv", "2")],
            vec![("a.csv", "3"), ("c.csv", "3")],
        ]
        .iter()
        .enumerate()
        {
            let g = Generations::open(&root, 2).unwrap();
            let s = g.stage(|_| false).unwrap();
            for (name, text) in files {
                fs::write(s.dir().join(name), text).unwrap();
            }
            g.commit(s).unwrap();
            assert_eq!(current_number(&root), Some(i as u64 + 1));
            assert_eq!(read(&root.join("a.csv")), (i + 1).to_string());
        }
        // b.csv went with generation 2, c.csv came with 3; two generations kept
        assert!(!root.join("b.csv").exists() && fs::symlink_metadata(root.join("b.csv")).is_err());
        assert_eq!(read(&root.join("c.csv")), "3");
        assert_eq!(list(&root).unwrap(), [2, 3]);
        // rollback to 2: a.csv is 2 again and c.csv is gone
        let g = Generations::open(&root, 2).unwrap();
        assert_eq!(g.rollback().unwrap(), 2);
        assert_eq!(read(&root.join("a.csv")), "2");
        assert!(fs::symlink_metadata(root.join("c.csv")).is_err());
        assert!(g.rollback().is_err(), "2 is the oldest kept");
    }

    #[test]
    fn a_dropped_run_leaves_the_set_and_a_killed_one_is_cleaned() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("out");
        let g = Generations::open(&root, 2).unwrap();
        let s = g.stage(|_| false).unwrap();
        fs::write(s.dir().join("a.csv"), "1").unwrap();
        g.commit(s).unwrap();
        // a failed run: dropped before commit (writers replace a carried file by a new
        // one renamed over it, never write into it: its inode is the old generation's)
        let s = g.stage(|_| true).unwrap();
        fs::write(s.dir().join(".a.csv.tmp"), "half").unwrap();
        fs::rename(s.dir().join(".a.csv.tmp"), s.dir().join("a.csv")).unwrap();
        drop(s);
        assert_eq!(read(&root.join("a.csv")), "1");
        // a killed run: its staging folder stays until the next open
        let s = g.stage(|_| true).unwrap();
        let left = s.dir().to_path_buf();
        std::mem::forget(s);
        drop(g);
        assert!(left.is_dir());
        let g = Generations::open(&root, 2).unwrap();
        assert!(!left.exists());
        // a second writer is refused while the lock is held
        assert!(Generations::open(&root, 2).is_err());
        drop(g);
    }

    #[test]
    fn carried_entries_are_linked_not_copied_and_a_flat_folder_is_migrated() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("out");
        fs::create_dir_all(root.join("tiles/points/8")).unwrap();
        fs::write(root.join("tiles/points/8/1.png"), "png").unwrap();
        fs::write(root.join("summary.json"), "{}").unwrap();
        fs::write(root.join("notes.txt"), "the user's").unwrap();
        let g = Generations::open(&root, 3).unwrap();
        assert_eq!(g.current(), Some(0));
        assert_eq!(read(&root.join("tiles/points/8/1.png")), "png");
        assert_eq!(
            read(&root.join("notes.txt")),
            "the user's",
            "not ours: left alone"
        );
        let s = g.stage(|n| n == "tiles").unwrap();
        fs::write(s.dir().join("summary.json"), "{\"new\":1}").unwrap();
        let done = g.commit(s).unwrap();
        use std::os::unix::fs::MetadataExt;
        assert_eq!(done, current_dir(&root));
        let a = fs::metadata(done.join("tiles/points/8/1.png")).unwrap();
        let b = fs::metadata(root.join(".generations/000000/tiles/points/8/1.png")).unwrap();
        assert_eq!(a.ino(), b.ino());
        assert!(a.nlink() >= 2, "hard-linked from generation 0");
        assert_eq!(read(&root.join("summary.json")), "{\"new\":1}");
    }
}
