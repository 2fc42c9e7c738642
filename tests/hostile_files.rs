//! Files that are not what they seem: a scenario, checkpoint or slice file that is a FIFO, a
//! device, a socket or a directory is refused at once (exit 2, naming it); every read is
//! bounded before it allocates (sparse files of gigabytes are refused from their first bytes
//! or their length, under a 2 GB address-space limit); and a checkpoint forged so that its
//! checksum still matches is refused before it is resumed, naming the file and leaving no
//! directory behind.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::files::names_in;
use common::{Running, arg, microsim, microsim_ok, small};
use microsim::internal::checkpoint::{Checkpoint, Parts};
use microsim::internal::output::{AtomicFile, WriterState};

/// A FIFO at `path` (which no one ever writes).
fn fifo(path: &Path) {
    rustix::fs::mknodat(
        rustix::fs::CWD,
        path,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
}

/// A sparse file of `size` bytes that starts with `head`.
fn sparse(path: &Path, head: &[u8], size: u64) {
    fs::write(path, head).unwrap();
    fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(size)
        .unwrap();
}

/// `microsim args…` in `dir`, under a 2 GB address-space limit, which must end (within a
/// minute: a read that blocks is a failure) with exit 2 saying every one of `says`.
fn refused(dir: &Path, args: &[&str], says: &[&str]) {
    let line = args
        .iter()
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let script = format!("ulimit -v 2000000; exec '{}' {line}", common::BIN);
    let mut child = std::process::Command::new("sh");
    child
        .args(["-c", &script])
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let running = Running::from(child.spawn().unwrap());
    let out = running.wait(Duration::from_secs(60));
    assert_eq!(out.code, Some(2), "{line}\n{out}");
    for s in says {
        assert!(out.stderr.contains(s), "{line}: should say {s:?}\n{out}");
    }
}

#[test]
fn special_files_are_refused_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let pipe = t.join("scenario.fifo");
    fifo(&pipe);
    let socket = t.join("scenario.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let folder = t.join("folder.toml");
    fs::create_dir(&folder).unwrap();
    for command in ["check", "run"] {
        for (file, kind) in [
            (pipe.as_path(), "FIFO"),
            (&socket, "socket"),
            (&folder, "directory"),
            (Path::new("/dev/zero"), "character device"),
            (Path::new("/dev/urandom"), "character device"),
        ] {
            refused(t, &[command, arg(file)], &[arg(file), kind]);
        }
    }
    let ckpt = t.join("step-000002.ckpt");
    fifo(&ckpt);
    refused(t, &["resume", arg(&ckpt)], &[arg(&ckpt), "FIFO"]);
    refused(
        t,
        &["resume", "/dev/zero"],
        &["/dev/zero", "character device"],
    );
    refused(t, &["resume", arg(&folder)], &["directory"]);

    // A slice whose files are a FIFO, a device, a directory.
    let s = small();
    let ten = ["--set", "montecarlo.replications=4"];
    let a = common::files::run(
        t,
        &s,
        "a",
        &[&["--replications", "0..2"][..], &ten].concat(),
    );
    let b = common::files::run(
        t,
        &s,
        "b",
        &[&["--replications", "2..4"][..], &ten].concat(),
    );
    for (file, make, kind) in [
        ("replications.csv", 0, "FIFO"),
        ("steps.csv", 1, "character device"),
        ("details.json", 2, "directory"),
        ("summary.json", 0, "FIFO"),
        ("scenario.toml", 0, "FIFO"),
    ] {
        let bad = t.join(format!("bad-{file}"));
        copy_dir(&b, &bad);
        let path = bad.join(file);
        fs::remove_file(&path).unwrap();
        match make {
            0 => fifo(&path),
            1 => std::os::unix::fs::symlink("/dev/zero", &path).unwrap(),
            _ => fs::create_dir(&path).unwrap(),
        }
        let kind = if file == "steps.csv" {
            "symbolic link"
        } else {
            kind
        };
        let dest = t.join(format!("merged-{file}"));
        refused(
            t,
            &["merge", arg(&a), arg(&bad), "--out", arg(&dest)],
            &[arg(&path), kind],
        );
        assert!(!dest.exists(), "{file}: nothing written");
    }
}

#[test]
fn huge_sparse_files_are_refused_before_they_are_read() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let scenario = t.join("huge.toml");
    sparse(&scenario, b"[scenario]\nmodel = \"pi\"\n# ", 2 << 30);
    for command in ["check", "run"] {
        refused(
            t,
            &[command, arg(&scenario)],
            &[arg(&scenario), "bytes long"],
        );
    }
    // Checkpoints of 3 GiB: format 0 (what a sparse file that starts with the magic reads
    // as), and a good prefix and header followed by gigabytes the header does not declare.
    let zero = t.join("format0.ckpt");
    sparse(&zero, b"MSIMCKPT", 3 << 30);
    refused(t, &["resume", arg(&zero)], &[arg(&zero), "format 0"]);
    let good = checkpoint(t, "good", 1);
    let bytes = fs::read(&good).unwrap();
    let header_len = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    let long = t.join("long.ckpt");
    sparse(&long, &bytes[..16 + header_len + 8], 3 << 30);
    refused(
        t,
        &["resume", arg(&long)],
        &[arg(&long), "bytes follow its end"],
    );

    // A slice's replications.csv of 2 GiB (its recorded length says otherwise).
    let s = small();
    let four = ["--set", "montecarlo.replications=4"];
    let a = common::files::run(
        t,
        &s,
        "a",
        &[&["--replications", "0..2"][..], &four].concat(),
    );
    let b = common::files::run(
        t,
        &s,
        "b",
        &[&["--replications", "2..4"][..], &four].concat(),
    );
    let csv = b.join("replications.csv");
    let head = fs::read(&csv).unwrap();
    sparse(&csv, &head, 2 << 30);
    let dest = t.join("merged");
    refused(
        t,
        &["merge", arg(&a), arg(&b), "--out", arg(&dest)],
        &[arg(&csv), "bytes long"],
    );
    assert!(!dest.exists());
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// A real checkpoint in `dir/name/checkpoints/`: of a lone replication at step 2
/// (`replications` 1), or of a run of several after some are done.
fn checkpoint(dir: &Path, name: &str, replications: u64) -> PathBuf {
    let out = dir.join(name);
    let n = replications.to_string();
    let s = small();
    microsim_ok(
        dir,
        &[
            "run",
            &s,
            "--quiet",
            "--replications",
            &n,
            "--out",
            arg(&out),
            "--set",
            "run.checkpoint_every=2",
            "--set",
            "run.checkpoint_keep=100",
            "--set",
            "output.plots=[]",
        ],
    );
    let mut all = names_in(&out.join("checkpoints"));
    all.sort();
    out.join("checkpoints").join(&all[0])
}

/// `c` written back to `dest` through the crate's own writer: the checksum matches whatever
/// was changed.
fn write(c: &Checkpoint, dest: &Path) {
    let running = c
        .running
        .as_ref()
        .map(|r| (r.index, &r.snapshot, r.steps.as_slice()));
    Parts {
        header: &c.header,
        scenario: &c.scenario,
        only: c.only,
        done: c.done,
        writer: c.writer.as_ref(),
        running,
    }
    .write(AtomicFile::create(dest).unwrap())
    .unwrap();
}

/// The writer state with the text of one of its byte fields changed by `edit`.
fn edit_state(w: &WriterState, field: &str, edit: impl Fn(String) -> String) -> WriterState {
    let mut v = serde_json::to_value(w).unwrap();
    let bytes: Vec<u8> = serde_json::from_value(v[field].clone()).unwrap();
    let text = edit(String::from_utf8(bytes).unwrap());
    v[field] = serde_json::to_value(text.into_bytes()).unwrap();
    serde_json::from_value(v).unwrap()
}

/// Line `n` (from 0) of `text` with its field `k` set to `value`.
fn set(text: String, n: usize, k: usize, value: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut cells: Vec<&str> = lines[n].split(',').collect();
    cells[k] = value;
    lines[n] = cells.join(",");
    lines.join("\n") + "\n"
}

#[test]
fn forged_checkpoints_are_refused_before_they_are_trusted() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let lone = Checkpoint::read(&checkpoint(t, "lone", 1)).unwrap();
    let several = Checkpoint::read(&checkpoint(t, "several", 6)).unwrap();
    assert!(
        lone.running.is_some()
            && several
                .writer
                .as_ref()
                .is_some_and(|w| w.replications() > 1)
    );
    type Forge = fn(&mut Checkpoint);
    let cases: &[(&str, &Checkpoint, Forge, &str)] = &[
        (
            "counter_in_a_step_row",
            &lone,
            |c| {
                c.running.as_mut().unwrap().steps[0].counters[0] += 1;
            },
            "counters are not the sum of its step rows",
        ),
        (
            "step_rows_missing",
            &lone,
            |c| {
                let r = c.running.as_mut().unwrap();
                r.steps.pop();
            },
            "step rows do not match its snapshot",
        ),
        (
            "replication_under_way_moved",
            &lone,
            |c| {
                let r = c.running.as_mut().unwrap();
                r.index += 1;
                c.header.running = Some((r.index, r.snapshot.step()));
            },
            "not the one after those done",
        ),
        (
            "header_seed_and_scenario_seed",
            &lone,
            |c| {
                c.header.seed += 1;
                c.scenario = c.scenario.replace("seed = 1", "seed = 2");
                c.header.scenario_hash = microsim::internal::checkpoint::scenario_hash(&c.scenario);
            },
            "not seeded as its replication",
        ),
        (
            "metric_edited",
            &several,
            |c| {
                let w = c.writer.as_ref().unwrap();
                let text = String::from_utf8(
                    serde_json::from_value(
                        serde_json::to_value(w).unwrap()["replications_csv"].clone(),
                    )
                    .unwrap(),
                )
                .unwrap();
                let last = text.lines().nth(1).unwrap().split(',').count() - 1;
                c.writer = Some(edit_state(w, "replications_csv", |t| {
                    set(t, 1, last, "123456")
                }));
            },
            "a metric is not the value kept",
        ),
        (
            "replication_index",
            &several,
            |c| {
                c.writer = Some(edit_state(
                    c.writer.as_ref().unwrap(),
                    "replications_csv",
                    |t| set(t, 2, 0, "999"),
                ));
            },
            "is not replication 1 with its seed",
        ),
        (
            "replication_seed",
            &several,
            |c| {
                c.writer = Some(edit_state(
                    c.writer.as_ref().unwrap(),
                    "replications_csv",
                    |t| set(t, 1, 1, "42"),
                ));
            },
            "is not replication 0 with its seed",
        ),
        (
            "ending",
            &several,
            |c| {
                c.writer = Some(edit_state(
                    c.writer.as_ref().unwrap(),
                    "replications_csv",
                    |t| set(t, 1, 2, "stalled"),
                ));
            },
            "its ending is not the one kept",
        ),
        (
            "step_row_deleted",
            &several,
            |c| {
                c.writer = Some(edit_state(c.writer.as_ref().unwrap(), "steps_csv", |t| {
                    let mut l: Vec<&str> = t.lines().collect();
                    l.remove(2);
                    l.join("\n") + "\n"
                }));
            },
            "step rows",
        ),
        (
            "details_not_json",
            &several,
            |c| {
                c.writer = Some(edit_state(c.writer.as_ref().unwrap(), "details", |t| {
                    t.replacen('{', "{{", 1)
                }));
            },
            "details are not JSON",
        ),
        (
            "details_of_another_replication",
            &several,
            |c| {
                c.writer = Some(edit_state(c.writer.as_ref().unwrap(), "details", |t| {
                    t.replacen("\"replication\": 0", "\"replication\": 7", 1)
                }));
            },
            "details element 1 is not replication 0",
        ),
        (
            "more_done_than_kept",
            &several,
            |c| {
                c.done += 1;
                c.header.replications_done += 1;
            },
            "another number of replications",
        ),
        (
            "header_model_and_scenario",
            &several,
            |c| {
                c.header.scenario = "robots".into();
            },
            "another scenario than its body holds",
        ),
    ];
    for (name, base, forge, says) in cases {
        let mut c: Checkpoint = (*base).clone();
        forge(&mut c);
        // Beside a run's directory, where a resume would write `DIR-2`.
        let run = t.join(name);
        fs::create_dir_all(run.join("checkpoints")).unwrap();
        let file = run.join("checkpoints").join("forged.ckpt");
        write(&c, &file);
        let before = names_in(t);
        let out = microsim(t, &["resume", arg(&file), "--quiet"]);
        assert_eq!(out.code, Some(2), "{name}\n{out}");
        assert!(
            out.stderr.contains(arg(&file)) && out.stderr.contains(says),
            "{name}: should name the file and say {says:?}\n{out}"
        );
        assert_eq!(names_in(t), before, "{name}: no directory left behind");
    }
    // Damage that only restoring finds (a task piece whose checksum was recomputed): refused
    // after the directory was claimed, which is removed again.
    let mut c = lone.clone();
    let r = c.running.as_mut().unwrap();
    let mut bytes = r.snapshot.to_bytes();
    let meta = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    bytes[8 + meta + 12] ^= 0xFF;
    r.snapshot = microsim::Snapshot::from_bytes(&bytes).unwrap();
    let run = t.join("task_piece");
    fs::create_dir_all(run.join("checkpoints")).unwrap();
    let file = run.join("checkpoints").join("forged.ckpt");
    write(&c, &file);
    let before = names_in(t);
    let out = microsim(t, &["resume", arg(&file), "--quiet"]);
    assert_eq!(out.code, Some(2), "{out}");
    assert!(out.stderr.contains(arg(&file)), "names the file\n{out}");
    assert_eq!(names_in(t), before, "no task_piece-2 left behind");

    // Untouched, both resume.
    for (name, c) in [("lone_ok", &lone), ("several_ok", &several)] {
        let run = t.join(name);
        fs::create_dir_all(run.join("checkpoints")).unwrap();
        let file = run.join("checkpoints").join("good.ckpt");
        write(c, &file);
        microsim_ok(t, &["resume", arg(&file), "--quiet"]);
    }
}
