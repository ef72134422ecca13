//! Strands messages, tool specs and system prompts → Bedrock Converse request types.
//!
//! Python: `BedrockModel.format_request` and `_format_request_message_content`. Bedrock rejects
//! unknown fields, so only the fields each block type accepts are mapped.

use aws_sdk_bedrockruntime::types as bedrock;
use aws_smithy_types::Blob as SmithyBlob;
use aws_smithy_types::error::operation::BuildError;
use serde_json::{Value, json};
use strands_core::citations::{Citation, CitationLocation, CitationsContentBlock, DocumentRange};
use strands_core::content::{CachePoint, GuardContent, ReasoningContentBlock};
use strands_core::media::{AudioContent, DocumentContent, ImageContent, MediaSource, VideoContent};
use strands_core::{
    ContentBlock, ModelMessages, ModelRequest, Role, SystemContentBlock, ToolChoice, ToolResult,
    ToolResultContent, ToolResultStatus, ToolSpec,
};

use super::BedrockConfig;
use super::document::to_document;

/// Model-dependent choices made while formatting, from the model id (as Python does).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Formatting {
    /// Send `status` on tool results (Claude models only, unless configured).
    pub(crate) tool_result_status: bool,
    /// Send JSON tool results as text (Nova models hallucinate on JSON blocks).
    pub(crate) json_results_as_text: bool,
    /// Drop reasoning text from history (models that reject it).
    pub(crate) drop_reasoning: bool,
}

const MODELS_REJECT_REASONING_TEXT: [&str; 5] = [
    "amazon.nova-lite",
    "amazon.nova-pro",
    "google.gemma",
    "meta.llama",
    "mistral.devstral",
];

impl Formatting {
    pub(crate) fn for_model(model_id: &str, include_status: Option<bool>) -> Self {
        Self {
            tool_result_status: include_status
                .unwrap_or_else(|| model_id.contains("anthropic.claude")),
            json_results_as_text: model_id.contains("amazon.nova"),
            drop_reasoning: MODELS_REJECT_REASONING_TEXT
                .iter()
                .any(|m| model_id.contains(m)),
        }
    }
}

pub(crate) fn messages(
    messages: ModelMessages<'_>,
    formatting: Formatting,
) -> Result<Vec<bedrock::Message>, BuildError> {
    messages
        .iter()
        .map(|message| {
            let mut content = Vec::with_capacity(message.content.len());
            for block in message.content {
                if let Some(block) = content_block(block, formatting)? {
                    content.push(block);
                }
            }
            bedrock::Message::builder()
                .role(match message.role {
                    Role::User => bedrock::ConversationRole::User,
                    Role::Assistant => bedrock::ConversationRole::Assistant,
                })
                .set_content(Some(content))
                .build()
        })
        .collect()
}

fn content_block(
    block: &ContentBlock,
    formatting: Formatting,
) -> Result<Option<bedrock::ContentBlock>, BuildError> {
    Ok(Some(match block {
        ContentBlock::Text(text) => bedrock::ContentBlock::Text(text.clone()),
        ContentBlock::ToolUse(tool_use) => bedrock::ContentBlock::ToolUse(
            bedrock::ToolUseBlock::builder()
                .tool_use_id(&tool_use.tool_use_id)
                .name(&tool_use.name)
                .input(to_document(&tool_use.input))
                .build()?,
        ),
        ContentBlock::ToolResult(result) => {
            bedrock::ContentBlock::ToolResult(tool_result(result, formatting)?)
        }
        ContentBlock::Image(image) => bedrock::ContentBlock::Image(image_block(image)?),
        ContentBlock::Document(document) => {
            bedrock::ContentBlock::Document(document_block(document)?)
        }
        ContentBlock::Video(video) => bedrock::ContentBlock::Video(video_block(video)?),
        ContentBlock::Audio(audio) => bedrock::ContentBlock::Audio(audio_block(audio)?),
        ContentBlock::ReasoningContent(reasoning) => {
            if formatting.drop_reasoning {
                return Ok(None);
            }
            bedrock::ContentBlock::ReasoningContent(match reasoning {
                ReasoningContentBlock::ReasoningText(text) => {
                    bedrock::ReasoningContentBlock::ReasoningText(
                        bedrock::ReasoningTextBlock::builder()
                            .text(&text.text)
                            .set_signature(text.signature.clone())
                            .build()?,
                    )
                }
                ReasoningContentBlock::RedactedContent(bytes) => {
                    bedrock::ReasoningContentBlock::RedactedContent(SmithyBlob::new(
                        bytes.as_bytes(),
                    ))
                }
                // Reasoning kinds this crate does not know are not sent.
                #[allow(unreachable_patterns, reason = "the enum is non-exhaustive")]
                _ => return Ok(None),
            })
        }
        ContentBlock::CachePoint(cache_point) => {
            bedrock::ContentBlock::CachePoint(cache_point_block(cache_point)?)
        }
        ContentBlock::GuardContent(guard) => {
            bedrock::ContentBlock::GuardContent(guard_block(guard)?)
        }
        ContentBlock::CitationsContent(citations) => {
            bedrock::ContentBlock::CitationsContent(citations_block(citations))
        }
        #[allow(unreachable_patterns, reason = "the enum is non-exhaustive")]
        _ => return Ok(None),
    }))
}

