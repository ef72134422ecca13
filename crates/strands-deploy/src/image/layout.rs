//! The OCI image layout on disk (`oci-layout`, `index.json`, `blobs/sha256/<hex>`), as a
//! directory or as one tar file.

use std::path::Path;

use serde_json::json;

use super::{INDEX_MEDIA_TYPE, Image, ImageError};

/// The annotation naming the image in `index.json`.
const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// `index.json` and `oci-layout`, then each blob by path.
fn files(image: &Image, tag: &str) -> Vec<(String, Vec<u8>)> {
    let root = image.root();
    let index = json!({
        "schemaVersion": 2,
        "mediaType": INDEX_MEDIA_TYPE,
        "manifests": [{
            "mediaType": root.media_type,
            "digest": root.digest,
            "size": root.size,
            "annotations": {REF_NAME: tag},
        }],
    });
    let mut files = vec![
        (
            "oci-layout".to_owned(),
            br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
        ),
        ("index.json".to_owned(), super::to_json(&index)),
    ];
    for (digest, blob) in image.blobs() {
        files.push((blob_path(digest), blob.bytes.to_vec()));
    }
    files
}

fn blob_path(digest: &str) -> String {
    format!("blobs/{}", digest.replacen(':', "/", 1))
}

pub(super) fn write_dir(image: &Image, dir: &Path, tag: &str) -> Result<(), ImageError> {
    std::fs::create_dir_all(dir.join("blobs/sha256")).map_err(ImageError::Write)?;
    for (path, bytes) in files(image, tag) {
        std::fs::write(dir.join(path), bytes).map_err(ImageError::Write)?;
    }
    Ok(())
}

pub(super) fn write_archive(
    image: &Image,
    path: &Path,
    tag: &str,
    mtime: u64,
) -> Result<(), ImageError> {
    let files = files(image, tag);
    let mut builder = tar::Builder::new(Vec::new());
    let mut append = |name: &str, contents: Option<&[u8]>| {
        let mut header = tar::Header::new_ustar();
        header.set_mtime(mtime);
        header.set_uid(0);
        header.set_gid(0);
        if let Some(contents) = contents {
            header.set_mode(0o644);
            header.set_entry_type(tar::EntryType::Regular);
            header.set_size(contents.len() as u64);
            builder.append_data(&mut header, name, contents)
        } else {
            header.set_mode(0o755);
            header.set_entry_type(tar::EntryType::Directory);
            header.set_size(0);
            builder.append_data(&mut header, name, std::io::empty())
        }
    };
    append("blobs/", None).map_err(ImageError::Write)?;
    append("blobs/sha256/", None).map_err(ImageError::Write)?;
    for (name, bytes) in &files {
        append(name, Some(bytes)).map_err(ImageError::Write)?;
    }
    let bytes = builder.into_inner().map_err(ImageError::Write)?;
    std::fs::write(path, bytes).map_err(ImageError::Write)
}
