//! Values as the facade writes them into the wasm's memory (src/web/host.js `writeValue`):
//! an event's properties, traits, and what the page's `JSON.parse` read. Read here without
//! any text to scan: a tag byte, then
//!
//! - 0 `null`, 1 `false`, 2 `true`;
//! - 3 a number: its f64, little-endian;
//! - 4 a string: its UTF-8 byte length (u32, little-endian), then the bytes;
//! - 5 an array: its length (u32), then the items;
//! - 6 an object: its number of keys (u32), then each key as a string without its tag, and
//!   its value.
//!
//! The facade is the only writer, but a malformed value is refused, never read past its end.

use crate::json::{Value, MAX_DEPTH};

/// The value in `bytes`, or `None` when they are not one whole value.
pub fn read(bytes: &[u8]) -> Option<Value> {
    let mut reader = Reader { bytes, at: 0 };
    let value = reader.value(0)?;
    (reader.at == bytes.len()).then_some(value)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let taken = self.bytes.get(self.at..self.at + N)?.try_into().ok()?;
        self.at += N;
        Some(taken)
    }

    fn count(&mut self) -> Option<u32> {
        self.take().map(u32::from_le_bytes)
    }

    fn string(&mut self) -> Option<String> {
        let len = self.count()? as usize;
        let bytes = self.bytes.get(self.at..self.at + len)?;
        self.at += len;
        // SAFETY: host.js writes strings with TextEncoder (or ASCII byte by byte), which
        // writes UTF-8 only, as the input buffer's text is trusted (src/web/mod.rs `text`).
        Some(unsafe { String::from_utf8_unchecked(bytes.to_vec()) })
    }

    fn value(&mut self, depth: u32) -> Option<Value> {
        let [tag] = self.take()?;
        Some(match tag {
            0 => Value::Null,
            1 | 2 => Value::Bool(tag == 2),
            3 => Value::Number(f64::from_le_bytes(self.take()?)),
            4 => Value::String(self.string()?),
            // No capacity from a count: a malformed one would ask for any size.
            5 if depth < MAX_DEPTH => {
                let mut items = Vec::new();
                for _ in 0..self.count()? {
                    items.push(self.value(depth + 1)?);
                }
                Value::Array(items)
            }
            6 if depth < MAX_DEPTH => {
                let mut entries = Vec::new();
                for _ in 0..self.count()? {
                    entries.push((self.string()?, self.value(depth + 1)?));
                }
                Value::Object(entries)
            }
            _ => return None,
        })
    }
}