fn tool_result(
    result: &ToolResult,
    formatting: Formatting,
) -> Result<bedrock::ToolResultBlock, BuildError> {
    let mut content = Vec::with_capacity(result.content.len());
    for item in &result.content {
        content.push(match item {
            ToolResultContent::Text(text) => bedrock::ToolResultContentBlock::Text(text.clone()),
            ToolResultContent::Json(value) if formatting.json_results_as_text => {
                bedrock::ToolResultContentBlock::Text(value.to_string())
            }
            ToolResultContent::Json(value) => {
                bedrock::ToolResultContentBlock::Json(to_document(value))
            }
            ToolResultContent::Image(image) => {
                bedrock::ToolResultContentBlock::Image(image_block(image)?)
            }
            ToolResultContent::Document(document) => {
                bedrock::ToolResultContentBlock::Document(document_block(document)?)
            }
            #[allow(unreachable_patterns, reason = "the enum is non-exhaustive")]
            _ => continue,
        });
    }
    let status = formatting
        .tool_result_status
        .then_some(match result.status {
            ToolResultStatus::Success => bedrock::ToolResultStatus::Success,
            ToolResultStatus::Error => bedrock::ToolResultStatus::Error,
        });
    bedrock::ToolResultBlock::builder()
        .tool_use_id(&result.tool_use_id)
        .set_content(Some(content))
        .set_status(status)
        .build()
}

fn s3_location(source: &MediaSource) -> Result<Option<bedrock::S3Location>, BuildError> {
    let Some(location) = &source.location else {
        return Ok(None);
    };
    bedrock::S3Location::builder()
        .set_uri(location.uri.clone())
        .set_bucket_owner(location.bucket_owner.clone())
        .build()
        .map(Some)
}

fn image_block(image: &ImageContent) -> Result<bedrock::ImageBlock, BuildError> {
    let format = serde_json::to_value(image.format)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let source = match (&image.source.bytes, s3_location(&image.source)?) {
        (Some(bytes), _) => Some(bedrock::ImageSource::Bytes(SmithyBlob::new(
            bytes.as_bytes(),
        ))),
        (None, Some(location)) => Some(bedrock::ImageSource::S3Location(location)),
        (None, None) => None,
    };
    bedrock::ImageBlock::builder()
        .format(bedrock::ImageFormat::from(format.as_str()))
        .set_source(source)
        .build()
}

fn document_block(document: &DocumentContent) -> Result<bedrock::DocumentBlock, BuildError> {
    let format = serde_json::to_value(document.format)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let source = match (&document.source.bytes, s3_location(&document.source)?) {
        (Some(bytes), _) => Some(bedrock::DocumentSource::Bytes(SmithyBlob::new(
            bytes.as_bytes(),
        ))),
        (None, Some(location)) => Some(bedrock::DocumentSource::S3Location(location)),
        (None, None) => None,
    };
    bedrock::DocumentBlock::builder()
        .format(bedrock::DocumentFormat::from(format.as_str()))
        .name(&document.name)
        .set_source(source)
        .set_context(document.context.clone())
        .set_citations(
            document
                .citations
                .map(|c| {
                    bedrock::CitationsConfig::builder()
                        .enabled(c.enabled)
                        .build()
                })
                .transpose()?,
        )
        .build()
}

/// Python's aliases for video formats Bedrock spells differently.
fn video_format(format: &str) -> &str {
    match format {
        "3gp" | "3g2" | "3gpp" => "three_gp",
        other => other,
    }
}

fn video_block(video: &VideoContent) -> Result<bedrock::VideoBlock, BuildError> {
    let source = match (&video.source.bytes, s3_location(&video.source)?) {
        (Some(bytes), _) => Some(bedrock::VideoSource::Bytes(SmithyBlob::new(
            bytes.as_bytes(),
        ))),
        (None, Some(location)) => Some(bedrock::VideoSource::S3Location(location)),
        (None, None) => None,
    };
    bedrock::VideoBlock::builder()
        .format(bedrock::VideoFormat::from(video_format(&video.format)))
        .set_source(source)
        .build()
}

