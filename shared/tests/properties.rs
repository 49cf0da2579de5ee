//! Property tests of the shared core. Failing cases proptest finds are kept
//! in `proptest-regressions/` and committed, so they are re-run forever.

use custody_core::crypto::SigningKey;
use custody_core::custody::{self, SpecimenState, Stage, Step};
use custody_core::fixtures::{self, Device, MIN, T0};
use custody_core::model::SpecimenKind;
use custody_core::place::{Fix, FixProvider, LatLon};
use custody_core::policy::Policy;
use custody_core::record::*;
use custody_core::time::{
    self, AnchorBody, HeldAnchor, TimeAnchor, TimeContext, TimeEvidence, WindowVerdict,
};
use custody_core::{Hash, SignedRecord};
use proptest::prelude::*;

fn text() -> impl Strategy<Value = String> {
    // Includes CJK, escapes, control characters and astral-plane characters.
    proptest::string::string_regex("[a-zA-Z0-9 柱层混凝土\"\\\\\n\t\u{1}\u{7f}\u{1F600}\u{E000}]{0,24}")
        .unwrap()
}

fn fix() -> impl Strategy<Value = Fix> {
    (
        -900_000_000i32..900_000_000,
        -1_800_000_000i32..1_800_000_000,
        0u32..100_000,
        any::<u32>(),
        proptest::option::of(0i64..4_000_000_000_000),
        any::<bool>(),
    )
        .prop_map(|(lat_e7, lon_e7, accuracy_cm, mono, gnss, mock)| Fix {
            pos: LatLon { lat_e7, lon_e7 },
            accuracy_cm,
            provider: FixProvider::Gnss,
            mono_ms: u64::from(mono),
            gnss_time_ms: gnss,
            satellites: Some(7),
            mock,
        })
}

fn payload() -> impl Strategy<Value = Payload> {
    (1u32..1000, text(), text(), 0u32..100, prop::sample::select(SpecimenKind::ALL.to_vec()), any::<bool>())
        .prop_map(|(serial, part, grade, qty, kind, manual)| {
            let mut p = fixtures::sampling(fixtures::tag(serial));
            if let Payload::Sampling(s) = &mut p {
                s.specimen.part = part;
                s.specimen.grade = grade;
                s.specimen.quantity = qty;
                s.specimen.kind = kind;
                if manual {
                    s.tag_read.method = TagReadMethod::Manual;
                    s.tag_read.decoder = None;
                }
            }
            p
        })
}

fn body_for(key: &SigningKey) -> impl Strategy<Value = RecordBody> {
    let device = key.public();
    (
        payload(),
        prop::collection::vec(fix(), 0..4),
        0u64..1_000_000,
        any::<u32>(),
        -1_000_000_000i64..4_000_000_000_000,
        text(),
    )
        .prop_map(move |(payload, fixes, seq, mono, wall, boot)| RecordBody {
            v: FORMAT_VERSION,
            device,
            author: fixtures::id("P-SAMPLER"),
            seq,
            prev: if seq == 0 { None } else { Some(Hash::of(&seq.to_be_bytes())) },
            payload,
            evidence: Evidence {
                media: vec![fixtures::media(MediaPurpose::Process, &boot)],
                fixes,
                time: TimeEvidence { wall_ms: wall, boot_id: boot, mono_ms: u64::from(mono), anchor: None },
            },
        })
}

