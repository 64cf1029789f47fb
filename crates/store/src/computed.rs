//! Targets computed from the records the system keeps (`source = "computed:<rule>"`): the value
//! of a rule for a commune over a period, counted straight from the records. Reviews show them
//! live; submitting and approving a review freezes them into its values.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use danvan_domain::period::{Period, VIETNAM};
use danvan_domain::scheme::{ComputedRule, Source};
use danvan_domain::value::{Milli, Value};

use crate::{with_pool, Result, Store, StoreError, StoredScheme};

fn count(n: i64) -> Value {
    Value::Count { count: Milli(n * 1000) }
}

/// A share, or nothing to measure when the denominator is zero.
fn share(numerator: i64, denominator: i64) -> Option<Value> {
    (denominator > 0)
        .then(|| Value::Ratio { numerator: Milli(numerator * 1000), denominator: Milli(denominator * 1000) })
}

fn day_in_vietnam(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&VIETNAM).date_naive()
}

impl Store {
    /// The value of a rule for a commune over the days `start..=end`:
    /// - `meetings_held`: giao ban meetings held in the period;
    /// - `members_trained_share`: of the members serving on the last day, those trained by then;
    /// - `hamlets_with_team_share`: of the commune's hamlets, those whose team was formed by the
    ///   last day;
    /// - `feedback_answered_on_time_share`: of the feedback received in the period (but those
    ///   closed without an answer), those answered by their due day;
    /// - `activities_done_share`: of the scheme's activities due in the period (but cancelled
    ///   ones), those done.
    ///
    /// `None` when a share has nothing to measure (no members, hamlets, feedback, activities).
    pub async fn computed_value(
        &self,
        rule: ComputedRule,
        scheme_id: i64,
        unit_id: i64,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Result<Option<Value>> {
        Ok(match rule {
            ComputedRule::MeetingsHeld => {
                let n: i64 = with_pool!(self, pool => {
                    sqlx::query_scalar(
                        "SELECT COUNT(*) FROM meetings WHERE unit_id = $1 AND kind = 'giao_ban' AND held_on >= $2 AND held_on <= $3",
                    )
                    .bind(unit_id)
                    .bind(start)
                    .bind(end)
                    .fetch_one(pool)
                    .await?
                });
                Some(count(n))
            }
            ComputedRule::MembersTrainedShare => {
                let (trained, serving): (i64, i64) = with_pool!(self, pool => {
                    sqlx::query_as(
                        "SELECT COALESCE(SUM(CASE WHEN trained AND (trained_on IS NULL OR trained_on <= $2) THEN 1 ELSE 0 END), 0), \
                         COUNT(*) FROM members WHERE unit_id = $1 AND from_date <= $2 AND (to_date IS NULL OR to_date >= $2)",
                    )
                    .bind(unit_id)
                    .bind(end)
                    .fetch_one(pool)
                    .await?
                });
                share(trained, serving)
            }
            ComputedRule::HamletsWithTeamShare => {
                let (with_team, all): (i64, i64) = with_pool!(self, pool => {
                    sqlx::query_as(
                        "SELECT COALESCE(SUM(CASE WHEN team_leader IS NOT NULL AND team_formed_on <= $2 THEN 1 ELSE 0 END), 0), \
                         COUNT(*) FROM hamlets WHERE unit_id = $1",
                    )
                    .bind(unit_id)
                    .bind(end)
                    .fetch_one(pool)
                    .await?
                });
                share(with_team, all)
            }
            ComputedRule::FeedbackAnsweredOnTimeShare => {
                type Row = (DateTime<Utc>, NaiveDate, Option<DateTime<Utc>>, String, Option<String>);
                let rows: Vec<Row> = with_pool!(self, pool => {
                    sqlx::query_as("SELECT received_at, due_on, answered_at, status, answer FROM feedback WHERE unit_id = $1")
                        .bind(unit_id)
                        .fetch_all(pool)
                        .await?
                });
                let counted: Vec<&Row> = rows
                    .iter()
                    .filter(|r| (start..=end).contains(&day_in_vietnam(r.0)))
                    .filter(|r| !(r.3 == "closed" && r.4.is_none()))
                    .collect();
                let on_time =
                    counted.iter().filter(|r| r.2.is_some_and(|a| day_in_vietnam(a) <= r.1)).count();
                share(on_time as i64, counted.len() as i64)
            }
            ComputedRule::ActivitiesDoneShare => {
                let (done, due): (i64, i64) = with_pool!(self, pool => {
                    sqlx::query_as(
                        "SELECT COALESCE(SUM(CASE WHEN status = 'done' THEN 1 ELSE 0 END), 0), COUNT(*) FROM activities \
                         WHERE scheme_id = $1 AND unit_id = $2 AND due_date >= $3 AND due_date <= $4 AND status <> 'cancelled'",
                    )
                    .bind(scheme_id)
                    .bind(unit_id)
                    .bind(start)
                    .bind(end)
                    .fetch_one(pool)
                    .await?
                });
                share(done, due)
            }
        })
    }

    /// A review's values as they stand now: computed targets counted from the records live,
    /// but in a review that has been approved, which keeps the values frozen at its approval —
    /// through a reopening too — until someone recomputes them (`recompute_review`).
    pub async fn values_now(
        &self,
        scheme: &StoredScheme,
        unit_id: i64,
        period: &Period,
        review: Option<&crate::Review>,
    ) -> Result<BTreeMap<String, crate::Entry>> {
        let mut values = review.map(|r| r.values.clone()).unwrap_or_default();
        if review
            .is_some_and(|r| r.state == danvan_domain::workflow::State::Approved || r.frozen_at.is_some())
        {
            return Ok(values);
        }
        for (code, value) in self.computed_values(scheme, unit_id, period).await? {
            let entry = values.entry(code).or_insert(crate::Entry { value: None, note: None });
            entry.value = value;
        }
        Ok(values)
    }

    /// The roadmap in force for a unit in a scheme (its approved version), if any.
    pub async fn plan_in_force(
        &self,
        scheme_id: i64,
        unit_id: i64,
    ) -> Result<Option<danvan_domain::roadmap::Roadmap>> {
        Ok(self.roadmap(scheme_id, unit_id).await?.and_then(|r| r.in_force))
    }

    /// The computed targets of a scheme for a unit and period, by target code.
    pub async fn computed_values(
        &self,
        scheme: &StoredScheme,
        unit_id: i64,
        period: &Period,
    ) -> Result<BTreeMap<String, Option<Value>>> {
        let mut out = BTreeMap::new();
        for t in &scheme.def.targets {
            if let Source::Computed(rule) = t.source {
                let v = self.computed_value(rule, scheme.id, unit_id, period.start(), period.end()).await?;
                out.insert(t.code.clone(), v);
            }
        }
        Ok(out)
    }

    /// The computed values of a review's scheme, unit and period (none when its scheme has no
    /// computed targets).
    pub(crate) async fn computed_for_review(
        &self,
        scheme_id: i64,
        unit_id: i64,
        period: &str,
    ) -> Result<BTreeMap<String, Option<Value>>> {
        let code: String = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT code FROM schemes WHERE id = $1").bind(scheme_id).fetch_one(pool).await?
        });
        let scheme =
            self.scheme(&code).await?.ok_or_else(|| StoreError::NotFound(format!("đề án #{scheme_id}")))?;
        let period = Period::parse(period, scheme.def.period).map_err(StoreError::Corrupt)?;
        self.computed_values(&scheme, unit_id, &period).await
    }
}
