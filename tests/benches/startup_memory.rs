//! Start to interactive, idle memory and installer size of the wizard, each as a ratio against a bare Tauri "hello"
//! app (`tests/baseline-app/`) built the same way in the same run. A benchmark, not a test: it prints figures, it
//! asserts nothing.
//!
//!   cargo bench -p icloud-mail-tests --bench startup_memory
//!   STARTUP_BENCH_RUNS=31 cargo bench -p icloud-mail-tests --bench startup_memory
//!   STARTUP_BENCH_TRACE=1 …   (also prints every run and the memory of each process)
//!   STARTUP_BENCH_SKIP_BUILD=1 …   (measures the binaries the last run built, for quick re-measurement)
//!
//! Both apps are built by this benchmark with the Tauri CLI (`tauri build --bundles deb`, the workspace's release
//! profile: LTO, one codegen unit, opt-level "s", strip, abort) into `target/bench/`, so the binaries measured are
//! the ones the .deb files carry. Then, under a private Xvfb and session bus, each app is started in turn (order
//! alternating, one discarded warm-up run each, own HOME kept across runs):
//! - start to interactive: from just before spawn to the line the app prints on stderr when the page has painted
//!   its first step and its first IPC call arrived (the wizard prints it with `ICLOUD_MAIL_SETUP_TRACE_STARTUP`
//!   set, the baseline always). Both apps print the same milestones on the way (window start, first and last
//!   plugin set up, Tauri's setup hook) and the page reports its own phases (navigation start, document received and
//!   parsed, script running, modules run, step built, first frame), so each millisecond of a start is named in the
//!   phase table; the runs are also split into the two modes of WebKit's start (see `mode_split`) with a median and
//!   ratio within each;
//! - idle memory: 3 s after that, PSS summed over the app and every process it started (WebKitWebProcess,
//!   WebKitNetworkProcess), from /proc/<pid>/smaps_rollup;
//! - installer size: the two .deb files.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use icloud_mail_tests::processes::{all_pids, artifacts_dir, become_subreaper, proc_stat, reap_orphans};
use icloud_mail_tests::webdriver::{SessionBus, Xvfb};
use icloud_mail_tests::workspace_root;

const IDLE: Duration = Duration::from_secs(3);

struct App {
    label: &'static str,
    /// Folder holding the app's tauri.conf.json (where `tauri build` runs).
    dir: PathBuf,
    binary: PathBuf,
    home: tempfile::TempDir,
}

struct Sample {
    startup: Duration,
    /// The app's own trace, in ms since its `main` began: each milestone line (`setup`, `plugins begin`, …,
    /// `first step ready`) and the page's phases placed on that clock (`navigation start`) or in ms from it.
    marks: HashMap<String, f64>,
    pss_kib: u64,
    processes: Vec<(String, u64)>,
}

impl Sample {
    fn mark(&self, name: &str) -> f64 {
        self.marks.get(name).copied().unwrap_or(f64::NAN)
    }

    /// Milliseconds from `from` to `to`, both on `main`'s clock.
    fn between(&self, from: &str, to: &str) -> f64 {
        self.mark(to) - self.mark(from)
    }

    /// A page phase's end on `main`'s clock (the page measures from its navigation start).
    fn page(&self, name: &str) -> f64 {
        self.mark("navigation start") + self.mark(name)
    }
}

/// Every milestone and page phase the phase table reads.
const MARKS: &[&str] = &[
    "window start",
    "plugins begin",
    "plugins end",
    "setup",
    "navigation start",
    "document received",
    "document parsed",
    "script running",
    "modules run",
    "step built",
    "first frame",
    "first step ready",
];

