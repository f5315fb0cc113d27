//! Sizes and durations as a person reads them on a terminal (`doctor`, `top`, progress lines):
//! `1.5 GiB`, `4m05s`. Configuration values are printed as they are written instead (`config::size`).

/// `512 B`, `640.0 KiB`, `1.5 GiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `0s`, `2.5s` (tenths below ten seconds), `42s`, `4m05s`, `2h07m`.
pub fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0);
    if s < 10.0 {
        let tenths = format!("{s:.1}");
        return format!("{}s", tenths.strip_suffix(".0").unwrap_or(&tenths));
    }
    let whole = s as u64;
    match whole {
        0..=59 => format!("{whole}s"),
        60..=3599 => format!("{}m{:02}s", whole / 60, whole % 60),
        _ => format!("{}h{:02}m", whole / 3600, (whole % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations_read_as_people_write_them() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(64 * 1024 * 1024), "64.0 MiB");
        assert_eq!(bytes(1536 * 1024 * 1024), "1.5 GiB");
        assert_eq!(duration(0.0), "0s");
        assert_eq!(duration(2.5), "2.5s");
        assert_eq!(duration(9.0), "9s");
        assert_eq!(duration(42.7), "42s");
        assert_eq!(duration(245.0), "4m05s");
        assert_eq!(duration(7620.0), "2h07m");
    }
}
