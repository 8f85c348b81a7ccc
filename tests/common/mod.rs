//! Shared helpers of the scenario tests: run the real `vigil` binary, read what it wrote.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use vigil_schemas::DeadLetter;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn vigil() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vigil"));
    cmd.env_remove("VIGIL_CONFIG").env("NO_COLOR", "1");
    cmd
}

/// Runs `vigil run` over `inputs` into `lake`, asserting it succeeded; returns its output.
pub fn run_pipeline(inputs: &[&Path], lake: &Path, extra_env: &[(&str, &str)]) -> Output {
    let mut cmd = vigil();
    cmd.arg("run")
        .arg("--lake")
        .arg(lake)
        .arg("--no-progress")
        .arg("--input")
        .args(inputs);
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot start vigil: {e}"));
    assert!(
        out.status.success(),
        "vigil run failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// All dead letters written under `lake/deadletter`.
pub fn dead_letters(lake: &Path) -> Vec<DeadLetter> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(lake.join("deadletter")) else {
        return out;
    };
    for entry in entries.flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            out.push(
                serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("dead letter line is not JSON: {e}: {line}")),
            );
        }
    }
    out
}

/// Reads the lake's `events` table with pyarrow (an independent Parquet reader) and returns its
/// summary as JSON: row count, column types, rows per provider, distinct event ids.
pub fn pyarrow_summary(lake: &Path) -> serde_json::Value {
    let script = r#"
import json, sys
import pyarrow.dataset as ds
table = ds.dataset(sys.argv[1] + "/table=events", format="parquet", partitioning="hive").to_table()
providers = {}
for p in table.column("provider").to_pylist():
    providers[p] = providers.get(p, 0) + 1
print(json.dumps({
    "rows": table.num_rows,
    "types": {f.name: str(f.type) for f in table.schema},
    "providers": providers,
    "distinct_ids": len(set(table.column("event_id").to_pylist())),
    "identity_keys": sorted(set(table.column("identity_key").to_pylist())),
}))
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(lake)
        .output()
        .unwrap_or_else(|e| panic!("python3 is needed for the independent Parquet reader: {e}"));
    assert!(
        out.status.success(),
        "pyarrow could not read the lake (tests/run.sh installs pyarrow): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("pyarrow summary is not JSON: {e}"))
}

/// Runs `vigil` with `args`, feeding `stdin` (empty when `None`); returns its output whatever the exit
/// status.
pub fn run_vigil<S: AsRef<std::ffi::OsStr>>(args: &[S], stdin: Option<&[u8]>) -> Output {
    use std::io::Write;
    let mut child = vigil()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start vigil: {e}"));
    if let Some(mut pipe) = child.stdin.take() {
        // vigil may exit before reading its input (a bad argument): a closed pipe is not an error.
        if let Err(e) = pipe.write_all(stdin.unwrap_or_default())
            && e.kind() != std::io::ErrorKind::BrokenPipe
        {
            panic!("cannot write vigil's stdin: {e}");
        }
    }
    child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("vigil did not finish: {e}"))
}

