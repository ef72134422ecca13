//! From a laptop to Amazon Bedrock AgentCore without Docker, for the (unofficial) Rust port of
//! Strands Agents: [`image`] builds the OCI image of the static `strands-runtime` binary in
//! memory, reproducibly, and writes it as an OCI layout; [`registry`] pushes it with the
//! registry HTTP API, to ECR with a token from `GetAuthorizationToken`; [`runtime`] creates,
//! updates, watches and deletes the AgentCore agent runtime that runs it; [`invoke`] calls it (or a
//! local server) and reads the answer as it streams.

mod aws_error;
pub mod image;
pub mod invoke;
pub mod registry;
pub mod runtime;

#[doc(inline)]
pub use image::{Binary, Image, ImageBuilder, ImageError};
#[doc(inline)]
pub use registry::{Reference, Registry, RegistryError};
#[doc(inline)]
pub use runtime::{AgentRuntimes, DeployError, Network, Protocol, RuntimeSpec, RuntimeState};
