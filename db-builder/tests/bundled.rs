//! The bundled database (host/assets/coldscan.db.gz) is exactly what this builder makes from
//! the shared advisory data: rebuilt here and compared byte for byte. Skipped, with a message,
//! when ../shared is absent.

use std::io::Read;
use std::path::Path;

#[test]
fn bundled_db_is_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let shared = root.join("../shared");
    if !shared.is_dir() {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but {} is absent", shared.display());
        eprintln!("SKIP: {} is absent; this test needs the shared advisory data", shared.display());
        return;
    }
    let compressed = std::fs::read(root.join("host/assets/coldscan.db.gz")).unwrap();
    let mut bundled = Vec::new();
    flate2::read::GzDecoder::new(&compressed[..]).read_to_end(&mut bundled).unwrap();
    let built_at = coldscan_core::vulndb::VulnDb::open(&bundled).unwrap().meta.built_at.to_string();
    let out = tempfile::NamedTempFile::new().unwrap();
    let run = std::process::Command::new("bash")
        .arg(root.join("host/assets/build-db.sh"))
        .arg(out.path())
        .arg(&built_at)
        .env("DB_BUILDER", env!("CARGO_BIN_EXE_coldscan-db-builder"))
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    eprintln!("{}", String::from_utf8_lossy(&run.stderr));
    let rebuilt = std::fs::read(out.path()).unwrap();
    assert!(
        rebuilt == bundled,
        "host/assets/coldscan.db.gz is stale: rebuild it with the command in host/assets/README.md"
    );
}
