//! Gambler's ruin: every gambler starts with `stake` coins and bets one coin a step on a fair
//! coin, until broken or holding `goal` coins. The README's "your own model", whole.
use microsim::{
    Checks, Counter, Ctx, End, Expected, Mail, Metric, Model, ModelParams, Next, Quantity,
    Registry, Report, TaskId, TaskRng,
};
use rand::RngExt;
use serde::{Deserialize, Serialize};

/// `[model]` in a scenario: a serde struct; fields left out take the defaults.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Params {
    gamblers: u64,
    stake: u64,
    goal: u64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            gamblers: 10_000,
            stake: 10,
            goal: 20,
        }
    }
}

impl ModelParams for Params {
    type Model = Ruin;
    const NAME: &'static str = "gamblers_ruin";
    const SUMMARY: &'static str = "gamblers bet one coin a step until broke or at their goal";
    const STARTER: &'static str = "[model]\ngamblers = 10000\nstake = 10\ngoal = 20\n";

    fn check(&self, c: &mut Checks) {
        c.range("gamblers", self.gamblers, 1, u32::MAX as u64);
        c.range("goal", self.goal, 2, 1_000_000);
        c.range("stake", self.stake, 1, self.goal - 1);
    }

    fn build(&self) -> Ruin {
        Ruin(self.clone())
    }
}

struct Ruin(Params);

/// A gambler's state: its coins. Serialisable, so a run can be checkpointed.
#[derive(Serialize, Deserialize)]
struct Gambler {
    coins: u64,
}

/// Counted each step (a column each in steps.csv), totalled over the run.
const COUNTERS: &[Quantity] = &[
    Quantity::new("bets", "bets"),
    Quantity::new("ruined", "gamblers"),
];
const BETS: Counter = Counter::named(COUNTERS, "bets");
const RUINED_NOW: Counter = Counter::named(COUNTERS, "ruined");
/// One value per replication, summarised over the replications.
const METRICS: &[Quantity] = &[
    Quantity::share("ruined_share", "").about("the share of gamblers who went broke"),
    Quantity::non_negative("mean_bets", "bets").about("bets a gambler made"),
];
const RUINED_SHARE: Metric = Metric::named(METRICS, "ruined_share");
const MEAN_BETS: Metric = Metric::named(METRICS, "mean_bets");

impl Model for Ruin {
    type Task = Gambler;
    type Msg = ();
    type Cells = ();
    const COUNTERS: &'static [Quantity] = COUNTERS;
    const METRICS: &'static [Quantity] = METRICS;

    fn tasks(&self) -> u64 {
        self.0.gamblers
    }

    fn spawn(&self, _id: TaskId, _rng: &mut TaskRng) -> Gambler {
        Gambler {
            coins: self.0.stake,
        }
    }

    fn cells(&self, _range: std::ops::Range<u64>, _shards: usize) {}

    /// One bet: what a gambler does in a step, with its own random stream for the step.
    fn step(&self, g: &mut Gambler, _mail: &[Mail<()>], ctx: &mut Ctx<'_, ()>) -> Next {
        ctx.count(BETS, 1);
        if ctx.rng().random_bool(0.5) {
            g.coins += 1;
        } else {
            g.coins -= 1;
        }
        if g.coins == 0 {
            ctx.count(RUINED_NOW, 1);
        }
        if g.coins == 0 || g.coins == self.0.goal {
            Next::Done
        } else {
            Next::Continue
        }
    }

    fn report(&self, end: &End<'_, Self>) -> Report {
        let n = self.0.gamblers as f64;
        let mut r = end.report();
        r.set(RUINED_SHARE, end.total(RUINED_NOW) as f64 / n)
            .set(MEAN_BETS, end.total(BETS) as f64 / n);
        r
    }

    /// What theory says, drawn beside the results: a fair game from `s` to `g` ruins with
    /// probability `1 − s/g` after `s·(g − s)` bets on average.
    fn expected(&self) -> Expected {
        let (s, g) = (self.0.stake as f64, self.0.goal as f64);
        Expected::new()
            .metric(RUINED_SHARE, 1.0 - s / g)
            .metric(MEAN_BETS, s * (g - s))
    }
}

fn main() -> std::process::ExitCode {
    microsim::cli::main(Registry::builtin().with::<Params>())
}
