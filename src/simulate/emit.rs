//! Live emission of simulated records, for demos: NDJSON to stdout, batched HTTP POSTs, or a Kafka
//! topic, paced on the wall clock by [`Pacer`].
//!
//! Targets (`--emit`):
//! - `-`: stdout, one native record per line (NDJSON; Vigil's parsers read mixed-provider NDJSON).
//! - `http://…` / `https://…`: POST batches of NDJSON, one provider per batch
//!   (`Content-Type: application/x-ndjson`, `X-Vigil-Provider: aws|azure|gcp`).
//! - `kafka://host:port[,host:port]/topic`: produce to a topic; `{provider}` in the topic name becomes
//!   `aws`, `azure` or `gcp`. Key = identity key, value = native record, headers `content-type` and
//!   `vigil-provider`.

use std::collections::{HashMap, HashSet};
use std::io::{self, BufWriter, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::{ClientContext, DefaultClientContext};
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use vigil_ingest::simulate::SimRecord;
use vigil_schemas::Provider;

/// A destination for simulated records, fed in event-time order.
pub(crate) trait Emitter {
    /// Hands over one record; it may be buffered until [`Emitter::finish`].
    fn send(&mut self, record: &SimRecord) -> anyhow::Result<()>;
    /// Delivers everything still buffered; fails if any record could not be delivered.
    fn finish(&mut self) -> anyhow::Result<()>;
    /// True once the destination is gone for good (stdout's reader closed the pipe): further records
    /// are dropped, and the caller may stop generating them.
    #[cfg_attr(not(test), allow(dead_code))]
    fn is_closed(&self) -> bool {
        false
    }
}

/// How to emit.
#[derive(Debug, Clone)]
pub(crate) struct EmitOptions {
    /// Records per HTTP POST.
    pub batch: usize,
    /// Extra headers on every HTTP POST (e.g. `Authorization`).
    pub http_headers: Vec<(String, String)>,
}

impl Default for EmitOptions {
    fn default() -> Self {
        EmitOptions {
            batch: DEFAULT_BATCH,
            http_headers: Vec::new(),
        }
    }
}

/// Records per HTTP POST unless told otherwise.
pub(crate) const DEFAULT_BATCH: usize = 500;

/// A buffered record or batch is delivered once it has waited this long, so live demos look live.
const MAX_HOLD: Duration = Duration::from_secs(1);

/// Opens the emitter for `target`: `-` (stdout), `http://…`/`https://…` or
/// `kafka://host:port[,host:port]/topic` (the topic may contain `{provider}`).
pub(crate) fn open(target: &str, options: &EmitOptions) -> anyhow::Result<Box<dyn Emitter>> {
    if target == "-" {
        return Ok(Box::new(StdoutEmitter::new(io::stdout())));
    }
    if target.starts_with("http://") || target.starts_with("https://") {
        return Ok(Box::new(HttpEmitter::new(target, options)?));
    }
    if let Some(rest) = target.strip_prefix("kafka://") {
        let (brokers, topic) =
            parse_kafka_target(rest).with_context(|| format!("bad Kafka target {target:?}"))?;
        return Ok(Box::new(KafkaEmitter::new(&brokers, &topic)?));
    }
    bail!(
        "unknown emit target {target:?}: use `-` for stdout, an http:// or https:// URL, or \
         kafka://host:port[,host:port]/topic"
    )
}

/// Parses a clap `--rate` value: events per second, finite and positive.
#[allow(dead_code)]
pub(crate) fn parse_rate(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err(format!(
            "{s:?} is not a positive number of events per second"
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Pacing
// ---------------------------------------------------------------------------------------------

/// Time as the pacer sees it: a monotonic offset from an arbitrary origin, and a way to wait.
trait Clock {
    fn now(&self) -> Duration;
    fn sleep(&mut self, d: Duration);
}

#[derive(Debug)]
struct WallClock {
    origin: Instant,
}

impl Clock for WallClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }
    fn sleep(&mut self, d: Duration) {
        thread::sleep(d);
    }
}

/// Paces sends to a number of events per second on the wall clock.
///
/// Token-bucket style: event `n` (counting from the first) is due at `start + n / rate`, computed
/// from the count rather than by adding intervals, so the rate does not drift over long runs and
/// sleeps that oversleep are made up by the next events. A sink that stalls (a slow HTTP endpoint)
/// earns at most one second of catch-up burst: after a longer stall the schedule is moved on.
pub(crate) struct Pacer {
    rate: Option<f64>,
    clock: Box<dyn Clock>,
    /// When event 0 of the current schedule was due.
    origin: Duration,
    /// Events released on the current schedule.
    released: u64,
}

impl std::fmt::Debug for Pacer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pacer")
            .field("rate", &self.rate)
            .field("origin", &self.origin)
            .field("released", &self.released)
            .finish_non_exhaustive()
    }
}

