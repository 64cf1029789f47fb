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

/// Kinds that may be asked for at once whatever the delivery.
pub const MAY_BE_IMMEDIATE: [&str; 2] = ["returned", "feedback_late"];
/// Kinds that go out in a digest only (a user who takes everything at once gets them in a
/// daily digest).
const DIGEST_ONLY: [&str; 1] = ["approved"];
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
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect()
}

fn unsubscribe_url(base: &str, secret: &str, user_id: i64, kind: &str) -> String {
    format!("{base}/thong-bao/huy?u={user_id}&k={kind}&t={}", unsubscribe_token(secret, user_id, kind))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
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
    let mut text = format!("{intro}\n\n");
    let mut html = format!("<p>{}</p>\n<ul>\n", escape(intro));
    for n in notes {
        let url = format!("{base}{}", n.href);
        text.push_str(&format!("- {}\n", n.title));
        if !n.detail.is_empty() {
            text.push_str(&format!("  {}\n", n.detail));
        }
        text.push_str(&format!("  {url}\n"));
        html.push_str(&format!("<li><a href=\"{}\">{}</a>", escape(&url), escape(&n.title)));
        if !n.detail.is_empty() {
            html.push_str(&format!("<br>{}", escape(&n.detail)));
        }
        html.push_str("</li>\n");
    }
    html.push_str("</ul>\n");
    let kinds: BTreeSet<&str> = notes.iter().map(|n| n.kind.as_str()).collect();
    let only = match kinds.iter().collect::<Vec<_>>().as_slice() {
        [kind] => unsubscribe_url(base, secret, user_id, kind),
        _ => String::new(),
    };
    text.push_str(&format!("\n-- \n{}\n", LANG.t("notice-mail-footer")));
    html.push_str(&format!(
        "<hr><p><small>{}</small></p>\n<p><small>",
        escape(&LANG.t("notice-mail-footer"))
    ));
    for kind in kinds {
        let url = unsubscribe_url(base, secret, user_id, kind);
        let line = LANG.t_args("notice-mail-unsubscribe", &[("kind", kind_label(kind))]);
        text.push_str(&format!("{line}: {url}\n"));
        html.push_str(&format!("<a href=\"{}\">{}</a><br>", escape(&url), escape(&line)));
    }
    html.push_str("</small></p>\n");
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
    use danvan_domain::reminders::{digest_due_at, Delivery as Mode};
    let Some(mode) = Mode::parse(&settings.delivery) else { return Vec::new() };
    if mode == Mode::Off || settings.email.is_empty() {
        return Vec::new();
    }
    let wanted: Vec<&Notification> =
        pending.iter().filter(|n| !settings.muted_kinds.iter().any(|k| k == &n.kind)).collect();
    let at_once = |n: &Notification| {
        !DIGEST_ONLY.contains(&n.kind.as_str())
            && (mode == Mode::Immediate
                || (MAY_BE_IMMEDIATE.contains(&n.kind.as_str())
                    && settings.immediate_kinds.iter().any(|k| k == &n.kind)))
    };
    let mut out = Vec::new();
    for n in wanted.iter().filter(|n| at_once(n)) {
        let (body, html, unsubscribe) = compose(base, secret, user_id, &[n], &n.title);
        out.push((
            NewDelivery {
                key: format!("n:{}", n.id),
                channel: "email".into(),
                user_id: Some(user_id),
                recipient: settings.email.clone(),
                subject: n.title.clone(),
                body,
                html,
                unsubscribe,
            },
            vec![n.id],
        ));
    }
    let rest: Vec<&Notification> = wanted.iter().copied().filter(|n| !at_once(n)).collect();
    let digest_mode = if mode == Mode::Immediate { Mode::Daily } else { mode };
    let local = now.with_timezone(&danvan_domain::period::VIETNAM).naive_local();
    if let (Some(at), false) = (digest_due_at(digest_mode, local), rest.is_empty()) {
        // Only what was made before the digest's time: what comes later waits for the next.
        let at_utc = at - Duration::hours(7);
        let carried: Vec<&Notification> =
            rest.into_iter().filter(|n| n.created_at.naive_utc() <= at_utc).collect();
        if !carried.is_empty() {
            let day = LANG.date(at.date());
            let (subject, intro) = if digest_mode == Mode::Weekly {
                (
                    LANG.t_args(
                        "notice-digest-weekly",
                        &[("count", carried.len().to_string()), ("date", day)],
                    ),
                    LANG.t("notice-digest-intro"),
                )
            } else {
                (
                    LANG.t_args(
                        "notice-digest-daily",
                        &[("count", carried.len().to_string()), ("date", day)],
                    ),
                    LANG.t("notice-digest-intro"),
                )
            };
            let (body, html, unsubscribe) = compose(base, secret, user_id, &carried, &intro);
            out.push((
                NewDelivery {
                    key: format!("digest:{user_id}:{}", at.format("%Y-%m-%dT%H:%M")),
                    channel: "email".into(),
                    user_id: Some(user_id),
                    recipient: settings.email.clone(),
                    subject,
                    body,
                    html,
                    unsubscribe,
                },
                carried.iter().map(|n| n.id).collect(),
            ));
        }
    }
    out
}

/// How far back a digest reaches.
pub fn digest_reach(now: DateTime<Utc>) -> DateTime<Utc> {
    now - Duration::days(DIGEST_REACH_DAYS)
}

/// Sends one delivery: the email through the SMTP server, the webhook call to its address.
pub async fn send(state: &AppState, d: &Delivery) -> Result<(), String> {
    match d.channel.as_str() {
        "email" => match &state.notify.smtp {
            Some(smtp) => send_email(smtp, d).await,
            None => Err("chưa cấu hình máy chủ thư (smtp_host)".into()),
        },
        "webhook" => send_webhook(state, d).await,
        other => Err(format!("kênh {other} không có")),
    }
}

async fn send_email(smtp: &SmtpConfig, d: &Delivery) -> Result<(), String> {
    use lettre::message::header::{HeaderName, HeaderValue};
    use lettre::message::MultiPart;
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
    let from = smtp.from.parse().map_err(|e| format!("địa chỉ gửi {:?} sai: {e}", smtp.from))?;
    let to = d.recipient.parse().map_err(|e| format!("địa chỉ nhận {:?} sai: {e}", d.recipient))?;
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
        .map_err(|e| format!("thư không dựng được: {e}"))?;
    let builder = match smtp.tls {
        SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host).map_err(|e| e.to_string())?,
        SmtpTls::StartTls => {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host).map_err(|e| e.to_string())?
        }
        SmtpTls::Plain => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
    };
    let mut builder = builder.port(smtp.port).timeout(Some(std::time::Duration::from_secs(20)));
    if let (Some(user), Some(password)) = (&smtp.user, &smtp.password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
    }
    builder.build().send(message).await.map(|_| ()).map_err(|e| format!("máy chủ thư: {e}"))
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
