//! The live view's HTTP server: axum on a tokio runtime of its own, in its own thread.

use std::convert::Infallible;
use std::net::{SocketAddr, TcpListener};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use futures_util::Stream;
use tokio::sync::{oneshot, watch};

use super::Board;

/// The page: plain HTML, CSS and a script that draws SVG; nothing from the network.
const PAGE: &str = include_str!("page.html");

/// How often the board is rendered for viewers, at most.
const TICK: Duration = Duration::from_millis(250);

/// The address `--serve` and `serve --addr` take: `HOST:PORT`, `PORT`, or nothing (127.0.0.1
/// and a free port).
pub fn parse_addr(text: Option<&str>) -> Result<SocketAddr, String> {
    let text = text.map(str::trim).filter(|t| !t.is_empty());
    let Some(text) = text else {
        return Ok(SocketAddr::from(([127, 0, 0, 1], 0)));
    };
    if let Ok(port) = text.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    text.parse().map_err(|_| {
        format!(
            "`{text}` is not an address\n  hint: give HOST:PORT (e.g. 127.0.0.1:8080), a port, \
             or nothing for a free port on 127.0.0.1"
        )
    })
}

/// A running live-view server; [`Server::stop`] (or dropping it) shuts it down.
pub struct Server {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[derive(Clone)]
struct App {
    state: watch::Receiver<Arc<str>>,
    dir: PathBuf,
}

impl Server {
    /// Binds `addr`, before anything else is done (so that a port in use is reported before
    /// a run starts).
    pub fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
        let listener = TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        Ok(listener)
    }

    /// Serves `board` on `listener` (from [`Server::bind`]) from a thread of its own until
    /// stopped. With `refresh`, the board is built again from its result directory every
    /// second while the run there has not finished (what `microsim serve` does for a
    /// directory still being written).
    pub fn start(
        board: Arc<Board>,
        listener: TcpListener,
        refresh: bool,
    ) -> std::io::Result<Server> {
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()?;
        let thread = std::thread::Builder::new()
            .name("microsim-live".into())
            .spawn(move || {
                runtime.block_on(serve(board, listener, rx, refresh));
                runtime.shutdown_timeout(Duration::from_millis(100));
            })?;
        Ok(Server {
            addr,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The page's address.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Shuts the server down (open event streams are closed) and waits for its thread.
    pub fn stop(mut self) {
        self.shut();
    }

    fn shut(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shut();
    }
}

/// Serves until `shutdown`: the routes, and a publisher that renders the board when it
/// changed (at most every [`TICK`], and at least every second, for the clock).
async fn serve(
    board: Arc<Board>,
    listener: TcpListener,
    shutdown: oneshot::Receiver<()>,
    refresh: bool,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    let (tx, rx) = watch::channel::<Arc<str>>(board.render().into());
    let app = App {
        dir: board.dir().to_path_buf(),
        state: rx,
    };
    let publisher = async move {
        let mut board = board;
        let mut seen = board.version();
        let mut ticks = 0u32;
        let mut interval = tokio::time::interval(TICK);
        loop {
            interval.tick().await;
            ticks += 1;
            if refresh && ticks.is_multiple_of(4) && !board.is_finished() {
                let dir = board.dir().to_path_buf();
                if let Ok(b) = tokio::task::spawn_blocking(move || Board::from_dir(&dir)).await {
                    board = Arc::new(b);
                    seen = u64::MAX;
                }
            }
            let v = board.version();
            if v != seen || ticks.is_multiple_of(4) {
                seen = v;
                let _ = tx.send(board.render().into());
            }
        }
    };
    let router = Router::new()
        .route("/", get(page))
        .route("/state", get(state))
        .route("/events", get(events))
        .route("/files/{*path}", get(file))
        .with_state(app);
    let server = axum::serve(listener, router);
    tokio::select! {
        _ = server => {}
        _ = publisher => {}
        _ = shutdown => {}
    }
}

async fn page() -> Html<&'static str> {
    Html(PAGE)
}

async fn state(State(app): State<App>) -> Response {
    let body = app.state.borrow().clone();
    (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// The state whenever it changes: the current one first, then each newer one when the viewer
/// is ready for it (a slow viewer skips states; it never holds the run up).
async fn events(State(app): State<App>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let stream = futures_util::stream::unfold((app.state, true), |(mut rx, first)| async move {
        if !first && rx.changed().await.is_err() {
            return None;
        }
        let data = rx.borrow_and_update().clone();
        Some((Ok(Event::default().data(&*data)), (rx, false)))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// A file of the result directory (`report.html`, `plots/…`): only plain names below it.
async fn file(State(app): State<App>, UrlPath(path): UrlPath<String>) -> Response {
    let rel = Path::new(&path);
    let plain = rel.components().all(|c| matches!(c, Component::Normal(_)));
    if !plain {
        return StatusCode::NOT_FOUND.into_response();
    }
    let full = app.dir.join(rel);
    let inside = match (full.canonicalize(), app.dir.canonicalize()) {
        (Ok(f), Ok(d)) => f.starts_with(d) && f.is_file(),
        _ => false,
    };
    if !inside {
        return StatusCode::NOT_FOUND.into_response();
    }
    let kind = match full.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        Some("csv") | Some("toml") | Some("hlog") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    };
    match tokio::fs::read(&full).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, kind)], bytes).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}
