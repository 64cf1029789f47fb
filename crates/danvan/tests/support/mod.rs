//! What the tests that run the real binary share: starting `danvan serve` and waiting for it.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Starts `danvan serve` on a port of 127.0.0.1 with more arguments and environment, and waits
/// until it answers /readyz.
pub async fn serve(url: &str, data_dir: &Path, port: u16, more: &[&str], env: &[(&str, &str)]) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_danvan"))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}"), "--database-url", url])
        .args(more)
        .arg("--data-dir")
        .arg(data_dir)
        .envs(env.iter().copied())
        .env("DANVAN_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start danvan serve");
    let client = reqwest::Client::new();
    for _ in 0..300 {
        if client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("danvan serve did not become ready on port {port}");
}

/// A free port of 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The repository's root.
pub fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Opens the database and fills it with Long An's units of the 2024 list and the sample scheme
/// of 2017-2020: the store and the units' list.
pub async fn long_an(url: &str) -> (danvan_store::Store, danvan_domain::units::UnitList) {
    let store = danvan_store::Store::open(url).await.unwrap();
    let actor = danvan_store::Actor::system("test");
    let units = std::fs::read(root().join("data/units-2024-three-level.csv")).unwrap();
    let list = danvan_domain::units::parse_unit_list(&units, Some("80")).unwrap();
    store.import_units(&actor, &list, &mut |_| {}).await.unwrap();
    let text = std::fs::read_to_string(root().join("data/schemes/long-an-2017-2020.sample.toml")).unwrap();
    let def = danvan_domain::scheme::parse_scheme(&text).unwrap();
    store.import_scheme(&actor, &def, &text).await.unwrap();
    (store, list)
}
