//! Admin operations. Every admin fact (an organisation, a person's letter of
//! authorisation, a tag batch …) is a record signed by the server's key, in
//! the server's own hash chain, through the same pipeline and transparency
//! log as field records: the directory tables are projections of records, so
//! "who was authorised when" is as tamper-evident as the custody trail (R1,
//! R14, R15).

use crate::blobs::Blobs;
use crate::ingest::{Outcome, Pipeline};
use crate::store::{Result as StoreResult, Store, StoreError, Tx};
use custody_core::model::{Id, Organisation, Person, PersonRole, Project, UnitProject};
use custody_core::policy::Policy;
use custody_core::protocol::Finding;
use custody_core::protocol::{DeviceProfile, EnrollmentOffer, GrantView, ProjectView, RecordStatus};
use custody_core::record::*;
use custody_core::tag::TagBatch;
use custody_core::time::TimeEvidence;
use custody_core::verify::{DirectoryEntry, Violation};
use custody_core::{Hash, PublicKey, SigningKey};

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The server's person id as the author of admin facts.
pub const OPERATOR: &str = "OPERATOR";

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{en}")]
    Invalid { zh: String, en: String },
    /// The core's rules refused the fact; nothing was stored.
    #[error("{}", join(.0, |f| &f.message_en, "; "))]
    Refused(Vec<custody_core::protocol::Finding>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("media: {0}")]
    Media(String),
}

impl AdminError {
    pub fn invalid(zh: impl Into<String>, en: impl Into<String>) -> AdminError {
        AdminError::Invalid { zh: zh.into(), en: en.into() }
    }
    pub fn message_zh(&self) -> String {
        match self {
            AdminError::Invalid { zh, .. } => zh.clone(),
            AdminError::Refused(f) => join(f, |f| &f.message_zh, "；"),
            AdminError::Store(e) => format!("存储错误：{e}"),
            AdminError::Media(e) => format!("文件错误：{e}"),
        }
    }
}

fn join<T>(items: &[T], f: impl Fn(&T) -> &String, sep: &str) -> String {
    items.iter().map(|x| f(x).as_str()).collect::<Vec<_>>().join(sep)
}

pub type Result<T> = std::result::Result<T, AdminError>;

/// Admin access to one store.
pub struct Admin<'a> {
    pub store: &'a Store,
    pub blobs: &'a Blobs,
    /// Reference faces are sealed as they are stored (issue 18).
    pub faces: &'a crate::faces::FaceVault,
    pub key: &'a SigningKey,
    pub policy: &'a Policy,
}

impl<'a> Admin<'a> {
    /// The administration of a running server's store.
    pub fn of(state: &'a crate::AppState) -> Admin<'a> {
        Admin {
            store: &state.store,
            blobs: &state.blobs,
            faces: &state.faces,
            key: &state.key,
            policy: &state.config.policy,
        }
    }
}

fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "server".into())
}

/// Sign `payload` as the server's next record and run it through the pipeline.
pub fn submit(
    tx: &mut dyn Tx,
    key: &SigningKey,
    policy: &Policy,
    payload: Payload,
    media: Vec<MediaRef>,
) -> Result<Outcome> {
    submit_at(tx, key, policy, payload, media, now_ms())
}

/// As [`submit`], at a given server time.
pub fn submit_at(
    tx: &mut dyn Tx,
    key: &SigningKey,
    policy: &Policy,
    payload: Payload,
    media: Vec<MediaRef>,
    now: i64,
) -> Result<Outcome> {
    let tail = tx.chain(&key.public())?.map(|c| c.0);
    let body = RecordBody {
        v: FORMAT_VERSION,
        device: key.public(),
        author: Id::new(OPERATOR).expect("valid id"),
        seq: tail.map_or(0, |t| t.seq + 1),
        prev: tail.map(|t| t.id),
        payload,
        evidence: Evidence {
            media,
            fixes: vec![],
            time: TimeEvidence { wall_ms: now, boot_id: boot_id(), mono_ms: 0, anchor: None },
        },
    };
    let rec = SignedRecord::sign(body, key).expect("server key signs its own records");
    let known = crate::keys::known_keys(&key.public(), &crate::keys::handovers(tx)?);
    let p = Pipeline { server_key: key, known: &known, policy, now };
    let out = p.ingest(tx, &rec.to_bytes(), None)?;
    if out.status != RecordStatus::Accepted || out.duplicate {
        return Err(AdminError::Refused(out.findings));
    }
    Ok(out)
}

fn letter_media(sha: Hash, size: u64, media_type: &str, purpose: MediaPurpose) -> MediaRef {
    MediaRef { sha256: sha, size, media_type: media_type.into(), purpose, captured_mono_ms: None }
}

