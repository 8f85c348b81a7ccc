//! Deterministic randomness: every stream is seeded from the run's seed and the coordinates of what it
//! generates (an identity and an hour, a scenario), so output does not depend on generation order.

use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A random stream for one piece of the simulation.
pub(crate) type Stream = ChaCha8Rng;

/// SplitMix64: spreads neighbouring inputs over the whole 64-bit space.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The stream for `(seed, purpose, a, b)`; `purpose` keeps different uses of the same coordinates apart.
pub(crate) fn stream(seed: u64, purpose: u64, a: u64, b: u64) -> Stream {
    let key = mix(mix(mix(seed ^ purpose.rotate_left(17)) ^ a) ^ b.rotate_left(32));
    ChaCha8Rng::seed_from_u64(key)
}

pub(crate) mod purpose {
    pub(crate) const ESTATE: u64 = 1;
    pub(crate) const IDENTITY: u64 = 2;
    pub(crate) const HOUR: u64 = 3;
    pub(crate) const ATTACK: u64 = 4;
}

/// Poisson-distributed count with mean `lambda` (Knuth for small means, normal approximation above).
pub(crate) fn poisson(rng: &mut Stream, lambda: f64) -> u32 {
    if lambda <= 0.0 {
        return 0;
    }
    if lambda < 30.0 {
        let limit = (-lambda).exp();
        let mut product: f64 = rng.random();
        let mut count = 0;
        while product > limit {
            product *= rng.random::<f64>();
            count += 1;
        }
        return count;
    }
    // Box-Muller.
    let u1: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let u2: f64 = rng.random();
    let normal = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    (lambda + normal * lambda.sqrt()).round().max(0.0) as u32
}

/// Index drawn with probability proportional to `weights` (at least one weight must be positive).
pub(crate) fn weighted(rng: &mut Stream, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut target = rng.random::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        if target < *w {
            return i;
        }
        target -= w;
    }
    weights.len().saturating_sub(1)
}

/// A random element of a non-empty slice.
pub(crate) fn pick<'a, T>(rng: &mut Stream, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// A version-4 shaped UUID, lower case.
pub(crate) fn uuid(rng: &mut Stream) -> String {
    let mut b = [0u8; 16];
    rng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// `len` random characters from `alphabet`.
pub(crate) fn token(rng: &mut Stream, alphabet: &[u8], len: usize) -> String {
    (0..len)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

pub(crate) const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
pub(crate) const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
pub(crate) const HEX: &[u8] = b"0123456789abcdef";

pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}
