//! What a result directory guarantees against the file system around it: a run never writes
//! through a link planted in it, never takes over another user's directory, refuses output
//! paths that cannot be a directory (exit 2, naming the flag or field), refuses to overwrite a
//! result named with `--out`, and keeps only its newest step checkpoints.

mod common;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::Path;

use common::files::names_in;
use common::{arg, microsim, microsim_ok, small};

/// A victim file and directory outside the result directory, and what they hold.
fn victims(tmp: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let file = tmp.join("victim.txt");
    fs::write(&file, "precious").unwrap();
    let dir = tmp.join("victim_dir");
    fs::create_dir(&dir).unwrap();
    (file, dir)
}

fn untouched(file: &Path, dir: &Path) {
    assert_eq!(fs::read_to_string(file).unwrap(), "precious");
    assert!(names_in(dir).is_empty(), "{:?}", names_in(dir));
}

/// `run --out OUT --force` with a link planted in OUT: refused (exit 2) naming the link, and
/// nothing written through it.
fn refused_with_link(plant: impl Fn(&Path, &Path, &Path), link: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let (file, dir) = victims(tmp.path());
    let out = tmp.path().join("out");
    fs::create_dir(&out).unwrap();
    plant(&out, &file, &dir);
    let small = small();
    let args = [
        "run",
        &small,
        "--replications",
        "2",
        "--out",
        arg(&out),
        "--force",
    ];
    let o = microsim(tmp.path(), &args);
    assert_eq!(o.code, Some(2), "{o}");
    let named = out.join(link);
    assert!(
        o.stderr.contains(arg(&named)) && o.stderr.contains("symbolic link"),
        "{o}"
    );
    untouched(&file, &dir);
    assert!(!out.join("summary.json").exists());
}

#[test]
fn an_incomplete_marker_that_is_a_link_is_refused() {
    refused_with_link(
        |out, file, _| symlink(file, out.join("INCOMPLETE")).unwrap(),
        "INCOMPLETE",
    );
}

#[test]
fn a_histograms_folder_that_is_a_link_is_refused() {
    refused_with_link(
        |out, _, dir| symlink(dir, out.join("histograms")).unwrap(),
        "histograms",
    );
}

#[test]
fn planted_temporary_names_are_never_written_through() {
    // From the command line: links at temporary names of a process that is gone.
    refused_with_link(
        |out, file, _| symlink(file, out.join(".summary.json.999999999.partial")).unwrap(),
        ".summary.json.999999999.partial",
    );
    // In the library, planted for this very process (whose id the attacker read from
    // INCOMPLETE): the run fails rather than write the summary through the link, and
    // summary.json never becomes a link.
    use microsim::Registry;
    use microsim::internal::{Manifest, Options, Silent, execute, safe_fs};
    let tmp = tempfile::tempdir().unwrap();
    let (file, dir) = victims(tmp.path());
    let out = tmp.path().join("out");
    fs::create_dir(&out).unwrap();
    let pid = std::process::id();
    for name in ["summary.json", "replications.csv", "scenario.toml"] {
        symlink(&file, out.join(format!(".{name}.{pid}.partial"))).unwrap();
    }
    let scenario = Registry::builtin()
        .load(Path::new(&small()), &[])
        .expect("the scenario loads");
    let opts = Options {
        dir: out.clone(),
        only: None,
        slice: None,
        manifest: Manifest::default(),
    };
    let stop = std::sync::atomic::AtomicBool::new(false);
    let e = execute(&scenario, &opts, &stop, &Silent).unwrap_err();
    let refused = safe_fs::refusal(&e).unwrap_or_else(|| panic!("not a refusal: {e}"));
    assert!(refused.why.contains("symbolic link"), "{e}");
    untouched(&file, &dir);
    assert!(
        !fs::symlink_metadata(out.join("summary.json")).is_ok_and(|m| m.is_symlink()),
        "summary.json is no link"
    );
}

#[test]
fn a_result_directory_that_is_a_link_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (file, dir) = victims(tmp.path());
    let out = tmp.path().join("out");
    symlink(&dir, &out).unwrap();
    let small = small();
    let o = microsim(tmp.path(), &["run", &small, "--out", arg(&out), "--force"]);
    assert_eq!(o.code, Some(2), "{o}");
    assert!(
        o.stderr.contains("--out") && o.stderr.contains("symbolic link"),
        "{o}"
    );
    untouched(&file, &dir);
    // plot and serve of a result directory reached through a link: refused the same way.
    let real = tmp.path().join("real");
    microsim_ok(
        tmp.path(),
        &["run", &small, "--replications", "2", "--out", arg(&real)],
    );
    let link = tmp.path().join("latest");
    symlink(&real, &link).unwrap();
    for command in ["plot", "serve"] {
        let o = microsim(tmp.path(), &[command, arg(&link)]);
        assert_eq!(o.code, Some(2), "{command}: {o}");
        assert!(o.stderr.contains("symbolic link"), "{command}: {o}");
    }
}

