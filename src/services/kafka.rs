//! What the three services share about Kafka: client settings, topics, headers and the event encoding.

use std::time::Duration;

use anyhow::Context;
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::message::{Header, Headers, OwnedHeaders};
use vigil_schemas::{Event, SCHEMA_VERSION};

use crate::config::KafkaSection;

/// Header naming the layout version of a Vigil message's value.
pub(crate) const SCHEMA_HEADER: &str = "vigil-schema-version";
/// Header naming the value's encoding.
pub(crate) const CONTENT_TYPE_HEADER: &str = "content-type";
/// Normalized events, alerts and dead letters travel as JSON: see README "Kafka mode" for the
/// measurement behind the choice.
pub(crate) const JSON: &str = "application/json";

/// An idempotent producer's settings: nothing is lost or doubled by the producer's own retries.
pub(crate) fn producer_config(kafka: &KafkaSection) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &kafka.brokers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("message.timeout.ms", "120000");
    c
}

/// How long the group waits for a consumer that stopped heartbeating before it gives its partitions to
/// others.
pub(crate) const SESSION_TIMEOUT: Duration = Duration::from_secs(10);

/// A consumer's settings: offsets are stored by the service only once the output of a message is
/// durable, and committed in the background.
pub(crate) fn consumer_config(kafka: &KafkaSection, group: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &kafka.brokers)
        .set("group.id", group)
        .set("enable.auto.offset.store", "false")
        .set("enable.auto.commit", "true")
        .set("auto.commit.interval.ms", "1000")
        .set("auto.offset.reset", "earliest")
        .set(
            "session.timeout.ms",
            SESSION_TIMEOUT.as_millis().to_string(),
        )
        .set("heartbeat.interval.ms", "1000")
        // Fewer, larger fetches when a stage catches up on a backlog (default 1 MiB): each fetch
        // costs the broker a lookup from the offset on (for Tansu's SQLite storage, a scan to the
        // end of the partition); `bench/kafka.sh` moved about 20 % more events/s from a backlog.
        // Memory stays bounded by librdkafka's `fetch.max.bytes` and `queued.max.messages.kbytes`.
        .set("max.partition.fetch.bytes", "8388608");
    c
}

/// Creates `topics` with `kafka.partitions` partitions when they do not exist yet.
pub(crate) fn ensure_topics(kafka: &KafkaSection, topics: &[&str]) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", &kafka.brokers)
        .create()
        .context("cannot create a Kafka admin client")?;
    let new: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|t| NewTopic::new(t, kafka.partitions, TopicReplication::Fixed(1)))
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start a runtime for the Kafka admin client")?;
    let results = runtime
        .block_on(admin.create_topics(&new, &options))
        .with_context(|| {
            format!(
                "no Kafka broker answers at {}; start one or fix kafka.brokers",
                kafka.brokers
            )
        })?;
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => anyhow::bail!("cannot create topic {topic}: {code}"),
        }
    }
    Ok(())
}

/// Headers of a JSON message of Vigil's own layout.
pub(crate) fn json_headers() -> OwnedHeaders {
    OwnedHeaders::new()
        .insert(Header {
            key: SCHEMA_HEADER,
            value: Some(SCHEMA_VERSION),
        })
        .insert(Header {
            key: CONTENT_TYPE_HEADER,
            value: Some(JSON),
        })
}

/// The value of header `name`, if present and UTF-8.
pub(crate) fn header<'a, H: Headers>(headers: Option<&'a H>, name: &str) -> Option<&'a str> {
    let headers = headers?;
    headers
        .iter()
        .find(|h| h.key == name)
        .and_then(|h| h.value)
        .and_then(|v| std::str::from_utf8(v).ok())
}

/// An event as a message value.
pub(crate) fn encode_event(event: &Event) -> anyhow::Result<Vec<u8>> {
    Ok(serde_json::to_vec(event)?)
}

/// A message value back into an event.
pub(crate) fn decode_event(bytes: &[u8]) -> anyhow::Result<Event> {
    Ok(serde_json::from_slice(bytes)?)
}
