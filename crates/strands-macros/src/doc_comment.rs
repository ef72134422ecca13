//! Reading a function's doc comment: the tool description, and the parameter descriptions from
//! its arguments section.
//!
//! Two section styles are recognised, so that both Rust and Python habits work:
//!
//! - a markdown heading `# Arguments`, `# Args` or `# Parameters` (any level), ending at the next
//!   heading;
//! - a Google-style line `Args:`, `Arguments:` or `Parameters:`, ending at the next heading or
//!   Google section line (`Returns:`, `Raises:`, ...), or where the text falls back to the
//!   header's indentation after indented entries.
//!
//! Entries look like ``* `a` - text``, ``- `a`: text``, `* a - text`, `a: text` or
//! `a (int): text`; lines indented deeper than an entry, or following it without a blank line,
//! continue it, after a line break (Python's docstring parser keeps them too).

/// A parsed doc comment.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct DocComment {
    /// The text without the arguments section, surrounding blank lines trimmed.
    pub(crate) description: String,
    /// `(name, description)` for each argument entry, in order.
    pub(crate) params: Vec<(String, String)>,
}

impl DocComment {
    /// The description of parameter `name`, if the arguments section has a non-empty entry.
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(entry, _)| entry == name)
            .map(|(_, description)| description.as_str())
            .filter(|description| !description.is_empty())
    }
}

/// Google-style section lines that end an arguments section.
const GOOGLE_SECTIONS: &[&str] = &[
    "Args",
    "Arguments",
    "Parameters",
    "Returns",
    "Return",
    "Raises",
    "Yields",
    "Yield",
    "Examples",
    "Example",
    "Note",
    "Notes",
    "Warning",
    "Warnings",
    "See Also",
    "Todo",
    "References",
    "Attributes",
];

/// Titles that open an arguments section.
const ARGUMENT_TITLES: &[&str] = &["Arguments", "Args", "Parameters"];

/// An open arguments section.
#[derive(Debug)]
struct Section {
    /// Indentation of a Google-style header line; `None` for a markdown heading.
    google_indent: Option<usize>,
    /// Indentation of the first entry.
    entry_indent: Option<usize>,
    /// Whether the previous line was blank.
    after_blank: bool,
    /// Whether the previous line belonged to an entry (for lazy continuation lines).
    in_entry: bool,
}

/// Parses doc `lines` (one per line, the single leading space of `///` already removed).
pub(crate) fn parse<S: AsRef<str>>(lines: &[S]) -> DocComment {
    let mut kept: Vec<&str> = Vec::new();
    let mut params: Vec<(String, String)> = Vec::new();
    let mut section: Option<Section> = None;
    let mut in_fence = false;

    for line in lines.iter().map(AsRef::as_ref) {
        let trimmed = line.trim();
        if let Some(open) = section.as_mut() {
            if section_line(open, line, &mut params) {
                continue;
            }
            section = None;
        }
        if is_fence(trimmed) {
            in_fence = !in_fence;
        } else if !in_fence && opens_arguments(trimmed) {
            section = Some(Section {
                google_indent: (!trimmed.starts_with('#')).then(|| indentation(line)),
                entry_indent: None,
                after_blank: false,
                in_entry: false,
            });
            continue;
        }
        kept.push(line);
    }

    let start = kept
        .iter()
        .position(|line| !line.trim().is_empty())
        .unwrap_or(kept.len());
    let end = kept
        .iter()
        .rposition(|line| !line.trim().is_empty())
        .map_or(start, |last| last + 1);
    DocComment {
        description: kept.get(start..end).unwrap_or_default().join("\n"),
        params,
    }
}

/// Handles one line inside an arguments section; `false` when the line ends the section.
fn section_line(section: &mut Section, line: &str, params: &mut Vec<(String, String)>) -> bool {
    let trimmed = line.trim();
    if trimmed.is_empty() {
        section.after_blank = true;
        return true;
    }
    if markdown_heading(trimmed).is_some() || google_header(trimmed).is_some() || is_fence(trimmed)
    {
        return false;
    }
    let indent = indentation(line);
    let after_blank = std::mem::replace(&mut section.after_blank, false);
    if section
        .entry_indent
        .is_some_and(|entry_indent| indent > entry_indent)
    {
        if section.in_entry {
            continue_entry(params, trimmed);
        }
        return true;
    }
    if let Some(header_indent) = section.google_indent {
        // Google style: text back at the header's indentation, after indented entries, is
        // ordinary prose again.
        if section
            .entry_indent
            .is_some_and(|entry| entry > header_indent)
            && indent <= header_indent
        {
            return false;
        }
    }
    if let Some((name, description)) = parse_entry(trimmed) {
        section.entry_indent.get_or_insert(indent);
        params.push((name.to_owned(), description.to_owned()));
        section.in_entry = true;
    } else if section.in_entry && !after_blank {
        continue_entry(params, trimmed);
    } else {
        section.in_entry = false;
    }
    true
}

