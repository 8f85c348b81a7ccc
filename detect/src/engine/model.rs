//! The engine's learned part: a population model that scores closed per-identity windows, the calibration
//! that turns its raw scores into a 0–100 scale meaning the same in every estate, and peer groups for the
//! cold-start back-off of baselines.
//!
//! Fitting goes through linfa's k-means (seeded, so the same samples and seed give the same model);
//! scoring and assignment never touch ndarray: the centroids are copied out into plain arrays at fit time
//! so that the per-window work is a few loops over the stack, without allocation.

use linfa::DatasetBase;
use linfa::traits::Fit;
use linfa_clustering::KMeans;
use ndarray::Array2;
use rand_xoshiro::Xoshiro256Plus;
use rand_xoshiro::rand_core::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::DetectError;

pub const N_FEATURES: usize = 10;
/// One closed per-identity window, filled in the order of [`FEATURE_NAMES`].
pub type Features = [f32; N_FEATURES];
/// Names used in explanations, in order.
pub const FEATURE_NAMES: [&str; N_FEATURES] = [
    "new_actions",
    "new_services",
    "new_networks",
    "new_agents",
    "volume_z",
    "error_z",
    "odd_hour_mass",
    "sensitive_mass",
    "dormant_use",
    "new_regions",
];

/// Fewer windows than this describe a population too poorly to call anything odd against it.
pub const MIN_FIT_SAMPLES: usize = 50;
/// Upper bound on the window model's clusters: keeps [`WindowModel::score`] a fixed, small amount of work.
pub const MAX_CLUSTERS: usize = 8;
/// Default smallest spread per dimension, in raw feature units (see [`WindowModel::fit_with_floor`]):
/// a quarter of a new item or of a standard deviation for the counts and z-scores, a tenth for the two
/// masses, which are shares in [0, 1] (0.25 there would make an all-sensitive window barely odd).
pub const SCALE_FLOORS: Features = [0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.1, 0.1, 0.25, 0.25];
/// A scaled value is capped here so that an absurd input (or an infinite one) keeps every sum finite.
const SCALED_CAP: f32 = 1.0e6;
/// k-means restarts and limits: a handful of restarts is enough for ≤ 8 clusters in ≤ 10 dimensions, and
/// keeps a refit of tens of thousands of windows well under a second.
const KMEANS_RUNS: usize = 3;
const KMEANS_MAX_ITER: u64 = 100;
const KMEANS_TOLERANCE: f64 = 1e-3;
/// k-means sees at most this many samples, evenly strided over the input: centroids of ≤ 8 clusters in
/// 10 dimensions are settled long before, and it bounds a refit's cost however large the population
/// (the spreads are still measured on every sample).
const KMEANS_MAX_ROWS: usize = 8_192;

/// Fitted on recent closed per-identity windows of one provider's population.
///
/// Samples are divided per dimension by a robust spread, clustered with k-means, and a window is scored by
/// how far it lies *above* its nearest centroid, in those spread units.
///
/// Why one-sided: every feature counts something that an intruder adds (new actions, networks, volume,
/// errors, sensitive operations…). An identity doing less than its kind usually does — a quiet day, a
/// window with two events — is not a sign of compromise, and letting it score would fill the top of the
/// ranking with idle identities and push the calibrated threshold up for the windows that matter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowModel {
    /// Per-dimension divisor (raw units per scaled unit).
    scale: Features,
    /// Centroids in scaled units, 1..=[`MAX_CLUSTERS`] of them.
    centroids: Vec<Features>,
    samples: usize,
}

/// A window's raw model score and each feature's share of it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    /// Distance above the nearest centroid in robust spread units (0 when nothing is above it).
    pub raw: f32,
    /// `excess_j² / Σ excess²`: sums to 1 when `raw > 0`, all zero otherwise.
    pub contributions: [f32; N_FEATURES],
}

impl Scored {
    /// The feature carrying the largest share (index into [`FEATURE_NAMES`]), `None` when `raw` is 0.
    pub fn top_feature(&self) -> Option<usize> {
        let mut best: Option<(usize, f32)> = None;
        for (j, &c) in self.contributions.iter().enumerate() {
            if c > 0.0 && best.is_none_or(|(_, b)| c > b) {
                best = Some((j, c));
            }
        }
        best.map(|(j, _)| j)
    }
}