fn audio_block(audio: &AudioContent) -> Result<bedrock::AudioBlock, BuildError> {
    let source = match (&audio.source.bytes, s3_location(&audio.source)?) {
        (Some(bytes), _) => Some(bedrock::AudioSource::Bytes(SmithyBlob::new(
            bytes.as_bytes(),
        ))),
        (None, Some(location)) => Some(bedrock::AudioSource::S3Location(location)),
        (None, None) => None,
    };
    bedrock::AudioBlock::builder()
        .format(bedrock::AudioFormat::from(audio.format.as_str()))
        .set_source(source)
        .build()
}

pub(crate) fn cache_point_block(
    cache_point: &CachePoint,
) -> Result<bedrock::CachePointBlock, BuildError> {
    bedrock::CachePointBlock::builder()
        .r#type(bedrock::CachePointType::from(cache_point.kind.as_str()))
        .set_ttl(cache_point.ttl.as_deref().map(bedrock::CacheTtl::from))
        .build()
}

fn guard_block(guard: &GuardContent) -> Result<bedrock::GuardrailConverseContentBlock, BuildError> {
    let qualifiers = guard.text.qualifiers.as_ref().map(|qs| {
        qs.iter()
            .map(|q| bedrock::GuardrailConverseContentQualifier::from(q.as_str()))
            .collect()
    });
    let text = bedrock::GuardrailConverseTextBlock::builder()
        .text(&guard.text.text)
        .set_qualifiers(qualifiers)
        .build()?;
    Ok(bedrock::GuardrailConverseContentBlock::Text(text))
}

fn citations_block(citations: &CitationsContentBlock) -> bedrock::CitationsContentBlock {
    bedrock::CitationsContentBlock::builder()
        .set_content(Some(
            citations
                .content
                .iter()
                .filter_map(|c| c.text.clone())
                .map(bedrock::CitationGeneratedContent::Text)
                .collect(),
        ))
        .set_citations(Some(citations.citations.iter().map(citation).collect()))
        .build()
}

fn citation(citation: &Citation) -> bedrock::Citation {
    bedrock::Citation::builder()
        .set_title(citation.title.clone())
        .set_source_content(citation.source_content.as_ref().map(|contents| {
            contents
                .iter()
                .filter_map(|c| c.text.clone())
                .map(bedrock::CitationSourceContent::Text)
                .collect()
        }))
        .set_location(citation.location.as_ref().and_then(citation_location))
        .build()
}

fn to_i32(value: Option<u64>) -> Option<i32> {
    value.and_then(|v| i32::try_from(v).ok())
}

fn citation_location(location: &CitationLocation) -> Option<bedrock::CitationLocation> {
    let range = |r: &DocumentRange| (to_i32(r.document_index), to_i32(r.start), to_i32(r.end));
    Some(match location {
        CitationLocation::DocumentChar(r) => {
            let (i, s, e) = range(r);
            bedrock::CitationLocation::DocumentChar(
                bedrock::DocumentCharLocation::builder()
                    .set_document_index(i)
                    .set_start(s)
                    .set_end(e)
                    .build(),
            )
        }
        CitationLocation::DocumentPage(r) => {
            let (i, s, e) = range(r);
            bedrock::CitationLocation::DocumentPage(
                bedrock::DocumentPageLocation::builder()
                    .set_document_index(i)
                    .set_start(s)
                    .set_end(e)
                    .build(),
            )
        }
        CitationLocation::DocumentChunk(r) => {
            let (i, s, e) = range(r);
            bedrock::CitationLocation::DocumentChunk(
                bedrock::DocumentChunkLocation::builder()
                    .set_document_index(i)
                    .set_start(s)
                    .set_end(e)
                    .build(),
            )
        }
        CitationLocation::SearchResultLocation(r) => {
            bedrock::CitationLocation::SearchResultLocation(
                bedrock::SearchResultLocation::builder()
                    .set_search_result_index(to_i32(r.search_result_index))
                    .set_start(to_i32(r.start))
                    .set_end(to_i32(r.end))
                    .build(),
            )
        }
        CitationLocation::Web(web) => bedrock::CitationLocation::Web(
            bedrock::WebLocation::builder()
                .set_url(web.url.clone())
                .set_domain(web.domain.clone())
                .build(),
        ),
        #[allow(unreachable_patterns, reason = "the enum is non-exhaustive")]
        _ => return None,
    })
}

pub(crate) fn system(
    blocks: &[SystemContentBlock],
) -> Result<Vec<bedrock::SystemContentBlock>, BuildError> {
    let mut out = Vec::with_capacity(blocks.len());
    for block in blocks {
        out.push(match block {
            SystemContentBlock::Text(text) => bedrock::SystemContentBlock::Text(text.clone()),
            SystemContentBlock::CachePoint(cache_point) => {
                bedrock::SystemContentBlock::CachePoint(cache_point_block(cache_point)?)
            }
            #[allow(unreachable_patterns, reason = "the enum is non-exhaustive")]
            _ => continue,
        });
    }
    Ok(out)
}

