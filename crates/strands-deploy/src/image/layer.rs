//! The image's one layer: a tar of a few files, written the same way every time (sorted paths,
//! fixed owners and times, no host metadata), then gzipped without a timestamp.

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
///
/// Compressed with `miniz_oxide` itself, not through `flate2`: `flate2`'s backend is chosen by
/// feature unification (another crate in a build can switch it to zlib-rs), and two backends
/// give two layers, two digests, for the same files.
pub(super) fn gzip(bytes: &[u8]) -> Vec<u8> {
    // RFC 1952: magic, deflate, no flags, mtime 0, "maximum compression", OS unknown.
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255];
    out.extend_from_slice(&miniz_oxide::deflate::compress_to_vec(bytes, 9));
    out.extend_from_slice(&crc32fast::hash(bytes).to_le_bytes());
    // ISIZE: the input's length modulo 2^32, as the format defines it.
    out.extend_from_slice(&((bytes.len() & 0xFFFF_FFFF) as u32).to_le_bytes());
    out
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
        let gzipped = gzip(&bytes);
        let mut unzipped = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(gzipped.as_slice()),
            &mut unzipped,
        )
        .unwrap();
        assert_eq!(unzipped, bytes);
    }

    /// The compressor is pinned: a change of its output changes every image digest, so it
    /// must be seen here, not discovered as blobs that stop matching.
    #[test]
    fn the_compressed_layer_is_byte_for_byte_stable() {
        let input: Vec<u8> = (0u32..20_000).map(|i| (i * 7 % 251) as u8).collect();
        assert_eq!(
            crate::image::sha256(&gzip(&input)),
            "sha256:18aa3d2e32ebc251503177cd4c7f32d38aefbd42a0fe1c52844d9fba8bad72d7"
        );
    }
}
