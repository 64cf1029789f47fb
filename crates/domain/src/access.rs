//! Accounts and who may do what: roles, scopes, usernames and passwords, login throttling.
//! Every authorisation decision of the system is made by [`allowed`].

use std::fmt;

use serde::{Deserialize, Serialize};

/// A user's role. A role is exercised within a scope: a unit and its subtree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including users; the scope is the whole country.
    Admin,
    /// Everything under its province; manages schemes and the users in its scope.
    Province,
    /// Reads everything under its district; approves or returns its communes' items.
    District,
    /// Edits its own commune's data (and its hamlets').
    Commune,
    /// Reads within its scope.
    Viewer,
}

impl Role {
    pub const ALL: [Role; 5] = [Self::Admin, Self::Province, Self::District, Self::Commune, Self::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Province => "province",
            Self::District => "district",
            Self::Commune => "commune",
            Self::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The role's name in Vietnamese.
    pub fn label_vi(self) -> &'static str {
        match self {
            Self::Admin => "Quản trị hệ thống",
            Self::Province => "Cấp tỉnh",
            Self::District => "Cấp huyện",
            Self::Commune => "Cấp xã",
            Self::Viewer => "Chỉ xem",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a unit stands relative to a user's scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// The unit is the scope unit itself.
    Same,
    /// The unit lies strictly below the scope unit.
    Below,
    /// A former unit (before a reorganisation) whose history went into the scope: its records
    /// may be read, never changed.
    Predecessor,
    /// The unit lies outside the scope.
    Outside,
}

/// What a request wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read what a unit records (reviews, plans, members, history…).
    Read,
    /// Change what a unit records.
    Edit,
    /// Approve, return or reopen a unit's submitted items.
    Approve,
    /// Create or change schemes.
    ManageSchemes,
    /// Create or change users whose scope is the unit.
    ManageUsers,
    /// See the audit log of the unit's subtree.
    Audit,
    /// See the inbox of submitted items awaiting approval in the unit's subtree.
    ReviewInbox,
    /// See the contact details (name, phone, email) citizens left with their feedback: only the
    /// staff who handle it — the commune, and the district or province it may be handed to.
    Contacts,
    /// Run the server itself: its backups, its metrics (admins only).
    Operate,
}

/// The one authorisation rule. `relation` is where the unit acted on stands relative to the
/// user's scope (an admin's scope is the whole country: always [`Relation::Same`] or below).
///
/// Approval follows the hierarchy, not a fixed level: the approver of a unit's items is a
/// district or province user above it, so under the 2025 two-level hierarchy (no districts)
/// province users approve communes directly.
pub fn allowed(role: Role, relation: Relation, action: Action) -> bool {
    use Action::*;
    use Relation::*;
    if role == Role::Admin {
        return true;
    }
    if relation == Outside {
        return false;
    }
    if relation == Predecessor {
        return action == Read;
    }
    match (role, action) {
        (_, Read) => true,
        (Role::Province, Edit | ManageSchemes | ManageUsers | Audit) => true,
        (Role::Province | Role::District, Approve) => relation == Below,
        (Role::District, Audit) => true,
        (Role::Province | Role::District, ReviewInbox) => true,
        (Role::Province | Role::District | Role::Commune, Contacts) => true,
        (Role::Commune, Edit) => true,
        _ => false,
    }
}

/// Which roles a user may give to accounts they create: never a role above their own.
pub fn may_grant(granter: Role, role: Role) -> bool {
    match granter {
        Role::Admin => true,
        Role::Province => role != Role::Admin,
        _ => false,
    }
}

/// A username: 3 to 64 characters of lower-case ASCII letters, digits, '.', '_' and '-',
/// starting with a letter or digit. Stored lower case.
pub fn parse_username(raw: &str) -> Result<String, String> {
    let name = raw.trim().to_ascii_lowercase();
    if !(3..=64).contains(&name.chars().count()) {
        return Err("tên đăng nhập phải dài từ 3 đến 64 ký tự".into());
    }
    if !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')) {
        return Err("tên đăng nhập chỉ gồm chữ cái không dấu, chữ số và các dấu . _ -".into());
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err("tên đăng nhập phải bắt đầu bằng chữ cái hoặc chữ số".into());
    }
    Ok(name)
}

