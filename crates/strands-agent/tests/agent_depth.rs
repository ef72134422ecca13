//! Hooks, interrupts, structured output, agent state, agents as tools and context-overflow
//! recovery, through the real event loop with a scripted model.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_pass_by_value,
    reason = "tests fail loudly; #[tool] functions take ToolContext by value"
)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use strands_agent::conversation::{NullConversationManager, SlidingWindowConversationManager};
use strands_agent::hooks::{
    AfterInvocationEvent, AfterModelCallEvent, AfterToolCallEvent, BeforeInvocationEvent,
    BeforeModelCallEvent, BeforeToolCallEvent, HookProvider, HookRegistry, MessageAddedEvent,
};
use strands_agent::{
    Agent, AgentError, AgentInput, AgentTool, InterruptRaised, InterruptResponse, ResumeError, tool,
};
use strands_core::{ContentBlock, Message, Role, StopReason, ToolContext, ToolResult};
use strands_testkit::{ScriptedModel, Step};

use common::add;

fn result_of(message: &Message, index: usize) -> &ToolResult {
    message.content[index]
        .as_tool_result()
        .expect("a tool result")
}

fn text_of(result: &ToolResult) -> &str {
    result.content[0].as_text().expect("text content")
}

// ---------------------------------------------------------------------------------------------
// Hooks

#[derive(Default)]
struct Recorder {
    log: Arc<Mutex<Vec<String>>>,
}

impl HookProvider for Recorder {
    fn register_hooks(&self, registry: &mut HookRegistry) {
        let log = self.log.clone();
        registry.add_callback(move |_: &mut BeforeInvocationEvent| {
            log.lock().unwrap().push("before_invocation".into());
        });
        let log = self.log.clone();
        registry.add_callback(move |e: &mut MessageAddedEvent| {
            log.lock()
                .unwrap()
                .push(format!("message_added({})", e.message.role.as_str()));
        });
        let log = self.log.clone();
        registry.add_callback(move |_: &mut BeforeModelCallEvent| {
            log.lock().unwrap().push("before_model".into());
        });
        let log = self.log.clone();
        registry.add_callback(move |_: &mut AfterModelCallEvent| {
            log.lock().unwrap().push("after_model".into());
        });
        let log = self.log.clone();
        registry.add_callback(move |e: &mut BeforeToolCallEvent| {
            log.lock()
                .unwrap()
                .push(format!("before_tool({})", e.tool_use.tool_use_id));
        });
        let log = self.log.clone();
        registry.add_callback(move |e: &mut AfterToolCallEvent| {
            log.lock()
                .unwrap()
                .push(format!("after_tool({})", e.tool_use.tool_use_id));
        });
        let log = self.log.clone();
        registry.add_callback(move |e: &mut AfterInvocationEvent| {
            let stop = e
                .result
                .as_ref()
                .map_or("error", |r| r.stop_reason.as_str());
            log.lock()
                .unwrap()
                .push(format!("after_invocation({stop})"));
        });
    }
}

