//! The live view's cost: the same run with and without it, interleaved.
//!
//! Two runs through the real run path (`runner::execute` into a temporary result directory),
//! each five times, alternating: 20,000 small gift lotteries (many replications: metrics
//! every 0.1 ms) and one pi replication of 20,000 steps (one long replication: a step row
//! every few microseconds). "With" is the board fed as `--serve` feeds it, its server running
//! and one viewer reading the event stream all along. The target: within 5%.
//!
//! ```sh
//! cargo bench --bench live
//! ```

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use microsim::Registry;
use microsim::internal::montecarlo::{Both, Silent};
use microsim::internal::{Manifest, Options, execute};
use microsim::live::{Board, Server, parse_addr};

const RUNS: usize = 5;

fn scenario(text: &str) -> microsim::internal::Scenario {
    Registry::builtin()
        .parse(text.as_bytes(), Path::new("live.toml"), &[])
        .expect("the scenario is valid")
}

/// One run of `s` into `dir`; with a live view if `live`. Returns its wall time.
fn once(s: &microsim::internal::Scenario, dir: &Path, live: bool) -> Duration {
    let _ = std::fs::remove_dir_all(dir);
    let opts = Options {
        dir: dir.to_path_buf(),
        only: None,
        slice: None,
        manifest: Manifest::default(),
    };
    let stop = AtomicBool::new(false);
    if !live {
        let t = Instant::now();
        execute(s, &opts, &stop, &Silent).expect("the run writes");
        return t.elapsed();
    }
    let metrics = s.metric_names();
    let board = Arc::new(Board::new(&s.name, s.model_name(), &metrics, 1, dir));
    let listener = Server::bind(parse_addr(None).unwrap()).unwrap();
    let server = Server::start(board.clone(), listener, false).unwrap();
    let addr = server.addr();
    let viewer = std::thread::spawn(move || {
        let mut c = TcpStream::connect(addr).unwrap();
        write!(c, "GET /events HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut buf = vec![0u8; 1 << 16];
        let mut got = 0usize;
        while let Ok(n) = c.read(&mut buf) {
            if n == 0 {
                break;
            }
            got += n;
        }
        got
    });
    let t = Instant::now();
    let progress = Both(&Silent, &*board);
    execute(s, &opts, &stop, &progress).expect("the run writes");
    let elapsed = t.elapsed();
    board.finish(false);
    std::thread::sleep(Duration::from_millis(300));
    server.stop();
    let bytes = viewer.join().unwrap();
    assert!(bytes > 0, "the viewer received the stream");
    elapsed
}

fn main() {
    let tmp = std::env::temp_dir().join(format!("microsim-live-{}", std::process::id()));
    let cases = [
        (
            "20,000 gift lotteries (2,000 items)",
            "[scenario]\nname = \"live\"\nmodel = \"gift_lottery\"\n[model]\nitems = 2000\n\
             bins = 6000\n[run]\nseed = 7\nshards = 1\n[montecarlo]\nreplications = 20000\n\
             [output]\nplots = []\n",
        ),
        (
            "one pi replication of 20,000 steps",
            "[scenario]\nname = \"live\"\nmodel = \"pi\"\n[model]\npoints = 2000000\ntasks = 10\n\
             points_per_step = 10\n[run]\nseed = 7\nshards = 2\n[montecarlo]\nreplications = 1\n\
             [output]\nplots = []\n",
        ),
    ];
    println!("| run | without (best of {RUNS}) | with the live view | ratio |");
    println!("|---|---:|---:|---:|");
    for (name, text) in cases {
        let s = scenario(text);
        let (mut without, mut with) = (Duration::MAX, Duration::MAX);
        for _ in 0..RUNS {
            without = without.min(once(&s, &tmp.join("without"), false));
            with = with.min(once(&s, &tmp.join("with"), true));
        }
        println!(
            "| {name} | {:.3} s | {:.3} s | {:.3} |",
            without.as_secs_f64(),
            with.as_secs_f64(),
            with.as_secs_f64() / without.as_secs_f64()
        );
    }
    let _ = std::fs::remove_dir_all(&tmp);
}
