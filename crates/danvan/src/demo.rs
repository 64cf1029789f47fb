//! The demo: one account per role over Long An.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, Utc};
use danvan_domain::access::Role;
use danvan_domain::bloc::BlocRole;
use danvan_domain::community::{MeetingKind, TeamInput};
use danvan_domain::feedback::{due_on, tracking_code, FeedbackStatus};
use danvan_domain::period::{scheme_periods, Period, VIETNAM};
use danvan_domain::plan::{ActivityInput, ActivityStatus};
use danvan_domain::roadmap::{suggest, Roadmap};
use danvan_domain::scheme::{Criterion, Direction, SchemeDef, Source, Target};
use danvan_domain::value::{Milli, Value};
use danvan_domain::workflow::State;
use danvan_store::{
    Actor, NewUser, SampleActivity, SampleEvidence, SampleFeedback, SampleHamlet, SampleMeeting,
    SampleMember, SampleRecords, SampleReview, Store,
};
use danvan_web::auth::hash_password;

/// The demo accounts: username, role, scope unit code and a day it exists, the person's name
/// (the menu shows it; the unit is named on the home page). The
/// first six work in the 2017-2020 hierarchy (Long An, districts); the last three in today's
/// (the new Tây Ninh, code 80 again; the new Xã Hậu Nghĩa, code 27931 again).
pub const ACCOUNTS: [DemoAccountSpec; 9] = [
    ("admin", Role::Admin, None, "Quản trị hệ thống"),
    ("tinh.longan", Role::Province, Some(("80", "2020-12-31")), "Nguyễn Văn Hùng"),
    ("huyen.duchoa", Role::District, Some(("802", "2020-12-31")), "Trần Thị Lan"),
    ("tt.haunghia", Role::Commune, Some(("27931", "2020-12-31")), "Lê Văn Tâm"),
    ("xa.huuthanh", Role::Commune, Some(("27988", "2020-12-31")), "Phạm Thị Hồng"),
    ("xem.longan", Role::Viewer, Some(("80", "2020-12-31")), "Võ Minh Khoa"),
    ("tinh.tayninh", Role::Province, Some(("80", "2026-01-01")), "Huỳnh Thị Thu"),
    ("xa.haunghia", Role::Commune, Some(("27931", "2026-01-01")), "Đặng Văn Phúc"),
    ("xa.ducla", Role::Commune, Some(("27964", "2026-01-01")), "Ngô Thị Mai"),
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

/// The posts of a commune's bloc, in the order the sample lists its members: organisation,
/// post, role in the bloc.
const SAMPLE_POSTS: [(&str, &str, BlocRole); 9] = [
    ("Đảng ủy", "Phó Bí thư Thường trực Đảng ủy", BlocRole::Head),
    ("UBMTTQ", "Chủ tịch Ủy ban MTTQ", BlocRole::Deputy),
    ("UBND", "Phó Chủ tịch UBND", BlocRole::Member),
    ("Hội Nông dân", "Chủ tịch Hội Nông dân", BlocRole::Member),
    ("Hội Liên hiệp Phụ nữ", "Chủ tịch Hội Liên hiệp Phụ nữ", BlocRole::Member),
    ("Đoàn Thanh niên", "Bí thư Đoàn Thanh niên", BlocRole::Member),
    ("Hội Cựu chiến binh", "Chủ tịch Hội Cựu chiến binh", BlocRole::Member),
    ("Công an xã", "Trưởng Công an xã", BlocRole::Member),
    ("Ban Chỉ huy Quân sự", "Chỉ huy trưởng Quân sự", BlocRole::Member),
];

const FAMILY: [&str; 12] =
    ["Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Võ", "Phan", "Trương", "Đặng", "Bùi", "Đỗ", "Lâm"];
const MIDDLE: [&str; 8] = ["Văn", "Thị", "Minh", "Thanh", "Hoàng", "Ngọc", "Hữu", "Kim"];
const GIVEN: [&str; 20] = [
    "An", "Bình", "Cường", "Dũng", "Hà", "Hạnh", "Hùng", "Lan", "Mai", "Nam", "Phúc", "Tâm", "Thảo", "Trung",
    "Tuấn", "Vân", "Khoa", "Nhân", "Sơn", "Yến",
];

/// What citizens write about, what they write and what they are answered, by category.
const SAMPLE_FEEDBACK: [(&str, &str, &str, &str); 5] = [
    (
        "Đất đai",
        "Đề nghị xã xem xét cấp giấy chứng nhận quyền sử dụng đất cho hộ gia đình đã nộp hồ sơ từ lâu.",
        "UBND",
        "Hồ sơ đã được chuyển Văn phòng đăng ký đất đai; cán bộ địa chính đã hướng dẫn bổ sung giấy tờ.",
    ),
    (
        "Hạ tầng, giao thông",
        "Đường liên ấp bị sụt lún sau mùa mưa, đề nghị sửa chữa để người dân đi lại an toàn.",
        "UBND",
        "Xã đã đưa tuyến đường vào kế hoạch duy tu; tạm thời đã san lấp các điểm sụt lún.",
    ),
    (
        "Môi trường",
        "Cơ sở chăn nuôi gần khu dân cư gây mùi hôi, đề nghị kiểm tra.",
        "UBND",
        "Đoàn kiểm tra đã làm việc với chủ cơ sở, yêu cầu xử lý chất thải đúng quy định.",
    ),
    (
        "An ninh, trật tự",
        "Đề nghị tăng cường tuần tra ban đêm tại khu vực chợ.",
        "Công an xã",
        "Công an xã đã bố trí lực lượng tuần tra, phối hợp tổ an ninh trật tự ấp.",
    ),
    (
        "Thủ tục hành chính",
        "Thủ tục chứng thực còn chậm, đề nghị niêm yết rõ thời gian giải quyết.",
        "UBND",
        "Bộ phận một cửa đã niêm yết thời gian giải quyết và bố trí thêm người vào buổi sáng.",
    ),
];

fn name(rng: &mut Seeded) -> String {
    let pick =
        |rng: &mut Seeded, list: &[&str]| list[rng.between(0, list.len() as i64 - 1) as usize].to_string();
    format!("{} {} {}", pick(rng, &FAMILY), pick(rng, &MIDDLE), pick(rng, &GIVEN))
}

/// A day of a year (at most `last`), drawn evenly.
fn day_in(rng: &mut Seeded, year: i32, last: NaiveDate) -> Option<NaiveDate> {
    let first = NaiveDate::from_ymd_opt(year, 1, 1)?;
    let end = NaiveDate::from_ymd_opt(year, 12, 31)?.min(last);
    let span = (end - first).num_days();
    (span >= 0).then(|| first + chrono::Days::new(rng.between(0, span) as u64))
}

/// The first day, from `year` on, that an event of probability `p` a year (growing by `growth`
/// each year) happens; `None` when it has not happened by `last`.
fn first_happening(rng: &mut Seeded, year: i32, last: NaiveDate, p: f64, growth: f64) -> Option<NaiveDate> {
    (year..=last.year()).enumerate().find_map(|(i, y)| {
        let happens = rng.unit() < p + growth * i as f64;
        happens.then(|| day_in(rng, y, last)).flatten()
    })
}

/// Sample records of communes' blocs from 1 January of `first_year` to `last`: the bloc's
/// members (trained over the years, a few replaced), hamlets (teams formed over the years),
/// monthly giao ban meetings (some months missed) and dialogues, and citizens' feedback (most
/// answered on time). Stronger units do better, and all improve with the years. Computed
/// targets are then counted from these records, so a sample review agrees with them.
pub fn sample_records(
    units: &[i64],
    first_year: i32,
    last: NaiveDate,
    answer_days: u32,
    seed: u64,
) -> SampleRecords {
    let mut rng = Seeded::new(seed ^ 0x5EED_B10C);
    let mut out = SampleRecords::default();
    let Some(start) = NaiveDate::from_ymd_opt(first_year, 1, 1) else { return out };
    if last < start {
        return out;
    }
    for &unit in units {
        let strength = rng.unit();
        let roster_start = out.members.len();
        for (organisation, position, role) in SAMPLE_POSTS {
            out.members.push(SampleMember {
                unit_id: unit,
                full_name: name(&mut rng),
                position: position.to_string(),
                organisation: organisation.to_string(),
                role,
                trained_on: first_happening(&mut rng, first_year, last, 0.3 + 0.4 * strength, 0.15),
                from: start,
                ended: None,
            });
        }
        // Now and then a member leaves, and the bloc is made whole again the next day.
        if rng.unit() < 0.35 {
            let place = roster_start + rng.between(2, SAMPLE_POSTS.len() as i64 - 1) as usize;
            let year = rng_year(&mut rng, first_year, last);
            if let Some(day) = day_in(&mut rng, year, last).filter(|d| *d < last) {
                let mut next = out.members[place].clone();
                out.members[place].ended = Some((day, "Chuyển công tác".to_string()));
                next.full_name = name(&mut rng);
                next.from = day + chrono::Days::new(1);
                next.trained_on =
                    first_happening(&mut rng, next.from.year(), last, 0.5, 0.2).filter(|t| *t >= next.from);
                out.members.push(next);
            }
        }
        let head = out.members[roster_start].full_name.clone();
        let roster = out.members.len() - roster_start;
        let hamlets = rng.between(5, 11);
        for n in 1..=hamlets {
            let formed = first_happening(&mut rng, first_year, last, 0.45 + 0.4 * strength, 0.15);
            let team = formed.map(|formed_on| TeamInput {
                leader: name(&mut rng),
                deputies: vec![name(&mut rng)],
                member_count: rng.between(5, 11) as u32,
                decision: Some(format!("{}/QĐ-ĐU", rng.between(10, 250))),
                formed_on,
            });
            out.hamlets.push(SampleHamlet {
                unit_id: unit,
                name: format!("Ấp {n}"),
                kind: "Ấp".to_string(),
                team,
            });
        }
        for (i, year) in (first_year..=last.year()).enumerate() {
            let held = (0.65 + 0.3 * strength + 0.06 * i as f64).min(1.0);
            for month in 1..=12 {
                let Some(day) = NaiveDate::from_ymd_opt(year, month, rng.between(5, 25) as u32) else {
                    continue;
                };
                if day > last || rng.unit() >= held {
                    continue;
                }
                let absent = (0..roster).filter(|_| rng.unit() < 0.08).collect();
                out.meetings.push(SampleMeeting {
                    unit_id: unit,
                    kind: MeetingKind::GiaoBan,
                    held_on: day,
                    place: "Hội trường Đảng ủy xã".to_string(),
                    chair: head.clone(),
                    content: format!(
                        "Giao ban khối dân vận tháng {month}/{year}: đánh giá tình hình nhân dân, kết quả thực hiện Đề án và nhiệm vụ tháng tới."
                    ),
                    absent,
                });
            }
            for _ in 0..rng.between(1, 3) {
                let Some(day) = day_in(&mut rng, year, last) else { continue };
                out.meetings.push(SampleMeeting {
                    unit_id: unit,
                    kind: MeetingKind::DoiThoai,
                    held_on: day,
                    place: "Hội trường UBND xã".to_string(),
                    chair: head.clone(),
                    content: "Đối thoại trực tiếp giữa lãnh đạo xã với nhân dân.".to_string(),
                    absent: Vec::new(),
                });
            }
            let on_time = (0.7 + 0.25 * strength + 0.04 * i as f64).min(0.98);
            for _ in 0..rng.between(3, 8) {
                let Some(day) = day_in(&mut rng, year, last) else { continue };
                let (category, content, organisation, answer) =
                    SAMPLE_FEEDBACK[rng.between(0, SAMPLE_FEEDBACK.len() as i64 - 1) as usize];
                let at = |d: NaiveDate, rng: &mut Seeded| {
                    let time = chrono::NaiveTime::from_hms_opt(
                        rng.between(7, 16) as u32,
                        rng.between(0, 59) as u32,
                        0,
                    )
                    .unwrap_or_default();
                    d.and_time(time).and_local_timezone(VIETNAM).single().map(|t| t.with_timezone(&Utc))
                };
                let Some(received_at) = at(day, &mut rng) else { continue };
                let due = due_on(day, answer_days);
                let mut random = [0u8; 8];
                random.iter_mut().for_each(|b| *b = rng.next_u64() as u8);
                let mut f = SampleFeedback {
                    unit_id: unit,
                    code: tracking_code(&random),
                    hamlet: (rng.unit() < 0.7).then(|| format!("Ấp {}", rng.between(1, hamlets))),
                    category: category.to_string(),
                    content: content.to_string(),
                    status: FeedbackStatus::Received,
                    organisation: None,
                    answer: None,
                    received_at,
                    due_on: due,
                    answered_at: None,
                    closed_at: None,
                };
                // Answered in time, late, or (rarely) closed without an answer; what is still
                // within its deadline today may wait.
                let r = rng.unit();
                let answered_on = if r < on_time {
                    day + chrono::Days::new(rng.between(1, answer_days.max(1) as i64) as u64)
                } else {
                    due + chrono::Days::new(rng.between(1, 20) as u64)
                };
                if answered_on > last || (due > last && rng.unit() < 0.5) {
                    f.status = FeedbackStatus::Assigned;
                    f.organisation = Some(organisation.to_string());
                } else if r >= on_time && rng.unit() < 0.15 {
                    f.status = FeedbackStatus::Closed;
                    f.closed_at = at(answered_on, &mut rng);
                } else {
                    f.status = FeedbackStatus::Answered;
                    f.organisation = Some(organisation.to_string());
                    f.answer = Some(answer.to_string());
                    f.answered_at = at(answered_on, &mut rng);
                    let closed = answered_on + chrono::Days::new(3);
                    if closed <= last && rng.unit() < 0.5 {
                        f.status = FeedbackStatus::Closed;
                        f.closed_at = at(closed, &mut rng);
                    }
                }
                out.feedback.push(f);
            }
        }
    }
    out
}

/// A year from `first_year` to `last`'s, drawn evenly.
fn rng_year(rng: &mut Seeded, first_year: i32, last: NaiveDate) -> i32 {
    rng.between(first_year as i64, last.year().max(first_year) as i64) as i32
}

/// One PDF for a sample review's evidence: what was reported for the targets that need it, and
/// that it is sample data.
fn evidence_pdf(unit: &str, scheme: &SchemeDef, period: &str, values: &BTreeMap<String, Value>) -> Vec<u8> {
    let mut lines = vec![
        format!("Đơn vị: {unit}"),
        format!("Đề án: {} ({})", scheme.title, scheme.code),
        format!("Kỳ rà soát: {period}"),
        String::new(),
    ];
    for t in scheme.targets.iter().filter(|t| needs_evidence(t)) {
        let value = values.get(&t.code).map(|v| t.measure_text(v.measure())).unwrap_or_else(|| "—".into());
        lines.push(format!("Chỉ tiêu {} — {}: {value}", t.code, t.name));
    }
    lines.push(String::new());
    lines.push("Dữ liệu mẫu do danvan tạo cho bản trình diễn, không phải văn bản thật.".to_string());
    danvan_report::pdf::one_page(&format!("Bien ban ra soat ky {period} (mau)"), &lines)
}

/// The targets whose reported value must come with a file.
fn needs_evidence(t: &Target) -> bool {
    t.evidence_required && t.source == Source::Reported
}

/// What [`fill_sample`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleCounts {
    pub reviews: usize,
    pub roadmaps: usize,
    pub activities: usize,
    /// Members, hamlets, meetings and feedback.
    pub records: usize,
    pub evidence: usize,
}

