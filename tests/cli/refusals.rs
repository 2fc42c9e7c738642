//! Bad inputs: every file of the corpus in tests/bad_inputs/ and every bad command line must
//! be refused with exit code 2, a message naming what is wrong and where, and nothing written.

use std::path::Path;

use crate::common::files::names_in;
use crate::common::{bad_input, microsim, repo_path, small};

/// Said about no bad input: a panic, or a message that garbles serde's wording.
const NEVER: &[&str] = &["panicked", "RUST_BACKTRACE", "one of one of"];

/// A bad scenario file in tests/bad_inputs/; what stderr must say: the problem and where
/// (`file:line:column`, or `file:` where no position applies, and the field); and what it must
/// not say (misleading or internal wording).
struct FileCase {
    file: &'static str,
    expect: &'static [&'static str],
    forbid: &'static [&'static str],
}

const fn case(file: &'static str, expect: &'static [&'static str]) -> FileCase {
    FileCase {
        file,
        expect,
        forbid: &[],
    }
}

const fn case_not(
    file: &'static str,
    expect: &'static [&'static str],
    forbid: &'static [&'static str],
) -> FileCase {
    FileCase {
        file,
        expect,
        forbid,
    }
}

#[rustfmt::skip]
const FILE_CASES: &[FileCase] = &[
    // Not a TOML text at all.
    case("empty.toml", &["empty.toml:", "empty"]),
    case("comments_only.toml", &["comments_only.toml:", "[scenario]"]),
    case("binary_garbage.toml", &["binary_garbage.toml:3:1", "not a scenario file"]),
    case("invalid_utf8.toml", &["invalid_utf8.toml:4:12", "UTF-8"]),
    // TOML syntax.
    case("syntax_unclosed_table.toml", &["syntax_unclosed_table.toml:6:", "unclosed"]),
    case("syntax_unclosed_string.toml", &["syntax_unclosed_string.toml:4:", "string"]),
    case_not("syntax_missing_value.toml", &["syntax_missing_value.toml:7:9", "robots"], &["must be quoted"]),
    case("syntax_bare_word_value.toml", &["syntax_bare_word_value.toml:4:9", "quoted"]),
    case("duplicate_key.toml", &["duplicate_key.toml:8:1", "duplicate", "robots"]),
    case("duplicate_table.toml", &["duplicate_table.toml:9:", "duplicate", "model"]),
    case_not("integer_overflow.toml", &["integer_overflow.toml:7:10", "model.robots", "99999999999999999999"], &["i128", "any valid TOML value"]),
    // Unknown names.
    case("unknown_section.toml", &["unknown_section.toml:6:", "unknown section [modle]", "`model`"]),
    case("unknown_field_in_model.toml", &["unknown_field_in_model.toml:7:1", "`robts`", "[model]", "robots"]),
    case("unknown_field_in_run.toml", &["unknown_field_in_run.toml:10:3", "`sed`", "[run]", "seed"]),
    case("unknown_field_in_scenario.toml", &["unknown_field_in_scenario.toml:4:1", "`nmae`", "[scenario]", "name"]),
    case("unknown_field_in_montecarlo.toml", &["unknown_field_in_montecarlo.toml:7:1", "`replicatons`", "replications"]),
    case("unknown_model.toml", &["unknown_model.toml:5:1", "`musical_chair`", "scenario.model", "musical_chairs"]),
    // Missing or misshapen sections.
    case("missing_scenario_section.toml", &["missing_scenario_section.toml:", "[scenario]", "model"]),
    case("missing_model_name.toml", &["missing_model_name.toml:3:", "`model`", "scenario.model"]),
    case("model_name_not_string.toml", &["model_name_not_string.toml:4:1", "scenario.model", "string"]),
    case("scenario_not_table.toml", &["scenario_not_table.toml:2:", "scenario", "table"]),
    case_not("model_section_not_table.toml", &["model_section_not_table.toml:2:", "model", "table"], &["struct"]),
    // Wrong types.
    case("wrong_type_string_for_int.toml", &["wrong_type_string_for_int.toml:8:9", "model.width", "\"30\""]),
    case("wrong_type_float_for_int.toml", &["wrong_type_float_for_int.toml:7:10", "model.robots", "2.5"]),
    case("wrong_type_array_for_int.toml", &["wrong_type_array_for_int.toml:7:10", "model.height"]),
    case("bad_order_value.toml", &["bad_order_value.toml:7:9", "run.order", "`random`", "by_id", "shuffled"]),
    case_not("run_order_not_a_name.toml", &["run_order_not_a_name.toml:7:9", "run.order", "name in quotes", "\"by_id\" or \"shuffled\""], &["wanted string or table"]),
    case("bad_bool.toml", &["bad_bool.toml:7:14", "run.histograms", "true or false"]),
    case("output_dir_not_string.toml", &["output_dir_not_string.toml:7:7", "output.dir", "string"]),
    // Out of range.
    case("negative_robots.toml", &["negative_robots.toml:7:10", "model.robots", "-5"]),
    case("negative_seed.toml", &["negative_seed.toml:7:8", "run.seed", "-1"]),
    case("zero_robots.toml", &["zero_robots.toml:7:1", "model.robots", "too small"]),
    case("robots_too_many.toml", &["robots_too_many.toml:7:1", "model.robots", "too large"]),
    case("zero_width.toml", &["zero_width.toml:8:1", "model.width", "too small"]),
    case("width_too_large.toml", &["width_too_large.toml:8:1", "model.width", "too large"]),
    case("zero_rounds.toml", &["zero_rounds.toml:10:1", "model.rounds", "too small"]),
    case_not("rounds_over_u32.toml", &["rounds_over_u32.toml:7:10", "model.rounds", "5000000000"], &["without quotes"]),
    case("zero_replications.toml", &["zero_replications.toml:10:1", "montecarlo.replications", "too small"]),
    case("replications_too_many.toml", &["replications_too_many.toml:7:1", "montecarlo.replications", "too large"]),
    case("zero_shards.toml", &["zero_shards.toml:7:1", "run.shards", "too small"]),
    case("shards_more_than_cells.toml", &["shards_more_than_cells.toml:12:1", "run.shards", "more than the arena's 4 cells"]),
    case("arena_too_large.toml", &["arena_too_large.toml:9:1", "model.width", "more than the 17592186044416"]),
    case("shards_too_few_for_arena.toml", &["shards_too_few_for_arena.toml:12:1", "run.shards", "need at least 3"]),
    case("threads_too_many.toml", &["threads_too_many.toml:7:1", "run.threads", "too large"]),
    case("zero_quantum.toml", &["zero_quantum.toml:7:1", "run.quantum", "too small"]),
    case("zero_max_steps.toml", &["zero_max_steps.toml:7:1", "run.max_steps", "too small"]),
    case("name_with_slash.toml", &["name_with_slash.toml:4:1", "scenario.name", "../escape"]),
    case("name_empty.toml", &["name_empty.toml:4:1", "scenario.name"]),
    // Too big to run: refused from the estimate, before anything is allocated.
    case("huge_arena_over_memory.toml", &["huge_arena_over_memory.toml:", "memory", "--max-memory"]),
    // Numbers out of range say the number as written and the range accepted.
    case("negative_threads.toml", &["negative_threads.toml:7:11", "run.threads", "-1", "from 0 to 1024"]),
    case("negative_rounds.toml", &["negative_rounds.toml:7:10", "model.rounds", "-3", "from 0 to 4294967295"]),
    case_not("seed_over_i64.toml", &["seed_over_i64.toml:7:8", "run.seed", "too large: 9223372036854775808", "from 0 to 9223372036854775807"], &["u64 value was too large"]),
    // A name given explicitly is checked as written (one taken from the file name is made safe).
    case("name_with_space.toml", &["name_with_space.toml:4:1", "scenario.name", "\"my robots\""]),
    case("scenario_description_too_long.toml", &["scenario_description_too_long.toml:5:1", "scenario.description", "5000 characters", "1000"]),
    // Nesting past the parser's recursion limit: still a place and a field.
    case("deep_nested_array.toml", &["deep_nested_array.toml:7:89", "output.plots", "nested too deeply"]),
    case("deep_nested_inline_table.toml", &["deep_nested_inline_table.toml:7:", "model.items", "nested too deeply"]),
    case("deep_nested_grid_value.toml", &["deep_nested_grid_value.toml:7:", "field: sweep.grid", "nested too deeply"]),
    case_not("deep_dotted_key.toml", &["deep_dotted_key.toml:7:1", "model.a", "100 parts"], &["recursion limit"]),
    case_not("deep_table_header.toml", &["deep_table_header.toml:6:1", "model.a", "100 parts"], &["recursion limit"]),
    // [output]: checked against the file system before anything runs.
    case("output_dir_empty.toml", &["output_dir_empty.toml:7:1", "output.dir", "empty"]),
    case("output_dir_dev_null.toml", &["output_dir_dev_null.toml:7:1", "output.dir", "\"/dev/null\"", "not a directory"]),
    case("output_dir_is_a_file.toml", &["output_dir_is_a_file.toml:7:1", "output.dir", "\"/etc/passwd\"", "not a directory"]),
    case("output_dir_under_a_file.toml", &["output_dir_under_a_file.toml:7:1", "output.dir", "\"/etc/passwd\" is not a directory"]),
    case("output_dir_nul.toml", &["output_dir_nul.toml:7:1", "output.dir", "NUL"]),
    case("output_dir_too_long.toml", &["output_dir_too_long.toml:7:1", "output.dir", "2000 bytes", "1024"]),
    case("output_plots_repeated.toml", &["output_plots_repeated.toml:7:33", "output.plots", "`distribution` twice"]),
    // Sweep sizes: bounded before anything is expanded, counted without overflow.
    case_not("sweep_grid_too_many_fields.toml", &["sweep_grid_too_many_fields.toml:10:8", "field: sweep.grid", "64 fields", "16"], &["attempt to multiply"]),
    case_not("sweep_grid_count_overflow.toml", &["sweep_grid_count_overflow.toml:10:8", "field: sweep.grid", "over 18446744073709551615 variants", "100000"], &["attempt to multiply"]),
    case("sweep_grid_times_sample_too_many.toml", &["sweep_grid_times_sample_too_many.toml:11:1", "sweep.sample.count", "1000 grid points × 1000 samples", "1000000 variants"]),
    case("sweep_grid_many_keys.toml", &["sweep_grid_many_keys.toml:10:8", "field: sweep.grid", "3000 fields"]),
    case("sweep_sample_many_ranges.toml", &["sweep_sample_many_ranges.toml:13:15", "field: sweep.sample.ranges", "300 fields"]),
    case("sweep_compare_repeated.toml", &["sweep_compare_repeated.toml:11:41", "sweep.compare", "`bins_empty` twice"]),
    // Sampled ranges: exactly [low, high], finite, low ≤ high.
    case("sweep_range_three_numbers.toml", &["sweep_range_three_numbers.toml:12:37", "sweep.sample.ranges", "`model.items` has 3 values", "[low, high]"]),
    case_not("sweep_range_one_number.toml", &["sweep_range_one_number.toml:14:1", "sweep.sample.ranges", "1 value"], &["invalid length"]),
    case("sweep_range_not_numbers.toml", &["sweep_range_not_numbers.toml:8:31", "sweep.sample.ranges", "not numeric", "\"uniform\""]),
    case("sweep_range_reversed.toml", &["sweep_range_reversed.toml:8:12", "sweep.sample.ranges", "[2.0, 0.5]", "low end is above"]),
    case("sweep_range_infinite.toml", &["sweep_range_infinite.toml:8:35", "sweep.sample.ranges", "not finite: inf"]),
    // What a sweep may vary: [model] and [run] (but the seed).
    case("sweep_grid_over_sweep.toml", &["sweep_grid_over_sweep.toml:11:1", "field: sweep.grid", "`sweep.baseline`", "model.KEY"]),
    case("sweep_grid_over_sweep_grid.toml", &["sweep_grid_over_sweep_grid.toml:12:1", "field: sweep.grid", "`sweep.grid`"]),
    case("sweep_grid_over_scenario.toml", &["sweep_grid_over_scenario.toml:11:1", "field: sweep.grid", "`scenario.name`"]),
    case("sweep_grid_over_model_name.toml", &["sweep_grid_over_model_name.toml:11:1", "field: sweep.grid", "`scenario.model`", "one model"]),
    case("sweep_grid_over_output.toml", &["sweep_grid_over_output.toml:11:1", "field: sweep.grid", "`output.dir`", "variants/NNN/"]),
    case("sweep_grid_over_replications.toml", &["sweep_grid_over_replications.toml:11:1", "field: sweep.grid", "`montecarlo.replications`", "replication r with replication r", "microsim compare"]),
    case("sweep_sample_over_confidence.toml", &["sweep_sample_over_confidence.toml:12:12", "field: sweep.sample.ranges", "`montecarlo.confidence`"]),
    case("sweep_grid_over_seed.toml", &["sweep_grid_over_seed.toml:11:1", "field: sweep.grid", "`run.seed`", "common_random_numbers = false"]),
    case("sweep_grid_unknown_section.toml", &["sweep_grid_unknown_section.toml:11:1", "field: sweep.grid", "unknown section [modle]"]),
    case("sweep_grid_whole_section.toml", &["sweep_grid_whole_section.toml:11:1", "field: sweep.grid", "`model`", "section.key"]),
    case("sweep_grid_bad_key.toml", &["sweep_grid_bad_key.toml:11:1", "field: sweep.grid", "`model..items`", "section.key"]),
    case("sweep_field_in_grid_and_sample.toml", &["sweep_field_in_grid_and_sample.toml:15:12", "sweep.sample.ranges", "both in [sweep.grid]"]),
    case("sweep_target_with_common_random_numbers.toml", &["sweep_target_with_common_random_numbers.toml:13:1", "montecarlo.target", "common random numbers", "first replications"]),
    // A variant that fails: the value in [sweep.grid] (or the range) that produced it.
    case("sweep_variant_out_of_range.toml", &["sweep_variant_out_of_range.toml:11:31", "variant 1 (model.keep_fraction=1.5)", "field: model.keep_fraction", "not a probability"]),
    case("sweep_variant_wrong_type.toml", &["sweep_variant_wrong_type.toml:12:5", "variant 1 (model.items=\"many\")", "field: model.items", "whole number"]),
    case("sweep_variant_unknown_field.toml", &["sweep_variant_unknown_field.toml:11:18", "variant 0", "field: model.itmes", "`itmes`", "items"]),
    case("sweep_variant_bad_set_path.toml", &["sweep_variant_bad_set_path.toml:11:20", "variant 0", "field: model.items", "not a section"]),
    case("sweep_sample_variant_out_of_range.toml", &["sweep_sample_variant_out_of_range.toml:12:12", "variant 2 (model.keep_fraction=", "field: model.keep_fraction", "not a probability"]),
    case("sweep_variant_shards_over_cells.toml", &["sweep_variant_shards_over_cells.toml:12:1", "variant 1 (model.width=2)", "field: run.shards", "more than the arena's 4 cells"]),
];

