//! `danvan user …` and `danvan audit export`.

use std::io::{BufRead, Write};
use std::path::Path;

use anyhow::{bail, Context};
use chrono::NaiveDate;
use danvan_domain::access::{check_password, parse_username, Role};
use danvan_domain::text::{self, spreadsheet_safe};
use danvan_store::{AuditFilter, NewUser, Store, UserChange};
use danvan_web::auth::hash_password;

use crate::{cli_actor, UserCommand};

fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("không đọc được mật khẩu từ đầu vào chuẩn")?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

pub async fn run(store: &Store, command: UserCommand) -> anyhow::Result<()> {
    let actor = cli_actor();
    match command {
        UserCommand::Add { username, role, unit, on, display_name, password_stdin: _ } => {
            let username = parse_username(&username).map_err(anyhow::Error::msg)?;
            let role = Role::parse(&role).with_context(|| {
                format!("vai trò \"{role}\" không hợp lệ; cần admin, province, district, commune hoặc viewer")
            })?;
            let scope_unit_id = match (role, unit) {
                (Role::Admin, None) => None,
                (Role::Admin, Some(_)) => bail!("quản trị hệ thống không có đơn vị phạm vi; bỏ --unit"),
                (_, None) => bail!("vai trò {role} cần --unit MÃ_ĐƠN_VỊ"),
                (_, Some(code)) => {
                    // The unit of the day given, else the only unit of the code, else today's.
                    let all = store.units_with_code(code.trim()).await?;
                    let day = on.unwrap_or_else(danvan_web::shell::today);
                    let found = match (on, all.as_slice()) {
                        (None, [one]) => Some(one),
                        _ => all.iter().find(|u| u.valid_on(day)),
                    };
                    match found {
                        Some(u) => {
                            println!("Đơn vị: {}", danvan_domain::lineage::version_label(u));
                            Some(u.id)
                        }
                        None if all.is_empty() => bail!("không có đơn vị mã \"{code}\""),
                        None => {
                            let known: Vec<String> =
                                all.iter().map(danvan_domain::lineage::version_label).collect();
                            bail!(
                                "không có đơn vị mã \"{code}\" vào ngày {}; mã này là: {}. Chọn ngày bằng --on NĂM-THÁNG-NGÀY",
                                day.format("%d/%m/%Y"),
                                known.join("; ")
                            );
                        }
                    }
                }
            };
            let password = read_password()?;
            check_password(&password, &username).map_err(anyhow::Error::msg)?;
            let display_name = text::clean(display_name.as_deref().unwrap_or(&username));
            let password_hash = hash_password(password).await?;
            let user = store
                .create_user(&actor, &NewUser { username, display_name, password_hash, role, scope_unit_id })
                .await?;
            println!("Đã tạo người dùng {} (#{}, {}).", user.username, user.id, role.label_vi());
        }
        UserCommand::Passwd { username, password_stdin: _ } => {
            let user = find(store, &username).await?;
            let password = read_password()?;
            check_password(&password, &user.username).map_err(anyhow::Error::msg)?;
            let revoked = store.set_password(&actor, user.id, &hash_password(password).await?).await?;
            println!(
                "Đã đặt mật khẩu mới cho {}; mọi phiên đăng nhập của người này đã kết thúc, {revoked} mã truy cập API đã bị thu hồi.",
                user.username
            );
        }
        UserCommand::Disable { username } => {
            let user = find(store, &username).await?;
            let change = UserChange {
                display_name: user.display_name.clone(),
                role: user.role,
                scope_unit_id: user.scope_unit_id,
                active: false,
            };
            store.update_user(&actor, user.id, &change).await?;
            println!("Đã khóa tài khoản {}.", user.username);
        }
        UserCommand::Token { username, name } => {
            let user = find(store, &username).await?;
            if !user.active {
                bail!("tài khoản {} đã bị khóa", user.username);
            }
            let name = text::clean(&name);
            if name.is_empty() || name.chars().count() > 100 {
                bail!("cần --name (1 đến 100 ký tự): mã truy cập dùng cho việc gì");
            }
            let secret = danvan_web::auth::new_secret()?;
            store.create_api_token(&actor, &user, &name, &danvan_web::auth::secret_hash(&secret)).await?;
            eprintln!("Đã tạo mã truy cập \"{name}\" cho {}; mã chỉ hiện một lần:", user.username);
            println!("{secret}");
        }
        UserCommand::List => {
            let (users, total) = store.users(None, usize::MAX >> 1, 0).await?;
            let ids: Vec<i64> = users.iter().filter_map(|u| u.scope_unit_id).collect();
            let units = store.units_by_ids(&ids).await?;
            println!("{:<24} {:<10} {:<8} {:<32} TÊN", "TÊN ĐĂNG NHẬP", "VAI TRÒ", "HĐ", "PHẠM VI");
            for u in &users {
                let scope = u
                    .scope_unit_id
                    .and_then(|s| units.get(&s))
                    .map(|s| s.name.as_str())
                    .unwrap_or("Toàn quốc");
                let active = if u.active { "có" } else { "khóa" };
                println!(
                    "{:<24} {:<10} {:<8} {:<32} {}",
                    u.username,
                    u.role.as_str(),
                    active,
                    scope,
                    u.display_name
                );
            }
            println!("{total} người dùng.");
        }
    }
    Ok(())
}

