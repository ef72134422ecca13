//! MCP tool results as Strands tool-result content, as Python Strands 1.62 maps them
//! (`MCPClient._handle_tool_result` and `_map_mcp_content_to_tool_result_content`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rmcp::model::{CallToolResult, ContentBlock, ResourceContents};
use strands_core::media::{ImageContent, ImageFormat, MediaSource};
use strands_core::{ToolResultContent, ToolResultStatus};

/// The image formats Python maps (`MIME_TO_FORMAT`).
fn image_format(mime: &str) -> Option<ImageFormat> {
    match mime {
        "image/jpeg" | "image/jpg" => Some(ImageFormat::Jpeg),
        "image/png" => Some(ImageFormat::Png),
        "image/gif" => Some(ImageFormat::Gif),
        "image/webp" => Some(ImageFormat::Webp),
        _ => None,
    }
}

/// Whether a blob with this MIME type is text (Python's `_is_text_mime`).
fn is_text_mime(mime: &str) -> bool {
    mime.starts_with("text/")
        || matches!(
            mime,
            "application/json"
                | "application/xml"
                | "application/javascript"
                | "application/yaml"
                | "application/x-yaml"
        )
        || mime.ends_with("+json")
        || mime.ends_with("+xml")
}

fn image(format: ImageFormat, bytes: Vec<u8>) -> ToolResultContent {
    ToolResultContent::Image(ImageContent::new(format, MediaSource::bytes(bytes)))
}

/// One content block; `Ok(None)` drops it (audio, resource links, undecodable blobs), `Err`
/// fails the whole call as Python's `KeyError` or base64 error does.
fn map_block(block: ContentBlock) -> Result<Option<ToolResultContent>, String> {
    match block {
        ContentBlock::Text(text) => Ok(Some(ToolResultContent::Text(text.text))),
        ContentBlock::Image(picture) => {
            // Python: `MIME_TO_FORMAT[mime]` raises KeyError('image/x'), shown with quotes.
            let format = image_format(&picture.mime_type)
                .ok_or_else(|| format!("'{}'", picture.mime_type))?;
            let bytes = STANDARD
                .decode(picture.data.as_bytes())
                .map_err(|error| error.to_string())?;
            Ok(Some(image(format, bytes)))
        }
        ContentBlock::Resource(embedded) => Ok(match embedded.resource {
            ResourceContents::TextResourceContents { text, .. } => {
                Some(ToolResultContent::Text(text))
            }
            ResourceContents::BlobResourceContents {
                mime_type, blob, ..
            } => {
                let Ok(bytes) = STANDARD.decode(blob.as_bytes()) else {
                    tracing::debug!("an embedded blob is not base64; it is left out");
                    return Ok(None);
                };
                let mime = mime_type.unwrap_or_default();
                if is_text_mime(&mime) {
                    Some(ToolResultContent::Text(
                        String::from_utf8_lossy(&bytes).into_owned(),
                    ))
                } else {
                    image_format(&mime).map(|format| image(format, bytes))
                }
            }
            _ => None,
        }),
        other => {
            tracing::debug!(kind = ?std::mem::discriminant(&other), "an MCP content block of a kind the model cannot read is left out");
            Ok(None)
        }
    }
}

/// The status, content and structured content of a tool result, or the text of a failed call
/// (Python's `Tool execution failed: <error>`, without the prefix).
pub(crate) fn map_result(
    result: CallToolResult,
) -> Result<
    (
        ToolResultStatus,
        Vec<ToolResultContent>,
        Option<serde_json::Value>,
    ),
    String,
> {
    let status = if result.is_error == Some(true) {
        ToolResultStatus::Error
    } else {
        ToolResultStatus::Success
    };
    let mut content = Vec::with_capacity(result.content.len());
    for block in result.content {
        if let Some(mapped) = map_block(block)? {
            content.push(mapped);
        }
    }
    Ok((status, content, result.structured_content))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn result(value: Value) -> CallToolResult {
        serde_json::from_value(value).unwrap_or_else(|e| panic!("{e}"))
    }

    fn mapped(value: Value) -> Result<Value, String> {
        map_result(result(value)).map(|(status, content, _)| {
            json!({
                "status": serde_json::to_value(status).unwrap_or_default(),
                "content": serde_json::to_value(content).unwrap_or_default(),
            })
        })
    }

    #[test]
    fn text_images_and_embedded_resources_map_as_in_python() {
        let png = STANDARD.encode([0x89, b'P', b'N', b'G']);
        let json_blob = STANDARD.encode(br#"{"a": 1}"#);
        let got = mapped(json!({"content": [
            {"type": "text", "text": "hello"},
            {"type": "image", "data": png, "mimeType": "image/png"},
            {"type": "resource", "resource": {"uri": "file:///a.txt", "text": "file text"}},
            {"type": "resource", "resource": {"uri": "file:///a.json", "mimeType": "application/vnd.api+json", "blob": json_blob}},
            {"type": "resource", "resource": {"uri": "file:///a.png", "mimeType": "image/png", "blob": png}},
            {"type": "resource", "resource": {"uri": "file:///a.bin", "mimeType": "application/octet-stream", "blob": png}},
            {"type": "resource_link", "uri": "file:///b", "name": "b"},
            {"type": "audio", "data": png, "mimeType": "audio/wav"}
        ]}))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(got["status"], "success");
        let content = got["content"].as_array().cloned().unwrap_or_default();
        assert_eq!(content.len(), 5, "{content:?}");
        assert_eq!(content[0], json!({"text": "hello"}));
        assert_eq!(content[1]["image"]["format"], "png");
        assert_eq!(content[2], json!({"text": "file text"}));
        assert_eq!(content[3], json!({"text": "{\"a\": 1}"}));
        assert_eq!(content[4]["image"]["format"], "png");
    }

    #[test]
    fn is_error_sets_the_status_and_unknown_images_fail_the_call() {
        let got = mapped(json!({"content": [{"type": "text", "text": "bad"}], "isError": true}))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(got["status"], "error");
        let error = mapped(
            json!({"content": [{"type": "image", "data": "AA==", "mimeType": "image/svg+xml"}]}),
        )
        .err();
        assert_eq!(error.as_deref(), Some("'image/svg+xml'"));
        assert!(mapped(json!({"content": []})).is_ok());
    }
}
