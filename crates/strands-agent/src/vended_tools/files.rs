//! `file_read` and `file_editor`: read, create and edit text files, confined to one directory.
//!
//! Python: `strands.vended_tools.file_read` and `file_editor` with `root` set: the same names,
//! commands, arguments and answers. Differences: paths may also be relative to the root (Python
//! wants absolute paths), and the editor has no `undo_edit`, `pattern_replace` or `find_line`.

use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;
use strands_core::{Tool, ToolContext, ToolResult, ToolSpec, ToolStream, ToolUse};

/// The largest file read or edited.
const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// The most entries a directory view lists.
const MAX_LISTED: usize = 1000;
/// Lines shown around an edit.
const SNIPPET_LINES: usize = 4;

/// The directory the file tools are confined to.
#[derive(Debug, Clone)]
struct Root(Arc<PathBuf>);

impl Root {
    fn new(dir: impl AsRef<Path>) -> std::io::Result<Self> {
        Ok(Self(Arc::new(dir.as_ref().canonicalize()?)))
    }

    /// `path` (absolute, or relative to the root) as a path under the root.
    fn resolve(&self, path: &str) -> Result<PathBuf, String> {
        let root = self.0.as_path();
        if path.trim().is_empty() {
            return Err("path is required".to_owned());
        }
        let given = Path::new(path);
        if given.components().any(|c| c == Component::ParentDir) {
            return Err("Invalid path: path traversal is not allowed".to_owned());
        }
        let joined = if given.is_absolute() {
            given.to_path_buf()
        } else {
            root.join(given)
        };
        if !joined.starts_with(root) {
            return Err(format!(
                "Invalid path: {path} is outside the configured root {}",
                root.display()
            ));
        }
        // A symlink on the way may lead out: check where the part that exists really is.
        let mut existing = joined.as_path();
        while !existing.exists() {
            existing = existing.parent().unwrap_or(root);
        }
        let real = existing
            .canonicalize()
            .map_err(|e| format!("{path}: {e}"))?;
        if !real.starts_with(root) {
            return Err(format!(
                "Invalid path: {path} resolves via symlink to {}, outside the configured root {}",
                real.display(),
                root.display()
            ));
        }
        Ok(joined)
    }
}

/// Reads a UTF-8 text file of at most [`MAX_FILE_BYTES`].
fn read_text(path: &Path) -> Result<String, String> {
    let shown = path.display();
    let metadata = std::fs::metadata(path).map_err(|e| format!("{shown}: {e}"))?;
    if metadata.len() > MAX_FILE_BYTES {
        return Err(format!(
            "File {shown} is {} bytes; files over {MAX_FILE_BYTES} bytes are not read",
            metadata.len()
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("{shown}: {e}"))?;
    String::from_utf8(bytes).map_err(|_| format!("File {shown} is not a UTF-8 text file"))
}

/// `cat -n` of `text`'s lines from `first` (1-based).
fn numbered(text: &str, first: usize) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for (offset, line) in text.lines().enumerate() {
        // Writing to a String cannot fail.
        let _ = writeln!(out, "{:>6}\t{line}", first + offset);
    }
    out
}

/// A file (with an optional 1-based `[start, end]`, `end` -1 for the end) or a directory.
fn view(path: &Path, view_range: Option<&[i64]>) -> Result<String, String> {
    if path.is_dir() {
        return Ok(list(path));
    }
    let text = read_text(path)?;
    let lines: Vec<&str> = text.lines().collect();
    let (start, end) = match view_range {
        None => (1, lines.len()),
        Some([start, end]) => {
            let end = if *end == -1 { lines.len() as i64 } else { *end };
            if *start < 1 || end < *start || end > lines.len() as i64 {
                return Err(format!(
                    "Invalid view_range [{start}, {end}]: the file has {} lines",
                    lines.len()
                ));
            }
            (*start as usize, end as usize)
        }
        Some(_) => return Err("view_range must be two numbers: [start, end]".to_owned()),
    };
    let shown = lines
        .get(start.saturating_sub(1)..end)
        .unwrap_or_default()
        .join("\n");
    Ok(format!(
        "Here's the result of running `cat -n` on {}:\n{}",
        path.display(),
        numbered(&shown, start)
    ))
}

/// Up to two levels of a directory, hidden entries left out.
fn list(dir: &Path) -> String {
    let mut out = format!(
        "Here's the files and directories up to 2 levels deep in {}, excluding hidden items:\n",
        dir.display()
    );
    let mut listed = 0;
    let mut walk = vec![(dir.to_path_buf(), 0)];
    while let Some((current, depth)) = walk.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                !p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect();
        paths.sort();
        for path in paths.into_iter().rev() {
            if depth < 1 && path.is_dir() {
                walk.push((path.clone(), depth + 1));
            }
            if listed == MAX_LISTED {
                out.push_str("... (more entries left out)\n");
                return out;
            }
            listed += 1;
            let _ = writeln!(out, "{}", path.display());
        }
    }
    out
}

