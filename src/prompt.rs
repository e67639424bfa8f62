//! Prompt definitions (PRODUCT.md §5) and their templates.
//!
//! Templates interpolate `{{user.*}}`, `{{account.*}}`, `{{event.*}}` and `{{rule.id}}`. They
//! render to plain text: escaping for HTML is the renderer's job, and the default UI only ever
//! sets `textContent`.

/// How a prompt is presented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PromptStyle {
    Modal,
    Banner,
    Toast,
    /// Rendered into `[data-pqlkit-slot=NAME]`.
    Inline,
}

impl PromptStyle {
    pub fn as_str(self) -> &'static str {
        match self {
            PromptStyle::Modal => "modal",
            PromptStyle::Banner => "banner",
            PromptStyle::Toast => "toast",
            PromptStyle::Inline => "inline",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Prompt {
    pub style: PromptStyle,
    /// The slot name, for `inline` prompts.
    pub slot: Option<String>,
    pub title: Template,
    pub body: Template,
    pub cta: Option<Cta>,
    /// Label of the dismiss button; the UI uses a default when absent.
    pub dismiss: Option<Template>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Cta {
    pub label: Template,
    /// `http(s)` or relative; anything else is rejected by validation.
    pub url: String,
}

/// The template namespaces a `{{...}}` placeholder may name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Namespace {
    User,
    Account,
    Event,
    Rule,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TemplatePart {
    Text(String),
    /// `{{namespace.path}}`; `path` may be dotted.
    Placeholder {
        namespace: Namespace,
        path: String,
    },
}

/// A parsed template string.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Template {
    pub parts: Vec<TemplatePart>,
}

use crate::error::{find_pair, join, split_at_byte, ByteSplit, ErrorCode, ValidationError};
use crate::json::Value;

/// The values a template's placeholders read from.
pub struct TemplateValues<'a> {
    pub user: &'a Value,
    pub account: &'a Value,
    /// The trigger event's properties.
    pub event: &'a Value,
    pub rule_id: &'a str,
}

impl Template {
    /// Renders to plain text. A missing or null value renders as nothing, so a prompt never
    /// shows "undefined"; arrays and objects render as JSON.
    pub fn render(&self, values: &TemplateValues) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                TemplatePart::Text(text) => out.push_str(text),
                TemplatePart::Placeholder { namespace, path } => {
                    let source = match namespace {
                        Namespace::User => values.user,
                        Namespace::Account => values.account,
                        Namespace::Event => values.event,
                        Namespace::Rule => {
                            out.push_str(values.rule_id);
                            continue;
                        }
                    };
                    match source.get_path(path).as_deref() {
                        None | Some(Value::Null) => {}
                        Some(Value::String(text)) => out.push_str(text),
                        Some(other) => other.write_json(&mut out),
                    }
                }
            }
        }
        out
    }
}

/// Parses `{{ namespace.path }}` placeholders; problems are pushed to `errors` at `path`.
pub fn parse_template(text: &str, path: &str, errors: &mut Vec<ValidationError>) -> Template {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(open) = find_pair(rest, b"{{") {
        let Some(length) = find_pair(&rest[open + 2..], b"}}") else {
            ValidationError::report(errors, ErrorCode::InvalidValue, path, || {
                "a \"{{\" is never closed: write placeholders such as {{user.name}}".into()
            });
            break;
        };
        if open > 0 {
            parts.push(TemplatePart::Text(rest[..open].to_string()));
        }
        // Spaces around a name are ASCII ones ({{ user.name }}): std's Unicode `trim` would
        // bring a character decoder into the runtime for this one use.
        if let Some(placeholder) =
            placeholder(rest[open + 2..open + 2 + length].trim_ascii(), path, errors)
        {
            parts.push(placeholder);
        }
        rest = &rest[open + 4 + length..];
    }
    if !rest.is_empty() {
        parts.push(TemplatePart::Text(rest.to_string()));
    }
    Template { parts }
}

fn placeholder(inner: &str, path: &str, errors: &mut Vec<ValidationError>) -> Option<TemplatePart> {
    let (namespace, field) = split_at_byte(inner, |b| b == b'.');
    let field = field.unwrap_or("");
    let namespace = match namespace {
        "user" => Namespace::User,
        "account" => Namespace::Account,
        "event" => Namespace::Event,
        "rule" if field == "id" => Namespace::Rule,
        _ => {
            let message = || {
                join(&[
                    "\"{{",
                    inner,
                    "}}\" cannot be filled in: use {{user.<trait>}}, {{account.<trait>}}, {{event.<property>}} or {{rule.id}}",
                ])
            };
            ValidationError::report(errors, ErrorCode::UnknownTemplateNamespace, path, message);
            return None;
        }
    };
    if ByteSplit::new(field, |b| b == b'.').any(str::is_empty) {
        let message = || join(&["\"{{", inner, "}}\" names no field: write such as {{user.name}}"]);
        ValidationError::report(errors, ErrorCode::InvalidValue, path, message);
        return None;
    }
    Some(TemplatePart::Placeholder { namespace, path: field.to_string() })
}

