//! The broker's own limit for Vigil's messages, the yardstick of `bench/kafka.sh`: a bare rdkafka
//! producer and consumer move the JSON of N normalized events (the very messages `vigil ingest` puts
//! on the events topic: same bytes, same keys, same headers, same producer settings) through the
//! broker, with no Vigil stage in between.
//!
//! Producer and consumer run concurrently (the consumer subscribes first); the end-to-end figure is N
//! divided by the time from the first send to the last message received. Produce-only time (until the
//! last acknowledgement) is printed too.
//!
//! Usage: cargo run --release --example kafka_transport_bench -- BROKERS RAW_NDJSON [TOPIC]
//! where RAW_NDJSON is `vigil simulate --emit - ...` output (native records; normalized here).
//! `... -- raw BROKERS RAW_NDJSON [TOPIC_PREFIX]` instead puts the native records on the raw topics, paced, as the
//! input of the Vigil half of `bench/kafka.sh`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::{ClientConfig, ClientContext, Message};

/// Partitions, as the services create their topics with by default (`kafka.partitions`).
const PARTITIONS: i32 = 6;

struct Acks {
    acked: AtomicUsize,
    failed: AtomicUsize,
}

impl ClientContext for Acks {}

impl ProducerContext for Acks {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(_) => self.acked.fetch_add(1, Ordering::Relaxed),
            Err(_) => self.failed.fetch_add(1, Ordering::Relaxed),
        };
    }
}

/// `raw BROKERS RAW_NDJSON [PREFIX]`: produces each native record onto its provider's raw topic
/// (`<PREFIX><provider>`, default `vigil.raw.<provider>`) with a producer that never expires a message and holds at most 10,000
/// unacknowledged, so a slow broker slows it down instead of failing it. Prints the count.
fn produce_raw(brokers: &str, raw: &str, prefix: &str) {
    let bytes = std::fs::read(raw).expect("raw records");
    // As `vigil ingest` would create them; already there when it runs first.
    let topics: Vec<String> = ["aws", "azure", "gcp"]
        .iter()
        .map(|p| format!("{prefix}{p}"))
        .collect();
    create_topics(brokers, &topics);
    let producer: ThreadedProducer<Acks> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("message.timeout.ms", "0")
        .set("queue.buffering.max.messages", "10000")
        .create_with_context(Acks {
            acked: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
        })
        .unwrap();
    let now = chrono::Utc::now();
    let limits = vigil_ingest::Limits::default();
    let mut n = 0;
    for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        // The provider decides the topic; normalizing the record is the simplest way to know it.
        let normalized = vigil_ingest::normalize_bytes(raw, line, now, &limits);
        let provider = normalized
            .events
            .first()
            .expect("a simulated record normalizes")
            .provider;
        let topic = format!("{prefix}{}", provider.as_str());
        send_retrying(&producer, BaseRecord::<str, [u8]>::to(&topic).payload(line));
        n += 1;
    }
    producer.flush(Duration::from_secs(1800)).unwrap();
    assert_eq!(
        producer.context().failed.load(Ordering::Relaxed),
        0,
        "deliveries failed"
    );
    println!("RAW_RECORDS={n}");
}

/// Hands `record` to the producer, waiting while its queue is full.
fn send_retrying<K: rdkafka::message::ToBytes + ?Sized>(
    producer: &ThreadedProducer<Acks>,
    mut record: BaseRecord<'_, K, [u8]>,
) {
    loop {
        match producer.send(record) {
            Ok(()) => return,
            Err((_, back)) => {
                record = back;
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
}

/// Creates `topics` with [`PARTITIONS`] partitions; one that exists already is left as it is.
fn create_topics(brokers: &str, topics: &[String]) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let new: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|t| NewTopic::new(t, PARTITIONS, TopicReplication::Fixed(1)))
        .collect();
    // Per-topic results: "already exists" is fine, the producer fails loudly on anything else.
    runtime
        .block_on(admin.create_topics(
            &new,
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(10))),
        ))
        .unwrap();
}

