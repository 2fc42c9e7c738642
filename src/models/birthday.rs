//! The birthday problem (and the occupancy counts of the coupon collector) on the engine's
//! cells: among `people` people with uniformly random birthdays over `days` days, how likely
//! is it that two share one? With the classic 23 people and 365 days it is about 0.507.
//!
//! Every person is a task and every day is a cell of a `days × 1` arena. In step 0 a person
//! draws a day uniformly (`random_range(0..days)` on the task's stream of step 0) and sends
//! [`Msg::Arrive`] to that day's cell, then waits. The cell, in step 1, counts the arrival and
//! answers [`Msg::Before`] with how many people arrived there before (in delivery order: the
//! lower id first, or the seeded priority under `shuffled`), so a person told more than 0
//! knows their birthday is shared. In step 2 each person reads the answer and finishes; a run
//! takes three steps.
//!
//! # Metrics
//! - `shared_days`: days with at least two people;
//! - `people_sharing`: people whose day has at least two people;
//! - `any_shared`: 1 if some day has at least two people, else 0, so its mean over
//!   replications estimates `P(shared)`;
//! - `max_per_day`: the most people on one day;
//! - `days_empty`: days with nobody.
//!
//! The `people_per_day` histogram has one entry per day (its value: the people born that day),
//! merged across replications. The counters are `arrivals` (people reaching their day's cell)
//! and `repeat_arrivals` (those who found someone there before them, i.e. were told they
//! share); within a replication `repeat_arrivals = people_sharing − shared_days`.
//!
//! # Analytic answers
//! With `n` people, `d` days and `q = 1 − 1/d` ([`p_any_shared`], [`expected_days_empty`],
//! [`expected_shared_days`], [`expected_people_sharing`], all in `details` as well):
//! - `P(any shared) = 1 − Π_{i<n} (1 − i/d)` (1 when `n > d`);
//! - `E[days_empty] = d · q^n`;
//! - `E[shared_days] = d · (1 − q^n − (n/d) · q^(n−1))`;
//! - `E[people_sharing] = n · (1 − q^(n−1))`.
//!
//! # Counts cannot overflow
//! A day holds at most `people ≤ u32::MAX` people, and a day's index is below `days ≤ 2³²`,
//! so both are `u32`.

use rand::RngExt;
use serde::{Deserialize, Serialize};

use crate::{CellBlock, Codec, Expected};
use crate::{
    CellCtx, Checks, Counter, Ctx, End, Grid, Mail, Metric, Model, ModelParams, Next, Quantity,
    Report, TaskId, TaskRng, histogram, prefetch_read,
};

/// The largest `people` (task ids are `u32`).
pub const MAX_PEOPLE: u64 = u32::MAX as u64;
/// The largest `days` (2³²: a day's index is a `u32`, and 4 bytes of count per day).
pub const MAX_DAYS: u64 = 1 << 32;

/// The model's parameters (`[model]` in a scenario).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// People (tasks), `1 ..= MAX_PEOPLE`.
    pub people: u64,
    /// Days in the year (cells), `1 ..= MAX_DAYS`.
    pub days: u64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            people: 23,
            days: 365,
        }
    }
}

/// A person: the birthday drawn, and what the day's cell answered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// The day drawn, `0 .. days` (meaningful once the person has run).
    pub day: u32,
    /// How many people reached the same day before this one; `None` until the answer came.
    pub before: Option<u32>,
}

impl Person {
    /// Whether this person was told that someone else has the same birthday. Only the later
    /// arrivals on a shared day are told so; the first learns nothing.
    pub fn told_shared(&self) -> bool {
        self.before.is_some_and(|b| b > 0)
    }
}

/// Messages between people and days.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Msg {
    /// A person born on the destination day.
    Arrive,
    /// The day's answer: how many people arrived there before the one answered.
    Before(u32),
}

/// One shard's days: the people born on each of its cells, by offset in the shard's block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Days {
    /// People per day.
    pub counts: Vec<u32>,
}

