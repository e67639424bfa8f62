//! Where saved state lives: the browser's localStorage under a versioned, namespaced key, or
//! memory. A missing or throwing localStorage (private modes, sandboxed frames, blocked
//! cookies) and a full one (quota) fall back to memory: the SDK keeps working for the page.

use wasm_bindgen::prelude::*;
use web_sys::Storage;

#[wasm_bindgen]
extern "C" {
    type Global;

    #[wasm_bindgen(thread_local_v2, js_name = globalThis)]
    static GLOBAL: Global;

    /// Throws in sandboxed frames and some private modes.
    #[wasm_bindgen(method, getter, catch, js_name = localStorage)]
    fn local_storage(this: &Global) -> Result<Option<Storage>, JsValue>;
}

pub enum Store {
    Local { storage: Storage, key: String },
    Memory { text: Option<String> },
}

impl Store {
    pub fn memory() -> Store {
        Store::Memory { text: None }
    }

    /// localStorage when the browser offers it, else memory.
    pub fn local(key: &str) -> Store {
        // `globalThis.localStorage` rather than `window()`: the same object in a page, without
        // the glue that finds and checks a `Window`.
        match GLOBAL.with(Global::local_storage) {
            Ok(Some(storage)) => Store::Local { storage, key: key.to_string() },
            _ => Store::memory(),
        }
    }

    pub fn is_persistent(&self) -> bool {
        matches!(self, Store::Local { .. })
    }

    pub fn read(&self) -> Option<String> {
        match self {
            Store::Local { storage, key } => storage.get_item(key).ok().flatten(),
            Store::Memory { text } => text.clone(),
        }
    }

    /// Returns false when the browser refused the write (quota): the store has then moved to
    /// memory, holding `text`.
    pub fn write(&mut self, text: &str) -> bool {
        if let Store::Local { storage, key } = self {
            if storage.set_item(key, text).is_ok() {
                return true;
            }
            // Don't leave a stale copy that a reload would trust over newer memory state.
            let _ = storage.remove_item(key);
            *self = Store::Memory { text: Some(text.to_string()) };
            return false;
        }
        *self = Store::Memory { text: Some(text.to_string()) };
        true
    }

    pub fn clear(&mut self) {
        match self {
            Store::Local { storage, key } => {
                let _ = storage.remove_item(key);
            }
            Store::Memory { text } => *text = None,
        }
    }
}