/// A Tansu broker (Kafka-compatible) on a free loopback port, storing in a temporary folder; killed
/// when dropped. Tansu must be installed (`bash deploy/scripts/tansu.sh install`, which `tests/run.sh`
/// runs): without it the test fails, it is never skipped.
pub struct Broker {
    child: std::process::Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Broker {
    pub fn start() -> Broker {
        let mut last_log = String::new();
        // A port picked free can be taken before Tansu binds it; try a few.
        for _ in 0..3 {
            let port = free_port();
            let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
            let child = spawn_tansu(dir.path(), port);
            let mut broker = Broker { child, port, dir };
            match broker
                .wait_ready(std::time::Duration::from_secs(30))
                .and_then(|()| broker.index_headers())
            {
                Ok(()) => return broker,
                Err(e) => {
                    last_log = format!("{e}; log:\n{}", broker.log());
                    // Dropping kills it.
                }
            }
        }
        panic!("tansu did not start: {last_log}");
    }

    /// `127.0.0.1:PORT`.
    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("tansu.log")).unwrap_or_default()
    }

    /// Stops the broker (SIGTERM, then SIGKILL after 10 s) and starts it again on the same port and
    /// the same SQLite file, as an operator's restart or a crash-and-respawn would. Topics and
    /// committed offsets survive (Tansu keeps them in the file); clients must reconnect by themselves.
    /// `down_for` is how long the broker stays away.
    pub fn restart(&mut self, down_for: std::time::Duration) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let stopping = std::time::Instant::now();
        while matches!(self.child.try_wait(), Ok(None))
            && stopping.elapsed() < std::time::Duration::from_secs(10)
        {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::thread::sleep(down_for);
        self.child = spawn_tansu(self.dir.path(), self.port);
        if let Err(e) = self.wait_ready(std::time::Duration::from_secs(30)) {
            panic!("tansu did not come back: {e}; log:\n{}", self.log());
        }
    }

    /// Tansu 0.6's SQLite schema has no index on its `header` table, and its fetch looks up each
    /// record's headers: every fetched record scans every header ever stored, so consumption slows
    /// quadratically (under a 98k-message backlog: ~100 records/s, heartbeats unanswered, endless
    /// rebalances). This adds the missing index, as `deploy/scripts/tansu.sh start` does.
    fn index_headers(&self) -> Result<(), String> {
        let out = Command::new("python3")
            .arg("-c")
            .arg(
                "import sqlite3, sys\n\
                 db = sqlite3.connect(sys.argv[1], timeout=30)\n\
                 db.execute('create index if not exists header_topition_offset \
                 on header (topition, offset_id)')\n\
                 db.commit()\n",
            )
            .arg(self.dir.path().join("tansu.db"))
            .output()
            .map_err(|e| format!("python3: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "cannot index Tansu's header table: {}",
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// Waits until the broker answers a metadata request naming itself.
    fn wait_ready(&mut self, within: std::time::Duration) -> Result<(), String> {
        use rdkafka::ClientConfig;
        use rdkafka::consumer::{BaseConsumer, Consumer};
        let started = std::time::Instant::now();
        let mut problem = String::from("no answer");
        while started.elapsed() < within {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("tansu exited with {status}"));
            }
            let addr = std::net::SocketAddr::from(([127, 0, 0, 1], self.port));
            if std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(200))
                .is_ok()
            {
                let consumer: Result<BaseConsumer, _> = ClientConfig::new()
                    .set("bootstrap.servers", self.bootstrap())
                    .set("log_level", "3")
                    .create();
                match consumer.map_err(|e| e.to_string()).and_then(|c| {
                    c.fetch_metadata(None, std::time::Duration::from_secs(5))
                        .map_err(|e| e.to_string())
                }) {
                    Ok(md) if !md.brokers().is_empty() => return Ok(()),
                    Ok(_) => problem = "metadata named no broker".to_string(),
                    Err(e) => problem = e,
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        Err(format!("not ready within {within:?}: {problem}"))
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `tansu broker` on 127.0.0.1:`port`, working in `dir` and appending to `dir/tansu.log`.
fn spawn_tansu(dir: &Path, port: u16) -> std::process::Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("tansu.log"))
        .unwrap_or_else(|e| panic!("tansu log: {e}"));
    let log2 = log.try_clone().unwrap_or_else(|e| panic!("tansu log: {e}"));
    let listener = format!("tcp://127.0.0.1:{port}");
    let bin = tansu_binary();
    Command::new(&bin)
        .arg("broker")
        .arg("--listener-url")
        .arg(&listener)
        .arg("--advertised-listener-url")
        .arg(&listener)
        .arg("--storage-engine")
        // Tansu resolves sqlite:// paths against its working directory.
        .arg("sqlite://tansu.db")
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()))
}

/// The installed `tansu`: on PATH, else in cargo's bin folder. Panics with how to install it.
pub fn tansu_binary() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|c| c.join("bin"));
    on_path
        .into_iter()
        .chain(cargo_bin)
        .map(|dir| dir.join("tansu"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "tansu (the Kafka-compatible broker of the Kafka tests) is not installed: install it \
                 with `bash deploy/scripts/tansu.sh install`"
            )
        })
}

/// A loopback port nothing listens on (at the time of asking).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
}

/// One request the [`HttpReceiver`] got, and the status it answered.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    /// Header names are lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub status: u16,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug)]
struct ReceiverState {
    requests: std::sync::Mutex<Vec<Received>>,
    /// Requests still to refuse, and the status to refuse them with.
    failures_left: std::sync::atomic::AtomicUsize,
    failure_status: u16,
}

