//! The command line of `strands-runtime`: what to run, and the `serve` flags that override the
//! environment.

/// Printed for `--help`, and after a misuse on stderr.
pub(crate) const USAGE: &str = "usage: strands-runtime [serve] [--provider bedrock|anthropic|openai|local] [--model-id ID] [--host HOST] [--port PORT]
       strands-runtime doctor [--call-model]
Environment: MODEL_PROVIDER, MODEL_ID, SYSTEM_PROMPT, HOST, PORT, LOG_LEVEL (see docs/runtime.md).
";

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Command {
    /// `--help` or `-h` anywhere: print [`USAGE`].
    Help,
    /// `doctor [--call-model]`; other arguments are ignored.
    Doctor {
        /// Also make one small Bedrock call.
        call_model: bool,
    },
    /// `[serve] [flags]`: the server, the default.
    Serve(ServeArgs),
}

/// Command-line options of `serve`; each overrides its environment variable.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct ServeArgs {
    /// `--provider` (`MODEL_PROVIDER`).
    pub(crate) provider: Option<String>,
    /// `--model-id` (`MODEL_ID`).
    pub(crate) model_id: Option<String>,
    /// `--host` (`HOST`).
    pub(crate) host: Option<String>,
    /// `--port` (`PORT`).
    pub(crate) port: Option<String>,
}

/// Reads the arguments that follow the program's name.
///
/// # Errors
///
/// An unknown argument, or a `serve` flag without its value: a message to print above
/// [`USAGE`].
pub(crate) fn parse(args: &[String]) -> Result<Command, String> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        return Ok(Command::Help);
    }
    match args.split_first() {
        Some((command, rest)) if command == "doctor" => Ok(Command::Doctor {
            call_model: rest.iter().any(|a| a == "--call-model"),
        }),
        Some((command, rest)) if command == "serve" => parse_serve_args(rest).map(Command::Serve),
        _ => parse_serve_args(args).map(Command::Serve),
    }
}

fn parse_serve_args(args: &[String]) -> Result<ServeArgs, String> {
    let mut parsed = ServeArgs::default();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag, Some(value.to_owned())),
            None => (arg.as_str(), None),
        };
        let slot = match flag {
            "--provider" => &mut parsed.provider,
            "--model-id" => &mut parsed.model_id,
            "--host" => &mut parsed.host,
            "--port" => &mut parsed.port,
            other => return Err(format!("unknown argument {other:?}")),
        };
        let value = match inline {
            Some(value) => value,
            None => args
                .next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))?,
        };
        *slot = Some(value);
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_line(line: &str) -> Result<Command, String> {
        let args: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
        parse(&args)
    }

    #[test]
    fn no_arguments_serve_with_the_environment() {
        assert_eq!(parse_line(""), Ok(Command::Serve(ServeArgs::default())));
        assert_eq!(
            parse_line("serve"),
            Ok(Command::Serve(ServeArgs::default()))
        );
    }

    #[test]
    fn serve_flags_take_separate_or_inline_values() {
        let expected = ServeArgs {
            provider: Some("openai".to_owned()),
            model_id: Some("llama3.2".to_owned()),
            host: Some("127.0.0.1".to_owned()),
            port: Some("9000".to_owned()),
        };
        assert_eq!(
            parse_line("--provider openai --model-id=llama3.2 --host 127.0.0.1 --port=9000"),
            Ok(Command::Serve(expected))
        );
        assert_eq!(
            parse_line("serve --provider=bedrock"),
            Ok(Command::Serve(ServeArgs {
                provider: Some("bedrock".to_owned()),
                ..ServeArgs::default()
            }))
        );
    }

    #[test]
    fn unknown_arguments_and_missing_values_are_misuse() {
        assert_eq!(
            parse_line("--verbose"),
            Err("unknown argument \"--verbose\"".to_owned())
        );
        assert_eq!(
            parse_line("serve --port"),
            Err("--port needs a value".to_owned())
        );
    }

    #[test]
    fn help_wins_anywhere_and_doctor_ignores_other_arguments() {
        assert_eq!(parse_line("doctor --bogus -h"), Ok(Command::Help));
        assert_eq!(parse_line("--port 1 --help"), Ok(Command::Help));
        assert_eq!(
            parse_line("doctor"),
            Ok(Command::Doctor { call_model: false })
        );
        assert_eq!(
            parse_line("doctor --bogus --call-model"),
            Ok(Command::Doctor { call_model: true })
        );
    }
}