/// The lines around line `line` (1-based) of `text`, numbered, after an edit.
fn edited(path: &Path, text: &str, line: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = line.saturating_sub(SNIPPET_LINES).max(1);
    let end = (line + SNIPPET_LINES).min(lines.len());
    let snippet = lines.get(start - 1..end).unwrap_or_default().join("\n");
    format!(
        "The file {path} has been edited. Here's the result of running `cat -n` on a snippet of {path}:\n{}Review the changes and make sure they are as expected. Edit the file again if necessary.",
        numbered(&snippet, start),
        path = path.display()
    )
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("the new text is over {MAX_FILE_BYTES} bytes"));
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The arguments of `file_editor` (and `file_read`'s subset).
#[derive(Debug, Deserialize)]
struct EditorInput {
    #[serde(default = "view_command")]
    command: String,
    path: String,
    file_text: Option<String>,
    view_range: Option<Vec<i64>>,
    old_str: Option<String>,
    new_str: Option<String>,
    insert_line: Option<usize>,
    #[serde(default)]
    replace_all: bool,
}

fn view_command() -> String {
    "view".to_owned()
}

fn run(root: &Root, input: EditorInput, read_only: bool) -> Result<String, String> {
    let path = root.resolve(&input.path)?;
    match input.command.as_str() {
        "view" => view(&path, input.view_range.as_deref()),
        _ if read_only => {
            Err("file_read only views files; use file_editor to change them".to_owned())
        }
        "create" => {
            if path.exists() {
                return Err(format!(
                    "File already exists at: {}. Cannot overwrite files using command `create`.",
                    path.display()
                ));
            }
            let text = input.file_text.ok_or("file_text is required for create")?;
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("{}: {e}", parent.display()))?;
            }
            write(&path, &text)?;
            Ok(format!("File created successfully at: {}", path.display()))
        }
        "str_replace" => {
            let old = input.old_str.ok_or("old_str is required for str_replace")?;
            let new = input.new_str.unwrap_or_default();
            let text = read_text(&path)?;
            let count = text.matches(old.as_str()).count();
            if count == 0 || old.is_empty() {
                return Err(format!(
                    "No replacement was performed, old_str `{old}` did not appear verbatim in {}.",
                    path.display()
                ));
            }
            if count > 1 && !input.replace_all {
                let lines: Vec<usize> = text
                    .match_indices(old.as_str())
                    .map(|(at, _)| text[..at].lines().count().max(1))
                    .collect();
                return Err(format!(
                    "No replacement was performed. Multiple occurrences of old_str `{old}` in lines {lines:?}. Make it unique, or pass replace_all=true."
                ));
            }
            let at = text.find(old.as_str()).unwrap_or_default();
            let line = text[..at].lines().count().max(1);
            let updated = text.replace(old.as_str(), &new);
            write(&path, &updated)?;
            Ok(edited(&path, &updated, line))
        }
        "insert" => {
            let new = input.new_str.ok_or("new_str is required for insert")?;
            let after = input
                .insert_line
                .ok_or("insert_line is required for insert")?;
            let text = read_text(&path)?;
            let mut lines: Vec<&str> = text.lines().collect();
            if after > lines.len() {
                return Err(format!(
                    "Invalid insert_line {after}: the file has {} lines",
                    lines.len()
                ));
            }
            lines.splice(after..after, new.lines());
            let mut updated = lines.join("\n");
            updated.push('\n');
            write(&path, &updated)?;
            Ok(edited(&path, &updated, after + 1))
        }
        other => Err(format!(
            "Unknown command `{other}`; use view, create, str_replace or insert"
        )),
    }
}

