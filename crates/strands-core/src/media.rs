//! Images, documents, video and audio content.
//!
//! Python: `strands.types.media`.

use serde::{Deserialize, Serialize};

use crate::Blob;
use crate::citations::CitationsConfig;

/// Where media bytes come from: inline bytes or a location such as S3.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MediaSource {
    /// The bytes, inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<Blob>,
    /// A location the provider reads the bytes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<SourceLocation>,
}

impl MediaSource {
    /// Inline bytes.
    pub fn bytes(bytes: impl Into<Blob>) -> Self {
        Self {
            bytes: Some(bytes.into()),
            location: None,
        }
    }

    /// An S3 object.
    pub fn s3(uri: impl Into<String>) -> Self {
        Self {
            bytes: None,
            location: Some(SourceLocation {
                kind: "s3".to_owned(),
                uri: Some(uri.into()),
                bucket_owner: None,
            }),
        }
    }
}

/// `{"type": "s3", "uri", "bucketOwner"?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SourceLocation {
    /// The location type, e.g. `"s3"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The object URI, e.g. `s3://bucket/key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// The account that owns the bucket, when it is not the caller's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket_owner: Option<String>,
}

/// Image formats models accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ImageFormat {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// GIF.
    Gif,
    /// WebP.
    Webp,
}

/// `{"format", "source"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ImageContent {
    /// The image format.
    pub format: ImageFormat,
    /// The image bytes or location.
    pub source: MediaSource,
}

impl ImageContent {
    /// An image from bytes.
    pub fn new(format: ImageFormat, source: MediaSource) -> Self {
        Self { format, source }
    }
}

impl ImageFormat {
    /// The registered MIME type (`image/png`, ...).
    pub fn mime_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Gif => "image/gif",
            Self::Webp => "image/webp",
        }
    }
}

/// Document formats models accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum DocumentFormat {
    /// PDF.
    Pdf,
    /// CSV.
    Csv,
    /// Word (legacy).
    Doc,
    /// Word.
    Docx,
    /// Excel (legacy).
    Xls,
    /// Excel.
    Xlsx,
    /// HTML.
    Html,
    /// Plain text.
    Txt,
    /// Markdown.
    Md,
}

impl DocumentFormat {
    /// The registered MIME type (`application/pdf`, `text/markdown`, ...).
    pub fn mime_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Csv => "text/csv",
            Self::Doc => "application/msword",
            Self::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Self::Xls => "application/vnd.ms-excel",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Html => "text/html",
            Self::Txt => "text/plain",
            Self::Md => "text/markdown",
        }
    }
}

/// `{"format", "name", "source", "citations"?, "context"?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DocumentContent {
    /// The document format.
    pub format: DocumentFormat,
    /// A name for the document.
    pub name: String,
    /// The document bytes or location.
    pub source: MediaSource,
    /// Whether the model should cite this document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citations: Option<CitationsConfig>,
    /// Extra context about the document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
}

impl DocumentContent {
    /// A document.
    pub fn new(format: DocumentFormat, name: impl Into<String>, source: MediaSource) -> Self {
        Self {
            format,
            name: name.into(),
            source,
            citations: None,
            context: None,
        }
    }
}

/// `{"format", "source"}`; the format is a Bedrock video format name such as `"mp4"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VideoContent {
    /// The video format, e.g. `"mp4"`.
    pub format: String,
    /// The video bytes or location.
    pub source: MediaSource,
}

/// `{"format", "source"}`; the format is a Bedrock audio format name such as `"mp3"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AudioContent {
    /// The audio format, e.g. `"wav"`.
    pub format: String,
    /// The audio bytes or location.
    pub source: MediaSource,
}
