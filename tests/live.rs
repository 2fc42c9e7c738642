//! The live view: the server answers the page, the state and the event stream; a real run
//! streams its steps and replications and writes the same bytes as without the view; viewers
//! that vanish or never read cost the run nothing; `microsim serve` shows a result directory.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Running, arg, microsim, microsim_ok, repo_path};
use microsim::internal::montecarlo::Progress;
use microsim::live::{Board, Server, parse_addr};
use serde_json::Value;

/// `GET path` with `Connection: close`: the status line and headers, and the body.
fn get(addr: SocketAddr, path: &str) -> (String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    let split = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&all[..split]).into_owned();
    (head, all[split + 4..].to_vec())
}

/// The `/state` JSON.
fn state(addr: SocketAddr) -> Value {
    let (head, body) = get(addr, "/state");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    serde_json::from_slice(&body).unwrap()
}

/// Reads server-sent events from `/events` until `until` says enough (or `limit` passes);
/// returns every event's JSON.
fn events(addr: SocketAddr, limit: Duration, until: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    write!(s, "GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let mut r = BufReader::new(s);
    let deadline = Instant::now() + limit;
    let mut seen = Vec::new();
    let mut line = String::new();
    let mut head = String::new();
    while Instant::now() < deadline && !until(&seen) {
        line.clear();
        match r.read_line(&mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(_) => continue, // a read timeout: look at the clock again
        }
        if seen.is_empty() && head.len() < 4096 {
            head.push_str(&line);
        }
        if let Some(data) = line.trim_end().strip_prefix("data: ") {
            seen.push(serde_json::from_str(data).expect("each event is JSON"));
        }
    }
    assert!(
        head.to_ascii_lowercase().contains("text/event-stream"),
        "{head}"
    );
    seen
}

fn board(dir: &Path) -> Arc<Board> {
    Arc::new(Board::new("s", "m", &["x", "y"], 100, dir))
}

/// `b` served on 127.0.0.1 at a free port.
fn serving(b: &Arc<Board>) -> Server {
    let listener = Server::bind(parse_addr(None).unwrap()).unwrap();
    Server::start(b.clone(), listener, false).unwrap()
}

#[test]
fn the_server_answers_the_page_the_state_the_events_and_files_of_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("report.html"), "<p>the report</p>").unwrap();
    let b = board(tmp.path());
    let server = serving(&b);
    let addr = server.addr();
    assert!(addr.ip().is_loopback(), "localhost by default");
    assert_ne!(addr.port(), 0, "a free port was chosen");

    let (head, page) = get(addr, "/");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let page = String::from_utf8(page).unwrap();
    assert!(page.contains("EventSource(\"/events\")") && page.contains("<svg"));
    for external in [
        "src=\"http",
        "href=\"http",
        "url(http",
        "fetch(\"http",
        "@import",
    ] {
        assert!(
            !page.contains(external),
            "nothing from the network: {external}"
        );
    }

    b.metrics(0, &[1.0, 10.0]);
    b.replication_done(0);
    b.metrics(1, &[3.0, 30.0]);
    b.replication_done(1);
    let got = events(addr, Duration::from_secs(10), |seen| {
        seen.iter().any(|s| s["replications"]["done"] == 2)
    });
    let last = got.last().unwrap();
    assert_eq!(last["replications"]["done"], 2);
    assert_eq!(last["metrics"][0]["mean"], 2.0);
    assert_eq!(last["metrics"][1]["n"], 2);
    assert_eq!(state(addr)["replications"]["planned"], 100);

    // The run's own files, and nothing outside its directory.
    let (head, body) = get(addr, "/files/report.html");
    assert!(
        head.starts_with("HTTP/1.1 200") && head.contains("text/html"),
        "{head}"
    );
    assert_eq!(body, b"<p>the report</p>");
    for path in [
        "/files/../Cargo.toml",
        "/files/%2e%2e/Cargo.toml",
        "/files/nothing.png",
        "/nope",
    ] {
        let (head, _) = get(addr, path);
        assert!(head.starts_with("HTTP/1.1 404"), "{path}: {head}");
    }
    b.finish(false);
    let done = events(addr, Duration::from_secs(10), |seen| {
        seen.iter().any(|s| !s["finished"].is_null())
    });
    assert_eq!(
        done.last().unwrap()["finished"]["report"],
        "/files/report.html"
    );
    server.stop();
}

#[test]
fn viewers_that_vanish_or_never_read_cost_the_run_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let b = board(tmp.path());
    let server = serving(&b);
    let addr = server.addr();
    // One viewer connects and never reads; another reads one event and goes away.
    let mut silent = TcpStream::connect(addr).unwrap();
    write!(silent, "GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let first = events(addr, Duration::from_secs(10), |seen| !seen.is_empty());
    assert!(!first.is_empty());
    // The run goes on: a million steps and 20,000 replications, fed from 2 threads at once.
    let row = microsim::StepRow::zeroed(0, 0);
    std::thread::scope(|s| {
        for t in 0..2u64 {
            let b = &b;
            let row = &row;
            s.spawn(move || {
                for i in 0..500_000u64 {
                    b.step(t, row);
                    if i % 50 == 0 {
                        let r = t * 10_000 + i / 50;
                        b.metrics(r, &[(r % 7) as f64, 1.0]);
                        b.replication_done(r);
                    }
                }
            });
        }
    });
    // A viewer that comes late gets the state so far.
    let late = events(addr, Duration::from_secs(10), |seen| {
        seen.iter().any(|s| s["replications"]["done"] == 20_000)
    });
    assert_eq!(late.last().unwrap()["steps_done"], 1_000_000);
    assert_eq!(late.last().unwrap()["metrics"][0]["n"], 20_000);
    drop(silent);
    server.stop();
}