/// The least length of a password.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Checks a new password: at least [`MIN_PASSWORD_CHARS`] characters, at most 256, not only
/// spaces, and not the username.
pub fn check_password(password: &str, username: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(format!("mật khẩu phải có ít nhất {MIN_PASSWORD_CHARS} ký tự"));
    }
    if n > 256 {
        return Err("mật khẩu dài quá 256 ký tự".into());
    }
    if password.trim().is_empty() {
        return Err("mật khẩu không được chỉ gồm khoảng trắng".into());
    }
    if password.eq_ignore_ascii_case(username) {
        return Err("mật khẩu không được trùng tên đăng nhập".into());
    }
    Ok(())
}

/// Failed logins counted within [`THROTTLE_WINDOW_MINUTES`] before an attempt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoginFailures {
    /// For this username from this address.
    pub pair: usize,
    /// For this username from any address.
    pub username: usize,
    /// From this address for any username.
    pub address: usize,
}

/// Login throttling, keyed so that nobody can lock the real user out:
///
/// - a username and an address together: [`MAX_FAILURES_PER_PAIR`] failures stop that pair
///   (guessing one password from one place);
/// - a username from anywhere: [`MAX_FAILURES_PER_USERNAME`] failures stop it from addresses
///   it has never signed in from (guessing from many places);
/// - an address for any username: [`MAX_FAILURES_PER_ADDRESS`] failures stop it for usernames
///   that never signed in from there (trying many accounts from one place, or a proxy in front).
///
/// An address a user has signed in from successfully (within [`KNOWN_ADDRESS_DAYS`]) is known
/// for that user: only the pair limit applies there. Each limit lifts when the window has
/// passed since the failures it counts.
pub const MAX_FAILURES_PER_PAIR: usize = 5;
pub const MAX_FAILURES_PER_USERNAME: usize = 20;
pub const MAX_FAILURES_PER_ADDRESS: usize = 50;
pub const THROTTLE_WINDOW_MINUTES: i64 = 15;
pub const KNOWN_ADDRESS_DAYS: i64 = 90;

