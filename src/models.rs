//! The built-in models.

pub mod gift_lottery;
pub mod musical_chairs;
pub mod pi;

pub use musical_chairs::MusicalChairs;
