//! The live view: a page in the browser that follows a run as it goes
//! (`microsim run FILE --serve`), or shows a result directory (`microsim serve DIR`).
//!
//! The run feeds a [`Board`] through the [`Progress`] calls it makes anyway; the board takes
//! what it needs in a few atomic operations, follows the steps of one replication at a time
//! (switching at most every 200 ms, `board::SWITCH_EVERY_NS`) and keeps a bounded history
//! of each metric, so the run never waits for it. A small HTTP server on
//! tokio, in a thread of its own ([`Server`]), renders the board to JSON at most four times a
//! second and pushes it to every viewer as server-sent events through a `watch` channel: a
//! viewer gets the newest state when it is ready for it, and a slow or vanished viewer costs
//! the run nothing. A viewer that connects late gets the state so far.
//!
//! | path | what |
//! |---|---|
//! | `/` | the page (HTML, SVG drawn by its own script; nothing from the network) |
//! | `/state` | the state as JSON, once |
//! | `/events` | the state as server-sent events, whenever it changes |
//! | `/files/…` | files of the result directory (`report.html`, `plots/…`) |
//! | `POST /stop` | during `microsim run --serve`: what Ctrl-C does (the run stops after the steps under way and writes what is done); only from the machine itself (a loopback address), else 403 |

mod board;
mod server;

pub use board::{About, Board};
pub use server::{IDLE, Server, parse_addr};

use crate::experiment::montecarlo::Progress;
