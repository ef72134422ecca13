//! Python's URL quoting, where ids and secrets must be written as Python writes them.

/// Python's `urllib.parse.quote(text, safe="")`: every byte but the unreserved `A-Z a-z 0-9
/// _ . - ~` percent-encoded (RFC 3986; also valid in form bodies).
///
/// ```
/// assert_eq!(strands_core::url::quote("a b+c/d~e:"), "a%20b%2Bc%2Fd~e%3A");
/// ```
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'-' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
