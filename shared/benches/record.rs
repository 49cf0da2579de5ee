//! Cost of the record format against its floor, measured in one run.
//!
//! `cargo bench -p custody-core --features fixtures --bench record`
//!
//! Prints, for a typical sampling record (two fixes, two media, a time
//! anchor): canonical encode + hash + sign, and decode + signature check
//! (+ the full rule check), each beside ring's raw Ed25519 sign/verify rate
//! measured in the same process, as a ratio. A bench binary rather than
//! criterion: the ratio is the figure that matters and it prints directly.

use custody_core::fixtures::{self, World};
use custody_core::verify;
use custody_core::{Hash, SignedRecord};
use ring::signature::{ED25519, Ed25519KeyPair, UnparsedPublicKey};
mod common;

use common::rate;
use std::hint::black_box;

fn main() {
    // `cargo bench` passes --bench; ignore arguments.
    let (mut w, mut s, _, _) = World::yingkou();
    w.sync(&mut s);
    w.advance(fixtures::MIN);
    let rec = s.field_record(
        fixtures::sampling(fixtures::tag(1)),
        Hash::of(b"face"),
        fixtures::site_point(50.0, 50.0),
        w.now,
    );
    let bytes = rec.to_bytes();
    let body = rec.body().clone();
    let ctx = w.context(&rec);
    println!(
        "typical sampling record: body {} bytes, envelope {} bytes\n",
        rec.body_bytes().len(),
        bytes.len()
    );

    let pair = Ed25519KeyPair::from_seed_unchecked(&[2; 32]).unwrap();
    let msg = [7u8; 32];
    let sig = pair.sign(&msg);
    let public = UnparsedPublicKey::new(&ED25519, s.key.public().0);

    let raw_sign = rate("ring Ed25519 sign (32-byte message), raw", || {
        black_box(pair.sign(black_box(&msg)));
    });
    let raw_verify = rate("ring Ed25519 verify (32-byte message), raw", || {
        black_box(public.verify(black_box(&msg), sig.as_ref()).is_ok());
    });
    let rec_sign = rate("record: canonical encode + SHA-256 + sign + envelope", || {
        let r = SignedRecord::sign(black_box(body.clone()), &s.key).unwrap();
        black_box(r.to_bytes());
    });
    let rec_verify = rate("record: decode + canonical check + verify signature", || {
        black_box(SignedRecord::decode_verified(black_box(&bytes)).unwrap());
    });
    let rec_rules = rate("record: decode + verify signature + every rule", || {
        let r = SignedRecord::decode_verified(black_box(&bytes)).unwrap();
        black_box(verify::verify(&r, &ctx));
    });
    println!();
    println!(
        "sign path   = {:.2}x the cost of a raw Ed25519 sign   ({:.0}% of raw rate)",
        raw_sign / rec_sign,
        100.0 * rec_sign / raw_sign
    );
    println!(
        "verify path = {:.2}x the cost of a raw Ed25519 verify ({:.0}% of raw rate)",
        raw_verify / rec_verify,
        100.0 * rec_verify / raw_verify
    );
    println!(
        "full rules  = {:.2}x the cost of a raw Ed25519 verify ({:.0}% of raw rate)",
        raw_verify / rec_rules,
        100.0 * rec_rules / raw_verify
    );
}
