//! Page patterns of a rule set's `pages` (`"/pricing*"`), matched against URL paths.

/// Whether `path` matches `pattern`: `*` matches any run of characters (`/` included), every
/// other character matches itself. The query string and fragment of `path` are ignored.
pub fn page_matches(pattern: &str, path: &str) -> bool {
    let end = path.bytes().position(|b| b == b'?' || b == b'#').unwrap_or(path.len());
    wildcard_match(pattern.as_bytes(), &path.as_bytes()[..end])
}

/// Glob matching with backtracking to the last `*` only: O(pattern × text), never exponential.
/// Byte-wise is exact for UTF-8: a literal's first byte never equals a continuation byte.
pub(crate) fn wildcard_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    // Position of the last `*` seen, and where in the text its match currently ends.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if pattern.get(p) == Some(&b'*') {
            star = Some((p, t));
            p += 1;
        } else if pattern.get(p) == Some(&text[t]) {
            p += 1;
            t += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, t));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&b| b == b'*')
}

#[cfg(test)]
mod tests {
    use super::page_matches;

    #[test]
    fn stars_match_any_run_including_slashes() {
        assert!(page_matches("/pricing*", "/pricing"));
        assert!(page_matches("/pricing*", "/pricing/enterprise"));
        assert!(page_matches("/settings/billing*", "/settings/billing/invoices"));
        assert!(page_matches("/*/edit", "/projects/42/edit"));
        assert!(page_matches("*", "/"));
        assert!(page_matches("/a*b*c", "/axxbyyc"));
        assert!(!page_matches("/a*b*c", "/axxbyy"));
        assert!(!page_matches("/pricing*", "/about/pricing"));
        assert!(!page_matches("/pricing", "/pricing/x"));
        assert!(!page_matches("/Pricing", "/pricing"));
    }

    #[test]
    fn everything_but_stars_is_literal() {
        assert!(page_matches("/a.b", "/a.b"));
        assert!(!page_matches("/a.b", "/axb"));
        assert!(page_matches("/ünï/*", "/ünï/cödé"));
        assert!(!page_matches("/ü", "/u"));
    }

    #[test]
    fn query_and_fragment_are_ignored() {
        assert!(page_matches("/pricing", "/pricing?plan=pro"));
        assert!(page_matches("/pricing", "/pricing#faq"));
        assert!(!page_matches("/pricing*pro", "/pricing?plan=pro"));
        assert!(page_matches("/", "/?a=b#c"));
    }

    #[test]
    fn many_stars_stay_fast() {
        let pattern = "/*a*a*a*a*a*a*a*a*a*a*b";
        let path = ["/", &"a".repeat(5000)].concat();
        assert!(!page_matches(pattern, &path));
    }
}
