//! The limits the documents state are the code's: each claim below is found in its document
//! with the number the constant has, so changing a limit without its documents fails here.

use crate::experiment::registry::MAX_SCENARIO_BYTES;
use crate::experiment::scenario::sections::{MAX_SWEEP_FIELDS, MAX_VARIANTS};
use crate::experiment::step_log::StepLog;

const GUIDE: &str = include_str!("../../docs/guide.md");
const INTERNALS: &str = include_str!("../../docs/internals.md");

/// `n` with a comma between thousands, as the documents write numbers.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn says(doc: &str, name: &str, claim: &str) {
    // Documents wrap lines: compare with runs of white space as one space.
    let flat = doc.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains(claim), "{name} does not say \"{claim}\"");
}

#[test]
fn the_documents_state_the_limits_the_code_has() {
    assert_eq!(MAX_SCENARIO_BYTES % (1 << 20), 0);
    let mib = MAX_SCENARIO_BYTES >> 20;
    says(
        GUIDE,
        "docs/guide.md",
        &format!("a scenario is at most {mib} MiB"),
    );
    says(
        GUIDE,
        "docs/guide.md",
        &format!(
            "A sweep varies at most {MAX_SWEEP_FIELDS} fields into at most {} variants",
            grouped(MAX_VARIANTS)
        ),
    );
    says(
        INTERNALS,
        "docs/internals.md",
        &format!("past {} rows spilled", StepLog::IN_MEMORY),
    );
    says(
        INTERNALS,
        "docs/internals.md",
        &format!("spilled to disk past {}", StepLog::IN_MEMORY),
    );
}
