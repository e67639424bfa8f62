//! `$regex` conditions use the host's `RegExp`, so patterns mean in pqlkit exactly what they
//! mean in JavaScript (and the `regex` crate stays out of the wasm); `$ini` and friends its
//! `toLowerCase`.

use std::cell::RefCell;

use wasm_bindgen::prelude::*;

use crate::condition::RegexEngine;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = RegExp)]
    type JsRegExp;

    #[wasm_bindgen(constructor, js_class = "RegExp", catch)]
    fn new(pattern: &str, flags: &str) -> Result<JsRegExp, JsValue>;

    #[wasm_bindgen(method)]
    fn test(this: &JsRegExp, text: &str) -> bool;
}

/// Compiles each pattern once; an invalid pattern is remembered as such.
#[derive(Default)]
pub struct BrowserRegex {
    compiled: RefCell<Vec<(String, String, Option<JsRegExp>)>>,
}

impl BrowserRegex {
    fn with<R>(&self, pattern: &str, flags: &str, f: impl FnOnce(Option<&JsRegExp>) -> R) -> R {
        let mut compiled = self.compiled.borrow_mut();
        let index = match compiled.iter().position(|(p, fl, _)| p == pattern && fl == flags) {
            Some(i) => i,
            None => {
                compiled.push((pattern.into(), flags.into(), JsRegExp::new(pattern, flags).ok()));
                compiled.len() - 1
            }
        };
        f(compiled[index].2.as_ref())
    }
}

impl RegexEngine for BrowserRegex {
    fn is_valid(&self, pattern: &str, flags: &str) -> bool {
        self.with(pattern, flags, |re| re.is_some())
    }

    fn is_match(&self, pattern: &str, flags: &str, text: &str) -> bool {
        self.with(pattern, flags, |re| re.is_some_and(|re| re.test(text)))
    }

    fn lowercase(&self, text: &str) -> String {
        js_sys::JsString::from(text).to_lower_case().into()
    }
}
