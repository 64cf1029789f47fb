//! The demo: one account per role over Long An.

use danvan_domain::access::Role;
use danvan_store::{Actor, NewUser, Store};
use danvan_web::auth::hash_password;

/// The demo accounts: username, role, scope unit code, display name.
pub const ACCOUNTS: [(&str, Role, Option<&str>, &str); 6] = [
    ("admin", Role::Admin, None, "Quản trị hệ thống"),
    ("tinh.longan", Role::Province, Some("80"), "Ban Dân vận Tỉnh ủy Long An"),
    ("huyen.duchoa", Role::District, Some("802"), "Ban Dân vận Huyện ủy Đức Hòa"),
    ("xa.haunghia", Role::Commune, Some("27931"), "Khối dân vận Thị trấn Hậu Nghĩa"),
    ("xa.huuthanh", Role::Commune, Some("27988"), "Khối dân vận Xã Hựu Thạnh"),
    ("xem.longan", Role::Viewer, Some("80"), "Người xem (Long An)"),
];

/// Creates the demo accounts with the passwords `password` gives; returns (username, password).
pub async fn create_accounts(
    store: &Store,
    actor: &Actor,
    password: impl Fn(&str) -> anyhow::Result<String>,
) -> anyhow::Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for (username, role, unit, display_name) in ACCOUNTS {
        let scope_unit_id = match unit {
            Some(code) => Some(
                store
                    .unit_by_code(code, None)
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("demo: no unit {code}"))?
                    .id,
            ),
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
                    scope_unit_id,
                },
            )
            .await?;
        out.push((username.to_string(), pw));
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
