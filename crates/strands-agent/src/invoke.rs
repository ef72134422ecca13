//! Running an agent: [`Agent::invoke`], [`Agent::stream`] and [`Agent::structured_output`], each
//! one invocation of the event loop inside the `invoke_agent` span.

use futures_core::Stream;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tracing::Instrument as _;

use crate::agent::{Agent, AgentInput};
use crate::error::AgentError;
use crate::event_loop::{self, EventSink, EventStream, Limits, RunOptions};
use crate::events::AgentEvent;
use crate::instrument::InSpan;
use crate::result::AgentResult;
use crate::structured_output::{OutputSchema, StructuredOutput};

impl Agent {
    /// Runs the agent on `input` and returns the result once the loop ends.
    ///
    /// The history, hooks and result are those of [`Agent::stream`]: the same loop runs, only
    /// the per-chunk events are not built and no event is handed out.
    ///
    /// # Errors
    ///
    /// See [`AgentError`]: the model hit its token limit, the context overflowed, or the model
    /// call failed for good (after retries, for throttling). Tool failures are not errors.
    pub async fn invoke(
        &mut self,
        input: impl Into<AgentInput>,
    ) -> Result<AgentResult, AgentError> {
        self.invoke_with_limits(input, Limits::new()).await
    }

    /// [`Agent::invoke`] within per-invocation [`Limits`]: the invocation stops (without an
    /// error) at the top of the first cycle past a cap.
    ///
    /// # Errors
    ///
    /// Those of [`Agent::invoke`].
    ///
    /// Python: `agent(prompt, limits={...})`.
    pub async fn invoke_with_limits(
        &mut self,
        input: impl Into<AgentInput>,
        limits: Limits,
    ) -> Result<AgentResult, AgentError> {
        let options = RunOptions {
            limits,
            ..RunOptions::default()
        };
        self.run(input.into(), options).await.map(|result| *result)
    }