fn continue_entry(params: &mut [(String, String)], text: &str) {
    if let Some((_, description)) = params.last_mut() {
        if !description.is_empty() {
            description.push('\n');
        }
        description.push_str(text);
    }
}

fn indentation(line: &str) -> usize {
    line.chars()
        .take_while(|c| c.is_whitespace())
        .map(|c| if c == '\t' { 4 } else { 1 })
        .sum()
}

fn is_fence(trimmed: &str) -> bool {
    trimmed.starts_with("```") || trimmed.starts_with("~~~")
}

/// The title of a markdown ATX heading (`# Title`, `## Title ##`).
fn markdown_heading(trimmed: &str) -> Option<&str> {
    let hashes = trimmed.chars().take_while(|&c| c == '#').count();
    if hashes == 0 || hashes > 6 {
        return None;
    }
    let rest = trimmed.get(hashes..)?;
    if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
        return None;
    }
    Some(rest.trim().trim_end_matches('#').trim_end())
}

/// The title of a Google-style section line (`Returns:`).
fn google_header(trimmed: &str) -> Option<&str> {
    let title = trimmed.strip_suffix(':')?.trim_end();
    GOOGLE_SECTIONS
        .iter()
        .any(|section| section.eq_ignore_ascii_case(title))
        .then_some(title)
}

fn opens_arguments(trimmed: &str) -> bool {
    let title = match markdown_heading(trimmed) {
        Some(title) => title.strip_suffix(':').unwrap_or(title),
        None => match google_header(trimmed) {
            Some(title) => title,
            None => return false,
        },
    };
    ARGUMENT_TITLES
        .iter()
        .any(|t| t.eq_ignore_ascii_case(title))
}