/// Runs on the blocking pool and answers like Python's tools (`Error: ...` on failure).
fn answer(root: &Root, tool_use: ToolUse, read_only: bool) -> ToolStream<'static> {
    let root = root.clone();
    strands_core::tool_result_stream(async move {
        let id = tool_use.tool_use_id.clone();
        let outcome = match serde_json::from_value::<EditorInput>(tool_use.input) {
            Ok(input) => tokio::task::spawn_blocking(move || run(&root, input, read_only))
                .await
                .unwrap_or_else(|e| Err(format!("the file tool stopped: {e}"))),
            Err(error) => Err(format!("invalid arguments: {error}")),
        };
        match outcome {
            Ok(text) => ToolResult::success(id, text),
            Err(error) => ToolResult::error(id, format!("Error: {error}")),
        }
    })
}

/// `file_editor`: views, creates and edits text files under one directory.
///
/// ```
/// use strands_agent::vended_tools::FileEditor;
///
/// let editor = FileEditor::new(std::env::temp_dir())?;
/// # drop(editor);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct FileEditor {
    root: Root,
    spec: ToolSpec,
}

impl FileEditor {
    /// An editor confined to `root` (which must exist).
    ///
    /// # Errors
    ///
    /// `root` cannot be resolved.
    pub fn new(root: impl AsRef<Path>) -> std::io::Result<Self> {
        let root = Root::new(root)?;
        let description = format!(
            "Views, creates and edits text files under {}. Commands: view (a file, with an optional view_range [start, end], or a directory), create (a new file with file_text), str_replace (old_str, which must appear exactly once unless replace_all, with new_str), insert (new_str after line insert_line; 0 inserts at the top). Paths are absolute or relative to that directory.",
            root.0.display()
        );
        let schema = json!({
            "type": "object",
            "properties": {
                "command": {"type": "string", "enum": ["view", "create", "str_replace", "insert"], "description": "What to do"},
                "path": {"type": "string", "description": "The file or directory"},
                "file_text": {"type": "string", "description": "The content of the new file (create)"},
                "view_range": {"type": "array", "items": {"type": "integer"}, "description": "[start, end] lines to view, 1-based; end -1 for the end of the file"},
                "old_str": {"type": "string", "description": "The text to replace (str_replace)"},
                "new_str": {"type": "string", "description": "The replacement (str_replace) or the text to insert (insert)"},
                "insert_line": {"type": "integer", "description": "The line after which to insert; 0 for the top (insert)"},
                "replace_all": {"type": "boolean", "description": "Replace every occurrence of old_str"}
            },
            "required": ["command", "path"]
        });
        Ok(Self {
            root,
            spec: ToolSpec::new("file_editor", description, schema),
        })
    }
}

impl Tool for FileEditor {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    fn stream(&self, tool_use: ToolUse, _context: ToolContext) -> ToolStream<'_> {
        answer(&self.root, tool_use, false)
    }
}

/// `file_read`: views text files and lists directories under one directory, read only.
#[derive(Debug, Clone)]
pub struct FileRead {
    root: Root,
    spec: ToolSpec,
}

impl FileRead {
    /// A reader confined to `root` (which must exist).
    ///
    /// # Errors
    ///
    /// `root` cannot be resolved.
    pub fn new(root: impl AsRef<Path>) -> std::io::Result<Self> {
        let root = Root::new(root)?;
        let description = format!(
            "Read-only filesystem tool. View a file (with an optional line range) or list a directory under {}. Paths are absolute or relative to that directory. For creating or editing files, use `file_editor`.",
            root.0.display()
        );
        let schema = json!({
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": "The file or directory"},
                "view_range": {"type": "array", "items": {"type": "integer"}, "description": "[start, end] lines to view, 1-based; end -1 for the end of the file"}
            },
            "required": ["path"]
        });
        Ok(Self {
            root,
            spec: ToolSpec::new("file_read", description, schema),
        })
    }
}

