//! Shared by the native integration tests.

use pqlkit::condition::RegexEngine;

/// The `regex` crate stands in for the browser's `RegExp`.
pub struct NativeRegex;

fn compile(pattern: &str, flags: &str) -> Option<regex::Regex> {
    regex::RegexBuilder::new(pattern).case_insensitive(flags.contains('i')).build().ok()
}

impl RegexEngine for NativeRegex {
    fn is_valid(&self, pattern: &str, flags: &str) -> bool {
        compile(pattern, flags).is_some()
    }

    fn is_match(&self, pattern: &str, flags: &str, text: &str) -> bool {
        compile(pattern, flags).is_some_and(|re| re.is_match(text))
    }
}