impl CellBlock for Days {
    fn split_off(&mut self, _len: u64, at: u64) -> Self {
        let at = (at as usize).min(self.counts.len());
        Days {
            counts: self.counts.split_off(at),
        }
    }
    fn append(&mut self, _len: u64, mut next: Self) {
        self.counts.append(&mut next.counts);
    }
}

/// The model's per-step counters.
pub const COUNTERS: &[Quantity] = &[
    Quantity::new("arrivals", "people").about("people who reached their day's cell"),
    Quantity::new("repeat_arrivals", "people")
        .about("arrivals at a day someone had reached before"),
];
const ARRIVALS: Counter = Counter::named(COUNTERS, "arrivals");
const REPEATS: Counter = Counter::named(COUNTERS, "repeat_arrivals");

/// The model's metrics.
pub const METRICS: &[Quantity] = &[
    Quantity::count("shared_days", "days").about("days with two people or more"),
    Quantity::count("people_sharing", "people").about("people whose day has two people or more"),
    Quantity::share("any_shared", "").about("1 if some day has two people or more, else 0"),
    Quantity::count("max_per_day", "people").about("the most people on one day"),
    Quantity::count("days_empty", "days").about("days with nobody"),
];
/// The `shared_days` metric.
pub const SHARED_DAYS: Metric = Metric::named(METRICS, "shared_days");
/// The `people_sharing` metric.
pub const PEOPLE_SHARING: Metric = Metric::named(METRICS, "people_sharing");
/// The `any_shared` metric.
pub const ANY_SHARED: Metric = Metric::named(METRICS, "any_shared");
/// The `max_per_day` metric.
pub const MAX_PER_DAY: Metric = Metric::named(METRICS, "max_per_day");
/// The `days_empty` metric.
pub const DAYS_EMPTY: Metric = Metric::named(METRICS, "days_empty");

/// `q^m` with `q = 1 − p`, computed as `exp(m · ln(1 − p))` (`ln_1p`), so that `q` close to 1
/// loses nothing to rounding; `q^0 = 1` even for `p = 1`.
fn q_pow(p: f64, m: f64) -> f64 {
    if m == 0.0 {
        1.0
    } else if p >= 1.0 {
        0.0
    } else {
        (m * (-p).ln_1p()).exp()
    }
}

/// `P(any shared) = 1 − Π_{i<n} (1 − i/d)`: the probability that among `people` uniform
/// birthdays over `days` days at least two coincide (0.5072972… for 23 and 365).
///
/// Computed in log space, `1 − exp(Σ ln(1 − i/d))` with `ln_1p` and `expm1`, so that it is
/// accurate when the answer is tiny (`n ≪ √d`) as well as near 1. The sum stops once the
/// product is below 2⁻⁶⁰ (the answer is then 1 to double precision), so it takes at most about
/// `√(83 d)` terms whatever `people` is. Pigeonhole: 1 when `people > days`; 0 for `days = 0`
/// (no birthday can be drawn) or fewer than two people.
pub fn p_any_shared(people: u64, days: u64) -> f64 {
    if people < 2 || days == 0 {
        return 0.0;
    }
    if people > days {
        return 1.0;
    }
    let d = days as f64;
    let mut log_none = 0.0f64;
    for i in 1..people {
        log_none += (-(i as f64) / d).ln_1p();
        if log_none < -60.0 * std::f64::consts::LN_2 {
            return 1.0;
        }
    }
    -log_none.exp_m1()
}

/// `E[days_empty] = d · (1 − 1/d)^n`: the expected days nobody was born on.
pub fn expected_days_empty(people: u64, days: u64) -> f64 {
    if days == 0 {
        return 0.0;
    }
    days as f64 * q_pow(1.0 / days as f64, people as f64)
}