/// The headers every Vigil message carries (`src/services/kafka.rs`): part of the bytes the broker
/// stores and serves (Tansu keeps each header as a row of its own).
fn vigil_headers() -> OwnedHeaders {
    OwnedHeaders::new()
        .insert(Header {
            key: "vigil-schema-version",
            value: Some(vigil_schemas::SCHEMA_VERSION),
        })
        .insert(Header {
            key: "content-type",
            value: Some("application/json"),
        })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("raw") {
        let (Some(brokers), Some(raw)) = (args.get(2), args.get(3)) else {
            eprintln!("usage: kafka_transport_bench raw BROKERS RAW_NDJSON [TOPIC_PREFIX]");
            std::process::exit(2);
        };
        let prefix = args.get(4).map_or("vigil.raw.", String::as_str);
        produce_raw(brokers, raw, prefix);
        return;
    }
    let (Some(brokers), Some(raw)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: kafka_transport_bench BROKERS RAW_NDJSON [TOPIC]");
        std::process::exit(2);
    };
    let topic = args
        .get(3)
        .cloned()
        .unwrap_or_else(|| "bench.transport".into());

    let bytes = std::fs::read(raw).expect("raw records");
    let normalized = vigil_ingest::normalize_bytes(
        raw,
        &bytes,
        chrono::Utc::now(),
        &vigil_ingest::Limits::default(),
    );
    assert!(
        normalized.dead_letters.is_empty(),
        "simulated records were refused"
    );
    // The events topic's messages: JSON values keyed by identity key.
    let messages: Vec<(String, Vec<u8>)> = normalized
        .events
        .iter()
        .map(|e| (e.identity.key.clone(), serde_json::to_vec(e).unwrap()))
        .collect();
    drop(normalized);
    let n = messages.len();
    let total_bytes: usize = messages.iter().map(|(_, v)| v.len()).sum();

    create_topics(brokers, std::slice::from_ref(&topic));

    // The consumer: like the services' (a group, manual offset store is irrelevant here: nothing is
    // stored), polling on its own thread.
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("{topic}-reader"))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "true")
        // The services' fetch size (`src/services/kafka.rs`).
        .set("max.partition.fetch.bytes", "8388608")
        .create()
        .unwrap();
    consumer.subscribe(&[&topic]).unwrap();
    // Join the group before the clock starts, so the figure is throughput, not rebalance time.
    let joined = Instant::now();
    while consumer.assignment().map(|a| a.count()).unwrap_or(0) == 0 {
        if let Some(Ok(_)) = consumer.poll(Duration::from_millis(100)) {
            panic!("the topic was not empty");
        }
        assert!(
            joined.elapsed() < Duration::from_secs(60),
            "consumer never got partitions"
        );
    }
    let received = Arc::new(AtomicUsize::new(0));
    let (start_tx, start_rx) = std::sync::mpsc::channel::<Instant>();
    let reader = {
        let received = received.clone();
        std::thread::spawn(move || {
            let started = start_rx.recv().unwrap();
            let mut bytes = 0usize;
            let mut count = 0usize;
            while count < n {
                match consumer.poll(Duration::from_millis(500)) {
                    Some(Ok(m)) => {
                        bytes += m.payload().map_or(0, <[u8]>::len);
                        count += 1;
                        received.store(count, Ordering::Relaxed);
                    }
                    Some(Err(e)) => eprintln!("consume error: {e}"),
                    None => assert!(
                        started.elapsed() < Duration::from_secs(600),
                        "only {count} of {n} messages arrived"
                    ),
                }
            }
            (started.elapsed(), bytes)
        })
    };

    // The producer: the services' settings (idempotent, acks=all, linger 5 ms).
    let producer: ThreadedProducer<Acks> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("message.timeout.ms", "120000")
        .create_with_context(Acks {
            acked: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
        })
        .unwrap();
    let started = Instant::now();
    start_tx.send(started).unwrap();
    for (key, value) in &messages {
        send_retrying(
            &producer,
            BaseRecord::<str, [u8]>::to(&topic)
                .key(key.as_str())
                .payload(value.as_slice())
                .headers(vigil_headers()),
        );
    }
    producer.flush(Duration::from_secs(300)).unwrap();
    let produced = started.elapsed();
    let ctx = producer.context();
    assert_eq!(ctx.failed.load(Ordering::Relaxed), 0, "deliveries failed");
    assert_eq!(ctx.acked.load(Ordering::Relaxed), n, "acknowledged");
    let (end_to_end, consumed_bytes) = reader.join().unwrap();
    assert_eq!(consumed_bytes, total_bytes, "consumed bytes");

    println!(
        "transport: {n} messages, {:.0} bytes/message, produce+consume concurrently",
        total_bytes as f64 / n as f64
    );
    println!(
        "transport: produced (all acknowledged) in {:.2} s = {:.0} msg/s",
        produced.as_secs_f64(),
        n as f64 / produced.as_secs_f64()
    );
    println!(
        "transport: end to end (first send -> last receive) {:.2} s = {:.0} msg/s",
        end_to_end.as_secs_f64(),
        n as f64 / end_to_end.as_secs_f64()
    );
    println!(
        "TRANSPORT_MSGS_PER_S={:.0}",
        n as f64 / end_to_end.as_secs_f64()
    );
}