/// Where each millisecond of a start goes, in order; each phase ends where the next begins, so they add up to the
/// whole start (spawn to the ready line).
/// A phase's name and how long it took in one start.
type Phase = (&'static str, fn(&Sample) -> f64);

const PHASES: &[Phase] = &[
    ("exec and dynamic linking (spawn → `main`)", |s| s.startup.as_secs_f64() * 1000.0 - s.mark("first step ready")),
    ("arguments, settings (`main` → window start)", |s| s.mark("window start")),
    ("window toolkit and Tauri runtime (→ first plugin)", |s| s.between("window start", "plugins begin")),
    ("plugins set up", |s| s.between("plugins begin", "plugins end")),
    ("window and web view created (→ setup hook)", |s| s.between("plugins end", "setup")),
    ("WebKit processes start, navigation begins", |s| s.between("setup", "navigation start")),
    ("document served (navigation → response end)", |s| s.mark("document received")),
    ("document parsed (→ DOM interactive)", |s| s.mark("document parsed") - s.mark("document received")),
    ("script fetched and parsed (→ its first module runs)", |s| s.mark("script running") - s.mark("document parsed")),
    ("script's modules run", |s| s.mark("modules run") - s.mark("script running")),
    ("first step built", |s| s.mark("step built") - s.mark("modules run")),
    ("style, layout, first painted frame", |s| s.mark("first frame") - s.mark("step built")),
    ("IPC call back to the app", |s| s.mark("first step ready") - s.page("first frame")),
];

fn target_dir() -> PathBuf {
    workspace_root().join("target/bench")
}

/// `tauri build --bundles deb` in `dir`, into the benchmark's own target folder (so it never waits for the lock of
/// the folder `cargo bench` itself is using).
fn tauri_build(dir: &Path) {
    let cli = workspace_root().join("node_modules/.bin/tauri");
    assert!(cli.exists(), "{} is missing: run `npm ci` (or ./scripts/test.sh) first", cli.display());
    let started = Instant::now();
    let status = Command::new(&cli)
        .args(["build", "--bundles", "deb"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir())
        .status()
        .expect("run the Tauri CLI");
    assert!(status.success(), "`tauri build --bundles deb` failed in {}", dir.display());
    println!("built {} in {:.0} s", dir.display(), started.elapsed().as_secs_f64());
}

/// The .deb named `<name_prefix>…` that the last build wrote: the newest of them (an earlier version's stays in the
/// folder), and with `built_since`, one written since then — else the build made none, and no old one is reported.
fn deb_size(name_prefix: &str, built_since: Option<SystemTime>) -> (String, u64) {
    let dir = target_dir().join("release/bundle/deb");
    let (name, meta) = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            (n.starts_with(name_prefix) && n.ends_with(".deb")).then(|| (n, e.metadata().expect("deb metadata")))
        })
        .max_by_key(|(_, m)| m.modified().expect("deb time"))
        .unwrap_or_else(|| panic!("no {name_prefix}*.deb in {}", dir.display()));
    if let Some(since) = built_since {
        assert!(meta.modified().expect("deb time") >= since, "the build wrote no {name_prefix}*.deb; the newest, {name}, is older");
    }
    (name, meta.len())
}

/// Every process descended from `root` (including it), from the parent links in /proc.
fn descendants(root: u32) -> Vec<u32> {
    let parent_of: HashMap<u32, u32> = all_pids().into_iter().filter_map(|p| proc_stat(p).map(|s| (p, s.parent))).collect();
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let p = found[i];
        found.extend(parent_of.iter().filter(|(_, &pp)| pp == p).map(|(&c, _)| c));
        i += 1;
    }
    found
}