impl WindowModel {
    /// Fits with the default [`SCALE_FLOORS`]; see [`WindowModel::fit_with_floor`].
    pub fn fit(samples: &[Features], k: usize, seed: u64) -> Result<WindowModel, DetectError> {
        WindowModel::fit_with_floor(samples, k, seed, &SCALE_FLOORS)
    }

    /// k-means (`k` clamped to 1..=[`MAX_CLUSTERS`]) on the samples divided per dimension by a robust
    /// spread: `max(p90 − p50, (p99 − p50) / 2.5, floor_j)`.
    ///
    /// Percentiles rather than a standard deviation, because the one intrusion in the population must not
    /// widen the yardstick it is measured with. The p99 term exists for sparse dimensions that are zero in
    /// more than 90 % of windows yet routinely non-zero in the rest (a new action now and then): without it
    /// their spread would collapse to the floor and one benign new action would weigh like a 3-sigma
    /// volume spike. For a bell-shaped dimension the p90 term is the larger one, so it rules there.
    ///
    /// Why the floor: a dimension the population never uses (no one brings new agents, say) has a spread
    /// of 0, and dividing by it would make any non-zero value infinitely odd and drown every other
    /// dimension. The floor says "differences smaller than this, in raw units, are not worth a unit".
    ///
    /// Errors ([`DetectError::State`]) on fewer than [`MIN_FIT_SAMPLES`] samples, non-finite values in
    /// the samples, or a floor that is not finite and positive.
    pub fn fit_with_floor(
        samples: &[Features],
        k: usize,
        seed: u64,
        floor: &Features,
    ) -> Result<WindowModel, DetectError> {
        if samples.len() < MIN_FIT_SAMPLES {
            return Err(DetectError::State(format!(
                "window model: {} samples, at least {MIN_FIT_SAMPLES} needed",
                samples.len()
            )));
        }
        check_finite(samples, "window model")?;
        if floor.iter().any(|f| !(f.is_finite() && *f > 0.0)) {
            return Err(DetectError::State(format!(
                "window model: scale floor must be finite and positive, got {floor:?}"
            )));
        }
        let mut scale = [0.0f32; N_FEATURES];
        let mut column = Vec::with_capacity(samples.len());
        for (j, s) in scale.iter_mut().enumerate() {
            column.clear();
            column.extend(samples.iter().map(|x| x[j]));
            column.sort_unstable_by(f32::total_cmp);
            let median = quantile(&column, 0.50);
            let p90 = quantile(&column, 0.90);
            let p99 = quantile(&column, 0.99);
            *s = (p90 - median).max((p99 - median) / 2.5).max(floor[j]);
        }
        let scaled: Vec<Features> = samples
            .iter()
            .map(|x| std::array::from_fn(|j| x[j] / scale[j]))
            .collect();
        let centroids = kmeans(&scaled, k.clamp(1, MAX_CLUSTERS), seed, "window model")?;
        Ok(WindowModel {
            scale,
            centroids,
            samples: samples.len(),
        })
    }

    /// One-sided distance to the nearest centroid: `raw = Σ_j excess_j` with
    /// `excess_j = max(0, x_j / scale_j − c_j)`, the nearest centroid chosen by that same measure (the
    /// behaviour the window most plausibly belongs to is the one that explains most of it).
    ///
    /// A sum, not a Euclidean norm: three moderate signals at once (a new network, a new client, an odd
    /// hour) are rarer in benign life than one strong signal alone, and the sum ranks them so; the
    /// Euclidean norm would let a single large feature dominate. `contributions` are each feature's
    /// share of the sum, so `raw · share` is that feature's excess in spreads.
    /// A NaN feature counts as no excess; an infinite one is capped, so `raw` is always finite.
    pub fn score(&self, x: &Features) -> Scored {
        let mut z = [0.0f32; N_FEATURES];
        for ((zj, &xj), &sj) in z.iter_mut().zip(x).zip(&self.scale) {
            let v = xj / sj;
            *zj = if v.is_nan() {
                0.0
            } else {
                v.clamp(-SCALED_CAP, SCALED_CAP)
            };
        }
        let mut best = f32::INFINITY;
        let mut nearest = 0;
        for (i, c) in self.centroids.iter().enumerate() {
            let mut d = 0.0f32;
            for (&zj, &cj) in z.iter().zip(c) {
                d += (zj - cj).max(0.0);
            }
            if d < best {
                best = d;
                nearest = i;
            }
        }
        let mut contributions = [0.0f32; N_FEATURES];
        let Some(c) = self.centroids.get(nearest) else {
            return Scored {
                raw: 0.0,
                contributions,
            };
        };
        let mut sum = 0.0f32;
        for ((share, &zj), &cj) in contributions.iter_mut().zip(&z).zip(c) {
            *share = (zj - cj).max(0.0);
            sum += *share;
        }
        if sum > 0.0 {
            for share in &mut contributions {
                *share /= sum;
            }
        }
        Scored {
            raw: sum,
            contributions,
        }
    }

