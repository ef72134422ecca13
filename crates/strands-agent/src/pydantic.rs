//! What pydantic does for Python Strands, re-created over schemars: the JSON schema a model
//! class produces (`model_json_schema()`), and lax validation with pydantic's error texts.
//!
//! Python Strands builds both tool input schemas and structured-output tool specs from pydantic
//! schemas, then post-processes them; starting from the same shape lets those post-processing
//! steps be ported line by line (`tools::schema`, `structured_output::convert`).

mod dump;
mod error;
mod repr;
mod scalars;
mod schema;
mod validate;

pub(crate) use dump::dump;
pub(crate) use error::validation_error_text;
pub(crate) use repr::{float_repr, python_repr};
pub(crate) use schema::model_json_schema;
pub(crate) use validate::validate;