fn pss_kib(pid: u32) -> Option<u64> {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    rollup.lines().find_map(|l| l.strip_prefix("Pss:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).map(|s| s.trim().to_owned()).unwrap_or_default()
}

/// Stops the app's whole process group and waits until none of its processes is left.
fn stop(child: &mut Child, family: &[u32]) {
    let pgid = child.id() as libc::pid_t;
    // SAFETY: signals our own child's process group (the child was made a group leader at spawn).
    unsafe { libc::killpg(pgid, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: as above; SIGKILL for anything that ignored SIGTERM.
    unsafe { libc::killpg(pgid, libc::SIGKILL) };
    let _ = child.wait();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        reap_orphans();
        let alive: Vec<u32> = family.iter().copied().filter(|p| Path::new(&format!("/proc/{p}")).exists()).collect();
        if alive.is_empty() {
            break;
        }
        if Instant::now() > deadline {
            for p in alive {
                // SAFETY: a process this run started (a WebKit helper outside the group); it is orphaned to us.
                unsafe { libc::kill(p as libc::pid_t, libc::SIGKILL) };
            }
            reap_orphans();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn measure(app: &App, xvfb: &Xvfb, bus: &SessionBus) -> Sample {
    let home = app.home.path();
    let mut cmd = Command::new(&app.binary);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("XDG_RUNTIME_DIR", home.join("run"))
        .env("DISPLAY", &xvfb.display)
        .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
        .env("WEBKIT_DISABLE_DMABUF_RENDERER", "1")
        .env("GDK_BACKEND", "x11")
        .env("NO_AT_BRIDGE", "1")
        .env("LANG", "C.UTF-8")
        .env("ICLOUD_MAIL_SETUP_TRACE_STARTUP", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0);
    let started = Instant::now();
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("start {}: {e}", app.binary.display()));
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut marks = HashMap::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            read_marks(&line, &mut marks);
            let ready = line.contains("first step ready");
            seen.push(line);
            if ready {
                let _ = tx.send(Ok((Instant::now(), marks.clone())));
            }
        }
        let _ = tx.send(Err(seen.join("\n")));
    });
    let (ready, marks) = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(Ok(seen)) => seen,
        other => {
            let family = descendants(child.id());
            stop(&mut child, &family);
            panic!("{} never reported its first step (stderr: {other:?})", app.label);
        }
    };
    let missing: Vec<&str> = MARKS.iter().copied().filter(|m| !marks.get(*m).is_some_and(|v| v.is_finite())).collect();
    if !missing.is_empty() {
        println!("  warning: {} did not report {missing:?}: those phases are blank", app.label);
    }
    std::thread::sleep(IDLE);
    let family = descendants(child.id());
    let processes: Vec<(String, u64)> = family.iter().filter_map(|&p| pss_kib(p).map(|k| (comm(p), k))).collect();
    stop(&mut child, &family);
    Sample { startup: ready - started, marks, pss_kib: processes.iter().map(|(_, k)| k).sum(), processes }
}

/// The trace's milestones: `<app>: <name> after <ms> ms…` and `<app>: page phases <name> <ms> ms, <name> <ms> ms, …`.
fn read_marks(line: &str, marks: &mut HashMap<String, f64>) {
    let Some((_, said)) = line.split_once(": ") else { return };
    if let Some(phases) = said.strip_prefix("page phases ") {
        for phase in phases.split(", ") {
            if let Some((name, ms)) = phase.trim_end_matches(" ms").rsplit_once(' ') {
                if let Ok(ms) = ms.parse() {
                    marks.insert(name.to_owned(), ms);
                }
            }
        }
    } else if let Some((name, rest)) = said.split_once(" after ") {
        if let Some(ms) = rest.split(' ').next().and_then(|ms| ms.parse().ok()) {
            marks.insert(name.to_owned(), ms);
        }
    }
}

/// The value above which a run is in the slow mode: the middle of the widest gap between neighbouring values, if
/// that gap is wider than 150 ms.
fn mode_split(values: &[f64]) -> Option<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    let (low, gap) = sorted.windows(2).map(|w| (w[0], w[1] - w[0])).max_by(|a, b| a.1.total_cmp(&b.1))?;
    (gap > 150.0).then_some(low + gap / 2.0)
}