/// Guess a media type from a file name (letters are scans or PDFs).
pub fn media_type_of(path: &std::path::Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase()).as_deref() {
        Some("pdf") => "application/pdf",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

impl Admin<'_> {
    /// One transaction: committed when `f` succeeds, rolled back whole when
    /// it refuses (nothing half-done is kept).
    fn write<T>(&self, f: impl FnOnce(&mut dyn Tx) -> Result<T>) -> Result<T> {
        self.store.write_or_abort(|tx| match f(tx) {
            Err(AdminError::Store(e)) => Err(e),
            other => Ok(other),
        })?
    }

    fn submit(&self, tx: &mut dyn Tx, payload: Payload, media: Vec<MediaRef>) -> Result<Outcome> {
        submit(tx, self.key, self.policy, payload, media)
    }

    pub fn add_org(&self, o: Organisation) -> Result<Outcome> {
        self.write(|tx| self.submit(tx, Payload::OrganisationRegistered(o), vec![]))
    }

    pub fn add_project(&self, p: Project) -> Result<Outcome> {
        self.write(|tx| self.submit(tx, Payload::ProjectRegistered(p), vec![]))
    }

    pub fn add_unit_project(&self, u: UnitProject) -> Result<Outcome> {
        self.write(|tx| self.submit(tx, Payload::UnitProjectRegistered(u), vec![]))
    }

    pub fn add_person(&self, p: Person) -> Result<Outcome> {
        self.write(|tx| self.submit(tx, Payload::PersonRegistered(p), vec![]))
    }

    /// R1: record a letter of authorisation (the file) and the real-name check.
    #[allow(clippy::too_many_arguments)]
    pub fn grant(
        &self,
        grant: Id,
        person: Id,
        project: Option<Id>,
        role: PersonRole,
        letter: (&[u8], &str),
        real_name_method: String,
        face_reference: Option<(&[u8], &str)>,
        valid_until_ms: Option<i64>,
    ) -> Result<Outcome> {
        if letter.0.is_empty() {
            return Err(AdminError::invalid("授权书文件为空", "the letter of authorisation file is empty"));
        }
        let letter_sha = self.blobs.put_whole(letter.0).map_err(|e| AdminError::Media(e.to_string()))?;
        // A reference face is sealed before it is stored: never in the clear (PIPL).
        let face = match face_reference {
            Some((bytes, ty)) => Some((
                self.faces
                    .put_face(self.store, self.blobs, bytes, now_ms())
                    .map_err(|e| AdminError::Media(e.to_string()))?,
                bytes.len(),
                ty,
            )),
            None => None,
        };
        self.write(|tx| {
            // The grant names the person's organisation; a person the
            // directory does not know is refused in the core's words.
            let Some(p) = tx.person(&person)? else {
                let v = Violation::DirectoryEntryMissing {
                    entry: DirectoryEntry::Person,
                    id: person.to_string(),
                };
                return Err(AdminError::Refused(vec![Finding::from(&v)]));
            };
            let now = now_ms();
            self.media_row(tx, letter_sha, letter.0.len() as u64, letter.1, now)?;
            let mut media =
                vec![letter_media(letter_sha, letter.0.len() as u64, letter.1, MediaPurpose::Letter)];
            if let Some((sha, len, ty)) = face {
                self.media_row(tx, sha, len as u64, ty, now)?;
                media.push(letter_media(sha, len as u64, ty, MediaPurpose::Face));
            }
            let payload = Payload::AuthorisationGranted(AuthorisationGrant {
                grant,
                person: person.clone(),
                org: p.org,
                project,
                role,
                letter: letter_sha,
                real_name: RealNameCheck {
                    method: real_name_method,
                    verified_at_ms: now,
                    face_reference: face.map(|f| f.0),
                },
                valid_from_ms: now,
                valid_until_ms,
            });
            self.submit(tx, payload, media)
        })
    }

    fn media_row(&self, tx: &mut dyn Tx, sha: Hash, size: u64, ty: &str, now: i64) -> StoreResult<()> {
        tx.upsert_media(
            &crate::store::MediaRow {
                sha256: sha,
                size,
                media_type: ty.into(),
                received: size,
                complete: true,
            },
            now,
        )
    }

    pub fn revoke_grant(&self, grant: Id, reason: String) -> Result<Outcome> {
        self.write(|tx| {
            let payload = Payload::AuthorisationRevoked(AuthorisationRevocation {
                grant,
                reason,
                effective_ms: now_ms(),
            });
            self.submit(tx, payload, vec![])
        })
    }

    /// R15-R16: register a supplier's batch for a project; any overlap with a
    /// registered batch is refused (a tag code must never be duplicated).
    pub fn register_tags(&self, batch: TagBatch) -> Result<Outcome> {
        self.write(|tx| self.submit(tx, Payload::TagBatchRegistered(batch), vec![]))
    }

    /// R15: file a tag supplier's yearly guide price (the filing with the
    /// price authority; a tag-supply contract above it is refused).
    pub fn file_guide_price(&self, g: custody_core::plans::GuidePrice) -> Result<Outcome> {
        self.write(|tx| self.submit(tx, Payload::TagGuidePriceFiled(g), vec![]))
    }

    /// R2: the owner commissions one lab per unit project and category.
    pub fn assign_lab(&self, a: LabAssignment) -> Result<Outcome> {
        self.write(|tx| self.submit(tx, Payload::LabCommissioned(a), vec![]))
    }

    /// Make a one-time enrollment code for a person; returns the QR offer.
    pub fn enrollment_offer(
        &self,
        person: &Id,
        ttl_ms: i64,
        server_url: &str,
        tls_cert_sha256: Option<Hash>,
    ) -> Result<EnrollmentOffer> {
        let code = random_code();
        self.write(|tx| {
            let p = tx.person(person)?.ok_or_else(|| {
                AdminError::invalid(format!("人员 {person} 不存在"), format!("person {person} not found"))
            })?;
            let now = now_ms();
            tx.insert_enrollment_code(&Hash::of(code.as_bytes()), person, now + ttl_ms, now)?;
            Ok(EnrollmentOffer {
                v: 1,
                server_url: server_url.to_owned(),
                code: code.clone(),
                server_key: self.key.public(),
                tls_cert_sha256,
                person_name: p.name,
                expires_ms: now + ttl_ms,
            })
        })
    }

    pub fn revoke_device(&self, device: PublicKey, reason: String) -> Result<Outcome> {
        self.write(|tx| {
            let payload = Payload::DeviceRevoked(DeviceRevocation { device, reason, effective_ms: now_ms() });
            self.submit(tx, payload, vec![])
        })
    }

    /// A new admin API token; only its hash is stored.
    pub fn create_token(&self, label: &str) -> Result<String> {
        let token = format!("jzqy_{}", random_code().replace('-', "").to_lowercase());
        self.write(|tx| {
            tx.insert_admin_token(&Hash::of(token.as_bytes()), label, now_ms())?;
            Ok(())
        })?;
        Ok(token)
    }
}