/// `E[shared_days] = d · (1 − q^n − (n/d) · q^(n−1))` with `q = 1 − 1/d`: the expected days
/// with at least two people, `d · P(Binomial(n, 1/d) ≥ 2)`.
///
/// The formula cancels badly when `n/d` is small (for 2 people and 2³² days both subtracted
/// terms are `≈ 2/d` and the answer is `1/d`), so there the tail `Σ_{k≥2} P(X = k)` is summed
/// instead, by the recurrence `P(k) = P(k−1) · (n−k+1)/k · p/(1−p)`; it converges
/// geometrically while `n/d ≤ 1`. Above that the formula is used, and the answer is
/// `≥ 0.26 d`, so nothing cancels.
pub fn expected_shared_days(people: u64, days: u64) -> f64 {
    if days == 0 || people < 2 {
        return 0.0;
    }
    let (n, d) = (people as f64, days as f64);
    let p = 1.0 / d;
    if n * p > 1.0 || p >= 1.0 {
        return d * (1.0 - q_pow(p, n) - n * p * q_pow(p, n - 1.0)).max(0.0);
    }
    let ratio = p / (1.0 - p);
    // P(X = 1), then P(X = k) for k = 2, 3, … until the terms stop counting.
    let mut term = n * p * q_pow(p, n - 1.0);
    let mut tail = 0.0;
    let mut k = 2.0;
    while k <= n {
        term *= (n - k + 1.0) / k * ratio;
        tail += term;
        if term <= tail * 1e-18 {
            break;
        }
        k += 1.0;
    }
    d * tail
}

/// `E[people_sharing] = n · (1 − (1 − 1/d)^(n−1))`: a person shares their day unless all
/// `n − 1` others miss it.
pub fn expected_people_sharing(people: u64, days: u64) -> f64 {
    if days == 0 || people < 2 {
        return 0.0;
    }
    let (n, p) = (people as f64, 1.0 / days as f64);
    // 1 − q^(n−1) = −expm1((n−1) ln(1 − p)), accurate when it is small.
    let miss = if p >= 1.0 {
        1.0
    } else {
        -((n - 1.0) * (-p).ln_1p()).exp_m1()
    };
    n * miss
}

/// The birthday model.
#[derive(Clone, Debug)]
pub struct Birthday {
    params: Params,
    grid: Grid,
}

impl Birthday {
    /// A model with these (checked) parameters.
    pub fn new(params: Params) -> Self {
        Birthday {
            grid: Grid::new(params.days, 1),
            params,
        }
    }

    /// The parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// [`p_any_shared`] for these parameters.
    pub fn p_any_shared(&self) -> f64 {
        p_any_shared(self.params.people, self.params.days)
    }

    /// [`expected_days_empty`] for these parameters.
    pub fn expected_days_empty(&self) -> f64 {
        expected_days_empty(self.params.people, self.params.days)
    }

    /// [`expected_shared_days`] for these parameters.
    pub fn expected_shared_days(&self) -> f64 {
        expected_shared_days(self.params.people, self.params.days)
    }

    /// [`expected_people_sharing`] for these parameters.
    pub fn expected_people_sharing(&self) -> f64 {
        expected_people_sharing(self.params.people, self.params.days)
    }
}

impl Model for Birthday {
    type Task = Person;
    type Msg = Msg;
    type Cells = Days;

    const COUNTERS: &'static [Quantity] = COUNTERS;
    const METRICS: &'static [Quantity] = METRICS;
    const HISTOGRAMS: &'static [Quantity] =
        &[Quantity::new("people_per_day", "days").about("people born on the day")];

    fn tasks(&self) -> u64 {
        self.params.people
    }

    fn grid(&self) -> Option<Grid> {
        Some(self.grid)
    }

    fn spawn(&self, _id: TaskId, _rng: &mut TaskRng) -> Person {
        Person::default()
    }

    fn cells(&self, range: std::ops::Range<u64>, _shards: usize) -> Days {
        Days {
            counts: vec![0; (range.end - range.start) as usize],
        }
    }

    fn codec(&self) -> Option<Codec<Msg, Days>> {
        Some(Codec::new())
    }

    fn reset_cells(&self, days: &mut Days, range: std::ops::Range<u64>, _shards: usize) {
        days.counts.clear();
        days.counts.resize((range.end - range.start) as usize, 0);
    }

