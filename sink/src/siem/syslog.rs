//! The syslog transport: octet-counted RFC 5424 messages over TCP, optionally inside TLS (rustls),
//! reconnecting after any failure. Before each batch an idle connection is checked for a peer that
//! has closed it (a non-blocking peek reads end-of-file), so a receiver restart is noticed before
//! records are written into a dead socket rather than after.

use std::io::{ErrorKind, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

use super::config::SyslogConfig;
use super::worker::{Failure, Transport};
use crate::SinkError;

enum Conn {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Conn::Plain(_) => "Conn::Plain",
            Conn::Tls(_) => "Conn::Tls",
        })
    }
}

impl Conn {
    fn tcp(&self) -> &TcpStream {
        match self {
            Conn::Plain(s) => s,
            Conn::Tls(s) => &s.sock,
        }
    }

    fn write_all_flush(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Conn::Plain(s) => {
                s.write_all(bytes)?;
                s.flush()
            }
            Conn::Tls(s) => {
                s.write_all(bytes)?;
                s.flush()
            }
        }
    }

    /// Whether the receiver has closed (or reset) the connection. A syslog receiver never sends
    /// anything, so readable bytes mean EOF, a reset, or (TLS) a close_notify or alert.
    fn peer_gone(&self) -> bool {
        let tcp = self.tcp();
        if tcp.set_nonblocking(true).is_err() {
            return true;
        }
        let mut byte = [0u8; 1];
        let gone = match tcp.peek(&mut byte) {
            Ok(0) => true,
            Ok(_) => matches!(self, Conn::Tls(_)),
            Err(e) => e.kind() != ErrorKind::WouldBlock,
        };
        tcp.set_nonblocking(false).is_err() || gone
    }
}

/// Writes framed messages to the syslog receiver.
#[derive(Debug)]
pub(crate) struct SyslogTransport {
    address: String,
    timeout: Duration,
    tls: Option<(Arc<ClientConfig>, ServerName<'static>)>,
    conn: Option<Conn>,
}

impl SyslogTransport {
    /// Prepares the TLS configuration (reading the CA file) now, so a bad one fails at start.
    pub(crate) fn new(config: &SyslogConfig) -> Result<SyslogTransport, SinkError> {
        let tls = if config.tls {
            let name = config
                .server_name
                .clone()
                .unwrap_or_else(|| config.host().to_string());
            let server_name = ServerName::try_from(name.clone()).map_err(|e| {
                SinkError::SiemConfig(format!("siem.syslog: bad TLS server name `{name}`: {e}"))
            })?;
            Some((Arc::new(tls_config(config)?), server_name))
        } else {
            None
        };
        Ok(SyslogTransport {
            address: config.address.clone(),
            timeout: Duration::from_secs(config.timeout_seconds),
            tls,
            conn: None,
        })
    }

    fn connect(&self) -> Result<Conn, String> {
        let addrs = self
            .address
            .to_socket_addrs()
            .map_err(|e| format!("resolve {}: {e}", self.address))?;
        let mut last = format!("{} resolves to no address", self.address);
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, self.timeout) {
                Ok(tcp) => {
                    tcp.set_write_timeout(Some(self.timeout))
                        .and_then(|()| tcp.set_read_timeout(Some(self.timeout)))
                        .and_then(|()| tcp.set_nodelay(true))
                        .map_err(|e| format!("{addr}: {e}"))?;
                    return match &self.tls {
                        None => Ok(Conn::Plain(tcp)),
                        Some((config, name)) => handshake(config.clone(), name.clone(), tcp)
                            .map_err(|e| format!("TLS with {addr}: {e}")),
                    };
                }
                Err(e) => last = format!("connect {addr}: {e}"),
            }
        }
        Err(last)
    }
}

fn handshake(
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
    mut tcp: TcpStream,
) -> std::io::Result<Conn> {
    let mut conn = ClientConnection::new(config, name).map_err(std::io::Error::other)?;
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp)?;
    }
    Ok(Conn::Tls(Box::new(StreamOwned::new(conn, tcp))))
}

fn tls_config(config: &SyslogConfig) -> Result<ClientConfig, SinkError> {
    let mut roots = RootCertStore::empty();
    match &config.ca_file {
        Some(path) => {
            let bad = |e: String| {
                SinkError::SiemConfig(format!("siem.syslog.ca_file {}: {e}", path.display()))
            };
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| bad(e.to_string()))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| bad(e.to_string()))?;
            if certs.is_empty() {
                return Err(bad("no certificate in it".into()));
            }
            for cert in certs {
                roots.add(cert).map_err(|e| bad(e.to_string()))?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SinkError::SiemConfig(format!("siem.syslog TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

impl Transport for SyslogTransport {
    fn deliver(&mut self, batch: &[Vec<u8>]) -> Result<(), Failure> {
        if self.conn.as_ref().is_some_and(Conn::peer_gone) {
            tracing::info!(address = %self.address, "syslog receiver closed the connection; reconnecting");
            self.conn = None;
        }
        if self.conn.is_none() {
            self.conn = Some(self.connect().map_err(Failure::Retry)?);
        }
        let bytes = batch.concat();
        let result = match self.conn.as_mut() {
            Some(conn) => conn.write_all_flush(&bytes),
            None => Err(std::io::Error::other("no connection")),
        };
        result.map_err(|e| {
            self.conn = None;
            Failure::Retry(format!("write to {}: {e}", self.address))
        })
    }
}
