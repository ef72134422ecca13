//! The `strands-runtime` command line, run as a process: `--version`, `--help`, and the exit
//! codes of usage errors (2) and runtime errors (1), each with one readable line on stderr.
#![allow(clippy::unwrap_used, reason = "test helpers fail loudly")]

use std::process::{Command, Output};

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_strands-runtime"));
    command.args(args).env_clear().env("PATH", "/usr/bin:/bin");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

/// stderr, which must be exactly one line starting with the program's name.
fn one_line(output: &Output) -> String {
    let stderr = String::from_utf8(output.stderr.clone()).unwrap();
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr:?}");
    assert!(stderr.starts_with("strands-runtime: "), "{stderr:?}");
    stderr.trim_end().to_owned()
}

#[test]
fn version_and_help_print_on_stdout_and_exit_zero() {
    let version = run(&["--version"], &[]);
    assert_eq!(version.status.code(), Some(0));
    assert_eq!(
        String::from_utf8(version.stdout).unwrap(),
        format!("strands-runtime {}\n", env!("CARGO_PKG_VERSION"))
    );
    let help = run(&["--help"], &[]);
    assert_eq!(help.status.code(), Some(0));
    let help = String::from_utf8(help.stdout).unwrap();
    for expected in [
        "serve",
        "doctor",
        "--port",
        "MODEL_PROVIDER",
        "SHUTDOWN_GRACE_SECONDS",
        "Exit status",
    ] {
        assert!(help.contains(expected), "--help lacks {expected}:\n{help}");
    }
}

#[test]
fn usage_errors_exit_two_with_one_line() {
    for args in [
        &["--bogus"][..],
        &["serve", "--port"],
        &["--port", "eighty"],
        &["frobnicate"],
    ] {
        let output = run(args, &[]);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let line = one_line(&output);
        assert!(line.ends_with("(see strands-runtime --help)"), "{line}");
    }
}

#[test]
fn configuration_errors_exit_one_with_one_line_naming_the_fix() {
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case<'_>; 5] = [
        (
            &[],
            &[("PORT", "80a")],
            r#"PORT="80a" is not valid: set it to a port number"#,
        ),
        (
            &["--provider", "nope"],
            &[],
            "unknown model provider \"nope\"",
        ),
        (
            &[],
            &[("LOG_FORMAT", "yaml")],
            "LOG_FORMAT=\"yaml\" is not valid: set it to json or text",
        ),
        (
            &[],
            &[("MODEL_IDLE_TIMEOUT_SECONDS", "soon")],
            "MODEL_IDLE_TIMEOUT_SECONDS=\"soon\" is not valid",
        ),
        (
            &["--host", "localhost"],
            &[],
            "HOST=\"localhost\" is not valid: set it to an IP address",
        ),
    ];
    for (args, env, expected) in cases {
        let output = run(args, env);
        assert_eq!(output.status.code(), Some(1), "{args:?} {env:?}");
        let line = one_line(&output);
        assert!(line.contains(expected), "{line}");
    }
}

#[test]
fn a_port_in_use_is_a_runtime_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let output = run(
        &["--host", "127.0.0.1", "--port", &port],
        &[("MODEL_ID", "m")],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(one_line(&output).contains("set PORT to change it"));
}