/// The most a stalled schedule may be behind the clock; beyond it the schedule is moved on.
const MAX_BURST: Duration = Duration::from_secs(1);

impl Pacer {
    /// `events_per_second`: `None` releases events as fast as they come. A rate that is not a
    /// finite positive number (which `parse_rate` rejects) also means no pacing.
    pub(crate) fn new(events_per_second: Option<f64>) -> Pacer {
        Pacer::with_clock(
            events_per_second,
            Box::new(WallClock {
                origin: Instant::now(),
            }),
        )
    }

    fn with_clock(events_per_second: Option<f64>, clock: Box<dyn Clock>) -> Pacer {
        let rate = match events_per_second {
            Some(r) if r.is_finite() && r > 0.0 => Some(r),
            Some(r) => {
                tracing::warn!(rate = r, "emit rate is not a positive number; not pacing");
                None
            }
            None => None,
        };
        Pacer {
            rate,
            clock,
            origin: Duration::ZERO,
            released: 0,
        }
    }

    /// When event `n` of the current schedule is due.
    fn due(&self, n: u64) -> Duration {
        match self.rate {
            // n / rate stays exact to well under a microsecond for any run length that matters.
            Some(rate) => self.origin + Duration::from_secs_f64(n as f64 / rate),
            None => self.origin,
        }
    }

    /// Blocks until the next event is due.
    pub(crate) fn wait(&mut self) {
        if self.rate.is_none() {
            return;
        }
        let now = self.clock.now();
        if self.released == 0 {
            // The first event goes at once and starts the schedule.
            self.origin = now;
        }
        let due = self.due(self.released);
        if due > now {
            self.clock.sleep(due - now);
        } else if now - due > MAX_BURST {
            // Stalled: keep at most MAX_BURST of catch-up, move the rest of the schedule on.
            self.origin += (now - due) - MAX_BURST;
        }
        self.released += 1;
    }
}

// ---------------------------------------------------------------------------------------------
// Stdout
// ---------------------------------------------------------------------------------------------

/// NDJSON to stdout (or any writer, for tests).
struct StdoutEmitter<W: Write> {
    out: BufWriter<W>,
    closed: bool,
    /// When the oldest record not yet flushed was written.
    unflushed_since: Option<Instant>,
    last_send: Option<Instant>,
}

impl<W: Write> StdoutEmitter<W> {
    fn new(w: W) -> Self {
        StdoutEmitter {
            out: BufWriter::with_capacity(64 * 1024, w),
            closed: false,
            unflushed_since: None,
            last_send: None,
        }
    }

    /// Handles a write error: a closed pipe ends the output quietly, anything else is an error.
    fn check(&mut self, r: io::Result<()>) -> anyhow::Result<()> {
        match r {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                if !self.closed {
                    tracing::info!("stdout was closed; dropping the rest of the records");
                }
                self.closed = true;
                Ok(())
            }
            Err(e) => Err(e).context("cannot write to stdout"),
        }
    }
}

impl<W: Write> Emitter for StdoutEmitter<W> {
    fn send(&mut self, record: &SimRecord) -> anyhow::Result<()> {
        if self.closed {
            return Ok(());
        }
        let now = Instant::now();
        let r = self
            .out
            .write_all(record.body.as_bytes())
            .and_then(|()| self.out.write_all(b"\n"));
        self.check(r)?;
        let since = *self.unflushed_since.get_or_insert(now);
        // Paced slowly (a gap since the last record), or held long enough: show it now.
        let slow = self
            .last_send
            .is_some_and(|t| now.duration_since(t) >= Duration::from_millis(50));
        self.last_send = Some(now);
        if slow || now.duration_since(since) >= Duration::from_millis(200) {
            let r = self.out.flush();
            self.unflushed_since = None;
            self.check(r)?;
        }
        Ok(())
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        if self.closed {
            return Ok(());
        }
        let r = self.out.flush();
        self.check(r)
    }

