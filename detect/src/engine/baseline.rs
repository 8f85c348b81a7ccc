//! One identity's baseline: decayed frequencies of its actions and of the context it acts from, its
//! hour-of-week rhythm, and EWMA volume and error rates per window. Bounded by construction: fixed-size
//! tables that evict their weakest entry, so an identity costs the same on day 300 as on day 30.

use serde::{Deserialize, Serialize};

use super::observe::ContextKind;

/// Days are counted from 2020-01-01 so they fit 16 bits for the next 170 years.
const DAY_EPOCH: i64 = 1_577_836_800;
/// Weights are fixed-point: one event adds this much.
const UNIT: u32 = 16;

pub(crate) fn day_of(time: i64) -> u16 {
    ((time - DAY_EPOCH).max(0) / 86_400).min(i64::from(u16::MAX)) as u16
}

/// Hour of week (0 = Monday 00:00 UTC).
pub(crate) fn hour_of_week(time: i64) -> usize {
    // 1970-01-01 was a Thursday: shift by three days so that index 0 is Monday.
    ((time.div_euclid(3600) + 72).rem_euclid(168)) as usize
}

/// A remembered value: its fingerprint, first and last day of use and a decayed count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Slot {
    pub(crate) fp: u32,
    pub(crate) first_day: u16,
    pub(crate) last_day: u16,
    pub(crate) weight: u16,
    /// Kept from eviction: a high-risk permission must keep its last-use day for the dormancy check.
    pub(crate) protected: bool,
    /// What the value is ([`ACTION_KIND`] or a context kind), so population tables can skip the kinds
    /// that are unique to each identity (addresses). Fits in the slot's padding.
    pub(crate) kind: u8,
}

/// The kind tag of an action slot.
pub(crate) const ACTION_KIND: u8 = u8::MAX;

/// Kinds remembered only while there is room: unique to each identity and weak evidence.
fn is_weak(kind: u8) -> bool {
    kind == ContextKind::Address as u8 || kind == ContextKind::ResourceType as u8
}

/// What a table said about a value when it was looked up and recorded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Seen {
    /// Never in the table (or evicted long ago).
    New,
    /// Seen before; the day of its previous use and its decayed weight in events.
    Before {
        last_day: u16,
        first_day: u16,
        weight: f32,
    },
}

/// A fixed-capacity frequency table with exponential decay (half-life in days).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Table {
    pub(crate) slots: Vec<Slot>,
}

impl Table {
    /// Records one use on `day` and says what was known before. A new value takes a free slot or the
    /// weakest one (weak kinds first, then values not used today, then the lightest).
    pub(crate) fn record(
        &mut self,
        fp: u32,
        day: u16,
        capacity: usize,
        half_life_days: u16,
        protect: bool,
        kind: u8,
    ) -> Seen {
        if let Some(slot) = self.slots.iter_mut().find(|s| s.fp == fp) {
            let weight = decayed(
                slot.weight,
                day.saturating_sub(slot.last_day),
                half_life_days,
            );
            let seen = Seen::Before {
                last_day: slot.last_day,
                first_day: slot.first_day,
                weight: f32::from(weight) / UNIT as f32,
            };
            slot.weight = (u32::from(weight) + UNIT).min(u32::from(u16::MAX)) as u16;
            slot.last_day = slot.last_day.max(day);
            slot.protected |= protect;
            return seen;
        }
        let fresh = Slot {
            fp,
            first_day: day,
            last_day: day,
            weight: UNIT as u16,
            protected: protect,
            kind,
        };
        let weak = is_weak(kind);
        // Weak values (addresses, resource types) take at most half the table and never a slot a
        // strong value holds: NAT pools would otherwise push out the services and networks that
        // novelty is judged by, and every pushed-out network would look new again.
        let room = if weak { capacity / 2 } else { capacity };
        if self.slots.len() < room {
            if self.slots.capacity() == self.slots.len() {
                // Grow in small steps: the default doubling would overshoot the state budget.
                self.slots
                    .reserve_exact((capacity / 4).max(1).min(capacity - self.slots.len()));
            }
            self.slots.push(fresh);
        } else if let Some(victim) = self.weakest(day, half_life_days)
            && (!weak || is_weak(self.slots[victim].kind))
        {
            self.slots[victim] = fresh;
        }
        Seen::New
    }

