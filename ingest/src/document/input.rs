//! Whole-input work before framing: gzip, and cutting large NDJSON into pieces for several threads.

use std::io::Read;

use super::Normalized;

impl Normalized {
    pub(super) fn shift_offsets(&mut self, base: u64) {
        for e in &mut self.events {
            e.raw_ref.byte_offset += base;
        }
        for d in &mut self.dead_letters {
            d.byte_offset += base;
        }
    }
}

/// Where to cut `buf` for `threads` threads: only NDJSON-shaped input (its first line is a whole JSON
/// document) of at least two pieces' size, cut right after a newline that is followed by `{`.
pub(super) fn split_points(
    buf: &[u8],
    threads: usize,
    piece_bytes: u64,
) -> Vec<std::ops::Range<usize>> {
    let piece_bytes = piece_bytes.max(1) as usize;
    let pieces = threads.min(buf.len() / piece_bytes);
    if pieces < 2 {
        return Vec::new();
    }
    let first_line = buf.split(|b| *b == b'\n').next().unwrap_or_default();
    if serde_json::from_slice::<serde::de::IgnoredAny>(first_line).is_err() {
        return Vec::new();
    }
    let target = buf.len() / pieces;
    let mut cuts = vec![0];
    for k in 1..pieces {
        let from = (k * target).max(cuts.last().copied().unwrap_or(0) + 1);
        let next = buf
            .get(from..)
            .and_then(|rest| rest.windows(2).position(|w| w == b"\n{"));
        if let Some(at) = next {
            cuts.push(from + at + 1);
        }
    }
    cuts.push(buf.len());
    cuts.dedup();
    cuts.windows(2)
        .map(|w| w[0]..w[1])
        .filter(|r| !r.is_empty())
        .collect()
}

/// Decompresses gzip (including multi-member files) up to `limit` bytes; on failure returns what was
/// decompressed before it and the reason.
pub(super) fn gunzip(input: &[u8], limit: u64) -> Result<Vec<u8>, (Vec<u8>, String)> {
    let mut out = Vec::with_capacity(input.len() * 8);
    let mut decoder = flate2::read::MultiGzDecoder::new(input).take(limit + 1);
    match decoder.read_to_end(&mut out) {
        Ok(_) if out.len() as u64 > limit => {
            out.truncate(0);
            Err((
                out,
                format!("gzip expands past max_input_bytes {limit}; refused"),
            ))
        }
        Ok(_) => Ok(out),
        Err(e) => {
            let reason = format!(
                "gzip stream is corrupt or truncated after {} decompressed bytes: {e}",
                out.len()
            );
            Err((out, reason))
        }
    }
}
