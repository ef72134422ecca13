//! What a graph node runs on: Python's `Graph._build_node_input`.

use indexmap::IndexMap;
use serde_json::Value;
use strands_core::ContentBlock;

use super::Graph;
use crate::InterruptResponse;
use crate::multiagent::{MultiAgentInput, NodeResult};

/// A node's input: content blocks, or the answers to the interrupts it paused on.
pub(super) enum NodeInput {
    Blocks(Vec<ContentBlock>),
    Responses(Vec<InterruptResponse>),
}

impl Graph {
    /// The interrupt responses meant for the node when it resumes; otherwise the task, alone
    /// for a node without finished dependencies, or followed by their results.
    pub(super) fn node_input(&self, node_id: &str) -> NodeInput {
        if let Some(responses) = self.responses_for(node_id) {
            return NodeInput::Responses(responses);
        }
        let mut dependencies: IndexMap<&str, &NodeResult> = IndexMap::new();
        for edge in self.edges.iter().filter(|e| e.to == node_id) {
            let Some(result) = self.state.results.get(&edge.from) else {
                continue;
            };
            if self.state.completed_nodes.contains(&edge.from) && edge.traversable(&self.state) {
                dependencies.insert(&edge.from, result);
            }
        }
        let task = &self.state.task;
        if dependencies.is_empty() {
            return NodeInput::Blocks(match task {
                MultiAgentInput::Text(text) => vec![ContentBlock::Text(text.clone())],
                MultiAgentInput::Content(blocks) => blocks.clone(),
                MultiAgentInput::InterruptResponses(_) => Vec::new(),
            });
        }
        let mut blocks = match task {
            MultiAgentInput::Text(text) => {
                vec![ContentBlock::Text(format!("Original Task: {text}"))]
            }
            other => {
                let mut blocks = vec![ContentBlock::Text("Original Task:".to_owned())];
                blocks.extend_from_slice(other.blocks());
                blocks
            }
        };
        blocks.push(ContentBlock::Text(
            "\nInputs from previous nodes:".to_owned(),
        ));
        for (dependency, result) in dependencies {
            blocks.push(ContentBlock::Text(format!("\nFrom {dependency}:")));
            for agent_result in result.agent_results() {
                // Python names each `getattr(result, "agent_name", "Agent")`: always "Agent".
                blocks.push(ContentBlock::Text(format!("  - Agent: {agent_result}")));
            }
        }
        NodeInput::Blocks(blocks)
    }

    /// The responses for the interrupts this node raised itself (not a hook's), when the graph
    /// resumes.
    fn responses_for(&self, node_id: &str) -> Option<Vec<InterruptResponse>> {
        if !self.interrupts.activated {
            return None;
        }
        let context = self.interrupts.context.get(node_id)?;
        if context["from_hook"].as_bool().unwrap_or(false) {
            return None;
        }
        let ids: Vec<&str> = context["interrupt_ids"]
            .as_array()?
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let responses = self.interrupts.context.get("responses")?.as_array()?;
        Some(
            responses
                .iter()
                .filter_map(|r| {
                    let response = &r["interruptResponse"];
                    let id = response["interruptId"].as_str()?;
                    ids.contains(&id)
                        .then(|| InterruptResponse::new(id, response["response"].clone()))
                })
                .collect(),
        )
    }
}