#[test]
fn every_bad_file_is_refused_with_file_line_column_and_field() {
    let on_disk = names_in(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_inputs"));
    let mut in_table: Vec<&str> = FILE_CASES.iter().map(|c| c.file).collect();
    in_table.sort();
    in_table.dedup();
    assert_eq!(in_table.len(), FILE_CASES.len(), "a file is listed twice");
    assert_eq!(
        on_disk, in_table,
        "every file in tests/bad_inputs/ has a case, and every case a file"
    );
    assert!(
        FILE_CASES.len() >= 30,
        "the corpus has only {} cases",
        FILE_CASES.len()
    );

    let mut failures = Vec::new();
    for c in FILE_CASES {
        for sub in ["run", "check"] {
            let tmp = tempfile::tempdir().unwrap();
            let done = microsim(tmp.path(), &[sub, &bad_input(c.file)]);
            let wrong = done.refusal_problems(c.expect, &[NEVER, c.forbid].concat(), tmp.path());
            if !wrong.is_empty() {
                failures.push(format!(
                    "{sub} {}: {}\n  {}",
                    c.file,
                    wrong.join("; "),
                    done.stderr.trim_end()
                ));
            }
        }
    }
    let total = FILE_CASES.len() * 2;
    assert!(
        failures.is_empty(),
        "{} of {total} refusals are wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A bad command line: `{S}` stands for the small scenario, `{B}` for a directory, `{R3}` for
/// the bad input with a range of three numbers.
struct ArgCase {
    name: &'static str,
    args: &'static [&'static str],
    expect: &'static [&'static str],
    forbid: &'static [&'static str],
}

