//! Records the git commit the binary was built from, for the run manifest in summary.json
//! and `--version`.
fn main() {
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs/heads");
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok());
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    match commit {
        Some(commit) => {
            println!("cargo:rustc-env=MICROSIM_GIT_COMMIT={}", commit.trim());
            println!(
                "cargo:rustc-env=MICROSIM_VERSION_LINE={version} (commit {})",
                commit.trim()
            );
        }
        None => println!("cargo:rustc-env=MICROSIM_VERSION_LINE={version}"),
    }
}