/// 16 characters from an alphabet without look-alikes (no 0/O, 1/I/L),
/// grouped for reading aloud: 80 bits of entropy.
pub fn random_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).expect("system randomness");
    let chars: Vec<char> = bytes.iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect();
    chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

/// Everything a device needs offline (refreshed on every sync): its
/// person's grants (revoked ones too, so the app can say why it refuses),
/// and the projects those in force at `now` open (`custody_core::access`).
pub fn profile(
    tx: &mut dyn Tx,
    device: &PublicKey,
    (server_keys, handovers): (&[PublicKey], &[custody_core::server_keys::SignedHandover]),
    policy: &Policy,
    now: i64,
) -> StoreResult<Option<DeviceProfile>> {
    let Some(d) = tx.device(device)? else { return Ok(None) };
    let person =
        tx.person(&d.person)?.ok_or_else(|| StoreError::Corrupt(format!("person {} missing", d.person)))?;
    let org = tx.org(&d.org)?.ok_or_else(|| StoreError::Corrupt(format!("org {} missing", d.org)))?;
    let grants = tx.grants_of(&d.person)?;
    let project_ids = crate::facts::device_viewer(tx, &d.person, &d.org, d.org_role)?.projects(now);
    let mut projects = Vec::new();
    let mut people: Vec<Person> = Vec::new();
    for pid in project_ids {
        let Some(project) = tx.project(&pid)? else { continue };
        let labs = tx.lab_assignments_of(&pid)?;
        let batches = tx.batches_of(&pid)?;
        let mut org_ids: Vec<Id> = vec![project.owner.clone()];
        org_ids.extend(labs.iter().map(|a| a.lab.clone()));
        org_ids.extend(batches.iter().map(|b| b.supplier_org.clone()));
        for g in tx.grants_on(&pid)? {
            if let Some(p) = tx.person(&g.person)? {
                org_ids.push(p.org.clone());
                if !people.iter().any(|x| x.id == p.id) {
                    people.push(p);
                }
            }
        }
        org_ids.sort();
        org_ids.dedup();
        let mut organisations = Vec::new();
        for o in org_ids {
            if let Some(x) = tx.org(&o)? {
                organisations.push(x);
            }
        }
        projects.push(ProjectView {
            unit_projects: tx.unit_projects_of(&pid)?,
            tag_batches: batches,
            labs,
            organisations,
            project,
        });
    }
    Ok(Some(DeviceProfile {
        person,
        org,
        org_role: d.org_role,
        grants: grants
            .into_iter()
            .map(|g| GrantView {
                grant: g.grant,
                role: g.role,
                project: g.project,
                valid_from_ms: g.valid_from_ms,
                valid_until_ms: g.valid_until_ms,
                revoked_at_ms: g.revoked_ms,
                face_reference: g.face_reference,
            })
            .collect(),
        projects,
        server_keys: server_keys.to_vec(),
        key_handovers: handovers.to_vec(),
        policy: policy.clone(),
        people,
        device_revoked_ms: d.revoked_ms,
    }))
}
