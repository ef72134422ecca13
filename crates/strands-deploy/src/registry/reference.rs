//! `registry/repository[:tag]`, checked as the distribution spec checks names and tags.

use std::fmt;
use std::str::FromStr;

use super::RegistryError;

/// An image's place: a registry (`host[:port]`), a repository in it, and a tag.
///
/// ```
/// use strands_deploy::Reference;
///
/// let r: Reference = "123456789012.dkr.ecr.us-west-2.amazonaws.com/agents/weather:v3".parse()?;
/// assert_eq!((r.registry(), r.repository(), r.tag()),
///            ("123456789012.dkr.ecr.us-west-2.amazonaws.com", "agents/weather", "v3"));
/// assert_eq!("localhost:5000/weather".parse::<Reference>()?.tag(), "latest");
/// # Ok::<(), strands_deploy::RegistryError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    registry: String,
    repository: String,
    tag: String,
}

impl Reference {
    /// The registry: `host[:port]`.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The registry's host, without the port.
    pub fn host(&self) -> &str {
        match self.registry.rsplit_once(':') {
            Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
            _ => &self.registry,
        }
    }

    /// The repository (`agents/weather`).
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag (`latest` when none was given).
    pub fn tag(&self) -> &str {
        &self.tag
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}:{}", self.registry, self.repository, self.tag)
    }
}

impl FromStr for Reference {
    type Err = RegistryError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = |reason| RegistryError::InvalidReference {
            reference: text.chars().take(300).collect(),
            reason,
        };
        if text.contains('@') {
            return Err(invalid("an image is pushed under a tag, not a digest"));
        }
        let (registry, rest) = text
            .split_once('/')
            .ok_or_else(|| invalid("name the registry: <registry>/<repository>[:tag]"))?;
        let is_registry =
            registry.contains('.') || registry.contains(':') || registry == "localhost";
        if !is_registry || registry.is_empty() {
            return Err(invalid("name the registry: <registry>/<repository>[:tag]"));
        }
        let (repository, tag) = match rest.rsplit_once(':') {
            Some((repository, tag)) => (repository, tag),
            None => (rest, "latest"),
        };
        if !valid_repository(repository) {
            return Err(invalid(
                "repositories are lowercase letters and digits in /-separated parts joined by ., _, __ or -, at most 255 characters",
            ));
        }
        if !valid_tag(tag) {
            return Err(invalid(
                "tags are 1 to 128 letters, digits, _, . and -, not starting with . or -",
            ));
        }
        Ok(Self {
            registry: registry.to_owned(),
            repository: repository.to_owned(),
            tag: tag.to_owned(),
        })
    }
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/…)*`, at most 255 characters.
fn valid_repository(name: &str) -> bool {
    name.len() <= 255 && !name.is_empty() && name.split('/').all(valid_component)
}

fn valid_component(part: &str) -> bool {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = part.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    if !alnum(first) || !alnum(last) {
        return false;
    }
    // Separators: one `.`, one or two `_`, or any run of `-`.
    let mut run = String::new();
    for &b in bytes {
        if alnum(b) {
            if !matches!(run.as_str(), "" | "." | "_" | "__") && !run.bytes().all(|c| c == b'-') {
                return false;
            }
            run.clear();
        } else if matches!(b, b'.' | b'_' | b'-') {
            run.push(char::from(b));
        } else {
            return false;
        }
    }
    true
}

/// `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
fn valid_tag(tag: &str) -> bool {
    let ok = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-');
    let bytes = tag.as_bytes();
    (1..=128).contains(&bytes.len())
        && (bytes[0].is_ascii_alphanumeric() || bytes[0] == b'_')
        && bytes.iter().all(|&b| ok(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_name_registry_repository_and_tag() {
        let r: Reference = "127.0.0.1:4566/team/agent:2026.12.05".parse().unwrap();
        assert_eq!(r.registry(), "127.0.0.1:4566");
        assert_eq!(r.host(), "127.0.0.1");
        assert_eq!(r.repository(), "team/agent");
        assert_eq!(r.tag(), "2026.12.05");
        assert_eq!(r.to_string(), "127.0.0.1:4566/team/agent:2026.12.05");
    }

    #[test]
    fn bad_references_say_what_is_wrong() {
        for (text, fragment) in [
            ("agent:latest", "name the registry"),
            ("library/agent", "name the registry"),
            ("r.example/Agent", "repositories are lowercase"),
            ("r.example/a..b", "repositories are lowercase"),
            ("r.example/a___b", "repositories are lowercase"),
            ("r.example/-a", "repositories are lowercase"),
            ("r.example/a//b", "repositories are lowercase"),
            ("r.example/a:.x", "tags are"),
            ("r.example/a:", "tags are"),
            ("r.example/a@sha256:00", "not a digest"),
        ] {
            let error = text.parse::<Reference>().unwrap_err().to_string();
            assert!(error.contains(fragment), "{text}: {error}");
        }
        assert!("r.example/a__b-c--d.e/f:v_1".parse::<Reference>().is_ok());
        let long = format!("r.example/{}", "a".repeat(256));
        assert!(long.parse::<Reference>().is_err());
    }
}
