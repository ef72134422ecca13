//! `strands_core::json::to_python_string` writes what Python's `json.dumps(ensure_ascii=False)`
//! writes. Expected strings were produced by CPython 3.11.

use serde_json::json;
use strands_core::json::to_python_string;

#[test]
fn separators_and_non_ascii_match_python() {
    let cases = [
        (json!(5), "5"),
        (json!(null), "null"),
        (json!(2.5), "2.5"),
        (json!(2.0), "2.0"),
        (json!([1, "a", true]), r#"[1, "a", true]"#),
        (
            json!({"a": {"b": []}, "c": {}}),
            r#"{"a": {"b": []}, "c": {}}"#,
        ),
        (
            json!({"city": "Zürich", "emoji": "🙂"}),
            r#"{"city": "Zürich", "emoji": "🙂"}"#,
        ),
        (
            json!("line\nbreak \"quoted\" \t tab \u{1}"),
            r#""line\nbreak \"quoted\" \t tab \u0001""#,
        ),
    ];
    for (value, python) in cases {
        assert_eq!(to_python_string(&value).unwrap(), python);
    }
}
