//! `danvan notify run`: the reminders once, with the code `serve` runs every minute.

use anyhow::{bail, Context};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use danvan_store::Store;
use danvan_web::notices::{run_once, Reach};
use danvan_web::AppState;

use crate::Settings;

/// A moment as typed: `2027-01-08T07:30`, `2027-01-08 07:30[:00]` (Vietnam time), a day alone
/// (07:00 that day), or RFC 3339 with its own offset.
pub fn parse_vn_moment(text: &str) -> anyhow::Result<DateTime<Utc>> {
    let t = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(t) {
        return Ok(at.with_timezone(&Utc));
    }
    let local = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
        .or_else(|| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(7, 0, 0)));
    match local {
        Some(l) => Ok((l - chrono::Duration::hours(7)).and_utc()),
        None => bail!("--now \"{text}\": cần dạng 2027-01-08T07:30 (giờ Việt Nam) hoặc 2027-01-08"),
    }
}

pub async fn run(store: Store, global: &Settings, now: DateTime<Utc>, dry_run: bool) -> anyhow::Result<()> {
    let (users, _) = store.users(None, i64::MAX as usize, 0).await?;
    let name = |id: i64| users.iter().find(|u| u.id == id).map(|u| u.username.clone()).unwrap_or_default();
    let state = AppState { notify: global.notify.clone(), ..AppState::new(store) };
    let report = run_once(&state, now, Reach::All, dry_run).await.context("không chạy được nhắc việc")?;
    let at = now.with_timezone(&danvan_domain::period::VIETNAM).format("%H:%M %d/%m/%Y");
    let verb = if dry_run { "Sẽ tạo" } else { "Đã tạo" };
    println!("{verb} {} thông báo ({at}):", report.made.len());
    for p in &report.made {
        let n = &p.note;
        println!("  {} · {} · {} · {}", name(n.user_id), n.kind, n.step, n.title);
    }
    let verb = if dry_run { "Sẽ gửi" } else { "Đã xếp gửi" };
    println!("{verb} {} thư và lời gọi webhook:", report.queued.len());
    for d in &report.queued {
        println!("  {} → {} · {}", d.channel, d.recipient, d.subject);
    }
    if dry_run {
        if !report.waiting.is_empty() {
            println!("Đang chờ gửi từ trước: {}", report.waiting.len());
            for d in &report.waiting {
                let why = d.last_error.as_deref().map(|e| format!(" (lần trước: {e})")).unwrap_or_default();
                println!("  {} → {} · {}{why}", d.channel, d.recipient, d.subject);
            }
        }
        println!("Chạy thử: không ghi và không gửi gì.");
    } else {
        println!("Đã gửi {}, lỗi {} (gửi lại sau).", report.sent, report.failed);
    }
    if state.notify.smtp.is_none() {
        println!("Chưa cấu hình máy chủ thư (smtp_host): thông báo chỉ hiện trong ứng dụng.");
    }
    state.store.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_vn_moment;

    #[test]
    fn moments_are_read_in_vietnam_time() {
        let utc = |s: &str| parse_vn_moment(s).unwrap().format("%Y-%m-%dT%H:%M").to_string();
        assert_eq!(utc("2027-01-08T07:30"), "2027-01-08T00:30");
        assert_eq!(utc("2027-01-08 06:00"), "2027-01-07T23:00");
        assert_eq!(utc("2027-01-08"), "2027-01-08T00:00");
        assert_eq!(utc("2027-01-08T07:30:00+00:00"), "2027-01-08T07:30");
        assert!(parse_vn_moment("08/01/2027").is_err());
    }
}
