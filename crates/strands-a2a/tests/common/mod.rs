//! What the Python interop tests share.

/// The interpreter from `scripts/python-a2a` (`STRANDS_A2A_PYTHON`); `None` (the test skips)
/// when it is not set, unless `STRANDS_REQUIRE_PYTHON` is.
pub(crate) fn python() -> Option<String> {
    match std::env::var("STRANDS_A2A_PYTHON") {
        Ok(python) if !python.is_empty() => Some(python),
        _ => {
            assert!(
                std::env::var_os("STRANDS_REQUIRE_PYTHON").is_none(),
                "STRANDS_REQUIRE_PYTHON is set but STRANDS_A2A_PYTHON is not; run scripts/python-a2a"
            );
            eprintln!(
                "skipping: set STRANDS_A2A_PYTHON to the interpreter from scripts/python-a2a"
            );
            None
        }
    }
}
