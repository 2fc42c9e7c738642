//! The Christmas lottery of the project's source notes ("Simulating Mamma Mia under the xmas
//! tree"): 600,000
//! DVDs are each given to one of 2,000,000 Christmas trees at random; how many trees get 1, 2,
//! 3 … copies?
//!
//! Every item (a DVD) is a task; every bin (a tree, a household) is a cell of a `1 × bins`
//! arena, and each bin's count of copies lives on the shard that owns the cell. The source's
//! own numbers (ten runs) were ~444.5k trees with one copy, ~66.7k with two, ~6.7k with three,
//! ~500 with four, ~30 with five, and a 6 or 7 now and then; [`GiftLottery::expected_bins_with`]
//! gives the exact expectations.
//!
//! # The what-ifs the source asks about
//! - **Skew** (`weights`): households are not equally likely to receive gifts. `"uniform"`
//!   (the source's), `"zipf"` (bin `i`, 0-based, has weight `1/(i+1)^zipf_s`: bin 0 is the most
//!   gifted household) or `"lognormal"` (bin `i` has weight `exp(lognormal_sigma · z_i)`, with
//!   `z_i` a standard normal fixed per bin, see [`lognormal_z`]). The weights belong to the
//!   households, not to the replication: they are the same in every replication and every run,
//!   and only the gifts vary. Non-uniform draws use a Vose alias table built once per model
//!   ([`AliasTable`]): O(1) per draw, shared read-only by every task.
//! - **Buying for oneself** (`keep_fraction`): with this probability the buyer keeps the item;
//!   it is counted in `items_kept` and goes to no bin.
//! - **Interaction between buyers** (`interaction`, `max_retries`): a buyer who learns that the
//!   household already has a copy may pick another one. See the protocol below.
//!
//! # The protocol
//! An item runs once at step 0. It first decides whether it is kept (probability
//! `keep_fraction`; no draw is made when that is 0). Otherwise it draws a bin from the weights
//! and then decides whether its buyer *minds a duplicate* (probability `interaction`; no draw
//! when that is 0):
//! - A buyer who does not mind, or who has used up `max_retries` retries, sends
//!   [`Msg::Place`] to the bin and finishes: the bin counts it, whatever it holds.
//! - A buyer who minds sends [`Msg::Offer`] and waits. The bin answers [`Msg::Accepted`] (it
//!   was empty and now holds this copy; the item finishes) or [`Msg::AlreadyHas`] (it holds a
//!   copy already and is left unchanged); on `AlreadyHas` the item counts a retry, draws a new
//!   bin and decides again, as above.
//!
//! Deciding before the offer whether a duplicate would be refused is the same, in law, as
//! being told of the duplicate and then deciding with probability `interaction` to try again:
//! a bin that is empty accepts either way, and a bin that is not sends the buyer elsewhere with
//! probability `interaction` while retries remain. Deciding first saves the round trip for
//! buyers who would not act on the answer. So with `interaction = 0` (the source's lottery) every item
//! sends exactly one message and finishes in step 0, and the run takes two steps; with
//! `interaction = 1` and `max_retries = r` it takes at most `2r + 2` steps.
//!
//! Offers to one bin in one step are handled in delivery order (lower item id first, or the
//! seeded priority under `shuffled`), so the first offer to an empty bin is accepted and the
//! rest are told `AlreadyHas`. A `Place` handled before an offer in the same step counts as a
//! copy already there.
//!
//! # Counts cannot overflow
//! A bin holds at most `items` copies and `items ≤ u32::MAX` (task ids are `u32`), so each
//! bin's count is a `u32`.

mod alias;

pub use alias::AliasTable;
use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

use std::sync::OnceLock;

use crate::draw::{scale, unit};
use crate::{CellBlock, Codec};
use crate::{
    CellCtx, Checks, Counter, Ctx, End, Expected, Grid, Mail, Metric, Model, ModelParams, Next,
    Quantity, Report, SmallCounts, TaskId, TaskRng, histogram, prefetch_read, task_rng,
};

