//! The operations commands: backup, restore, copy — each with a progress bar and a summary.

use std::path::Path;

use anyhow::Context;
use danvan_domain::scheme::format_number;
use danvan_store::{BackupStep, FileStore, FilesTarget, Store};
use indicatif::ProgressBar;

use crate::progress_bar;

/// A progress bar that follows a backup's or restore's steps.
fn follow(bar: &ProgressBar) -> impl FnMut(BackupStep) + Send + '_ {
    move |step| match step {
        BackupStep::Database => bar.set_message("Cơ sở dữ liệu"),
        BackupStep::Files { done, total } => {
            bar.set_message("Tệp tải lên");
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        }
        BackupStep::Verify { done, total } => {
            bar.set_message("Kiểm tra");
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        }
    }
}

fn megabytes(bytes: u64) -> String {
    format_number(((bytes as f64) / 1e5).round() / 10.0)
}

pub async fn backup(store: &Store, files: &FileStore, dir: &Path) -> anyhow::Result<()> {
    let bar = progress_bar(0, "Sao lưu");
    let made = danvan_web::ops::make_backup(store, files, dir, &mut follow(&bar)).await;
    bar.finish_and_clear();
    let manifest = made.with_context(|| format!("sao lưu vào {} không thành", dir.display()))?;
    println!(
        "Đã sao lưu và kiểm tra: {} ({} MB; cơ sở dữ liệu {}, phiên bản cấu trúc {}; {} tệp tải lên{}).",
        dir.display(),
        megabytes(manifest.bytes()),
        manifest.backend,
        manifest.schema_version,
        manifest.file_count(),
        if manifest.files_in == "database" { " nằm trong cơ sở dữ liệu" } else { "" }
    );
    Ok(())
}

pub async fn restore(dir: &Path, url: &str, files: FilesTarget, force: bool) -> anyhow::Result<()> {
    let bar = progress_bar(0, "Khôi phục");
    let done = danvan_store::restore(dir, url, files, force, &mut follow(&bar)).await;
    bar.finish_and_clear();
    let (manifest, store) = done.with_context(|| format!("khôi phục từ {} không thành", dir.display()))?;
    let now = store.schema_version().await?;
    store.close().await;
    println!(
        "Đã khôi phục bản sao lưu lúc {} (phiên bản cấu trúc {}, nay {}; {} tệp tải lên).",
        (manifest.created_at + chrono::Duration::hours(7)).format("%H:%M %d/%m/%Y"),
        manifest.schema_version,
        now,
        manifest.file_count()
    );
    Ok(())
}

/// Copies a database into another; with `files_into_database`, also the files of the folder
/// `folder` into the target database (how a province moves to several servers).
pub async fn copy(from: &str, to: &str, folder: &Path, files_into_database: bool) -> anyhow::Result<()> {
    if from == to {
        anyhow::bail!("nguồn và đích là cùng một cơ sở dữ liệu");
    }
    let source = Store::open(from).await.context("không mở được cơ sở dữ liệu nguồn")?;
    let target = Store::open(to).await.context("không mở được cơ sở dữ liệu đích")?;
    let bar = progress_bar(0, "Sao chép");
    let mut tick = |table: &str, done: u64, total: u64| {
        bar.set_message(table.to_string());
        bar.set_length(total);
        bar.set_position(done);
    };
    let copied = source.copy_into(&target, &mut tick).await;
    bar.finish_and_clear();
    let tables = copied.context("sao chép không thành")?;
    let rows: u64 = tables.iter().map(|t| t.rows).sum();
    for t in tables.iter().filter(|t| t.rows > 0) {
        println!("  {:<24} {:>10} dòng  {}", t.table, format_number(t.rows as f64), t.checksum);
    }
    println!(
        "Đã sao chép {} bảng, {} dòng; số dòng và tổng kiểm từng bảng ở hai bên khớp nhau.",
        tables.len(),
        format_number(rows as f64)
    );
    if files_into_database {
        let dir = FileStore::Dir(folder.to_path_buf());
        let inside = FileStore::Database(target.clone());
        let names = dir.list().await?;
        let bar = progress_bar(names.len(), "Tệp tải lên");
        for (i, sha) in names.iter().enumerate() {
            let bytes = dir.get(sha).await?.with_context(|| format!("tệp {sha} không đọc được"))?;
            if danvan_store::files::sha256_hex(&bytes) != *sha {
                anyhow::bail!("tệp {sha} trong {} không khớp mã SHA-256 của nó", folder.display());
            }
            inside.put(sha, &bytes).await?;
            bar.set_position(i as u64 + 1);
        }
        bar.finish_and_clear();
        println!("Đã chép {} tệp tải lên từ {} vào cơ sở dữ liệu đích.", names.len(), folder.display());
    }
    source.close().await;
    target.close().await;
    Ok(())
}
