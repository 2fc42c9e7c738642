//! The peers beside microsim: the comparison's own Mesa code run in the same process tree
//! (`scripts/abm_peers.sh`), the published table's ratios for the rest, and lines of code
//! counted as the comparison counts them.

use std::process::Command;

/// The comparison's published table (its README, Agents.jl 6.2.10 = 1): the time of Ark.jl
/// 0.4.0 and of Mesa 3.2.0, relative to Agents.jl, per model and size.
const PUBLISHED: &[(&str, f64, f64)] = &[
    ("WolfSheep-small", 0.34, 9.38),
    ("WolfSheep-large", 0.14, 3.28),
    ("Flocking-small", 0.73, 159.29),
    ("Flocking-large", 0.36, 59.5),
    ("Schelling-small", 0.61, 29.73),
    ("Schelling-large", 0.59, 26.66),
];

/// The model files, and where their registration for the command line (`impl ModelParams`,
/// not part of what the comparison counts) begins.
const MODELS: &[(&str, &str)] = &[
    ("WolfSheep", "src/models/wolf_sheep.rs"),
    ("Flocking", "src/models/flocking.rs"),
    ("Schelling", "src/models/schelling.rs"),
    ("ForestFire", "src/models/forest_fire.rs"),
];

/// Lines of code as the comparison counts them (cloc's "code": neither blank nor comment),
/// for the model (everything before `impl ModelParams`) and with its command-line
/// registration.
pub fn lines_of_code() {
    println!("lines of code (non-blank, non-comment): model / with its [model] section and checks");
    for (name, file) in MODELS {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let code = |t: &str| {
            t.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with("//"))
                .count()
        };
        let model = text.split("impl ModelParams").next().unwrap_or("");
        println!("microsim {name} (lines): {} / {}", code(model), code(&text));
    }
    println!();
}

/// Runs the comparison's Mesa benchmarks (a checkout at `checkout`) and prints them beside
/// `ours`, with the ratios Mesa / microsim and, inferred through the published table, the
/// ratios to Agents.jl and Ark.jl.
pub fn beside_mesa(checkout: &str, ours: &[(&str, f64)]) {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/abm_peers.sh");
    println!("running the comparison's Mesa code ({})…", script.display());
    let out = match Command::new(&script).arg(checkout).output() {
        Ok(out) => out,
        Err(e) => {
            println!("could not run {}: {e}", script.display());
            return;
        }
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let mesa: Vec<(String, f64)> = text
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("Mesa ")?;
            let (name, ms) = rest.split_once(" (ms): ")?;
            Some((name.to_string(), ms.trim().parse().ok()?))
        })
        .collect();
    if mesa.is_empty() {
        println!(
            "no Mesa figures came back:\n{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    println!();
    println!(
        "{:<18} {:>12} {:>12} {:>11} {:>16} {:>16}",
        "model", "Mesa (ms)", "microsim", "Mesa/ours", "ours/Agents.jl*", "ours/Ark.jl*"
    );
    for (name, ms) in ours {
        let Some((_, m)) = mesa.iter().find(|(n, _)| n == name) else {
            continue;
        };
        let ratio = m / ms;
        let published = PUBLISHED.iter().find(|p| p.0 == *name);
        let (agents, ark) = published.map_or((String::new(), String::new()), |&(_, ark, mesa)| {
            let vs_agents = mesa / ratio; // ours / Agents.jl = (Mesa / Agents.jl) / (Mesa / ours)
            (format!("{vs_agents:.3}"), format!("{:.3}", vs_agents / ark))
        });
        println!("{name:<18} {m:>12.2} {ms:>12.4} {ratio:>10.1}x {agents:>16} {ark:>16}");
    }
    println!(
        "* inferred through the comparison's published table (Agents.jl 6.2.10 = 1; Ark.jl 0.4.0; Mesa 3.2.0)"
    );
}