/// The largest `items` (task ids are `u32`).
pub const MAX_ITEMS: u64 = u32::MAX as u64;
/// The largest `bins` (the alias table indexes bins with `u32`; 4 bytes of count per bin).
pub const MAX_BINS: u64 = u32::MAX as u64;
/// The largest `max_retries`.
pub const MAX_RETRIES: u32 = 1_000_000;
/// The largest `lognormal_sigma`. Box–Muller deviates satisfy `|z| ≤ sqrt(2 · 53 ln 2) < 8.6`,
/// so `exp(σ z)` stays within `e^±430`: no weight overflows, nor does their sum.
pub const MAX_SIGMA: f64 = 50.0;
/// The largest `zipf_s`.
pub const MAX_ZIPF_S: f64 = 100.0;
/// The seed of the fixed random stream behind the lognormal household weights: bin `i`'s
/// normal deviate comes from `task_rng(LOGNORMAL_STREAM, i)`, independent of the scenario seed.
pub const LOGNORMAL_STREAM: u64 = 0x010C_0000_9E37_79B9;
/// Metrics `bins_with_1` … `bins_with_K` are reported for `K` = this.
pub const PROFILE: usize = 10;

/// How gifts spread over the bins.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Weights {
    /// Every bin equally likely (the source's lottery).
    #[default]
    Uniform,
    /// Bin `i` (0-based) has weight `1 / (i + 1)^zipf_s`.
    Zipf,
    /// Bin `i` has weight `exp(lognormal_sigma · z_i)`, `z_i` fixed standard normals.
    Lognormal,
}

/// The model's parameters (`[model]` in a scenario), e.g.
///
/// ```toml
/// [model]
/// items = 600000
/// bins = 2000000
/// weights = "zipf"      # or "uniform" (default), "lognormal"
/// zipf_s = 1.1          # used by "zipf" only
/// keep_fraction = 0.1
/// interaction = 0.5
/// max_retries = 3
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Items given (tasks), `0 ..= MAX_ITEMS`.
    pub items: u64,
    /// Bins (cells), `1 ..= MAX_BINS`.
    pub bins: u64,
    /// How gifts spread over the bins.
    pub weights: Weights,
    /// The Zipf exponent, `> 0` (used when `weights = "zipf"`).
    pub zipf_s: f64,
    /// The lognormal spread σ, `> 0` (used when `weights = "lognormal"`).
    pub lognormal_sigma: f64,
    /// Probability that the buyer keeps the item, in `[0, 1]`.
    pub keep_fraction: f64,
    /// Probability that a buyer told of a duplicate picks another bin, in `[0, 1]`.
    pub interaction: f64,
    /// How many times one item may pick again.
    pub max_retries: u32,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            items: 600_000,
            bins: 2_000_000,
            weights: Weights::Uniform,
            zipf_s: 1.0,
            lognormal_sigma: 1.0,
            keep_fraction: 0.0,
            interaction: 0.0,
            max_retries: 3,
        }
    }
}

impl Params {
    /// The checks a scenario makes ([`ModelParams::check`]); the error names the first bad
    /// field (as in `[model]`) and what is accepted.
    pub fn validate(&self) -> Result<(), String> {
        Checks::verify(self)
    }
}

/// An item's progress.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Not run yet.
    #[default]
    New,
    /// Offered to `bin`, waiting for the answer.
    Offered,
    /// In `bin` (placed, or offered and accepted).
    Placed,
    /// Kept by the buyer; in no bin.
    Kept,
}

/// An item (a gift): where it went and how many times it was sent elsewhere.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gift {
    /// The bin it was last sent to (meaningless while `New` or `Kept`).
    pub bin: u32,
    /// Offers declined so far (each one a retry).
    pub retries: u32,
    /// Where it is.
    pub status: Status,
}

/// Messages between items and bins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Msg {
    /// Put this copy in the destination bin, whatever it holds. No answer.
    Place,
    /// Put this copy in the destination bin if it holds none; answered.
    Offer,
    /// The offer was taken: the bin held no copy and now holds this one.
    Accepted,
    /// The bin already holds a copy; this one was not put there.
    AlreadyHas,
}

