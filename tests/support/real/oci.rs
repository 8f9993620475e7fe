//! A tiny OCI image built offline: an OCI image layout directory (`oci-layout`, `index.json`,
//! `blobs/sha256/...`) with one gzip tar layer holding one file, an image config and a manifest.
//! skopeo reads it as `oci:DIR:TAG`, and writes pulled images in the same layout.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read as _;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
const CONFIG_TYPE: &str = "application/vnd.oci.image.config.v1+json";
const LAYER_TYPE: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// An OCI layout on disk.
#[derive(Debug, Clone)]
pub struct OciImage {
    /// The layout directory.
    pub dir: PathBuf,
    /// The tag in `index.json` (`org.opencontainers.image.ref.name`).
    pub tag: String,
    /// `sha256:...` of the manifest.
    pub manifest_digest: String,
    /// `sha256:...` of the gzip layer.
    pub layer_digest: String,
}

impl OciImage {
    /// Writes an image whose only layer holds `file_name` with `contents`.
    pub fn build(dir: &Path, tag: &str, file_name: &str, contents: &[u8]) -> Self {
        std::fs::create_dir_all(dir.join("blobs").join("sha256")).unwrap();
        std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();

        let mut tar = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(contents.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_cksum();
        tar.append_data(&mut header, file_name, contents).unwrap();
        let tar = tar.into_inner().unwrap();
        let diff_id = digest(&tar);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, &tar).unwrap();
        let layer = gz.finish().unwrap();

        let config = json!({
            "created": "2024-01-01T00:00:00Z",
            "architecture": "amd64",
            "os": "linux",
            "config": {"Cmd": ["/bin/true"]},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            "history": [{"created": "2024-01-01T00:00:00Z", "created_by": "acr-tray tests"}],
        });
        let config = serde_json::to_vec(&config).unwrap();
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": MANIFEST_TYPE,
            "config": descriptor(CONFIG_TYPE, &config),
            "layers": [descriptor(LAYER_TYPE, &layer)],
        });
        let manifest = serde_json::to_vec(&manifest).unwrap();
        let mut manifest_desc = descriptor(MANIFEST_TYPE, &manifest);
        manifest_desc["annotations"] = json!({"org.opencontainers.image.ref.name": tag});
        let index = json!({"schemaVersion": 2, "manifests": [manifest_desc]});
        std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
        for blob in [&layer, &config, &manifest] {
            write_blob(dir, blob);
        }
        Self {
            dir: dir.to_owned(),
            tag: tag.to_owned(),
            manifest_digest: digest(&manifest),
            layer_digest: digest(&layer),
        }
    }

    /// `oci:DIR:TAG`, a skopeo reference.
    pub fn reference(&self) -> String {
        format!("oci:{}:{}", self.dir.display(), self.tag)
    }

    /// The files of every layer of the image tagged `tag` in the OCI layout `dir` (as skopeo
    /// wrote it), as (path, contents).
    pub fn read_files(dir: &Path, tag: &str) -> Vec<(String, Vec<u8>)> {
        let index: Value =
            serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
        let entry = index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == tag)
            .unwrap_or_else(|| panic!("no {tag} in {index}"));
        let manifest: Value =
            serde_json::from_slice(&read_blob(dir, entry["digest"].as_str().unwrap())).unwrap();
        let mut files = Vec::new();
        for layer in manifest["layers"].as_array().unwrap() {
            let blob = read_blob(dir, layer["digest"].as_str().unwrap());
            let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&blob[..]));
            for entry in archive.entries().unwrap() {
                let mut entry = entry.unwrap();
                let path = entry.path().unwrap().display().to_string();
                let mut data = Vec::new();
                entry.read_to_end(&mut data).unwrap();
                files.push((path, data));
            }
        }
        files
    }
}

/// `sha256:<hex>`.
pub fn digest(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

fn descriptor(media_type: &str, bytes: &[u8]) -> Value {
    json!({"mediaType": media_type, "digest": digest(bytes), "size": bytes.len()})
}

fn blob_path(dir: &Path, digest: &str) -> PathBuf {
    let hex = digest.strip_prefix("sha256:").unwrap();
    dir.join("blobs").join("sha256").join(hex)
}

fn write_blob(dir: &Path, bytes: &[u8]) {
    std::fs::write(blob_path(dir, &digest(bytes)), bytes).unwrap();
}

fn read_blob(dir: &Path, digest: &str) -> Vec<u8> {
    std::fs::read(blob_path(dir, digest)).unwrap()
}
