//! What goes out: emails (one notice at once, or a digest) and the provinces' webhook calls,
//! composed into the outbox and sent from it with retries.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use danvan_store::{Delivery, NewDelivery, Notification, NotifySettings};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::shell::error::WebError;
use crate::shell::i18n::Lang;
use crate::shell::state::{SmtpConfig, SmtpTls};
use crate::shell::AppState;

const LANG: Lang = Lang::Vi;

pub use danvan_domain::reminders::MAY_BE_IMMEDIATE;
/// A digest carries what was made in this many days before it (older notices stay in the
/// application only, so that a user who turns email on is not flooded).
const DIGEST_REACH_DAYS: i64 = 8;

/// Every kind a user can unsubscribe from, with its words.
pub fn kind_label(kind: &str) -> String {
    LANG.t(&format!("notice-kind-{}", kind.replace('_', "-")))
}

/// Whether text is a mailbox an email can be sent from or to: `a@b.vn` or `Name <a@b.vn>`.
pub fn valid_mailbox(s: &str) -> bool {
    s.parse::<lettre::message::Mailbox>().is_ok()
}

/// The HMAC-SHA256 of a message under a key, in hex.
pub fn sign(key: &str, message: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.as_bytes()) else { return String::new() };
    mac.update(message);
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// The token of a one-click unsubscribe link: the user and the kind, signed with the server's
/// secret.
pub fn unsubscribe_token(secret: &str, user_id: i64, kind: &str) -> String {
    sign(secret, format!("unsubscribe:{user_id}:{kind}").as_bytes())
}

/// Whether an unsubscribe token is the server's for this user and kind (compared in constant
/// time).
pub fn token_ok(secret: &str, user_id: i64, kind: &str, token: &str) -> bool {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else { return false };
    mac.update(format!("unsubscribe:{user_id}:{kind}").as_bytes());
    let Some(bytes) = hex_bytes(token) else { return false };
    mac.verify_slice(&bytes).is_ok()
}

fn hex_bytes(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect()
}

fn unsubscribe_url(base: &str, secret: &str, user_id: i64, kind: &str) -> String {
    format!("{base}/thong-bao/huy?u={user_id}&k={kind}&t={}", unsubscribe_token(secret, user_id, kind))
}

/// One notice in an email.
pub struct MailItem {
    pub title: String,
    pub detail: String,
    pub url: String,
}

/// An email's HTML (escaped by the template).
#[derive(askama::Template)]
#[template(path = "notices/email.html")]
struct MailHtml<'a> {
    intro: &'a str,
    items: &'a [MailItem],
    footer: String,
    unsubscribe: &'a [(String, String)],
}

/// The same email as plain text.
#[derive(askama::Template)]
#[template(path = "notices/email.txt")]
struct MailText<'a> {
    intro: &'a str,
    items: &'a [MailItem],
    footer: String,
    unsubscribe: &'a [(String, String)],
}

/// An email's text and HTML for a list of notices, with an unsubscribe link per kind; and the
/// link of the one kind, when all are of one.
fn compose(
    base: &str,
    secret: &str,
    user_id: i64,
    notes: &[&Notification],
    intro: &str,
) -> (String, String, String) {
    use askama::Template;
    let items: Vec<MailItem> = notes
        .iter()
        .map(|n| MailItem {
            title: n.title.clone(),
            detail: n.detail.clone(),
            url: format!("{base}{}", n.href),
        })
        .collect();
    let kinds: BTreeSet<&str> = notes.iter().map(|n| n.kind.as_str()).collect();
    let unsubscribe: Vec<(String, String)> = kinds
        .iter()
        .map(|kind| {
            let line = LANG.t_args("notice-mail-unsubscribe", &[("kind", kind_label(kind))]);
            (line, unsubscribe_url(base, secret, user_id, kind))
        })
        .collect();
    let only = match unsubscribe.as_slice() {
        [(_, url)] => url.clone(),
        _ => String::new(),
    };
    let footer = LANG.t("notice-mail-footer");
    // Rendering text into a string fails only if writing to a String fails, which it does not.
    let text = MailText { intro, items: &items, footer: footer.clone(), unsubscribe: &unsubscribe }
        .render()
        .unwrap_or_default();
    let html =
        MailHtml { intro, items: &items, footer, unsubscribe: &unsubscribe }.render().unwrap_or_default();
    (text, html, only)
}