/// Parses an argument entry: optional bullet, name (bare or in backticks), optional `(type)`,
/// then `:` or `-` and the description. A bulleted name alone is an entry with no description.
fn parse_entry(trimmed: &str) -> Option<(&str, &str)> {
    let (bulleted, rest) = match ["* ", "- ", "+ "]
        .iter()
        .find_map(|bullet| trimmed.strip_prefix(bullet))
    {
        Some(rest) => (true, rest.trim_start()),
        None => (false, trimmed),
    };
    let (name, rest) = if let Some(quoted) = rest.strip_prefix('`') {
        let close = quoted.find('`')?;
        (quoted.get(..close)?.trim(), quoted.get(close + 1..)?)
    } else {
        let end = rest
            .char_indices()
            .find(|&(_, c)| !(c.is_alphanumeric() || c == '_' || c == '#'))
            .map_or(rest.len(), |(i, _)| i);
        (rest.get(..end)?, rest.get(end..)?)
    };
    let name = name.strip_prefix("r#").unwrap_or(name);
    if !is_identifier(name) {
        return None;
    }
    let mut rest = rest.trim_start();
    if let Some(typed) = rest.strip_prefix('(') {
        rest = typed.get(typed.find(')')? + 1..)?.trim_start();
    }
    if rest.is_empty() {
        return bulleted.then_some((name, ""));
    }
    let description = ['-', ':', '–', '—']
        .iter()
        .find_map(|separator| rest.strip_prefix(*separator))?;
    Some((name, description.trim()))
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> DocComment {
        parse(&text.lines().collect::<Vec<_>>())
    }

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|&(n, d)| (n.to_owned(), d.to_owned()))
            .collect()
    }

    #[test]
    fn markdown_arguments_section_is_removed_and_parsed() {
        let parsed =
            doc("Add two integers.\n\n# Arguments\n* `a` - first addend\n* `b` - second addend");
        assert_eq!(parsed.description, "Add two integers.");
        assert_eq!(
            parsed.params,
            params(&[("a", "first addend"), ("b", "second addend")])
        );
    }

    #[test]
    fn google_args_section_matches_markdown() {
        let parsed =
            doc("Add two integers.\n\nArgs:\n    a: first addend\n    b (int): second addend\n");
        assert_eq!(parsed.description, "Add two integers.");
        assert_eq!(
            parsed.params,
            params(&[("a", "first addend"), ("b", "second addend")])
        );
    }

    #[test]
    fn returns_section_is_kept_in_the_description() {
        let parsed = doc("Add.\n\nArgs:\n    a: first\n\nReturns:\n    The sum.");
        assert_eq!(parsed.description, "Add.\n\nReturns:\n    The sum.");
        assert_eq!(parsed.params, params(&[("a", "first")]));
    }

    #[test]
    fn markdown_section_ends_at_the_next_heading() {
        let parsed =
            doc("Add.\n\n## Parameters\n\n- `a`: first\n- `b`: second\n\n## Returns\nThe sum.");
        assert_eq!(parsed.description, "Add.\n\n## Returns\nThe sum.");
        assert_eq!(parsed.params, params(&[("a", "first"), ("b", "second")]));
    }

    #[test]
    fn entry_forms_are_all_recognised() {
        let parsed =
            doc("# Args\n* `a` - one\n- `b`: two\n* c - three\nd: four\ne (str): five\n* `f`");
        assert_eq!(
            parsed.params,
            params(&[
                ("a", "one"),
                ("b", "two"),
                ("c", "three"),
                ("d", "four"),
                ("e", "five"),
                ("f", "")
            ])
        );
        assert_eq!(parsed.description, "");
        assert_eq!(parsed.param("f"), None);
    }

    #[test]
    fn continuation_lines_keep_their_line_breaks_as_in_python() {
        let parsed = doc(
            "Args:\n    a: the first\n        addend,\n        really\n    b: second\nReturns:\n    x",
        );
        assert_eq!(
            parsed.params,
            params(&[("a", "the first\naddend,\nreally"), ("b", "second")])
        );
        let parsed = doc("# Arguments\n* `a` - the first\n  addend\n* `b` - lazy\ncontinuation");
        assert_eq!(
            parsed.params,
            params(&[("a", "the first\naddend"), ("b", "lazy\ncontinuation")])
        );
    }

    #[test]
    fn google_section_ends_when_text_returns_to_the_header_indentation() {
        let parsed = doc("Add.\n\nArgs:\n    a: first\n\nThe sum wraps on overflow.");
        assert_eq!(parsed.description, "Add.\n\nThe sum wraps on overflow.");
        assert_eq!(parsed.params, params(&[("a", "first")]));
    }

    #[test]
    fn headings_inside_code_blocks_are_ignored() {
        let text = "Add.\n\n```\n# Arguments\nlet x = 1;\n```\n# Arguments\n* `a` - first";
        let parsed = doc(text);
        assert_eq!(
            parsed.description,
            "Add.\n\n```\n# Arguments\nlet x = 1;\n```"
        );
        assert_eq!(parsed.params, params(&[("a", "first")]));
    }

    #[test]
    fn section_in_the_middle_keeps_text_around_it() {
        let parsed = doc("\nAdd.\n\n# Arguments\n\n* `a` - first\n\n# Examples\n\nadd(1, 2)\n\n");
        assert_eq!(parsed.description, "Add.\n\n# Examples\n\nadd(1, 2)");
    }

    #[test]
    fn no_doc_comment_gives_empty_description() {
        assert_eq!(parse::<&str>(&[]), DocComment::default());
        assert_eq!(doc("   \n\n").description, "");
    }

    #[test]
    fn multi_paragraph_description_is_kept() {
        let parsed = doc("First line.\nSecond line.\n\nNew paragraph.");
        assert_eq!(
            parsed.description,
            "First line.\nSecond line.\n\nNew paragraph."
        );
        assert!(parsed.params.is_empty());
    }

    #[test]
    fn raw_identifier_entries_match_the_plain_name() {
        let parsed = doc("# Arguments\n* `r#type` - the kind");
        assert_eq!(parsed.param("type"), Some("the kind"));
    }

    #[test]
    fn prose_lines_are_not_entries() {
        assert_eq!(parse_entry("Note that the sum: wraps"), None);
        assert_eq!(parse_entry("a plain sentence"), None);
        assert_eq!(parse_entry("`a b` - spaced"), None);
    }
}
