//! Splunk HEC: a loopback HTTP server checks path, token and JSON shape, and answers 503 once.

use std::error::Error;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use vigil_sink::siem::{HecConfig, SiemConfig, SiemForwarder};

use super::{TestResult, alerts, incident};

type RequestLog = Arc<Mutex<Vec<HecRequest>>>;

#[derive(Debug, Clone)]
struct HecRequest {
    path: String,
    authorization: String,
    status: u16,
    body: Vec<u8>,
}

/// A minimal HTTP/1.1 server playing Splunk HEC: records every request, answers 503 to the first.
fn hec_server() -> Result<(u16, RequestLog), Box<dyn Error>> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = log.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = serve(stream, &seen);
        }
    });
    Ok((port, log))
}

fn serve(stream: TcpStream, seen: &Mutex<Vec<HecRequest>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let path = line.split(' ').nth(1).unwrap_or_default().to_string();
        let (mut length, mut authorization) = (0usize, String::new());
        loop {
            let mut h = String::new();
            reader.read_line(&mut h)?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                match k.to_ascii_lowercase().as_str() {
                    "content-length" => length = v.trim().parse().unwrap_or(0),
                    "authorization" => authorization = v.trim().to_string(),
                    _ => {}
                }
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        let mut log = seen.lock().unwrap_or_else(|p| p.into_inner());
        let status = if log.is_empty() {
            503
        } else if authorization != "Splunk tok-1" {
            403
        } else {
            200
        };
        log.push(HecRequest {
            path,
            authorization,
            status,
            body,
        });
        drop(log);
        let text = if status == 200 {
            r#"{"text":"Success","code":0}"#
        } else {
            r#"{"text":"Server is busy","code":9}"#
        };
        write!(
            writer,
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{text}",
            text.len()
        )?;
        writer.flush()?;
    }
}

#[test]
fn hec_posts_ocsf_events_and_retries_a_503() -> TestResult {
    let (port, log) = hec_server()?;
    let registry = prometheus::Registry::new_custom(Some("vigil".into()), None)?;
    let hec = HecConfig {
        index: Some("security".into()),
        host: Some("vigil-host".into()),
        batch_size: 2,
        allow_insecure_http: true,
        timeout_seconds: 5,
        ..HecConfig::new(format!("http://127.0.0.1:{port}/"), "tok-1")
    };
    let config = SiemConfig {
        hec: Some(hec),
        initial_backoff_ms: 50,
        max_backoff_ms: 200,
        ..SiemConfig::default()
    };
    let forwarder = SiemForwarder::start(config, &registry)?;
    let sent = alerts(3, "h");
    forwarder.send_alerts(&sent);
    forwarder.send_incidents(&[incident()]);
    forwarder.shutdown();

    let requests = log.lock().unwrap_or_else(|p| p.into_inner()).clone();
    assert_eq!(
        requests.first().map(|r| r.status),
        Some(503),
        "{requests:?}"
    );
    let mut events: Vec<Value> = Vec::new();
    for r in &requests {
        assert_eq!(r.path, "/services/collector/event");
        assert_eq!(r.authorization, "Splunk tok-1");
        assert_eq!(r.status == 200, r.status != 503, "{r:?}");
        let objects: Vec<Value> = serde_json::Deserializer::from_slice(&r.body)
            .into_iter::<Value>()
            .collect::<Result<_, _>>()?;
        assert!(objects.len() <= 2 && !objects.is_empty());
        if r.status == 200 {
            events.extend(objects);
        }
    }
    assert_eq!(events.len(), 4, "{events:?}");
    for (a, e) in sent.iter().zip(&events) {
        assert_eq!(e["sourcetype"], "vigil:alert");
        assert_eq!(e["source"], "vigil");
        assert_eq!(e["host"], "vigil-host");
        assert_eq!(e["index"], "security");
        assert_eq!(
            e["time"].as_f64(),
            Some(a.time.timestamp_millis() as f64 / 1000.0)
        );
        assert_eq!(e["event"]["class_uid"], 2004);
        assert_eq!(e["event"]["finding_info"]["uid"], a.alert_id.as_str());
    }
    assert_eq!(events[3]["sourcetype"], "vigil:incident");
    assert_eq!(events[3]["event"]["class_uid"], 2004);
    assert_eq!(events[3]["event"]["finding_info"]["uid"], "vi-1");
    let metrics = prometheus::TextEncoder::new().encode_to_string(&registry.gather())?;
    assert!(
        metrics.contains("vigil_siem_sent_total{output=\"hec\"} 4"),
        "{metrics}"
    );
    assert!(
        metrics.contains("vigil_siem_retries_total{output=\"hec\"} 1"),
        "{metrics}"
    );
    Ok(())
}