const fn cmd(
    name: &'static str,
    args: &'static [&'static str],
    expect: &'static [&'static str],
) -> ArgCase {
    ArgCase {
        name,
        args,
        expect,
        forbid: &[],
    }
}

const fn cmd_not(
    name: &'static str,
    args: &'static [&'static str],
    expect: &'static [&'static str],
    forbid: &'static [&'static str],
) -> ArgCase {
    ArgCase {
        name,
        args,
        expect,
        forbid,
    }
}

#[rustfmt::skip]
const ARG_CASES: &[ArgCase] = &[
    cmd("missing_file", &["run", "no_such_file.toml"], &["no_such_file.toml", "cannot read"]),
    cmd("missing_file_check", &["check", "no_such_file.toml"], &["no_such_file.toml", "cannot read"]),
    cmd("directory_not_file", &["run", "{B}"], &["bad_inputs", "directory"]),
    cmd("no_file_given", &["run"], &["<FILE>"]),
    cmd("set_without_equals", &["run", "{S}", "--set", "model.robots"], &["--set model.robots", "="]),
    cmd("set_without_section", &["run", "{S}", "--set", "robots=5"], &["--set robots=5", "section.key"]),
    cmd("set_empty_value", &["run", "{S}", "--set", "model.robots="], &["--set model.robots=", "value"]),
    cmd("set_not_a_number", &["run", "{S}", "--set", "model.robots=abc"], &["--set model.robots=abc", "model.robots", "abc"]),
    cmd("set_negative", &["run", "{S}", "--set", "model.robots=-1"], &["--set model.robots=-1", "model.robots", "-1"]),
    cmd("set_zero_robots", &["run", "{S}", "--set", "model.robots=0"], &["--set model.robots=0", "model.robots", "too small"]),
    cmd("set_unknown_field", &["run", "{S}", "--set", "model.robts=5"], &["--set model.robts=5", "`robts`", "robots"]),
    cmd("set_bad_order", &["run", "{S}", "--set", "run.order=sideways"], &["--set run.order=sideways", "`sideways`", "by_id"]),
    cmd("set_into_a_value", &["run", "{S}", "--set", "model.robots.x=5"], &["--set model.robots.x=5", "model.robots"]),
    cmd("set_unknown_model", &["run", "{S}", "--set", "scenario.model=nope"], &["--set scenario.model=nope", "`nope`", "musical_chairs"]),
    cmd("set_on_check", &["check", "{S}", "--set", "model.width=0"], &["--set model.width=0", "model.width", "too small"]),
    cmd("threads_too_many", &["run", "{S}", "--threads", "5000"], &["run.threads", "5000"]),
    cmd("replications_zero", &["run", "{S}", "--replications", "0"], &["montecarlo.replications", "too small"]),
    cmd("replication_out_of_range", &["run", "{S}", "--replication", "25"], &["--replication", "25"]),
    cmd("seed_not_a_number", &["run", "{S}", "--seed", "abc"], &["--seed", "abc"]),
    cmd("max_memory_not_a_size", &["run", "{S}", "--max-memory", "banana"], &["--max-memory banana", "not a size"]),
    cmd("max_memory_too_small", &["run", "{S}", "--max-memory", "1K"], &["musical_chairs_small.toml", "memory", "1.0 KiB"]),
    cmd("max_memory_too_small_check", &["check", "{S}", "--max-memory", "1K"], &["musical_chairs_small.toml", "memory"]),
    cmd("unknown_subcommand", &["frobnicate"], &["frobnicate"]),
    cmd("unknown_flag", &["run", "{S}", "--frob"], &["--frob"]),
    cmd("new_unknown_model", &["new", "bogus", "x.toml"], &["`bogus`", "musical_chairs"]),
    cmd("new_into_missing_directory", &["new", "musical_chairs", "no/such/dir/x.toml"], &["no/such/dir/x.toml"]),
    // Numbers beyond TOML's integers: the number as given and the field's range, never a
    // wrapped negative.
    cmd_not("threads_u64_max", &["run", "{S}", "--threads", "18446744073709551615"], &["--threads 18446744073709551615", "run.threads", "too large: 18446744073709551615", "from 0 to 1024"], &["-1"]),
    cmd_not("seed_over_i64", &["run", "{S}", "--seed", "9223372036854775808"], &["--seed 9223372036854775808", "run.seed", "too large: 9223372036854775808", "from 0 to 9223372036854775807"], &["-9223372036854775808"]),
    cmd_not("replications_u64_max", &["check", "{S}", "--set", "montecarlo.replications=18446744073709551615"], &["--set montecarlo.replications=18446744073709551615", "too large: 18446744073709551615", "from 1 to 10000000"], &["invalid type"]),
    cmd_not("set_seed_over_i64", &["run", "{S}", "--set", "run.seed=9223372036854775808"], &["--set run.seed=9223372036854775808", "run.seed", "too large: 9223372036854775808", "from 0 to 9223372036854775807"], &["invalid type"]),
    cmd("set_threads_negative", &["run", "{S}", "--set", "run.threads=-1"], &["--set run.threads=-1", "cannot be negative: -1", "from 0 to 1024"]),
    // An override's error names the file it was applied to.
    cmd("set_names_the_file", &["run", "{S}", "--set", "model.robots=0"], &["musical_chairs_small.toml: --set model.robots=0", "model.robots"]),
    cmd("set_output_dir_empty", &["run", "{S}", "--set", "output.dir=\"\""], &["--set output.dir=\"\"", "output.dir", "empty"]),
    // A file's own error is not blamed on an override that came with it.
    cmd_not("set_with_bad_range", &["check", "{R3}", "--set", "run.seed=3"], &["sweep_range_three_numbers.toml:12:37", "sweep.sample.ranges", "3 values"], &["--set run.seed", "invalid length"]),
    // A sweep given on the command line: its variant's error names that override.
    cmd("set_sweep_grid", &["check", "{S}", "--set", "sweep.grid={\"model.robots\" = [0]}"], &["musical_chairs_small.toml: --set sweep.grid=", "variant 0 (model.robots=0)", "field: model.robots", "too small"]),
];

#[test]
fn every_bad_command_line_is_refused() {
    let (small, dir) = (small(), repo_path("tests/bad_inputs"));
    let range = bad_input("sweep_range_three_numbers.toml");
    let expand = |a: &&'static str| match *a {
        "{S}" => small.as_str(),
        "{B}" => dir.as_str(),
        "{R3}" => range.as_str(),
        other => other,
    };
    let mut failures = Vec::new();
    for c in ARG_CASES {
        let tmp = tempfile::tempdir().unwrap();
        let done = microsim(tmp.path(), &c.args.iter().map(expand).collect::<Vec<_>>());
        let wrong = done.refusal_problems(c.expect, &[NEVER, c.forbid].concat(), tmp.path());
        if !wrong.is_empty() {
            failures.push(format!(
                "{}: {}\n  {}",
                c.name,
                wrong.join("; "),
                done.stderr.trim_end()
            ));
        }
    }
    let total = ARG_CASES.len();
    assert!(
        failures.is_empty(),
        "{} of {total} refusals are wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