/// The emails a user is due at `now`: each notice asked for at once, and the digest when its
/// time has come (daily at 07:00 Vietnam time, weekly on Monday). Each is made once by its key.
pub fn emails_due(
    base: &str,
    secret: &str,
    user_id: i64,
    settings: &NotifySettings,
    pending: &[Notification],
    now: DateTime<Utc>,
) -> Vec<(NewDelivery, Vec<i64>)> {
    use danvan_domain::reminders::{plan_emails, Delivery as Mode, EmailChoice};
    let Some(delivery) = Mode::parse(&settings.delivery) else { return Vec::new() };
    if settings.email.is_empty() {
        return Vec::new();
    }
    let vn = |t: DateTime<Utc>| t.with_timezone(&danvan_domain::period::VIETNAM).naive_local();
    let items: Vec<(i64, &str, chrono::NaiveDateTime)> =
        pending.iter().map(|n| (n.id, n.kind.as_str(), vn(n.created_at))).collect();
    let choice = EmailChoice { delivery, immediate: &settings.immediate_kinds, muted: &settings.muted_kinds };
    let plan = plan_emails(&choice, &items, vn(now));
    let of = |ids: &[i64]| -> Vec<&Notification> { pending.iter().filter(|n| ids.contains(&n.id)).collect() };
    let mail = |key: String, subject: String, notes: &[&Notification], intro: &str| {
        let (body, html, unsubscribe) = compose(base, secret, user_id, notes, intro);
        NewDelivery {
            key,
            channel: "email".into(),
            user_id: Some(user_id),
            recipient: settings.email.clone(),
            subject,
            body,
            html,
            unsubscribe,
        }
    };
    let mut out = Vec::new();
    for n in of(&plan.at_once) {
        out.push((mail(format!("n:{}", n.id), n.title.clone(), &[n], &n.title), vec![n.id]));
    }
    if let Some((at, ids)) = plan.digest {
        let carried = of(&ids);
        let args = [("count", carried.len().to_string()), ("date", LANG.date(at.date()))];
        let weekly = delivery == Mode::Weekly;
        let subject = LANG.t_args(if weekly { "notice-digest-weekly" } else { "notice-digest-daily" }, &args);
        let key = format!("digest:{user_id}:{}", at.format("%Y-%m-%dT%H:%M"));
        out.push((mail(key, subject, &carried, &LANG.t("notice-digest-intro")), ids));
    }
    out
}

/// How far back a digest reaches.
pub fn digest_reach(now: DateTime<Utc>) -> DateTime<Utc> {
    now - Duration::days(DIGEST_REACH_DAYS)
}

/// Why a delivery failed, and whether the server it goes through is in trouble (down, slow,
/// refusing for now): then the rest of the run's deliveries through it wait for the next run
/// instead of each waiting out a time-out.
pub struct Failure {
    pub message: String,
    pub server_trouble: bool,
}

/// Sends one delivery: the email through the SMTP server, the webhook call to its address.
pub async fn send(state: &AppState, d: &Delivery) -> Result<(), Failure> {
    match d.channel.as_str() {
        "email" => match &state.notify.smtp {
            Some(smtp) => send_email(smtp, d).await,
            None => Err(Failure {
                message: "chưa cấu hình máy chủ thư (smtp_host)".into(),
                server_trouble: true,
            }),
        },
        "webhook" => {
            send_webhook(state, d).await.map_err(|message| Failure { message, server_trouble: true })
        }
        other => Err(Failure { message: format!("kênh {other} không có"), server_trouble: false }),
    }
}

/// Which server a delivery goes through: the SMTP server for every email, its address for a
/// webhook call.
pub fn server_of(d: &Delivery) -> String {
    match d.channel.as_str() {
        "email" => "smtp".into(),
        _ => d.recipient.clone(),
    }
}

async fn send_email(smtp: &SmtpConfig, d: &Delivery) -> Result<(), Failure> {
    let refused = |message: String| Failure { message, server_trouble: false };
    use lettre::message::header::{HeaderName, HeaderValue};
    use lettre::message::MultiPart;
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
    let from = smtp.from.parse().map_err(|e| refused(format!("địa chỉ gửi {:?} sai: {e}", smtp.from)))?;
    let to = d.recipient.parse().map_err(|e| refused(format!("địa chỉ nhận {:?} sai: {e}", d.recipient)))?;
    let mut msg = Message::builder().from(from).to(to).subject(d.subject.clone());
    // One-click unsubscribe (RFC 8058) from what a single-kind message is about.
    if !d.unsubscribe.is_empty() {
        let url = &d.unsubscribe;
        msg = msg
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{url}>"),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".into(),
            ));
    }
    let message = msg
        .multipart(MultiPart::alternative_plain_html(d.body.clone(), d.html.clone()))
        .map_err(|e| refused(format!("thư không dựng được: {e}")))?;
    let trouble = |message: String| Failure { message, server_trouble: true };
    let builder = match smtp.tls {
        SmtpTls::Tls => {
            AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host).map_err(|e| trouble(e.to_string()))?
        }
        SmtpTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
            .map_err(|e| trouble(e.to_string()))?,
        SmtpTls::Plain => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
    };
    let mut builder = builder.port(smtp.port).timeout(Some(std::time::Duration::from_secs(20)));
    if let (Some(user), Some(password)) = (&smtp.user, &smtp.password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
    }
    // A permanent refusal (5xx) is about this message or its recipient; anything else (no
    // connection, a time-out, "try later") about the server.
    builder
        .build()
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| Failure { server_trouble: !e.is_permanent(), message: format!("máy chủ thư: {e}") })
}

