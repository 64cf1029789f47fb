//! Accounts: signing in and out, one's own account and tokens, and the administration of
//! users.

pub mod account;
pub mod users;

use danvan_domain::access::Action;

use crate::shell::auth::Access;
use crate::shell::Routes;

/// The routes of this area, each with its access rule.
pub fn routes(r: Routes) -> Routes {
    r.get("/login", Access::Public, account::login_form)
        .post("/login", Access::Public, account::login_submit)
        .post("/api/v1/auth/login", Access::Public, account::api_login)
        // Signed in: one's own account.
        .post("/logout", Access::SignedIn, account::logout)
        .get("/account", Access::SignedIn, account::account)
        .post("/account/password", Access::SignedIn, account::change_password)
        .post("/account/tokens", Access::SignedIn, account::create_token)
        .post("/account/tokens/{id}/revoke", Access::SignedIn, account::revoke_token)
        .post("/api/v1/auth/logout", Access::SignedIn, account::api_logout)
        .get("/api/v1/me", Access::SignedIn, account::api_me)
        // Administration; handlers narrow to the target's scope.
        .get("/admin/users", Access::Own(Action::ManageUsers), users::users)
        .get("/admin/users/new", Access::Own(Action::ManageUsers), users::new_user)
        .post("/admin/users", Access::Own(Action::ManageUsers), users::create_user)
        .get("/admin/users/{id}", Access::Own(Action::ManageUsers), users::edit_user)
        .post("/admin/users/{id}", Access::Own(Action::ManageUsers), users::update_user)
        .post("/admin/users/{id}/password", Access::Own(Action::ManageUsers), users::reset_password)
        .post("/admin/users/{id}/move", Access::Own(Action::ManageUsers), users::move_user)
}
