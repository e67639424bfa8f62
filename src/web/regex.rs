//! `$regex` conditions use the host's `RegExp`, so patterns mean in pqlkit exactly what they
//! mean in JavaScript (and the `regex` crate stays out of the wasm); `$ini` and friends its
//! `toLowerCase`, `$veq` and friends GrowthBook's own `paddedVersionString`.

use std::cell::RefCell;

use super::host;
use crate::condition::RegexEngine;

/// Compiles each pattern once; an invalid pattern is remembered as such (id -1).
#[derive(Default)]
pub struct BrowserRegex {
    compiled: RefCell<Vec<(String, String, i32)>>,
}

impl BrowserRegex {
    fn compiled_id(&self, pattern: &str, flags: &str) -> i32 {
        let mut compiled = self.compiled.borrow_mut();
        match compiled.iter().find(|(p, f, _)| p == pattern && f == flags) {
            Some(&(_, _, id)) => id,
            None => {
                let id = host::regex_compile(pattern, flags);
                compiled.push((pattern.into(), flags.into(), id));
                id
            }
        }
    }
}

impl Drop for BrowserRegex {
    fn drop(&mut self) {
        for &(_, _, id) in self.compiled.get_mut().iter() {
            if id >= 0 {
                host::regex_forget(id);
            }
        }
    }
}

impl RegexEngine for BrowserRegex {
    fn is_valid(&self, pattern: &str, flags: &str) -> bool {
        self.compiled_id(pattern, flags) >= 0
    }

    fn is_match(&self, pattern: &str, flags: &str, text: &str) -> bool {
        self.is_match_id(self.compiled_id(pattern, flags), text)
    }

    /// The host's RegExp id (-1: invalid), valid while this engine lives.
    fn id(&self, pattern: &str, flags: &str) -> Option<i32> {
        Some(self.compiled_id(pattern, flags))
    }

    fn is_match_id(&self, id: i32, text: &str) -> bool {
        id >= 0 && host::regex_test(id, text)
    }

    fn lowercase(&self, text: &str) -> String {
        host::lowercase(text)
    }

    fn pad_version(&self, text: &str) -> String {
        host::pad_version(text)
    }
}