impl Tool for FileRead {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    fn stream(&self, tool_use: ToolUse, _context: ToolContext) -> ToolStream<'_> {
        answer(&self.root, tool_use, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn input(value: Value) -> EditorInput {
        serde_json::from_value(value).unwrap()
    }

    fn sandbox(name: &str) -> (PathBuf, Root) {
        let dir = std::env::temp_dir().join(format!("strands-files-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let root = Root::new(&dir).unwrap();
        (root.0.to_path_buf(), root)
    }

    #[test]
    fn create_view_replace_and_insert() {
        let (dir, root) = sandbox("edit");
        let created = run(
            &root,
            input(
                json!({"command": "create", "path": "notes/a.txt", "file_text": "one\ntwo\nthree\n"}),
            ),
            false,
        );
        assert_eq!(
            created,
            Ok(format!(
                "File created successfully at: {}",
                dir.join("notes/a.txt").display()
            ))
        );
        let viewed = run(
            &root,
            input(json!({"path": "notes/a.txt", "view_range": [2, -1]})),
            true,
        )
        .unwrap();
        assert!(viewed.ends_with("     2\ttwo\n     3\tthree\n"), "{viewed}");
        let replaced = run(&root, input(json!({"command": "str_replace", "path": "notes/a.txt", "old_str": "two", "new_str": "2"})), false).unwrap();
        assert!(
            replaced.starts_with("The file ") && replaced.contains("     2\t2\n"),
            "{replaced}"
        );
        run(&root, input(json!({"command": "insert", "path": "notes/a.txt", "insert_line": 0, "new_str": "zero"})), false).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join("notes/a.txt")).unwrap(),
            "zero\none\n2\nthree\n"
        );
        let listing = run(&root, input(json!({"path": "."})), true).unwrap();
        assert!(listing.contains("notes/a.txt"), "{listing}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn mistakes_are_explained() {
        let (dir, root) = sandbox("mistakes");
        std::fs::write(dir.join("b.txt"), "x x\n").unwrap();
        let error =
            |value: Value, read_only: bool| run(&root, input(value), read_only).unwrap_err();
        assert!(
            error(
                json!({"command": "create", "path": "b.txt", "file_text": ""}),
                false
            )
            .starts_with("File already exists at: ")
        );
        assert!(
            error(
                json!({"command": "str_replace", "path": "b.txt", "old_str": "y"}),
                false
            )
            .starts_with("No replacement was performed, old_str `y`")
        );
        assert!(
            error(
                json!({"command": "str_replace", "path": "b.txt", "old_str": "x"}),
                false
            )
            .contains("Multiple occurrences of old_str `x` in lines [1, 1]")
        );
        assert!(
            error(
                json!({"command": "str_replace", "path": "b.txt", "old_str": "x"}),
                true
            )
            .starts_with("file_read only views")
        );
        assert!(
            error(
                json!({"command": "insert", "path": "b.txt", "insert_line": 5, "new_str": "z"}),
                false
            )
            .starts_with("Invalid insert_line 5")
        );
        assert!(
            error(json!({"command": "delete", "path": "b.txt"}), false)
                .starts_with("Unknown command `delete`")
        );
        std::fs::write(dir.join("big.txt"), vec![b'a'; 2 * 1024 * 1024]).unwrap();
        assert!(
            error(json!({"path": "big.txt"}), true)
                .contains("files over 1048576 bytes are not read")
        );
        std::fs::write(dir.join("bin"), [0xff, 0xfe]).unwrap();
        assert!(error(json!({"path": "bin"}), true).ends_with("is not a UTF-8 text file"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn nothing_outside_the_root_is_reached() {
        let (dir, root) = sandbox("confined");
        assert_eq!(
            root.resolve("../etc/passwd"),
            Err("Invalid path: path traversal is not allowed".to_owned())
        );
        assert!(
            root.resolve("/etc/passwd")
                .unwrap_err()
                .contains("is outside the configured root")
        );
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/etc", dir.join("link")).unwrap();
            assert!(
                root.resolve("link/passwd")
                    .unwrap_err()
                    .contains("resolves via symlink to /etc")
            );
        }
        assert_eq!(root.resolve("new/file.txt"), Ok(dir.join("new/file.txt")));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