/// The tool configuration; `None` without tools, except that a history holding tool blocks gets
/// Python's `noop` tool (Bedrock rejects tool blocks when no tools are configured).
pub(crate) fn tool_config(
    specs: Option<&[ToolSpec]>,
    choice: Option<&ToolChoice>,
    messages: ModelMessages<'_>,
) -> Result<Option<bedrock::ToolConfiguration>, BuildError> {
    let noop;
    let specs = match specs {
        Some(specs) if !specs.is_empty() => specs,
        _ => {
            let has_tool_content = messages.iter().any(|m| {
                m.content
                    .iter()
                    .any(|b| matches!(b, ContentBlock::ToolUse(_) | ContentBlock::ToolResult(_)))
            });
            if !has_tool_content {
                return Ok(None);
            }
            noop = [noop_tool()];
            &noop
        }
    };
    let mut tools = Vec::with_capacity(specs.len());
    for spec in specs {
        tools.push(bedrock::Tool::ToolSpec(
            bedrock::ToolSpecification::builder()
                .name(&spec.name)
                .description(&spec.description)
                .input_schema(bedrock::ToolInputSchema::Json(to_document(
                    &spec.input_schema.json,
                )))
                .build()?,
        ));
    }
    let choice = match choice {
        Some(ToolChoice::Any {}) => {
            bedrock::ToolChoice::Any(bedrock::AnyToolChoice::builder().build())
        }
        Some(ToolChoice::Tool { name }) => {
            bedrock::ToolChoice::Tool(bedrock::SpecificToolChoice::builder().name(name).build()?)
        }
        _ => bedrock::ToolChoice::Auto(bedrock::AutoToolChoice::builder().build()),
    };
    bedrock::ToolConfiguration::builder()
        .set_tools(Some(tools))
        .tool_choice(choice)
        .build()
        .map(Some)
}

/// Python's `noop_tool`: satisfies Bedrock when history has tool blocks but the agent has none.
fn noop_tool() -> ToolSpec {
    ToolSpec::new(
        "noop",
        "No-op tool to satisfy tool spec requirement when tool messages are present.\n\nSome model providers (e.g., Bedrock) will return an error response if tool uses and tool results are present in\nmessages without any tool specs configured. Consequently, if the summarization agent has no registered tools,\nsummarization will fail. As a workaround, we register the no-op tool.",
        json!({"properties": {}, "required": [], "type": "object"}),
    )
}

/// Everything a Converse or ConverseStream call carries besides the model id and guardrail.
#[derive(Debug, Clone)]
pub(crate) struct Parts {
    pub(crate) messages: Vec<bedrock::Message>,
    pub(crate) system: Option<Vec<bedrock::SystemContentBlock>>,
    pub(crate) tool_config: Option<bedrock::ToolConfiguration>,
    pub(crate) inference: Option<bedrock::InferenceConfiguration>,
    pub(crate) additional_fields: Option<aws_smithy_types::Document>,
}

impl Parts {
    /// The parts of a call for `request` with this configuration.
    pub(crate) fn new(
        config: &BedrockConfig,
        request: &ModelRequest<'_>,
    ) -> Result<Self, BuildError> {
        let formatting = Formatting::for_model(&config.model_id, config.include_tool_result_status);
        let system = match (request.system_prompt_content, request.system_prompt) {
            (Some(blocks), _) if !blocks.is_empty() => Some(system(blocks)?),
            (_, Some(prompt)) => Some(vec![bedrock::SystemContentBlock::Text(prompt.to_owned())]),
            _ => None,
        };
        let inference = (config.max_tokens.is_some()
            || config.temperature.is_some()
            || config.top_p.is_some()
            || !config.stop_sequences.is_empty())
        .then(|| {
            bedrock::InferenceConfiguration::builder()
                .set_max_tokens(config.max_tokens)
                .set_temperature(config.temperature)
                .set_top_p(config.top_p)
                .set_stop_sequences(
                    (!config.stop_sequences.is_empty()).then(|| config.stop_sequences.clone()),
                )
                .build()
        });
        // Bedrock rejects reasoning settings while a tool is forced (Python drops them too).
        let forced = matches!(
            request.tool_choice,
            Some(ToolChoice::Tool { .. }) | Some(ToolChoice::Any {})
        );
        let additional_fields = config.additional_request_fields.as_ref().map(|fields| {
            let mut fields = fields.clone();
            if forced && let Value::Object(map) = &mut fields {
                map.shift_remove("thinking");
            }
            to_document(&fields)
        });
        Ok(Self {
            messages: messages(request.messages, formatting)?,
            system,
            tool_config: tool_config(request.tool_specs, request.tool_choice, request.messages)?,
            inference,
            additional_fields: additional_fields
                .filter(|d| !matches!(d, aws_smithy_types::Document::Object(m) if m.is_empty())),
        })
    }
}
