//! The text a swarm node receives before the task: Python's `Swarm._build_node_input`.

use std::fmt::Write as _;

use serde_json::Value;

use super::handoff::Coordination;
use crate::multiagent::MultiAgentInput;
use crate::pydantic::python_repr;

/// One node of the swarm as others see it.
pub(crate) struct Peer<'a> {
    pub(crate) id: &'a str,
    pub(crate) description: Option<&'a str>,
}

/// `Context:\n<what the node needs to know>\n\n`, word for word as Python writes it.
pub(crate) fn node_context(
    target: &str,
    task: &MultiAgentInput,
    history: &[String],
    coordination: &Coordination,
    peers: &[Peer<'_>],
) -> String {
    let mut text = String::from("Context:\n");
    if let Some(message) = coordination
        .handoff_message
        .as_deref()
        .filter(|m| !m.is_empty())
    {
        let _ = write!(text, "Handoff Message: {message}\n\n");
    }
    match task {
        MultiAgentInput::Text(task) => {
            let _ = write!(text, "User Request: {task}\n\n");
        }
        MultiAgentInput::Content(_) | MultiAgentInput::InterruptResponses(_) => {
            text.push_str("User Request: Multi-modal task\n\n");
        }
    }
    if !history.is_empty() {
        let _ = write!(
            text,
            "Previous agents who worked on this: {}\n\n",
            history.join(" → ")
        );
    }
    if !coordination.shared_context.is_empty() {
        text.push_str("Shared knowledge from previous agents:\n");
        for (node, context) in &coordination.shared_context {
            if !context.is_empty() {
                let repr = python_repr(&Value::Object(context.clone()));
                let _ = writeln!(text, "• {node}: {repr}");
            }
        }
        text.push('\n');
    }
    let others: Vec<_> = peers.iter().filter(|p| p.id != target).collect();
    if !others.is_empty() {
        text.push_str("Other agents available for collaboration:\n");
        for peer in others {
            let _ = write!(text, "Agent name: {}.", peer.id);
            if let Some(description) = peer.description.filter(|d| !d.is_empty()) {
                let _ = write!(text, " Agent description: {description}");
            }
            text.push('\n');
        }
        text.push('\n');
    }
    text.push_str(
        "You have access to swarm coordination tools if you need help from other agents. \
         If you don't hand off to another agent, the swarm will consider the task complete.\n\n",
    );
    text
}