/// Starts `microsim args…` and returns it with the live view's address, read from stderr.
fn start_with_view(dir: &Path, args: &[&str]) -> (Running, SocketAddr) {
    let mut running = Running::start(dir, args);
    let stderr = running.child().stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let url = loop {
        let line = lines.next().expect("the address is printed").unwrap();
        if let Some(i) = line.find("http://") {
            break line[i + 7..]
                .trim_end_matches(|c: char| c != '/')
                .trim_end_matches('/')
                .to_string();
        }
    };
    // Keep reading stderr so that the child never blocks on it.
    std::thread::spawn(move || for _ in lines {});
    let url = url.split_whitespace().next().unwrap().to_string();
    (running, url.parse().unwrap())
}

#[test]
fn a_run_streams_its_replications_and_writes_the_same_bytes_as_without_the_view() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let small = repo_path("scenarios/musical_chairs_small.toml");
    let common = [
        "--replications",
        "4000",
        "--set",
        "model.robots=400",
        "--set",
        "output.plots=[]",
        "--quiet",
    ];
    let viewed = t.join("viewed");
    let mut args = vec![
        "run",
        small.as_str(),
        "--serve",
        "127.0.0.1:0",
        "--out",
        arg(&viewed),
    ];
    args.extend_from_slice(&common);
    let (running, addr) = start_with_view(t, &args);
    let seen = events(addr, Duration::from_secs(120), |seen| {
        let done: Vec<u64> = seen
            .iter()
            .filter_map(|s| s["replications"]["done"].as_u64())
            .collect();
        done.windows(2).filter(|w| w[1] > w[0]).count() >= 2
    });
    let done: Vec<u64> = seen
        .iter()
        .filter_map(|s| s["replications"]["done"].as_u64())
        .collect();
    assert!(
        done.windows(2).filter(|w| w[1] > w[0]).count() >= 2,
        "the replications done grow: {done:?}"
    );
    let last = seen.last().unwrap();
    assert_eq!(last["replications"]["planned"], 4000);
    assert!(
        last["series"]["points"]
            .as_array()
            .is_some_and(|p| !p.is_empty()),
        "{last}"
    );
    assert_eq!(last["metrics"][0]["name"], "claims_granted");
    running.wait(Duration::from_secs(300)).ok();

    let plain = t.join("plain");
    let mut args = vec!["run", small.as_str(), "--out", arg(&plain)];
    args.extend_from_slice(&common);
    microsim_ok(t, &args);
    for f in ["replications.csv", "details.json", "histograms/points.hlog"] {
        let (a, b) = (
            std::fs::read(viewed.join(f)).unwrap(),
            std::fs::read(plain.join(f)).unwrap(),
        );
        assert!(a == b, "{f} differs with the live view");
    }
}

#[test]
fn serve_shows_a_result_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let small = repo_path("scenarios/musical_chairs_small.toml");
    let out = t.join("done");
    microsim_ok(t, &["run", &small, "--quiet", "--out", arg(&out)]);
    let (mut running, addr) = start_with_view(t, &["serve", arg(&out), "--addr", "127.0.0.1:0"]);
    let s = state(addr);
    assert_eq!(s["replications"]["done"], 20);
    assert_eq!(s["scenario"], "musical_chairs_small");
    assert_eq!(s["finished"]["report"], "/files/report.html");
    assert_eq!(s["metrics"][0]["n"], 20);
    let (head, body) = get(addr, "/files/report.html");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(String::from_utf8_lossy(&body).contains("musical_chairs_small"));
    let sent = std::process::Command::new("kill")
        .args(["-INT", &running.child().id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let end = running.wait(Duration::from_secs(10));
    assert_eq!(end.code, Some(0), "{end}");
}

#[test]
fn bad_addresses_and_directories_exit_2_before_anything_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let small = repo_path("scenarios/musical_chairs_small.toml");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().to_string();
    for (serve, says) in [
        ("nonsense", "not an address"),
        (port.as_str(), "cannot listen"),
    ] {
        let out = microsim(
            t,
            &["run", &small, "--serve", serve, "--out", arg(&t.join("x"))],
        );
        assert_eq!(out.code, Some(2), "{out}");
        assert!(out.stderr.contains(says), "{out}");
        assert!(!t.join("x").exists(), "nothing written");
    }
    let out = microsim(t, &["serve", arg(t)]);
    assert_eq!(out.code, Some(2), "{out}");
    assert!(out.stderr.contains("not a result directory"), "{out}");
}
