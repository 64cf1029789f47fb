//! When to tell whom what (issue 19, item 1): the rules of reminders, as pure functions of the
//! day. A reminder is named by its item, its rule and its step (`due-7`, `late-37`); the
//! scheduler claims that name once in the database, so that a reminder is never sent twice,
//! across restarts and servers. The steps follow Kausal Watch's cadence, and the Community
//! Health Toolkit's rule that a reminder stops the moment the form is submitted.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime};

/// Days before a deadline on which "due soon" is said.
pub const DUE_SOON_DAYS: [i64; 2] = [7, 1];
/// Days after a deadline on which "late" is said; then every [`LATE_EVERY_DAYS`].
pub const LATE_DAYS: [i64; 2] = [1, 7];
pub const LATE_EVERY_DAYS: i64 = 30;
/// An approver is told of a submission waiting this many days (by default), then weekly.
pub const WAITING_DAYS: i64 = 5;
/// The hour of the daily and weekly digests, Vietnam time.
pub const DIGEST_HOUR: u32 = 7;

/// Where a deadline stands today: the step of its reminder, if one is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `days` before the deadline (7 or 1).
    DueSoon { days: i64 },
    /// `days` after it (1, 7, 37, 67…).
    Late { days: i64 },
}

impl Step {
    /// The step's name in a reminder's key: `due-7`, `late-37`.
    pub fn key(&self) -> String {
        match self {
            Step::DueSoon { days } => format!("due-{days}"),
            Step::Late { days } => format!("late-{days}"),
        }
    }
}

/// The reminder step reached by `today` for something due on `deadline` (the last day it may
/// be sent on time): none once it is `done` (submitted, answered, finished), none more than a
/// week before; the latest step whose day has come, so that a server that was down for a week
/// sends the step of today, not every step it missed.
pub fn deadline_step(deadline: NaiveDate, today: NaiveDate, done: bool) -> Option<Step> {
    if done {
        return None;
    }
    let offset = (today - deadline).num_days();
    if offset <= 0 {
        // Before the deadline, or on its day: the nearest "due soon" step reached.
        let before = -offset;
        // On the deadline's day itself the last step (1 day) stands.
        return DUE_SOON_DAYS.iter().rev().find(|d| before <= **d).map(|&days| Step::DueSoon { days });
    }
    let days = if offset < LATE_DAYS[1] {
        LATE_DAYS[0]
    } else {
        LATE_DAYS[1] + (offset - LATE_DAYS[1]) / LATE_EVERY_DAYS * LATE_EVERY_DAYS
    };
    Some(Step::Late { days })
}

/// The step of an approver's reminder about a submission waiting since `submitted_on`: after
/// `after_days` (default [`WAITING_DAYS`]), then every week; none before, none once decided.
pub fn waiting_step(
    submitted_on: NaiveDate,
    today: NaiveDate,
    after_days: i64,
    decided: bool,
) -> Option<i64> {
    if decided {
        return None;
    }
    let waited = (today - submitted_on).num_days();
    (waited >= after_days).then(|| after_days + (waited - after_days) / 7 * 7)
}

/// The week a weekly reminder belongs to, as its key: `2026-W49` (ISO weeks).
pub fn week_key(day: NaiveDate) -> String {
    let w = day.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

/// How a user wants to be told by email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Each notice as it comes.
    Immediate,
    /// One message a day at 07:00 (the default).
    Daily,
    /// One message a week, Monday 07:00.
    Weekly,
    /// In the application only.
    Off,
}

impl Delivery {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "immediate" => Self::Immediate,
            "daily" => Self::Daily,
            "weekly" => Self::Weekly,
            "off" => Self::Off,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Immediate => "immediate",
            Self::Daily => "daily",
            Self::Weekly => "weekly",
            Self::Off => "off",
        }
    }
}

/// The latest digest time at or before `now` (Vietnam time) for a delivery: today's 07:00 (or
/// yesterday's, before 07:00); for weekly, the last Monday's. None for immediate and off.
pub fn digest_due_at(delivery: Delivery, now: NaiveDateTime) -> Option<NaiveDateTime> {
    let at = NaiveTime::from_hms_opt(DIGEST_HOUR, 0, 0)?;
    let mut day = now.date();
    if now.time() < at {
        day = day.pred_opt()?;
    }
    match delivery {
        Delivery::Daily => Some(day.and_time(at)),
        Delivery::Weekly => {
            let back = i64::from(day.weekday().num_days_from_monday());
            Some((day - Duration::days(back)).and_time(at))
        }
        Delivery::Immediate | Delivery::Off => None,
    }
}

