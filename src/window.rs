//! Placeholder: windowed counters are being written.
