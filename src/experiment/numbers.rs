//! Numbers for people, in one place: the terminal, `report.html`, the plots, the live view and
//! `compare` all write numbers through these functions (files for programs use
//! [`crate::results::fmt_num`], which reads back exactly).
//!
//! **An estimate is shown to the precision its interval supports** ([`estimate`]): the
//! interval's narrower side (mean − lo or hi − mean) is rounded to two significant digits, and
//! the mean and both ends are shown to that decimal place — `1,481,674.5 ± 122.5` reads
//! `1,481,670 [1,481,550, 1,481,800]`, `0.0016421 ± 0.0000003` keeps its seven decimals. A
//! value without an interval (one replication, a constant) is shown with up to six significant
//! digits ([`table_number`]); thousands are grouped with commas; values below 10⁻⁴ (or whose
//! precision needs more than six decimals) are written as `1.64e-5`. Axis ticks are shorter
//! (`1.2M`, `444.5k`: [`human`]).

/// `v` with a k/M/G suffix and as few decimals as show it exactly (up to `max_decimals`):
/// `1200000` → `1.2M`, `444500` → `444.5k`, `950` → `950`, `0.25` → `0.25`.
pub fn human(v: f64) -> String {
    human_with(v, 2)
}

/// [`human`] with a chosen maximum number of decimals after scaling.
pub fn human_with(v: f64, max_decimals: usize) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    let (scale, suffix) = if a >= 1e9 {
        (1e9, "G")
    } else if a >= 1e6 {
        (1e6, "M")
    } else if a >= 1e3 {
        (1e3, "k")
    } else {
        (1.0, "")
    };
    if scale == 1.0 && a < 1e-4 {
        return sci(v);
    }
    let s = v / scale;
    let d = decimals(s, max_decimals);
    format!("{}{suffix}", trim(format!("{s:.d$}")))
}

/// The fewest decimals (up to `max`) that show `s` to within a millionth of itself.
fn decimals(s: f64, max: usize) -> usize {
    (0..=max)
        .find(|&d| {
            let p = 10f64.powi(d as i32);
            ((s * p).round() / p - s).abs() <= 1e-9 * s.abs().max(1e-300)
        })
        .unwrap_or(max)
}

fn trim(s: String) -> String {
    if s.contains('.') {
        let t = s.trim_end_matches('0').trim_end_matches('.');
        if t == "-0" { "0".into() } else { t.to_string() }
    } else if s == "-0" {
        "0".into()
    } else {
        s
    }
}

fn sci(v: f64) -> String {
    let e = v.abs().log10().floor() as i32;
    let m = v / 10f64.powi(e);
    format!("{}e{e}", trim(format!("{m:.2}")))
}

/// A tick-label formatter for an axis with these tick values: every label exact and distinct,
/// each tick with the decimals the step between ticks needs (`444.2k`, `444.4k`; `0`, `1.5M`).
pub fn tick_formatter(ticks: &[f64]) -> impl Fn(f64) -> String + use<> {
    // Decimals needed so that neighbouring ticks differ, relative to each tick's own scale.
    let mut max_dec = 1;
    for d in 1..=8 {
        max_dec = d;
        let labels: Vec<String> = ticks.iter().map(|&t| human_with(t, d)).collect();
        let mut dedup = labels.clone();
        dedup.dedup();
        if dedup.len() == labels.len() {
            break;
        }
    }
    move |v: f64| {
        // Snap floating noise (0.30000000000000004) to the tick's exact value.
        human_with(v, max_dec.max(1))
    }
}

/// A number for a table cell: thousands separated, at most 6 significant digits for
/// fractions (`444,622.5`, `3.14159`, `0.00137`), integers in full.
pub fn table_number(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return group(&format!("{}", v as i64));
    }
    let a = v.abs();
    if a < 1e-4 {
        return sci(v);
    }
    let int_digits = if a >= 1.0 {
        a.log10().floor() as i32 + 1
    } else {
        0
    };
    let d = (6 - int_digits).clamp(1, 8) as usize;
    let s = trim(format!("{v:.d$}"));
    match s.split_once('.') {
        Some((i, f)) => format!("{}.{f}", group(i)),
        None => group(&s),
    }
}

