//! The node's side: the globs and the files they match, `state_dir`, inotify's limits, and
//! `output.file`'s directory.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::{Check, Report};
use crate::config::{Config, FileOutput};
use crate::discover::Globs;
use crate::telemetry::human::bytes;

/// Below this much free space `state_dir` fails: the registry is rewritten through a temporary copy,
/// and a busy node's dead letters (up to `dead_letter.max_bytes` a file) would fill less in minutes.
const MIN_FREE_BYTES: u64 = 64 * 1024 * 1024;

/// Each glob matches files, and each file it matches can be read and lies under the log roots (the
/// agent refuses, unread, a link that leads anywhere else).
pub fn paths(config: &Config, report: &mut Report) {
    let Ok(globs) = Globs::new(&config.paths) else {
        // Loading validated the globs; nothing left to say.
        return;
    };
    let roots = globs.log_roots(&config.log_roots);
    for pattern in &config.paths {
        report.push(one_glob(pattern, &roots));
    }
}

fn one_glob(pattern: &str, roots: &[PathBuf]) -> Check {
    let name = format!("paths {pattern}");
    let entries: Vec<PathBuf> = match glob::glob(pattern) {
        Ok(paths) => paths.flatten().collect(),
        Err(e) => return Check::fail(name, e.to_string(), "fix the pattern in `paths`"),
    };
    let mut readable: usize = 0;
    let mut problems = Vec::new();
    for path in &entries {
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => continue,
            Ok(_) => {}
            Err(e) => {
                problems.push(format!("{}: leads nowhere ({e})", path.display()));
                continue;
            }
        }
        if let Err(e) = File::open(path) {
            problems.push(format!("{}: cannot be read ({e})", path.display()));
            continue;
        }
        match std::fs::canonicalize(path) {
            Ok(target) if roots.iter().any(|r| target.starts_with(r)) => readable += 1,
            Ok(target) => problems.push(format!(
                "{}: resolves to {}, outside the log roots, so it is refused",
                path.display(),
                target.display()
            )),
            Err(e) => problems.push(format!("{}: {e}", path.display())),
        }
    }
    if entries.is_empty() {
        return Check::fail(
            name,
            "matches no file",
            "check `paths`; in a pod, mount the host's /var/log (hostPath) so /var/log/containers \
             and the /var/log/pods its links lead to are both there",
        );
    }
    if problems.is_empty() {
        return Check::pass(
            name,
            format!("{}, all readable", count(readable as u64, "file")),
        );
    }
    Check::fail(
        name,
        format!(
            "{} of {} files cannot be shipped",
            problems.len(),
            readable + problems.len()
        ),
        "mount where the links lead (/var/log/pods, and log_roots such as \
         /var/lib/docker/containers) and run the agent as root (uid 0) so it can read them",
    )
    .with_details(problems)
}

/// `state_dir` can be written (a probe file is written, synced and removed) and has room.
pub fn state_dir(config: &Config, report: &mut Report) {
    report.push(writable_dir("state_dir", &config.state_dir, true));
}

/// `output.file.path` can be written, as `state_dir`.
pub fn file_output(file: &FileOutput, report: &mut Report) {
    report.push(writable_dir("output.file.path", &file.path, false));
}

fn writable_dir(name: &str, dir: &Path, need_space: bool) -> Check {
    // A directory the agent creates at start is fine when its parent can take it.
    let existing = dir.ancestors().find(|d| d.exists()).unwrap_or(dir);
    let note = if existing == dir {
        String::new()
    } else {
        format!(
            " (does not exist yet; created at start in {})",
            existing.display()
        )
    };
    let fix_mount = format!(
        "mount a writable volume at {} (the DaemonSet's hostPath /var/lib/loglynk) or set {name}",
        dir.display()
    );
    if !existing.is_dir() {
        return Check::fail(
            name,
            format!("{} is not a directory", existing.display()),
            fix_mount,
        );
    }
    if let Err(e) = probe(existing) {
        return Check::fail(
            name,
            format!("{}{note} cannot be written: {e}", dir.display()),
            fix_mount,
        );
    }
    let space = match rustix::fs::statvfs(existing) {
        Ok(s) => s,
        Err(e) => {
            return Check::fail(
                name,
                format!("{}: cannot read the free space: {e}", dir.display()),
                fix_mount,
            )
        }
    };
    let free = space.f_bavail.saturating_mul(space.f_frsize);
    let total = space.f_blocks.saturating_mul(space.f_frsize);
    let found = format!(
        "{}{note} writable, {} free of {}",
        dir.display(),
        bytes(free),
        bytes(total)
    );
    if need_space && free < MIN_FREE_BYTES {
        return Check::fail(
            name,
            found,
            format!(
                "free at least {} on that disk: the registry is rewritten through a copy, and \
                 refused documents go to dead-letter files there",
                bytes(MIN_FREE_BYTES)
            ),
        );
    }
    Check::pass(name, found)
}

/// Writes, syncs and removes a small file in `dir`: what saving the registry does.
fn probe(dir: &Path) -> std::io::Result<()> {
    let path = dir.join(format!(".loglynk-doctor-{}", std::process::id()));
    let written = File::create(&path).and_then(|mut file| {
        file.write_all(&[0u8; 4096])?;
        file.sync_all()
    });
    let removed = std::fs::remove_file(&path);
    written?;
    // A file that could be made but not removed still shows the directory works.
    if let Err(e) = removed {
        if e.kind() != std::io::ErrorKind::NotFound {
            return Err(e);
        }
    }
    Ok(())
}