/// A real HTTP server on 127.0.0.1 (axum on its own tokio runtime) that records every request and
/// answers 200, or `failure_status` to the first `failures` requests. Stopped when dropped.
pub struct HttpReceiver {
    addr: std::net::SocketAddr,
    state: std::sync::Arc<ReceiverState>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl HttpReceiver {
    pub fn start() -> HttpReceiver {
        HttpReceiver::failing_first(0, 200)
    }

    pub fn failing_first(failures: usize, failure_status: u16) -> HttpReceiver {
        use axum::body::Bytes;
        use axum::extract::{DefaultBodyLimit, State};
        use axum::http::{HeaderMap, Method, StatusCode, Uri};
        use std::sync::Arc;
        use std::sync::atomic::Ordering;

        async fn handle(
            State(state): State<Arc<ReceiverState>>,
            method: Method,
            uri: Uri,
            headers: HeaderMap,
            body: Bytes,
        ) -> StatusCode {
            let fail = state
                .failures_left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            let status = if fail {
                StatusCode::from_u16(state.failure_status).unwrap_or(StatusCode::IM_A_TEAPOT)
            } else {
                StatusCode::OK
            };
            let received = Received {
                method: method.to_string(),
                path: uri.path().to_string(),
                headers: headers
                    .iter()
                    .map(|(n, v)| {
                        (
                            n.as_str().to_ascii_lowercase(),
                            String::from_utf8_lossy(v.as_bytes()).into_owned(),
                        )
                    })
                    .collect(),
                body: body.to_vec(),
                status: status.as_u16(),
            };
            state
                .requests
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(received);
            status
        }

        let state = Arc::new(ReceiverState {
            requests: std::sync::Mutex::new(Vec::new()),
            failures_left: std::sync::atomic::AtomicUsize::new(failures),
            failure_status,
        });
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("tokio runtime: {e}"));
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|e| panic!("cannot listen on loopback: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("listener address: {e}"));
        listener
            .set_nonblocking(true)
            .unwrap_or_else(|e| panic!("nonblocking listener: {e}"));
        let app = axum::Router::new()
            .fallback(handle)
            .layer(DefaultBodyLimit::disable())
            .with_state(Arc::clone(&state));
        let listener = {
            let _guard = runtime.enter();
            tokio::net::TcpListener::from_std(listener)
                .unwrap_or_else(|e| panic!("tokio listener: {e}"))
        };
        runtime.spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("test HTTP receiver stopped: {e}");
            }
        });
        HttpReceiver {
            addr,
            state,
            runtime: Some(runtime),
        }
    }

    /// `http://127.0.0.1:PORT` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Received> {
        self.state
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Drop for HttpReceiver {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// A Standard Webhooks receiver (`tests/webhook_receiver.py`, verifying with the `standardwebhooks`
/// PyPI library) on a free loopback port, writing what it verified under `out`; killed when dropped.
pub struct WebhookReceiver {
    child: std::process::Child,
    pub port: u16,
    out: PathBuf,
}

/// The secret the receiver knows and Vigil signs with in these tests.
pub const WEBHOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

impl WebhookReceiver {
    pub fn start(out: &Path) -> WebhookReceiver {
        use std::io::BufRead;
        std::fs::create_dir_all(out).unwrap_or_else(|e| panic!("{e}"));
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("no free port: {e}"));
        let mut child = Command::new("python3")
            .arg(repo_root().join("tests/webhook_receiver.py"))
            .args(["--port", &port.to_string(), "--secret", WEBHOOK_SECRET])
            .arg("--out")
            .arg(out)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the webhook receiver: {e}"));
        let mut ready = String::new();
        if let Some(stdout) = child.stdout.take() {
            let _ = std::io::BufReader::new(stdout).read_line(&mut ready);
        }
        assert!(
            ready.starts_with("READY"),
            "webhook receiver did not start (deploy/scripts/deps/webhooks.sh installs standardwebhooks): {ready:?}"
        );
        WebhookReceiver {
            child,
            port,
            out: out.to_path_buf(),
        }
    }

    /// The `webhook-id`s verified so far, in arrival order, each once.
    pub fn verified_ids(&self) -> Vec<String> {
        std::fs::read_to_string(self.out.join("verified.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v["id"].as_str().map(str::to_string))
            .collect()
    }

    /// Requests whose signature did not verify.
    pub fn bad_signatures(&self) -> String {
        std::fs::read_to_string(self.out.join("bad.txt")).unwrap_or_default()
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
