//! The image's one layer: a tar of a few files, written the same way every time (sorted paths,
//! fixed owners and times, no host metadata), then gzipped without a timestamp.

use std::io::Write as _;

use flate2::{Compression, GzBuilder};

use super::ImageError;

/// The user the server runs as (distroless' `nonroot`).
pub(super) const USER_ID: u64 = 65532;

/// One entry of the layer.
pub(super) struct Entry {
    pub(super) path: &'static str,
    pub(super) mode: u32,
    pub(super) owner: u64,
    /// `None` for a directory.
    pub(super) contents: Option<Vec<u8>>,
}

impl Entry {
    pub(super) fn dir(path: &'static str, mode: u32) -> Self {
        Self {
            path,
            mode,
            owner: 0,
            contents: None,
        }
    }

    pub(super) fn file(path: &'static str, mode: u32, contents: Vec<u8>) -> Self {
        Self {
            path,
            mode,
            owner: 0,
            contents: Some(contents),
        }
    }

    #[must_use]
    pub(super) fn owned_by(mut self, owner: u64) -> Self {
        self.owner = owner;
        self
    }
}

/// The uncompressed tar of `entries` (sorted by path), every time stamped `mtime`.
pub(super) fn tar(mut entries: Vec<Entry>, mtime: u64) -> Result<Vec<u8>, ImageError> {
    entries.sort_by(|a, b| a.path.cmp(b.path));
    let mut builder = tar::Builder::new(Vec::new());
    for entry in &entries {
        let mut header = tar::Header::new_ustar();
        header.set_mode(entry.mode);
        header.set_uid(entry.owner);
        header.set_gid(entry.owner);
        header.set_mtime(mtime);
        let contents = entry.contents.as_deref().unwrap_or_default();
        if entry.contents.is_some() {
            header.set_entry_type(tar::EntryType::Regular);
        } else {
            header.set_entry_type(tar::EntryType::Directory);
        }
        header.set_size(contents.len() as u64);
        builder
            .append_data(&mut header, entry.path, contents)
            .map_err(ImageError::Write)?;
    }
    builder.into_inner().map_err(ImageError::Write)
}

/// `bytes` gzipped at the best ratio, with no name or time in the gzip header.
pub(super) fn gzip(bytes: &[u8]) -> Result<Vec<u8>, ImageError> {
    let mut encoder = GzBuilder::new()
        .mtime(0)
        .write(Vec::with_capacity(bytes.len() / 2), Compression::best());
    encoder.write_all(bytes).map_err(ImageError::Write)?;
    encoder.finish().map_err(ImageError::Write)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_sorted_and_carry_no_host_metadata() {
        let entries = || {
            vec![
                Entry::file("usr/local/bin/x", 0o755, b"bin".to_vec()),
                Entry::dir("tmp/", 0o1777),
                Entry::dir("home/nonroot/", 0o755).owned_by(USER_ID),
            ]
        };
        let bytes = tar(entries(), 7).unwrap();
        assert_eq!(bytes, tar(entries(), 7).unwrap());
        let mut archive = tar::Archive::new(bytes.as_slice());
        let seen: Vec<_> = archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let h = e.header();
                (
                    e.path().unwrap().display().to_string(),
                    h.mode().unwrap(),
                    h.uid().unwrap(),
                    h.mtime().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("home/nonroot/".to_owned(), 0o755, USER_ID, 7),
                ("tmp/".to_owned(), 0o1777, 0, 7),
                ("usr/local/bin/x".to_owned(), 0o755, 0, 7),
            ]
        );
        assert_eq!(gzip(&bytes).unwrap(), gzip(&bytes).unwrap());
    }
}
