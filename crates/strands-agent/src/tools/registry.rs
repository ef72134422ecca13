//! The agent's tools, looked up by name.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use strands_core::tools::is_valid_tool_name;
use strands_core::{Tool, ToolSpec};

use crate::BuildError;

/// Tools by name, plus the spec list sent to the model (built once, not per call).
#[derive(Clone, Default)]
pub(crate) struct ToolRegistry {
    tools: Vec<Arc<dyn Tool>>,
    by_name: HashMap<String, usize>,
    specs: Vec<ToolSpec>,
}

impl fmt::Debug for ToolRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.tools.iter().map(|t| t.name()))
            .finish()
    }
}

impl ToolRegistry {
    /// Registers a tool. Names must be valid and unique; `a-b` and `a_b` clash, as in Python.
    pub(crate) fn register(&mut self, tool: Arc<dyn Tool>) -> Result<(), BuildError> {
        let name = tool.name().to_owned();
        if !is_valid_tool_name(&name) {
            return Err(BuildError::InvalidToolName { name });
        }
        let canonical = name.replace('-', "_");
        if let Some(existing) = self
            .tools
            .iter()
            .map(|t| t.name())
            .find(|existing| existing.replace('-', "_") == canonical)
        {
            return Err(BuildError::DuplicateToolName {
                existing: existing.to_owned(),
                name,
            });
        }
        self.by_name.insert(name, self.tools.len());
        self.specs.push(tool.spec().clone());
        self.tools.push(tool);
        Ok(())
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Arc<dyn Tool>> {
        self.by_name.get(name).and_then(|&i| self.tools.get(i))
    }

    pub(crate) fn specs(&self) -> &[ToolSpec] {
        &self.specs
    }

    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.tools.iter().map(|t| t.name())
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Arc<dyn Tool>> {
        self.tools.iter()
    }

    /// These tools followed by `loaded` (a [`strands_core::ToolLoader`]'s), skipping any whose
    /// name is invalid, already taken, or `reserved` (the structured output tool's): Python's
    /// tool search plugin skips a tool the agent already has.
    pub(crate) fn with_loaded(&self, loaded: Vec<Arc<dyn Tool>>, reserved: Option<&str>) -> Self {
        let mut registry = self.clone();
        for tool in loaded {
            if reserved == Some(tool.name()) {
                tracing::debug!(
                    tool = tool.name(),
                    "loaded tool skipped: the structured output tool has its name"
                );
                continue;
            }
            if let Err(error) = registry.register(tool) {
                tracing::debug!(%error, "loaded tool skipped");
            }
        }
        registry
    }
}
