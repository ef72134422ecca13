//! Turning a function into a unit struct that implements `Tool`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::ext::IdentExt;
use syn::{Attribute, Expr, ExprLit, ItemFn, Lit, LitStr, Meta, Signature};

use crate::args::ToolArgs;
use crate::crate_path;
use crate::doc_comment::{self, DocComment};
use crate::signature::{self, ArgDefault, Param};

/// Expands `#[tool(attr)] item`. On error the compile errors are emitted together with the
/// function (without its argument attributes), so that its uses do not add errors of their own.
pub(crate) fn tool(attr: TokenStream, item: &TokenStream) -> TokenStream {
    match syn::parse2::<ItemFn>(item.clone()) {
        Ok(function) => expand(attr, function.clone()).unwrap_or_else(|error| {
            let error = error.to_compile_error();
            // Without the parameter attributes only `#[tool]` understands.
            let mut function = function;
            signature::strip_argument_attributes(&mut function.sig);
            quote!(#error #function)
        }),
        Err(_) => {
            let error = syn::Error::new(
                Span::call_site(),
                "#[tool] applies to free functions (`fn` or `async fn`); implement `Tool` for other items",
            )
            .to_compile_error();
            quote!(#error #item)
        }
    }
}

fn expand(attr: TokenStream, function: ItemFn) -> syn::Result<TokenStream> {
    // Check everything before resolving the crate, so the user sees their own mistakes first.
    let (args, params) = match (ToolArgs::parse(attr), signature::check(&function.sig)) {
        (Ok(args), Ok(params)) => (args, params),
        (Err(mut first), Err(second)) => {
            first.combine(second);
            return Err(first);
        }
        (Err(error), _) | (_, Err(error)) => return Err(error),
    };
    if let (Some(span), Some(asyncness)) = (args.blocking, function.sig.asyncness) {
        let mut error = syn::Error::new(
            span,
            "`blocking` is for synchronous functions; remove it, or make the function a plain `fn`",
        );
        error.combine(syn::Error::new_spanned(
            asyncness,
            "this function is `async`",
        ));
        return Err(error);
    }

    let ItemFn {
        attrs,
        vis,
        mut sig,
        block,
    } = function;
    let fn_ident = sig.ident.clone();
    let (doc_attrs, other_attrs): (Vec<Attribute>, Vec<Attribute>) = attrs
        .into_iter()
        .partition(|attr| attr.path().is_ident("doc"));
    let cfg_attrs: Vec<&Attribute> = other_attrs
        .iter()
        .filter(|attr| attr.path().is_ident("cfg"))
        .collect();

    let name = tool_name(&args, &fn_ident)?;
    let docs = doc_comment::parse(&doc_lines(&doc_attrs));
    let description = match &args.description {
        Some(description) => description.value(),
        None if docs.description.is_empty() => name.clone(),
        None => docs.description.clone(),
    };
    let struct_docs = if doc_attrs.is_empty() {
        let doc = format!("Tool `{name}`.");
        quote!(#[doc = #doc])
    } else {
        quote!(#(#doc_attrs)*)
    };

    let krate = crate_path::strands_agent()?;
    let private: syn::Path = syn::parse_str(&format!("{krate}::__private"))?;
    let private = quote!(#private);
    let serde_crate = format!("{krate}::__private::serde");
    let schemars_crate = format!("{krate}::__private::schemars");
    // serde's message for input that is not an object; its default names the struct.
    let expecting = format!("a JSON object with the arguments of tool `{name}`");
    let fields = argument_fields(&params, &docs);
    let default_fns = default_functions(&params);
    let function_name = fn_ident.unraw().to_string();
    let call = call_expression(&params, &sig, args.blocking.is_some(), &private);
    let args_pattern = if fields.is_empty() {
        quote!(_)
    } else {
        quote!(__strands_args)
    };
    let context_pattern = if params.iter().any(|param| matches!(param, Param::Context)) {
        quote!(__strands_context)
    } else {
        quote!(_)
    };

    // The struct takes the function's name; the original function becomes `call`.
    sig.ident = format_ident!("call", span = sig.ident.span());
    signature::strip_argument_attributes(&mut sig);

    Ok(quote! {
        #(#cfg_attrs)*
        #struct_docs
        #[allow(non_camel_case_types, reason = "#[tool] names the tool type after its function")]
        #[derive(Debug, Clone, Copy, Default)]
        #vis struct #fn_ident;

        #(#cfg_attrs)*
        impl #fn_ident {
            /// Calls the function directly, bypassing the agent.
            #(#other_attrs)*
            #vis #sig #block
        }

        #(#cfg_attrs)*
        const _: () = {
            #[derive(#private::serde::Deserialize, #private::schemars::JsonSchema)]
            #[serde(crate = #serde_crate)]
            #[serde(expecting = #expecting)]
            #[schemars(crate = #schemars_crate)]
            struct __StrandsToolArgs {
                #(#fields,)*
            }

            #(#default_fns)*

            fn __strands_tool() -> &'static #private::TypedTool {
                static TOOL: ::std::sync::OnceLock<#private::TypedTool> = ::std::sync::OnceLock::new();
                TOOL.get_or_init(|| #private::TypedTool::new::<__StrandsToolArgs>(#name, #function_name, #description))
            }

            impl #private::Tool for #fn_ident {
                fn spec(&self) -> &#private::Spec {
                    __strands_tool().spec()
                }

                fn stream(&self, tool_use: #private::Use, context: #private::Context) -> #private::Stream<'_> {
                    #private::run_typed(
                        __strands_tool(),
                        tool_use,
                        context,
                        |#args_pattern: __StrandsToolArgs, #context_pattern: #private::Context| async move { #call },
                    )
                }
            }
        };
    })
}

/// The tool name: `name = "..."` or the function name, checked against the rules models accept.
fn tool_name(args: &ToolArgs, fn_ident: &syn::Ident) -> syn::Result<String> {
    let (name, span) = match &args.name {
        Some(name) => (name.value(), name.span()),
        None => (fn_ident.unraw().to_string(), fn_ident.span()),
    };
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if valid {
        Ok(name)
    } else {
        Err(syn::Error::new(
            span,
            format!(
                "`{name}` is not a valid tool name: use 1 to 64 ASCII letters, digits, `_` or `-` \
                 (set one with `#[tool(name = \"...\")]`)"
            ),
        ))
    }
}

/// The text of literal `#[doc = "..."]` attributes, one entry per line, with the single leading
/// space of `///` comments removed.
fn doc_lines(doc_attrs: &[Attribute]) -> Vec<String> {
    doc_attrs
        .iter()
        .filter_map(|attr| match &attr.meta {
            Meta::NameValue(meta) => match &meta.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(text),
                    ..
                }) => Some(text.value()),
                _ => None,
            },
            _ => None,
        })
        .flat_map(|text| {
            // Not `lines()`: an empty `///` line must stay an empty line.
            text.split('\n')
                .map(|line| {
                    let line = line.strip_suffix('\r').unwrap_or(line);
                    line.strip_prefix(' ').unwrap_or(line).to_owned()
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The fields of the arguments struct, each with its description (Python's fallback
/// `Parameter <name>` when the doc comment has none), its default, and the parameter's
/// `#[serde]`/`#[schemars]` attributes.
fn argument_fields(params: &[Param], docs: &DocComment) -> Vec<TokenStream> {
    params
        .iter()
        .filter_map(|param| match param {
            Param::Argument {
                ident,
                ty,
                default,
                forwarded,
            } => {
                let name = ident.unraw().to_string();
                let description = docs
                    .param(&name)
                    .map_or_else(|| format!("Parameter {name}"), str::to_owned);
                let description = LitStr::new(&description, ident.span());
                let default = match default {
                    None => TokenStream::new(),
                    Some(ArgDefault::Trait) => quote!(#[serde(default)]),
                    Some(ArgDefault::Expr(_)) => {
                        let function = default_function_name(ident).to_string();
                        quote!(#[serde(default = #function)])
                    }
                };
                Some(quote! {
                    #(#forwarded)*
                    #default
                    #[schemars(description = #description)]
                    #ident: #ty
                })
            }
            Param::Context => None,
        })
        .collect()
}

/// `fn __strands_default_<arg>() -> T { expr }` for each `#[tool(default = expr)]`; a string
/// literal is converted with `Into`, so `default = "x"` works for a `String`.
fn default_functions(params: &[Param]) -> Vec<TokenStream> {
    params
        .iter()
        .filter_map(|param| match param {
            Param::Argument {
                ident,
                ty,
                default: Some(ArgDefault::Expr(expr)),
                ..
            } => {
                let function = default_function_name(ident);
                let value = match expr.as_ref() {
                    Expr::Lit(ExprLit {
                        lit: Lit::Str(_), ..
                    }) => quote!(::core::convert::Into::into(#expr)),
                    _ => quote!(#expr),
                };
                Some(quote! {
                    fn #function() -> #ty {
                        #value
                    }
                })
            }
            _ => None,
        })
        .collect()
}

fn default_function_name(ident: &syn::Ident) -> syn::Ident {
    format_ident!("__strands_default_{}", ident.unraw())
}

/// `name::call(args...)`, awaited, inline, or on the blocking pool.
fn call_expression(
    params: &[Param],
    sig: &Signature,
    blocking: bool,
    private: &TokenStream,
) -> TokenStream {
    let fn_ident = &sig.ident;
    let arguments = params.iter().map(|param| match param {
        Param::Argument { ident, .. } => quote!(__strands_args.#ident),
        Param::Context => quote!(__strands_context),
    });
    let call = quote!(#fn_ident::call(#(#arguments),*));
    if blocking {
        quote!(#private::blocking(move || #call).await)
    } else if sig.asyncness.is_some() {
        quote!(#call.await)
    } else {
        quote!(#call)
    }
}
