//! The page's functions the core calls, from src/web/host.js: `RegExp`, `toLowerCase`,
//! GrowthBook's padded versions, `String(n)`, `Number(text)`, `JSON.parse` and localStorage.
//! Strings and numbers only, and the JS side catches what can throw: no JS object is held by
//! the wasm, so the build carries none of wasm-bindgen's reference table, nor js-sys and
//! web-sys.
//!
//! Strings go to the page as `&str`; they come back written by the page into a buffer of the
//! wasm's (`&mut [u8]`), never as a `String` return: that would need wasm-bindgen's allocator
//! exports and the JS glue to call them, for two functions.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/web/host.js")]
extern "C" {
    /// The id of the compiled pattern, or -1 when it is not a valid pattern.
    #[wasm_bindgen(js_name = regexCompile)]
    pub fn regex_compile(pattern: &str, flags: &str) -> i32;

    #[wasm_bindgen(js_name = regexTest)]
    pub fn regex_test(id: i32, text: &str) -> bool;

    #[wasm_bindgen(js_name = regexForget)]
    pub fn regex_forget(id: i32);

    /// Writes `text.toLowerCase()` into `out` as UTF-8 when it fits; returns its byte length.
    #[wasm_bindgen(js_name = lowercase)]
    fn lowercase_into(text: &str, out: &mut [u8]) -> i32;

    /// Writes GrowthBook's padded version string of `text` into `out` when it fits; returns
    /// its byte length.
    #[wasm_bindgen(js_name = padVersion)]
    fn pad_version_into(text: &str, out: &mut [u8]) -> i32;

    #[wasm_bindgen(js_name = storageAvailable)]
    pub fn storage_available() -> bool;

    /// Writes the stored text into `out` when it fits; returns its byte length, or -1 when
    /// nothing is stored under `key` (or storage cannot be reached).
    #[wasm_bindgen(js_name = storageGet)]
    fn storage_get_into(key: &str, out: &mut [u8]) -> i32;

    /// False when the browser refused the write.
    #[wasm_bindgen(js_name = storageSet)]
    pub fn storage_set(key: &str, value: &str) -> bool;

    #[wasm_bindgen(js_name = storageRemove)]
    pub fn storage_remove(key: &str);

    /// Writes `String(n)` into `out` when it fits; returns its byte length.
    #[wasm_bindgen(js_name = numberText)]
    fn number_text_into(n: f64, out: &mut [u8]) -> i32;

    /// JavaScript's `Number(text)`.
    #[wasm_bindgen(js_name = numberValue)]
    pub fn number_value(text: &str) -> f64;

    /// Writes `JSON.parse(text)` into `out` as src/web/value.rs reads values, when it fits;
    /// returns its byte length, or -1 when `text` is not JSON (or nests too deeply).
    #[cfg(not(feature = "authoring"))]
    #[wasm_bindgen(js_name = jsonValue)]
    fn json_value_into(text: &str, out: &mut [u8]) -> i32;
}

/// The bytes that `write` (one of the imports above) writes: it answers the byte length it
/// needs (or -1: none), and is asked again with a buffer that large when the first one was
/// too small.
fn read_bytes(first_guess: usize, write: &dyn Fn(&mut [u8]) -> i32) -> Option<Vec<u8>> {
    let mut buffer = vec![0; first_guess];
    loop {
        let needed = usize::try_from(write(&mut buffer)).ok()?;
        if needed <= buffer.len() {
            buffer.truncate(needed);
            return Some(buffer);
        }
        buffer.resize(needed, 0);
    }
}

/// The string that `write` writes, as [`read_bytes`] reads it.
fn read_text(first_guess: usize, write: &dyn Fn(&mut [u8]) -> i32) -> Option<String> {
    // SAFETY: host.js writes strings with TextEncoder, whole (the length it answered fits), so
    // they are UTF-8; wasm-bindgen's `String` returns trusted the same encoder without
    // checking either.
    read_bytes(first_guess, write).map(|bytes| unsafe { String::from_utf8_unchecked(bytes) })
}

/// [`read_text`]'s string, or an empty one: what the page's string functions answer.
fn host_string(first_guess: usize, write: &dyn Fn(&mut [u8]) -> i32) -> String {
    read_text(first_guess, write).unwrap_or_default()
}

/// `text.toLowerCase()`, as JavaScript lowercases (Unicode, locale-independent).
pub fn lowercase(text: &str) -> String {
    // Lowercasing grows UTF-8 by half at most (U+0130 → "i̇"): one call nearly always.
    host_string(text.len() + text.len() / 2, &|out| lowercase_into(text, out))
}

/// GrowthBook's `paddedVersionString` of `text`, by its own regular expressions.
pub fn pad_version(text: &str) -> String {
    // Each part grows to 5 characters at most, and "-~" may follow: one call nearly always.
    host_string(5 * text.len() + 2, &|out| pad_version_into(text, out))
}

#[cfg(feature = "engine")]
pub fn storage_get(key: &str) -> Option<String> {
    // Saved states are a few KB: the first call asks the size, the second reads.
    read_text(0, &|out| storage_get_into(key, out))
}

/// `JSON.parse(text)`, or `None` when `text` is not JSON: the runtime's reader of JSON text
/// (json.rs `parse`), for saved state (a rule set crosses as a value already). A state's value
/// takes about 2.5 times its text's bytes (numbers are 9 bytes each): one call nearly always.
#[cfg(not(feature = "authoring"))]
pub fn parse_json(text: &str) -> Option<crate::json::Value> {
    super::value::read(&read_bytes(4 * text.len() + 16, &|out| json_value_into(text, out))?)
}

/// JavaScript's `String(n)` (at most 25 characters: one call).
pub fn number_text(n: f64) -> String {
    host_string(32, &|out| number_text_into(n, out))
}
