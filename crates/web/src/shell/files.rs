//! The file keeper: uploaded files kept under the data folder, named by their SHA-256, so that
//! the same bytes uploaded twice (by two units, or as evidence and as an activity file) are kept
//! once and shared.
//!
//! Sharing makes deletion delicate: bytes may go only when no row refers to them, and an upload
//! of the same bytes may be between writing them and recording its row. So an upload holds the
//! keeper's lock (shared) from writing the bytes until its row is committed, and a deletion holds
//! it (exclusive) from removing its row — which tells whether other rows still refer to the
//! bytes — until the bytes are gone. Bytes are written to a temporary file that is renamed into
//! place, and the temporary file is removed when writing fails; leftovers of a crash are swept at
//! start.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::response::Response;
use tokio::sync::{OwnedRwLockReadGuard, RwLock};

use crate::shell::error::WebError;
use crate::shell::i18n::Lang;

pub use danvan_store::files::{path_of, write_atomically};
use danvan_store::FileStore;

/// The lock that orders uploads and deletions of kept files in this process.
#[derive(Clone, Debug, Default)]
pub struct FileLock(Arc<RwLock<()>>);

/// Held by an upload until its row is recorded: no deletion removes bytes meanwhile.
pub struct Hold(#[allow(dead_code)] OwnedRwLockReadGuard<()>);

/// Checks an uploaded file (not empty, at most 10 MB, a kind told from its content) and keeps
/// its bytes. The answer's [`Hold`] must be kept until the row that refers to the bytes is
/// committed.
pub(crate) async fn keep(
    files: &FileStore,
    lock: &FileLock,
    lang: Lang,
    name: &str,
    bytes: &[u8],
) -> Result<(danvan_store::NewFile, Hold), WebError> {
    use danvan_domain::evidence::{safe_filename, sniff, MAX_FILE_BYTES};
    if bytes.is_empty() {
        return Err(WebError::BadRequest(lang.t("evidence-missing")));
    }
    if bytes.len() > MAX_FILE_BYTES {
        return Err(WebError::PayloadTooLarge(lang.t("evidence-too-large")));
    }
    let Some(kind) = sniff(bytes) else {
        return Err(WebError::UnsupportedMedia(lang.t("evidence-kind")));
    };
    let sha256 = danvan_store::files::sha256_hex(bytes);
    let hold = Hold(lock.0.clone().read_owned().await);
    files.put(&sha256, bytes).await?;
    let file = danvan_store::NewFile {
        filename: safe_filename(name, kind),
        content_type: kind.content_type().into(),
        size: bytes.len() as i64,
        sha256,
    };
    Ok((file, hold))
}

/// Removes a row that refers to kept bytes (`remove` answers whether other rows still refer to
/// them) and then, if none does, the bytes.
pub(crate) async fn release<F>(
    files: &FileStore,
    lock: &FileLock,
    sha256: &str,
    remove: F,
) -> Result<(), WebError>
where
    F: std::future::Future<Output = danvan_store::Result<bool>>,
{
    let _exclusive = lock.0.write().await;
    let shared = remove.await?;
    if !shared {
        if let Err(e) = files.remove(sha256).await {
            tracing::warn!(error = %e, "a file no longer used could not be removed");
        }
    }
    Ok(())
}

/// The bytes of a kept file. Missing bytes (removed by hand, a lost disk) are an internal
/// error, logged.
pub(crate) async fn read(files: &FileStore, sha256: &str) -> Result<Vec<u8>, WebError> {
    match files.get(sha256).await? {
        Some(bytes) => Ok(bytes),
        None => Err(WebError::Internal(format!("the bytes of file {sha256} are missing").into())),
    }
}

/// Removes the temporary files that a crash left behind in a folder of files (older than an
/// hour, so that another server writing into the same folder is not disturbed); answers how
/// many.
pub fn sweep_temporary(files: &FileStore) -> usize {
    let FileStore::Dir(root) = files else { return 0 };
    let Ok(dirs) = std::fs::read_dir(root) else { return 0 };
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    let mut removed = 0;
    for dir in dirs.flatten().filter(|d| d.file_type().is_ok_and(|t| t.is_dir())) {
        let Ok(files) = std::fs::read_dir(dir.path()) else { continue };
        for f in files.flatten() {
            let name = f.file_name();
            let temporary = name.to_str().is_some_and(|n| n.starts_with('.'));
            let old = f.metadata().and_then(|m| m.modified()).is_ok_and(|t| t < hour_ago);
            if temporary && old && std::fs::remove_file(f.path()).is_ok() {
                removed += 1;
            }
        }
    }
    removed
}

/// What a multipart form carried: its text fields, and its one file (name and bytes).
pub(crate) struct Upload {
    pub fields: BTreeMap<String, String>,
    pub file: Option<(String, Vec<u8>)>,
}

/// A file picked in a form: the name of its field, the file's own name and its bytes.
pub(crate) struct Picked {
    pub field: String,
    pub name: String,
    pub bytes: Vec<u8>,
}

/// What a form carried, in order: its text fields, and the files picked in it (a file field
/// left empty is not one).
#[derive(Default)]
pub(crate) struct FilledForm {
    pub pairs: Vec<(String, String)>,
    pub files: Vec<Picked>,
}

/// Reads a multipart form, every field of it. A body over the route's limit gives `too_big()`.
pub(crate) async fn read_parts(
    mut multipart: axum::extract::Multipart,
    too_big: impl Fn() -> WebError,
) -> Result<FilledForm, WebError> {
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_big()
        } else {
            WebError::BadRequest(format!("tệp gửi lên không đọc được: {e}"))
        }
    };
    let mut form = FilledForm::default();
    while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
        let name = field.name().unwrap_or("").to_string();
        match field.file_name().map(str::to_string) {
            Some(filename) => {
                let bytes = field.bytes().await.map_err(unreadable)?.to_vec();
                if !(filename.is_empty() && bytes.is_empty()) {
                    form.files.push(Picked { field: name, name: filename, bytes });
                }
            }
            None => form.pairs.push((name, field.text().await.map_err(unreadable)?)),
        }
    }
    Ok(form)
}

