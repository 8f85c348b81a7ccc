//! What the engine takes from one event: fingerprints of the things a baseline remembers, computed once.
//!
//! Baselines keep 32-bit fingerprints rather than strings: a table slot is 12 bytes instead of a heap
//! string, which is what keeps an identity's state under 1 KiB. A collision merges two values of one
//! kind for one identity, which can only hide novelty for that pair, never invent it.

use std::net::IpAddr;

use vigil_schemas::{Event, OutcomeStatus};

/// The kinds of context a baseline keeps frequencies of, besides actions. The kind is mixed into the
/// fingerprint so one table can hold them all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum ContextKind {
    Service,
    Network,
    Address,
    Agent,
    Region,
    ResourceType,
}

impl ContextKind {
    pub(crate) const ALL: [ContextKind; 6] = [
        ContextKind::Service,
        ContextKind::Network,
        ContextKind::Address,
        ContextKind::Agent,
        ContextKind::Region,
        ContextKind::ResourceType,
    ];

    pub(crate) fn noun(self) -> &'static str {
        match self {
            ContextKind::Service => "service",
            ContextKind::Network => "source network",
            ContextKind::Address => "source address",
            ContextKind::Agent => "client",
            ContextKind::Region => "region",
            ContextKind::ResourceType => "resource type",
        }
    }
}

/// One event, reduced to what scoring needs.
#[derive(Debug, Clone)]
pub(crate) struct Observation {
    pub(crate) time: i64,
    pub(crate) action: u32,
    pub(crate) context: [Option<u32>; 6],
    pub(crate) failed: bool,
}

impl Observation {
    pub(crate) fn of(event: &Event) -> Observation {
        let mut context = [None; 6];
        context[0] = Some(fingerprint(
            ContextKind::Service,
            event.action.service.as_bytes(),
        ));
        if let Some(ip) = event.source.ip {
            let (net, addr) = network_of(ip);
            context[1] = Some(fingerprint(ContextKind::Network, &net));
            context[2] = Some(fingerprint(ContextKind::Address, &addr));
        } else if let Some(raw) = event.source.raw.as_deref() {
            // "AWS Internal", a service host name: one network and one address of its own.
            let fp = fingerprint(ContextKind::Network, raw.as_bytes());
            context[1] = Some(fp);
        }
        if let Some(agent) = event.user_agent.as_deref() {
            context[3] = Some(fingerprint(
                ContextKind::Agent,
                agent_family(agent).as_bytes(),
            ));
        }
        if let Some(region) = event.region.as_deref() {
            context[4] = Some(fingerprint(ContextKind::Region, region.as_bytes()));
        }
        if let Some(kind) = event.resources.first().and_then(|r| r.kind.as_deref()) {
            context[5] = Some(fingerprint(ContextKind::ResourceType, kind.as_bytes()));
        }
        Observation {
            time: event.event_time.timestamp(),
            action: fingerprint_action(&event.action.permission),
            context,
            failed: event.outcome.status == OutcomeStatus::Failure,
        }
    }
}

/// The fingerprint of a permission, case-insensitively (Azure writes operations in either case).
pub(crate) fn fingerprint_action(permission: &str) -> u32 {
    let mut h = Fnv::new(0x61);
    for b in permission.bytes() {
        h.byte(b.to_ascii_lowercase());
    }
    h.finish()
}

/// Case-insensitive: providers spell one service or region several ways within one log
/// (`Microsoft.KeyVault`, `MICROSOFT.KEYVAULT`), and each spelling must not look like a new value.
pub(crate) fn fingerprint(kind: ContextKind, bytes: &[u8]) -> u32 {
    let mut h = Fnv::new(kind as u8 + 1);
    for &b in bytes {
        h.byte(b.to_ascii_lowercase());
    }
    h.finish()
}

/// The /24 (IPv4) or /48 (IPv6) network and the address itself, as bytes to fingerprint.
fn network_of(ip: IpAddr) -> ([u8; 7], [u8; 16]) {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            let mut addr = [0u8; 16];
            addr[..4].copy_from_slice(&o);
            ([4, o[0], o[1], o[2], 0, 0, 0], addr)
        }
        IpAddr::V6(v6) => {
            let o = v6.octets();
            ([6, o[0], o[1], o[2], o[3], o[4], o[5]], o)
        }
    }
}

/// The family of a user agent: the product token before the first `/` or space, which is stable
/// across versions ("aws-cli/2.15.0 Python/3.11" → "aws-cli"; "Mozilla/5.0 (…)" → "Mozilla").
pub(crate) fn agent_family(agent: &str) -> &str {
    let agent = agent.trim_start_matches(['[', ' ']);
    let end = agent.find(['/', ' ', ',', ']']).unwrap_or(agent.len());
    &agent[..end]
}

/// FNV-1a, folded to 32 bits: stable across builds and platforms, which checkpoints need (std's hasher
/// makes no such promise), and fast on the short strings fingerprinted here.
struct Fnv(u64);

impl Fnv {
    fn new(seed: u8) -> Fnv {
        let mut h = Fnv(0xcbf2_9ce4_8422_2325);
        h.byte(seed);
        h
    }

    #[inline]
    fn byte(&mut self, b: u8) {
        self.0 ^= u64::from(b);
        self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
    }

    fn finish(self) -> u32 {
        ((self.0 >> 32) ^ self.0) as u32
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn agent_families_drop_versions() {
        assert_eq!(agent_family("aws-cli/2.15.0 Python/3.11"), "aws-cli");
        assert_eq!(agent_family("Mozilla/5.0 (Windows NT 10.0)"), "Mozilla");
        assert_eq!(agent_family("[Boto3/1.28.0 Python]"), "Boto3");
        assert_eq!(
            agent_family("console.amazonaws.com"),
            "console.amazonaws.com"
        );
        assert_eq!(agent_family(""), "");
    }

    #[test]
    fn action_fingerprints_ignore_case_and_kinds_do_not_collide_by_construction() {
        assert_eq!(
            fingerprint_action("Microsoft.Authorization/roleAssignments/write"),
            fingerprint_action("MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE")
        );
        assert_ne!(
            fingerprint_action("s3:GetObject"),
            fingerprint_action("s3:PutObject")
        );
        assert_ne!(
            fingerprint(ContextKind::Service, b"x"),
            fingerprint(ContextKind::Region, b"x")
        );
    }

    #[test]
    fn networks_are_slash_24_and_slash_48() {
        let a = network_of("203.0.113.7".parse().unwrap_or(IpAddr::from([0, 0, 0, 0])));
        let b = network_of(
            "203.0.113.200"
                .parse()
                .unwrap_or(IpAddr::from([0, 0, 0, 0])),
        );
        assert_eq!(a.0, b.0);
        assert_ne!(a.1, b.1);
        let c = network_of("2001:db8:1:2::1".parse().unwrap_or(IpAddr::from([0u16; 8])));
        let d = network_of(
            "2001:db8:1:ffff::1"
                .parse()
                .unwrap_or(IpAddr::from([0u16; 8])),
        );
        assert_eq!(c.0, d.0);
    }
}
