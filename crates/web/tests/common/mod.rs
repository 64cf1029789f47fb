//! What several test binaries of the web crate share.

/// A multipart form with text fields and one file in the field `file`: its content type and
/// its bytes.
pub fn multipart_form(fields: &[(&str, &str)], name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    multipart_files(fields, &[("file", name, bytes)])
}

/// A multipart form with text fields and files (field, file name, bytes), in that order, as a
/// browser sends it.
#[allow(dead_code)]
pub fn multipart_files(fields: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "XdanvanX";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
        );
    }
    for (field, name, bytes) in files {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}