#[tokio::test]
async fn hooks_fire_in_pythons_order_for_a_tool_turn() {
    let model = ScriptedModel::builder()
        .tool_use("t1", "add", r#"{"a": 1, "b": 2}"#)
        .text("3")
        .build();
    let recorder = Recorder::default();
    let log = recorder.log.clone();
    let mut agent = Agent::builder()
        .model(model)
        .tool(add)
        .hooks(recorder)
        .build()
        .unwrap();
    agent.invoke("1+2?").await.unwrap();
    assert_eq!(
        *log.lock().unwrap(),
        [
            "before_invocation",
            "message_added(user)",
            "before_model",
            "after_model",
            "message_added(assistant)",
            "before_tool(t1)",
            "after_tool(t1)",
            "message_added(user)",
            "before_model",
            "after_model",
            "message_added(assistant)",
            "after_invocation(end_turn)",
        ]
    );
}

#[tokio::test]
async fn after_callbacks_run_in_reverse_registration_order() {
    let order = Arc::new(Mutex::new(Vec::new()));
    let (a, b, c, d) = (order.clone(), order.clone(), order.clone(), order.clone());
    let mut agent = Agent::builder()
        .model(ScriptedModel::builder().text("hi").build())
        .hook(move |_: &mut BeforeModelCallEvent| a.lock().unwrap().push("before 1"))
        .hook(move |_: &mut BeforeModelCallEvent| b.lock().unwrap().push("before 2"))
        .hook(move |_: &mut AfterModelCallEvent| c.lock().unwrap().push("after 1"))
        .hook(move |_: &mut AfterModelCallEvent| d.lock().unwrap().push("after 2"))
        .build()
        .unwrap();
    agent.invoke("hi").await.unwrap();
    assert_eq!(
        *order.lock().unwrap(),
        ["before 1", "before 2", "after 2", "after 1"]
    );
}

#[tokio::test]
async fn a_hook_rewrites_a_tool_call_and_replaces_a_result() {
    let model = Arc::new(
        ScriptedModel::builder()
            .tool_uses(&[
                ("t1", "add", r#"{"a": 1, "b": 2}"#),
                ("t2", "add", r#"{"a": 5, "b": 5}"#),
            ])
            .text("done")
            .build(),
    );
    let mut agent = Agent::builder()
        .shared_model(model.clone())
        .tool(add)
        .hook(|e: &mut BeforeToolCallEvent| {
            if e.tool_use.tool_use_id == "t1" {
                e.tool_use.input = json!({"a": 100, "b": 2});
            }
        })
        .hook(|e: &mut AfterToolCallEvent| {
            if e.tool_use.tool_use_id == "t2" {
                e.result = ToolResult::success("ignored-id", "ten, redacted");
            }
        })
        .build()
        .unwrap();
    agent.invoke("add").await.unwrap();
    let results = &agent.messages()[2];
    assert_eq!(text_of(result_of(results, 0)), "102");
    // The replaced result keeps the tool use id the model knows.
    assert_eq!(result_of(results, 1).tool_use_id, "t2");
    assert_eq!(text_of(result_of(results, 1)), "ten, redacted");
    // The model saw the rewritten results.
    let second_call = &model.requests()[1];
    assert_eq!(second_call.messages[2], {
        let mut m = results.clone();
        m.tracking_id = None;
        m
    });
}

#[tokio::test]
async fn a_hook_cancels_a_tool_call_with_its_message_or_pythons_default() {
    let ran = Arc::new(AtomicUsize::new(0));
    let counter = ran.clone();
    let counted = strands_agent::tools::FunctionTool::new(
        "counted",
        "Counts its calls.",
        move |_: common::NoArgs| {
            counter.fetch_add(1, Ordering::SeqCst);
            async { "ran" }
        },
    );
    let model = ScriptedModel::builder()
        .tool_uses(&[
            ("t1", "counted", "{}"),
            ("t2", "counted", "{}"),
            ("t3", "counted", "{}"),
        ])
        .text("ok")
        .build();
    let mut agent = Agent::builder()
        .model(model)
        .tool(counted)
        .hook(
            |e: &mut BeforeToolCallEvent| match e.tool_use.tool_use_id.as_str() {
                "t1" => e.cancel_tool = Some("not today".into()),
                "t2" => e.cancel_tool = Some(String::new()),
                _ => {}
            },
        )
        .build()
        .unwrap();
    agent.invoke("go").await.unwrap();
    let results = &agent.messages()[2];
    assert_eq!(text_of(result_of(results, 0)), "not today");
    assert!(result_of(results, 0).is_error());
    assert_eq!(text_of(result_of(results, 1)), "tool cancelled by user");
    assert_eq!(text_of(result_of(results, 2)), "ran");
    assert_eq!(ran.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_hook_can_swap_in_a_tool_for_an_unknown_name() {
    let model = ScriptedModel::builder()
        .tool_use("t1", "plus", r#"{"a": 2, "b": 2}"#)
        .text("4")
        .build();
    let mut agent = Agent::builder()
        .model(model)
        .hook(|e: &mut BeforeToolCallEvent| {
            if e.selected_tool.is_none() {
                e.selected_tool = Some(Arc::new(add));
            }
        })
        .build()
        .unwrap();
    agent.invoke("2+2").await.unwrap();
    assert_eq!(text_of(result_of(&agent.messages()[2], 0)), "4");
}

#[tokio::test]
async fn an_after_tool_hook_can_retry_the_tool() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let flaky = strands_agent::tools::FunctionTool::new(
        "flaky",
        "Fails once.",
        move |_: common::NoArgs| {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 0 {
                    Err("transient".to_owned())
                } else {
                    Ok("fine".to_owned())
                }
            }
        },
    );
    let mut agent = Agent::builder()
        .model(
            ScriptedModel::builder()
                .tool_use("t1", "flaky", "{}")
                .text("ok")
                .build(),
        )
        .tool(flaky)
        .hook(|e: &mut AfterToolCallEvent| e.retry = e.result.is_error())
        .build()
        .unwrap();
    agent.invoke("go").await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(text_of(result_of(&agent.messages()[2], 0)), "fine");
}

#[tokio::test]
async fn a_hook_asks_for_the_model_call_to_be_retried() {
    let model = Arc::new(
        ScriptedModel::builder()
            .step(Step::Fail("flaky provider".into()))
            .text("too short")
            .text("a complete answer")
            .build(),
    );
    let mut agent = Agent::builder()
        .shared_model(model.clone())
        .hook(|e: &mut AfterModelCallEvent| {
            // Retry provider failures, and answers shorter than 10 characters.
            e.retry = e.error().is_some()
                || e.stop_response
                    .as_ref()
                    .is_some_and(|(_, m)| m.text().trim().len() < 10);
        })
        .build()
        .unwrap();
    let result = agent.invoke("hi").await.unwrap();
    assert_eq!(result.to_string(), "a complete answer\n");
    assert_eq!(model.requests().len(), 3);
    // Rejected answers never reach the history.
    assert_eq!(agent.messages().len(), 2);
}

#[tokio::test]
async fn async_hooks_are_awaited() {
    struct PolicyService;
    impl HookProvider for PolicyService {
        fn register_hooks(&self, registry: &mut HookRegistry) {
            registry.add_async_callback(|e: &mut BeforeToolCallEvent| {
                Box::pin(async move {
                    tokio::task::yield_now().await;
                    e.cancel_tool = Some("denied by policy service".into());
                })
            });
        }
    }
    let mut agent = Agent::builder()
        .model(
            ScriptedModel::builder()
                .tool_use("t1", "add", r#"{"a":1,"b":1}"#)
                .text("no")
                .build(),
        )
        .tool(add)
        .hooks(PolicyService)
        .build()
        .unwrap();
    agent.invoke("go").await.unwrap();
    assert_eq!(
        text_of(result_of(&agent.messages()[2], 0)),
        "denied by policy service"
    );
}

#[tokio::test]
async fn before_invocation_hooks_rewrite_input_or_deny_the_invocation() {
    let model = Arc::new(ScriptedModel::builder().text("ok").build());
    let mut agent = Agent::builder()
        .shared_model(model.clone())
        .hook(|e: &mut BeforeInvocationEvent| {
            let text = e.messages[0].content[0]
                .as_text()
                .unwrap_or_default()
                .to_owned();
            if text.contains("password") {
                e.cancel = Some("I can't help with that.".into());
            } else {
                e.messages[0] = Message::user(text.to_uppercase());
            }
        })
        .build()
        .unwrap();
    agent.invoke("hello").await.unwrap();
    assert_eq!(model.requests()[0].messages[0].text(), "HELLO\n");
    let denied = agent.invoke("my password is hunter2").await.unwrap();
    assert_eq!(denied.stop_reason, StopReason::EndTurn);
    assert_eq!(denied.to_string(), "I can't help with that.\n");
    // As in Python, a denied prompt is not recorded; the denial is.
    assert_eq!(agent.messages().len(), 3);
    assert_eq!(model.requests().len(), 1);
}

#[tokio::test]
async fn a_before_model_hook_denies_the_call() {
    let model = Arc::new(ScriptedModel::builder().build());
    let mut agent = Agent::builder()
        .shared_model(model.clone())
        .hook(|e: &mut BeforeModelCallEvent| e.cancel = Some(String::new()))
        .build()
        .unwrap();
    let result = agent.invoke("hi").await.unwrap();
    assert_eq!(result.to_string(), "model call denied by hook\n");
    assert!(model.requests().is_empty());
}

// ---------------------------------------------------------------------------------------------
// State

/// Count visits in the agent's state.
#[tool]
fn visit(context: ToolContext) -> String {
    let state = context.agent_state();
    let visits = state.get::<u64>("visits").unwrap_or(0) + 1;
    state.set("visits", visits).unwrap();
    format!("visit {visits}")
}

#[tokio::test]
async fn tools_read_and_write_the_agent_state() {
    let model = ScriptedModel::builder()
        .tool_use("t1", "visit", "{}")
        .text("one")
        .tool_use("t2", "visit", "{}")
        .text("two")
        .build();
    let mut agent = Agent::builder()
        .model(model)
        .tool(visit)
        .state(json!({"visits": 10}).as_object().unwrap().clone())
        .build()
        .unwrap();
    agent.invoke("a").await.unwrap();
    agent.invoke("b").await.unwrap();
    assert_eq!(agent.state().get::<u64>("visits"), Some(12));
    assert_eq!(agent.state().get_value("visits"), Some(json!(12)));
    // State is never sent to the model.
    assert!(
        !serde_json::to_string(agent.messages())
            .unwrap()
            .contains("visits")
    );
}

// ---------------------------------------------------------------------------------------------
// Interrupts

/// Delete a file, after asking a human.
#[tool]
fn delete_file(path: String, context: ToolContext) -> Result<String, InterruptRaised> {
    let answer = context.interrupt("approve", json!({"path": path}))?;
    Ok(if answer == json!("yes") {
        format!("deleted {path}")
    } else {
        format!("kept {path}")
    })
}

#[tokio::test]
async fn a_tool_interrupt_pauses_and_a_response_resumes_without_calling_the_model() {
    let model = Arc::new(
        ScriptedModel::builder()
            .tool_uses(&[
                ("t1", "delete_file", r#"{"path": "/tmp/a"}"#),
                ("t2", "add", r#"{"a": 1, "b": 1}"#),
            ])
            .text("Deleted it.")
            .build(),
    );
    let mut agent = Agent::builder()
        .shared_model(model.clone())
        .tool(delete_file)
        .tool(add)
        .build()
        .unwrap();

    let paused = agent.invoke("delete /tmp/a").await.unwrap();
    assert_eq!(paused.stop_reason, StopReason::Interrupt);
    assert_eq!(paused.interrupts.len(), 1);
    let interrupt = &paused.interrupts[0];
    assert_eq!(
        interrupt.id,
        "v1:tool_call:t1:5cf56bed-067e-5438-a1ef-dbfa3405e45d"
    );
    assert_eq!(interrupt.name, "approve");
    assert_eq!(interrupt.reason, json!({"path": "/tmp/a"}));
    assert_eq!(agent.pending_interrupts(), paused.interrupts);
    // History ends with the tool use; the completed `add` result waits.
    assert_eq!(agent.messages().len(), 2);
    assert!(agent.messages()[1].has_tool_use());

    // A new prompt is refused until the interrupt is answered.
    let refused = agent.invoke("never mind").await.unwrap_err();
    assert!(
        matches!(
            refused,
            AgentError::Resume(ResumeError::ResponsesRequired(_))
        ),
        "{refused}"
    );
    let unknown = agent
        .invoke(vec![InterruptResponse::new("nope", "yes")])
        .await
        .unwrap_err();
    assert!(matches!(
        unknown,
        AgentError::Resume(ResumeError::UnknownInterrupt(_))
    ));

    let done = agent
        .invoke(vec![InterruptResponse::new(interrupt.id.clone(), "yes")])
        .await
        .unwrap();
    assert_eq!(done.stop_reason, StopReason::EndTurn);
    assert_eq!(done.to_string(), "Deleted it.\n");
    assert_eq!(
        model.requests().len(),
        2,
        "resuming does not call the model for the tool turn"
    );
    // Exactly one tool use and one result message; completed results come first.
    let results = &agent.messages()[2];
    assert_eq!(results.role, Role::User);
    assert_eq!(result_of(results, 0).tool_use_id, "t2");
    assert_eq!(text_of(result_of(results, 1)), "deleted /tmp/a");
    assert!(agent.pending_interrupts().is_empty());
    // Not interrupted any more: responses are refused.
    let late = agent
        .invoke(vec![InterruptResponse::new(interrupt.id.clone(), "yes")])
        .await
        .unwrap_err();
    assert!(matches!(
        late,
        AgentError::Resume(ResumeError::NotInterrupted)
    ));
}

#[tokio::test]
async fn a_hook_interrupt_asks_before_the_tool_runs() {
    let ran = Arc::new(AtomicUsize::new(0));
    let counter = ran.clone();
    let mut agent = Agent::builder()
        .model(
            ScriptedModel::builder()
                .tool_use("t1", "add", r#"{"a": 2, "b": 2}"#)
                .text("4")
                .build(),
        )
        .tool(add)
        .hook(move |e: &mut BeforeToolCallEvent| {
            match e.interrupt("confirm", format!("run {}?", e.tool_use.name)) {
                Ok(answer) if answer == json!("no") => {
                    e.cancel_tool = Some("the user said no".into())
                }
                Ok(_) => {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
                Err(_raised) => {}
            }
        })
        .build()
        .unwrap();
    let paused = agent.invoke("2+2").await.unwrap();
    assert_eq!(paused.stop_reason, StopReason::Interrupt);
    assert!(
        paused.interrupts[0]
            .id
            .starts_with("v1:before_tool_call:t1:")
    );
    assert_eq!(paused.interrupts[0].reason, json!("run add?"));
    let done = agent
        .invoke(AgentInput::InterruptResponses(vec![
            InterruptResponse::new(paused.interrupts[0].id.clone(), "ok"),
        ]))
        .await
        .unwrap();
    assert_eq!(done.stop_reason, StopReason::EndTurn);
    assert_eq!(ran.load(Ordering::SeqCst), 1);
    assert_eq!(text_of(result_of(&agent.messages()[2], 0)), "4");
}

// ---------------------------------------------------------------------------------------------
// Structured output

/// A person.
#[derive(Debug, Deserialize, JsonSchema, PartialEq)]
struct Person {
    /// Full name.
    name: String,
    /// Age in years.
    age: u32,
}

#[tokio::test]
async fn structured_output_through_the_output_tool() {
    let model = Arc::new(
        ScriptedModel::builder()
            .tool_use("t1", "Person", r#"{"name": "Ana", "age": 31}"#)
            .build(),
    );
    let mut agent = Agent::builder()
        .shared_model(model.clone())
        .tool(add)
        .build()
        .unwrap();
    let person: Person = agent.structured_output("Ana is 31").await.unwrap();
    assert_eq!(
        person,
        Person {
            name: "Ana".into(),
            age: 31
        }
    );
    // The output tool comes after the agent's own tools, with Python's description prefix.
    let specs = model.requests()[0].tool_specs.clone().unwrap();
    let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["add", "Person"]);
    assert!(specs[1].description.starts_with(
        "IMPORTANT: This StructuredOutputTool should only be invoked as the last and final tool before returning the completed result to the caller. <description>A person.</description>"
    ));
    // History ends with the validation result, as in Python.
    let last = agent.messages().last().unwrap();
    assert_eq!(
        text_of(result_of(last, 0)),
        "Successfully validated Person structured output"
    );
    // The tool is not kept after the invocation.
    assert_eq!(agent.tool_names().collect::<Vec<_>>(), ["add"]);
}

#[tokio::test]
async fn structured_output_forces_the_tool_after_a_text_answer_and_retries_invalid_output() {
    let model = Arc::new(
        ScriptedModel::builder()
            .text("Ana is thirty-one.")
            .tool_use("t1", "Person", r#"{"name": "Ana", "age": "thirty-one"}"#)
            .tool_use("t2", "Person", r#"{"name": "Ana", "age": 31}"#)
            .build(),
    );
    let mut agent = Agent::builder()
        .shared_model(model.clone())
        .build()
        .unwrap();
    let person: Person = agent.structured_output("Ana is 31").await.unwrap();
    assert_eq!(person.age, 31);
    let requests = model.requests();
    assert_eq!(requests[0].tool_choice, None);
    // After the text answer: Python's prompt, only the output tool, forced.
    assert_eq!(
        requests[1].messages.last().unwrap().text(),
        "You must format the previous response as structured output.\n"
    );
    assert_eq!(requests[1].tool_specs.as_ref().unwrap().len(), 1);
    assert_eq!(
        requests[1].tool_choice,
        Some(strands_core::ToolChoice::Tool {
            name: "Person".into()
        })
    );
    // The invalid output went back to the model as an error result.
    let invalid = requests[2].messages.last().unwrap();
    let invalid = result_of(invalid, 0);
    assert!(invalid.is_error());
    assert!(
        text_of(invalid)
            .starts_with("Validation failed for Person. Please fix the following errors:")
    );
}

#[tokio::test]
async fn structured_output_gives_up_with_a_clear_error() {
    // Forced, the model still answers in text that is not a Person.
    let model = ScriptedModel::builder()
        .text("no idea")
        .text("still no idea")
        .build();
    let mut agent = Agent::builder().model(model).build().unwrap();
    let error = agent.structured_output::<Person>("who?").await.unwrap_err();
    assert!(
        matches!(error, AgentError::StructuredOutput { ref tool_name, .. } if tool_name == "Person"),
        "{error}"
    );

    // Forced text that is exactly a valid JSON object is accepted (Python's result_from_text).
    let model = ScriptedModel::builder()
        .text("no")
        .text(r#"{"name": "Bo", "age": 4}"#)
        .build();
    let mut agent = Agent::builder().model(model).build().unwrap();
    assert_eq!(
        agent
            .structured_output::<Person>("who?")
            .await
            .unwrap()
            .name,
        "Bo"
    );

    // Invalid outputs are bounded.
    let model = ScriptedModel::builder()
        .tool_use("t1", "Person", r#"{"name": 1}"#)
        .tool_use("t2", "Person", r#"{"name": 2}"#)
        .tool_use("t3", "Person", r#"{"name": 3}"#)
        .build();
    let mut agent = Agent::builder().model(model).build().unwrap();
    let error = agent.structured_output::<Person>("who?").await.unwrap_err();
    assert!(error.to_string().contains("3 invalid outputs"), "{error}");
}

// ---------------------------------------------------------------------------------------------
// Agents as tools

#[tokio::test]
async fn an_agent_is_a_tool_of_another_agent() {
    let inner_model = Arc::new(
        ScriptedModel::builder()
            .tool_use("i1", "add", r#"{"a": 20, "b": 22}"#)
            .text("The sum is 42.")
            .text("Again 42.")
            .build(),
    );
    let researcher = Agent::builder()
        .name("researcher")
        .description("Adds numbers carefully.")
        .shared_model(inner_model.clone())
        .tool(add)
        .build()
        .unwrap();
    let tool = AgentTool::new(researcher).unwrap();
    let inner = tool.agent().clone();
    let outer_model = Arc::new(
        ScriptedModel::builder()
            .tool_use("o1", "researcher", r#"{"input": "What is 20+22?"}"#)
            .text("The researcher says 42.")
            .tool_use("o2", "researcher", r#"{"input": "And again?"}"#)
            .text("Still 42.")
            .build(),
    );
    let mut writer = Agent::builder()
        .shared_model(outer_model.clone())
        .tool(tool)
        .build()
        .unwrap();

    let spec = &outer_model
        .requests()
        .first()
        .map(|r| r.tool_specs.clone())
        .unwrap_or_default();
    assert!(spec.is_none(), "no request yet");
    let result = writer.invoke("20+22?").await.unwrap();
    assert_eq!(result.to_string(), "The researcher says 42.\n");
    let specs = outer_model.requests()[0].tool_specs.clone().unwrap();
    assert_eq!(specs[0].description, "Adds numbers carefully.");
    assert_eq!(specs[0].input_schema.json["required"], json!(["input"]));
    assert_eq!(
        text_of(result_of(&writer.messages()[2], 0)),
        "The sum is 42.\n"
    );
    // The inner agent ran its own tool loop.
    assert_eq!(inner.lock().await.messages().len(), 4);

    // Without preserve_context each call starts from the agent's initial conversation.
    writer.invoke("again").await.unwrap();
    assert_eq!(inner.lock().await.messages().len(), 2);
    assert_eq!(inner_model.requests()[2].messages.len(), 1);
}

#[tokio::test]
async fn an_agent_tool_reports_failures_and_busy_agents_as_error_results() {
    let inner = Agent::builder()
        .name("flaky")
        .model(
            ScriptedModel::builder()
                .step(Step::Fail("boom".into()))
                .build(),
        )
        .retry_strategy(strands_agent::ModelRetryStrategy::none())
        .build()
        .unwrap();
    let mut outer = Agent::builder()
        .model(
            ScriptedModel::builder()
                .tool_use("o1", "flaky", r#"{"input": "x"}"#)
                .text("sorry")
                .build(),
        )
        .tool(AgentTool::preserving_context(inner))
        .build()
        .unwrap();
    outer.invoke("go").await.unwrap();
    let result = result_of(&outer.messages()[2], 0);
    assert!(result.is_error());
    assert!(
        text_of(result).starts_with("Agent error: the model call failed"),
        "{}",
        text_of(result)
    );

    let busy = AgentTool::new(
        Agent::builder()
            .name("busy")
            .model(ScriptedModel::builder().build())
            .build()
            .unwrap(),
    )
    .unwrap();
    let _guard = busy.agent().clone().try_lock_owned().unwrap();
    let mut outer = Agent::builder()
        .model(
            ScriptedModel::builder()
                .tool_use("o1", "busy", r#"{"input": "x"}"#)
                .text("ok")
                .build(),
        )
        .tool(busy)
        .build()
        .unwrap();
    outer.invoke("go").await.unwrap();
    assert_eq!(
        text_of(result_of(&outer.messages()[2], 0)),
        "Agent 'busy' is already processing a request"
    );
}

// ---------------------------------------------------------------------------------------------
// Context overflow

#[tokio::test]
async fn context_overflow_reduces_the_history_and_retries() {
    let model = Arc::new(
        ScriptedModel::builder()
            .text("first")
            .text("second")
            .step(Step::ContextOverflow(
                "Input is too long for requested model".into(),
            ))
            .text("third, after trimming")
            .build(),
    );
    let mut agent = Agent::builder()
        .shared_model(model.clone())
        .conversation_manager(SlidingWindowConversationManager::new())
        .build()
        .unwrap();
    agent.invoke("one").await.unwrap();
    agent.invoke("two").await.unwrap();
    let result = agent.invoke("three").await.unwrap();
    assert_eq!(result.to_string(), "third, after trimming\n");
    // Python: one cycle for the overflow, one for the answer.
    assert_eq!(result.cycle_count, 2);
    // Python's trim point: start at index 2 (the history is shorter than the window), the
    // first user message that is not a tool result.
    let retried = &model.requests()[3];
    let texts: Vec<String> = retried.messages.iter().map(Message::text).collect();
    assert_eq!(texts, ["two\n", "second\n", "three\n"]);
    assert_eq!(agent.conversation_manager().removed_message_count(), 2);
    assert_eq!(agent.messages().len(), 4);
}

#[tokio::test]
async fn context_overflow_without_a_manager_is_an_error_that_keeps_the_prompt() {
    let model = ScriptedModel::builder()
        .step(Step::ContextOverflow("prompt is too long".into()))
        .build();
    let mut agent = Agent::builder()
        .model(model)
        .conversation_manager(NullConversationManager::new())
        .build()
        .unwrap();
    let error = agent.invoke("hi").await.unwrap_err();
    assert!(
        matches!(error, AgentError::ContextWindowOverflow(_)),
        "{error}"
    );
    assert_eq!(agent.messages().len(), 1);
    assert_eq!(agent.messages()[0].content, vec![ContentBlock::text("hi")]);
}

// ---------------------------------------------------------------------------------------------
// Edge cases found in review

#[tokio::test]
async fn a_denied_invocation_still_answers_a_pending_tool_use() {
    let mut agent = Agent::builder()
        .model(ScriptedModel::builder().build())
        .hook(|e: &mut BeforeInvocationEvent| e.cancel = Some("no".into()))
        .messages(vec![Message::new(
            Role::Assistant,
            vec![ContentBlock::ToolUse(strands_core::ToolUse::new(
                "t9",
                "add",
                json!({}),
            ))],
        )])
        .build()
        .unwrap();
    agent.invoke("hello").await.unwrap();
    let roles: Vec<Role> = agent.messages().iter().map(|m| m.role).collect();
    assert_eq!(roles, [Role::Assistant, Role::User, Role::Assistant]);
    assert_eq!(
        text_of(result_of(&agent.messages()[1], 0)),
        "Tool was interrupted."
    );
}

#[tokio::test]
async fn a_hook_that_reads_model_errors_changes_nothing() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let model = ScriptedModel::builder()
        .text("old answer")
        .step(Step::ContextOverflow("prompt is too long".into()))
        .text("after trimming")
        .build();
    let mut agent = Agent::builder()
        .model(model)
        .hook(move |e: &mut AfterModelCallEvent| {
            if let Some(error) = e.error() {
                log.lock().unwrap().push(error.is_context_window_overflow());
            }
        })
        .build()
        .unwrap();
    agent.invoke("one").await.unwrap();
    // The overflow is still recognised (and the history reduced) with a hook looking at it.
    let result = agent.invoke("two").await.unwrap();
    assert_eq!(result.to_string(), "after trimming\n");
    assert_eq!(*seen.lock().unwrap(), [true]);
}

#[tokio::test]
async fn structured_output_refuses_a_clashing_tool_name() {
    /// Shadows the output type's name.
    #[tool(name = "Person")]
    fn person() -> String {
        "not structured".into()
    }
    let mut agent = Agent::builder()
        .model(ScriptedModel::builder().build())
        .tool(person)
        .build()
        .unwrap();
    let error = agent.structured_output::<Person>("who?").await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("already has a tool named `Person`"),
        "{error}"
    );
}

/// Always asks first.
#[tool]
fn ask(context: ToolContext) -> Result<String, InterruptRaised> {
    context.interrupt("ok?", "please")?;
    Ok("asked".into())
}

#[tokio::test]
async fn an_interrupt_inside_an_agent_tool_pauses_the_caller_and_resumes_in_place() {
    let inner = Agent::builder()
        .name("asker")
        .model(
            ScriptedModel::builder()
                .tool_use("i1", "ask", "{}")
                .text("answered")
                .text("second call works")
                .build(),
        )
        .tool(ask)
        .build()
        .unwrap();
    let mut outer = Agent::builder()
        .model(
            ScriptedModel::builder()
                .tool_use("o1", "asker", r#"{"input": "a"}"#)
                .text("hm")
                .tool_use("o2", "asker", r#"{"input": "b"}"#)
                .text("ok")
                .build(),
        )
        .tool(AgentTool::new(inner).unwrap())
        .build()
        .unwrap();
    let paused = outer.invoke("first").await.unwrap();
    assert_eq!(paused.stop_reason, StopReason::Interrupt);
    let interrupt = &paused.interrupts[0];
    assert_eq!(
        interrupt.id,
        format!(
            "v1:agent_as_tool:o1:{}",
            strands_core::Interrupt::id_for("tool_call", "i1", "ok?")
        )
    );
    assert_eq!(interrupt.name, "ok?");
    // A new prompt is refused while the caller waits; the answer resumes the inner agent.
    assert!(outer.invoke("something else").await.is_err());
    let answer = vec![strands_agent::InterruptResponse::new(&interrupt.id, "yes")];
    let resumed = outer.invoke(answer).await.unwrap();
    assert_eq!(resumed.to_string(), "hm\n");
    assert_eq!(text_of(result_of(&outer.messages()[2], 0)), "answered\n");
    // The next call starts the inner agent afresh.
    outer.invoke("second").await.unwrap();
    assert_eq!(
        text_of(result_of(&outer.messages()[6], 0)),
        "second call works\n"
    );
}

/// Two interrupts in one turn, one from inside an agent tool: answering only the other leaves
/// the agent tool paused (its interrupt is raised again, its agent not run afresh), and the
/// answer that comes later resumes it in place.
#[tokio::test]
async fn an_agent_tool_stays_paused_while_only_other_interrupts_are_answered() {
    let inner_model = std::sync::Arc::new(
        ScriptedModel::builder()
            .tool_use("i1", "ask", "{}")
            .text("answered")
            .build(),
    );
    let inner = Agent::builder()
        .name("asker")
        .model(inner_model.clone())
        .tool(ask)
        .build()
        .unwrap();
    let mut outer = Agent::builder()
        .model(
            ScriptedModel::builder()
                .tool_uses(&[
                    ("o1", "asker", r#"{"input": "a"}"#),
                    ("o2", "delete_file", r#"{"path": "/tmp/x"}"#),
                ])
                .text("both done")
                .build(),
        )
        .tool(AgentTool::new(inner).unwrap())
        .tool(delete_file)
        .build()
        .unwrap();
    let paused = outer.invoke("go").await.unwrap();
    assert_eq!(paused.interrupts.len(), 2);
    let (asker, delete): (Vec<_>, Vec<_>) = paused
        .interrupts
        .iter()
        .partition(|i| i.id.starts_with("v1:agent_as_tool:o1:"));
    let (asker, delete) = (asker[0].clone(), delete[0].clone());

    let answer = vec![InterruptResponse::new(&delete.id, "yes")];
    let still = outer.invoke(answer).await.unwrap();
    assert_eq!(still.stop_reason, StopReason::Interrupt);
    let pending: Vec<String> = outer
        .pending_interrupts()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(pending, std::slice::from_ref(&asker.id));
    assert_eq!(
        inner_model.requests().len(),
        1,
        "the inner agent was not run afresh"
    );

    let answer = vec![InterruptResponse::new(&asker.id, "fine")];
    let done = outer.invoke(answer).await.unwrap();
    assert_eq!(done.to_string(), "both done\n");
    // Results in the order they finished: the file tool's on the first resume.
    let results = &outer.messages()[2];
    assert_eq!(text_of(result_of(results, 0)), "deleted /tmp/x");
    assert_eq!(text_of(result_of(results, 1)), "answered\n");
    assert_eq!(inner_model.requests().len(), 2);
}

#[tokio::test]
async fn a_hook_renaming_a_tool_use_runs_the_renamed_tool() {
    let mut agent = Agent::builder()
        .model(
            ScriptedModel::builder()
                .tool_use("t1", "plus", r#"{"a": 1, "b": 1}"#)
                .text("2")
                .build(),
        )
        .tool(add)
        .hook(|e: &mut BeforeToolCallEvent| {
            if e.tool_use.name == "plus" {
                e.tool_use.name = "add".into();
            }
        })
        .build()
        .unwrap();
    agent.invoke("1+1").await.unwrap();
    assert_eq!(text_of(result_of(&agent.messages()[2], 0)), "2");
}
