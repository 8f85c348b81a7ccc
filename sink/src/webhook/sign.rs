//! Standard Webhooks signatures (<https://www.standardwebhooks.com>): `v1,` followed by the base64
//! of HMAC-SHA256 over `{webhook-id}.{webhook-timestamp}.{body}`, keyed with the bytes of the
//! secret (the base64 after `whsec_`). Several secrets give several space-separated signatures.

use base64::Engine;
use base64::alphabet::STANDARD;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The prefix of a Standard Webhooks secret.
const SECRET_PREFIX: &str = "whsec_";

/// Base64 that accepts secrets with or without their `=` padding, as the reference libraries do.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The key bytes of a `whsec_<base64>` secret.
pub(crate) fn decode_secret(secret: &str) -> Result<Vec<u8>, String> {
    let Some(encoded) = secret.strip_prefix(SECRET_PREFIX) else {
        return Err("not a Standard Webhooks secret: it must start with `whsec_`".into());
    };
    let key = LENIENT
        .decode(encoded.trim())
        .map_err(|e| format!("the part after `whsec_` is not base64 ({e})"))?;
    if key.is_empty() {
        return Err("the secret is empty".into());
    }
    Ok(key)
}

/// Signs with every secret of one endpoint.
#[derive(Clone)]
pub(crate) struct Signer {
    keys: Vec<Vec<u8>>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        write!(f, "Signer({} keys)", self.keys.len())
    }
}

impl Signer {
    pub(crate) fn new(secrets: &[String]) -> Result<Signer, String> {
        let keys = secrets
            .iter()
            .map(|s| decode_secret(s))
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err("no secret".into());
        }
        Ok(Signer { keys })
    }

    /// The `webhook-signature` header value: one `v1,<base64>` per secret, space-separated.
    pub(crate) fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut header = String::new();
        for key in &self.keys {
            if !header.is_empty() {
                header.push(' ');
            }
            header.push_str("v1,");
            header.push_str(&general_purpose::STANDARD.encode(hmac(key, id, timestamp, body)));
        }
        header
    }
}

fn hmac(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail for Hmac<Sha256>.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return Vec::new();
    };
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}