fn key() -> SigningKey {
    SigningKey::from_seed(&[2; 32]).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn encode_decode_round_trip(body in body_for(&key()), cosign in any::<bool>()) {
        let mut rec = SignedRecord::sign(body.clone(), &key()).unwrap();
        if cosign {
            rec.cosign(&SigningKey::from_seed(&[3; 32]).unwrap(), fixtures::id("P-WITNESS"));
        }
        let bytes = rec.to_bytes();
        let back = SignedRecord::decode_verified(&bytes).unwrap();
        prop_assert_eq!(back.body(), &body);
        prop_assert_eq!(back.id(), rec.id());
        prop_assert_eq!(back.to_bytes(), bytes);
    }

    #[test]
    fn any_single_byte_flip_fails_verification(body in body_for(&key()), pos in any::<prop::sample::Index>(), mask in 1u8..=255) {
        let mut rec = SignedRecord::sign(body, &key()).unwrap();
        rec.cosign(&SigningKey::from_seed(&[3; 32]).unwrap(), fixtures::id("P-WITNESS"));
        let mut bytes = rec.to_bytes();
        let i = pos.index(bytes.len());
        bytes[i] ^= mask;
        prop_assert!(SignedRecord::decode_verified(&bytes).is_err(), "flip at {} accepted", i);
    }

    #[test]
    fn chains_with_a_gap_fork_or_reorder_are_rejected(n in 3usize..12, pick in any::<prop::sample::Index>(), other in any::<prop::sample::Index>()) {
        let mut d = Device::new(2, "P-SAMPLER");
        let recs: Vec<SignedRecord> = (0..n)
            .map(|i| d.field_record(fixtures::sampling(fixtures::tag(i as u32 + 1)), Hash::of(b"f"), fixtures::site_point(1.0, 1.0), T0 + i as i64))
            .collect();
        prop_assert!(verify_chain(&recs).is_ok());
        let i = pick.index(n);
        // Gap: drop one record (not the last, which would just be a shorter chain).
        if i < n - 1 {
            let mut gap = recs.clone();
            gap.remove(i);
            prop_assert!(verify_chain(&gap).is_err());
        }
        // Reorder: swap two distinct records.
        let j = other.index(n);
        if i != j {
            let mut swapped = recs.clone();
            swapped.swap(i, j);
            prop_assert!(verify_chain(&swapped).is_err());
        }
        // Fork: a different record signed at an existing position.
        let mut forked = recs[..=i].to_vec();
        let mut d2 = Device::new(2, "P-SAMPLER");
        d2.seq = recs[i].body().seq;
        d2.prev = recs[i].body().prev;
        let alt = d2.field_record(fixtures::sampling(fixtures::tag(999)), Hash::of(b"g"), fixtures::site_point(2.0, 2.0), T0);
        forked.push(alt);
        let is_fork = matches!(verify_chain(&forked), Err(ChainError::Fork { .. }));
        prop_assert!(is_fork);
    }

    /// Soundness: however the honest evidence is produced (latency, drift,
    /// delays), the true time lies inside both the proven and the claimed
    /// intervals, and a 20-minute verdict is never wrong.
    #[test]
    fn time_intervals_are_sound(
        boot_before in 0i64..86_400_000,
        latency in 0i64..30_000,
        server_frac in 0.0f64..=1.0,
        drift_ppm in -1000i64..=1000,
        to_record in 0i64..7_200_000,
        to_upload in 0i64..86_400_000,
        gap in 0i64..3_600_000,
        witness_latency in 0i64..30_000,
        witness_to_upload in 0i64..600_000,
        covering in proptest::option::of(0i64..600_000),
    ) {
        let policy = Policy::default();
        let server = SigningKey::from_seed(&[1; 32]).unwrap();
        let mono = |boot: i64, real: i64| -> u64 {
            // Device clock runs at (1 + drift) relative to real time.
            let el = (real - boot) as i128;
            (el + el * i128::from(drift_ppm) / 1_000_000) as u64
        };
        let make = |dev_seed: u8, t_send: i64, t_record: i64, lat: i64, first_seen: i64, cover: Option<i64>| {
            let dev = SigningKey::from_seed(&[dev_seed; 32]).unwrap();
            let boot = t_send - boot_before;
            let t_sign = t_send + (lat as f64 * server_frac) as i64;
            let t_recv = t_send + lat;
            let body = AnchorBody { v: 1, device: dev.public(), boot_id: "b".into(), device_mono_ms: mono(boot, t_send), server_ms: t_sign, tail: None };
            let held = HeldAnchor { anchor: TimeAnchor::sign(body, &server).unwrap(), received_mono_ms: mono(boot, t_recv) };
            let ev = TimeEvidence { wall_ms: t_record, boot_id: "b".into(), mono_ms: mono(boot, t_record.max(t_recv)), anchor: Some(held) };
            let ctx = TimeContext {
                server_keys: vec![server.public()],
                first_seen_ms: Some(first_seen),
                covering_anchor_ms: cover.map(|c| t_record + c),
                ..TimeContext::default()
            };
            (time::assess(&ev, &dev.public(), &[], &ctx, &policy), t_record.max(t_recv))
        };
        let t_send = T0;
        let t_record = t_send + latency + to_record;
        let (s, s_true) = make(2, t_send, t_record, latency, t_record + to_upload, covering);
        prop_assert!(s.proven.contains(s_true), "proven {:?} misses {}", s.proven, s_true);
        prop_assert!(s.claimed.earliest_ms <= s_true && s_true <= s.claimed.latest_ms, "claimed {:?} misses {}", s.claimed, s_true);
        prop_assert!(s.findings.is_empty(), "honest device flagged: {:?}", s.findings);

        // A witness `gap` after the sampling, with its own fresh anchor.
        let w_send = s_true + gap / 2;
        let w_record = s_true + gap;
        let (w, w_true) = make(3, w_send, w_record.max(w_send + witness_latency), witness_latency, w_record.max(w_send + witness_latency) + witness_to_upload, None);
        let true_gap = w_true - s_true;
        match time::witness_window(&s, &w, policy.witness_window_ms) {
            WindowVerdict::Compliant { max_gap_ms } => {
                prop_assert!(true_gap <= 20 * MIN && true_gap <= max_gap_ms, "compliant but gap {}", true_gap);
            }
            WindowVerdict::Late { min_gap_ms } => {
                prop_assert!(true_gap > 20 * MIN && true_gap >= min_gap_ms, "late but gap {}", true_gap);
            }
            WindowVerdict::Undetermined { .. } => {}
        }
    }

    /// Random step sequences: the machine never lets a tag bind twice, never
    /// moves a rejected specimen, and only ever moves forward.
    #[test]
    fn custody_transitions(steps in prop::collection::vec((0u8..6, any::<bool>(), 0u8..3), 0..20)) {
        let h = |i: usize| Hash::of(&[i as u8, 0xAA]);
        let mut state = SpecimenState::UNBOUND;
        let order = |s: Stage| match s {
            Stage::Unbound => 0, Stage::Sampled => 1, Stage::Witnessed => 2, Stage::Commissioned => 3,
            Stage::Received | Stage::Rejected => 4, Stage::Tested => 5, Stage::Reported => 6,
        };
        for (i, (k, accept, link)) in steps.into_iter().enumerate() {
            // Links are usually right (copied from the state) and sometimes wrong.
            let pick = |x: Option<Hash>| if link == 0 { h(1000 + i) } else { x.unwrap_or(h(2000 + i)) };
            let step = match k {
                0 => Step::Sample { record: h(i) },
                1 => Step::Witness { record: h(i), sampling: pick(state.sampling) },
                2 => Step::Commission { record: h(i), sampling: pick(state.sampling), witnessing: pick(state.witnessing) },
                3 => Step::Receive { record: h(i), commission: pick(state.commission), accepted: accept },
                4 => Step::Test { record: h(i), receipt: pick(state.receipt) },
                _ => Step::Report { record: h(i), amends: if accept { None } else { Some(pick(state.report)) } },
            };
            let before = state.clone();
            match custody::apply(&state, &step) {
                Ok(next) => {
                    prop_assert!(order(next.stage) >= order(before.stage));
                    prop_assert!(before.stage != Stage::Rejected);
                    prop_assert!(before.stage.allowed_next().contains(&step.kind()));
                    if before.stage != Stage::Unbound {
                        prop_assert_eq!(next.sampling, before.sampling, "a tag binds once");
                    }
                    state = next;
                }
                Err(e) => {
                    if matches!(step, Step::Sample { .. }) {
                        prop_assert!(before.stage != Stage::Unbound);
                        let is_bound = matches!(e, custody::CustodyError::TagAlreadyBound { .. });
                        prop_assert!(is_bound);
                    }
                }
            }
        }
    }
}

