//! The application served on 127.0.0.1:0 and reached over real HTTP.

use danvan_domain::access::Role;
use danvan_domain::units::parse_unit_list;
use danvan_store::testing::tempfile_dir;
use danvan_store::{Actor, AuditFilter, NewUser, Store};
use danvan_web::auth::hash_password;
use danvan_web::{App, Config};

#[tokio::test]
async fn over_http_the_client_address_is_recorded_and_answers_are_compressed() {
    let dir = tempfile_dir();
    let store = Store::open(dir.join("t.db").to_str().unwrap()).await.unwrap();
    let csv = "province_code,province_name,district_code,district_name,district_type,commune_code,commune_name,commune_type,lat,lon\n\
               80,Tỉnh Long An,802,Huyện Đức Hòa,Huyện,27988,Xã Hựu Thạnh,Xã,10.79,106.43\n";
    let mut nop = |_: usize| {};
    store
        .import_units(&Actor::system("t"), &parse_unit_list(csv.as_bytes(), None).unwrap(), &mut nop)
        .await
        .unwrap();
    let scope = store.unit_by_code("27988", None).await.unwrap().map(|u| u.id);
    let new = NewUser {
        username: "xa".into(),
        display_name: "Xã".into(),
        password_hash: hash_password("mật khẩu đủ dài".into()).await.unwrap(),
        role: Role::Commune,
        scope_unit_id: scope,
    };
    store.create_user(&Actor::system("t"), &new).await.unwrap();
    let app = App::build(&Config::new("127.0.0.1:0".parse().unwrap(), dir.join("files")), store.clone())
        .await
        .unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = rx.await;
    }));

    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let res = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": "xa", "password": "mật khẩu đủ dài"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let me = client.get(format!("{base}/api/v1/me")).send().await.unwrap();
    assert_eq!(me.status(), 200, "the cookie store keeps the session");
    let logins = store
        .audit_events(&AuditFilter { entity_type: Some("user".into()), ..Default::default() }, 10, 0)
        .await
        .unwrap();
    let login = logins.events.iter().find(|e| e.action == "login").unwrap();
    assert_eq!(login.address.as_deref(), Some("127.0.0.1"));

    let page =
        client.get(format!("{base}/units/27988")).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(page.headers()["content-encoding"], "gzip");
    let _ = tx.send(());
    server.await.unwrap().unwrap();
}