    pub fn samples_fitted(&self) -> usize {
        self.samples
    }

    /// Distinct centroids kept (at most the `k` asked, fewer when the samples have fewer distinct points).
    pub fn clusters(&self) -> usize {
        self.centroids.len()
    }

    /// The per-dimension spread the model measures in, raw units.
    pub fn scale(&self) -> &Features {
        &self.scale
    }
}

/// Turns raw model scores into a 0–100 score that means the same across estates.
///
/// It keeps the most recent `capacity` raw scores of closed windows in a ring and, on
/// [`Calibrator::refresh`], sorts a copy; [`Calibrator::calibrate`] answers from the last refresh only, so
/// the same observations and refreshes always give the same answers. `p` is the share of kept scores
/// `>= raw` (the exceedance probability of a window in this population) up to the 95th percentile;
/// above it, `p` follows an exponential tail fitted to the excesses over that percentile (peaks over
/// threshold, its scale from the median excess). The fitted tail, not the raw ranks, decides the far
/// end because the top of any real population holds a few genuinely odd windows — the attacks of last
/// week among them — and ranking against those would cap every later attack's score at `1 / n`.
/// The score is `clamp(20 · −log10 p, 0, 100)`.
///
/// Why −log10: raw distances have no meaning across estates (an estate of chatty CI robots and one of
/// ten admins spread differently), while "how often does a window this odd occur here" does. The log
/// makes each factor of ten in rarity the same step: 40 = 1 window in 100, 60 = 1 in 1,000,
/// 80 = 1 in 10,000, 100 = 1 in 100,000 or rarer — so a threshold is an alert budget, the same everywhere.
///
/// Resolution: the empirical part covers the bulk (down to 1 window in 20), the fitted tail the rest. Memory is `2 · capacity · 4` bytes (the ring and its sorted copy,
/// both kept in checkpoints so a restored calibrator answers exactly as the original would).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibrator {
    capacity: usize,
    min_samples: usize,
    ring: Vec<f32>,
    /// Where the next observation goes once the ring is full.
    next: usize,
    sorted: Vec<f32>,
    /// Scale of the exponential tail above `tail_start`.
    tail_scale: f32,
    /// The 95th percentile of the kept scores, where the fitted tail takes over, and the share of kept
    /// scores at or above it.
    tail_start: f32,
    tail_share: f64,
}

/// Where the fitted tail takes over: the top 5 % of windows are enough to fit its scale steadily
/// from a day or two of a small estate's windows, and few enough to be the unusual ones.
const TAIL_QUANTILE: f64 = 0.95;

/// The smallest tail scale, in raw units: a population whose top scores are all equal would otherwise
/// make anything a hair above them infinitely rare.
const TAIL_SCALE_FLOOR: f32 = 0.25;

impl Calibrator {
    /// `capacity` and `min_samples` are raised to at least 1, and `min_samples` is capped at `capacity`
    /// (a bigger one could never be met and would silently disable calibration).
    pub fn new(capacity: usize, min_samples: usize) -> Calibrator {
        let capacity = capacity.max(1);
        Calibrator {
            capacity,
            min_samples: min_samples.clamp(1, capacity),
            ring: Vec::new(),
            next: 0,
            sorted: Vec::new(),
            tail_scale: TAIL_SCALE_FLOOR,
            tail_start: 0.0,
            tail_share: 1.0,
        }
    }

