//! Finding `strands-agent` under whatever name the calling crate gave it.

use proc_macro_crate::{FoundCrate, crate_name};
use proc_macro2::{Ident, Span};

/// The name of `strands-agent` in the calling crate: `strands_agent`, or `renamed` for
/// `renamed = { package = "strands-agent" }`; generated paths start with `::name`.
///
/// # Errors
///
/// The calling crate does not depend on `strands-agent`.
pub(crate) fn strands_agent() -> syn::Result<Ident> {
    match crate_name("strands-agent") {
        // strands-agent itself (and its doctests) has `extern crate self as strands_agent;`.
        Ok(FoundCrate::Itself) => Ok(Ident::new("strands_agent", Span::call_site())),
        Ok(FoundCrate::Name(name)) => {
            syn::parse_str::<Ident>(&name).map_err(|_| {
                syn::Error::new(
                    Span::call_site(),
                    format!("#[tool] cannot refer to `strands-agent` by the name `{name}`; rename the dependency"),
                )
            })
        }
        Err(error) => Err(syn::Error::new(
            Span::call_site(),
            format!(
                "#[tool] needs the `strands-agent` crate: add `strands-agent` to `[dependencies]` in Cargo.toml ({error})"
            ),
        )),
    }
}
