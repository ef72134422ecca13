//! Model providers for the (unofficial) Rust port of [Strands Agents], each behind a cargo
//! feature. Every provider implements [`strands_core::Model`].
//!
//! | Feature | Provider | Default |
//! |---|---|---|
//! | `bedrock` | [Amazon Bedrock](bedrock) (ConverseStream / Converse, official AWS SDK) | yes |
//!
//! [Strands Agents]: https://strandsagents.com
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]

#[cfg(feature = "bedrock")]
#[cfg_attr(docsrs, doc(cfg(feature = "bedrock")))]
pub mod bedrock;
