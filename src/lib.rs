//! pqlkit: Product-Qualified Lead rules evaluated in the browser.
//!
//! The domain modules here are plain Rust, tested natively with `cargo test`; everything that
//! touches JavaScript lives in `web`, compiled only for `wasm32`.

pub mod condition;
pub mod duration;
pub mod error;
pub mod json;
pub mod prompt;
pub mod rules;
pub mod window;

#[cfg(target_arch = "wasm32")]
pub mod web;
