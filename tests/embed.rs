//! `microsim::embed`: the command line's `run` as a library call (what the Python package
//! calls): the same result directory, errors that say the file, line and field, a stop.

use microsim::Registry;
use microsim::embed::{Control, Request, check, run};

const PI: &str = "[scenario]\nmodel = \"pi\"\n\n[model]\npoints = 2000\ntasks = 10\n\n\
                  [montecarlo]\nreplications = 4\n";

#[test]
fn a_run_writes_a_result_directory_and_counts_what_it_did() {
    let tmp = tempfile::tempdir().unwrap();
    let request = Request {
        out: Some(tmp.path().join("pi")),
        plots: false,
        command_line: vec!["test".into()],
        ..Request::text(PI, "pi.toml")
    };
    let control = Control::new();
    let done = run(&Registry::builtin(), &request, &control).unwrap();
    assert!(!done.partial);
    assert_eq!(done.replications, 4);
    assert_eq!((control.replications_done(), control.total()), (4, 4));
    assert!(control.steps_done() >= 4);
    let summary = std::fs::read_to_string(done.dir.join("summary.json")).unwrap();
    assert!(summary.contains("\"model\": \"pi\"") && summary.contains("\"test\""));
    assert!(!done.dir.join("INCOMPLETE").exists());
    // A named directory that holds a result is refused, as `--out` is without `--force`.
    let again = run(&Registry::builtin(), &request, &Control::new()).unwrap_err();
    assert_eq!(again.kind, "usage");
    let forced = Request {
        force: true,
        ..request
    };
    assert!(run(&Registry::builtin(), &forced, &Control::new()).is_ok());
}

#[test]
fn errors_say_the_file_line_and_field() {
    let bad = PI.replace("points = 2000", "points = \"many\"");
    let e = check(&Registry::builtin(), &Request::text(bad, "bad.toml")).unwrap_err();
    assert_eq!(e.kind, "schema");
    assert_eq!(e.file.as_deref(), Some("bad.toml"));
    assert_eq!(e.line, Some(5));
    assert_eq!(e.field.as_deref(), Some("model.points"));
    assert!(e.message.starts_with("bad.toml:5:") && e.is_input());

    let set = Request {
        set: vec!["model.tasks=0".into()],
        ..Request::text(PI, "pi.toml")
    };
    let e = check(&Registry::builtin(), &set).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("model.tasks"));
    assert_eq!(e.set.as_deref(), Some("model.tasks=0"));

    let k = Request {
        replication: Some(4),
        ..Request::text(PI, "pi.toml")
    };
    assert_eq!(check(&Registry::builtin(), &k).unwrap_err().kind, "usage");
}

/// A run stopped under way writes what it has and is marked partial (here a lone
/// replication, kept as it stood). A run stopped before any replication has finished is not
/// tried: the summary of none panics in `output.rs`, on the command line too.
#[test]
fn a_stopped_run_is_marked_partial() {
    let tmp = tempfile::tempdir().unwrap();
    let text = "[scenario]\nmodel = \"musical_chairs\"\n\n[model]\nrobots = 50\nwidth = 100\n\
                height = 100\nrounds = 1000000\n";
    let request = Request {
        out: Some(tmp.path().join("stopped")),
        plots: false,
        ..Request::text(text, "chairs.toml")
    };
    let control = Control::new();
    let done = std::thread::scope(|s| {
        s.spawn(|| {
            while control.steps_done() < 3 {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            control.stop();
        });
        run(&Registry::builtin(), &request, &control).unwrap()
    });
    assert!(done.partial && control.stopped());
    let summary = std::fs::read_to_string(done.dir.join("summary.json")).unwrap();
    assert!(summary.contains("\"partial\": true"));
    assert!(!done.dir.join("INCOMPLETE").exists());
}