#[test]
fn a_directory_another_user_owns_is_not_taken_over() {
    let tmp = tempfile::tempdir().unwrap();
    let theirs = tmp.path().join("shared");
    fs::create_dir(&theirs).unwrap();
    fs::set_permissions(&theirs, fs::Permissions::from_mode(0o1777)).unwrap();
    // Only root can give a directory away; elsewhere the check is the unit test's.
    if rustix::process::geteuid().as_raw() != 0 {
        eprintln!("not root: cannot make a directory of another user; skipped");
        return;
    }
    rustix::fs::chown(&theirs, Some(rustix::process::Uid::from_raw(65534)), None).unwrap();
    assert_eq!(fs::metadata(&theirs).unwrap().uid(), 65534);
    let small = small();
    for force in [false, true] {
        let mut args = vec!["run", &small, "--replications", "2", "--out", arg(&theirs)];
        if force {
            args.push("--force");
        }
        let o = microsim(tmp.path(), &args);
        assert_eq!(o.code, Some(2), "{o}");
        assert!(o.stderr.contains("owned by another user"), "{o}");
        assert!(
            names_in(&theirs).is_empty(),
            "nothing written, no INCOMPLETE"
        );
    }
}

#[test]
fn output_paths_that_cannot_be_a_directory_are_bad_input_naming_the_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a_file");
    fs::write(&file, "x").unwrap();
    let long = tmp.path().join("n".repeat(300));
    let small = small();
    for (out, says) in [
        (file.clone(), "exists and is not a directory"),
        (file.join("under"), "is not a directory"),
        ("/proc/microsim-results".into(), "proc"),
        ("/sys/kernel/microsim".into(), "sysfs"),
        (long.clone(), "more than the 255"),
    ] {
        let o = microsim(tmp.path(), &["run", &small, "--out", arg(&out)]);
        assert_eq!(o.code, Some(2), "{}: {o}", out.display());
        assert!(
            o.stderr.contains("--out") && o.stderr.contains(says) && o.stderr.contains("hint:"),
            "{}: {o}",
            out.display()
        );
    }
    // The same for [output] dir, found by `check` already.
    let scenario = tmp.path().join("s.toml");
    fs::write(
        &scenario,
        "[scenario]\nmodel = \"pi\"\n[model]\npoints = 1000\n[output]\ndir = \"/proc/results\"\n",
    )
    .unwrap();
    for command in ["check", "run"] {
        let o = microsim(tmp.path(), &[command, arg(&scenario)]);
        assert_eq!(o.code, Some(2), "{o}");
        assert!(
            o.stderr.contains("output.dir") && o.stderr.contains("proc"),
            "{o}"
        );
    }
    // merge and resume take --out the same way.
    let slice = tmp.path().join("slice");
    microsim_ok(
        tmp.path(),
        &["run", &small, "--replications", "2", "--out", arg(&slice)],
    );
    let o = microsim(tmp.path(), &["merge", arg(&slice), "--out", arg(&long)]);
    assert_eq!(o.code, Some(2), "{o}");
    assert!(
        o.stderr.contains("--out") && o.stderr.contains("255"),
        "{o}"
    );
}

#[test]
fn only_the_newest_step_checkpoints_are_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let small = small();
    let steps = |keep: Option<&str>| {
        let out = tmp.path().join(format!("k{}", keep.unwrap_or("default")));
        let mut args = vec![
            "run",
            &small,
            "--replications",
            "1",
            "--quiet",
            "--out",
            arg(&out),
            "--set",
            "run.checkpoint_every=1",
        ];
        let set;
        if let Some(k) = keep {
            set = format!("run.checkpoint_keep={k}");
            args.extend(["--set", &set]);
        }
        microsim_ok(tmp.path(), &args);
        let rows = fs::read_to_string(out.join("steps.csv"))
            .unwrap()
            .lines()
            .count()
            - 1;
        (names_in(&out.join("checkpoints")), rows)
    };
    let (kept, rows) = steps(None);
    assert!(rows > 4, "the run has steps enough to pile up: {rows}");
    assert_eq!(kept.len(), 3, "three kept by default: {kept:?}");
    let newest = format!("step-{:06}.ckpt", rows - 1);
    assert!(
        kept.contains(&newest),
        "the newest ({newest}) is kept: {kept:?}"
    );
    let (kept, _) = steps(Some("1"));
    assert_eq!(kept, [newest], "one kept");
    let (kept, _) = steps(Some("100"));
    assert_eq!(kept.len(), rows - 1, "all kept: {kept:?}");
}
