//! What pqlkit may do with the data it sees, from the host's consent state and the browser's
//! privacy signals (PRODUCT.md §6).
//!
//! | consent | privacy signal (DNT / GPC) | stores on the device | sends beacons |
//! |---|---|---|---|
//! | `granted` | absent | yes | yes |
//! | `granted` | present | yes | no (local-only mode) |
//! | `pending` | any | no: memory only | no: beacons wait in memory |
//! | `denied` | any | no | no: beacons are dropped |
//!
//! Prompts work in every mode: they never leave the device.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Consent {
    Granted,
    Pending,
    Denied,
}

impl Consent {
    /// Unknown words read as `pending`: nothing is stored or sent by mistake.
    pub fn parse(word: &str) -> Consent {
        match word {
            "granted" => Consent::Granted,
            "denied" => Consent::Denied,
            _ => Consent::Pending,
        }
    }
}

/// What the SDK may do now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// State may be written to persistent storage (localStorage).
    pub store: bool,
    /// Beacons may leave the device.
    pub send: bool,
    /// Beacons may be kept (in memory) to send once consent is granted.
    pub queue: bool,
}

/// `local_only` is true when the browser sends Do-Not-Track or Global Privacy Control and the
/// host did not opt out of honouring them.
pub fn policy(consent: Consent, local_only: bool) -> Policy {
    match consent {
        Consent::Granted => Policy { store: true, send: !local_only, queue: !local_only },
        Consent::Pending => Policy { store: false, send: false, queue: !local_only },
        Consent::Denied => Policy { store: false, send: false, queue: false },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_in_the_module_doc_holds() {
        let p = |c, l| policy(c, l);
        assert_eq!(p(Consent::Granted, false), Policy { store: true, send: true, queue: true });
        assert_eq!(p(Consent::Granted, true), Policy { store: true, send: false, queue: false });
        assert_eq!(p(Consent::Pending, false), Policy { store: false, send: false, queue: true });
        assert_eq!(p(Consent::Pending, true), Policy { store: false, send: false, queue: false });
        assert_eq!(p(Consent::Denied, false), Policy { store: false, send: false, queue: false });
    }

    #[test]
    fn unknown_consent_words_store_and_send_nothing() {
        let policy = policy(Consent::parse("yes please"), false);
        assert!(!policy.store && !policy.send);
    }
}