    /// Looks a value up without recording it.
    #[cfg(test)]
    pub(crate) fn get(&self, fp: u32) -> Option<&Slot> {
        self.slots.iter().find(|s| s.fp == fp)
    }

    /// The slot to give up: never one used today if any other can go (a value new this morning must
    /// not be pushed out by the next new value of the same burst), else the lightest, oldest one;
    /// protected slots last.
    fn weakest(&self, day: u16, half_life_days: u16) -> Option<usize> {
        let rank = |s: &Slot| {
            (
                s.protected,
                !is_weak(s.kind),
                s.last_day >= day,
                decayed(s.weight, day.saturating_sub(s.last_day), half_life_days),
                s.last_day,
            )
        };
        self.slots
            .iter()
            .enumerate()
            .min_by_key(|(_, s)| rank(s))
            .map(|(i, _)| i)
    }

    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot>()
    }
}

/// `weight` halved once per `half_life_days` elapsed (stepwise, integer only, so checkpoints replay
/// bit for bit).
fn decayed(weight: u16, days: u16, half_life_days: u16) -> u16 {
    let halvings = days / half_life_days.max(1);
    if halvings >= 16 {
        0
    } else {
        weight >> halvings
    }
}

/// Exponentially weighted mean and variance (West's incremental form).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Ewma {
    pub(crate) mean: f32,
    pub(crate) var: f32,
    pub(crate) n: u32,
}

impl Ewma {
    pub(crate) fn update(&mut self, x: f32, alpha: f32) {
        if self.n == 0 {
            self.mean = x;
            self.var = 0.0;
        } else {
            // Early on, weight like a plain mean so the first window does not dominate for long.
            let a = alpha.max(1.0 / (self.n as f32 + 1.0));
            let diff = x - self.mean;
            let incr = a * diff;
            self.mean += incr;
            self.var = (1.0 - a) * (self.var + diff * incr);
        }
        self.n = self.n.saturating_add(1);
    }

    /// How many standard deviations `x` lies above the mean; `floor_sd` keeps a steady series (always
    /// 1 event) from making the second event look infinitely odd.
    pub(crate) fn z(&self, x: f32, floor_sd: f32) -> f32 {
        if self.n < 3 {
            return 0.0;
        }
        (x - self.mean) / self.var.sqrt().max(floor_sd)
    }
}

/// The identity's rhythm: events per hour of week, scaled so the busiest hour is at most 255.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Rhythm {
    /// Two hours per byte, four bits each: the profile is a shape, and fifteen levels per hour keep
    /// it while halving the bytes (the state budget is 1 KiB per identity).
    #[serde(with = "serde_hours")]
    pub(crate) hours: [u8; 84],
    pub(crate) total: u32,
}

impl Default for Rhythm {
    fn default() -> Self {
        Rhythm {
            hours: [0; 84],
            total: 0,
        }
    }
}

impl Rhythm {
    pub(crate) fn record(&mut self, hour: usize) {
        if self.count(hour) == 15 {
            // Halving every hour is how the profile forgets: old habits fade as new ones fill it.
            // Both nibbles of a byte at once: shift, then clear the bit each nibble lent the other.
            for b in &mut self.hours {
                *b = (*b >> 1) & 0x77;
            }
            self.total = (0..168).map(|h| u32::from(self.count(h))).sum();
        }
        let shift = 4 * (hour % 2);
        self.hours[hour / 2] += 1 << shift;
        self.total += 1;
    }