async fn send_webhook(state: &AppState, d: &Delivery) -> Result<(), String> {
    let secret = d
        .key
        .strip_prefix("hook:")
        .and_then(|k| k.split(':').next())
        .and_then(|province| state.notify.webhooks.get(province))
        .map(|h| h.secret.clone())
        .unwrap_or_default();
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    let res = client
        .post(&d.recipient)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("X-Danvan-Event", d.subject.as_str())
        .header("X-Danvan-Delivery", d.key.as_str())
        .header("X-Danvan-Signature", format!("sha256={}", sign(&secret, d.body.as_bytes())))
        .body(d.body.clone())
        .send()
        .await
        .map_err(|e| format!("webhook: {e}"))?;
    if res.status().is_success() {
        Ok(())
    } else {
        Err(format!("webhook trả lời {}", res.status()))
    }
}

/// The webhook call of an event, for the province's hook.
pub fn webhook_delivery(
    province: &str,
    url: &str,
    base: &str,
    note: &danvan_store::NewNotification,
    unit: Option<&danvan_domain::units::Unit>,
    now: DateTime<Utc>,
) -> Result<NewDelivery, WebError> {
    let body = serde_json::json!({
        "event": note.kind,
        "item": note.item,
        "step": note.step,
        "title": note.title,
        "detail": note.detail,
        "url": format!("{base}{}", note.href),
        "province": province,
        "unit": unit.map(|u| serde_json::json!({ "code": u.code, "name": u.name })),
        "at": now.to_rfc3339(),
    });
    Ok(NewDelivery {
        key: format!("hook:{province}:{}:{}:{}", note.item, note.kind, note.step),
        channel: "webhook".into(),
        user_id: None,
        recipient: url.to_string(),
        subject: note.kind.clone(),
        body: body.to_string(),
        html: String::new(),
        unsubscribe: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(id: i64, kind: &str, created: &str) -> Notification {
        Notification {
            id,
            kind: kind.into(),
            item: format!("review:{id}"),
            step: "due-7".into(),
            title: format!("Thông báo {id}"),
            detail: String::new(),
            href: format!("/x/{id}"),
            created_at: chrono::DateTime::parse_from_rfc3339(created).unwrap().with_timezone(&Utc),
            read_at: None,
        }
    }

    fn settings(delivery: &str, immediate: &[&str], muted: &[&str]) -> NotifySettings {
        NotifySettings {
            email: "xa@example.vn".into(),
            delivery: delivery.into(),
            immediate_kinds: immediate.iter().map(|s| s.to_string()).collect(),
            muted_kinds: muted.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        chrono::DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    /// (key, subject, carried ids) of what is due.
    fn due(s: &NotifySettings, pending: &[Notification], now: &str) -> Vec<(String, String, Vec<i64>)> {
        emails_due("https://dv.vn", "k", 7, s, pending, at(now))
            .into_iter()
            .map(|(d, ids)| (d.key, d.subject, ids))
            .collect()
    }

    #[test]
    fn a_daily_digest_groups_what_came_before_seven_and_once_a_day() {
        // Made on 8 January at 08:00 and 20:00, and on 9 January at 06:59 and 07:01 (Vietnam).
        let pending = [
            note(1, "review_due", "2019-01-08T01:00:00Z"),
            note(2, "plan_due", "2019-01-08T13:00:00Z"),
            note(3, "review_due", "2019-01-08T23:59:00Z"),
            note(4, "approved", "2019-01-09T00:01:00Z"),
        ];
        let daily = settings("daily", &[], &[]);
        // At 08:00 on 9 January: the digest of 07:00 carries the three made before it.
        let out = due(&daily, &pending, "2019-01-09T01:00:00Z");
        assert_eq!(
            out,
            vec![(
                "digest:7:2019-01-09T07:00".into(),
                "danvan: 3 thông báo ngày 09/01/2019".into(),
                vec![1, 2, 3]
            )]
        );
        // Before 07:00 the digest due is yesterday's: what was made before it (nothing here).
        assert!(due(&daily, &pending[..1], "2019-01-08T23:00:00Z").is_empty());
        // Weekly: on Monday 14 January, everything of the week before.
        let weekly = settings("weekly", &[], &[]);
        let out = due(&weekly, &pending, "2019-01-14T00:30:00Z");
        assert_eq!(out[0].0, "digest:7:2019-01-14T07:00");
        assert_eq!(out[0].1, "danvan: 4 thông báo tuần từ 14/01/2019");
        assert_eq!(out[0].2, vec![1, 2, 3, 4]);
        // Off, or no address: nothing.
        assert!(due(&settings("off", &[], &[]), &pending, "2019-01-09T01:00:00Z").is_empty());
        let mut none = daily.clone();
        none.email.clear();
        assert!(due(&none, &pending, "2019-01-09T01:00:00Z").is_empty());
    }

    #[test]
    fn immediate_kinds_go_at_once_approvals_only_in_a_digest_and_muted_kinds_never() {
        let pending = [
            note(1, "returned", "2019-01-09T03:00:00Z"),
            note(2, "approved", "2019-01-08T03:00:00Z"),
            note(3, "review_late", "2019-01-08T03:00:00Z"),
            note(4, "feedback_late", "2019-01-09T03:00:00Z"),
        ];
        // A daily digest with returns at once: the return now, the rest at 07:00.
        let s = settings("daily", &["returned"], &[]);
        let out = due(&s, &pending, "2019-01-09T03:01:00Z");
        assert_eq!(out[0], ("n:1".into(), "Thông báo 1".into(), vec![1]));
        assert_eq!(out[1].2, vec![2, 3], "made before 07:00 on the 9th");
        assert_eq!(out.len(), 2);
        // A kind that may not be immediate is not, whatever the setting says.
        let s = settings("daily", &["review_late"], &[]);
        assert!(due(&s, &pending, "2019-01-09T03:01:00Z").iter().all(|(k, _, _)| k.starts_with("digest:")));
        // Everything at once, but approvals wait for a daily digest.
        let s = settings("immediate", &[], &[]);
        let out = due(&s, &pending, "2019-01-09T03:01:00Z");
        let keys: Vec<&str> = out.iter().map(|(k, _, _)| k.as_str()).collect();
        assert_eq!(keys, ["n:1", "n:3", "n:4", "digest:7:2019-01-09T07:00"]);
        assert_eq!(out[3].2, vec![2]);
        // Unsubscribed kinds are left out.
        let s = settings("immediate", &[], &["review_late", "approved"]);
        let keys: Vec<String> =
            due(&s, &pending, "2019-01-09T03:01:00Z").into_iter().map(|(k, _, _)| k).collect();
        assert_eq!(keys, ["n:1", "n:4"]);
    }

    #[test]
    fn an_email_links_each_notice_and_each_kind_can_be_unsubscribed() {
        let pending = [note(1, "returned", "2019-01-09T03:00:00Z")];
        let (d, _) = emails_due(
            "https://dv.vn",
            "k",
            7,
            &settings("immediate", &[], &[]),
            &pending,
            at("2019-01-09T04:00:00Z"),
        )
        .pop()
        .unwrap();
        assert!(d.body.contains("- Thông báo 1\n  https://dv.vn/x/1\n"), "{}", d.body);
        let link =
            format!("https://dv.vn/thong-bao/huy?u=7&k=returned&t={}", unsubscribe_token("k", 7, "returned"));
        assert!(d.body.contains(&link), "{}", d.body);
        assert_eq!(d.unsubscribe, link, "one kind: the one-click header's link");
        assert!(d.html.contains("<a href=\"https://dv.vn/x/1\">Thông báo 1</a>"), "{}", d.html);
        // Text is escaped in the HTML.
        let mut evil = note(2, "returned", "2019-01-09T03:00:00Z");
        evil.title = "<script>alert(1)</script>".into();
        let (d, _) = emails_due(
            "https://dv.vn",
            "k",
            7,
            &settings("immediate", &[], &[]),
            &[evil],
            at("2019-01-09T04:00:00Z"),
        )
        .pop()
        .unwrap();
        assert!(!d.html.contains("<script>") && d.html.contains("&#60;script&#62;"), "{}", d.html);
    }

    #[test]
    fn unsubscribe_tokens_are_signed_per_user_and_kind() {
        let t = unsubscribe_token("secret", 7, "review_late");
        assert_eq!(t.len(), 64);
        assert!(token_ok("secret", 7, "review_late", &t));
        assert!(!token_ok("secret", 8, "review_late", &t), "another user");
        assert!(!token_ok("secret", 7, "returned", &t), "another kind");
        assert!(!token_ok("other", 7, "review_late", &t), "another server");
        assert!(!token_ok("secret", 7, "review_late", "zz"));
        // HMAC-SHA256 of RFC 4231's test case 2.
        assert_eq!(
            sign("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
