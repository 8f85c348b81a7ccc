//! The Arrow schema of the normalized event, and conversion both ways. Flat columns for what queries
//! filter on (identity, action, time, outcome), lists of structs for resources and the delegation chain.

use std::sync::{Arc, LazyLock};

use arrow_array::builder::{
    BooleanBuilder, ListBuilder, StringBuilder, StructBuilder, TimestampMicrosecondBuilder,
    UInt64Builder,
};
use arrow_array::{
    Array, ArrayRef, BooleanArray, ListArray, RecordBatch, StringArray, StructArray,
    TimestampMicrosecondArray, UInt64Array,
};
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use chrono::{DateTime, Utc};

use crate::SchemaError;
use crate::event::{
    Action, ActionCategory, ChainLink, ChainRelation, Event, EventClass, Outcome, OutcomeStatus,
    Provider, RawRef, Resource, SourceEndpoint,
};
use crate::identity::{Identity, IdentityKind};

fn timestamp() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

fn chain_fields() -> Fields {
    Fields::from(vec![
        Field::new("relation", DataType::Utf8, false),
        Field::new("principal", DataType::Utf8, false),
    ])
}

fn resource_fields() -> Fields {
    Fields::from(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("kind", DataType::Utf8, true),
        Field::new("name", DataType::Utf8, true),
    ])
}

static EVENT_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let utf8 = |name: &str, nullable: bool| Field::new(name, DataType::Utf8, nullable);
    Arc::new(Schema::new(vec![
        utf8("event_id", false),
        Field::new("event_time", timestamp(), false),
        Field::new("event_time_estimated", DataType::Boolean, false),
        Field::new("ingest_time", timestamp(), false),
        utf8("provider", false),
        utf8("class", false),
        utf8("account_id", true),
        utf8("tenant_id", true),
        utf8("region", true),
        utf8("identity_key", false),
        utf8("identity_type", false),
        utf8("identity_display_name", true),
        utf8("identity_session_name", true),
        utf8("identity_credential_id", true),
        Field::new("identity_mfa", DataType::Boolean, true),
        Field::new(
            "identity_chain",
            DataType::List(Arc::new(Field::new(
                "item",
                DataType::Struct(chain_fields()),
                true,
            ))),
            false,
        ),
        utf8("action_service", false),
        utf8("action_operation", false),
        utf8("action_permission", false),
        utf8("action_category", false),
        Field::new(
            "resources",
            DataType::List(Arc::new(Field::new(
                "item",
                DataType::Struct(resource_fields()),
                true,
            ))),
            false,
        ),
        utf8("src_ip", true),
        utf8("src_raw", true),
        utf8("user_agent", true),
        utf8("outcome_status", false),
        utf8("outcome_error_code", true),
        utf8("outcome_error_message", true),
        utf8("raw_source", false),
        Field::new("raw_byte_offset", DataType::UInt64, false),
        Field::new("raw_record_index", DataType::UInt64, false),
        utf8("raw_format", false),
    ]))
});

/// The Arrow schema of [`Event`]; the Parquet lake's `events` table has exactly these columns.
pub fn event_schema() -> SchemaRef {
    EVENT_SCHEMA.clone()
}

