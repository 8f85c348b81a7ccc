//! The SSRF guard: a webhook target must not resolve to an address inside the network Vigil runs
//! in (loopback, private, link-local, CGNAT...) unless the endpoint explicitly allows it. The
//! address checked is the one connected to: the HTTP client is pinned to it, so a second DNS
//! answer (DNS rebinding) cannot swap it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

use reqwest::Url;
use url::Host;

use crate::SinkError;

/// A checked target: the host as written in the URL and the address to connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// The domain, or `None` when the URL names an IP address (nothing to pin then).
    pub(crate) domain: Option<String>,
    pub(crate) addr: SocketAddr,
}

/// Parses a webhook URL: `http` or `https`, with a host.
pub(crate) fn parse_url(url: &str) -> Result<Url, String> {
    let parsed = Url::parse(url).map_err(|e| format!("`{url}` is not a URL ({e})"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("`{url}`: only http and https are supported"));
    }
    if parsed.host().is_none() {
        return Err(format!("`{url}` has no host"));
    }
    Ok(parsed)
}

/// Resolves `url` and checks every address it resolves to. Public so a caller can check a target
/// up front (at startup, say); delivery checks again before each connection.
pub fn check_target(url: &str, allow_private_targets: bool) -> Result<SocketAddr, SinkError> {
    let url = parse_url(url).map_err(SinkError::WebhookTarget)?;
    resolve_checked(&url, allow_private_targets)
        .map(|t| t.addr)
        .map_err(SinkError::WebhookTarget)
}

/// Resolves the URL's host (DNS for a domain), refuses it if any address is internal and private
/// targets are not allowed, and returns the first address to pin the connection to.
pub(crate) fn resolve_checked(url: &Url, allow_private: bool) -> Result<Target, String> {
    let port = url
        .port_or_known_default()
        .ok_or_else(|| format!("{url}: no port"))?;
    let (domain, addrs): (Option<String>, Vec<SocketAddr>) = match url.host() {
        Some(Host::Ipv4(ip)) => (None, vec![SocketAddr::new(IpAddr::V4(ip), port)]),
        Some(Host::Ipv6(ip)) => (None, vec![SocketAddr::new(IpAddr::V6(ip), port)]),
        Some(Host::Domain(d)) => {
            let addrs = (d, port)
                .to_socket_addrs()
                .map_err(|e| format!("cannot resolve {d}: {e}"))?
                .collect();
            (Some(d.to_string()), addrs)
        }
        None => return Err(format!("{url} has no host")),
    };
    let Some(first) = addrs.first().copied() else {
        return Err(format!("{url}: the host resolves to no address"));
    };
    if !allow_private {
        for addr in &addrs {
            if let Some(why) = forbidden(addr.ip()) {
                let host = url.host_str().unwrap_or_default();
                return Err(format!(
                    "refusing {host}: it resolves to {} ({why}); set allow_private_targets to allow it",
                    addr.ip()
                ));
            }
        }
    }
    Ok(Target {
        domain,
        addr: first,
    })
}

/// Why an address is internal, or `None` for a public one.
pub(crate) fn forbidden(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) forms carry an IPv4
            // address the connection ends up at: judge that one.
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_v4(v4).map(|_| "IPv4-mapped internal address");
            }
            let s = v6.segments();
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                let v4 =
                    Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
                return forbidden_v4(v4).map(|_| "NAT64 form of an internal address");
            }
            forbidden_v6(v6)
        }
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private, RFC 1918")
    } else if ip.is_link_local() {
        Some("link-local")
    } else if ip.is_unspecified() || a == 0 {
        Some("unspecified, 0.0.0.0/8")
    } else if ip.is_broadcast() {
        Some("broadcast")
    } else if a == 100 && (64..128).contains(&b) {
        Some("carrier-grade NAT, 100.64.0.0/10")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if a >= 240 {
        Some("reserved, 240.0.0.0/4")
    } else {
        None
    }
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_unspecified() {
        Some("unspecified")
    } else if first & 0xfe00 == 0xfc00 {
        Some("unique local, fc00::/7")
    } else if first & 0xffc0 == 0xfe80 {
        Some("link-local, fe80::/10")
    } else if first & 0xffc0 == 0xfec0 {
        Some("site-local, fec0::/10")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if ip.segments()[..6] == [0, 0, 0, 0, 0, 0] {
        // IPv4-compatible (::a.b.c.d, deprecated): refuse outright.
        Some("IPv4-compatible address")
    } else {
        None
    }
}
