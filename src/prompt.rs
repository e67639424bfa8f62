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
    Placeholder { namespace: Namespace, path: String },
}

/// A parsed template string.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Template {
    pub parts: Vec<TemplatePart>,
}
