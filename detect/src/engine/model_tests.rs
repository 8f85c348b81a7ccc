#![allow(clippy::unwrap_used, clippy::expect_used)]

use rand_xoshiro::Xoshiro256Plus;
use rand_xoshiro::rand_core::{RngCore, SeedableRng};

use super::model::*;

/// Seeded test randomness without another dependency.
struct Rng(Xoshiro256Plus);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(Xoshiro256Plus::seed_from_u64(seed))
    }
    /// Uniform in [0, 1).
    fn unif(&mut self) -> f32 {
        (self.0.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }
    fn normal(&mut self) -> f32 {
        let u1 = self.unif().max(1e-7);
        let u2 = self.unif();
        (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
    }
    fn exp(&mut self) -> f32 {
        -(1.0 - self.unif()).ln()
    }
    fn chance(&mut self, p: f32) -> f32 {
        if self.unif() < p { 1.0 } else { 0.0 }
    }
}

const NEW_ACTIONS: usize = 0;
const NEW_AGENTS: usize = 3;
const VOLUME_Z: usize = 4;
const ODD_HOUR: usize = 6;
const SENSITIVE: usize = 7;
const DORMANT: usize = 8;

/// A benign window: sparse novelty, z-scores around 0, two kinds of identities (day workers, and a
/// night-shift fifth whose odd-hour mass is high). Nobody ever brings a new agent or dormant use.
fn normal_window(r: &mut Rng) -> Features {
    let night = r.unif() < 0.2;
    [
        r.chance(0.05),
        r.chance(0.02),
        r.chance(0.10),
        0.0,
        r.normal(),
        r.normal(),
        if night {
            0.6 + 0.3 * r.unif()
        } else {
            0.1 * r.unif()
        },
        0.05 * r.unif(),
        0.0,
        r.chance(0.01),
    ]
}

fn population(n: usize, seed: u64) -> Vec<Features> {
    let mut r = Rng::new(seed);
    (0..n).map(|_| normal_window(&mut r)).collect()
}

fn fitted() -> WindowModel {
    WindowModel::fit(&population(5_000, 1), 4, 7).unwrap()
}

fn name(j: Option<usize>) -> &'static str {
    j.map_or("none", |j| FEATURE_NAMES[j])
}

#[test]
fn outliers_score_above_the_population_and_name_their_dimension() {
    let model = fitted();
    // 99.9th percentile of fresh benign windows.
    let mut benign: Vec<f32> = population(5_000, 2)
        .iter()
        .map(|x| model.score(x).raw)
        .collect();
    benign.sort_by(f32::total_cmp);
    let p999 = benign[benign.len() * 999 / 1000];

    let base = [0.0, 0.0, 0.0, 0.0, 0.3, 0.1, 0.05, 0.02, 0.0, 0.0];
    let cases = [
        (NEW_ACTIONS, 15.0, "new_actions"),
        (VOLUME_Z, 12.0, "volume_z"),
        (SENSITIVE, 0.95, "sensitive_mass"),
        (DORMANT, 3.0, "dormant_use"),
    ];
    for (j, v, want) in cases {
        let mut x = base;
        x[j] = v;
        let s = model.score(&x);
        assert!(s.raw > p999, "{want}: raw {} <= benign p99.9 {p999}", s.raw);
        assert_eq!(name(s.top_feature()), want, "{s:?}");
        let total: f32 = s.contributions.iter().sum();
        assert!((total - 1.0).abs() < 1e-4, "shares sum to {total}");
    }
    // A bigger deviation in the same dimension scores higher.
    let mut small = base;
    small[VOLUME_Z] = 6.0;
    let mut big = base;
    big[VOLUME_Z] = 12.0;
    assert!(model.score(&big).raw > model.score(&small).raw);
}

#[test]
fn a_night_shift_window_is_not_odd_but_a_day_window_at_night_with_volume_is() {
    let model = fitted();
    let mut night = [0.0; N_FEATURES];
    night[ODD_HOUR] = 0.8;
    let night_raw = model.score(&night).raw;
    let mut odd = night;
    odd[VOLUME_Z] = 10.0;
    odd[NEW_ACTIONS] = 5.0;
    assert!(night_raw < 1.0, "night-shift window raw {night_raw}");
    assert!(model.score(&odd).raw > 5.0 * night_raw.max(0.2));
}