/// Builds one record batch from events, in order.
pub fn events_to_batch(events: &[Event]) -> Result<RecordBatch, SchemaError> {
    let n = events.len();
    let s = |_: &str| StringBuilder::with_capacity(n, n * 16);
    let mut event_id = s("");
    let mut event_time = TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
    let mut estimated = BooleanBuilder::with_capacity(n);
    let mut ingest_time = TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
    let (mut provider, mut class, mut account, mut tenant, mut region) =
        (s(""), s(""), s(""), s(""), s(""));
    let (mut key, mut kind, mut display, mut session, mut credential) =
        (s(""), s(""), s(""), s(""), s(""));
    let mut mfa = BooleanBuilder::with_capacity(n);
    let mut chain = ListBuilder::new(StructBuilder::from_fields(chain_fields(), 0)).with_field(
        Arc::new(Field::new("item", DataType::Struct(chain_fields()), true)),
    );
    let (mut service, mut operation, mut permission, mut category) = (s(""), s(""), s(""), s(""));
    let mut resources =
        ListBuilder::new(StructBuilder::from_fields(resource_fields(), 0)).with_field(Arc::new(
            Field::new("item", DataType::Struct(resource_fields()), true),
        ));
    let (mut src_ip, mut src_raw, mut agent) = (s(""), s(""), s(""));
    let (mut status, mut error_code, mut error_message) = (s(""), s(""), s(""));
    let mut raw_source = s("");
    let mut byte_offset = UInt64Builder::with_capacity(n);
    let mut record_index = UInt64Builder::with_capacity(n);
    let mut raw_format = s("");

    for e in events {
        event_id.append_value(&e.event_id);
        event_time.append_value(e.event_time.timestamp_micros());
        estimated.append_value(e.event_time_estimated);
        ingest_time.append_value(e.ingest_time.timestamp_micros());
        provider.append_value(e.provider.as_str());
        class.append_value(e.class.as_str());
        account.append_option(e.account_id.as_deref());
        tenant.append_option(e.tenant_id.as_deref());
        region.append_option(e.region.as_deref());
        key.append_value(&e.identity.key);
        kind.append_value(e.identity.kind.as_str());
        display.append_option(e.identity.display_name.as_deref());
        session.append_option(e.identity.session_name.as_deref());
        credential.append_option(e.identity.credential_id.as_deref());
        mfa.append_option(e.identity.mfa);
        for link in &e.identity.chain {
            let item = chain.values();
            append_str(item, 0, Some(link.relation.as_str()))?;
            append_str(item, 1, Some(&link.principal))?;
            item.append(true);
        }
        chain.append(true);
        service.append_value(&e.action.service);
        operation.append_value(&e.action.operation);
        permission.append_value(&e.action.permission);
        category.append_value(e.action.category.as_str());
        for r in &e.resources {
            let item = resources.values();
            append_str(item, 0, Some(&r.id))?;
            append_str(item, 1, r.kind.as_deref())?;
            append_str(item, 2, r.name.as_deref())?;
            item.append(true);
        }
        resources.append(true);
        src_ip.append_option(e.source.ip.map(|ip| ip.to_string()));
        src_raw.append_option(e.source.raw.as_deref());
        agent.append_option(e.user_agent.as_deref());
        status.append_value(e.outcome.status.as_str());
        error_code.append_option(e.outcome.error_code.as_deref());
        error_message.append_option(e.outcome.error_message.as_deref());
        raw_source.append_value(&e.raw_ref.source);
        byte_offset.append_value(e.raw_ref.byte_offset);
        record_index.append_value(e.raw_ref.record_index);
        raw_format.append_value(&e.raw_ref.format);
    }

    let columns: Vec<ArrayRef> = vec![
        Arc::new(event_id.finish()),
        Arc::new(event_time.finish()),
        Arc::new(estimated.finish()),
        Arc::new(ingest_time.finish()),
        Arc::new(provider.finish()),
        Arc::new(class.finish()),
        Arc::new(account.finish()),
        Arc::new(tenant.finish()),
        Arc::new(region.finish()),
        Arc::new(key.finish()),
        Arc::new(kind.finish()),
        Arc::new(display.finish()),
        Arc::new(session.finish()),
        Arc::new(credential.finish()),
        Arc::new(mfa.finish()),
        Arc::new(chain.finish()),
        Arc::new(service.finish()),
        Arc::new(operation.finish()),
        Arc::new(permission.finish()),
        Arc::new(category.finish()),
        Arc::new(resources.finish()),
        Arc::new(src_ip.finish()),
        Arc::new(src_raw.finish()),
        Arc::new(agent.finish()),
        Arc::new(status.finish()),
        Arc::new(error_code.finish()),
        Arc::new(error_message.finish()),
        Arc::new(raw_source.finish()),
        Arc::new(byte_offset.finish()),
        Arc::new(record_index.finish()),
        Arc::new(raw_format.finish()),
    ];
    Ok(RecordBatch::try_new(event_schema(), columns)?)
}