    pub(crate) fn count(&self, hour: usize) -> u8 {
        (self.hours[hour / 2] >> (4 * (hour % 2))) & 0x0f
    }

    /// The identity's share of activity around this hour: the hour of week itself and, for
    /// weekly patterns not yet seen every week, the same hour of any day; neighbouring hours count
    /// half, so 09:00 is not odd for someone active at 10:00.
    pub(crate) fn share(&self, hour: usize) -> f32 {
        if self.total == 0 {
            return 0.0;
        }
        let at = |h: usize| f32::from(self.count(h % 168));
        let week = at(hour) + 0.5 * (at(hour + 167) + at(hour + 1));
        let mut day = 0.0;
        let hod = hour % 24;
        for d in 0..7 {
            let h = d * 24 + hod;
            day += at(h) + 0.5 * (at(h + 167) + at(h + 1));
        }
        let total = self.total as f32;
        // Smoothing spreads each event over two hours' worth of weight, hence the 2 × total.
        0.5 * week / (2.0 * total) + 0.5 * day / (2.0 * total) / 7.0
    }
}

mod serde_hours {
    use serde::{Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(hours: &[u8; 84], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(hours)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 84], D::Error> {
        let bytes: Vec<u8> = serde_bytes_compat(d)?;
        bytes.try_into().map_err(|_| {
            serde::de::Error::custom("hour-of-week profile must have 84 bytes (168 hours)")
        })
    }

    fn serde_bytes_compat<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        // Accept both a byte string (MessagePack bin) and a sequence (JSON), whichever the format gives.
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("84 bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
                Ok(v)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Vec<u8>, A::Error> {
                let mut out = Vec::with_capacity(84);
                while let Some(b) = a.next_element::<u8>()? {
                    out.push(b);
                }
                Ok(out)
            }
        }
        d.deserialize_any(V)
    }
}

/// Shares of an identity's activity by kind of action, the input of peer grouping.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Mix {
    /// Read, list, write, delete, permission change; decayed by halving together.
    pub(crate) counts: [u16; 5],
}

impl Mix {
    pub(crate) fn record(&mut self, index: Option<usize>) {
        let Some(i) = index else { return };
        if self.counts[i] == u16::MAX {
            for c in &mut self.counts {
                *c /= 2;
            }
        }
        self.counts[i] += 1;
    }

    pub(crate) fn shares(&self) -> [f32; 5] {
        let total: f32 = self.counts.iter().map(|&c| f32::from(c)).sum();
        let mut out = [0.0; 5];
        if total > 0.0 {
            for (o, &c) in out.iter_mut().zip(&self.counts) {
                *o = f32::from(c) / total;
            }
        }
        out
    }
}

/// Everything remembered about one identity between windows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Baseline {
    pub(crate) actions: Table,
    /// Services, networks, addresses, agents, regions and resource types, told apart by fingerprint.
    pub(crate) context: Table,
    pub(crate) rhythm: Rhythm,
    pub(crate) mix: Mix,
    /// Events per active window, and failed events per active window.
    pub(crate) volume: Ewma,
    pub(crate) errors: Ewma,
    /// Share of sensitive calls per active window.
    pub(crate) sensitive_share: Ewma,
    pub(crate) events: u32,
    pub(crate) first_time: i64,
    pub(crate) last_time: i64,
    pub(crate) active_days: u16,
    pub(crate) last_active_day: u16,
    /// A workload (role, service principal, managed identity, service account) rather than a person.
    pub(crate) workload: bool,
    /// Peer group in its provider's population, when one has been assigned.
    pub(crate) peer: Option<u8>,
}

