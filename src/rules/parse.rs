//! Placeholder: rule-set parsing is being written.
use super::RuleSet;
use crate::error::ValidationError;
use crate::json::Value;

pub fn parse_rule_set(_document: &Value) -> Result<RuleSet, Vec<ValidationError>> {
    unimplemented!()
}

pub fn parse_rule_set_json(_text: &str) -> Result<RuleSet, Vec<ValidationError>> {
    unimplemented!()
}