    /// Runs the agent on `input`, streaming [`AgentEvent`]s; the last one is
    /// [`AgentEvent::Result`]. Dropping the stream stops the invocation.
    ///
    /// ```
    /// use futures_util::StreamExt;
    /// use strands_agent::{Agent, AgentEvent};
    /// use strands_testkit::ScriptedModel;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut agent = Agent::builder().model(ScriptedModel::builder().text("Hello!").build()).build()?;
    /// let mut events = std::pin::pin!(agent.stream("hi"));
    /// let mut text = String::new();
    /// while let Some(event) = events.next().await {
    ///     if let AgentEvent::TextDelta { text: delta } = event? {
    ///         text.push_str(&delta);
    ///     }
    /// }
    /// assert_eq!(text, "Hello!");
    /// # Ok(())
    /// # }
    /// ```
    pub fn stream(
        &mut self,
        input: impl Into<AgentInput>,
    ) -> impl Stream<Item = Result<AgentEvent, AgentError>> + Send + '_ {
        self.stream_with_limits(input, Limits::new())
    }

    /// [`Agent::stream`] within per-invocation [`Limits`].
    ///
    /// Python: `agent.stream_async(prompt, limits={...})`.
    pub fn stream_with_limits(
        &mut self,
        input: impl Into<AgentInput>,
        limits: Limits,
    ) -> impl Stream<Item = Result<AgentEvent, AgentError>> + Send + '_ {
        let span = self.invoke_span();
        let options = RunOptions {
            limits,
            ..RunOptions::default()
        };
        let input = input.into();
        // Boxed once here: the loop's state is several kilobytes, and callers move the stream
        // (into tasks, `select!`s, response bodies) more than once.
        let events =
            EventStream::new(move |sink| Box::pin(event_loop::run(self, input, options, sink)));
        InSpan::new(events, span)
    }

    /// Runs the agent on `input` and returns its answer as a `T`.
    ///
    /// The model is given a tool whose input schema is `T`'s; when it calls the tool with a valid
    /// `T`, the loop stops. If the model answers in text instead, the agent asks it once more,
    /// forcing that tool; invalid outputs are sent back to the model as error results, up to
    /// three times. As in Python, the exchange stays in the history.
    ///
    /// ```
    /// use schemars::JsonSchema;
    /// use serde::Deserialize;
    /// use strands_agent::Agent;
    /// use strands_testkit::ScriptedModel;
    ///
    /// /// A person.
    /// #[derive(Debug, Deserialize, JsonSchema, PartialEq)]
    /// struct Person {
    ///     name: String,
    ///     age: u32,
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let model = ScriptedModel::builder()
    ///     .tool_use("t1", "Person", r#"{"name": "Ana", "age": 31}"#)
    ///     .build();
    /// let mut agent = Agent::builder().model(model).build()?;
    /// let person: Person = agent.structured_output("Ana is 31.").await?;
    /// assert_eq!(person, Person { name: "Ana".into(), age: 31 });
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`AgentError::StructuredOutput`] when the model does not comply, and every error of
    /// [`Agent::invoke`].
    ///
    /// Python: `agent(prompt, structured_output_model=T)`.
    pub async fn structured_output<T: JsonSchema + DeserializeOwned + 'static>(
        &mut self,
        input: impl Into<AgentInput>,
    ) -> Result<T, AgentError> {
        let schema = OutputSchema::of::<T>().map_err(|error| AgentError::StructuredOutput {
            tool_name: T::schema_name().into_owned(),
            reason: error.to_string(),
        })?;
        let value = self.structured_output_value(input, &schema).await?;
        serde_json::from_value(value).map_err(AgentError::StructuredOutputType)
    }

    /// Runs the agent on `input` and returns its answer in the shape of `schema`, a shape known
    /// only at run time (see [`OutputSchema::new`]); otherwise as [`Agent::structured_output`].
    ///
    /// ```
    /// use serde_json::json;
    /// use strands_agent::{Agent, OutputSchema};
    /// use strands_testkit::ScriptedModel;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let schema = OutputSchema::new(json!({
    ///     "title": "Person",
    ///     "type": "object",
    ///     "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    ///     "required": ["name", "age"]
    /// }))?;
    /// let model = ScriptedModel::builder()
    ///     .tool_use("t1", "Person", r#"{"name": "Ana", "age": "31"}"#)
    ///     .build();
    /// let mut agent = Agent::builder().model(model).build()?;
    /// let person = agent.structured_output_value("Ana is 31.", &schema).await?;
    /// assert_eq!(person, json!({"name": "Ana", "age": 31}));
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// Those of [`Agent::structured_output`].
    pub async fn structured_output_value(
        &mut self,
        input: impl Into<AgentInput>,
        schema: &OutputSchema,
    ) -> Result<Value, AgentError> {
        let output = StructuredOutput::new(schema, self.tools.specs()).map_err(|reason| {
            AgentError::StructuredOutput {
                tool_name: schema.name().to_owned(),
                reason,
            }
        })?;
        let options = RunOptions {
            structured_output: Some(output),
            ..RunOptions::default()
        };
        let result = self.run(input.into(), options).await?;
        result
            .structured_output
            .ok_or_else(|| AgentError::StructuredOutput {
                tool_name: schema.name().to_owned(),
                reason: "the invocation ended without it".to_owned(),
            })
    }

    /// One invocation for a caller that wants only its result: events are dropped unseen.
    async fn run(
        &mut self,
        input: AgentInput,
        options: RunOptions,
    ) -> Result<Box<AgentResult>, AgentError> {
        let span = self.invoke_span();
        // Boxed: the loop's state is several kilobytes.
        Box::pin(event_loop::run(self, input, options, EventSink::discard()))
            .instrument(span)
            .await
    }

    /// The `invoke_agent` span of one invocation.
    fn invoke_span(&self) -> tracing::Span {
        tracing::info_span!(
            "invoke_agent",
            otel.name = %format_args!("invoke_agent {}", self.hook_agent.name),
            gen_ai.operation.name = "invoke_agent",
            gen_ai.system = "strands-agents",
            gen_ai.agent.name = %self.hook_agent.name,
            gen_ai.request.model = %self.model.model_id(),
        )
    }
}
