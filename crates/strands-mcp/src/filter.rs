//! Which of a server's tools an agent gets: Python's `tool_filters` (`allowed` first, then
//! `rejected`), matched against the server's own tool name.

use regex::Regex;

/// One pattern: an exact name, or a regular expression matched at the start of the name (Python's
/// `re.match`).
#[derive(Debug, Clone)]
enum Pattern {
    Exact(String),
    Regex(Regex),
}

impl Pattern {
    fn matches(&self, name: &str) -> bool {
        match self {
            Self::Exact(exact) => exact == name,
            Self::Regex(regex) => regex.find(name).is_some_and(|m| m.start() == 0),
        }
    }
}

/// Tool filters: with an allow-list, only the tools it matches; then none the deny-list matches.
///
/// ```
/// use strands_mcp::ToolFilters;
///
/// let filters = ToolFilters::new().allow_regex("get-")?.reject("get-env");
/// assert!(filters.includes("get-sum"));
/// assert!(!filters.includes("get-env"));
/// assert!(!filters.includes("echo"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct ToolFilters {
    allowed: Option<Vec<Pattern>>,
    rejected: Vec<Pattern>,
}

impl ToolFilters {
    /// No filtering: every tool.
    pub fn new() -> Self {
        Self::default()
    }

    /// Allows the tool named `name` (once anything is allowed, only allowed tools are kept).
    #[must_use]
    pub fn allow(mut self, name: impl Into<String>) -> Self {
        self.allowed
            .get_or_insert_with(Vec::new)
            .push(Pattern::Exact(name.into()));
        self
    }

    /// Allows the tools whose name the regular expression matches from its start.
    ///
    /// # Errors
    ///
    /// The expression does not compile.
    pub fn allow_regex(mut self, pattern: &str) -> Result<Self, regex::Error> {
        let regex = Regex::new(pattern)?;
        self.allowed
            .get_or_insert_with(Vec::new)
            .push(Pattern::Regex(regex));
        Ok(self)
    }

    /// Allows nothing until something is allowed (Python's `allowed: []`, which keeps no tool).
    #[must_use]
    pub fn allow_none(mut self) -> Self {
        self.allowed.get_or_insert_with(Vec::new);
        self
    }

    /// Rejects the tool named `name`.
    #[must_use]
    pub fn reject(mut self, name: impl Into<String>) -> Self {
        self.rejected.push(Pattern::Exact(name.into()));
        self
    }

    /// Rejects the tools whose name the regular expression matches from its start.
    ///
    /// # Errors
    ///
    /// The expression does not compile.
    pub fn reject_regex(mut self, pattern: &str) -> Result<Self, regex::Error> {
        self.rejected.push(Pattern::Regex(Regex::new(pattern)?));
        Ok(self)
    }

    /// Whether the server's tool `name` is kept.
    pub fn includes(&self, name: &str) -> bool {
        let allowed = self
            .allowed
            .as_ref()
            .is_none_or(|patterns| patterns.iter().any(|p| p.matches(name)));
        allowed && !self.rejected.iter().any(|p| p.matches(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regexes_match_from_the_start_as_re_match() {
        let filters = ToolFilters::new()
            .allow_regex("sum")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(filters.includes("sum_all"));
        assert!(!filters.includes("get_sum"));
        let none = ToolFilters::new().allow_none();
        assert!(
            !none.includes("anything"),
            "an empty allow-list keeps nothing"
        );
        assert!(ToolFilters::new().includes("anything"));
        assert!(!ToolFilters::new().reject("echo").includes("echo"));
    }
}