#[test]
fn less_activity_than_usual_is_not_suspicious() {
    let model = fitted();
    let mut quiet = [0.0; N_FEATURES];
    quiet[VOLUME_Z] = -10.0;
    quiet[5] = -10.0;
    let s = model.score(&quiet);
    assert_eq!(s.raw, 0.0, "{s:?}");
    assert_eq!(s.top_feature(), None);
    assert!(s.contributions.iter().all(|&c| c == 0.0));
}

#[test]
fn a_dimension_always_zero_in_the_population_does_not_explode() {
    let model = fitted();
    assert_eq!(model.scale()[NEW_AGENTS], SCALE_FLOORS[NEW_AGENTS]);
    let mut x = [0.0; N_FEATURES];
    x[NEW_AGENTS] = 1.0;
    let s = model.score(&x);
    // One new agent is worth 1 / floor = 4 units at most, not infinity.
    assert!(
        s.raw.is_finite() && s.raw <= 1.0 / SCALE_FLOORS[NEW_AGENTS] + 1e-3,
        "{s:?}"
    );
    assert_eq!(name(s.top_feature()), "new_agents");
    // ...and it ranks below a genuinely huge volume spike.
    let mut spike = [0.0; N_FEATURES];
    spike[VOLUME_Z] = 20.0;
    assert!(model.score(&spike).raw > s.raw);
    // A configured floor changes the unit.
    let mut floor = SCALE_FLOORS;
    floor[NEW_AGENTS] = 1.0;
    let wider = WindowModel::fit_with_floor(&population(5_000, 1), 4, 7, &floor).unwrap();
    assert!((wider.score(&x).raw - 1.0).abs() < 1e-3);
}

#[test]
fn non_finite_inputs_to_score_stay_finite() {
    let model = fitted();
    let mut x = [0.0; N_FEATURES];
    x[0] = f32::NAN;
    assert_eq!(model.score(&x).raw, 0.0);
    x[1] = f32::INFINITY;
    let s = model.score(&x);
    assert!(s.raw.is_finite() && s.raw > 1e5, "{s:?}");
    assert_eq!(name(s.top_feature()), "new_services");
}

#[test]
fn fit_rejects_too_few_or_non_finite_samples() {
    let pop = population(200, 3);
    assert!(WindowModel::fit(&pop[..MIN_FIT_SAMPLES - 1], 3, 1).is_err());
    assert!(WindowModel::fit(&pop[..MIN_FIT_SAMPLES], 3, 1).is_ok());
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let mut p = pop.clone();
        p[17][4] = bad;
        let err = WindowModel::fit(&p, 3, 1).unwrap_err();
        assert!(err.to_string().contains("non-finite"), "{err}");
    }
    let mut floor = SCALE_FLOORS;
    floor[2] = 0.0;
    assert!(WindowModel::fit_with_floor(&pop, 3, 1, &floor).is_err());
}

#[test]
fn cluster_count_is_clamped() {
    let pop = population(500, 4);
    assert!(WindowModel::fit(&pop, 50, 1).unwrap().clusters() <= MAX_CLUSTERS);
    assert_eq!(WindowModel::fit(&pop, 0, 1).unwrap().clusters(), 1);
    // Identical samples: one distinct centroid however many were asked.
    let same = vec![[1.0; N_FEATURES]; 60];
    let m = WindowModel::fit(&same, 5, 1).unwrap();
    assert_eq!(m.clusters(), 1);
    assert_eq!(m.score(&[1.0; N_FEATURES]).raw, 0.0);
    assert_eq!(m.samples_fitted(), 60);
}

#[test]
fn window_model_is_deterministic_and_survives_json() {
    let pop = population(3_000, 5);
    let a = WindowModel::fit(&pop, 5, 99).unwrap();
    let b = WindowModel::fit(&pop, 5, 99).unwrap();
    assert_eq!(a, b);
    let json = serde_json::to_string(&a).unwrap();
    let c: WindowModel = serde_json::from_str(&json).unwrap();
    assert_eq!(a, c);
    for x in population(500, 6) {
        let (sa, sc) = (a.score(&x), c.score(&x));
        assert_eq!(sa.raw.to_bits(), sc.raw.to_bits());
        assert_eq!(sa.contributions, sc.contributions);
    }
}

fn calibrator_with(values: impl IntoIterator<Item = f32>, capacity: usize) -> Calibrator {
    let mut c = Calibrator::new(capacity, 100);
    for v in values {
        c.observe(v);
    }
    c.refresh();
    c
}