/// An estimate (a mean and its interval) as shown to people: each part a string, every part
/// to the same decimal place, chosen from the interval's width (see the
/// [module documentation](self)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Estimate {
    /// The mean.
    pub mean: String,
    /// The interval's ends, if there is an interval.
    pub interval: Option<[String; 2]>,
}

impl Estimate {
    /// The interval as `[lo, hi]`, or `fallback` without one.
    pub fn interval_or(&self, fallback: &str) -> String {
        match &self.interval {
            Some([lo, hi]) => format!("[{lo}, {hi}]"),
            None => fallback.to_string(),
        }
    }
}

/// `mean` with its interval `ci` (at any level), each rounded to the place the interval's
/// narrower side supports (two significant digits of it). Without an interval, or with one of
/// width 0, the mean is shown as [`table_number`] does.
pub fn estimate(mean: f64, ci: Option<[f64; 2]>) -> Estimate {
    let Some([lo, hi]) = ci.filter(|[lo, hi]| lo.is_finite() && hi.is_finite()) else {
        return Estimate {
            mean: table_number(mean),
            interval: None,
        };
    };
    match place_of(mean, lo, hi) {
        Some(place) if mean.is_finite() => Estimate {
            mean: at_place(mean, place),
            interval: Some([at_place(lo, place), at_place(hi, place)]),
        },
        _ => Estimate {
            mean: table_number(mean),
            interval: Some([table_number(lo), table_number(hi)]),
        },
    }
}

/// The decimal place (a power of ten) an estimate is rounded to: that of the second
/// significant digit of the interval's narrower non-zero side; `None` for an interval of
/// width 0.
pub fn place_of(mean: f64, lo: f64, hi: f64) -> Option<i32> {
    let sides = [mean - lo, hi - mean];
    let narrow = sides
        .iter()
        .copied()
        .filter(|d| d.is_finite() && *d > 0.0)
        .fold(f64::INFINITY, f64::min);
    let width = if narrow.is_finite() {
        narrow
    } else {
        (hi - lo) / 2.0
    };
    (width.is_finite() && width > 0.0).then(|| width.log10().floor() as i32 - 1)
}

/// `v` rounded to `10^place`: grouped thousands, `-place` decimals when `place < 0`;
/// in scientific notation when that would need more than six decimals.
pub fn at_place(v: f64, place: i32) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    if place < -6 {
        let magnitude = if v == 0.0 {
            place
        } else {
            v.abs().log10().floor() as i32
        };
        let digits = (magnitude - place).clamp(0, 16) as usize;
        return format!("{v:.digits$e}");
    }
    if place >= 0 {
        let unit = 10f64.powi(place);
        let r = (v / unit).round() * unit;
        return group(&format!("{}", r as i128));
    }
    let d = (-place) as usize;
    let s = format!("{v:.d$}");
    let s = if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    };
    match s.split_once('.') {
        Some((i, f)) => format!("{}.{f}", group(i)),
        None => group(&s),
    }
}

/// `mean [lo, hi]` (or the mean alone without an interval), to the precision the interval
/// supports.
pub fn with_interval(mean: f64, ci: Option<[f64; 2]>) -> String {
    let e = estimate(mean, ci);
    match &e.interval {
        Some(_) => format!("{} {}", e.mean, e.interval_or("")),
        None => e.mean,
    }
}

/// `n` of something, as people read it: `10 replications`, `1 shard`, `1,200 variants`.
pub fn counted(n: u64, one: &str) -> String {
    format!(
        "{} {one}{}",
        table_number(n as f64),
        if n == 1 { "" } else { "s" }
    )
}

/// A confidence level as a percentage for a label: `0.95` → `95`, `0.995` → `99.5`.
pub fn percent(level: f64) -> String {
    human_with(level * 100.0, 4)
}

