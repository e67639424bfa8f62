//! Placeholder: the condition evaluator is being written.
