//! The live map's endpoints: `/api/changes?since=N` (what each generation changed, from
//! the change records the generation carries) and `/api/events` (Server-Sent Events: one
//! `generation` event per generation switched in, its change record as data), and the
//! handle `serve --watch` hands new generations to.

use crate::{json_response, ApiError, Live, Shared, State};
use axum::extract::{Extension, RawQuery};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use riskmap_store::changes::Entry;
use std::sync::Arc;

/// Runs beside the server (`serve --watch`): given the handle, it publishes each new
/// generation it writes.
pub type Watch = Box<dyn FnOnce(WatchHandle) + Send>;

/// What a watcher publishes new generations through.
#[derive(Clone)]
pub struct WatchHandle {
    pub(crate) live: Arc<Live>,
}

impl WatchHandle {
    /// Switch the server to `st` (a generation just written, with its dataset) and tell
    /// the `/api/events` listeners.
    pub fn publish(&self, st: State) {
        self.live.set(Arc::new(st));
    }

    /// The state being served.
    pub fn state(&self) -> Arc<State> {
        self.live.get()
    }

    /// Switch back to a state served before (an update served early failed to write
    /// its generation), telling the `/api/events` listeners.
    pub fn restore(&self, st: Arc<State>) {
        self.live.set(st);
    }

    /// Switch to `st`, the generation being served already (served early, from the
    /// update's state) now from its written files, without an event.
    pub fn settle(&self, st: State) {
        self.live.set_quiet(Arc::new(st));
    }

    /// The dataset and analysis being served, and their generation.
    pub fn current(
        &self,
    ) -> (
        Arc<riskmap_core::dataset::Dataset>,
        Arc<riskmap_analyze::Analysis>,
        Option<u64>,
    ) {
        let st = self.live.get();
        (st.ds.clone(), st.an.clone(), st.generation.parse().ok())
    }

    /// While the guard lives, the server leaves new generations to the watcher (which
    /// hands them over with their dataset) instead of loading them itself.
    pub fn pending(&self) -> PendingGuard {
        self.live
            .pending
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        PendingGuard {
            live: self.live.clone(),
        }
    }
}

/// See [`WatchHandle::pending`].
pub struct PendingGuard {
    live: Arc<Live>,
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        self.live
            .pending
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The change record of the state's own generation (the event its switch sends).
pub(crate) fn own_entry(st: &State) -> Option<&Entry> {
    let g: u64 = st.generation.parse().ok()?;
    st.changes.iter().rev().find(|e| e.generation == g)
}

/// `/api/changes?since=N`: the records after generation N (all kept, without it).
pub(crate) async fn h_changes(Extension(st): Extension<Shared>, RawQuery(q): RawQuery) -> Response {
    let mut since = None;
    for (k, v) in serde_urlencoded::from_str::<Vec<(String, String)>>(q.as_deref().unwrap_or(""))
        .unwrap_or_default()
    {
        match k.as_str() {
            "since" => match v.trim().parse::<u64>() {
                Ok(n) => since = Some(n),
                Err(_) => {
                    return ApiError::bad(
                        "since",
                        format!(
                            "`{v}`: since is a generation number (x-riskmap-generation, /api/meta)"
                        ),
                    )
                    .into_response()
                }
            },
            _ => {
                return ApiError::bad(&k, format!("unknown parameter `{k}` (since)"))
                    .into_response()
            }
        }
    }
    let changes: Vec<&Entry> = st
        .changes
        .iter()
        .filter(|e| since.is_none_or(|s| e.generation > s))
        .collect();
    json_response(&serde_json::json!({
        "generation": st.generation,
        "changes": changes,
    }))
}

/// `/api/events`: a `generation` event for every generation switched in, an `alarm`
/// event for every monitoring alarm raised, escalated, downgraded or cleared and every
/// point gone silent or back.
pub(crate) async fn h_events(Extension(live): Extension<Arc<Live>>) -> Response {
    let rx = (live.events.subscribe(), live.monitor.events.subscribe());
    let stream = futures_util::stream::unfold(rx, |(mut gen, mut alarm)| async move {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            let ev = tokio::select! {
                r = gen.recv() => match r {
                    Ok(data) => Some(Event::default().event("generation").data(&*data)),
                    // a listener too slow for a burst misses events, not the stream: the
                    // next one (or /api/changes?since=, /api/alarms?since=) catches it up
                    Err(RecvError::Lagged(_)) => None,
                    Err(RecvError::Closed) => return None,
                },
                r = alarm.recv() => match r {
                    Ok(e) => serde_json::to_string(&*e)
                        .ok()
                        .map(|d| Event::default().event("alarm").id(e.seq.to_string()).data(d)),
                    Err(RecvError::Lagged(_)) => None,
                    Err(RecvError::Closed) => return None,
                },
            };
            if let Some(ev) = ev {
                return Some((Ok::<_, std::convert::Infallible>(ev), (gen, alarm)));
            }
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}