    #[inline]
    fn step(&self, person: &mut Person, mail: &[Mail<Msg>], ctx: &mut Ctx<'_, Msg>) -> Next {
        if ctx.step() == 0 {
            let day = ctx.rng().random_range(0..self.params.days);
            person.day = day as u32;
            ctx.send_to_cell(day, Msg::Arrive);
            return Next::Wait;
        }
        // A waiting person runs only on mail, and the one arrival gets exactly one answer.
        debug_assert_eq!(mail.len(), 1);
        match mail.first().map(|m| m.msg) {
            Some(Msg::Before(b)) => {
                person.before = Some(b);
                Next::Done
            }
            _ => Next::Wait,
        }
    }

    #[inline(always)]
    fn prefetch_cell(&self, days: &Days, offset: usize) {
        if let Some(count) = days.counts.get(offset) {
            prefetch_read(count);
        }
    }

    #[inline]
    fn on_cell(&self, days: &mut Days, mail: Mail<Msg>, ctx: &mut CellCtx<'_, Msg>) {
        debug_assert_eq!(mail.msg, Msg::Arrive);
        let count = &mut days.counts[ctx.offset()];
        let before = *count;
        *count += 1;
        ctx.count(ARRIVALS, 1);
        if before > 0 {
            ctx.count(REPEATS, 1);
        }
        ctx.send_to_task(mail.from, Msg::Before(before));
    }

    fn report(&self, end: &End<'_, Self>) -> Report {
        // tally[c] = days with c people.
        let mut tally: Vec<u64> = vec![0; 3];
        for days in end.cells() {
            for &c in &days.counts {
                let c = c as usize;
                if c >= tally.len() {
                    tally.resize(c + 1, 0);
                }
                tally[c] += 1;
            }
        }
        let max_per_day = tally.iter().rposition(|&n| n > 0).unwrap_or(0);
        let mut per_day = histogram(self.params.people);
        for (c, &n) in tally.iter().enumerate() {
            if n > 0 {
                per_day.saturating_record_n(c as u64, n);
            }
        }
        let shared_days: u64 = tally[2..].iter().sum();
        let people_sharing: u64 = tally
            .iter()
            .enumerate()
            .skip(2)
            .map(|(c, &n)| c as u64 * n)
            .sum();
        let mut report = end.report();
        report
            .set(SHARED_DAYS, shared_days as f64)
            .set(PEOPLE_SHARING, people_sharing as f64)
            .set(ANY_SHARED, (shared_days > 0) as u8 as f64)
            .set(MAX_PER_DAY, max_per_day as f64)
            .set(DAYS_EMPTY, tally[0] as f64)
            .histogram("people_per_day", per_day)
            .details(serde_json::json!({
                "p_any_shared": self.p_any_shared(),
                "expected_days_empty": self.expected_days_empty(),
                "expected_shared_days": self.expected_shared_days(),
                "expected_people_sharing": self.expected_people_sharing(),
                "expected_note": "analytic values for uniform birthdays: p_any_shared = \
                    1 - prod_{i<n} (1 - i/d); expected_days_empty = d (1 - 1/d)^n; \
                    expected_shared_days = d (1 - (1-1/d)^n - n/d (1-1/d)^(n-1)); \
                    expected_people_sharing = n (1 - (1-1/d)^(n-1))",
                "arrivals": end.total(ARRIVALS),
                "repeat_arrivals": end.total(REPEATS),
            }));
        report
    }

    /// Every metric but `max_per_day` from its formula, and the `people_per_day` histogram's
    /// days with 0, 1, 2 … people: `d · P(Binomial(n, 1/d) = k)`.
    fn expected(&self) -> Expected {
        let (n, d) = (self.params.people, self.params.days);
        let most = n.min(40) as usize;
        let pmf = crate::models::gift_lottery::binomial_pmf(n as f64, 1.0 / d as f64, most);
        let days: Vec<(u64, f64)> = (0..).zip(pmf.iter().map(|p| p * d as f64)).collect();
        Expected::new()
            .metric(ANY_SHARED, self.p_any_shared())
            .metric(DAYS_EMPTY, self.expected_days_empty())
            .metric(SHARED_DAYS, self.expected_shared_days())
            .metric(PEOPLE_SHARING, self.expected_people_sharing())
            .histogram("people_per_day", days)
    }

    fn messages_per_step(&self, _quantum: u32) -> u64 {
        // Step 1 carries every answer; no step carries more than one message per person.
        self.params.people
    }

