//! A custom model: random walkers that mark the cells they visit.
//!
//! ```text
//!   step t                     boundary                    step t+1
//!  ┌────────────┐  Visit(cell)  ┌──────────────┐  Seen(n)   ┌────────────┐
//!  │ walker 17  │ ────────────▶ │ owner shard  │ ─────────▶ │ walker 17  │
//!  │ moves ±1   │               │ counts visit │            │ notes n    │
//!  └────────────┘               └──────────────┘            └────────────┘
//! ```
//!
//! Each walker starts in a random cell of a torus and takes `steps` unit steps (up, down,
//! left or right). At every cell it tells the cell's owner "I am here"; the cell counts its
//! visitors and answers how many came before. A walker remembers how often it arrived
//! somewhere nobody had been. The example checks two things that must hold: every step is a
//! visit, and the results are the same at 1 and 8 shards.
//!
//! Run it with `cargo run --release --example random_walkers`.

use std::ops::Range;

use microsim::Grid;
use microsim::internal::rng::TaskRng;
use microsim::{CellCtx, Ctx, Mail, Next, TaskId};
use microsim::{End, Model, Report};
use microsim::{Ending, Order, Settings, Simulation};
use rand::RngExt;
use serde::Serialize;

/// A walker's state: where it is, how far it has to go, what it found.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq)]
struct Walker {
    x: u64,
    y: u64,
    left: u32,
    awaiting: u32,
    firsts: u32,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Msg {
    /// "I am in this cell."
    Visit,
    /// "You are visitor number n here."
    Seen(u32),
}

/// Visits per cell, for one shard's block of cells.
struct Visits {
    base: u64,
    count: Vec<u32>,
}

struct Walkers {
    walkers: u64,
    steps: u32,
    grid: Grid,
}

impl Model for Walkers {
    type Task = Walker;
    type Msg = Msg;
    type Cells = Visits;

    const COUNTERS: &'static [&'static str] = &["visits"];
    const METRICS: &'static [&'static str] = &["visits", "cells_visited", "first_visits"];

    fn tasks(&self) -> u64 {
        self.walkers
    }

    fn grid(&self) -> Grid {
        self.grid
    }

    fn spawn(&self, _id: TaskId, rng: &mut TaskRng) -> Walker {
        let x = rng.random_range(0..self.grid.width);
        let y = rng.random_range(0..self.grid.height);
        Walker {
            x,
            y,
            left: self.steps,
            awaiting: 0,
            firsts: 0,
        }
    }

    fn cells(&self, range: Range<u64>, _shards: usize) -> Visits {
        Visits {
            base: range.start,
            count: vec![0; (range.end - range.start) as usize],
        }
    }

    fn step(&self, w: &mut Walker, mail: &[Mail<Msg>], ctx: &mut Ctx<'_, Msg>) -> Next {
        for m in mail {
            w.awaiting -= 1;
            if m.msg == Msg::Seen(0) {
                w.firsts += 1;
            }
        }
        if w.left == 0 {
            // An answer comes two steps after its visit: finish when none is outstanding.
            return if w.awaiting == 0 {
                Next::Done
            } else {
                Next::Wait
            };
        }
        let (width, height) = (self.grid.width, self.grid.height);
        match ctx.rng().random_range(0..4u8) {
            0 => w.x = (w.x + 1) % width,
            1 => w.x = (w.x + width - 1) % width,
            2 => w.y = (w.y + 1) % height,
            _ => w.y = (w.y + height - 1) % height,
        }
        w.left -= 1;
        w.awaiting += 1;
        ctx.send_to_cell(self.grid.cell(w.x, w.y), Msg::Visit);
        // Keep moving; after the last move, wait for the last answers.
        if w.left > 0 {
            Next::Continue
        } else {
            Next::Wait
        }
    }

    fn on_cell(&self, cells: &mut Visits, cell: u64, mail: Mail<Msg>, ctx: &mut CellCtx<'_, Msg>) {
        let n = &mut cells.count[(cell - cells.base) as usize];
        ctx.send_to_task(mail.from, Msg::Seen(*n));
        *n += 1;
        ctx.count(0, 1);
    }

    fn report(&self, end: &End<'_, Self>) -> Report {
        let visited: u64 = end
            .cells()
            .flat_map(|c| &c.count)
            .filter(|&&n| n > 0)
            .count() as u64;
        let firsts: u64 = end.tasks().map(|(_, w)| w.firsts as u64).sum();
        Report {
            metrics: vec![end.counters[0] as f64, visited as f64, firsts as f64],
            histograms: Vec::new(),
            details: serde_json::Value::Null,
        }
    }
}

fn main() {
    let model = Walkers {
        walkers: 20_000,
        steps: 50,
        grid: Grid::new(300, 300),
    };
    let run = |shards| {
        let settings = Settings {
            seed: 42,
            shards,
            order: Order::ById,
            quantum: 1,
            max_steps: 1000,
            histograms: true,
        };
        let mut sim = Simulation::new(&model, settings);
        assert_eq!(sim.run(|_| true), Ending::Finished);
        let tasks: Vec<Walker> = sim.end().tasks().map(|(_, w)| *w).collect();
        (sim.report().metrics, tasks, sim.step_count())
    };
    let (metrics, tasks, steps) = run(1);
    println!(
        "{} walkers × {} steps on a {}×{} torus, {steps} scheduler steps",
        model.walkers, model.steps, 300, 300
    );
    for (name, v) in Walkers::METRICS.iter().zip(&metrics) {
        println!("  {name:<14} {v}");
    }
    assert_eq!(
        metrics[0],
        (model.walkers * model.steps as u64) as f64,
        "every move is a visit"
    );
    // A cell's first visitor is told 0, so first visits = cells visited.
    assert_eq!(metrics[1], metrics[2]);
    assert_eq!(
        run(8).0,
        metrics,
        "metrics must not depend on the shard count"
    );
    assert_eq!(
        run(8).1,
        tasks,
        "task states must not depend on the shard count"
    );
    println!("same results at 1 and 8 shards ✓");
}
