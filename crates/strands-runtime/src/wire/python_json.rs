//! What CPython 3.11's `json.loads` says about a document serde_json rejected.
//!
//! The Python app decodes a body with `json.loads(body)` and answers a `JSONDecodeError` with
//! `details` = `str(error)`: `<message>: line L column C (char N)`, where N counts code points,
//! L is one more than the `\n` before N, and C counts code points from the last of them (only
//! `\n` starts a line). [`decode`] retraces
//! the scanner `json.loads` runs (the C accelerator `Modules/_json.c`; `json/decoder.py` and
//! `json/scanner.py` are its pure-Python twin) up to the first error: in one pass, without
//! recursion or building values, so a million `[` cost nothing. It runs only after serde_json
//! failed, to word the answer.
//!
//! Python differs from serde_json, and so from this runtime, on what it accepts (`NaN`,
//! `Infinity`, `1e400`, lone surrogate escapes, nesting deeper than 128) and on what it crashes
//! on: [`Verdict::Accepts`] and [`Verdict::Raises`].
//!
//! The tests hold [`decode`] to CPython's own answers, `tests/fixtures/json_errors/cases.json`;
//! after changing the corpus, regenerate them with CPython 3.11:
//! `python3 crates/strands-runtime/tests/fixtures/json_errors/generate.py`.

/// What `json.loads` does with a document, and so what the Python app answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// It raises `JSONDecodeError`, whose text is here: the app answers 400 `Invalid JSON`.
    Rejects(String),
    /// It raises an exception the app does not catch: `RecursionError` when the nesting runs
    /// out of [`DEPTH_BUDGET`], `ValueError` for an integer of more than [`MAX_INT_DIGITS`]
    /// digits. Starlette answers 500 `Internal Server Error`.
    Raises,
    /// It decodes the document.
    Accepts,
}

/// The recursion levels left to the scanner where the app calls `json.loads`: 970 nested
/// arrays decode, 971 raise `RecursionError`.
///
/// Python's recursion limit (1000) counts stack frames and C-level calls together, and
/// `json.loads` runs some 30 frames deep in the app. Measured by posting to the conformance app
/// (bedrock-agentcore 1.25.0, CPython 3.11.7, uvicorn 0.54.0 on asyncio); another server stack
/// may differ by a few levels.
const DEPTH_BUDGET: usize = 970;

/// Levels taken by opening a container (`_Py_EnterRecursiveCall`), for as long as it is open.
const OPEN_COST: usize = 1;

/// Levels taken by calling `parse_constant` for `NaN`, `Infinity` or `-Infinity`.
const CONSTANT_COST: usize = 1;

/// Levels taken by creating a `JSONDecodeError` from C (calling the class, its Python
/// `__init__`, and what that calls), as measured. `Expecting value` and `Extra data` cost
/// nothing: Python raises them at the top, in `raw_decode` (from the scanner's `StopIteration`)
/// and `decode`.
const ERROR_COST: usize = 3;

/// The longest integer Python converts (`sys.get_int_max_str_digits()`): longer raises
/// `ValueError`. Fractions and exponents make floats, which have no such limit.
const MAX_INT_DIGITS: usize = 4300;

/// The literals `scan_once` matches before trying a number.
const LITERALS: [&[u8]; 3] = [b"null", b"true", b"false"];

/// The constants it also matches, and hands to `parse_constant`.
const CONSTANTS: [&[u8]; 3] = [b"NaN", b"Infinity", b"-Infinity"];

/// Python's verdict on `text`, the body after UTF-8 decoding (less one leading BOM).
pub(crate) fn decode(text: &str) -> Verdict {
    match Scanner::new(text).document() {
        Ok(()) => Verdict::Accepts,
        Err(Stop::Raise) => Verdict::Raises,
        Err(Stop::Error(message, at)) => Verdict::Rejects(describe(text, message, at)),
    }
}

/// `str(JSONDecodeError(message, text, pos))` for the error at byte offset `at`.
fn describe(text: &str, message: &str, at: usize) -> String {
    let before = text.get(..at).unwrap_or(text);
    let pos = before.chars().count();
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    format!("{message}: line {line} column {column} (char {pos})")
}

