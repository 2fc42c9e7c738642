//! The layers' dependencies point one way: engine → experiment → plot and live → cli, and the built-in
//! models use only the public API (what a model outside the crate can use). Checked on the
//! source text: a `crate::` path in code (not in comments or docs) that points up, or a model
//! reaching into a private module, fails the test and names the file and line. Unit tests (a
//! file's `#[cfg(test)]` part) may use anything. No source file is over 800 lines.

use std::path::Path;

fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            out.push((path.display().to_string(), text));
        }
    }
}

/// Every `crate::…` path used in code by the files under `src/<layer>`: (file:line, path).
fn uses(layer: &str) -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root.join(layer), &mut files);
    let top = root.join(format!("{layer}.rs"));
    if top.is_file() {
        files.push((
            top.display().to_string(),
            std::fs::read_to_string(&top).unwrap(),
        ));
    }
    let mut out = Vec::new();
    for (file, text) in files {
        // Unit tests (at the bottom of a file, by convention) may use anything.
        let code_part = text.split("#[cfg(test)]").next().unwrap_or("");
        for (n, line) in code_part.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            for (i, _) in code.match_indices("crate::") {
                let path: String = code[i..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                out.push((format!("{file}:{}", n + 1), path));
            }
        }
    }
    out
}

fn forbid(layer: &str, above: &[&str]) -> Vec<String> {
    uses(layer)
        .into_iter()
        .filter(|(_, path)| {
            above
                .iter()
                .any(|a| path.starts_with(&format!("crate::{a}")))
        })
        .map(|(at, path)| format!("{at}: {layer} uses {path}"))
        .collect()
}

#[test]
fn the_engine_knows_nothing_of_experiments_plots_or_the_command_line() {
    let wrong = forbid("engine", &["experiment", "plot", "cli", "models", "live"]);
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn the_experiment_layer_knows_nothing_of_plots_or_the_command_line() {
    let wrong = forbid("experiment", &["plot", "cli", "models", "live"]);
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn the_live_view_knows_nothing_of_plots_or_the_command_line() {
    let wrong = forbid("live", &["plot", "cli", "models"]);
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn plots_know_nothing_of_the_command_line() {
    let wrong = forbid("plot", &["cli", "models"]);
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn the_built_in_models_use_only_the_public_api() {
    let wrong = forbid(
        "models",
        &["engine", "experiment", "internal", "cli", "plot"],
    );
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn no_source_file_is_longer_than_800_lines() {
    // A file that grows past this has more than one subject: split it by subject (as
    // `output/atomic.rs`, `runner/ranks.rs` and `snapshot/pieces.rs` were).
    const MAX_LINES: usize = 800;
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    assert!(files.len() > 50, "found {} source files", files.len());
    let long: Vec<String> = files
        .iter()
        .map(|(file, text)| (file, text.lines().count()))
        .filter(|(_, n)| *n > MAX_LINES)
        .map(|(file, n)| format!("{file}: {n} lines"))
        .collect();
    assert!(
        long.is_empty(),
        "over {MAX_LINES} lines:\n{}",
        long.join("\n")
    );
}