/// Reads a form sent either way a browser sends one: URL-encoded, or multipart with files.
pub(crate) async fn read_any_form(
    req: axum::extract::Request,
    too_big: impl Fn() -> WebError,
) -> Result<FilledForm, WebError> {
    use axum::extract::FromRequest;
    let multipart = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if multipart {
        let parts = axum::extract::Multipart::from_request(req, &())
            .await
            .map_err(|e| WebError::BadRequest(format!("biểu mẫu không đọc được: {e}")))?;
        read_parts(parts, too_big).await
    } else {
        let axum::Form(pairs) =
            axum::Form::<Vec<(String, String)>>::from_request(req, &()).await.map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    too_big()
                } else {
                    WebError::BadRequest(format!("biểu mẫu không đọc được: {e}"))
                }
            })?;
        Ok(FilledForm { pairs, files: Vec::new() })
    }
}

/// Reads a multipart form with one file field named `file`. A body over the route's limit
/// gives `too_big()`.
pub(crate) async fn read_multipart(
    multipart: axum::extract::Multipart,
    too_big: impl Fn() -> WebError,
) -> Result<Upload, WebError> {
    let form = read_parts(multipart, too_big).await?;
    Ok(Upload {
        fields: form.pairs.into_iter().collect(),
        file: form.files.into_iter().rev().find(|f| f.field == "file").map(|f| (f.name, f.bytes)),
    })
}

/// A file to download, always as an attachment, under a name safe in every browser.
pub(crate) fn attachment(content_type: &str, filename: &str, bytes: Vec<u8>) -> Response {
    let encoded: String =
        url::form_urlencoded::byte_serialize(filename.as_bytes()).collect::<String>().replace('+', "%20");
    let ascii: String = filename
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' })
        .collect();
    (
        [
            (axum::http::header::CONTENT_TYPE, content_type.to_string()),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"),
            ),
            (axum::http::header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        bytes,
    )
        .into_response()
}

/// The most an uploaded template may weigh; a filled one is a few dozen kilobytes.
pub const MAX_TEMPLATE_BYTES: usize = 5 * 1024 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    fn temp() -> std::path::PathBuf {
        danvan_store::testing::tempfile_dir()
    }

    /// Issue 14, defect 5: a write that fails leaves no temporary file behind, and leaves what
    /// was at the path as it was.
    #[tokio::test]
    async fn a_failed_write_leaves_nothing_behind() {
        let root = temp();
        let sha = "ab".to_string() + &"0".repeat(62);
        let path = path_of(&root, &sha);
        // The path is taken by a folder with something in it: the rename fails.
        std::fs::create_dir_all(path.join("x")).unwrap();
        assert!(write_atomically(&path, b"%PDF-1.4 bytes").await.is_err());
        let left: Vec<String> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left, vec![sha.clone()], "only the folder that was there");
        // A write that succeeds leaves the bytes and nothing else.
        let other = path_of(&root, &("ab".to_string() + &"1".repeat(62)));
        write_atomically(&other, b"bytes").await.unwrap();
        assert_eq!(std::fs::read(&other).unwrap(), b"bytes");
        assert_eq!(std::fs::read_dir(other.parent().unwrap()).unwrap().count(), 2);
    }

    #[test]
    fn old_temporary_files_are_swept_and_kept_files_are_not() {
        let root = temp();
        let dir = root.join("ef");
        std::fs::create_dir_all(&dir).unwrap();
        let kept = dir.join("ef".to_string() + &"2".repeat(62));
        let stale = dir.join(".efsomething.123.0.tmp");
        let fresh = dir.join(".effresh.123.1.tmp");
        for p in [&kept, &stale, &fresh] {
            std::fs::write(p, b"x").unwrap();
        }
        let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
        for p in [&kept, &stale] {
            std::fs::File::options().write(true).open(p).unwrap().set_modified(two_hours_ago).unwrap();
        }
        assert_eq!(sweep_temporary(&FileStore::Dir(root.clone())), 1);
        assert!(kept.exists() && fresh.exists() && !stale.exists());
    }
}
