//! The page's functions the core calls, from src/web/host.js: `RegExp`, `toLowerCase` and
//! localStorage. Strings and numbers only, and the JS side catches what can throw: no JS
//! object is held by the wasm, so the build carries none of wasm-bindgen's reference table,
//! nor js-sys and web-sys.

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

    pub fn lowercase(text: &str) -> String;

    #[wasm_bindgen(js_name = storageAvailable)]
    pub fn storage_available() -> bool;

    #[wasm_bindgen(js_name = storageGet)]
    pub fn storage_get(key: &str) -> Option<String>;

    /// False when the browser refused the write.
    #[wasm_bindgen(js_name = storageSet)]
    pub fn storage_set(key: &str, value: &str) -> bool;

    #[wasm_bindgen(js_name = storageRemove)]
    pub fn storage_remove(key: &str);
}