/// One shard's bins: the copies in each of its cells, by offset in the shard's block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bins {
    /// Copies per bin.
    pub counts: Vec<u32>,
}

impl CellBlock for Bins {
    fn split_off(&mut self, _len: u64, at: u64) -> Self {
        let at = (at as usize).min(self.counts.len());
        Bins {
            counts: self.counts.split_off(at),
        }
    }
    fn append(&mut self, _len: u64, mut next: Self) {
        self.counts.append(&mut next.counts);
    }
}

/// The model's per-step counters.
pub const COUNTERS: &[Quantity] = &[
    Quantity::new("gifts_placed", "items").about("items that ended up in a bin"),
    Quantity::new("offers_accepted", "items").about("offers to an empty bin, accepted"),
    Quantity::new("offers_declined", "items").about("offers to a bin that had a copy"),
    Quantity::new("items_kept", "items").about("items the buyer kept"),
];
const PLACED: Counter = Counter::named(COUNTERS, "gifts_placed");
const ACCEPTED: Counter = Counter::named(COUNTERS, "offers_accepted");
const DECLINED: Counter = Counter::named(COUNTERS, "offers_declined");
const KEPT: Counter = Counter::named(COUNTERS, "items_kept");

/// The model's metrics: bins with exactly 1 … 10 copies, then the rest.
pub const METRICS: &[Quantity] = &[
    Quantity::count("bins_with_1", "bins").about("bins with exactly one copy"),
    Quantity::count("bins_with_2", "bins").about("bins with exactly two copies"),
    Quantity::count("bins_with_3", "bins").about("bins with exactly three copies"),
    Quantity::count("bins_with_4", "bins").about("bins with exactly four copies"),
    Quantity::count("bins_with_5", "bins").about("bins with exactly five copies"),
    Quantity::count("bins_with_6", "bins").about("bins with exactly six copies"),
    Quantity::count("bins_with_7", "bins").about("bins with exactly seven copies"),
    Quantity::count("bins_with_8", "bins").about("bins with exactly eight copies"),
    Quantity::count("bins_with_9", "bins").about("bins with exactly nine copies"),
    Quantity::count("bins_with_10", "bins").about("bins with exactly ten copies"),
    Quantity::count("bins_empty", "bins").about("bins with no copy"),
    Quantity::count("max_per_bin", "copies").about("the most copies in one bin"),
    Quantity::count("items_kept", "items").about("items the buyers kept"),
    Quantity::count("bins_with_over_10", "bins").about("bins with more than ten copies"),
    Quantity::count("offers_declined", "items").about("offers declined over the run"),
];
const BINS_WITH: [Metric; PROFILE] = [
    Metric::named(METRICS, "bins_with_1"),
    Metric::named(METRICS, "bins_with_2"),
    Metric::named(METRICS, "bins_with_3"),
    Metric::named(METRICS, "bins_with_4"),
    Metric::named(METRICS, "bins_with_5"),
    Metric::named(METRICS, "bins_with_6"),
    Metric::named(METRICS, "bins_with_7"),
    Metric::named(METRICS, "bins_with_8"),
    Metric::named(METRICS, "bins_with_9"),
    Metric::named(METRICS, "bins_with_10"),
];
const BINS_EMPTY: Metric = Metric::named(METRICS, "bins_empty");
const MAX_PER_BIN: Metric = Metric::named(METRICS, "max_per_bin");
const ITEMS_KEPT: Metric = Metric::named(METRICS, "items_kept");
const OVER_10: Metric = Metric::named(METRICS, "bins_with_over_10");
const OFFERS_DECLINED: Metric = Metric::named(METRICS, "offers_declined");

