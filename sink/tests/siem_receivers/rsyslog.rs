//! A real rsyslogd on loopback, throwaway certificates, and an independent reader of what it logged.

use std::collections::BTreeMap;
use std::error::Error;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::wait_for;

/// A real rsyslogd in the foreground, killed when dropped.
pub(crate) struct Rsyslog {
    child: Child,
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn rsyslogd() -> &'static str {
    if Path::new("/usr/sbin/rsyslogd").exists() {
        "/usr/sbin/rsyslogd"
    } else {
        "rsyslogd"
    }
}

/// Writes a RainerScript config (imtcp on `port`, gtls when `tls`) that logs every message's parsed
/// RFC 5424 fields, tab-separated, to `out`; starts rsyslogd on it and waits until the port accepts.
pub(crate) fn start_rsyslog(
    dir: &Path,
    run: &str,
    port: u16,
    tls: bool,
    out: &Path,
) -> Result<Rsyslog, Box<dyn Error>> {
    let work = dir.join(format!("work-{run}"));
    std::fs::create_dir_all(&work)?;
    let (global_tls, module_tls) = if tls {
        (
            format!(
                r#" defaultNetstreamDriver="gtls" defaultNetstreamDriverCAFile="{0}/ca.pem" defaultNetstreamDriverCertFile="{0}/server.pem" defaultNetstreamDriverKeyFile="{0}/server.key""#,
                dir.display()
            ),
            r#" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon""#
                .to_string(),
        )
    } else {
        (String::new(), String::new())
    };
    let conf = format!(
        r#"global(workDirectory="{work}"{global_tls})
module(load="imtcp"{module_tls})
template(name="fields" type="string" string="%pri%\t%protocol-version%\t%hostname%\t%app-name%\t%msgid%\t%structured-data%\t%msg%\n")
input(type="imtcp" address="127.0.0.1" port="{port}")
action(type="omfile" file="{out}" template="fields")
"#,
        work = work.display(),
        out = out.display(),
    );
    let conf_path = dir.join(format!("rsyslog-{run}.conf"));
    std::fs::write(&conf_path, conf)?;
    let child = Command::new(rsyslogd())
        .arg("-n")
        .arg("-f")
        .arg(&conf_path)
        .arg("-i")
        .arg(dir.join(format!("rsyslog-{run}.pid")))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start rsyslogd (bash deploy/scripts/deps/siem.sh): {e}"))?;
    let mut server = Rsyslog { child };
    wait_for("rsyslogd to listen", Duration::from_secs(15), || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    })
    .map_err(|e| match server.child.try_wait() {
        Ok(Some(status)) => format!("{e}: rsyslogd exited with {status}"),
        _ => e,
    })?;
    Ok(server)
}

fn openssl(dir: &Path, args: &[&str]) -> Result<(), Box<dyn Error>> {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()?;
    if !out.status.success() {
        return Err(format!("openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(())
}

/// A throwaway CA (`<name>.pem`) and, when `server`, a server certificate for localhost/127.0.0.1.
pub(crate) fn make_ca(dir: &Path, name: &str) -> Result<PathBuf, Box<dyn Error>> {
    let key = format!("{name}.key");
    let pem = format!("{name}.pem");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &pem,
            "-days",
            "2",
            "-subj",
            &format!("/CN=Vigil test {name}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    )?;
    Ok(dir.join(pem))
}

pub(crate) fn make_server_cert(dir: &Path) -> Result<(), Box<dyn Error>> {
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )?;
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
    )?;
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    )?;
    Ok(())
}

/// One received message: the RFC 5424 fields rsyslog parsed, and the CEF extensions of its MSG.
#[derive(Debug)]
pub(crate) struct Received {
    pub(crate) pri: String,
    pub(crate) version: String,
    pub(crate) hostname: String,
    pub(crate) app: String,
    pub(crate) msgid: String,
    pub(crate) sd: String,
    pub(crate) header: Vec<String>,
    pub(crate) ext: BTreeMap<String, String>,
}

pub(crate) fn received(out: &Path) -> Vec<Received> {
    let text = std::fs::read_to_string(out).unwrap_or_default();
    text.lines()
        .filter(|l| !l.is_empty())
        .map(parse_line)
        .collect()
}

fn parse_line(line: &str) -> Received {
    let f: Vec<&str> = line.splitn(7, '\t').collect();
    let get = |i: usize| f.get(i).map(|s| s.to_string()).unwrap_or_default();
    let msg = get(6);
    let (header, ext) = parse_cef(msg.trim_start());
    Received {
        pri: get(0),
        version: get(1),
        hostname: get(2),
        app: get(3),
        msgid: get(4),
        sd: get(5),
        header,
        ext,
    }
}

/// An independent CEF reader: header fields split on unescaped `|`, extensions on ` key=`.
fn parse_cef(msg: &str) -> (Vec<String>, BTreeMap<String, String>) {
    let mut header = Vec::new();
    let mut current = String::new();
    let mut chars = msg.chars();
    while header.len() < 7 {
        match chars.next() {
            None => break,
            Some('\\') => current.extend(chars.next()),
            Some('|') => header.push(std::mem::take(&mut current)),
            Some(c) => current.push(c),
        }
    }
    let rest: String = chars.collect();
    // Split at spaces followed by `key=` where key is alphanumeric.
    let mut ext = BTreeMap::new();
    let mut pairs: Vec<(String, String)> = Vec::new();
    for token in rest.split(' ') {
        let key_end = token.find('=');
        let is_key = key_end.is_some_and(|i| {
            i > 0
                && token[..i].chars().all(|c| c.is_ascii_alphanumeric())
                && !token[..i].ends_with('\\')
        });
        match (is_key, key_end, pairs.last_mut()) {
            (true, Some(i), _) => pairs.push((token[..i].to_string(), token[i + 1..].to_string())),
            (_, _, Some((_, v))) => {
                v.push(' ');
                v.push_str(token);
            }
            _ => {}
        }
    }
    for (k, v) in pairs {
        let mut out = String::new();
        let mut cs = v.chars();
        while let Some(c) = cs.next() {
            if c == '\\' {
                match cs.next() {
                    Some('n') => out.push('\n'),
                    Some('r') => out.push('\r'),
                    Some(o) => out.push(o),
                    None => {}
                }
            } else {
                out.push(c);
            }
        }
        ext.insert(k, out);
    }
    (header, ext)
}
