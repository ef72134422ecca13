//! Finding `strands-agent` under whatever name the calling crate gave it.

use proc_macro_crate::{FoundCrate, crate_name};
use proc_macro2::Span;

/// The path of `strands-agent` in the calling crate, as a string starting with `::`:
/// `::strands_agent`, `::renamed` for `renamed = { package = "strands-agent" }`, or
/// `::strands_runtime::agent` for a crate that depends on `strands-runtime` only (which
/// re-exports the agent SDK as `agent`).
///
/// # Errors
///
/// The calling crate depends on neither.
pub(crate) fn strands_agent() -> syn::Result<String> {
    let found = match crate_name("strands-agent") {
        // strands-agent itself (and its doctests) has `extern crate self as strands_agent;`.
        Ok(FoundCrate::Itself) => return Ok("::strands_agent".to_owned()),
        Ok(FoundCrate::Name(name)) => name,
        Err(agent_error) => match crate_name("strands-runtime") {
            Ok(FoundCrate::Name(name)) => format!("{name}::agent"),
            Ok(FoundCrate::Itself) => "strands_runtime::agent".to_owned(),
            Err(_) => {
                return Err(syn::Error::new(
                    Span::call_site(),
                    format!(
                        "#[tool] needs the `strands-agent` crate (or `strands-runtime`, which re-exports it): add it to `[dependencies]` in Cargo.toml ({agent_error})"
                    ),
                ));
            }
        },
    };
    syn::parse_str::<syn::Path>(&found).map_err(|_| {
        syn::Error::new(
            Span::call_site(),
            format!("#[tool] cannot refer to `strands-agent` by the name `{found}`; rename the dependency"),
        )
    })?;
    Ok(format!("::{found}"))
}
