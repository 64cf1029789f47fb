//! The demo: one account per role over Long An.

use danvan_domain::access::Role;
use danvan_domain::period::scheme_periods;
use danvan_domain::plan::{ActivityInput, ActivityStatus};
use danvan_domain::roadmap::{suggest, Roadmap};
use danvan_domain::scheme::{Criterion, Direction, SchemeDef, Target};
use danvan_domain::value::{Milli, Value};
use danvan_domain::workflow::State;
use danvan_store::{Actor, NewUser, SampleActivity, SampleReview, Store};
use danvan_web::auth::hash_password;

/// The demo accounts: username, role, scope unit code and a day it exists, display name. The
/// first six work in the 2017-2020 hierarchy (Long An, districts); the last three in today's
/// (the new Tây Ninh, code 80 again; the new Xã Hậu Nghĩa, code 27931 again).
pub const ACCOUNTS: [DemoAccountSpec; 9] = [
    ("admin", Role::Admin, None, "Quản trị hệ thống"),
    ("tinh.longan", Role::Province, Some(("80", "2020-12-31")), "Ban Dân vận Tỉnh ủy Long An"),
    ("huyen.duchoa", Role::District, Some(("802", "2020-12-31")), "Ban Dân vận Huyện ủy Đức Hòa"),
    ("tt.haunghia", Role::Commune, Some(("27931", "2020-12-31")), "Khối dân vận Thị trấn Hậu Nghĩa"),
    ("xa.huuthanh", Role::Commune, Some(("27988", "2020-12-31")), "Khối dân vận Xã Hựu Thạnh"),
    ("xem.longan", Role::Viewer, Some(("80", "2020-12-31")), "Người xem (Long An)"),
    ("tinh.tayninh", Role::Province, Some(("80", "2026-01-01")), "Ban Dân vận Tỉnh ủy Tây Ninh"),
    ("xa.haunghia", Role::Commune, Some(("27931", "2026-01-01")), "Khối dân vận Xã Hậu Nghĩa"),
    ("xa.ducla", Role::Commune, Some(("27964", "2026-01-01")), "Khối dân vận Xã Đức Lập"),
];

/// A demo account to create: username, role, scope (unit code and a day it exists), name.
pub type DemoAccountSpec = (&'static str, Role, Option<Scope>, &'static str);
/// A unit code and a day (yyyy-mm-dd) on which it names the unit meant.
pub type Scope = (&'static str, &'static str);

/// A demo account as created: username, password, role, and the unit's name.
pub struct DemoAccount {
    pub username: String,
    pub password: String,
    pub role: Role,
    pub unit: String,
}

/// Creates the demo accounts whose unit exists in the database, with the passwords `password`
/// gives.
pub async fn create_accounts(
    store: &Store,
    actor: &Actor,
    password: impl Fn(&str) -> anyhow::Result<String>,
) -> anyhow::Result<Vec<DemoAccount>> {
    let mut out = Vec::new();
    for (username, role, unit, display_name) in ACCOUNTS {
        let scope = match unit {
            Some((code, day)) => {
                let day = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")?;
                match store.unit_by_code(code, Some(day)).await? {
                    Some(u) => Some(u),
                    None => continue,
                }
            }
            None => None,
        };
        let pw = password(username)?;
        let password_hash = hash_password(pw.clone()).await?;
        store
            .create_user(
                actor,
                &NewUser {
                    username: username.into(),
                    display_name: display_name.into(),
                    password_hash,
                    role,
                    scope_unit_id: scope.as_ref().map(|u| u.id),
                },
            )
            .await?;
        out.push(DemoAccount {
            username: username.to_string(),
            password: pw,
            role,
            unit: scope
                .map(|u| danvan_domain::lineage::version_label(&u))
                .unwrap_or_else(|| "toàn quốc".into()),
        });
    }
    Ok(out)
}

/// A random password of 12 letters and digits (no look-alikes).
pub fn random_password() -> anyhow::Result<String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(bytes.iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect())
}

/// A small deterministic generator (SplitMix64): the demo and the benchmark draw the same
/// picture every time.
pub struct Seeded(u64);

impl Seeded {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A whole number in `lo..=hi`.
    pub fn between(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % (hi - lo + 1).max(1) as u64) as i64
    }
}