#[test]
fn calibration_follows_the_log_rarity_scale() {
    let n = 100_000;
    let mut r = Rng::new(8);
    let mut sample: Vec<f32> = (0..n).map(|_| r.exp()).collect();
    let c = calibrator_with(sample.iter().copied(), n);
    sample.sort_by(f32::total_cmp);
    let at = |q: f64| sample[(q * n as f64) as usize];
    let s99 = c.calibrate(at(0.99)).unwrap();
    let s999 = c.calibrate(at(0.999)).unwrap();
    assert!((s99 - 40.0).abs() < 1.0, "p99 -> {s99}");
    assert!((s999 - 60.0).abs() < 2.0, "p99.9 -> {s999}");
    assert_eq!(c.calibrate(sample[0]).unwrap(), 0.0);
    let max = *sample.last().unwrap();
    assert!(c.calibrate(10.0 * max).unwrap() > 80.0);

    let mut r = Rng::new(9);
    let uniform = calibrator_with((0..n).map(|_| r.unif()), n);
    // Below the fitted tail (the top 5 %) ranks decide, whatever the distribution's shape.
    let s = uniform.calibrate(0.9).unwrap();
    assert!((s - 20.0).abs() < 1.0, "uniform p90 -> {s}");
    assert!(uniform.calibrate(10.0).unwrap() > 80.0);
}

#[test]
fn calibration_is_monotone_including_the_extrapolated_tail() {
    let mut r = Rng::new(10);
    let c = calibrator_with((0..20_000).map(|_| r.exp()), 20_000);
    let mut last = -1.0f32;
    for i in 0..4_000 {
        let raw = i as f32 * 0.01;
        let s = c.calibrate(raw).unwrap();
        assert!(s >= last, "calibrate({raw}) = {s} < {last}");
        assert!((0.0..=100.0).contains(&s));
        last = s;
    }
    assert_eq!(last, 100.0);
    assert_eq!(c.calibrate(f32::INFINITY), Some(100.0));
    assert_eq!(c.calibrate(f32::NAN), None);
}

#[test]
fn the_fitted_tail_falls_smoothly_and_ignores_a_few_extreme_windows() {
    let mut r = Rng::new(11);
    let values: Vec<f32> = (0..10_000).map(|_| r.exp()).collect();
    let max = values.iter().copied().fold(0.0f32, f32::max);
    let c = calibrator_with(values.clone(), 10_000);
    let at_max = c.calibrate(max).unwrap();
    let above = c.calibrate(max + 1.0).unwrap();
    // For an exponential population the fitted tail is the truth: P(X ≥ x) = e^−x, a score of
    // 20 · x · log10 e; one tail scale (≈ 1) further adds about 20 / ln 10 ≈ 8.7.
    let truth = 20.0 * max * std::f32::consts::LOG10_E;
    // (The scale comes from the median of ~100 excesses: about ±10 % in a sample this size.)
    assert!(
        (at_max - truth.min(100.0)).abs() < 10.0,
        "{at_max} vs {truth}"
    );
    assert!(above > at_max + 5.0 && above < at_max + 12.0, "{above}");
    // Five absurd windows (last week's attacks, say) do not cap what later windows can score.
    let mut polluted = values;
    polluted.extend([40.0f32; 5]);
    let p = calibrator_with(polluted, 10_005);
    assert!(p.calibrate(12.0).unwrap() > 95.0, "{:?}", p.calibrate(12.0));
}

#[test]
fn calibration_needs_min_samples_and_a_refresh() {
    let mut c = Calibrator::new(1_000, 100);
    for i in 0..99 {
        c.observe(i as f32);
    }
    c.refresh();
    assert_eq!(c.observed(), 99);
    assert_eq!(c.calibrate(50.0), None);
    c.observe(99.0);
    assert_eq!(
        c.calibrate(50.0),
        None,
        "answers only from the last refresh"
    );
    c.refresh();
    assert!(c.calibrate(50.0).is_some());
    // Non-finite observations are ignored.
    c.observe(f32::NAN);
    c.observe(f32::INFINITY);
    assert_eq!(c.observed(), 100);
    // A min_samples above capacity would never be met: it is capped.
    let mut small = Calibrator::new(10, 100);
    (0..10).for_each(|i| small.observe(i as f32));
    small.refresh();
    assert!(small.calibrate(5.0).is_some());
}