/// Whether a CTA URL is `http:`/`https:` or relative (`//host` included). Browsers skip leading
/// control characters and spaces and drop tabs and newlines anywhere before reading the scheme,
/// so ` java\tscript:` must be caught too; any other text before a `:` is refused.
pub fn is_safe_url(url: &str) -> bool {
    // Byte-wise: every character skipped or looked for is ASCII, and a byte of a non-ASCII
    // character is none of them.
    let mut scheme = Vec::new();
    for b in url.bytes().skip_while(|&b| b <= b' ') {
        match b {
            b'\t' | b'\n' | b'\r' => {}
            b':' => {
                return scheme.eq_ignore_ascii_case(b"http")
                    || scheme.eq_ignore_ascii_case(b"https")
            }
            b'/' | b'?' | b'#' => return true,
            _ => scheme.push(b),
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;

    fn template(text: &str) -> Template {
        let mut errors = Vec::new();
        let template = parse_template(text, "t", &mut errors);
        assert_eq!(errors, [], "{text}");
        template
    }

    fn codes(text: &str) -> Vec<ErrorCode> {
        let mut errors = Vec::new();
        parse_template(text, "prompts.p.title", &mut errors);
        assert!(errors.iter().all(|e| e.path == "prompts.p.title"));
        errors.into_iter().map(|e| e.code).collect()
    }

    #[test]
    fn placeholders_are_parsed_with_inner_whitespace() {
        assert_eq!(
            template("Hi {{ user.name }}, {{account.plan.tier}}{{event.limit}}!").parts,
            vec![
                TemplatePart::Text("Hi ".into()),
                TemplatePart::Placeholder { namespace: Namespace::User, path: "name".into() },
                TemplatePart::Text(", ".into()),
                TemplatePart::Placeholder {
                    namespace: Namespace::Account,
                    path: "plan.tier".into()
                },
                TemplatePart::Placeholder { namespace: Namespace::Event, path: "limit".into() },
                TemplatePart::Text("!".into()),
            ]
        );
        assert_eq!(
            template("plain { text }").parts,
            vec![TemplatePart::Text("plain { text }".into())]
        );
        assert_eq!(template("").parts, vec![]);
    }

    #[test]
    fn bad_placeholders_are_reported() {
        assert_eq!(codes("{{company.name}}"), [ErrorCode::UnknownTemplateNamespace]);
        assert_eq!(codes("{{rule.name}}"), [ErrorCode::UnknownTemplateNamespace]);
        assert_eq!(codes("{{ }}"), [ErrorCode::UnknownTemplateNamespace]);
        assert_eq!(codes("{{user}} {{user.}} {{user..a}}"), [ErrorCode::InvalidValue; 3]);
        assert_eq!(codes("Hi {{user.name"), [ErrorCode::InvalidValue]);
        assert_eq!(
            codes("{{x.y}} then {{"),
            [ErrorCode::UnknownTemplateNamespace, ErrorCode::InvalidValue]
        );
    }

    #[test]
    fn templates_render_values_as_plain_text() {
        let user = parse(r#"{"name": "<b>Ada</b>", "seats": 4, "ratio": 0.75, "admin": true, "tags": ["a", 1], "none": null}"#).unwrap();
        let account = parse(r#"{"plan": {"tier": "free"}}"#).unwrap();
        let event = parse(r#"{"limit": 5}"#).unwrap();
        let values = TemplateValues {
            user: &user,
            account: &account,
            event: &event,
            rule_id: "project-limit",
        };
        let rendered = template(
            "{{user.name}}|{{user.seats}}|{{user.ratio}}|{{user.admin}}|{{user.tags}}|{{user.none}}|{{user.missing}}|{{account.plan.tier}}|{{account.plan}}|{{event.limit}}|{{rule.id}}",
        )
        .render(&values);
        assert_eq!(
            rendered,
            r#"<b>Ada</b>|4|0.75|true|["a",1]|||free|{"tier":"free"}|5|project-limit"#
        );
        let empty = Value::Null;
        let nothing = TemplateValues { user: &empty, account: &empty, event: &empty, rule_id: "" };
        assert_eq!(
            template("You've reached {{event.limit}} projects").render(&nothing),
            "You've reached  projects"
        );
    }

    #[test]
    fn templates_walk_arrays_as_conditions_do() {
        let event = parse(r#"{"items": [{"sku": "pro"}, "b"], "tags": []}"#).unwrap();
        let empty = Value::Null;
        let values = TemplateValues { user: &empty, account: &empty, event: &event, rule_id: "" };
        let rendered = template(
            "{{event.items.0.sku}}|{{event.items.1}}|{{event.items.length}}|{{event.tags.length}}|{{event.items.2}}|{{event.items.01}}",
        )
        .render(&values);
        assert_eq!(
            rendered, "pro|b|2|0||",
            "indices, length; no element 2, no non-canonical index"
        );
    }

    #[test]
    fn only_http_and_relative_urls_are_safe() {
        for safe in [
            "https://example.com/meet",
            "http://example.com",
            "HTTPS://EXAMPLE.COM",
            " https://example.com",
            "/settings/billing?plan=pro",
            "//cdn.example.com/x",
            "pricing",
            "./a:b",
            "?q=a:b",
            "#top",
            "",
        ] {
            assert!(is_safe_url(safe), "{safe:?}");
        }
        for unsafe_url in [
            "javascript:alert(1)",
            "JAVASCRIPT:alert(1)",
            "jAvAsCrIpT:alert(1)",
            " \t\njavascript:alert(1)",
            "\u{0}\u{1f}javascript:alert(1)",
            "java\tscript:alert(1)",
            "jav\r\nascript:alert(1)",
            "data:text/html;base64,PHNjcmlwdD4=",
            "vbscript:msgbox(1)",
            "mailto:x@example.com",
            "https\u{0}:x",
            "\u{feff}javascript:alert(1)",
        ] {
            assert!(!is_safe_url(unsafe_url), "{unsafe_url:?}");
        }
    }
}