/// A value of a target that meets its criterion or not, as a unit could report it.
fn sample_value(t: &Target, met: bool, rng: &mut Seeded) -> Value {
    let higher = t.direction == Direction::Higher;
    let milli = |x: f64| Milli((x * 1000.0).round() as i64);
    match (&t.criterion, t.kind) {
        (Criterion::Percent(c), _) => {
            let d = rng.between(5, 40) as f64;
            let goal = c / 100.0;
            let share = match (met, higher) {
                (true, true) => goal + (1.0 - goal) * rng.unit(),
                (false, true) => goal * (0.3 + 0.65 * rng.unit()),
                (true, false) => goal * rng.unit(),
                (false, false) => goal + (1.0 - goal) * (0.1 + 0.9 * rng.unit()),
            };
            // Rounding must not move the value across the criterion.
            let mut n = (d * share.clamp(0.0, 1.0)).round();
            let meets = |n: f64| if higher { n / d >= goal } else { n / d <= goal };
            while meets(n) != met && (0.0..=d).contains(&n) {
                n += if met == higher { 1.0 } else { -1.0 };
            }
            Value::Ratio { numerator: milli(n.clamp(0.0, d)), denominator: milli(d) }
        }
        (Criterion::Count(c), _) => {
            let c = *c;
            let n = match (met, higher) {
                (true, true) => c + rng.between(0, 2) as f64,
                (false, true) => (c - 1.0 - (rng.unit() * c).floor()).max(0.0).min((c - 1.0).max(0.0)),
                (true, false) => (rng.unit() * (c + 1.0)).floor().min(c),
                (false, false) => c + rng.between(1, 3) as f64,
            };
            Value::Count { count: milli(n) }
        }
        (Criterion::Answer(yes), _) => Value::YesNo { yes: if met { *yes } else { !*yes } },
        (Criterion::Grade(g), _) => {
            let top = t.grades.len().saturating_sub(1) as i64;
            let grade =
                if met || *g == 0 { rng.between(*g as i64, top) } else { rng.between(0, *g as i64 - 1) };
            Value::Level { grade: grade as usize }
        }
    }
}

/// Sample reviews of a scheme for the given units over all its periods: each unit has its own
/// strength, and all improve from period to period; about one report in eight is late, a few
/// are missing, and in the last period a fifth are still waiting for approval.
pub fn sample_reviews(def: &SchemeDef, units: &[i64], seed: u64) -> Vec<SampleReview> {
    let periods = scheme_periods(def);
    let n = periods.len().max(2) as f64;
    let mut rng = Seeded::new(seed);
    let mut out = Vec::with_capacity(units.len() * periods.len());
    for &unit in units {
        let strength = rng.unit();
        for (i, p) in periods.iter().enumerate() {
            let last = i + 1 == periods.len();
            if rng.unit() < if last { 0.06 } else { 0.03 } {
                continue;
            }
            let progress = 0.25 + 0.6 * i as f64 / (n - 1.0);
            let values = def
                .targets
                .iter()
                .map(|t| {
                    let met = rng.unit() < (progress * 0.75 + strength * 0.45 - 0.1).clamp(0.02, 0.98);
                    (t.code.clone(), sample_value(t, met, &mut rng))
                })
                .collect();
            let state = if last && rng.unit() < 0.2 { State::Submitted } else { State::Approved };
            out.push(SampleReview {
                unit_id: unit,
                period: p.to_string(),
                state,
                late: rng.unit() < 0.12,
                values,
            });
        }
    }
    out
}

/// Each unit's roadmap, approved: suggested from its baseline review (the first period's) in a
/// straight line to each target's criterion.
pub fn sample_roadmaps(def: &SchemeDef, reviews: &[SampleReview]) -> Vec<(i64, Roadmap)> {
    let Some(first) = scheme_periods(def).into_iter().next() else { return Vec::new() };
    let first = first.to_string();
    reviews
        .iter()
        .filter(|r| r.period == first)
        .map(|r| (r.unit_id, suggest(def, def.first_year, |code| r.values.get(code).map(Value::measure))))
        .collect()
}

/// Activities a commune's plan typically holds, with the organisation that leads them.
const SAMPLE_ACTIVITIES: [(&str, &str, u32, u32); 6] = [
    ("Hội nghị quán triệt, triển khai Đề án", "Đảng ủy", 2, 3),
    ("Giao ban khối dân vận hằng quý", "UBMTTQ", 1, 12),
    ("Tập huấn kỹ năng dân vận cho thành viên khối", "UBMTTQ", 4, 5),
    ("Đối thoại với nhân dân về thủ tục hành chính", "UBND", 6, 7),
    ("Xây dựng mô hình \"Dân vận khéo\"", "Hội Nông dân", 3, 10),
    ("Sơ kết, đánh giá kết quả thực hiện Đề án", "Đảng ủy", 11, 12),
];

