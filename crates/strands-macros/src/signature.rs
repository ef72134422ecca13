//! Checking a `#[tool]` function's signature and sorting its parameters into tool arguments and
//! the [`ToolContext`](https://docs.rs/strands-core) slot.

use proc_macro2::Ident;
use syn::{FnArg, Pat, Signature, Type};

/// A parameter of the function, in order.
#[derive(Debug)]
pub(crate) enum Param {
    /// An argument the model supplies: a field of the generated arguments struct.
    Argument {
        /// The parameter name as written, without `mut`.
        ident: Ident,
        /// The parameter type.
        ty: Box<Type>,
    },
    /// The parameter receiving the tool context.
    Context,
}

/// Checks that `sig` can become a tool and returns its parameters.
///
/// # Errors
///
/// Every problem found (methods, generics, unnamed parameters, borrowed arguments, a second
/// context), combined into one error.
pub(crate) fn check(sig: &Signature) -> syn::Result<Vec<Param>> {
    let mut errors = Errors::default();
    if let Some(unsafety) = &sig.unsafety {
        errors.push(syn::Error::new_spanned(
            unsafety,
            "#[tool] functions cannot be `unsafe`: the agent calls them with whatever the model sends",
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        errors.push(syn::Error::new_spanned(
            &sig.generics,
            "#[tool] functions cannot be generic: each argument needs a concrete type for the JSON schema; \
             use concrete types, or implement `Tool` by hand",
        ));
    }
    if let Some(variadic) = &sig.variadic {
        errors.push(syn::Error::new_spanned(
            variadic,
            "#[tool] functions cannot be variadic",
        ));
    }

    let mut params = Vec::with_capacity(sig.inputs.len());
    let mut context_seen = false;
    for input in &sig.inputs {
        let typed = match input {
            FnArg::Receiver(receiver) => {
                errors.push(syn::Error::new_spanned(
                    receiver,
                    "#[tool] works on free functions; wrap the method in a free function or implement `Tool`",
                ));
                continue;
            }
            FnArg::Typed(typed) => typed,
        };
        match context_kind(&typed.ty) {
            Some(ContextKind::Owned) => {
                if context_seen {
                    errors.push(syn::Error::new_spanned(
                        typed,
                        "a #[tool] function takes at most one `ToolContext` parameter; remove this one",
                    ));
                }
                context_seen = true;
                params.push(Param::Context);
                continue;
            }
            Some(ContextKind::Borrowed) => {
                errors.push(syn::Error::new_spanned(
                    &typed.ty,
                    "take the `ToolContext` by value (`context: ToolContext`); it is cheap to clone",
                ));
                continue;
            }
            None => {}
        }
        match plain_ident(&typed.pat) {
            Some(ident) => {
                check_argument_type(&typed.ty, &mut errors);
                params.push(Param::Argument {
                    ident: ident.clone(),
                    ty: typed.ty.clone(),
                });
            }
            None => errors.push(syn::Error::new_spanned(
                &typed.pat,
                "#[tool] parameters need a plain name, which becomes the JSON field name; \
                 write `name: Type` and destructure inside the function",
            )),
        }
    }
    errors.finish(params)
}

/// Collects several errors so the user sees them all at once.
#[derive(Debug, Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    fn finish<T>(self, value: T) -> syn::Result<T> {
        self.0.map_or(Ok(value), Err)
    }
}

enum ContextKind {
    Owned,
    Borrowed,
}

/// Whether `ty` names `ToolContext` (by its last path segment, so any import path works).
fn context_kind(ty: &Type) -> Option<ContextKind> {
    match ungroup(ty) {
        Type::Path(path) if path.qself.is_none() => path
            .path
            .segments
            .last()
            .filter(|segment| segment.ident == "ToolContext")
            .map(|_| ContextKind::Owned),
        Type::Reference(reference) => context_kind(&reference.elem).map(|_| ContextKind::Borrowed),
        _ => None,
    }
}

fn ungroup(ty: &Type) -> &Type {
    match ty {
        Type::Group(group) => ungroup(&group.elem),
        Type::Paren(paren) => ungroup(&paren.elem),
        other => other,
    }
}

/// The name of a parameter pattern `name` or `mut name`.
fn plain_ident(pat: &Pat) -> Option<&Ident> {
    match pat {
        Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => Some(&pat.ident),
        _ => None,
    }
}

fn check_argument_type(ty: &Type, errors: &mut Errors) {
    match ungroup(ty) {
        Type::ImplTrait(_) => errors.push(syn::Error::new_spanned(
            ty,
            "`impl Trait` parameters make a #[tool] function generic; use a concrete type",
        )),
        Type::Reference(_) => errors.push(syn::Error::new_spanned(
            ty,
            "#[tool] arguments are parsed from the model's JSON and must be owned; \
             use `String` instead of `&str`, `Vec<T>` instead of `&[T]`",
        )),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn messages(sig: &Signature) -> Vec<String> {
        check(sig)
            .unwrap_err()
            .into_iter()
            .map(|e| e.to_string())
            .collect()
    }

    #[test]
    fn context_parameters_are_found_by_last_segment() {
        let sig: Signature =
            parse_quote!(fn f(a: i64, ctx: strands_core::ToolContext, mut b: Option<String>));
        let params = check(&sig).unwrap();
        assert!(matches!(&params[0], Param::Argument { ident, .. } if ident == "a"));
        assert!(matches!(params[1], Param::Context));
        assert!(matches!(&params[2], Param::Argument { ident, .. } if ident == "b"));
    }

    #[test]
    fn every_problem_is_reported() {
        let sig: Signature = parse_quote!(fn f<T>(&self, (a, b): (i64, i64), s: &str, x: impl Copy, c: ToolContext, d: ToolContext));
        let messages = messages(&sig);
        assert_eq!(messages.len(), 6, "{messages:#?}");
        assert!(messages[0].contains("cannot be generic"));
        assert!(messages[1].starts_with("#[tool] works on free functions"));
        assert!(messages[2].contains("plain name"));
        assert!(messages[3].contains("must be owned"));
        assert!(messages[4].contains("`impl Trait`"));
        assert!(messages[5].contains("at most one `ToolContext`"));
    }

    #[test]
    fn borrowed_context_is_rejected() {
        let sig: Signature = parse_quote!(fn f(c: &ToolContext));
        assert!(messages(&sig)[0].contains("by value"));
    }
}