/// Why the scan stopped early.
enum Stop {
    /// `JSONDecodeError(message, doc, pos)`, with `pos` as a byte offset.
    Error(&'static str, usize),
    /// Another exception: see [`Verdict::Raises`].
    Raise,
}

type Scan<T> = Result<T, Stop>;

/// An open object or array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Container {
    Object,
    Array,
}

impl Container {
    fn close(self) -> u8 {
        match self {
            Self::Object => b'}',
            Self::Array => b']',
        }
    }
}

/// JSON whitespace, for Python as for RFC 8259: nothing else, not even `\f` or U+00A0.
fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r')
}

/// A cursor over the document's bytes and the containers open at it. Every byte that matters
/// is ASCII and every offset an error reports is a character boundary, so [`describe`] can turn
/// offsets into code points.
struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
    open: Vec<Container>,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            bytes: text.as_bytes(),
            pos: 0,
            open: Vec::new(),
        }
    }

    fn byte(&self, at: usize) -> Option<u8> {
        self.bytes.get(at).copied()
    }

    fn at(&self, byte: u8) -> bool {
        self.byte(self.pos) == Some(byte)
    }

    fn skip_space(&mut self) {
        while self.byte(self.pos).is_some_and(is_space) {
            self.pos += 1;
        }
    }

    /// The offset after the ASCII digits starting at `from`.
    fn digits_end(&self, from: usize) -> usize {
        let rest = self.bytes.get(from..).unwrap_or_default();
        from + rest.iter().take_while(|b| b.is_ascii_digit()).count()
    }

    /// `RecursionError` if `cost` more levels overrun the budget at the current nesting.
    fn spend(&self, cost: usize) -> Scan<()> {
        if self.open.len() + cost > DEPTH_BUDGET {
            return Err(Stop::Raise);
        }
        Ok(())
    }

    /// A `JSONDecodeError` raised by the C scanner, unless creating it overruns the budget.
    fn error(&self, message: &'static str, at: usize) -> Stop {
        match self.spend(ERROR_COST) {
            Ok(()) => Stop::Error(message, at),
            Err(stop) => stop,
        }
    }

    /// `JSONDecoder.decode`: one value between optional whitespace.
    fn document(&mut self) -> Scan<()> {
        self.skip_space();
        loop {
            let opened = self.value()?;
            if opened && self.first_member()? {
                continue;
            }
            if !self.next_member()? {
                break;
            }
        }
        self.skip_space();
        if self.pos < self.bytes.len() {
            return Err(Stop::Error("Extra data", self.pos));
        }
        Ok(())
    }

    /// `scan_once`: the value at the cursor. A string, literal or number is consumed whole; an
    /// opening bracket is consumed and its container opened (true).
    fn value(&mut self) -> Scan<bool> {
        let start = self.pos;
        let container = match self.byte(start) {
            Some(b'"') => {
                self.string()?;
                return Ok(false);
            }
            Some(b'{') => Container::Object,
            Some(b'[') => Container::Array,
            _ => {
                self.pos = self.scalar(start)?;
                return Ok(false);
            }
        };
        self.spend(OPEN_COST)?;
        self.open.push(container);
        self.pos = start + 1;
        Ok(true)
    }

    /// A literal, constant or number starting at `start`; returns the offset after it.
    fn scalar(&self, start: usize) -> Scan<usize> {
        let rest = self.bytes.get(start..).unwrap_or_default();
        if let Some(word) = LITERALS.iter().find(|word| rest.starts_with(word)) {
            return Ok(start + word.len());
        }
        if let Some(word) = CONSTANTS.iter().find(|word| rest.starts_with(word)) {
            self.spend(CONSTANT_COST)?;
            return Ok(start + word.len());
        }
        self.number(start)
    }

    /// After an opening bracket: closes the container if it is empty (false), else consumes
    /// what precedes the first member's value, the key and `:` of an object (true).
    fn first_member(&mut self) -> Scan<bool> {
        let Some(&container) = self.open.last() else {
            return Ok(false);
        };
        self.skip_space();
        if self.at(container.close()) {
            self.pos += 1;
            self.open.pop();
            return Ok(false);
        }
        if container == Container::Object {
            self.key()?;
        }
        Ok(true)
    }

    /// After a value: closes the containers that end here and consumes the `,` (and key) before
    /// the next member (true). False when the outermost value is complete.
    fn next_member(&mut self) -> Scan<bool> {
        while let Some(&container) = self.open.last() {
            self.skip_space();
            if self.at(container.close()) {
                self.pos += 1;
                self.open.pop();
                continue;
            }
            if !self.at(b',') {
                return Err(self.error("Expecting ',' delimiter", self.pos));
            }
            self.pos += 1;
            self.skip_space();
            if container == Container::Object {
                self.key()?;
            }
            return Ok(true);
        }
        Ok(false)
    }

    /// An object key, the `:` after it and the whitespace around.
    fn key(&mut self) -> Scan<()> {
        if !self.at(b'"') {
            let message = "Expecting property name enclosed in double quotes";
            return Err(self.error(message, self.pos));
        }
        self.string()?;
        self.skip_space();
        if !self.at(b':') {
            return Err(self.error("Expecting ':' delimiter", self.pos));
        }
        self.pos += 1;
        self.skip_space();
        Ok(())
    }

    /// `scanstring`: the string whose opening quote is at the cursor.
    fn string(&mut self) -> Scan<()> {
        let begin = self.pos;
        let mut at = begin + 1;
        loop {
            match self.byte(at) {
                None => return Err(self.error("Unterminated string starting at", begin)),
                Some(b'"') => break,
                Some(b'\\') => at = self.escape(begin, at)?,
                Some(0..=0x1f) => return Err(self.error("Invalid control character at", at)),
                Some(_) => at += 1,
            }
        }
        self.pos = at + 1;
        Ok(())
    }

    /// The escape whose backslash is at `backslash`, in the string that starts at `begin`;
    /// returns the offset after it.
    ///
    /// CPython pairs `\uD8xx\uDCxx` surrogates, but a second escape that would fail as half of a
    /// pair fails in the same way, with the same position, on its own: pairing never changes
    /// the first error, so each `\u` is checked alone.
    fn escape(&self, begin: usize, backslash: usize) -> Scan<usize> {
        let u = backslash + 1;
        match self.byte(u) {
            None => Err(self.error("Unterminated string starting at", begin)),
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(u + 1),
            Some(b'u') => {
                let hex = self.bytes.get(u + 1..u + 5).unwrap_or_default();
                let valid = hex.len() == 4 && hex.iter().all(u8::is_ascii_hexdigit);
                // `_json.c` also wants a character after the four digits (`end >= len`).
                if valid && u + 5 < self.bytes.len() {
                    Ok(u + 5)
                } else {
                    Err(self.error("Invalid \\uXXXX escape", u))
                }
            }
            Some(_) => Err(self.error("Invalid \\escape", backslash)),
        }
    }

    /// `_match_number_unicode`: the number starting at `start`; returns the offset after it.
    /// A `.` or an exponent without digits after it is not part of the number.
    fn number(&self, start: usize) -> Scan<usize> {
        let int_start = start + usize::from(self.byte(start) == Some(b'-'));
        let mut end = match self.byte(int_start) {
            Some(b'0') => int_start + 1,
            Some(b'1'..=b'9') => self.digits_end(int_start + 1),
            // `StopIteration(start)`: `Expecting value`, raised at the top whatever the depth.
            _ => return Err(Stop::Error("Expecting value", start)),
        };
        let int_digits = end - int_start;
        let mut is_float = false;
        if self.byte(end) == Some(b'.') && self.byte(end + 1).is_some_and(|b| b.is_ascii_digit()) {
            end = self.digits_end(end + 2);
            is_float = true;
        }
        if matches!(self.byte(end), Some(b'e' | b'E')) {
            let sign = matches!(self.byte(end + 1), Some(b'+' | b'-'));
            let digits = end + 1 + usize::from(sign);
            let exponent_end = self.digits_end(digits);
            if exponent_end > digits {
                end = exponent_end;
                is_float = true;
            }
        }
        if !is_float && int_digits > MAX_INT_DIGITS {
            return Err(Stop::Raise);
        }
        Ok(end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// CPython's answers, written by `generate.py` beside them.
    const CASES: &str = include_str!("../../tests/fixtures/json_errors/cases.json");

    struct Case {
        body: String,
        details: Option<String>,
        raises: bool,
    }

    fn cases() -> Vec<Case> {
        let cases: Vec<Value> = serde_json::from_str(CASES).unwrap();
        cases.iter().map(case).collect()
    }

    fn case(case: &Value) -> Case {
        let body = match &case["body"] {
            Value::String(body) => body.clone(),
            _ => case["parts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|part| {
                    part[0]
                        .as_str()
                        .unwrap()
                        .repeat(usize::try_from(part[1].as_u64().unwrap()).unwrap())
                })
                .collect(),
        };
        Case {
            body,
            details: case["details"].as_str().map(str::to_owned),
            raises: case["raises"].is_string(),
        }
    }

    /// The text `decode` sees: `parse_payload` strips one UTF-8 BOM, as `json.loads` does.
    fn text(body: &str) -> &str {
        body.strip_prefix('\u{feff}').unwrap_or(body)
    }

    fn expected(case: &Case) -> Verdict {
        match (&case.details, case.raises) {
            (Some(details), _) => Verdict::Rejects(details.clone()),
            (None, true) => Verdict::Raises,
            (None, false) => Verdict::Accepts,
        }
    }

    fn short(body: &str) -> String {
        body.chars().take(60).collect()
    }

    /// Checks `decode` on the cases `select` picks: their number and the ones it gets wrong.
    fn check(select: impl Fn(&Case) -> bool) -> (usize, Vec<String>) {
        let cases: Vec<Case> = cases().into_iter().filter(|case| select(case)).collect();
        let failures = cases
            .iter()
            .filter_map(|case| {
                let (want, got) = (expected(case), decode(text(&case.body)));
                (want != got)
                    .then(|| format!("{:?}: want {want:?}, got {got:?}", short(&case.body)))
            })
            .collect();
        (cases.len(), failures)
    }

    #[test]
    fn every_malformed_body_gets_pythons_message() {
        let (checked, failures) = check(|case| case.details.is_some());
        assert!(checked >= 120, "only {checked} cases");
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn bodies_that_crash_python_are_told_apart() {
        let (checked, failures) = check(|case| case.raises);
        assert!(checked >= 5, "only {checked} cases");
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn bodies_python_accepts_are_not_called_malformed() {
        let (checked, failures) = check(|case| case.details.is_none() && !case.raises);
        assert!(checked >= 5, "only {checked} cases");
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    /// Otherwise the runtime would answer 200 where Python answers 400 or 500.
    #[test]
    fn serde_json_rejects_every_body_python_rejects() {
        for case in cases()
            .iter()
            .filter(|case| case.details.is_some() || case.raises)
        {
            let parsed = serde_json::from_str::<Value>(text(&case.body));
            assert!(
                parsed.is_err(),
                "serde_json accepts {:?}",
                short(&case.body)
            );
        }
    }

    /// The corpus lists, as bodies Python accepts, only ones serde_json refuses: the known
    /// differences (`NaN`, infinities, `1e400`, lone surrogates, nesting past 128, long integers).
    #[test]
    fn bodies_only_python_accepts_are_the_known_differences() {
        for case in cases()
            .iter()
            .filter(|case| case.details.is_none() && !case.raises)
        {
            let parsed = serde_json::from_str::<Value>(text(&case.body));
            assert!(
                parsed.is_err(),
                "serde_json accepts {:?} too",
                short(&case.body)
            );
        }
    }

    #[test]
    fn a_million_open_brackets_are_a_recursion_error_not_a_stack_overflow() {
        assert_eq!(decode(&"[".repeat(1_000_000)), Verdict::Raises);
        assert_eq!(decode(&"{\"a\":".repeat(1_000_000)), Verdict::Raises);
    }

    #[test]
    fn positions_count_code_points_and_lines_count_only_newlines() {
        assert_eq!(
            decode("{\"é😀\":\r\n x}"),
            Verdict::Rejects("Expecting value: line 2 column 2 (char 9)".to_owned())
        );
    }
}
