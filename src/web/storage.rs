//! Where saved state lives: the browser's localStorage under a versioned, namespaced key, or
//! memory. A missing or throwing localStorage (private modes, sandboxed frames, blocked
//! cookies) and a full one (quota) fall back to memory: the SDK keeps working for the page.

use super::host;

pub enum Store {
    Local { key: String },
    Memory { text: Option<String> },
}

impl Store {
    pub fn memory() -> Store {
        Store::Memory { text: None }
    }

    /// localStorage when the browser offers it, else memory.
    pub fn local(key: &str) -> Store {
        if host::storage_available() {
            Store::Local { key: key.to_string() }
        } else {
            Store::memory()
        }
    }

    pub fn is_persistent(&self) -> bool {
        matches!(self, Store::Local { .. })
    }

    pub fn read(&self) -> Option<String> {
        match self {
            Store::Local { key } => host::storage_get(key),
            Store::Memory { text } => text.clone(),
        }
    }

    /// Returns false when the browser refused the write (quota): the store has then moved to
    /// memory, holding `text`.
    pub fn write(&mut self, text: &str) -> bool {
        if let Store::Local { key } = self {
            if host::storage_set(key, text) {
                return true;
            }
            // Don't leave a stale copy that a reload would trust over newer memory state.
            host::storage_remove(key);
            *self = Store::Memory { text: Some(text.to_string()) };
            return false;
        }
        *self = Store::Memory { text: Some(text.to_string()) };
        true
    }

    pub fn clear(&mut self) {
        match self {
            Store::Local { key } => host::storage_remove(key),
            Store::Memory { text } => *text = None,
        }
    }
}