/// The median of the values that are there: a run that lacked a mark (NaN) is left out rather than sorted to the end
/// as if it were the slowest; NaN when no run had it.
fn median(v: Vec<f64>) -> f64 {
    let mut v: Vec<f64> = v.into_iter().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    // `cargo bench` passes --bench; this benchmark has no options of its own on the command line.
    let runs: usize = std::env::var("STARTUP_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(21).max(1);
    let trace = std::env::var_os("STARTUP_BENCH_TRACE").is_some();
    become_subreaper();
    let root = workspace_root();
    let built_since = if std::env::var_os("STARTUP_BENCH_SKIP_BUILD").is_none() {
        let since = SystemTime::now();
        tauri_build(&root);
        tauri_build(&root.join("tests/baseline-app"));
        Some(since)
    } else {
        None
    };

    let release = target_dir().join("release");
    let apps = [
        App {
            label: "iCloud Mail Setup",
            dir: root.clone(),
            binary: release.join("icloud-mail-setup"),
            home: tempfile::tempdir().expect("tempdir"),
        },
        App {
            label: "bare Tauri app",
            dir: root.join("tests/baseline-app"),
            binary: release.join("tauri-hello-baseline"),
            home: tempfile::tempdir().expect("tempdir"),
        },
    ];
    for app in &apps {
        std::fs::create_dir_all(app.home.path().join("run")).expect("runtime dir");
        assert!(app.binary.exists(), "{} was not built (from {})", app.binary.display(), app.dir.display());
        if built_since.is_none() {
            // Said where the figures appear: they are of binaries built earlier, maybe from other sources.
            let age = std::fs::metadata(&app.binary).and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok());
            println!(
                "STARTUP_BENCH_SKIP_BUILD: reusing {} as built {} ago, not built from the sources now",
                app.binary.display(),
                age.map_or("an unknown time".to_owned(), |a| format!("{:.0} min", a.as_secs_f64() / 60.0))
            );
        }
    }

    let logs = artifacts_dir("bench_startup_memory");
    let xvfb = Xvfb::start(&logs);
    let bus = SessionBus::start(&logs);

    let mut samples: [Vec<Sample>; 2] = [Vec::new(), Vec::new()];
    for run in 0..=runs {
        // Alternate the order so neither app always runs on the heels of the other.
        let order = if run % 2 == 0 { [0, 1] } else { [1, 0] };
        for i in order {
            let s = measure(&apps[i], &xvfb, &bus);
            if trace {
                let parts: Vec<String> = s.processes.iter().map(|(n, k)| format!("{n} {:.1}", *k as f64 / 1024.0)).collect();
                println!(
                    "  run {run:>2} {:<18} {:>5} ms (setup {:>4.0}, navigation {:>4.0}, page {:>4.0})  {:>6.1} MiB PSS ({}){}",
                    apps[i].label,
                    s.startup.as_millis(),
                    s.mark("setup"),
                    s.mark("navigation start"),
                    s.mark("first frame"),
                    s.pss_kib as f64 / 1024.0,
                    parts.join(", "),
                    if run == 0 { "  [warm-up, discarded]" } else { "" }
                );
            }
            if run > 0 {
                samples[i].push(s);
            }
        }
    }

    // Each figure as [wizard, baseline]: the median over the runs, and for start-up also the fastest and slowest.
    let medians = |f: fn(&Sample) -> f64| [0, 1].map(|i| median(samples[i].iter().map(f).collect()));
    let extremes = |f: fn(&Sample) -> f64| {
        [0, 1].map(|i| {
            let v: Vec<f64> = samples[i].iter().map(f).collect();
            (v.iter().copied().fold(f64::INFINITY, f64::min), v.iter().copied().fold(f64::NEG_INFINITY, f64::max))
        })
    };
    let startup_ms = |s: &Sample| s.startup.as_secs_f64() * 1000.0;
    let startup = medians(startup_ms);
    let [(a_lo, a_hi), (b_lo, b_hi)] = extremes(startup_ms);
    let pss_mib = medians(|s| s.pss_kib as f64 / 1024.0);
    let setup = medians(|s| s.mark("setup"));
    let page = medians(|s| s.mark("first frame"));
    let (deb_names, debs): (Vec<String>, Vec<u64>) =
        [deb_size("icloud-mail-setup_", built_since), deb_size("tauri-hello-baseline_", built_since)].into_iter().unzip();

    println!();
    println!("Release builds under Xvfb, median of {runs} runs each (after one warm-up run), order alternating.");
    println!("| | iCloud Mail Setup | bare Tauri app | ratio | budget |");
    println!("|---|---|---|---|---|");
    println!(
        "| start to interactive | {:.0} ms ({a_lo:.0}–{a_hi:.0}) | {:.0} ms ({b_lo:.0}–{b_hi:.0}) | {:.2}× | ≤ 1.10× |",
        startup[0],
        startup[1],
        startup[0] / startup[1]
    );
    println!(
        "| idle PSS after 3 s (app + WebKit processes) | {:.1} MiB | {:.1} MiB | {:.2}× | ≤ 1.10× |",
        pss_mib[0],
        pss_mib[1],
        pss_mib[0] / pss_mib[1]
    );
    println!("| … of which `main` to Tauri's setup hook | {:.0} ms | {:.0} ms | | |", setup[0], setup[1]);
    println!("| … of which in the page (navigation start to first painted frame) | {:.0} ms | {:.0} ms | | |", page[0], page[1]);
    println!(
        "| .deb size ({} vs {}) | {:.2} MiB ({} bytes) | {:.2} MiB | {:.2}× | ≤ 4 MB |",
        deb_names[0],
        deb_names[1],
        debs[0] as f64 / 1048576.0,
        debs[0],
        debs[1] as f64 / 1048576.0,
        debs[0] as f64 / debs[1] as f64
    );

    // The two modes of WebKit's start (see docs/benchmarks.md): some starts spend ~0.5 s more between the setup hook
    // and the navigation start, in both apps. Runs are split at the widest gap in that time over both apps' runs (if
    // that gap is over 150 ms); each mode's median and ratio compare like with like.
    let waits: Vec<f64> = samples.iter().flatten().map(|s| s.between("setup", "navigation start")).collect();
    let slow_above = mode_split(&waits);
    println!();
    match slow_above {
        None => println!("One mode: no gap over 150 ms in the WebKit start (setup hook → navigation start) of any run."),
        Some(limit) => {
            println!("Two modes, split where the WebKit start (setup hook → navigation start) passes {limit:.0} ms:");
            println!("| | iCloud Mail Setup | bare Tauri app | ratio |");
            println!("|---|---|---|---|");
            for (name, slow) in [("fast", false), ("slow", true)] {
                let within = [0, 1].map(|i| {
                    samples[i]
                        .iter()
                        .filter(|s| (s.between("setup", "navigation start") > limit) == slow)
                        .map(startup_ms)
                        .collect::<Vec<_>>()
                });
                let [a, b] = [&within[0], &within[1]].map(|v| if v.is_empty() { f64::NAN } else { median(v.clone()) });
                println!(
                    "| start to interactive, {name} mode | {a:.0} ms ({} of {runs} runs) | {b:.0} ms ({} of {runs} runs) | {:.2}× |",
                    within[0].len(),
                    within[1].len(),
                    a / b
                );
            }
        }
    }

    // Where the time goes: each phase's median (the medians need not add up to the median start).
    println!();
    println!("Phases, median of {runs} runs each (ms):");
    println!("| phase | iCloud Mail Setup | bare Tauri app | difference |");
    println!("|---|---|---|---|");
    let mut sums = [0.0, 0.0];
    for (name, phase) in PHASES {
        let m = medians(*phase);
        sums[0] += m[0];
        sums[1] += m[1];
        println!("| {name} | {:.1} | {:.1} | {:+.1} |", m[0], m[1], m[0] - m[1]);
    }
    println!("| sum of the medians | {:.0} | {:.0} | {:+.0} |", sums[0], sums[1], sums[0] - sums[1]);
}