/// inotify: the agent takes one instance and one watch per directory it watches (each glob's
/// directory and the directory each matched file lives in).
pub fn inotify(config: &Config, report: &mut Report) {
    let read = |name: &str| {
        std::fs::read_to_string(format!("/proc/sys/fs/inotify/{name}"))
            .ok()
            .and_then(|t| t.trim().parse::<u64>().ok())
    };
    let (Some(watches), Some(instances)) = (read("max_user_watches"), read("max_user_instances"))
    else {
        report.push(Check::pass(
            "inotify",
            "no /proc/sys/fs/inotify here: the agent polls (scan_frequency, poll_interval)",
        ));
        return;
    };
    let limits = Limits { watches, instances };
    report.push(inotify_check(
        watched_dirs(config) as u64,
        instances_in_use(),
        limits,
    ));
}

/// The node's inotify limits for one user.
struct Limits {
    watches: u64,
    instances: u64,
}

/// `dirs` directories to watch, `in_use` instances open already, against `limits`.
fn inotify_check(dirs: u64, in_use: u64, limits: Limits) -> Check {
    let Limits { watches, instances } = limits;
    let found = format!(
        "{} to watch; max_user_watches {watches}, max_user_instances {instances} \
         ({in_use} in use by this user, as far as this process sees)",
        count(dirs, "directory")
    );
    let fix = "raise fs.inotify.max_user_watches / max_user_instances on the node (sysctl, e.g. \
               from a privileged init container); without a watch the agent still finds files \
               by polling, later";
    if dirs >= watches || in_use >= instances {
        Check::fail("inotify", found, fix)
    } else {
        Check::pass("inotify", found)
    }
}

/// `1 file`, `2 files`, `1 directory`, `3 directories`.
fn count(n: u64, one: &str) -> String {
    match (n, one.strip_suffix('y')) {
        (1, _) => format!("1 {one}"),
        (_, Some(stem)) => format!("{n} {stem}ies"),
        (_, None) => format!("{n} {one}s"),
    }
}

fn watched_dirs(config: &Config) -> usize {
    let Ok(globs) = Globs::new(&config.paths) else {
        return 0;
    };
    let mut dirs: BTreeSet<PathBuf> = globs.base_dirs().into_iter().collect();
    for pattern in &config.paths {
        for path in glob::glob(pattern).into_iter().flatten().flatten() {
            if let Some(parent) = std::fs::canonicalize(&path)
                .ok()
                .and_then(|t| t.parent().map(Path::to_path_buf))
            {
                dirs.insert(parent);
            }
        }
    }
    dirs.len()
}

/// inotify instances open in the processes this one can see (its own user's, in its namespace).
fn instances_in_use() -> u64 {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let mut count = 0;
    for process in procs.flatten() {
        let Ok(fds) = std::fs::read_dir(process.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if std::fs::read_link(fd.path()).is_ok_and(|l| l == Path::new("anon_inode:inotify")) {
                count += 1;
            }
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inotify_fails_when_the_directories_or_the_instances_exceed_the_limits() {
        let limits = |watches, instances| Limits { watches, instances };
        let fine = inotify_check(43, 1, limits(8192, 128));
        assert!(fine.ok, "{fine:?}");
        assert!(fine
            .found
            .starts_with("43 directories to watch; max_user_watches 8192"));
        let watches = inotify_check(9000, 1, limits(8192, 128));
        assert!(!watches.ok && watches.fix.unwrap().contains("max_user_watches"));
        let instances = inotify_check(1, 128, limits(8192, 128));
        assert!(!instances.ok, "{instances:?}");
        assert!(inotify_check(1, 0, limits(8192, 128))
            .found
            .starts_with("1 directory to watch"));
    }

    #[test]
    fn a_glob_names_files_it_cannot_ship() {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("containers");
        std::fs::create_dir(&logs).unwrap();
        std::fs::write(logs.join("a.log"), "x\n").unwrap();
        std::os::unix::fs::symlink(dir.path().join("gone.log"), logs.join("b.log")).unwrap();
        let pattern = format!("{}/*.log", logs.display());
        let roots = vec![std::fs::canonicalize(&logs).unwrap()];
        let check = one_glob(&pattern, &roots);
        assert!(!check.ok, "{check:?}");
        assert_eq!(check.found, "1 of 2 files cannot be shipped");
        assert!(
            check.details[0].contains("b.log: leads nowhere"),
            "{check:?}"
        );

        std::fs::remove_file(logs.join("b.log")).unwrap();
        let outside = dir.path().join("secret");
        std::fs::write(&outside, "x\n").unwrap();
        std::os::unix::fs::symlink(&outside, logs.join("c.log")).unwrap();
        let check = one_glob(&pattern, &roots);
        assert!(
            check.details[0].contains("outside the log roots"),
            "{check:?}"
        );

        std::fs::remove_file(logs.join("c.log")).unwrap();
        let check = one_glob(&pattern, &roots);
        assert_eq!(
            (check.ok, check.found.as_str()),
            (true, "1 file, all readable")
        );
        let none = one_glob(&format!("{}/*.nothing", logs.display()), &roots);
        assert_eq!((none.ok, none.found.as_str()), (false, "matches no file"));
    }
}