/// `1234567` → `1,234,567` (keeps a leading minus).
fn group(int: &str) -> String {
    let (sign, digits) = match int.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", int),
    };
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_are_shown_to_the_precision_of_their_interval() {
        let e = estimate(1_481_674.5, Some([1_481_552.0, 1_481_797.0]));
        assert_eq!(e.mean, "1,481,670");
        assert_eq!(e.interval_or(""), "[1,481,550, 1,481,800]");
        let e = estimate(1_481_633.7, Some([1_481_630.441, 1_481_636.959]));
        assert_eq!(
            with_interval(1_481_633.7, Some([1_481_630.441, 1_481_636.959])),
            "1,481,633.7 [1,481,630.4, 1,481,637.0]"
        );
        assert_eq!(e.mean, "1,481,633.7");
        // Six decimals were not six significant digits: both ends used to read 0.001642.
        let e = estimate(0.00164214, Some([0.00164184, 0.00164244]));
        assert_eq!(
            (e.mean.as_str(), e.interval_or("")),
            ("1.64214e-3", "[1.64184e-3, 1.64244e-3]".into())
        );
        assert_eq!(
            with_interval(27.0, Some([24.3234, 29.6766])),
            "27.0 [24.3, 29.7]"
        );
        assert_eq!(
            with_interval(5.9, Some([5.49393, 6.30607])),
            "5.90 [5.49, 6.31]"
        );
        assert_eq!(
            with_interval(0.1, Some([0.0025318, 0.5571643])),
            "0.100 [0.003, 0.557]"
        );
        assert_eq!(
            with_interval(0.0, Some([0.0, 0.3688879])),
            "0.00 [0.00, 0.37]"
        );
        assert_eq!(
            with_interval(2.71234, Some([2.71234, 2.71234])),
            "2.71234 [2.71234, 2.71234]"
        );
        assert_eq!(with_interval(10.0, None), "10");
        assert_eq!(
            with_interval(-6225.6, Some([-6296.6, -6154.6])),
            "-6,226 [-6,297, -6,155]"
        );
    }

    #[test]
    fn counts_are_short() {
        assert_eq!(human(1_200_000.0), "1.2M");
        assert_eq!(human(444_500.0), "444.5k");
        assert_eq!(human(950.0), "950");
        assert_eq!(human(0.0), "0");
        assert_eq!(human(0.25), "0.25");
        assert_eq!(human(-1500.0), "-1.5k");
        assert_eq!(human(14_815_387.0), "14.82M");
        assert_eq!(human(0.00002), "2e-5");
    }

    #[test]
    fn ticks_are_distinct() {
        let ticks = [444_200.0, 444_250.0, 444_300.0];
        let f = tick_formatter(&ticks);
        assert_eq!(f(444_250.0), "444.25k");
        assert_eq!(f(444_200.0), "444.2k");
        let f = tick_formatter(&[0.0, 0.1, 0.2, 0.30000000000000004]);
        assert_eq!(f(0.30000000000000004), "0.3");
        let f = tick_formatter(&[0.0, 500_000.0, 1_000_000.0, 1_500_000.0]);
        assert_eq!(f(1_500_000.0), "1.5M");
        assert_eq!(f(500_000.0), "500k");
    }

    #[test]
    fn table_numbers_group_thousands() {
        assert_eq!(table_number(444_622.5), "444,622.5");
        assert_eq!(table_number(1_481_538.0), "1,481,538");
        assert_eq!(table_number(1.234567891), "1.23457");
        assert_eq!(table_number(0.001371), "0.001371");
        assert_eq!(table_number(-12345.678), "-12,345.7");
    }

    #[test]
    fn confidence_levels_read_as_percentages() {
        assert_eq!(percent(0.95), "95");
        assert_eq!(percent(0.9), "90");
        assert_eq!(percent(0.99), "99");
        assert_eq!(percent(0.995), "99.5");
        assert_eq!(percent(0.8), "80");
    }
}