#[test]
fn the_ring_forgets_the_oldest_scores() {
    let mut c = Calibrator::new(100, 10);
    (0..100).for_each(|_| c.observe(0.0));
    c.refresh();
    let before = c.calibrate(4.9).unwrap();
    (0..100).for_each(|_| c.observe(5.0));
    c.refresh();
    assert_eq!(c.observed(), 100);
    assert!(before > 80.0, "{before}");
    assert_eq!(c.calibrate(4.9), Some(0.0), "all kept scores are now 5");
    (0..50).for_each(|_| c.observe(0.0));
    c.refresh();
    // Half zeros, half fives: p(>= 4.9) = 0.5.
    let half = c.calibrate(4.9).unwrap();
    assert!((half - 20.0 * 2f32.log10()).abs() < 1e-3, "{half}");
}

#[test]
fn calibrator_is_deterministic_and_survives_json() {
    let mut r = Rng::new(12);
    let mut a = Calibrator::new(500, 50);
    (0..800).for_each(|_| a.observe(r.exp()));
    a.refresh();
    (0..30).for_each(|_| a.observe(r.exp() * 3.0)); // observed after the refresh
    let b: Calibrator = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
    assert_eq!(a, b);
    for i in 0..300 {
        let raw = i as f32 * 0.05;
        assert_eq!(
            a.calibrate(raw).map(f32::to_bits),
            b.calibrate(raw).map(f32::to_bits)
        );
    }
}

/// Office readers (mostly reads and lists, humans) and CI workloads (writes, many events, workload).
fn two_kinds(n: usize, seed: u64) -> (Vec<Profile>, Vec<Profile>) {
    let mut r = Rng::new(seed);
    let readers = (0..n)
        .map(|_| {
            let mut p = [0.0; PROFILE_DIMS];
            p[0] = 0.7 + 0.1 * r.unif();
            p[1] = 0.2 + 0.05 * r.unif();
            p[2] = 0.05 * r.unif();
            p[5] = 3.0 + r.normal() * 0.3;
            p[6] = 0.05 * r.unif();
            p
        })
        .collect();
    let workloads = (0..n)
        .map(|_| {
            let mut p = [0.0; PROFILE_DIMS];
            p[0] = 0.2 + 0.1 * r.unif();
            p[2] = 0.5 + 0.1 * r.unif();
            p[3] = 0.2 * r.unif();
            p[5] = 8.0 + r.normal() * 0.3;
            p[6] = 0.3 + 0.1 * r.unif();
            p[7] = 1.0;
            p
        })
        .collect();
    (readers, workloads)
}

#[test]
fn peer_groups_separate_two_obvious_kinds() {
    let (readers, workloads) = two_kinds(300, 13);
    let all: Vec<Profile> = readers.iter().chain(&workloads).copied().collect();
    let groups = PeerGroups::fit(&all, 2, 5).unwrap();
    assert_eq!(groups.groups(), 2);
    let r0 = groups.assign(&readers[0]);
    let w0 = groups.assign(&workloads[0]);
    assert_ne!(r0, w0);
    assert!(readers.iter().all(|p| groups.assign(p) == r0));
    assert!(workloads.iter().all(|p| groups.assign(p) == w0));
    // Fresh identities of each kind land in their kind's group.
    let (new_readers, new_workloads) = two_kinds(50, 14);
    assert!(new_readers.iter().all(|p| groups.assign(p) == r0));
    assert!(new_workloads.iter().all(|p| groups.assign(p) == w0));
    assert!(groups.assign(&[f32::NAN; PROFILE_DIMS]) < groups.groups());
}

#[test]
fn peer_groups_cap_k_reject_bad_input_and_are_deterministic() {
    let (readers, workloads) = two_kinds(100, 15);
    let all: Vec<Profile> = readers.iter().chain(&workloads).copied().collect();
    assert!(PeerGroups::fit(&all[..3], 10, 1).unwrap().groups() <= 3);
    assert_eq!(PeerGroups::fit(&all[..1], 4, 1).unwrap().groups(), 1);
    assert!(PeerGroups::fit(&[], 2, 1).is_err());
    let mut bad = all.clone();
    bad[5][2] = f32::NAN;
    assert!(PeerGroups::fit(&bad, 2, 1).is_err());

    let a = PeerGroups::fit(&all, 4, 21).unwrap();
    let b = PeerGroups::fit(&all, 4, 21).unwrap();
    assert_eq!(a, b);
    let c: PeerGroups = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
    assert_eq!(a, c);
    assert!(all.iter().all(|p| a.assign(p) == c.assign(p)));
}