impl Baseline {
    pub(crate) fn days_of_history(&self) -> f32 {
        if self.events == 0 {
            return 0.0;
        }
        (self.last_time - self.first_time) as f32 / 86_400.0
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.actions.heap_bytes() + self.context.heap_bytes()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn tables_remember_first_and_last_use_and_evict_the_weakest() {
        let mut t = Table::default();
        assert_eq!(t.record(1, 10, 3, 14, false, ACTION_KIND), Seen::New);
        t.record(1, 11, 3, 14, false, ACTION_KIND);
        t.record(2, 12, 3, 14, true, ACTION_KIND);
        t.record(3, 12, 3, 14, false, ACTION_KIND);
        match t.record(1, 20, 3, 14, false, ACTION_KIND) {
            Seen::Before {
                last_day,
                first_day,
                weight,
            } => {
                assert_eq!((first_day, last_day), (10, 11));
                assert!(
                    (weight - 2.0).abs() < 1e-6,
                    "two uses, no halving yet: {weight}"
                );
            }
            Seen::New => panic!("1 was recorded"),
        }
        // Full: a new value evicts the weakest unprotected entry (3, used once), never 2 (protected).
        assert_eq!(t.record(4, 21, 3, 14, false, ACTION_KIND), Seen::New);
        assert!(t.get(2).is_some() && t.get(1).is_some() && t.get(3).is_none());
        assert_eq!(t.len(), 3);
    }

    #[test]
    fn addresses_never_push_out_services_or_networks_and_slots_stay_12_bytes() {
        let address = ContextKind::Address as u8;
        let network = ContextKind::Network as u8;
        let mut t = Table::default();
        t.record(100, 1, 4, 14, false, network);
        t.record(101, 1, 4, 14, false, address);
        // Weak values stop at half the table…
        assert_eq!(t.record(102, 1, 4, 14, false, address), Seen::New);
        assert_eq!(t.len(), 2);
        t.record(103, 1, 4, 14, false, network);
        t.record(104, 1, 4, 14, false, network);
        // …and a strong value evicts a weak one before any strong one.
        t.record(105, 2, 4, 14, false, network);
        assert!(t.get(101).is_none());
        assert!([100, 103, 104, 105].iter().all(|fp| t.get(*fp).is_some()));
        assert_eq!(std::mem::size_of::<Slot>(), 12);
    }

    #[test]
    fn decay_halves_per_half_life() {
        assert_eq!(decayed(64, 0, 14), 64);
        assert_eq!(decayed(64, 14, 14), 32);
        assert_eq!(decayed(64, 29, 14), 16);
        assert_eq!(decayed(64, 400, 14), 0);
    }

    #[test]
    fn ewma_z_scores_a_burst() {
        let mut e = Ewma::default();
        for x in [2.0, 3.0, 2.0, 4.0, 3.0, 2.0, 3.0] {
            e.update(x, 0.1);
        }
        assert!(e.z(30.0, 1.0) > 10.0);
        assert!(e.z(3.0, 1.0) < 1.0);
        assert_eq!(Ewma::default().z(100.0, 1.0), 0.0, "no history, no z");
    }

    #[test]
    fn rhythm_share_is_low_at_unusual_hours() {
        let mut r = Rhythm::default();
        // Weekdays 09:00–17:00 UTC for four weeks (2026-03-02 is a Monday).
        let monday = 1_772_409_600;
        for week in 0..4 {
            for day in 0..5 {
                for hour in 9..17 {
                    let t = monday + week * 7 * 86_400 + day * 86_400 + hour * 3600;
                    r.record(hour_of_week(t));
                }
            }
        }
        assert_eq!(hour_of_week(monday), 0);
        let office = r.share(hour_of_week(monday + 10 * 3600));
        let night = r.share(hour_of_week(monday + 3 * 3600));
        assert!(office > 0.01, "{office}");
        assert!(night < 0.001, "{night}");
    }

    #[test]
    fn days_are_16_bit_and_monotonic() {
        assert_eq!(day_of(DAY_EPOCH), 0);
        assert_eq!(day_of(DAY_EPOCH + 86_400 * 3 + 5), 3);
        assert_eq!(day_of(0), 0);
    }
}