/// Whether a login may be attempted, given the failures within the window and whether the user
/// has signed in from this address before.
pub fn login_throttled(failures: LoginFailures, known_address: bool) -> bool {
    if failures.pair >= MAX_FAILURES_PER_PAIR {
        return true;
    }
    !known_address
        && (failures.username >= MAX_FAILURES_PER_USERNAME || failures.address >= MAX_FAILURES_PER_ADDRESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_as_a_table() {
        use Action::*;
        use Relation::*;
        // (role, relation, action) → allowed
        let cases = [
            (Role::Province, Same, Edit, true),
            (Role::Province, Below, Approve, true),
            (Role::Province, Same, Approve, false),
            (Role::Province, Outside, Read, false),
            (Role::Province, Below, ManageUsers, true),
            (Role::District, Below, Read, true),
            (Role::District, Below, Edit, false),
            (Role::District, Below, Approve, true),
            (Role::District, Same, Approve, false),
            (Role::District, Outside, Approve, false),
            (Role::District, Same, ManageUsers, false),
            (Role::Commune, Same, Edit, true),
            (Role::Commune, Below, Edit, true),
            (Role::Commune, Same, Approve, false),
            (Role::Commune, Outside, Read, false),
            (Role::Commune, Same, Audit, false),
            (Role::Viewer, Below, Read, true),
            (Role::Viewer, Same, Edit, false),
            (Role::Viewer, Outside, Read, false),
            (Role::Commune, Same, Contacts, true),
            (Role::District, Below, Contacts, true),
            (Role::Province, Below, Contacts, true),
            (Role::Viewer, Same, Contacts, false),
            (Role::Viewer, Below, Contacts, false),
            (Role::Commune, Outside, Contacts, false),
            (Role::Commune, Predecessor, Contacts, false),
            (Role::Admin, Below, Contacts, true),
            (Role::Admin, Outside, ManageUsers, true),
            // Issue 14, item 13: every arm pinned.
            (Role::District, Same, Audit, true),
            (Role::District, Below, Audit, true),
            (Role::Commune, Same, Audit, false),
            (Role::Viewer, Same, Audit, false),
            (Role::Province, Same, ReviewInbox, true),
            (Role::District, Same, ReviewInbox, true),
            (Role::Commune, Same, ReviewInbox, false),
            (Role::Viewer, Same, ReviewInbox, false),
            (Role::Province, Same, ManageSchemes, true),
            (Role::District, Same, ManageSchemes, false),
            (Role::Viewer, Below, Approve, false),
            // A former unit whose history went into the scope: read, never change.
            (Role::Province, Predecessor, Read, true),
            (Role::Province, Predecessor, Edit, false),
            (Role::Province, Predecessor, Approve, false),
            (Role::Commune, Predecessor, Read, true),
            (Role::Commune, Predecessor, Edit, false),
            (Role::Viewer, Predecessor, Read, true),
            (Role::District, Predecessor, Audit, false),
        ];
        for (role, relation, action, expected) in cases {
            assert_eq!(allowed(role, relation, action), expected, "{role:?} {relation:?} {action:?}");
        }
    }

    #[test]
    fn password_length_bounds_are_10_and_256() {
        assert!(check_password(&"a".repeat(9), "u").is_err());
        assert!(check_password(&"a".repeat(10), "u").is_ok());
        assert!(check_password(&"ă".repeat(256), "u").is_ok(), "characters, not bytes");
        assert!(check_password(&"a".repeat(257), "u").is_err());
    }

    #[test]
    fn roles_round_trip_through_their_stored_names() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(names, ["admin", "province", "district", "commune", "viewer"]);
        assert_eq!(Role::parse("Admin"), None);
    }

    #[test]
    fn granting_never_goes_above_oneself() {
        assert!(may_grant(Role::Admin, Role::Admin));
        assert!(may_grant(Role::Province, Role::District));
        assert!(!may_grant(Role::Province, Role::Admin));
        assert!(!may_grant(Role::District, Role::Commune));
    }

    #[test]
    fn usernames_and_passwords() {
        assert_eq!(parse_username("  HuuThanh.xa ").unwrap(), "huuthanh.xa");
        assert!(parse_username("ab").is_err());
        assert!(parse_username("hựu").is_err());
        assert!(parse_username("-abc").is_err());
        assert!(check_password("short", "u").is_err());
        assert!(check_password("          ", "u").is_err());
        assert!(check_password("longenough", "longenough").is_err());
        assert!(check_password("mật khẩu dài đủ", "u").is_ok());
    }

    #[test]
    fn throttling_limits() {
        let f = |pair, username, address| LoginFailures { pair, username, address };
        // Below every limit.
        assert!(!login_throttled(f(4, 19, 49), false));
        // The pair limit holds even at a known address.
        assert!(login_throttled(f(5, 5, 5), false));
        assert!(login_throttled(f(5, 5, 5), true));
        // Many addresses against one user: strangers stop, the user's own address does not.
        assert!(login_throttled(f(0, 20, 0), false));
        assert!(!login_throttled(f(0, 20, 0), true));
        assert!(!login_throttled(f(0, 1000, 0), true));
        // One address against many users (a proxy): stops only usernames new to it.
        assert!(login_throttled(f(0, 0, 50), false));
        assert!(!login_throttled(f(0, 0, 50), true));
        assert!(!login_throttled(f(4, 0, 49), false));
    }
}