    fn is_closed(&self) -> bool {
        self.closed
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------------

/// Attempts per batch when the endpoint answers 5xx/429 or cannot be reached.
const HTTP_ATTEMPTS: u32 = 5;
const HTTP_FIRST_BACKOFF: Duration = Duration::from_millis(250);

#[derive(Debug)]
struct Batch {
    body: Vec<u8>,
    records: usize,
    first_at: Instant,
}

/// Batched NDJSON POSTs, one batch per provider.
struct HttpEmitter {
    client: reqwest::blocking::Client,
    url: reqwest::Url,
    batch_size: usize,
    headers: reqwest::header::HeaderMap,
    pending: HashMap<Provider, Batch>,
    last_send: Option<Instant>,
    posted_batches: u64,
    posted_records: u64,
}

impl HttpEmitter {
    fn new(target: &str, options: &EmitOptions) -> anyhow::Result<Self> {
        use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
        let url = reqwest::Url::parse(target).with_context(|| format!("bad URL {target:?}"))?;
        if options.batch == 0 {
            bail!("the HTTP batch size must be at least 1");
        }
        let mut headers = HeaderMap::new();
        for (name, value) in &options.http_headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .with_context(|| format!("bad HTTP header name {name:?}"))?;
            let value = HeaderValue::from_str(value)
                .with_context(|| format!("bad value for HTTP header {name}"))?;
            headers.append(name, value);
        }
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("vigil/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("cannot build the HTTP client")?;
        Ok(HttpEmitter {
            client,
            url,
            batch_size: options.batch,
            headers,
            pending: HashMap::new(),
            last_send: None,
            posted_batches: 0,
            posted_records: 0,
        })
    }

    fn flush_provider(&mut self, provider: Provider) -> anyhow::Result<()> {
        if let Some(batch) = self.pending.remove(&provider) {
            self.post(provider, batch)?;
        }
        Ok(())
    }

    /// Flushes every batch that has waited [`MAX_HOLD`], oldest first.
    fn flush_older_than(&mut self, now: Instant, hold: Duration) -> anyhow::Result<()> {
        let mut due: Vec<(Instant, Provider)> = self
            .pending
            .iter()
            .filter(|(_, b)| now.duration_since(b.first_at) >= hold)
            .map(|(p, b)| (b.first_at, *p))
            .collect();
        due.sort_by_key(|(t, _)| *t);
        for (_, provider) in due {
            self.flush_provider(provider)?;
        }
        Ok(())
    }

    fn post(&mut self, provider: Provider, batch: Batch) -> anyhow::Result<()> {
        use reqwest::header::{CONTENT_TYPE, HeaderValue};
        let mut backoff = HTTP_FIRST_BACKOFF;
        let mut last_problem = String::new();
        for attempt in 1..=HTTP_ATTEMPTS {
            let result = self
                .client
                .post(self.url.clone())
                .headers(self.headers.clone())
                .header(
                    CONTENT_TYPE,
                    HeaderValue::from_static("application/x-ndjson"),
                )
                .header("X-Vigil-Provider", provider.as_str())
                .body(batch.body.clone())
                .send();
            match result {
                Ok(resp) if resp.status().is_success() => {
                    self.posted_batches += 1;
                    self.posted_records += batch.records as u64;
                    tracing::debug!(
                        provider = provider.as_str(),
                        records = batch.records,
                        status = resp.status().as_u16(),
                        "posted a batch"
                    );
                    return Ok(());
                }
                Ok(resp) => {
                    let status = resp.status();
                    let text = resp.text().unwrap_or_default();
                    let snippet: String = text.chars().take(200).collect();
                    if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS
                    {
                        last_problem = format!("HTTP {status}: {snippet}");
                    } else {
                        bail!(
                            "{} refused a batch of {} {} records: HTTP {status}{}{snippet}",
                            self.url,
                            batch.records,
                            provider.as_str(),
                            if snippet.is_empty() { "" } else { ": " },
                        );
                    }
                }
                Err(e) => {
                    // reqwest's Display leaves out the cause ("connection refused", …).
                    last_problem = e.to_string();
                    let mut source = std::error::Error::source(&e);
                    while let Some(cause) = source {
                        last_problem = format!("{last_problem}: {cause}");
                        source = cause.source();
                    }
                }
            }
            if attempt < HTTP_ATTEMPTS {
                tracing::warn!(
                    url = %self.url,
                    attempt,
                    problem = %last_problem,
                    "posting a batch failed; retrying in {backoff:?}"
                );
                thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(4));
            }
        }
        Err(anyhow!(
            "cannot post a batch of {} {} records to {} after {HTTP_ATTEMPTS} attempts: {last_problem}",
            batch.records,
            provider.as_str(),
            self.url
        ))
    }
}

impl Emitter for HttpEmitter {
    fn send(&mut self, record: &SimRecord) -> anyhow::Result<()> {
        let now = Instant::now();
        let provider = record.provider();
        let batch = self.pending.entry(provider).or_insert_with(|| Batch {
            body: Vec::new(),
            records: 0,
            first_at: now,
        });
        batch.body.extend_from_slice(record.body.as_bytes());
        batch.body.push(b'\n');
        batch.records += 1;
        let full = batch.records >= self.batch_size;
        // Paced slower than MAX_HOLD per record: nothing is gained by holding this one.
        let slow = self
            .last_send
            .is_some_and(|t| now.duration_since(t) >= MAX_HOLD);
        self.last_send = Some(now);
        if full {
            self.flush_provider(provider)?;
        }
        if slow {
            self.flush_older_than(now, Duration::ZERO)
        } else {
            self.flush_older_than(now, MAX_HOLD)
        }
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        self.flush_older_than(Instant::now(), Duration::ZERO)?;
        tracing::info!(
            url = %self.url,
            batches = self.posted_batches,
            records = self.posted_records,
            "HTTP emit finished"
        );
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Kafka
// ---------------------------------------------------------------------------------------------

/// Partitions of the topics the emitter creates.
const KAFKA_PARTITIONS: i32 = 3;
/// How long a record may take to be delivered (librdkafka retries within it).
const KAFKA_MESSAGE_TIMEOUT: Duration = Duration::from_secs(30);

/// `host:port[,host:port]/topic` → (brokers, topic template).
fn parse_kafka_target(rest: &str) -> anyhow::Result<(String, String)> {
    let Some((brokers, topic)) = rest.split_once('/') else {
        bail!("expected kafka://host:port[,host:port]/topic");
    };
    if brokers.is_empty() || brokers.split(',').any(|b| b.trim().is_empty()) {
        bail!("no broker address before the topic");
    }
    for b in brokers.split(',') {
        let Some((host, port)) = b.trim().rsplit_once(':') else {
            bail!("broker {b:?} has no port");
        };
        if host.is_empty() || port.parse::<u16>().is_err() {
            bail!("broker {b:?} is not host:port");
        }
    }
    if topic.is_empty() {
        bail!("no topic after the broker addresses");
    }
    for provider in [Provider::Aws, Provider::Azure, Provider::Gcp] {
        let name = topic_for(topic, provider);
        let legal = name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'));
        if !legal || name.len() > 249 || name == "." || name == ".." {
            bail!("{name:?} is not a legal Kafka topic name (letters, digits, '.', '_', '-')");
        }
    }
    Ok((brokers.to_string(), topic.to_string()))
}

fn topic_for(template: &str, provider: Provider) -> String {
    template.replace("{provider}", provider.as_str())
}

/// Delivery outcomes, shared between the producer's polling thread and the emitter.
#[derive(Debug, Default)]
struct DeliveryCounts {
    delivered: AtomicU64,
    failed: AtomicU64,
    first_error: Mutex<Option<String>>,
}

/// The producer's context: counts delivery outcomes and routes librdkafka's logs to tracing.
#[derive(Debug, Default, Clone)]
struct DeliveryCounter(Arc<DeliveryCounts>);

impl ClientContext for DeliveryCounter {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        match level {
            RDKafkaLogLevel::Emerg
            | RDKafkaLogLevel::Alert
            | RDKafkaLogLevel::Critical
            | RDKafkaLogLevel::Error => {
                tracing::error!(facility = fac, "librdkafka: {log_message}")
            }
            RDKafkaLogLevel::Warning => tracing::warn!(facility = fac, "librdkafka: {log_message}"),
            RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
                tracing::info!(facility = fac, "librdkafka: {log_message}")
            }
            RDKafkaLogLevel::Debug => tracing::debug!(facility = fac, "librdkafka: {log_message}"),
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        tracing::warn!(%error, "Kafka client: {reason}");
    }
}

impl ProducerContext for DeliveryCounter {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(_) => {
                self.0.delivered.fetch_add(1, Ordering::Relaxed);
            }
            Err((error, _)) => {
                self.0.failed.fetch_add(1, Ordering::Relaxed);
                let mut first = self
                    .0
                    .first_error
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                if first.is_none() {
                    *first = Some(error.to_string());
                }
            }
        }
    }
}