/// Whether a digest is to be sent now: its time has come since the last one was sent.
pub fn digest_due(delivery: Delivery, now: NaiveDateTime, last_sent: Option<NaiveDateTime>) -> bool {
    match digest_due_at(delivery, now) {
        Some(at) => last_sent.is_none_or(|sent| sent < at),
        None => false,
    }
}

/// Kinds a user may ask to have sent at once whatever their delivery: a return and overdue
/// feedback, the two that need doing today.
pub const MAY_BE_IMMEDIATE: [&str; 2] = ["returned", "feedback_late"];
/// Kinds that go out in a digest only (a user who takes everything at once gets them in a
/// daily digest): an approval needs no action.
pub const DIGEST_ONLY: [&str; 1] = ["approved"];

/// A user's choices about email, as the grouping reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailChoice<'a> {
    pub delivery: Delivery,
    /// Kinds asked for at once (only those of [`MAY_BE_IMMEDIATE`] count).
    pub immediate: &'a [String],
    /// Kinds unsubscribed from.
    pub muted: &'a [String],
}

/// What to email a user now, out of their notices not yet emailed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EmailPlan {
    /// Notices each sent in a message of its own now.
    pub at_once: Vec<i64>,
    /// The digest due (its time, Vietnam time) with the notices it carries: those made before
    /// that time; what came later waits for the next digest.
    pub digest: Option<(NaiveDateTime, Vec<i64>)>,
}

/// Groups a user's pending notices — (id, kind, made at, Vietnam time) — into the emails due at
/// `now` (Vietnam time): nothing when off; unsubscribed kinds never; the kinds taken at once
/// (every kind but approvals for `Immediate`, the chosen ones of [`MAY_BE_IMMEDIATE`] otherwise)
/// each alone; the rest in the latest digest whose time has come (daily for `Immediate`).
pub fn plan_emails(
    choice: &EmailChoice<'_>,
    pending: &[(i64, &str, NaiveDateTime)],
    now: NaiveDateTime,
) -> EmailPlan {
    if choice.delivery == Delivery::Off {
        return EmailPlan::default();
    }
    let wanted = pending.iter().filter(|(_, kind, _)| !choice.muted.iter().any(|m| m == kind));
    let at_once = |kind: &str| {
        !DIGEST_ONLY.contains(&kind)
            && (choice.delivery == Delivery::Immediate
                || (MAY_BE_IMMEDIATE.contains(&kind) && choice.immediate.iter().any(|k| k == kind)))
    };
    let (now_ones, rest): (Vec<_>, Vec<_>) = wanted.partition(|(_, kind, _)| at_once(kind));
    let digest_mode = if choice.delivery == Delivery::Immediate { Delivery::Daily } else { choice.delivery };
    let digest = digest_due_at(digest_mode, now).and_then(|at| {
        let carried: Vec<i64> =
            rest.iter().filter(|(_, _, made)| *made <= at).map(|(id, _, _)| *id).collect();
        (!carried.is_empty()).then_some((at, carried))
    });
    EmailPlan { at_once: now_ones.iter().map(|(id, _, _)| *id).collect(), digest }
}

