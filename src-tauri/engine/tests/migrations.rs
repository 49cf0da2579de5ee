//! An app update must never lose what the phone holds: databases left at
//! every earlier schema version open, migrate, and keep their records.

use field_engine::Engine;
use field_engine::clock::ManualClock;
use field_engine::db::{self, MIGRATIONS};
use field_engine::vault::{FileSecretStore, Vault};
use rusqlite::{Connection, params};
use std::sync::Arc;

#[test]
fn opens_every_earlier_version_without_loss() {
    for from in 1..MIGRATIONS.len() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        let vault = Vault::new(Box::new(FileSecretStore::new(&dir.path().join("secrets")).unwrap()));
        // A record the old app made, signed with this phone's key.
        let mut d = custody_core::fixtures::Device::new(2, "P-SAMPLER");
        d.key = vault.signing_key().unwrap();
        let rec = d.field_record(
            custody_core::fixtures::sampling(custody_core::fixtures::tag(1)),
            custody_core::Hash::of(b"face"),
            custody_core::fixtures::site_point(1.0, 1.0),
            custody_core::fixtures::T0,
        );
        let id = custody_core::fixtures::id;
        let profile = custody_core::protocol::DeviceProfile {
            person: custody_core::model::Person {
                id: id("P-SAMPLER"),
                name: "张伟".into(),
                org: id("ORG-CON"),
            },
            org: custody_core::model::Organisation {
                id: id("ORG-CON"),
                name: "施工单位".into(),
                role: custody_core::model::OrgRole::Contractor,
                credit_code: None,
                jurisdiction: None,
            },
            org_role: custody_core::model::OrgRole::Contractor,
            grants: vec![],
            projects: vec![],
            server_keys: vec![custody_core::SigningKey::from_seed(&[1; 32]).unwrap().public()],
            key_handovers: vec![],
            policy: custody_core::policy::Policy::default(),
            people: vec![],
            device_revoked_ms: None,
        };
        let profile = serde_json::to_value(&profile).unwrap();
        {
            let mut c = Connection::open(data.join("field.sqlite")).unwrap();
            db::configure(&c).unwrap();
            db::migrate(&mut c, from).unwrap();
            c.execute(
                "INSERT INTO own_records (seq, id, kind, envelope, created_wall_ms, state) VALUES (0, ?1, 'sampling', ?2, 1, 'pending')",
                params![rec.id().as_bytes().as_slice(), rec.to_bytes()],
            )
            .unwrap();
            c.execute(
                "INSERT INTO record_tags (tag, record) VALUES (?1, ?2)",
                params![custody_core::fixtures::tag(1).as_str(), rec.id().as_bytes().as_slice()],
            )
            .unwrap();
            c.execute(
                "INSERT INTO enrollment (id, server_url, server_key, person, profile, enrolled_ms, updated_ms) VALUES (0, 'http://x', ?1, 'P-SAMPLER', ?2, 1, 1)",
                params![custody_core::SigningKey::from_seed(&[1; 32]).unwrap().public().to_b64(), profile.to_string()],
            )
            .unwrap();
        }
        let clock = Arc::new(ManualClock::new(custody_core::fixtures::T0, "b"));
        let engine = Engine::open(&data, &vault, clock).unwrap();
        let st = engine.status().unwrap();
        assert_eq!(st.pending_records, 1, "from v{from}: the unsynced record is still queued");
        let c = Connection::open(data.join("field.sqlite")).unwrap();
        let v: i64 = c.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(v as usize, MIGRATIONS.len());
        let env: Vec<u8> =
            c.query_row("SELECT envelope FROM own_records WHERE seq = 0", [], |r| r.get(0)).unwrap();
        assert_eq!(env, rec.to_bytes(), "byte for byte");
        // The tables later versions added are usable.
        c.execute("INSERT INTO alarms (kind, message_zh, message_en, created_ms) VALUES ('k','z','e',1)", [])
            .unwrap();
        c.execute(
            "INSERT INTO station_files (sha256, record_id, name, captured_ms) VALUES (?1, ?2, 'a.csv', 1)",
            params![custody_core::Hash::of(b"curve").as_bytes().as_slice(), rec.id().as_bytes().as_slice()],
        )
        .unwrap();
    }
}
