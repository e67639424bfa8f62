//! pqlkit: Product-Qualified Lead rules evaluated in the browser.
//!
//! The domain modules here are plain Rust, tested natively with `cargo test`; everything that
//! touches JavaScript lives in `web`, compiled only for `wasm32`.

pub mod condition;
pub mod consent;
pub mod duration;
pub mod engine;
pub mod error;
pub mod event;
pub mod frequency;
pub mod hash;
// The backtest driver: native, and the command line's wasm (`--features backtest`).
#[cfg(any(not(target_arch = "wasm32"), feature = "backtest"))]
pub mod history;
pub mod json;
pub mod number;
pub mod pages;
pub mod profile;
pub mod prompt;
pub mod rules;
pub mod signals;
#[cfg(feature = "sql")]
pub mod sql;
pub mod timestamp;
pub mod window;

#[cfg(target_arch = "wasm32")]
pub mod web;
