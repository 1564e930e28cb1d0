//! How helpful a review is: the lower bound of the 95% Wilson score interval for the share of
//! Yes votes. Unlike the raw share it does not put one Yes out of one above 95 out of 100, and
//! unlike Yes minus No it does not favour reviews that merely collected many votes.

/// z for a two-sided 95% interval.
const Z: f64 = 1.959_963_984_540_054;

/// The Wilson lower bound for `yes` helpful votes out of `yes + no`; 0 when nobody voted.
pub fn wilson_lower_bound(yes: u64, no: u64) -> f64 {
    let n = (yes + no) as f64;
    if n == 0.0 {
        return 0.0;
    }
    let p = yes as f64 / n;
    let z2 = Z * Z;
    let centre = p + z2 / (2.0 * n);
    let margin = Z * ((p * (1.0 - p) + z2 / (4.0 * n)) / n).sqrt();
    ((centre - margin) / (1.0 + z2 / n)).max(0.0)
}

/// How many ratings' worth of weight the prior carries in the Bayesian average ("Top rated").
/// A film with a handful of five-star ratings sits near the prior; one with hundreds sits near
/// its own mean. The stores sort by this formula in SQL, so changing it needs a migration of
/// their expression indexes too.
pub const PRIOR_WEIGHT: f64 = 10.0;
/// The prior's mean, in stars: the middle of the 1–5 scale, so an unknown film is "average".
pub const PRIOR_MEAN: f64 = 3.0;

/// The Bayesian average of a film's ratings: its mean pulled towards [`PRIOR_MEAN`] as if it had
/// [`PRIOR_WEIGHT`] extra ratings of that value. Equal to the prior for a film nobody rated.
pub fn bayesian_average(rating_sum: u64, rating_count: u64) -> f64 {
    (rating_sum as f64 + PRIOR_WEIGHT * PRIOR_MEAN) / (rating_count as f64 + PRIOR_WEIGHT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_bayesian_average_starts_at_the_prior_and_approaches_the_mean_with_more_ratings() {
        assert_eq!(bayesian_average(0, 0), PRIOR_MEAN);
        let few = bayesian_average(5 * 3, 3);
        let many = bayesian_average(5 * 300, 300);
        assert!(PRIOR_MEAN < few && few < many && many < 5.0);
    }

    #[test]
    fn no_votes_scores_zero_and_scores_stay_within_zero_and_one() {
        assert_eq!(wilson_lower_bound(0, 0), 0.0);
        assert_eq!(wilson_lower_bound(0, 10), 0.0);
        assert!(wilson_lower_bound(1000, 0) < 1.0);
    }

    #[test]
    fn many_votes_mostly_yes_beat_a_single_yes() {
        assert!(wilson_lower_bound(95, 5) > wilson_lower_bound(1, 0));
        assert!(wilson_lower_bound(10, 1) > wilson_lower_bound(2, 0));
    }

    #[test]
    fn matches_a_known_value() {
        // 8 of 10 helpful: the textbook lower bound is about 0.4902.
        assert!((wilson_lower_bound(8, 2) - 0.4902).abs() < 1e-3);
    }

    proptest! {
        #[test]
        fn one_more_yes_never_lowers_the_score(yes in 0u64..5000, no in 0u64..5000) {
            prop_assert!(wilson_lower_bound(yes + 1, no) >= wilson_lower_bound(yes, no));
        }

        #[test]
        fn one_more_no_never_raises_the_score(yes in 0u64..5000, no in 0u64..5000) {
            prop_assert!(wilson_lower_bound(yes, no + 1) <= wilson_lower_bound(yes, no));
        }

        #[test]
        fn the_score_is_a_lower_bound_of_the_yes_share(yes in 0u64..5000, no in 0u64..5000) {
            prop_assume!(yes + no > 0);
            let s = wilson_lower_bound(yes, no);
            prop_assert!((0.0..=1.0).contains(&s));
            prop_assert!(s <= yes as f64 / (yes + no) as f64 + 1e-12);
        }
    }
}
