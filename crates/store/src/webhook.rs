//! Alert webhooks: each alert POSTed as JSON to its rule's URL from a background thread,
//! retried with back-off (1, 2, 4, 8, 16 s) when the receiver fails or is away, so an
//! update never waits on a receiver. Plain `http://` (an intranet receiver); `https://`
//! is refused with a clear error.

use std::sync::mpsc;
use std::time::Duration;

/// Attempts per delivery.
pub const ATTEMPTS: u32 = 6;

/// The delivery thread.
pub struct Webhooks {
    tx: Option<mpsc::Sender<(String, serde_json::Value)>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// What happened to one delivery (for the log).
pub type Outcome = Result<u32, String>;

impl Webhooks {
    /// Start the delivery thread; `log` hears of every delivery's outcome (attempts
    /// used, or the last error).
    pub fn start(log: impl Fn(&str, Outcome) + Send + 'static) -> Webhooks {
        Webhooks::with_backoff(Duration::from_secs(1), log)
    }

    /// As [`Webhooks::start`] with the first back-off given (tests use milliseconds).
    pub fn with_backoff(first: Duration, log: impl Fn(&str, Outcome) + Send + 'static) -> Webhooks {
        let (tx, rx) = mpsc::channel::<(String, serde_json::Value)>();
        let thread = std::thread::spawn(move || {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .timeout_global(Some(Duration::from_secs(10)))
                .http_status_as_error(true)
                .build()
                .into();
            for (url, body) in rx {
                log(&url, deliver(&agent, &url, &body, first));
            }
        });
        Webhooks {
            tx: Some(tx),
            thread: Some(thread),
        }
    }

    /// Queue a POST of `body` to `url`; returns at once.
    pub fn send(&self, url: &str, body: serde_json::Value) {
        if let Some(tx) = &self.tx {
            let _ = tx.send((url.to_string(), body));
        }
    }

    /// Wait for the queued deliveries (a one-shot command before it exits).
    pub fn finish(mut self) {
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn deliver(agent: &ureq::Agent, url: &str, body: &serde_json::Value, first: Duration) -> Outcome {
    if !url.starts_with("http://") {
        return Err(riskmap_core::tr!(
            "只支持 http:// 地址（内网接收端）：{url}",
            "only http:// receivers are supported: {url}"
        ));
    }
    let text = body.to_string();
    let mut wait = first;
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        match agent
            .post(url)
            .header("Content-Type", "application/json; charset=utf-8")
            .send(text.as_bytes())
        {
            Ok(_) => return Ok(attempt),
            Err(e) => last = e.to_string(),
        }
        if attempt < ATTEMPTS {
            std::thread::sleep(wait);
            wait *= 2;
        }
    }
    Err(last)
}
