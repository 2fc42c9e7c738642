//! Numbers for people: axis ticks as `1.2M`, `444.5k`, `0.0015`; table cells as `444,622.5`.

/// `v` with a k/M/G suffix and as few decimals as show it exactly (up to `max_decimals`):
/// `1200000` → `1.2M`, `444500` → `444.5k`, `950` → `950`, `0.25` → `0.25`.
pub fn human(v: f64) -> String {
    human_with(v, 2)
}

/// [`human`] with a chosen maximum number of decimals after scaling.
pub(crate) fn human_with(v: f64, max_decimals: usize) -> String {
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
pub(crate) fn tick_formatter(ticks: &[f64]) -> impl Fn(f64) -> String + use<> {
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
