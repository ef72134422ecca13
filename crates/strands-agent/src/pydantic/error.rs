//! Validation failures: where, which, and pydantic's `str(ValidationError)` of them.

use serde_json::Value;

use super::repr::{python_type, truncated_repr};

/// One step of an error location: a field name or a list index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Loc {
    Key(String),
    Index(usize),
}

/// One validation failure, as in pydantic's `ValidationError.errors()`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldError {
    /// Where it failed (empty for the value itself).
    pub(crate) loc: Vec<Loc>,
    /// Pydantic's error type, e.g. `missing`, `int_parsing`.
    pub(crate) kind: &'static str,
    /// Pydantic's message, e.g. `Field required`.
    pub(crate) message: String,
    /// The value that failed (the enclosing object for `missing`).
    pub(crate) input: Value,
}

impl FieldError {
    /// The location as Strands' structured output prints it: `addresses -> 1 -> street`, or
    /// `root` for the value itself.
    pub(crate) fn arrow_path(&self) -> String {
        if self.loc.is_empty() {
            return "root".to_owned();
        }
        self.join_loc(" -> ")
    }

    fn join_loc(&self, separator: &str) -> String {
        self.loc
            .iter()
            .map(|l| match l {
                Loc::Key(k) => k.clone(),
                Loc::Index(i) => i.to_string(),
            })
            .collect::<Vec<_>>()
            .join(separator)
    }
}

/// `str(ValidationError)` for a model titled `title`, as pydantic 2.14 prints it.
pub(crate) fn validation_error_text(title: &str, errors: &[FieldError]) -> String {
    let count = errors.len();
    let plural = if count == 1 { "" } else { "s" };
    let mut text = format!("{count} validation error{plural} for {title}");
    for error in errors {
        if !error.loc.is_empty() {
            text.push('\n');
            text.push_str(&error.join_loc("."));
        }
        text.push_str(&format!(
            "\n  {} [type={}, input_value={}, input_type={}]\n    For further information visit https://errors.pydantic.dev/2.14/v/{}",
            error.message,
            error.kind,
            truncated_repr(&error.input),
            python_type(&error.input),
            error.kind
        ));
    }
    text
}

pub(super) fn error(
    loc: &[Loc],
    kind: &'static str,
    message: impl Into<String>,
    input: &Value,
) -> FieldError {
    FieldError {
        loc: loc.to_vec(),
        kind,
        message: message.into(),
        input: input.clone(),
    }
}