/// Produces each record to its provider's topic.
struct KafkaEmitter {
    brokers: String,
    topic_template: String,
    producer: ThreadedProducer<DeliveryCounter>,
    counts: Arc<DeliveryCounts>,
    admin: AdminClient<DefaultClientContext>,
    ensured: HashSet<String>,
    sent: u64,
}

impl KafkaEmitter {
    fn new(brokers: &str, topic_template: &str) -> anyhow::Result<Self> {
        let counter = DeliveryCounter::default();
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", brokers)
            .set("client.id", "vigil-simulate")
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("linger.ms", "5")
            .set(
                "message.timeout.ms",
                KAFKA_MESSAGE_TIMEOUT.as_millis().to_string(),
            );
        let producer: ThreadedProducer<DeliveryCounter> = config
            .create_with_context(counter.clone())
            .context("cannot create the Kafka producer")?;
        // Fail fast, with a clear message, when no broker answers.
        producer
            .client()
            .fetch_metadata(None, Duration::from_secs(10))
            .with_context(|| format!("no Kafka broker answers at {brokers}"))?;
        let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .set("client.id", "vigil-simulate-admin")
            .create()
            .context("cannot create the Kafka admin client")?;
        Ok(KafkaEmitter {
            brokers: brokers.to_string(),
            topic_template: topic_template.to_string(),
            producer,
            counts: Arc::clone(&counter.0),
            admin,
            ensured: HashSet::new(),
            sent: 0,
        })
    }