/// Whether a period's entry is open on `today`: always without a window; with one, until
/// `lock_after_days` after the deadline, and after that only where the approver reopened entry
/// for the unit (with a reason, audited).
pub fn entry_open(
    deadline: NaiveDate,
    lock_after_days: Option<i64>,
    today: NaiveDate,
    reopened: bool,
) -> bool {
    match lock_after_days {
        None => true,
        Some(days) => reopened || today <= deadline + Duration::days(days),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn due_soon_seven_and_one_days_before_then_late_one_seven_and_every_thirty() {
        let deadline = d(2026, 1, 15);
        let step = |day: NaiveDate| deadline_step(deadline, day, false).map(|s| s.key());
        assert_eq!(step(d(2026, 1, 7)), None, "eight days before: nothing yet");
        assert_eq!(step(d(2026, 1, 8)).as_deref(), Some("due-7"));
        assert_eq!(step(d(2026, 1, 13)).as_deref(), Some("due-7"), "the step stays until the next");
        assert_eq!(step(d(2026, 1, 14)).as_deref(), Some("due-1"));
        assert_eq!(step(d(2026, 1, 15)).as_deref(), Some("due-1"), "the deadline's day is still on time");
        assert_eq!(step(d(2026, 1, 16)).as_deref(), Some("late-1"));
        assert_eq!(step(d(2026, 1, 21)).as_deref(), Some("late-1"));
        assert_eq!(step(d(2026, 1, 22)).as_deref(), Some("late-7"));
        assert_eq!(step(d(2026, 2, 20)).as_deref(), Some("late-7"), "36 days late");
        assert_eq!(step(d(2026, 2, 21)).as_deref(), Some("late-37"));
        assert_eq!(step(d(2026, 3, 23)).as_deref(), Some("late-67"));
        // A server down for weeks sends the step of today, not the ones it missed.
        assert_eq!(step(d(2026, 4, 30)).as_deref(), Some("late-97"));
        // Steps of one kind are at least five days apart (Kausal Watch's rule for repeats); the
        // last "due soon" and the first "late" are the day before and the day after.
        let mut keys: Vec<(i64, String)> = Vec::new();
        for i in -10..200 {
            let day = deadline + Duration::days(i);
            if let Some(k) = step(day) {
                if keys.last().map(|(_, last)| last != &k).unwrap_or(true) {
                    keys.push((i, k));
                }
            }
        }
        let same_kind = |a: &str, b: &str| a.split('-').next() == b.split('-').next();
        assert!(
            keys.windows(2).filter(|w| same_kind(&w[0].1, &w[1].1)).all(|w| w[1].0 - w[0].0 >= 5),
            "{keys:?}"
        );
        assert_eq!(keys.len(), 10, "{keys:?}");
    }

    #[test]
    fn a_reminder_stops_the_moment_the_thing_is_done() {
        let deadline = d(2026, 1, 15);
        for day in [d(2026, 1, 10), d(2026, 1, 15), d(2026, 1, 20), d(2026, 6, 1)] {
            assert_eq!(deadline_step(deadline, day, true), None);
        }
    }

    #[test]
    fn approvers_are_told_of_a_waiting_submission_after_five_days_then_weekly() {
        let sent = d(2026, 2, 1);
        let at = |day: NaiveDate| waiting_step(sent, day, WAITING_DAYS, false);
        assert_eq!(at(d(2026, 2, 5)), None);
        assert_eq!(at(d(2026, 2, 6)), Some(5));
        assert_eq!(at(d(2026, 2, 12)), Some(5));
        assert_eq!(at(d(2026, 2, 13)), Some(12));
        assert_eq!(at(d(2026, 2, 20)), Some(19));
        assert_eq!(waiting_step(sent, d(2026, 2, 20), WAITING_DAYS, true), None, "decided: no more");
        assert_eq!(waiting_step(sent, d(2026, 2, 4), 3, false), Some(3), "the province's own N");
    }

    #[test]
    fn digests_come_at_seven_daily_or_on_mondays_and_once() {
        let t = |y, m, day, h, min| d(y, m, day).and_hms_opt(h, min, 0).unwrap();
        // Thursday 3 December 2026.
        assert_eq!(digest_due_at(Delivery::Daily, t(2026, 12, 3, 8, 0)), Some(t(2026, 12, 3, 7, 0)));
        assert_eq!(digest_due_at(Delivery::Daily, t(2026, 12, 3, 6, 59)), Some(t(2026, 12, 2, 7, 0)));
        assert_eq!(digest_due_at(Delivery::Weekly, t(2026, 12, 3, 8, 0)), Some(t(2026, 11, 30, 7, 0)));
        assert_eq!(digest_due_at(Delivery::Weekly, t(2026, 11, 30, 6, 0)), Some(t(2026, 11, 23, 7, 0)));
        assert_eq!(digest_due_at(Delivery::Immediate, t(2026, 12, 3, 8, 0)), None);
        assert!(digest_due(Delivery::Daily, t(2026, 12, 3, 7, 0), None));
        assert!(digest_due(Delivery::Daily, t(2026, 12, 3, 7, 1), Some(t(2026, 12, 2, 7, 0))));
        assert!(!digest_due(Delivery::Daily, t(2026, 12, 3, 9, 0), Some(t(2026, 12, 3, 7, 0))), "once a day");
        assert!(!digest_due(Delivery::Off, t(2026, 12, 3, 9, 0), None));
        assert_eq!(Delivery::parse("weekly"), Some(Delivery::Weekly));
        assert_eq!(Delivery::parse(Delivery::Off.as_str()), Some(Delivery::Off));
        assert_eq!(Delivery::parse("hourly"), None);
    }

    #[test]
    fn emails_are_grouped_into_notices_at_once_and_one_digest_of_what_came_before_it() {
        let t = |day, h, min| d(2019, 1, day).and_hms_opt(h, min, 0).unwrap();
        // Made on 8 January at 08:00 and 20:00, on 9 January at 06:59 and 07:01.
        let pending = [
            (1, "review_due", t(8, 8, 0)),
            (2, "plan_due", t(8, 20, 0)),
            (3, "returned", t(9, 6, 59)),
            (4, "approved", t(9, 7, 1)),
        ];
        let none: Vec<String> = Vec::new();
        let daily = EmailChoice { delivery: Delivery::Daily, immediate: &none, muted: &none };
        // At 08:00 on 9 January: the digest of 07:00 carries the three made before it.
        let plan = plan_emails(&daily, &pending, t(9, 8, 0));
        assert_eq!(plan, EmailPlan { at_once: vec![], digest: Some((t(9, 7, 0), vec![1, 2, 3])) });
        // At 06:00 on the 9th the digest due is the 8th's: nothing was made before it.
        assert_eq!(plan_emails(&daily, &pending, t(9, 6, 0)).digest, None);
        // Weekly: Monday 14 January carries the week.
        let weekly = EmailChoice { delivery: Delivery::Weekly, ..daily.clone() };
        assert_eq!(
            plan_emails(&weekly, &pending, t(14, 7, 30)).digest,
            Some((t(14, 7, 0), vec![1, 2, 3, 4]))
        );
        assert_eq!(
            plan_emails(&weekly, &pending, t(13, 23, 0)).digest,
            Some((t(7, 7, 0), vec![])).filter(|_| false)
        );
        // Returns asked for at once go alone at once; a kind that may not be immediate is not.
        let asked = vec!["returned".to_string(), "review_due".to_string()];
        let some = EmailChoice { delivery: Delivery::Daily, immediate: &asked, muted: &none };
        let plan = plan_emails(&some, &pending, t(9, 8, 0));
        assert_eq!(plan.at_once, vec![3]);
        assert_eq!(plan.digest, Some((t(9, 7, 0), vec![1, 2])));
        // Everything at once but approvals, which wait for a daily digest.
        let all = EmailChoice { delivery: Delivery::Immediate, immediate: &none, muted: &none };
        let plan = plan_emails(&all, &pending, t(10, 8, 0));
        assert_eq!(plan.at_once, vec![1, 2, 3]);
        assert_eq!(plan.digest, Some((t(10, 7, 0), vec![4])));
        // Unsubscribed kinds never; off, nothing.
        let muted = vec!["review_due".to_string(), "approved".to_string()];
        let plan = plan_emails(&EmailChoice { muted: &muted, ..all.clone() }, &pending, t(10, 8, 0));
        assert_eq!(plan, EmailPlan { at_once: vec![2, 3], digest: None });
        let off = EmailChoice { delivery: Delivery::Off, ..all };
        assert_eq!(plan_emails(&off, &pending, t(10, 8, 0)), EmailPlan::default());
    }

    #[test]
    fn weeks_are_iso_weeks_and_entry_locks_after_its_window() {
        assert_eq!(week_key(d(2026, 12, 3)), "2026-W49");
        assert_eq!(week_key(d(2027, 1, 1)), "2026-W53", "1 January 2027 is in 2026's last week");
        let deadline = d(2026, 1, 15);
        assert!(entry_open(deadline, None, d(2027, 1, 1), false), "no window: always open");
        assert!(entry_open(deadline, Some(10), d(2026, 1, 25), false));
        assert!(!entry_open(deadline, Some(10), d(2026, 1, 26), false), "closed 10 days after");
        assert!(entry_open(deadline, Some(10), d(2026, 3, 1), true), "reopened by the approver");
    }
}