fn append_str(
    item: &mut StructBuilder,
    index: usize,
    value: Option<&str>,
) -> Result<(), SchemaError> {
    let builder = item
        .field_builder::<StringBuilder>(index)
        .ok_or(SchemaError::Column {
            column: "struct field builder",
        })?;
    builder.append_option(value);
    Ok(())
}

/// Reads events back from a batch with the [`event_schema`] columns (by name, so extra columns and
/// another column order are fine).
pub fn batch_to_events(batch: &RecordBatch) -> Result<Vec<Event>, SchemaError> {
    batch_to_events_of(batch, None)
}

/// As [`batch_to_events`], for a batch that may lack the `provider` column because its value lives
/// in the path (a lake file under `provider=<p>/`): then every row is `path_provider`.
pub fn batch_to_events_of(
    batch: &RecordBatch,
    path_provider: Option<Provider>,
) -> Result<Vec<Event>, SchemaError> {
    let strings = |name: &'static str| -> Result<&StringArray, SchemaError> {
        batch
            .column_by_name(name)
            .and_then(|c| c.as_any().downcast_ref::<StringArray>())
            .ok_or(SchemaError::Column { column: name })
    };
    let times = |name: &'static str| -> Result<&TimestampMicrosecondArray, SchemaError> {
        batch
            .column_by_name(name)
            .and_then(|c| c.as_any().downcast_ref::<TimestampMicrosecondArray>())
            .ok_or(SchemaError::Column { column: name })
    };
    let u64s = |name: &'static str| -> Result<&UInt64Array, SchemaError> {
        batch
            .column_by_name(name)
            .and_then(|c| c.as_any().downcast_ref::<UInt64Array>())
            .ok_or(SchemaError::Column { column: name })
    };
    let lists = |name: &'static str| -> Result<&ListArray, SchemaError> {
        batch
            .column_by_name(name)
            .and_then(|c| c.as_any().downcast_ref::<ListArray>())
            .ok_or(SchemaError::Column { column: name })
    };
    let opt = |a: &StringArray, i: usize| {
        if a.is_null(i) {
            None
        } else {
            Some(a.value(i).to_string())
        }
    };

    let event_id = strings("event_id")?;
    let (event_time, ingest_time) = (times("event_time")?, times("ingest_time")?);
    let provider = match (batch.column_by_name("provider"), path_provider) {
        (None, Some(p)) => Err(p),
        _ => Ok(strings("provider")?),
    };
    let class = strings("class")?;
    let (account, tenant, region) = (
        strings("account_id")?,
        strings("tenant_id")?,
        strings("region")?,
    );
    let (key, kind, display) = (
        strings("identity_key")?,
        strings("identity_type")?,
        strings("identity_display_name")?,
    );
    let (session, credential) = (
        strings("identity_session_name")?,
        strings("identity_credential_id")?,
    );
    let booleans = |name: &'static str| -> Result<&BooleanArray, SchemaError> {
        batch
            .column_by_name(name)
            .and_then(|c| c.as_any().downcast_ref::<BooleanArray>())
            .ok_or(SchemaError::Column { column: name })
    };
    let mfa = booleans("identity_mfa")?;
    let estimated = booleans("event_time_estimated")?;
    let chain = lists("identity_chain")?;
    let (service, operation) = (strings("action_service")?, strings("action_operation")?);
    let (permission, category) = (strings("action_permission")?, strings("action_category")?);
    let resources = lists("resources")?;
    let (src_ip, src_raw, agent) = (
        strings("src_ip")?,
        strings("src_raw")?,
        strings("user_agent")?,
    );
    let (status, error_code, error_message) = (
        strings("outcome_status")?,
        strings("outcome_error_code")?,
        strings("outcome_error_message")?,
    );
    let (raw_source, raw_format) = (strings("raw_source")?, strings("raw_format")?);
    let (byte_offset, record_index) = (u64s("raw_byte_offset")?, u64s("raw_record_index")?);

    let bad = |column: &'static str, row: usize, reason: String| SchemaError::Value {
        column,
        row,
        reason,
    };
    let time = |a: &TimestampMicrosecondArray,
                column: &'static str,
                i: usize|
     -> Result<DateTime<Utc>, SchemaError> {
        DateTime::from_timestamp_micros(a.value(i))
            .ok_or_else(|| bad(column, i, "timestamp out of range".into()))
    };

    let mut out = Vec::with_capacity(batch.num_rows());
    for i in 0..batch.num_rows() {
        let links = struct_items(chain, i)?;
        let chain_links = (0..links.len())
            .map(|j| {
                let relation = string_field(&links, 0, j).unwrap_or_default();
                Ok(ChainLink {
                    relation: ChainRelation::parse(&relation).ok_or_else(|| {
                        bad("identity_chain", i, format!("unknown relation {relation}"))
                    })?,
                    principal: string_field(&links, 1, j).unwrap_or_default(),
                })
            })
            .collect::<Result<Vec<_>, SchemaError>>()?;
        let items = struct_items(resources, i)?;
        let resource_list = (0..items.len())
            .map(|j| Resource {
                id: string_field(&items, 0, j).unwrap_or_default(),
                kind: string_field(&items, 1, j),
                name: string_field(&items, 2, j),
            })
            .collect();
        let ip = match opt(src_ip, i) {
            Some(text) => Some(
                text.parse()
                    .map_err(|_| bad("src_ip", i, format!("not an IP: {text}")))?,
            ),
            None => None,
        };
        out.push(Event {
            event_id: event_id.value(i).to_string(),
            event_time: time(event_time, "event_time", i)?,
            event_time_estimated: estimated.value(i),
            ingest_time: time(ingest_time, "ingest_time", i)?,
            provider: match provider {
                Ok(column) => Provider::parse(column.value(i))
                    .ok_or_else(|| bad("provider", i, column.value(i).into()))?,
                Err(from_path) => from_path,
            },
            class: EventClass::parse(class.value(i))
                .ok_or_else(|| bad("class", i, class.value(i).into()))?,
            account_id: opt(account, i),
            tenant_id: opt(tenant, i),
            region: opt(region, i),
            identity: Identity {
                key: key.value(i).to_string(),
                kind: IdentityKind::parse(kind.value(i))
                    .ok_or_else(|| bad("identity_type", i, kind.value(i).into()))?,
                display_name: opt(display, i),
                session_name: opt(session, i),
                credential_id: opt(credential, i),
                mfa: if mfa.is_null(i) {
                    None
                } else {
                    Some(mfa.value(i))
                },
                chain: chain_links,
            },
            action: Action {
                service: service.value(i).to_string(),
                operation: operation.value(i).to_string(),
                permission: permission.value(i).to_string(),
                category: ActionCategory::parse(category.value(i))
                    .ok_or_else(|| bad("action_category", i, category.value(i).into()))?,
            },
            resources: resource_list,
            source: SourceEndpoint {
                ip,
                raw: opt(src_raw, i),
            },
            user_agent: opt(agent, i),
            outcome: Outcome {
                status: OutcomeStatus::parse(status.value(i))
                    .ok_or_else(|| bad("outcome_status", i, status.value(i).into()))?,
                error_code: opt(error_code, i),
                error_message: opt(error_message, i),
            },
            raw_ref: RawRef {
                source: raw_source.value(i).to_string(),
                byte_offset: byte_offset.value(i),
                record_index: record_index.value(i),
                format: raw_format.value(i).to_string(),
            },
        });
    }
    Ok(out)
}

/// The struct items of list row `row`.
fn struct_items(list: &ListArray, row: usize) -> Result<StructArray, SchemaError> {
    list.value(row)
        .as_any()
        .downcast_ref::<StructArray>()
        .cloned()
        .ok_or(SchemaError::Column {
            column: "list of struct",
        })
}

fn string_field(items: &StructArray, field: usize, j: usize) -> Option<String> {
    let column = items.column(field).as_any().downcast_ref::<StringArray>()?;
    if column.is_null(j) {
        None
    } else {
        Some(column.value(j).to_string())
    }
}