    fn estimate_bytes(&self, _shards: usize) -> u64 {
        let tasks = self.params.people * std::mem::size_of::<Person>() as u64;
        let counts = self.params.days * std::mem::size_of::<u32>() as u64;
        tasks + counts
    }
}

impl ModelParams for Params {
    type Model = Birthday;
    const NAME: &'static str = "birthday";
    const SUMMARY: &'static str =
        "people draw random birthdays; how likely is a shared one? (23 of 365: about 0.507)";
    const STARTER: &'static str = "\
[model]
# People (tasks), each with a uniformly random birthday among `days` days (cells).
# With 23 people and 365 days, P(some two share a birthday) = 0.507.
people = 23
days = 365
";

    fn check(&self, checks: &mut Checks) {
        checks.range("people", self.people, 1, MAX_PEOPLE);
        checks.range("days", self.days, 1, MAX_DAYS);
    }

    fn build(&self) -> Birthday {
        Birthday::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Ending, Order, Settings, Simulation, replication_seed};

    const SEED: u64 = 0xB1B7_DA75;

    fn model(people: u64, days: u64) -> Birthday {
        Birthday::new(Params { people, days })
    }

    fn settings(seed: u64, shards: usize) -> Settings {
        Settings::default()
            .seed(seed)
            .shards(shards)
            .histograms(false)
    }