    /// Records a closed window's raw score; a non-finite one is ignored (it says nothing about the population).
    pub fn observe(&mut self, raw: f32) {
        if !raw.is_finite() {
            return;
        }
        if self.ring.len() < self.capacity {
            self.ring.push(raw);
        } else if let Some(slot) = self.ring.get_mut(self.next) {
            *slot = raw;
            self.next = (self.next + 1) % self.capacity;
        }
    }

    /// Makes the observations so far the reference of [`Calibrator::calibrate`].
    pub fn refresh(&mut self) {
        self.sorted.clear();
        self.sorted.extend_from_slice(&self.ring);
        self.sorted.sort_unstable_by(f32::total_cmp);
        let u = quantile(&self.sorted, TAIL_QUANTILE);
        // The excesses over u are already sorted; for an exponential tail their median is scale · ln 2.
        // The median, not the mean, so a handful of extreme windows cannot stretch the tail.
        let first_above = self.sorted.partition_point(|&v| v <= u);
        let excesses = &self.sorted[first_above..];
        let median_excess = excesses
            .get(excesses.len() / 2)
            .map_or(0.0, |v| f64::from(*v - u));
        let scale = median_excess / std::f64::consts::LN_2;
        self.tail_scale = (scale as f32).max(TAIL_SCALE_FLOOR);
        self.tail_start = u;
        let n = self.sorted.len();
        let at_or_above = n - self.sorted.partition_point(|&s| s < u);
        self.tail_share = if n == 0 {
            1.0
        } else {
            at_or_above.max(1) as f64 / n as f64
        };
    }

    /// The calibrated 0–100 score of `raw`, or `None` while the last refresh saw fewer than `min_samples`
    /// scores (or for a NaN). A binary search, no allocation.
    pub fn calibrate(&self, raw: f32) -> Option<f32> {
        let n = self.sorted.len();
        if n < self.min_samples || n == 0 || raw.is_nan() {
            return None;
        }
        // −log10 p, computed in log space so a far tail does not underflow to 0.
        let neg_log10_p = if raw > self.tail_start {
            let excess = f64::from(raw) - f64::from(self.tail_start);
            -self.tail_share.log10() + excess / f64::from(self.tail_scale) / std::f64::consts::LN_10
        } else {
            let below = self.sorted.partition_point(|&s| s < raw);
            ((n as f64) / ((n - below).max(1) as f64)).log10()
        };
        Some((20.0 * neg_log10_p).clamp(0.0, 100.0) as f32)
    }

    /// Scores currently kept (at most `capacity`), whether or not refreshed yet.
    pub fn observed(&self) -> usize {
        self.ring.len()
    }
}

pub const PROFILE_DIMS: usize = 8;
/// Shares of read/list/write/delete/permission-change, log1p events per active day, share of night
/// activity, is_workload (0/1).
pub type Profile = [f32; PROFILE_DIMS];

/// Smallest standard deviation a profile dimension is divided by: a dimension constant in the population
/// (every identity a workload) must not blow up the tiny differences around it.
const PROFILE_STD_FLOOR: f32 = 0.05;

/// Peer groups: identities of one provider clustered by behaviour profile (k-means on standardized profiles).
/// Groups are numbered in lexicographic order of their centroids, so ids do not depend on k-means'
/// internal order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeerGroups {
    mean: Profile,
    std: Profile,
    /// Centroids in standardized units.
    centroids: Vec<Profile>,
}

impl PeerGroups {
    /// `k` is clamped to 1..=`profiles.len()`. Errors ([`DetectError::State`]) on no profiles or
    /// non-finite values.
    pub fn fit(profiles: &[Profile], k: usize, seed: u64) -> Result<PeerGroups, DetectError> {
        if profiles.is_empty() {
            return Err(DetectError::State("peer groups: no profiles".into()));
        }
        check_finite(profiles, "peer groups")?;
        let n = profiles.len() as f64;
        let mut mean = [0.0f32; PROFILE_DIMS];
        let mut std = [0.0f32; PROFILE_DIMS];
        for j in 0..PROFILE_DIMS {
            let m = profiles.iter().map(|p| f64::from(p[j])).sum::<f64>() / n;
            let var = profiles
                .iter()
                .map(|p| (f64::from(p[j]) - m).powi(2))
                .sum::<f64>()
                / n;
            mean[j] = m as f32;
            std[j] = (var.sqrt() as f32).max(PROFILE_STD_FLOOR);
        }
        let standardized: Vec<Profile> = profiles
            .iter()
            .map(|p| std::array::from_fn(|j| (p[j] - mean[j]) / std[j]))
            .collect();
        let centroids = kmeans(
            &standardized,
            k.clamp(1, profiles.len()),
            seed,
            "peer groups",
        )?;
        Ok(PeerGroups {
            mean,
            std,
            centroids,
        })
    }