/// The standard normal deviate `z_i` behind bin `i`'s lognormal weight.
///
/// Box–Muller from the fixed stream `task_rng(LOGNORMAL_STREAM, i)`: `u1 = 1 − U₁` (in
/// `(0, 1]`), `u2 = U₂` with `U` the stream's `random::<f64>()` draws, and
/// `z = sqrt(−2 ln u1) · cos(2π u2)`. It depends on nothing but `i`, so a household keeps its
/// weight whatever the number of bins, the random seed or the replication.
pub fn lognormal_z(i: u64) -> f64 {
    let mut rng = task_rng(LOGNORMAL_STREAM, i);
    let u1 = 1.0 - rng.random::<f64>();
    let u2 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// What the weights imply, computed once per model on first use (`O(bins)` time, and for
/// non-uniform weights an alias table of 8 bytes per bin): building a model stays cheap, so
/// the memory budget can refuse a run before any of this is allocated.
#[derive(Clone, Debug)]
struct Prepared {
    /// `None` for uniform weights.
    alias: Option<AliasTable>,
    /// Expected bins with 0 ..= PROFILE copies under the weights, without interaction.
    profile: [f64; PROFILE + 1],
}

/// The gift lottery model.
#[derive(Clone, Debug)]
pub struct GiftLottery {
    params: Params,
    grid: Grid,
    prepared: OnceLock<Prepared>,
}

impl Prepared {
    fn new(params: &Params) -> Self {
        let weights = match params.weights {
            Weights::Uniform => None,
            Weights::Zipf => Some(GiftLottery::zipf_weights(params.bins, params.zipf_s)),
            Weights::Lognormal => Some(GiftLottery::lognormal_weights(
                params.bins,
                params.lognormal_sigma,
            )),
        };
        let n = params.items as f64;
        let q = 1.0 - params.keep_fraction;
        let mut profile = [0.0; PROFILE + 1];
        let alias = match weights {
            None => {
                let pmf = binomial_pmf(n, q / params.bins as f64, PROFILE);
                for (e, p) in profile.iter_mut().zip(pmf) {
                    *e = params.bins as f64 * p;
                }
                None
            }
            Some(w) => {
                let total: f64 = w.iter().sum();
                for wi in &w {
                    for (e, p) in profile
                        .iter_mut()
                        .zip(binomial_pmf(n, q * wi / total, PROFILE))
                    {
                        *e += p;
                    }
                }
                Some(AliasTable::new(&w))
            }
        };
        Prepared { alias, profile }
    }
}

impl GiftLottery {
    /// A model with these parameters. Cheap: the weights' alias table and expected profile
    /// are built on first use.
    ///
    /// # Panics
    /// If the parameters fail [`Params::validate`].
    pub fn new(params: Params) -> Self {
        if let Err(e) = params.validate() {
            panic!("invalid gift_lottery parameters: {e}");
        }
        GiftLottery {
            grid: Grid::new(params.bins, 1),
            params,
            prepared: OnceLock::new(),
        }
    }

    fn prepared(&self) -> &Prepared {
        self.prepared.get_or_init(|| Prepared::new(&self.params))
    }

    /// Zipf weights `1/(i+1)^s`, `i = 0 .. bins`.
    pub fn zipf_weights(bins: u64, s: f64) -> Vec<f64> {
        (0..bins).map(|i| ((i + 1) as f64).powf(-s)).collect()
    }

    /// Lognormal weights `exp(σ · z_i)`, `i = 0 .. bins`, `z_i` from [`lognormal_z`]; finite
    /// for `σ ≤ MAX_SIGMA`. Bin `i`'s weight does not depend on `bins`.
    pub fn lognormal_weights(bins: u64, sigma: f64) -> Vec<f64> {
        (0..bins).map(|i| (sigma * lognormal_z(i)).exp()).collect()
    }

    /// The parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// The expected number of bins with exactly `k` copies when gifts are spread uniformly and
    /// buyers do not interact (the source's lottery), whatever `weights` and `interaction` say:
    /// `bins · C(n,k) p^k (1−p)^(n−k)` with `n = items` and `p = (1 − keep_fraction)/bins`.
    ///
    /// Keeping thins each item independently, so a bin's copies are exactly
    /// `Binomial(items, (1 − keep_fraction)/bins)`; with `keep_fraction = 0` this is the
    /// textbook `n = items`, `p = 1/bins`. The pmf is computed without factorials or
    /// `ln Γ`: `P(0) = exp(n · ln(1 − p))` (via `ln_1p`) and
    /// `P(j) = P(j−1) · (n − j + 1)/j · p/(1 − p)`, each factor of moderate size, so nothing
    /// overflows or cancels. For the source's numbers (600k items, 2M bins): 444,491 bins with 1,
    /// 66,674 with 2, 6,667 with 3, 500 with 4, 30 with 5.
    pub fn expected_bins_with(&self, k: u32) -> f64 {
        let p = (1.0 - self.params.keep_fraction) / self.params.bins as f64;
        let pmf = binomial_pmf(self.params.items as f64, p, k as usize);
        self.params.bins as f64 * pmf[k as usize]
    }

    /// The expected number of bins with exactly `0 ..= 10` copies under the actual `weights`
    /// (and `keep_fraction`), without interaction: `Σ_i C(n,k) p_i^k (1−p_i)^(n−k)` with
    /// `p_i = (1 − keep_fraction) w_i / Σw`. Computed once, in [`GiftLottery::new`]. For uniform
    /// weights it equals [`GiftLottery::expected_bins_with`].
    pub fn expected_profile(&self) -> &[f64; PROFILE + 1] {
        &self.prepared().profile
    }

    #[inline(always)]
    fn draw_bin(&self, r: u64) -> u32 {
        if self.params.weights == Weights::Uniform {
            return scale(r, self.params.bins).0 as u32;
        }
        match &self.prepared().alias {
            Some(table) => table.draw(r),
            None => scale(r, self.params.bins).0 as u32,
        }
    }

    /// Draws a bin, decides whether the buyer minds a duplicate, and sends. Always takes two
    /// words from the stream (bin, then the decision), whatever the parameters.
    #[inline(always)]
    fn give(&self, gift: &mut Gift, ctx: &mut Ctx<'_, Msg>) -> Next {
        gift.bin = self.draw_bin(ctx.rng().next_u64());
        // Without interaction the decision word is skipped, not drawn: the stream stays
        // aligned and the outcome (never minds) is the same.
        let minds = if self.params.interaction > 0.0 {
            let u = unit(ctx.rng().next_u64());
            gift.retries < self.params.max_retries && u < self.params.interaction
        } else {
            ctx.rng().skip(1);
            false
        };
        if minds {
            ctx.send_to_cell(gift.bin as u64, Msg::Offer);
            gift.status = Status::Offered;
            Next::Wait
        } else {
            ctx.send_to_cell(gift.bin as u64, Msg::Place);
            gift.status = Status::Placed;
            Next::Done
        }
    }
}

/// `P(X = j)` for `j = 0 ..= k`, `X ~ Binomial(n, p)` (`n` may be fractional; terms with
/// `j > n + 1` are 0), by the recurrence in [`GiftLottery::expected_bins_with`].
pub fn binomial_pmf(n: f64, p: f64, k: usize) -> Vec<f64> {
    let mut pmf = Vec::with_capacity(k + 1);
    if p >= 1.0 {
        pmf.extend((0..=k).map(|j| if j as f64 == n { 1.0 } else { 0.0 }));
        return pmf;
    }
    let ratio = p / (1.0 - p);
    let mut term = (n * (-p).ln_1p()).exp();
    pmf.push(term);
    for j in 1..=k {
        term *= ((n - j as f64 + 1.0) / j as f64).max(0.0) * ratio;
        pmf.push(term);
    }
    pmf
}

impl Model for GiftLottery {
    type Task = Gift;
    type Msg = Msg;
    type Cells = Bins;

    const COUNTERS: &'static [Quantity] = COUNTERS;
    const METRICS: &'static [Quantity] = METRICS;
    const HISTOGRAMS: &'static [Quantity] =
        &[Quantity::new("copies_per_bin", "bins").about("copies per bin")];

    fn tasks(&self) -> u64 {
        self.params.items
    }

    fn grid(&self) -> Option<Grid> {
        Some(self.grid)
    }

    fn spawn(&self, _id: TaskId, _rng: &mut TaskRng) -> Gift {
        Gift::default()
    }

    fn cells(&self, range: std::ops::Range<u64>, _shards: usize) -> Bins {
        Bins {
            counts: vec![0; (range.end - range.start) as usize],
        }
    }

    fn codec(&self) -> Option<Codec<Msg, Bins>> {
        Some(Codec::new())
    }

    fn reset_cells(&self, bins: &mut Bins, range: std::ops::Range<u64>, _shards: usize) {
        bins.counts.clear();
        bins.counts.resize((range.end - range.start) as usize, 0);
    }

    #[inline(always)]
    fn step(&self, gift: &mut Gift, mail: &[Mail<Msg>], ctx: &mut Ctx<'_, Msg>) -> Next {
        match gift.status {
            Status::New => {
                // The keep decision always takes one word, so that variants with different
                // keep fractions see the same bins for the same items.
                // (Skipped, not drawn, when nobody keeps: the same outcome, one mixing less.)
                let keeps = if self.params.keep_fraction > 0.0 {
                    unit(ctx.rng().next_u64()) < self.params.keep_fraction
                } else {
                    ctx.rng().skip(1);
                    false
                };
                if keeps {
                    gift.status = Status::Kept;
                    ctx.count(KEPT, 1);
                    return Next::Done;
                }
                self.give(gift, ctx)
            }
            Status::Offered => {
                // A waiting item runs only on mail, and each offer gets exactly one answer.
                debug_assert_eq!(mail.len(), 1);
                match mail.first().map(|m| m.msg) {
                    Some(Msg::Accepted) => {
                        gift.status = Status::Placed;
                        Next::Done
                    }
                    Some(Msg::AlreadyHas) => {
                        gift.retries += 1;
                        self.give(gift, ctx)
                    }
                    _ => Next::Wait,
                }
            }
            Status::Placed | Status::Kept => Next::Done,
        }
    }

    #[inline(always)]
    fn prefetch_cell(&self, bins: &Bins, offset: usize) {
        if let Some(count) = bins.counts.get(offset) {
            prefetch_read(count);
        }
    }

    #[inline(always)]
    fn on_cell(&self, bins: &mut Bins, mail: Mail<Msg>, ctx: &mut CellCtx<'_, Msg>) {
        let count = &mut bins.counts[ctx.offset()];
        match mail.msg {
            Msg::Place => {
                *count += 1;
                ctx.count(PLACED, 1);
            }
            Msg::Offer if *count == 0 => {
                *count = 1;
                ctx.count(PLACED, 1);
                ctx.count(ACCEPTED, 1);
                ctx.send_to_task(mail.from, Msg::Accepted);
            }
            Msg::Offer => {
                ctx.count(DECLINED, 1);
                ctx.send_to_task(mail.from, Msg::AlreadyHas);
            }
            Msg::Accepted | Msg::AlreadyHas => {
                debug_assert!(false, "bins receive only Place and Offer")
            }
        }
    }

    fn report(&self, end: &End<'_, Self>) -> Report {
        // Bins holding each number of copies.
        let mut tally = SmallCounts::default();
        for bins in end.cells() {
            tally.record_all(&bins.counts);
        }
        let mut copies = histogram(self.params.items.max(1));
        tally.record_into(&mut copies);
        let mut report = end.report();
        for (k, metric) in (1..).zip(BINS_WITH) {
            report.set(metric, tally.count(k) as f64);
        }
        let uniform: Vec<f64> = (0..=PROFILE as u32)
            .map(|k| self.expected_bins_with(k))
            .collect();
        report
            .set(BINS_EMPTY, tally.count(0) as f64)
            .set(MAX_PER_BIN, tally.max() as f64)
            .set(ITEMS_KEPT, end.total(KEPT) as f64)
            .set(OVER_10, tally.count_from(PROFILE as u64 + 1) as f64)
            .set(OFFERS_DECLINED, end.total(DECLINED) as f64)
            .histogram("copies_per_bin", copies)
            .details(serde_json::json!({
                "expected_uniform_bins_with": uniform,
                "expected_bins_with": self.expected_profile(),
                "expected_note": "index k = bins with exactly k copies; expected_uniform_bins_with \
                    assumes uniform weights, expected_bins_with uses the actual weights; \
                    neither accounts for interaction",
                "gifts_placed": end.total(PLACED),
                "offers_accepted": end.total(ACCEPTED),
            }));
        report
    }

    /// Without interaction: every `bins_with_k` and `bins_empty` from the weights' profile
    /// ([`GiftLottery::expected_profile`]), the `copies_per_bin` histogram's counts of 0 … 10,
    /// and `items_kept`; with interaction (which the profile does not account for), only
    /// `items_kept`.
    fn expected(&self) -> Expected {
        let kept = self.params.items as f64 * self.params.keep_fraction;
        let e = Expected::new().metric(ITEMS_KEPT, kept);
        if self.params.interaction > 0.0 {
            return e;
        }
        let profile = self.expected_profile();
        let mut e = e
            .metric(BINS_EMPTY, profile[0])
            .metric(OFFERS_DECLINED, 0.0)
            .histogram(
                "copies_per_bin",
                (0..).zip(profile.iter().copied()).collect(),
            );
        for (metric, &v) in BINS_WITH.iter().zip(&profile[1..]) {
            e = e.metric(*metric, v);
        }
        e
    }

    fn messages_per_step(&self, _quantum: u32) -> u64 {
        // An item sends one message in a step (it runs once, or waits for its answer). With
        // interaction, a step also holds the answers to the last step's offers: the bins'
        // answers to the items and the items' new offers to the bins are two kinds of
        // buffers, full at once (measured: 1.3x the estimate that counted one).
        match self.params.interaction > 0.0 {
            true => self.params.items.saturating_mul(2),
            false => self.params.items,
        }
    }

    fn estimate_bytes(&self, _shards: usize) -> u64 {
        let tasks = self.params.items * std::mem::size_of::<Gift>() as u64;
        let counts = self.params.bins * std::mem::size_of::<u32>() as u64;
        let table = match self.params.weights {
            Weights::Uniform => 0,
            // The table, and while it is built (on first use, with every task already
            // spawned) the weights and work lists.
            _ => AliasTable::build_bytes(self.params.bins),
        };
        tasks + counts + table
    }
}

impl ModelParams for Params {
    type Model = GiftLottery;
    const NAME: &'static str = "gift_lottery";
    const SUMMARY: &'static str =
        "items are given to random bins; how many bins get 1, 2, 3 … (the source's Mamma Mia)";
    const STARTER: &'static str = "\
[model]
# Items given away (tasks) and bins they land in (cells): the source's DVDs and trees.
items = 600000
bins = 2000000
# How likely each bin is: \"uniform\", \"zipf\" (weight of bin i ∝ 1/i^zipf_s) or
# \"lognormal\" (weights exp(lognormal_sigma · z), fixed per bin across replications).
weights = \"uniform\"
zipf_s = 1.0
lognormal_sigma = 1.0
# Probability a buyer keeps the item instead of giving it.
keep_fraction = 0.0
# Probability a buyer who learns the bin already has a copy picks again (a message round
# trip per retry), at most max_retries times.
interaction = 0.0
max_retries = 3
";

    fn check(&self, checks: &mut Checks) {
        checks.range("items", self.items, 1, MAX_ITEMS);
        checks.range("bins", self.bins, 1, MAX_BINS);
        checks.positive("zipf_s", self.zipf_s, MAX_ZIPF_S);
        checks.positive("lognormal_sigma", self.lognormal_sigma, MAX_SIGMA);
        checks.probability("keep_fraction", self.keep_fraction);
        checks.probability("interaction", self.interaction);
        checks.range(
            "max_retries",
            self.max_retries as u64,
            0,
            MAX_RETRIES as u64,
        );
    }

    fn build(&self) -> GiftLottery {
        GiftLottery::new(self.clone())
    }
}

#[cfg(test)]
mod tests;
