//! The normalized event survives JSON and Arrow round trips unchanged, for any event (property test).

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use vigil_schemas::arrow::{batch_to_events, event_schema, events_to_batch};
use vigil_schemas::*;

fn time() -> impl Strategy<Value = DateTime<Utc>> {
    (0i64..4_102_444_800_000_000)
        .prop_map(|us| DateTime::from_timestamp_micros(us).unwrap_or_default())
}

fn opt_text() -> impl Strategy<Value = Option<String>> {
    proptest::option::of("\\PC{0,12}")
}

fn identity() -> impl Strategy<Value = Identity> {
    let link = (
        prop::sample::select(vec![
            ChainRelation::AssumedFrom,
            ChainRelation::DelegatedBy,
            ChainRelation::InvokedBy,
            ChainRelation::FederatedThrough,
        ]),
        "\\PC{1,20}",
    )
        .prop_map(|(relation, principal)| ChainLink {
            relation,
            principal,
        });
    (
        "\\PC{1,40}",
        prop::sample::select(IdentityKind::ALL.to_vec()),
        opt_text(),
        opt_text(),
        opt_text(),
        proptest::option::of(any::<bool>()),
        prop::collection::vec(link, 0..3),
    )
        .prop_map(
            |(key, kind, display_name, session_name, credential_id, mfa, chain)| Identity {
                key,
                kind,
                display_name,
                session_name,
                credential_id,
                mfa,
                chain,
            },
        )
}

fn event() -> impl Strategy<Value = Event> {
    let resource = ("\\PC{1,30}", opt_text(), opt_text()).prop_map(|(id, kind, name)| Resource {
        id,
        kind,
        name,
    });
    let source = proptest::option::of(any::<std::net::IpAddr>()).prop_map(|ip| SourceEndpoint {
        ip,
        raw: ip.map(|i| i.to_string()),
    });
    let outcome = (
        prop::sample::select(vec![
            OutcomeStatus::Success,
            OutcomeStatus::Failure,
            OutcomeStatus::Unknown,
        ]),
        opt_text(),
        opt_text(),
    )
        .prop_map(|(status, error_code, error_message)| Outcome {
            status,
            error_code,
            error_message,
        });
    (
        (
            "\\PC{1,40}",
            time(),
            time(),
            prop::sample::select(Provider::ALL.to_vec()),
        ),
        (opt_text(), opt_text(), opt_text(), identity()),
        (
            "\\PC{1,20}",
            "\\PC{1,20}",
            "\\PC{1,20}",
            prop::sample::select(ActionCategory::ALL.to_vec()),
        ),
        (
            prop::collection::vec(resource, 0..4),
            source,
            opt_text(),
            outcome,
        ),
        (
            "\\PC{1,20}",
            any::<u64>(),
            any::<u64>(),
            "[a-z_]{1,20}",
            any::<bool>(),
            any::<bool>(),
        ),
    )
        .prop_map(|(a, b, c, d, e)| Event {
            event_id: a.0,
            event_time: a.1,
            event_time_estimated: e.5,
            ingest_time: a.2,
            provider: a.3,
            class: if e.4 {
                EventClass::ApiActivity
            } else {
                EventClass::Authentication
            },
            account_id: b.0,
            tenant_id: b.1,
            region: b.2,
            identity: b.3,
            action: Action {
                service: c.0,
                operation: c.1,
                permission: c.2,
                category: c.3,
            },
            resources: d.0,
            source: d.1,
            user_agent: d.2,
            outcome: d.3,
            raw_ref: RawRef {
                source: e.0,
                byte_offset: e.1,
                record_index: e.2,
                format: e.3,
            },
        })
}

proptest! {
    #[test]
    fn json_round_trip(e in event()) {
        let text = serde_json::to_string(&e).map_err(|err| TestCaseError::fail(err.to_string()))?;
        let back: Event = serde_json::from_str(&text).map_err(|err| TestCaseError::fail(err.to_string()))?;
        prop_assert_eq!(back, e);
    }

    #[test]
    fn arrow_round_trip(events in prop::collection::vec(event(), 0..20)) {
        let batch = events_to_batch(&events).map_err(|err| TestCaseError::fail(err.to_string()))?;
        prop_assert_eq!(batch.schema(), event_schema());
        prop_assert_eq!(batch.num_rows(), events.len());
        let back = batch_to_events(&batch).map_err(|err| TestCaseError::fail(err.to_string()))?;
        prop_assert_eq!(back, events);
    }

    #[test]
    fn ocsf_has_the_class_and_actor(e in event()) {
        let o = e.to_ocsf();
        prop_assert_eq!(o["class_uid"].as_u64(), Some(u64::from(e.class.class_uid())));
        prop_assert_eq!(o["actor"]["user"]["uid"].as_str(), Some(e.identity.key.as_str()));
        prop_assert_eq!(o["api"]["operation"].as_str(), Some(e.action.operation.as_str()));
        prop_assert_eq!(o["time"].as_i64(), Some(e.event_time.timestamp_millis()));
        let type_uid = o["type_uid"].as_u64().unwrap_or(0);
        prop_assert_eq!(type_uid / 100, u64::from(e.class.class_uid()));
    }
}