    /// The nearest group (Euclidean, standardized units), in `0..groups()`. A NaN dimension counts as
    /// the population mean.
    pub fn assign(&self, p: &Profile) -> usize {
        let mut z = [0.0f32; PROFILE_DIMS];
        for (j, zj) in z.iter_mut().enumerate() {
            let v = (p[j] - self.mean[j]) / self.std[j];
            *zj = if v.is_nan() {
                0.0
            } else {
                v.clamp(-SCALED_CAP, SCALED_CAP)
            };
        }
        let mut best = f32::INFINITY;
        let mut nearest = 0;
        for (i, c) in self.centroids.iter().enumerate() {
            let mut d = 0.0f32;
            for (&zj, &cj) in z.iter().zip(c) {
                d += (zj - cj) * (zj - cj);
            }
            if d < best {
                best = d;
                nearest = i;
            }
        }
        nearest
    }

    /// Distinct groups (at most the `k` asked, fewer when the profiles have fewer distinct points).
    pub fn groups(&self) -> usize {
        self.centroids.len()
    }
}

fn check_finite<const D: usize>(rows: &[[f32; D]], what: &str) -> Result<(), DetectError> {
    match rows.iter().position(|r| r.iter().any(|v| !v.is_finite())) {
        Some(i) => Err(DetectError::State(format!(
            "{what}: sample {i} has a non-finite value"
        ))),
        None => Ok(()),
    }
}

/// Nearest-rank quantile of an ascending slice (0 for an empty one).
fn quantile(sorted: &[f32], q: f64) -> f32 {
    let last = sorted.len().saturating_sub(1);
    let i = ((last as f64) * q).round() as usize;
    sorted.get(i.min(last)).copied().unwrap_or(0.0)
}

/// linfa k-means++ with a seeded Xoshiro RNG on at most [`KMEANS_MAX_ROWS`] rows; centroids copied out,
/// sorted and deduplicated.
/// Deterministic: k-means++ draws from the one seeded RNG, and linfa's parallel steps only compute
/// independent per-row values.
fn kmeans<const D: usize>(
    rows: &[[f32; D]],
    k: usize,
    seed: u64,
    what: &str,
) -> Result<Vec<[f32; D]>, DetectError> {
    let stride = rows.len().div_ceil(KMEANS_MAX_ROWS).max(1);
    let kept = rows.len().div_ceil(stride);
    let flat: Vec<f64> = rows
        .iter()
        .step_by(stride)
        .flatten()
        .map(|&v| f64::from(v))
        .collect();
    let records = Array2::from_shape_vec((kept, D), flat)
        .map_err(|e| DetectError::State(format!("{what}: {e}")))?;
    let dataset = DatasetBase::from(records);
    let model = KMeans::<f64, _>::params_with_rng(k, Xoshiro256Plus::seed_from_u64(seed))
        .n_runs(KMEANS_RUNS)
        .max_n_iterations(KMEANS_MAX_ITER)
        .tolerance(KMEANS_TOLERANCE)
        .fit(&dataset)
        .map_err(|e| DetectError::State(format!("{what}: k-means: {e}")))?;
    let mut centroids: Vec<[f32; D]> = model
        .centroids()
        .rows()
        .into_iter()
        .map(|row| {
            let mut c = [0.0f32; D];
            for (cj, &v) in c.iter_mut().zip(row.iter()) {
                *cj = v as f32;
            }
            c
        })
        .collect();
    if centroids.is_empty() || centroids.iter().flatten().any(|v| !v.is_finite()) {
        return Err(DetectError::State(format!(
            "{what}: k-means gave no usable centroid"
        )));
    }
    centroids.sort_by(|a, b| {
        a.iter()
            .zip(b)
            .map(|(x, y)| x.total_cmp(y))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    centroids.dedup();
    Ok(centroids)
}
