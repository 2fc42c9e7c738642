//! The live view's HTTP server: axum on a tokio runtime of its own, in its own thread.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::path::{Component, Path};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::Stream;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot, watch};
use tokio::time::Sleep;

use super::Board;
use crate::experiment::safe_fs::Dir;

/// The page: plain HTML, CSS and a script that draws SVG; nothing from the network.
const PAGE: &str = include_str!("page.html");

/// How often the board is rendered for viewers, at most.
const TICK: Duration = Duration::from_millis(250);

/// How long a connection may send and receive nothing before it is closed (an open event
/// stream is sent a keep-alive every 15 s, so it is never idle while its viewer reads).
pub const IDLE: Duration = Duration::from_secs(60);

/// The most connections served at once; more wait to be accepted.
const MAX_CONNECTIONS: usize = 512;

/// The piece of a file sent at a time: a file is streamed, never read whole.
const CHUNK: usize = 64 << 10;

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
    /// The result directory, opened once: files are opened beneath it without following a
    /// link ([`Dir::open_file`]).
    dir: Option<Arc<Dir>>,
    /// What the page's Stop button sets (a run's interrupt flag), if it has one.
    stop: Option<&'static std::sync::atomic::AtomicBool>,
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
        Self::start_with(board, listener, refresh, IDLE)
    }

    /// [`Server::start`], closing connections idle for `idle` (sending and receiving nothing).
    pub fn start_with(
        board: Arc<Board>,
        listener: TcpListener,
        refresh: bool,
        idle: Duration,
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
                runtime.block_on(serve(board, listener, rx, refresh, idle));
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
    idle: Duration,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    let listener = IdleListener {
        inner: listener,
        idle,
        slots: Arc::new(Semaphore::new(MAX_CONNECTIONS)),
    };
    let (tx, rx) = watch::channel::<Arc<str>>(board.render().into());
    let app = App {
        dir: Dir::open(board.dir()).ok().map(Arc::new),
        state: rx,
        stop: board.stop_flag(),
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
        .route("/stop", post(stop))
        .with_state(app);
    let server = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<Peer>(),
    );
    tokio::select! {
        _ = server => {}
        _ = publisher => {}
        _ = shutdown => {}
    }
}

/// The address a request came from.
#[derive(Clone, Copy, Debug)]
struct Peer(SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, IdleListener>>
    for Peer
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, IdleListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

/// The Stop button: Ctrl-C's first press, for a viewer on this machine only (anyone who
/// can reach a page served on another address must not end the run).
async fn stop(State(app): State<App>, ConnectInfo(Peer(peer)): ConnectInfo<Peer>) -> Response {
    match app.stop {
        None => (StatusCode::NOT_FOUND, "nothing to stop: not a running run").into_response(),
        Some(_) if !peer.ip().is_loopback() => (
            StatusCode::FORBIDDEN,
            "only a viewer on the machine that runs it may stop the run",
        )
            .into_response(),
        Some(flag) => {
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
            StatusCode::NO_CONTENT.into_response()
        }
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

/// A file of the result directory (`report.html`, `plots/…`): only plain names below it,
/// opened beneath the directory's handle without following a link at any component (a link
/// swapped in while the server runs makes the open fail), only a regular file, and streamed
/// in pieces of [`CHUNK`] bytes (a file of any size costs the server one piece per viewer).
async fn file(State(app): State<App>, UrlPath(path): UrlPath<String>) -> Response {
    let rel = Path::new(&path);
    let plain = rel.components().all(|c| matches!(c, Component::Normal(_)));
    let Some(dir) = app.dir.filter(|_| plain) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let rel_owned = rel.to_path_buf();
    let opened = tokio::task::spawn_blocking(move || dir.open_file(&rel_owned)).await;
    let Ok(Ok(file)) = opened else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Ok(len) = file.metadata().map(|m| m.len()) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let kind = match rel.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        Some("csv") | Some("toml") | Some("hlog") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    };
    // At most the length the file had when it was opened, in pieces.
    let file = tokio::fs::File::from_std(file).take(len);
    let pieces = futures_util::stream::unfold(file, |mut file| async move {
        let mut piece = vec![0u8; CHUNK];
        match file.read(&mut piece).await {
            Ok(0) => None,
            Ok(n) => {
                piece.truncate(n);
                Some((Ok::<_, io::Error>(piece), file))
            }
            Err(e) => Some((Err(e), file)),
        }
    });
    (
        [
            (header::CONTENT_TYPE, kind.to_string()),
            (header::CONTENT_LENGTH, len.to_string()),
        ],
        axum::body::Body::from_stream(pieces),
    )
        .into_response()
}

/// The listener: accepts at most [`MAX_CONNECTIONS`] at once, each closed once idle.
struct IdleListener {
    inner: tokio::net::TcpListener,
    idle: Duration,
    slots: Arc<Semaphore>,
}

impl axum::serve::Listener for IdleListener {
    type Io = Idle;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Idle, SocketAddr) {
        let slot = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        loop {
            match self.inner.accept().await {
                Ok((io, addr)) => {
                    let sleep = Box::pin(tokio::time::sleep(self.idle));
                    let idle = self.idle;
                    return (
                        Idle {
                            io,
                            idle,
                            sleep,
                            _slot: slot,
                        },
                        addr,
                    );
                }
                // Out of file descriptors and the like: wait, then go on.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// A connection that fails with `TimedOut` once nothing has been read from or written to it
/// for `idle` (a half-open connection, a viewer that stopped reading).
struct Idle {
    io: tokio::net::TcpStream,
    idle: Duration,
    sleep: Pin<Box<Sleep>>,
    _slot: OwnedSemaphorePermit,
}

impl Idle {
    /// Bytes went through: the clock starts again.
    fn progressed(&mut self) {
        let deadline = tokio::time::Instant::now() + self.idle;
        self.sleep.as_mut().reset(deadline);
    }

    /// What a pending read or write becomes: still pending, or timed out.
    fn pending<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        match self.sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the connection was idle too long",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncRead for Idle {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let me = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut me.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    me.progressed();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => me.pending(cx),
        }
    }
}

impl AsyncWrite for Idle {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let me = self.get_mut();
        match Pin::new(&mut me.io).poll_write(cx, buf) {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    me.progressed();
                }
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => me.pending(cx),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}
