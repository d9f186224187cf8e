#![allow(clippy::unwrap_used)]

use super::*;

/// The test vector of the Standard Webhooks specification.
const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const SPEC_TIMESTAMP: i64 = 1_614_265_330;
const SPEC_BODY: &[u8] = br#"{"test": 2432232314}"#;
const SPEC_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
/// Bytes 0..32, for a second secret.
const OTHER_SECRET: &str = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn spec_signature(signer: &WebhookSigner) -> String {
    signer.sign(SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY)
}

#[test]
fn the_specifications_test_vector_signs_as_published() {
    let signer = WebhookSigner::parse(SPEC_SECRET).unwrap();
    assert_eq!(spec_signature(&signer), SPEC_SIGNATURE);
}

#[test]
fn two_secrets_give_two_signatures_in_their_order() {
    let signer = WebhookSigner::parse(&format!("  {SPEC_SECRET}   {OTHER_SECRET} ")).unwrap();
    assert_eq!(
        spec_signature(&signer),
        format!("{SPEC_SIGNATURE} v1,O4Gjv1HqPqsMrjmczoggs/sWA8gZD0VyHG+fLh4+ktI=")
    );
}

#[test]
fn secrets_of_24_and_64_bytes_are_accepted() {
    for encoded in [
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYX",
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==",
    ] {
        assert!(WebhookSigner::parse(&format!("whsec_{encoded}")).is_ok(), "{encoded}");
    }
}

#[test]
fn malformed_secrets_are_refused_by_position_without_quoting_them() {
    let cases = [
        ("   ", SigningSecretError::Empty),
        ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", SigningSecretError::MissingPrefix(1)),
        (&format!("{SPEC_SECRET} whsec_not*base64!"), SigningSecretError::NotBase64(2)),
        ("whsec_AAECAwQFBgcICQoLDA0ODw==", SigningSecretError::Length { index: 1, len: 16 }),
        (
            "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0A=",
            SigningSecretError::Length { index: 1, len: 65 },
        ),
    ];
    for (secrets, expected) in cases {
        let err = WebhookSigner::parse(secrets).unwrap_err();
        assert_eq!(err, expected, "{secrets}");
        for secret in secrets.split_whitespace() {
            assert!(!err.to_string().contains(secret.trim_start_matches("whsec_")), "{err}");
        }
    }
}

#[test]
fn debug_output_shows_no_key_material() {
    let signer = WebhookSigner::parse(SPEC_SECRET).unwrap();
    assert_eq!(format!("{signer:?}"), "WebhookSigner(1 secret(s), ***)");
}

#[test]
fn a_signed_request_verifies_within_the_tolerance() {
    let signer = WebhookSigner::parse(SPEC_SECRET).unwrap();
    let ts = SPEC_TIMESTAMP.to_string();
    for now in [SPEC_TIMESTAMP, SPEC_TIMESTAMP + TOLERANCE_SECONDS, SPEC_TIMESTAMP - TOLERANCE_SECONDS] {
        assert_eq!(signer.verify(SPEC_ID, &ts, SPEC_SIGNATURE, SPEC_BODY, now), Ok(()));
    }
}

#[test]
fn a_timestamp_outside_the_tolerance_is_refused() {
    let signer = WebhookSigner::parse(SPEC_SECRET).unwrap();
    let ts = SPEC_TIMESTAMP.to_string();
    let late = SPEC_TIMESTAMP + TOLERANCE_SECONDS + 1;
    assert_eq!(
        signer.verify(SPEC_ID, &ts, SPEC_SIGNATURE, SPEC_BODY, late),
        Err(VerifyError::OutsideTolerance(TOLERANCE_SECONDS + 1))
    );
    assert_eq!(
        signer.verify(SPEC_ID, "yesterday", SPEC_SIGNATURE, SPEC_BODY, SPEC_TIMESTAMP),
        Err(VerifyError::BadTimestamp)
    );
}

#[test]
fn a_body_changed_by_one_byte_or_another_id_is_refused() {
    let signer = WebhookSigner::parse(SPEC_SECRET).unwrap();
    let ts = SPEC_TIMESTAMP.to_string();
    let mut body = SPEC_BODY.to_vec();
    body[10] ^= 1;
    assert_eq!(signer.verify(SPEC_ID, &ts, SPEC_SIGNATURE, &body, SPEC_TIMESTAMP), Err(VerifyError::NoMatch));
    assert_eq!(
        signer.verify("msg_other", &ts, SPEC_SIGNATURE, SPEC_BODY, SPEC_TIMESTAMP),
        Err(VerifyError::NoMatch)
    );
}

#[test]
fn during_a_rotation_either_secret_verifies_and_afterwards_only_the_new_one() {
    let both = WebhookSigner::parse(&format!("{SPEC_SECRET} {OTHER_SECRET}")).unwrap();
    let old = WebhookSigner::parse(SPEC_SECRET).unwrap();
    let new = WebhookSigner::parse(OTHER_SECRET).unwrap();
    let ts = SPEC_TIMESTAMP.to_string();
    let verify = |receiver: &WebhookSigner, header: &str| {
        receiver.verify(SPEC_ID, &ts, header, SPEC_BODY, SPEC_TIMESTAMP)
    };
    let during = spec_signature(&both);
    assert_eq!(verify(&old, &during), Ok(()));
    assert_eq!(verify(&new, &during), Ok(()));
    let after = spec_signature(&new);
    assert_eq!(verify(&new, &after), Ok(()));
    assert_eq!(verify(&old, &after), Err(VerifyError::NoMatch));
}