async fn find(store: &Store, username: &str) -> anyhow::Result<danvan_store::User> {
    store
        .user_by_username(&username.trim().to_lowercase())
        .await?
        .with_context(|| format!("không có người dùng \"{username}\""))
}

pub async fn export_audit(
    store: &Store,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    output: Option<&Path>,
) -> anyhow::Result<()> {
    let tz = danvan_domain::period::VIETNAM;
    let day = |d: NaiveDate, h, m, s| d.and_hms_opt(h, m, s).and_then(|t| t.and_local_timezone(tz).single());
    let filter = AuditFilter {
        from: from.and_then(|d| day(d, 0, 0, 0)).map(|t| t.to_utc()),
        to: to.and_then(|d| day(d, 23, 59, 59)).map(|t| t.to_utc()),
        oldest_first: true,
        ..Default::default()
    };
    let sink: Box<dyn Write> = match output {
        Some(path) => Box::new(
            std::fs::File::create(path).with_context(|| format!("không tạo được {}", path.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut sink = std::io::BufWriter::new(sink);
    sink.write_all(b"\xEF\xBB\xBF")?;
    let mut w = csv::Writer::from_writer(sink);
    w.write_record([
        "thoi_diem",
        "nguoi_thuc_hien",
        "thao_tac",
        "doi_tuong",
        "ma_so",
        "don_vi",
        "truoc",
        "sau",
        "ly_do",
        "dia_chi",
    ])?;
    let mut offset = 0;
    let mut written = 0;
    loop {
        let page = store.audit_events(&filter, 1000, offset).await?;
        if page.events.is_empty() {
            break;
        }
        offset += page.events.len();
        for e in page.events {
            let unit = e.unit_id.map(|u| u.to_string()).unwrap_or_default();
            let at = e.at.with_timezone(&tz).format("%d/%m/%Y %H:%M:%S").to_string();
            let cells = [
                at,
                e.actor,
                e.action,
                e.entity_type,
                e.entity_id,
                unit,
                e.before_json.unwrap_or_default(),
                e.after_json.unwrap_or_default(),
                e.reason.unwrap_or_default(),
                e.address.unwrap_or_default(),
            ];
            w.write_record(cells.iter().map(|c| spreadsheet_safe(c).into_owned()))?;
            written += 1;
        }
    }
    w.flush()?;
    eprintln!("Đã xuất {written} sự kiện.");
    Ok(())
}
