//! The arguments of the attribute itself: `#[tool(name = "...", description = "...", blocking)]`.

use proc_macro2::{Span, TokenStream};
use syn::LitStr;
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::spanned::Spanned;

/// What `#[tool(...)]` was given.
#[derive(Debug, Default)]
pub(crate) struct ToolArgs {
    /// `name = "..."`: the tool name, instead of the function name.
    pub(crate) name: Option<LitStr>,
    /// `description = "..."`: the tool description, instead of the doc comment.
    pub(crate) description: Option<LitStr>,
    /// `blocking`: where it was written, if given.
    pub(crate) blocking: Option<Span>,
}

impl ToolArgs {
    /// Parses the tokens inside `#[tool(...)]`.
    ///
    /// # Errors
    ///
    /// Unknown or repeated arguments, or a value that is not a string literal.
    pub(crate) fn parse(tokens: TokenStream) -> syn::Result<Self> {
        let mut args = Self::default();
        syn::meta::parser(|meta| args.parse_one(&meta)).parse2(tokens)?;
        Ok(args)
    }

    fn parse_one(&mut self, meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
        if meta.path.is_ident("name") {
            set_once(&mut self.name, meta, "name", meta.value()?.parse()?)
        } else if meta.path.is_ident("description") {
            set_once(
                &mut self.description,
                meta,
                "description",
                meta.value()?.parse()?,
            )
        } else if meta.path.is_ident("blocking") {
            if meta.input.peek(syn::Token![=]) || meta.input.peek(syn::token::Paren) {
                return Err(meta.error("`blocking` takes no value: write `#[tool(blocking)]`"));
            }
            set_once(&mut self.blocking, meta, "blocking", meta.path.span())
        } else {
            let name = quote::ToTokens::to_token_stream(&meta.path)
                .to_string()
                .replace(' ', "");
            Err(meta.error(format!(
                "unknown `#[tool]` argument `{name}`; expected `name = \"...\"`, `description = \"...\"` or `blocking`"
            )))
        }
    }
}

fn set_once<T>(
    slot: &mut Option<T>,
    meta: &ParseNestedMeta<'_>,
    key: &str,
    value: T,
) -> syn::Result<()> {
    if slot.is_some() {
        return Err(meta.error(format!("`{key}` is given twice; keep one")));
    }
    *slot = Some(value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn all_arguments_are_parsed() {
        let args =
            ToolArgs::parse(quote!(name = "renamed", description = "Does it.", blocking)).unwrap();
        assert_eq!(args.name.unwrap().value(), "renamed");
        assert_eq!(args.description.unwrap().value(), "Does it.");
        assert!(args.blocking.is_some());
    }

    #[test]
    fn empty_arguments_are_the_default() {
        let args = ToolArgs::parse(TokenStream::new()).unwrap();
        assert!(args.name.is_none() && args.description.is_none() && args.blocking.is_none());
    }

    #[test]
    fn unknown_argument_names_the_expected_ones() {
        let error = ToolArgs::parse(quote!(nmae = "x")).unwrap_err().to_string();
        assert_eq!(
            error,
            "unknown `#[tool]` argument `nmae`; expected `name = \"...\"`, `description = \"...\"` or `blocking`"
        );
    }

    #[test]
    fn repeated_and_malformed_arguments_are_rejected() {
        let error = ToolArgs::parse(quote!(name = "a", name = "b"))
            .unwrap_err()
            .to_string();
        assert_eq!(error, "`name` is given twice; keep one");
        assert!(ToolArgs::parse(quote!(name = 3)).is_err());
        let error = ToolArgs::parse(quote!(blocking = true))
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "`blocking` takes no value: write `#[tool(blocking)]`"
        );
    }
}
