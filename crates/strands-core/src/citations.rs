//! Citations that tie generated text to source documents.
//!
//! Python: `strands.types.citations`.

use serde::{Deserialize, Serialize};

/// `{"enabled": bool}` on a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CitationsConfig {
    /// Whether citations are enabled.
    pub enabled: bool,
}

impl CitationsConfig {
    /// Citations on or off.
    pub fn new(enabled: bool) -> Self {
        Self { enabled }
    }
}

/// Where in a source a citation points. A one-key object such as `{"documentChar": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum CitationLocation {
    /// A character range in a document.
    DocumentChar(DocumentRange),
    /// A page range in a document.
    DocumentPage(DocumentRange),
    /// A chunk range in a document.
    DocumentChunk(DocumentRange),
    /// A range of a search result's content.
    SearchResultLocation(SearchResultRange),
    /// A web page.
    Web(WebLocation),
}

/// `{"documentIndex", "start", "end"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DocumentRange {
    /// Index of the document in the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_index: Option<u64>,
    /// Start of the range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<u64>,
    /// End of the range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<u64>,
}

/// `{"searchResultIndex", "start", "end"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SearchResultRange {
    /// Index of the search result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_result_index: Option<u64>,
    /// Start of the range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<u64>,
    /// End of the range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<u64>,
}

/// `{"url", "domain"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WebLocation {
    /// The cited URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The cited domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
}

/// `{"text"}`: a piece of source or generated text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CitationText {
    /// The text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl CitationText {
    /// A text fragment.
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: Some(text.into()),
        }
    }
}

/// One citation: `{"location", "sourceContent", "title"}`. Also the shape of a citation delta.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Citation {
    /// Where in the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<CitationLocation>,
    /// The cited source text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_content: Option<Vec<CitationText>>,
    /// The source's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

impl Citation {
    /// A citation.
    pub fn new(
        location: Option<CitationLocation>,
        source_content: Option<Vec<CitationText>>,
        title: Option<String>,
    ) -> Self {
        Self {
            location,
            source_content,
            title,
        }
    }
}

impl DocumentRange {
    /// A range in a document.
    pub fn new(document_index: Option<u64>, start: Option<u64>, end: Option<u64>) -> Self {
        Self {
            document_index,
            start,
            end,
        }
    }
}

impl SearchResultRange {
    /// A range of a search result.
    pub fn new(search_result_index: Option<u64>, start: Option<u64>, end: Option<u64>) -> Self {
        Self {
            search_result_index,
            start,
            end,
        }
    }
}

impl WebLocation {
    /// A web location.
    pub fn new(url: Option<String>, domain: Option<String>) -> Self {
        Self { url, domain }
    }
}

/// `{"citations": [...], "content": [{"text"}]}`: generated text with its citations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CitationsContentBlock {
    /// The citations supporting the content.
    #[serde(default)]
    pub citations: Vec<Citation>,
    /// The generated content.
    #[serde(default)]
    pub content: Vec<CitationText>,
}

impl CitationsContentBlock {
    /// Generated text with citations.
    pub fn new(citations: Vec<Citation>, content: Vec<CitationText>) -> Self {
        Self { citations, content }
    }
}
