//! The built-in models. Each is an ordinary user of the public API, in a file of its own, and
//! registers through [`crate::ModelParams`] exactly as a model outside the crate does; adding
//! one is its file, a `mod` line and a line in [`Registry::builtin`].

pub mod birthday;
pub mod flocking;
pub mod forest_fire;
pub mod gift_lottery;
pub mod musical_chairs;
pub mod pi;
pub mod schelling;
pub mod wolf_sheep;

pub use musical_chairs::MusicalChairs;

use crate::Registry;

impl Registry {
    /// The built-in models: `musical_chairs`, `gift_lottery`, `pi`, `birthday`, and the ABM
    /// benchmark's `schelling`, `forest_fire`, `wolf_sheep` and `flocking`.
    pub fn builtin() -> Self {
        Registry::new()
            .with::<musical_chairs::Params>()
            .with::<gift_lottery::Params>()
            .with::<pi::Params>()
            .with::<birthday::Params>()
            .with::<schelling::Params>()
            .with::<forest_fire::Params>()
            .with::<wolf_sheep::Params>()
            .with::<flocking::Params>()
    }
}
