//! Checking a `#[tool]` function's signature and sorting its parameters into tool arguments and
//! the [`ToolContext`](https://docs.rs/strands-core) slot.

use proc_macro2::Ident;
use syn::{Attribute, Expr, FnArg, Pat, Signature, Type};

/// A parameter of the function, in order.
#[derive(Debug)]
pub(crate) enum Param {
    /// An argument the model supplies: a field of the generated arguments struct.
    Argument {
        /// The parameter name as written, without `mut`.
        ident: Ident,
        /// The parameter type.
        ty: Box<Type>,
        /// `#[tool(default ...)]` on the parameter.
        default: Option<ArgDefault>,
        /// `#[serde(...)]` and `#[schemars(...)]` on the parameter, for the arguments field.
        forwarded: Vec<Attribute>,
    },
    /// The parameter receiving the tool context.
    Context,
}

/// The default of an argument the model may omit.
#[derive(Debug)]
pub(crate) enum ArgDefault {
    /// `#[tool(default)]`: `Default::default()`.
    Trait,
    /// `#[tool(default = expr)]`.
    Expr(Box<Expr>),
}

/// Attributes on a parameter that belong to the arguments field, not to the function.
fn is_argument_attribute(attr: &Attribute) -> bool {
    ["tool", "serde", "schemars"]
        .iter()
        .any(|name| attr.path().is_ident(name))
}

/// Removes the argument attributes from the function's parameters, which keep the others.
pub(crate) fn strip_argument_attributes(sig: &mut Signature) {
    for input in &mut sig.inputs {
        if let FnArg::Typed(typed) = input {
            typed.attrs.retain(|attr| !is_argument_attribute(attr));
        }
    }
}

/// Parses `#[tool(default)]` / `#[tool(default = expr)]` and collects `#[serde]`/`#[schemars]`.
fn argument_attributes(
    attrs: &[Attribute],
    errors: &mut Errors,
) -> (Option<ArgDefault>, Vec<Attribute>) {
    let mut default = None;
    let mut forwarded = Vec::new();
    for attr in attrs {
        if attr.path().is_ident("tool") {
            let parsed = attr.parse_nested_meta(|meta| {
                if !meta.path.is_ident("default") {
                    return Err(meta.error(
                        "unknown `#[tool]` parameter argument; expected `default` or `default = <expr>`",
                    ));
                }
                if default.is_some() {
                    return Err(meta.error("`default` is given twice; keep one"));
                }
                default = Some(if meta.input.peek(syn::Token![=]) {
                    ArgDefault::Expr(Box::new(meta.value()?.parse()?))
                } else {
                    ArgDefault::Trait
                });
                Ok(())
            });
            if let Err(error) = parsed {
                errors.push(error);
            }
        } else if is_argument_attribute(attr) {
            forwarded.push(attr.clone());
        }
    }
    (default, forwarded)
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
        let (default, forwarded) = argument_attributes(&typed.attrs, &mut errors);
        match context_kind(&typed.ty) {
            Some(ContextKind::Owned) => {
                if default.is_some() || !forwarded.is_empty() {
                    errors.push(syn::Error::new_spanned(
                        typed,
                        "the `ToolContext` parameter is not an argument: remove `#[tool]`, `#[serde]` and `#[schemars]` from it",
                    ));
                }
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
                    default,
                    forwarded,
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
    fn defaults_and_forwarded_attributes_are_collected() {
        let sig: Signature = parse_quote!(fn f(
            #[tool(default = 5)] a: i64,
            #[tool(default)] #[schemars(range(min = 0))] b: u32,
            #[serde(default)] c: String
        ));
        let params = check(&sig).unwrap();
        assert!(
            matches!(&params[0], Param::Argument { default: Some(ArgDefault::Expr(_)), forwarded, .. } if forwarded.is_empty())
        );
        assert!(
            matches!(&params[1], Param::Argument { default: Some(ArgDefault::Trait), forwarded, .. } if forwarded.len() == 1)
        );
        assert!(
            matches!(&params[2], Param::Argument { default: None, forwarded, .. } if forwarded.len() == 1)
        );
    }

    #[test]
    fn unknown_and_repeated_parameter_arguments_are_rejected() {
        let sig: Signature =
            parse_quote!(fn f(#[tool(defualt = 5)] a: i64, #[tool(default, default = 1)] b: i64));
        let messages = messages(&sig);
        assert_eq!(messages.len(), 2, "{messages:#?}");
        assert!(messages[0].starts_with("unknown `#[tool]` parameter argument"));
        assert_eq!(messages[1], "`default` is given twice; keep one");
    }

    #[test]
    fn borrowed_context_is_rejected() {
        let sig: Signature = parse_quote!(fn f(c: &ToolContext));
        assert!(messages(&sig)[0].contains("by value"));
    }
}
