//! Progress of a tiles run: a bar on a terminal, periodic plain lines in a log.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Instant;

/// Progress on a terminal (bar with tiles/s and ETA), periodic lines otherwise.
pub(super) struct Progress {
    bar: Option<ProgressBar>,
    quiet: bool,
    last: Instant,
    /// When the current zoom started (tiles/s and ETA of the plain lines).
    zoom_start: Instant,
}

impl Progress {
    pub(super) fn new(quiet: bool) -> Progress {
        let tty = std::io::stderr().is_terminal();
        let bar = (!quiet && tty).then(|| {
            let b = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            b.set_style(
                ProgressStyle::with_template(&riskmap_core::tr!(
                    "{{msg:>22}} [{{bar:30}}] {{pos}}/{{len}} 瓦片 {{per_sec}} 剩余 {{eta}}",
                    "{{msg:>22}} [{{bar:30}}] {{pos}}/{{len}} tiles {{per_sec}} eta {{eta}}"
                ))
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            b
        });
        Progress {
            bar,
            quiet,
            last: Instant::now(),
            zoom_start: Instant::now(),
        }
    }
    pub(super) fn zoom(&mut self, name: &str, z: u8, n: u64) {
        self.zoom_start = Instant::now();
        if let Some(b) = &self.bar {
            b.set_length(n);
            b.set_position(0);
            b.set_message(format!("{name} z{z}"));
        }
    }
    pub(super) fn inc(&mut self, name: &str, z: u8, done: u64, n: u64, k: u64) {
        if let Some(b) = &self.bar {
            b.inc(k);
        } else if !self.quiet && self.last.elapsed().as_secs_f64() > 5.0 {
            let secs = self.zoom_start.elapsed().as_secs_f64();
            eprintln!("{}", plain_line(name, z, done, n, secs));
            self.last = Instant::now();
        }
    }
    pub(super) fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// The periodic line printed instead of the bar when stderr is not a terminal (a log, a
/// CI job, cron): the bar's figures in words — tiles done of the zoom's total, tiles/s
/// and the time left at that rate, for the zoom being drawn.
pub(super) fn plain_line(name: &str, z: u8, done: u64, n: u64, secs: f64) -> String {
    let rate = done as f64 / secs.max(1e-3);
    let eta = if done == 0 {
        "?".to_string()
    } else {
        let left = n.saturating_sub(done) as f64 / rate;
        if left < 10.0 {
            format!("{left:.1} s")
        } else {
            format!("{left:.0} s")
        }
    };
    riskmap_core::tr!(
        "瓦片：{name} z{z}：{done}/{n}，每秒 {rate:.0} 张，预计还需 {eta}",
        "tiles: {name} z{z}: {done}/{n} tiles, {rate:.0} tiles/s, eta {eta}"
    )
}