/// Sample plan activities for every unit and year: three or four a year; past years mostly
/// done, some cancelled, and a few left unfinished (they show as overdue).
pub fn sample_activities(def: &SchemeDef, units: &[i64], seed: u64) -> Vec<SampleActivity> {
    let mut rng = Seeded::new(seed ^ 0xA5A5);
    let day = |y: i32, m: u32, d: u32| chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
    let mut out = Vec::new();
    for &unit in units {
        for year in def.years() {
            let n = rng.between(3, 4) as usize;
            let first = rng.between(0, SAMPLE_ACTIVITIES.len() as i64 - 1) as usize;
            for k in 0..n {
                let (title, lead, from, to) = SAMPLE_ACTIVITIES[(first + k) % SAMPLE_ACTIVITIES.len()];
                let r = rng.unit();
                let status = if r < 0.82 {
                    ActivityStatus::Done
                } else if r < 0.88 {
                    ActivityStatus::Cancelled
                } else {
                    ActivityStatus::InProgress
                };
                let targets = def.targets.get(rng.between(0, def.targets.len() as i64 - 1) as usize);
                out.push(SampleActivity {
                    unit_id: unit,
                    year,
                    status,
                    input: ActivityInput {
                        title: title.to_string(),
                        description: String::new(),
                        targets: targets.map(|t| vec![t.code.clone()]).unwrap_or_default(),
                        lead_org: lead.to_string(),
                        supporting_orgs: vec!["Hội Liên hiệp Phụ nữ".into(), "Đoàn Thanh niên".into()],
                        responsible: String::new(),
                        start: day(year, from, 1),
                        due: day(year, to, 28),
                    },
                });
            }
        }
    }
    out
}

/// What [`fill_sample`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleCounts {
    pub reviews: usize,
    pub roadmaps: usize,
    pub activities: usize,
}

/// Fills a scheme with sample reviews, roadmaps and plan activities for every unit that
/// reports under it.
pub async fn fill_sample(
    store: &Store,
    actor: &Actor,
    scheme_code: &str,
    seed: u64,
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> anyhow::Result<SampleCounts> {
    let scheme =
        store.scheme(scheme_code).await?.ok_or_else(|| anyhow::anyhow!("không có đề án {scheme_code}"))?;
    let first =
        scheme_periods(&scheme.def).into_iter().next().ok_or_else(|| anyhow::anyhow!("đề án không có kỳ"))?;
    let units = store.units_within(scheme.root_unit_id, scheme.def.applies_to, first.end()).await?;
    // Nothing is reported for a period that has not started yet.
    let today = danvan_web::shell::today();
    let mut list = sample_reviews(&scheme.def, &units, seed);
    list.retain(|r| {
        danvan_domain::period::Period::parse(&r.period, scheme.def.period).is_ok_and(|p| p.start() <= today)
    });
    let total = list.len();
    let mut report = |done: usize| progress(done, total);
    let reviews = store.insert_sample_reviews(actor, scheme.id, &list, &mut report).await?;
    let roadmaps =
        store.insert_sample_roadmaps(actor, scheme.id, &sample_roadmaps(&scheme.def, &list)).await?;
    let mut activities = sample_activities(&scheme.def, &units, seed);
    activities.retain(|a| a.input.start <= today);
    let activities = store.insert_sample_activities(actor, scheme.id, &activities).await?;
    store.refresh_statistics().await?;
    Ok(SampleCounts { reviews, roadmaps, activities })
}

#[cfg(test)]
mod tests {
    use super::*;
    use danvan_domain::roadmap::plan_meets;
    use danvan_domain::scheme::parse_scheme;

    fn scheme() -> SchemeDef {
        parse_scheme(include_str!("../../../data/schemes/long-an-2017-2020.sample.toml")).unwrap()
    }

    #[test]
    fn the_same_seed_draws_the_same_reviews() {
        let def = scheme();
        let units: Vec<i64> = (1..=40).collect();
        let a = sample_reviews(&def, &units, 7);
        assert_eq!(a, sample_reviews(&def, &units, 7));
        assert_ne!(a, sample_reviews(&def, &units, 8));
        assert!(a.iter().all(|r| r.values.len() == def.targets.len()));
        // Most units report every period; a few reports are missing.
        assert!(a.len() > 40 * 4 * 9 / 10 && a.len() <= 40 * 4, "{}", a.len());
    }

    #[test]
    fn sample_roadmaps_start_from_the_baseline_and_reach_every_criterion() {
        let def = scheme();
        let reviews = sample_reviews(&def, &[1, 2, 3], 11);
        let roadmaps = sample_roadmaps(&def, &reviews);
        let with_baseline: Vec<i64> =
            reviews.iter().filter(|r| r.period == "2017").map(|r| r.unit_id).collect();
        assert_eq!(roadmaps.iter().map(|(u, _)| *u).collect::<Vec<_>>(), with_baseline);
        for (unit, plan) in &roadmaps {
            let baseline = reviews.iter().find(|r| r.unit_id == *unit && r.period == "2017").unwrap();
            for t in &def.targets {
                let last = plan.planned(&t.code, def.last_year).unwrap();
                assert!(plan_meets(t, last), "{} reaches its criterion by {}", t.code, def.last_year);
                let start = plan.planned(&t.code, def.first_year).unwrap();
                let measured = baseline.values[&t.code].measure();
                if !plan_meets(t, measured) {
                    assert!(
                        (start - measured).abs() < 1.0,
                        "{}: starts at the baseline {measured}, not {start}",
                        t.code
                    );
                }
            }
        }
    }
}