// R13: the report seal. Any seal round-trips through its QR text and
// verifies; any change of one byte of it is refused (not panicked on).
mod report_seal {
    use custody_core::Hash;
    use custody_core::crypto::SigningKey;
    use custody_core::model::Id;
    use custody_core::report_seal::{ReportSeal, SignedSeal, base32_decode, base32_encode};
    use proptest::prelude::*;

    fn seal() -> impl Strategy<Value = ReportSeal> {
        (any::<[u8; 32]>(), "[a-z0-9._:-]{1,64}", "[A-Z0-9 报告第号-]{0,21}", any::<[u8; 32]>(), any::<i64>())
            .prop_map(|(r, lab, no, d, t)| ReportSeal {
                report: Hash(r),
                lab: Id::new(lab).unwrap(),
                report_no: no,
                document: Hash(d),
                issued_ms: t,
            })
    }

    proptest! {
        #[test]
        fn r13_every_seal_round_trips_and_verifies(s in seal(), seed in any::<[u8; 32]>()) {
            let k = SigningKey::from_seed(&seed).unwrap();
            let signed = s.clone().sign(&k).unwrap();
            let text = signed.qr_text("https://jzqy.example.cn").unwrap();
            let back = SignedSeal::decode(&text).unwrap();
            prop_assert_eq!(back.verify(&[k.public()]).unwrap(), &s);
        }

        #[test]
        fn r13_one_changed_byte_never_verifies(s in seal(), at in any::<prop::sample::Index>(), flip in 1u8..=255) {
            let k = SigningKey::from_seed(&[3; 32]).unwrap();
            let mut bytes = s.sign(&k).unwrap().to_bytes().unwrap();
            let i = at.index(bytes.len());
            bytes[i] ^= flip;
            if let Ok(forged) = SignedSeal::from_bytes(&bytes) {
                prop_assert!(forged.verify(&[k.public()]).is_err());
            }
        }

        #[test]
        fn r13_any_text_decodes_or_is_refused(text in "\\PC{0,400}") {
            let _ = SignedSeal::decode(&text);
        }

        #[test]
        fn base32_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            prop_assert_eq!(base32_decode(&base32_encode(&bytes)).unwrap(), bytes);
        }
    }
}