    /// Creates `topic` unless it exists. A broker that refuses (no permission, but the topic may
    /// exist) is only warned about: a missing topic then shows up as failed deliveries.
    fn ensure_topic(&mut self, topic: &str) {
        if self.ensured.contains(topic) {
            return;
        }
        self.ensured.insert(topic.to_string());
        let new = NewTopic::new(topic, KAFKA_PARTITIONS, TopicReplication::Fixed(1));
        let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
        match block_on(self.admin.create_topics([&new], &opts)) {
            Ok(results) => {
                for r in results {
                    match r {
                        Ok(name) => tracing::info!(topic = %name, "created Kafka topic"),
                        Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                        Err((name, code)) => {
                            tracing::warn!(topic = %name, error = %code, "cannot create Kafka topic")
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(topic, error = %e, "cannot create Kafka topic"),
        }
    }
}

impl Emitter for KafkaEmitter {
    fn send(&mut self, record: &SimRecord) -> anyhow::Result<()> {
        let provider = record.provider();
        let topic = topic_for(&self.topic_template, provider);
        self.ensure_topic(&topic);
        let headers = OwnedHeaders::new()
            .insert(Header {
                key: "content-type",
                value: Some("application/json"),
            })
            .insert(Header {
                key: "vigil-provider",
                value: Some(provider.as_str()),
            });
        let mut message = BaseRecord::to(&topic)
            .key(record.identity_key.as_str())
            .payload(record.body.as_str())
            .headers(headers);
        let started = Instant::now();
        loop {
            match self.producer.send(message) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    // The local queue is full: wait for deliveries to drain it.
                    if started.elapsed() > KAFKA_MESSAGE_TIMEOUT {
                        bail!(
                            "the Kafka producer queue stayed full for {KAFKA_MESSAGE_TIMEOUT:?} \
                             (brokers {})",
                            self.brokers
                        );
                    }
                    message = back;
                    thread::sleep(Duration::from_millis(10));
                }
                Err((e, _)) => {
                    return Err(e).with_context(|| format!("cannot produce to topic {topic}"));
                }
            }
        }
        self.sent += 1;
        Ok(())
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        self.producer
            .flush(KAFKA_MESSAGE_TIMEOUT + Duration::from_secs(30))
            .with_context(|| {
                format!("cannot flush the Kafka producer (brokers {})", self.brokers)
            })?;
        let delivered = self.counts.delivered.load(Ordering::Relaxed);
        let failed = self.counts.failed.load(Ordering::Relaxed);
        tracing::info!(sent = self.sent, delivered, failed, "Kafka emit finished");
        if failed > 0 {
            let first = self
                .counts
                .first_error
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .clone()
                .unwrap_or_default();
            bail!(
                "{failed} of {} records were not delivered to Kafka ({}); first error: {first}",
                self.sent,
                self.brokers
            );
        }
        if delivered != self.sent {
            bail!(
                "only {delivered} of {} records were confirmed by Kafka ({})",
                self.sent,
                self.brokers
            );
        }
        Ok(())
    }
}

/// Runs a future to completion on this thread (the admin client's futures are completed by its own
/// polling thread; there is no async runtime in the binary).
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    struct ThreadWaker(Thread);
    impl Wake for ThreadWaker {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = TaskContext::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(out) => return out,
            Poll::Pending => thread::park(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;

    /// A clock that only moves when slept on (plus whatever the test adds), recording each sleep.
    #[derive(Debug, Default)]
    struct FakeTime {
        now: Duration,
        sleeps: Vec<Duration>,
        /// Added to every sleep, like a real OS that wakes late.
        oversleep: Duration,
    }

    #[derive(Debug, Clone, Default)]
    struct FakeClock(Rc<RefCell<FakeTime>>);

    impl Clock for FakeClock {
        fn now(&self) -> Duration {
            self.0.borrow().now
        }
        fn sleep(&mut self, d: Duration) {
            let mut t = self.0.borrow_mut();
            t.sleeps.push(d);
            let extra = t.oversleep;
            t.now += d + extra;
        }
    }

    impl FakeClock {
        fn advance(&self, d: Duration) {
            self.0.borrow_mut().now += d;
        }
        fn now_secs(&self) -> f64 {
            self.0.borrow().now.as_secs_f64()
        }
        fn sleeps(&self) -> Vec<Duration> {
            self.0.borrow().sleeps.clone()
        }
    }

    fn paced(rate: Option<f64>) -> (Pacer, FakeClock) {
        let clock = FakeClock::default();
        (Pacer::with_clock(rate, Box::new(clock.clone())), clock)
    }

    #[test]
    fn unpaced_never_sleeps() {
        let (mut pacer, clock) = paced(None);
        for _ in 0..10_000 {
            pacer.wait();
        }
        assert!(clock.sleeps().is_empty());
        assert_eq!(clock.now_secs(), 0.0);
    }

    #[test]
    fn bad_rates_mean_no_pacing() {
        for rate in [0.0, -3.0, f64::NAN, f64::INFINITY] {
            let (mut pacer, clock) = paced(Some(rate));
            for _ in 0..100 {
                pacer.wait();
            }
            assert!(clock.sleeps().is_empty(), "rate {rate} slept");
        }
    }

    #[test]
    fn releases_events_at_the_rate_starting_at_once() {
        let (mut pacer, clock) = paced(Some(10.0));
        pacer.wait();
        assert_eq!(clock.now_secs(), 0.0, "the first event waits for nothing");
        for _ in 1..100 {
            pacer.wait();
        }
        // 100 events at 10/s: the last is due 9.9 s after the first.
        assert!(
            (clock.now_secs() - 9.9).abs() < 1e-6,
            "{}",
            clock.now_secs()
        );
        let sleeps = clock.sleeps();
        assert_eq!(sleeps.len(), 99);
        for s in sleeps {
            assert!((s.as_secs_f64() - 0.1).abs() < 1e-6, "{s:?}");
        }
    }

    #[test]
    fn oversleeping_does_not_drift_over_a_long_run() {
        // A third of a second is not exact in binary; each sleep also wakes 2 ms late.
        let (mut pacer, clock) = paced(Some(3.0));
        clock.0.borrow_mut().oversleep = Duration::from_millis(2);
        let n = 300_000u64;
        for _ in 0..n {
            pacer.wait();
        }
        // Event n-1 is due at (n-1)/3 s; the clock can be past that by one late wake-up at most.
        let due = (n - 1) as f64 / 3.0;
        let now = clock.now_secs();
        assert!(now >= due - 1e-6, "released early: {now} < {due}");
        assert!(now <= due + 0.002 + 1e-6, "drifted: {now} vs {due}");
        // And the late wake-ups were made up by shorter sleeps, not accumulated.
        let total_slept: f64 = clock.sleeps().iter().map(Duration::as_secs_f64).sum();
        assert!(total_slept < due, "{total_slept} >= {due}");
    }

    #[test]
    fn a_stall_earns_at_most_one_second_of_burst() {
        let (mut pacer, clock) = paced(Some(10.0));
        for _ in 0..10 {
            pacer.wait();
        }
        let before = clock.sleeps().len();
        // The sink stalls for 30 s.
        clock.advance(Duration::from_secs(30));
        let mut immediate = 0;
        loop {
            let slept = clock.sleeps().len();
            pacer.wait();
            if clock.sleeps().len() > slept {
                break;
            }
            immediate += 1;
        }
        // One second of catch-up at 10/s is 10 events, plus the one due right now.
        assert!(
            (10..=11).contains(&immediate),
            "{immediate} events released without waiting after the stall"
        );
        assert_eq!(clock.sleeps().len(), before + 1);
        // Back on schedule: 0.1 s apart.
        for _ in 0..5 {
            pacer.wait();
        }
        for s in &clock.sleeps()[before + 1..] {
            assert!((s.as_secs_f64() - 0.1).abs() < 1e-6, "{s:?}");
        }
    }

    #[test]
    fn parse_rate_accepts_positive_numbers_only() {
        assert_eq!(parse_rate("250"), Ok(250.0));
        assert_eq!(parse_rate("0.5"), Ok(0.5));
        for bad in ["0", "-1", "nan", "inf", "fast", ""] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn kafka_targets_parse_and_reject_bad_ones() {
        let (brokers, topic) = parse_kafka_target("127.0.0.1:9092,broker-2:9093/audit.{provider}")
            .unwrap_or_else(|e| panic!("a good target was refused: {e:#}"));
        assert_eq!(brokers, "127.0.0.1:9092,broker-2:9093");
        assert_eq!(topic_for(&topic, Provider::Azure), "audit.azure");
        assert_eq!(topic_for(&topic, Provider::Aws), "audit.aws");
        for bad in [
            "127.0.0.1:9092",
            "127.0.0.1:9092/",
            "/topic",
            "127.0.0.1/topic",
            "host:notaport/topic",
            "a:1,,b:2/topic",
            "a:1/bad topic",
            "a:1/{other}",
        ] {
            assert!(parse_kafka_target(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn unknown_targets_are_refused() {
        for bad in ["", "ftp://x", "file.ndjson", "kafka://nohost"] {
            let Err(e) = open(bad, &EmitOptions::default()) else {
                panic!("{bad:?} was accepted");
            };
            assert!(!format!("{e:#}").is_empty());
        }
    }

    /// A writer whose reader went away after `ok_bytes`.
    #[derive(Debug)]
    struct ClosingPipe {
        written: Rc<RefCell<Vec<u8>>>,
        ok_bytes: usize,
    }

    impl Write for ClosingPipe {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let mut w = self.written.borrow_mut();
            if w.len() >= self.ok_bytes {
                return Err(io::Error::from(io::ErrorKind::BrokenPipe));
            }
            let n = buf.len().min(self.ok_bytes - w.len());
            w.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn record(body: &str) -> SimRecord {
        record_on(
            body,
            vigil_ingest::simulate::Channel::EntraSignIn { tenant: "t".into() },
        )
    }

    fn record_on(body: &str, channel: vigil_ingest::simulate::Channel) -> SimRecord {
        SimRecord {
            time: chrono::DateTime::UNIX_EPOCH,
            channel,
            body: body.to_string(),
            event_id: "e".into(),
            identity_key: "k".into(),
            scenario: None,
        }
    }

    #[test]
    fn stdout_writes_one_body_per_line() {
        let written = Rc::new(RefCell::new(Vec::new()));
        let mut emitter = StdoutEmitter::new(ClosingPipe {
            written: Rc::clone(&written),
            ok_bytes: usize::MAX,
        });
        emitter
            .send(&record(r#"{"a":1}"#))
            .unwrap_or_else(|e| panic!("{e:#}"));
        emitter
            .send(&record(r#"{"b":2}"#))
            .unwrap_or_else(|e| panic!("{e:#}"));
        emitter.finish().unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(&*written.borrow(), b"{\"a\":1}\n{\"b\":2}\n");
        assert!(!emitter.is_closed());
    }

    #[test]
    fn a_closed_stdout_pipe_ends_quietly() {
        let written = Rc::new(RefCell::new(Vec::new()));
        let mut emitter = StdoutEmitter::new(ClosingPipe {
            written: Rc::clone(&written),
            ok_bytes: 100,
        });
        let body = format!("{{\"pad\":\"{}\"}}", "x".repeat(1000));
        for _ in 0..200 {
            emitter
                .send(&record(&body))
                .unwrap_or_else(|e| panic!("{e:#}"));
        }
        emitter.finish().unwrap_or_else(|e| panic!("{e:#}"));
        assert!(emitter.is_closed());
        assert_eq!(written.borrow().len(), 100);
    }

    /// Requests a test server got: head (lower case) and body.
    type Posted = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

    /// A minimal real HTTP/1.1 server on loopback (keep-alive, Content-Length bodies) that answers
    /// 200 and records each request's head and body.
    fn serve_http() -> (String, Posted) {
        use std::io::{BufRead, BufReader, Read};
        let listener =
            std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("listen: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("address: {e}"));
        let got = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&got);
        thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let sink = Arc::clone(&sink);
                thread::spawn(move || {
                    let Ok(mut writer) = conn.try_clone() else {
                        return;
                    };
                    let mut reader = BufReader::new(conn);
                    loop {
                        let mut head = String::new();
                        let mut length = 0usize;
                        loop {
                            let mut line = String::new();
                            match reader.read_line(&mut line) {
                                Ok(0) | Err(_) => return,
                                Ok(_) => {}
                            }
                            if line == "\r\n" {
                                break;
                            }
                            let lower = line.to_ascii_lowercase();
                            if let Some(v) = lower.strip_prefix("content-length:") {
                                length = v.trim().parse().unwrap_or(0);
                            }
                            head.push_str(&lower);
                        }
                        let mut body = vec![0; length];
                        if reader.read_exact(&mut body).is_err() {
                            return;
                        }
                        sink.lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push((head, body));
                        if writer
                            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                            .is_err()
                        {
                            return;
                        }
                    }
                });
            }
        });
        (format!("http://{addr}/in"), got)
    }

    fn posted(got: &Posted) -> Vec<(String, Vec<u8>)> {
        got.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn http_emitter(url: &str, batch: usize) -> HttpEmitter {
        let options = EmitOptions {
            batch,
            http_headers: vec![("Authorization".into(), "Bearer t0ken".into())],
        };
        HttpEmitter::new(url, &options).unwrap_or_else(|e| panic!("{e:#}"))
    }

    #[test]
    fn http_posts_full_batches_and_the_rest_at_finish() {
        let (url, got) = serve_http();
        let mut emitter = http_emitter(&url, 2);
        for i in 0..5 {
            emitter
                .send(&record(&format!("{{\"n\":{i}}}")))
                .unwrap_or_else(|e| panic!("{e:#}"));
        }
        // The two full batches went at once (the fifth record waits for finish, unless this machine
        // stalled a second between two sends: the bodies below are the same either way).
        assert!(posted(&got).len() >= 2);
        emitter.finish().unwrap_or_else(|e| panic!("{e:#}"));
        let all = posted(&got);
        let bodies: Vec<&[u8]> = all.iter().map(|(_, b)| b.as_slice()).collect();
        assert_eq!(
            bodies,
            [
                b"{\"n\":0}\n{\"n\":1}\n".as_slice(),
                b"{\"n\":2}\n{\"n\":3}\n",
                b"{\"n\":4}\n"
            ]
        );
        for (head, _) in &all {
            assert!(head.starts_with("post /in http/1.1"), "{head}");
            assert!(
                head.contains("content-type: application/x-ndjson"),
                "{head}"
            );
            assert!(head.contains("x-vigil-provider: azure"), "{head}");
            assert!(head.contains("authorization: bearer t0ken"), "{head}");
        }
    }

    #[test]
    fn http_batches_by_provider() {
        let (url, got) = serve_http();
        let mut emitter = http_emitter(&url, 100);
        let aws = vigil_ingest::simulate::Channel::CloudTrail {
            account: "1".into(),
            region: "us-east-1".into(),
        };
        for (i, channel) in [aws.clone(), record("{}").channel, aws]
            .into_iter()
            .enumerate()
        {
            emitter
                .send(&record_on(&format!("{{\"n\":{i}}}"), channel))
                .unwrap_or_else(|e| panic!("{e:#}"));
        }
        emitter.finish().unwrap_or_else(|e| panic!("{e:#}"));
        let all = posted(&got);
        assert_eq!(all.len(), 2);
        // Oldest batch first.
        assert!(all[0].0.contains("x-vigil-provider: aws"), "{}", all[0].0);
        assert_eq!(all[0].1, b"{\"n\":0}\n{\"n\":2}\n");
        assert!(all[1].0.contains("x-vigil-provider: azure"), "{}", all[1].0);
        assert_eq!(all[1].1, b"{\"n\":1}\n");
    }

    #[test]
    fn http_does_not_hold_records_past_a_second_when_paced_slowly() {
        let (url, got) = serve_http();
        let mut emitter = http_emitter(&url, 500);
        emitter
            .send(&record("{\"n\":0}"))
            .unwrap_or_else(|e| panic!("{e:#}"));
        assert!(
            posted(&got).is_empty(),
            "a lone record of a fresh batch went at once"
        );
        // A slow rate: the next record comes more than a second later.
        thread::sleep(MAX_HOLD + Duration::from_millis(100));
        emitter
            .send(&record("{\"n\":1}"))
            .unwrap_or_else(|e| panic!("{e:#}"));
        // Both are out before send returns, without waiting for a full batch or finish.
        let all = posted(&got);
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].1, b"{\"n\":0}\n{\"n\":1}\n");
        emitter.finish().unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(posted(&got).len(), 1, "finish posted an empty batch");
    }

    #[test]
    fn http_connection_failures_are_retried_then_reported() {
        // Nothing listens on this port.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("{e}"));
        let mut emitter = http_emitter(&format!("http://127.0.0.1:{port}/"), 1);
        let Err(e) = emitter.send(&record("{}")) else {
            panic!("posting to a closed port succeeded");
        };
        let message = format!("{e:#}");
        assert!(
            message.contains(&format!("after {HTTP_ATTEMPTS} attempts")),
            "{message}"
        );
    }
}
