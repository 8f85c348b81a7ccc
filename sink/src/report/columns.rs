//! Reading query results back into Rust values, whatever Arrow encoding DataFusion chose for a
//! column (Utf8 or Utf8View, List or LargeList): each column is cast to one known type first.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::TimestampMicrosecondType;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, TimeUnit};
use chrono::{DateTime, Utc};
use datafusion::arrow::compute::cast;

use crate::SinkError;

fn column<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a ArrayRef, SinkError> {
    batch.column_by_name(name).ok_or_else(|| SinkError::Column {
        file: "query result".to_string(),
        column: name.to_string(),
    })
}

/// A text column; nulls (and a missing column) as `None`.
pub(crate) fn strings(batch: &RecordBatch, name: &str) -> Result<Vec<Option<String>>, SinkError> {
    let Some(array) = batch.column_by_name(name) else {
        return Ok(vec![None; batch.num_rows()]);
    };
    let array = cast(array, &DataType::Utf8)?;
    let array = array.as_string::<i32>();
    Ok((0..array.len())
        .map(|i| (!array.is_null(i)).then(|| array.value(i).to_string()))
        .collect())
}

/// A timestamp column in UTC.
pub(crate) fn times(
    batch: &RecordBatch,
    name: &str,
) -> Result<Vec<Option<DateTime<Utc>>>, SinkError> {
    let array = cast(
        column(batch, name)?,
        &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
    )?;
    let array = array.as_primitive::<TimestampMicrosecondType>();
    Ok((0..array.len())
        .map(|i| {
            (!array.is_null(i))
                .then(|| DateTime::from_timestamp_micros(array.value(i)))
                .flatten()
        })
        .collect())
}

/// A numeric column as f64.
pub(crate) fn floats(batch: &RecordBatch, name: &str) -> Result<Vec<Option<f64>>, SinkError> {
    let array = cast(column(batch, name)?, &DataType::Float64)?;
    let array = array.as_primitive::<arrow_array::types::Float64Type>();
    Ok((0..array.len())
        .map(|i| (!array.is_null(i)).then(|| array.value(i)))
        .collect())
}

/// A list-of-text column.
pub(crate) fn string_lists(batch: &RecordBatch, name: &str) -> Result<Vec<Vec<String>>, SinkError> {
    let item = Arc::new(Field::new("item", DataType::Utf8, true));
    let array = cast(column(batch, name)?, &DataType::List(item))?;
    let list = array.as_list::<i32>();
    let mut out = Vec::with_capacity(list.len());
    for i in 0..list.len() {
        if list.is_null(i) {
            out.push(Vec::new());
            continue;
        }
        let values = list.value(i);
        let values = values.as_string::<i32>();
        out.push(
            (0..values.len())
                .filter(|j| !values.is_null(*j))
                .map(|j| values.value(j).to_string())
                .collect(),
        );
    }
    Ok(out)
}

/// One resource an event names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResourceRef {
    pub(crate) id: String,
    pub(crate) kind: Option<String>,
}

/// The `resources` column (list of struct `id`, `kind`, `name`) of the events table.
pub(crate) fn resources(batch: &RecordBatch) -> Result<Vec<Vec<ResourceRef>>, SinkError> {
    let Some(array) = batch.column_by_name("resources") else {
        return Ok(vec![Vec::new(); batch.num_rows()]);
    };
    let Some(list) = array.as_list_opt::<i32>() else {
        return Err(SinkError::Column {
            file: "query result".to_string(),
            column: "resources".to_string(),
        });
    };
    let mut out = Vec::with_capacity(list.len());
    for i in 0..list.len() {
        if list.is_null(i) {
            out.push(Vec::new());
            continue;
        }
        let items = list.value(i);
        let Some(items) = items.as_struct_opt() else {
            out.push(Vec::new());
            continue;
        };
        let ids = match items.column_by_name("id") {
            Some(a) => cast(a, &DataType::Utf8)?,
            None => {
                out.push(Vec::new());
                continue;
            }
        };
        let kinds = match items.column_by_name("kind") {
            Some(a) => Some(cast(a, &DataType::Utf8)?),
            None => None,
        };
        let ids = ids.as_string::<i32>();
        let kinds = kinds.as_ref().map(|k| k.as_string::<i32>());
        out.push(
            (0..ids.len())
                .filter(|j| !ids.is_null(*j) && !items.is_null(*j))
                .map(|j| ResourceRef {
                    id: ids.value(j).to_string(),
                    kind: kinds
                        .filter(|k| !k.is_null(j))
                        .map(|k| k.value(j).to_string()),
                })
                .collect(),
        );
    }
    Ok(out)
}
