//! The `prompts` of a rule set and the actions that name them: styles, slots, templates
//! (whose placeholders must name a known namespace) and call-to-action links (never a script).

use super::Checker;
use crate::error::{child_path, join, ErrorCode, ValidationError};
use crate::json::Value;
use crate::prompt::{is_safe_url, parse_template, Cta, Prompt, PromptStyle, Template};

const PROMPT_FIELDS: &[&str] = &["style", "slot", "title", "body", "cta", "dismiss", "description"];
const PROMPT_STYLES: &[&str] = &["modal", "banner", "toast", "inline"];
/// How many prompt ids an UnknownPrompt message lists.
const MAX_LISTED_PROMPTS: usize = 10;

impl Checker<'_> {
    pub(super) fn unknown_prompt(&mut self, path: &str, id: &str) {
        let prompt_ids = &self.prompt_ids;
        let message = || {
            let mut message = join(&["no prompt \"", id, "\" in \"prompts\""]);
            if prompt_ids.is_empty() {
                message.push_str(", which defines none");
            } else {
                message.push_str("; known prompts: ");
                for (index, known) in prompt_ids.iter().take(MAX_LISTED_PROMPTS).enumerate() {
                    if index > 0 {
                        message.push_str(", ");
                    }
                    message.push('"');
                    message.push_str(known);
                    message.push('"');
                }
                if prompt_ids.len() > MAX_LISTED_PROMPTS {
                    message.push_str(", …");
                }
            }
            message
        };
        // Not `report`: the message borrows `prompt_ids`, `report` all of `self`.
        ValidationError::report(&mut self.errors, ErrorCode::UnknownPrompt, path, message);
    }

    pub(super) fn prompts(&mut self, value: &Value, path: &str) -> Vec<(String, Prompt)> {
        let mut prompts = Vec::new();
        let Some(entries) = value.as_object() else {
            self.wrong_type(path, "an object of prompts by id", value);
            return prompts;
        };
        for (id, prompt) in entries {
            if let Some(prompt) = self.prompt(prompt, &child_path(path, id)) {
                prompts.push((id.clone(), prompt));
            }
        }
        prompts
    }

    fn prompt(&mut self, value: &Value, path: &str) -> Option<Prompt> {
        if !self.object(value, path, PROMPT_FIELDS) {
            return None;
        }
        let field = |key: &str| child_path(path, key);
        let style = self
            .required(value, path, "style", ": use modal, banner, toast or inline")
            .and_then(|style| self.choice(style, &field("style"), PROMPT_STYLES, "a prompt style"))
            .map(|index| match index {
                0 => PromptStyle::Modal,
                1 => PromptStyle::Banner,
                2 => PromptStyle::Toast,
                _ => PromptStyle::Inline,
            });
        let slot = match value.get("slot") {
            Some(slot) => self.name(slot, &field("slot")),
            None => {
                if style == Some(PromptStyle::Inline) {
                    self.missing(
                        path,
                        "slot",
                        ": an inline prompt renders into <div data-pqlkit-slot=\"NAME\">; name that slot",
                    );
                }
                None
            }
        };
        let title = self
            .required(value, path, "title", "")
            .and_then(|title| self.template(title, &field("title"), true));
        let body = value.get("body").and_then(|body| self.template(body, &field("body"), false));
        let dismiss = value.get("dismiss").and_then(|d| self.template(d, &field("dismiss"), true));
        let cta = value.get("cta").and_then(|cta| self.cta(cta, &field("cta")));
        self.optional_text(value, path, "description");
        // Built whole and dropped whole when a part is missing: a `?` per part gave each exit
        // its own drops of the parts already read.
        let complete = style.is_some() && title.is_some();
        let prompt = Prompt {
            style: style.unwrap_or(PromptStyle::Modal),
            slot,
            title: title.unwrap_or_default(),
            body: body.unwrap_or_default(),
            cta,
            dismiss,
        };
        complete.then_some(prompt)
    }

    fn cta(&mut self, value: &Value, path: &str) -> Option<Cta> {
        if !self.object(value, path, &["label", "url"]) {
            return None;
        }
        let label = self
            .required(value, path, "label", ": the text of the button")
            .and_then(|label| self.template(label, &child_path(path, "label"), true));
        let url_path = child_path(path, "url");
        let url = self.required_name(value, path, "url", ": where the button leads");
        if let Some(url) = &url {
            if !is_safe_url(url) {
                let message = || {
                    join(&[
                        "\"",
                        url,
                        "\" is not allowed: a button URL starts with http:// or https://, or is relative such as \"/settings/billing\"",
                    ])
                };
                self.report(ErrorCode::UnsafeUrl, &url_path, message);
                return None;
            }
        }
        Some(Cta { label: label?, url: url? })
    }

    fn template(&mut self, value: &Value, path: &str, non_empty: bool) -> Option<Template> {
        let text = if non_empty { self.non_empty(value, path)? } else { self.text(value, path)? };
        Some(parse_template(text, path, &mut self.errors))
    }
}