/// Fills a scheme with sample reviews, roadmaps and plan activities for every unit that
/// reports under it. With a folder for files, also the blocs' records (members, hamlets,
/// meetings, feedback) that computed targets are counted from — the reviews' computed values
/// are those counts — and a one-page PDF of evidence for every target that requires one in
/// every submitted review, kept in that folder. Without one (the benchmark), computed values
/// are drawn like the rest and there is no record behind them.
pub async fn fill_sample(
    store: &Store,
    actor: &Actor,
    scheme_code: &str,
    seed: u64,
    files: Option<&danvan_store::FileStore>,
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> anyhow::Result<SampleCounts> {
    let scheme =
        store.scheme(scheme_code).await?.ok_or_else(|| anyhow::anyhow!("không có đề án {scheme_code}"))?;
    let periods = scheme_periods(&scheme.def);
    let (Some(first), Some(end)) = (periods.first(), periods.last()) else {
        anyhow::bail!("đề án không có kỳ")
    };
    let units = store.units_within(scheme.root_unit_id, scheme.def.applies_to, first.end()).await?;
    // Nothing is reported for a period that has not started yet.
    let today = danvan_web::shell::today();
    let mut list = sample_reviews(&scheme.def, &units, seed);
    list.retain(|r| Period::parse(&r.period, scheme.def.period).is_ok_and(|p| p.start() <= today));
    let mut activities = sample_activities(&scheme.def, &units, seed);
    activities.retain(|a| a.input.start <= today);
    let activities = store.insert_sample_activities(actor, scheme.id, &activities).await?;
    let mut records = 0;
    if files.is_some() {
        let answer_days = store.feedback_answer_days(None).await?;
        let last = end.end().min(today);
        records = store
            .insert_sample_records(
                actor,
                &sample_records(&units, first.start().year(), last, answer_days, seed),
            )
            .await?;
        for r in &mut list {
            let period = Period::parse(&r.period, scheme.def.period).map_err(anyhow::Error::msg)?;
            for (code, value) in store.computed_values(&scheme, r.unit_id, &period).await? {
                match value {
                    Some(v) => r.values.insert(code, v),
                    None => r.values.remove(&code),
                };
            }
        }
    }
    let total = list.len();
    let mut report = |done: usize| progress(done, total);
    let reviews = store.insert_sample_reviews(actor, scheme.id, &list, &mut report).await?;
    let roadmaps =
        store.insert_sample_roadmaps(actor, scheme.id, &sample_roadmaps(&scheme.def, &list)).await?;
    let mut evidence = 0;
    if let Some(root) = files {
        let names = store.units_by_ids(&units).await?;
        let mut rows = Vec::new();
        for r in list.iter().filter(|r| r.state != State::Draft) {
            if !scheme.def.targets.iter().any(needs_evidence) {
                break;
            }
            let unit = names.get(&r.unit_id).map(|u| u.name.as_str()).unwrap_or_default();
            let bytes = evidence_pdf(unit, &scheme.def, &r.period, &r.values);
            let sha256 = danvan_store::files::sha256_hex(&bytes);
            root.put(&sha256, &bytes).await?;
            for t in scheme.def.targets.iter().filter(|t| needs_evidence(t)) {
                rows.push(SampleEvidence {
                    unit_id: r.unit_id,
                    period: r.period.clone(),
                    target_code: t.code.clone(),
                    filename: format!("bien-ban-ra-soat-{}-chi-tieu-{}.pdf", r.period, t.code),
                    content_type: "application/pdf".to_string(),
                    size: bytes.len() as i64,
                    sha256: sha256.clone(),
                });
            }
        }
        evidence = store.insert_sample_evidence(actor, scheme.id, &rows).await?;
    }
    store.refresh_statistics().await?;
    Ok(SampleCounts { reviews, roadmaps, activities, records, evidence })
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