    /// Runs one replication to the end; it always takes three steps.
    fn run(model: &Birthday, settings: Settings) -> Simulation<'_, Birthday> {
        let mut sim = Simulation::new(model, settings);
        assert_eq!(sim.run(|_| true), Ending::Finished);
        assert_eq!(sim.step_count(), 3);
        sim
    }

    /// Mean and standard error of `metric` over `replications` replications.
    fn mean_and_se(model: &Birthday, replications: u64, metric: Metric) -> (f64, f64) {
        let values: Vec<f64> = (0..replications)
            .map(|r| {
                let sim = run(model, settings(replication_seed(SEED, r), 2));
                sim.report().metric(metric)
            })
            .collect();
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (mean, (var / n).sqrt())
    }

    /// Days per people count, from the `people_per_day` histogram (exact while no day holds
    /// more than 2047 people: the histogram keeps 3 significant digits).
    fn per_day(report: &Report) -> Vec<(u64, u64)> {
        let (name, h) = &report.histograms()[0];
        assert_eq!(*name, "people_per_day");
        h.iter_recorded()
            .map(|v| (v.value_iterated_to(), v.count_at_value()))
            .collect()
    }

    #[test]
    fn analytic_values_are_right() {
        // The classic: 0.5072972343239857 (e.g. Feller, vol. I, II.3).
        assert!((p_any_shared(23, 365) - 0.507_297_234_323_985_7).abs() < 1e-12);
        assert!((p_any_shared(22, 365) - 0.475_695_307_662_550_6).abs() < 1e-12);
        assert_eq!(p_any_shared(1, 365), 0.0);
        assert_eq!(p_any_shared(366, 365), 1.0);
        assert_eq!(p_any_shared(u32::MAX as u64, MAX_DAYS), 1.0);
        // Tiny answers keep their precision: P = 1/d for two people.
        let d = MAX_DAYS as f64;
        assert!((p_any_shared(2, MAX_DAYS) * d - 1.0).abs() < 1e-9);
        assert!((expected_shared_days(2, MAX_DAYS) * d - 1.0).abs() < 1e-9);
        assert!((expected_people_sharing(2, MAX_DAYS) * d - 2.0).abs() < 1e-9);
        // One day: everyone shares it as soon as there are two.
        assert_eq!(expected_shared_days(1, 1), 0.0);
        assert_eq!(expected_shared_days(5, 1), 1.0);
        assert_eq!(expected_days_empty(5, 1), 0.0);
        assert_eq!(expected_people_sharing(5, 1), 5.0);
        // Both branches of expected_shared_days against the binomial tail summed directly,
        // and the identity E[people] = Σ_k k · E[days with k] = n.
        for (n, days) in [
            (23u64, 365u64),
            (365, 365),
            (366, 365),
            (1000, 365),
            (10, 1000),
        ] {
            let (nf, p) = (n as f64, 1.0 / days as f64);
            let mut pmf = vec![(1.0 - p).powf(nf)];
            for k in 1..=n {
                let prev = pmf[k as usize - 1];
                pmf.push(prev * (nf - k as f64 + 1.0) / k as f64 * p / (1.0 - p));
            }
            let tail: f64 = pmf[2..].iter().sum::<f64>() * days as f64;
            let got = expected_shared_days(n, days);
            assert!(
                (got - tail).abs() < 1e-9 * tail.max(1.0),
                "{n} {days}: {got} {tail}"
            );
            let empty = expected_days_empty(n, days);
            assert!((empty - pmf[0] * days as f64).abs() < 1e-9 * empty.max(1.0));
            let sharing: f64 = (2..=n as usize).map(|k| k as f64 * pmf[k]).sum::<f64>();
            let want = sharing * days as f64;
            let got = expected_people_sharing(n, days);
            assert!(
                (got - want).abs() < 1e-9 * want.max(1.0),
                "{n} {days}: {got} {want}"
            );
        }
    }

    /// 2000 replications of the classic: the share with a shared birthday is within 4
    /// standard errors (about ±0.045) of 0.5073.
    #[test]
    fn share_with_a_shared_birthday_matches_the_analytic_answer() {
        let m = model(23, 365);
        let (mean, se) = mean_and_se(&m, 2000, ANY_SHARED);
        let p = m.p_any_shared();
        let binomial_se = (p * (1.0 - p) / 2000.0).sqrt();
        assert!(
            (mean - p).abs() < 4.0 * binomial_se,
            "mean {mean} (se {se}) vs {p}"
        );
        assert!(
            (se - binomial_se).abs() < 0.2 * binomial_se,
            "{se} {binomial_se}"
        );
    }

    /// 1000 people over 365 days, 300 replications: empty days (analytic 23.49), shared days
    /// (276.99) and people sharing (935.48) within 4 standard errors of their expectations.
    #[test]
    fn days_empty_and_shared_days_match_their_expectations() {
        let m = model(1000, 365);
        for (metric, want) in [
            (DAYS_EMPTY, m.expected_days_empty()),
            (SHARED_DAYS, m.expected_shared_days()),
            (PEOPLE_SHARING, m.expected_people_sharing()),
        ] {
            let (mean, se) = mean_and_se(&m, 300, metric);
            assert!(se > 0.0);
            assert!(
                (mean - want).abs() < 4.0 * se,
                "metric {}: mean {mean} ± {se} vs {want}",
                METRICS[metric.index()].name
            );
        }
        assert!((m.expected_days_empty() - 23.486_162).abs() < 1e-5);
        assert!((m.expected_shared_days() - 276.991_414).abs() < 1e-5);
        assert!((m.expected_people_sharing() - 935.477_576).abs() < 1e-5);
    }

    /// The same seed gives the same people, days and answers at 1 and 3 shards (and at 5,
    /// more shards than some runs have days), in either order.
    #[test]
    fn results_do_not_depend_on_the_shard_count() {
        for (people, days) in [(23, 365), (1000, 365), (50, 4)] {
            let m = model(people, days);
            for order in [Order::ById, Order::Shuffled] {
                let seed = replication_seed(SEED, 7);
                let runs: Vec<_> = [1, 3, 5]
                    .iter()
                    .map(|&shards| {
                        let sim = run(&m, settings(seed, shards).order(order));
                        let report = sim.report();
                        let people: Vec<Person> = sim.end().tasks().map(|(_, p)| *p).collect();
                        let days: Vec<u32> = sim
                            .end()
                            .cells()
                            .flat_map(|d| d.counts.iter().copied())
                            .collect();
                        (
                            report.metrics().to_vec(),
                            report.details_json().clone(),
                            per_day(&report),
                            people,
                            days,
                        )
                    })
                    .collect();
                assert_eq!(runs[0], runs[1], "{people} {days} {order:?}: 1 vs 3 shards");
                assert_eq!(runs[0], runs[2], "{people} {days} {order:?}: 1 vs 5 shards");
            }
        }
        // And another seed gives other birthdays.
        let m = model(1000, 365);
        let a = run(&m, settings(replication_seed(SEED, 1), 1)).report();
        let b = run(&m, settings(replication_seed(SEED, 2), 1)).report();
        assert_ne!(per_day(&a), per_day(&b));
    }

    /// Within a replication the metrics, the histogram, the counters, the cells and the
    /// answers people got all tell the same story.
    #[test]
    fn metrics_are_consistent_within_a_replication() {
        for (people, days) in [
            (23, 365),
            (1000, 365),
            (1, 365),
            (5, 1),
            (40, 40),
            (200, 10_000),
        ] {
            let m = model(people, days);
            for r in 0..20 {
                let sim = run(&m, settings(replication_seed(SEED, r), 3));
                let report = sim.report();
                let [shared, sharing, any, max, empty] = [
                    SHARED_DAYS,
                    PEOPLE_SHARING,
                    ANY_SHARED,
                    MAX_PER_DAY,
                    DAYS_EMPTY,
                ]
                .map(|metric| report.metric(metric) as u64);
                let case = format!("{people} {days} replication {r}");
                assert!(sharing >= 2 * shared, "{case}");
                assert!(sharing <= people, "{case}");
                assert_eq!(any, (shared > 0) as u64, "{case}");
                assert_eq!(any, (max >= 2) as u64, "{case}");
                if people > days {
                    assert_eq!(any, 1, "{case}: pigeonhole");
                }
                assert!(empty < days && max >= 1 && max <= people, "{case}");
                // The histogram: one entry per day, adding up to everyone.
                let hist = per_day(&report);
                assert_eq!(hist.iter().map(|(_, n)| n).sum::<u64>(), days, "{case}");
                assert_eq!(
                    hist.iter().map(|(c, n)| c * n).sum::<u64>(),
                    people,
                    "{case}"
                );
                let days_with = |pred: &dyn Fn(u64) -> bool| -> u64 {
                    hist.iter().filter(|(c, _)| pred(*c)).map(|(_, n)| n).sum()
                };
                assert_eq!(days_with(&|c| c == 0), empty, "{case}");
                assert_eq!(days_with(&|c| c >= 2), shared, "{case}");
                assert_eq!(hist.last().map(|(c, _)| *c), Some(max), "{case}");
                // The counters: every person arrived, and all but the first on each day
                // were told they share.
                let details = report.details_json();
                assert_eq!(details["arrivals"], people, "{case}");
                assert_eq!(details["repeat_arrivals"], sharing - shared, "{case}");
                // The people: each was answered, the answers on a day are 0, 1, 2, …, and
                // their days agree with the cells.
                let counts: Vec<u32> = sim
                    .end()
                    .cells()
                    .flat_map(|d| d.counts.iter().copied())
                    .collect();
                let mut seen = vec![0u32; days as usize];
                let mut answers: Vec<Vec<u32>> = vec![Vec::new(); days as usize];
                let mut told = 0;
                for (_, p) in sim.end().tasks() {
                    seen[p.day as usize] += 1;
                    answers[p.day as usize].push(p.before.expect("answered"));
                    told += p.told_shared() as u64;
                }
                assert_eq!(seen, counts, "{case}");
                assert_eq!(told, sharing - shared, "{case}");
                for a in &mut answers {
                    a.sort_unstable();
                    assert!(a.iter().enumerate().all(|(i, &b)| b == i as u32), "{case}");
                }
            }
        }
    }

    #[test]
    fn parameters_are_checked() {
        let problems = |people, days| {
            let mut checks = Checks::default();
            Params { people, days }.check(&mut checks);
            checks.problems.len()
        };
        assert_eq!(problems(23, 365), 0);
        assert_eq!(problems(MAX_PEOPLE, MAX_DAYS), 0);
        assert_eq!(problems(0, 365), 1);
        assert_eq!(problems(23, 0), 1);
        assert_eq!(problems(MAX_PEOPLE + 1, MAX_DAYS + 1), 2);
    }
}
