//! The hostile corpus (`tests/fixtures/hostile/`, its README lists each file): every document
//! is refused with the error it deserves, the exit status 1, no panic, within a time and a
//! peak memory bound. Files too large to keep in the repository are made by the test.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::fixtures;

/// How a run of `mim6` went: exit status, everything it printed, wall time, peak memory.
struct Measured {
    code: i32,
    output: String,
    took: Duration,
    peak_mb: u64,
}

/// Runs `mim6 ARGS` in `dir`, reading the child's peak resident memory (Linux `VmHWM`) while
/// it runs.
fn measure(dir: &Path, args: &[&str]) -> Measured {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mim6"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status_file = PathBuf::from(format!("/proc/{}/status", child.id()));
    let mut peak_kb = 0;
    let read_peak = |peak: &mut u64| {
        if let Ok(status) = std::fs::read_to_string(&status_file)
            && let Some(kb) = status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        {
            *peak = (*peak).max(kb);
        }
    };
    // Drain the pipes on their own threads so that a chatty child never blocks.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut text).ok();
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut text).ok();
        text
    });
    let status = loop {
        read_peak(&mut peak_kb);
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let output = out.join().unwrap() + &err.join().unwrap();
    Measured {
        code: status.code().expect("exits normally, without a signal"),
        output,
        took: started.elapsed(),
        peak_mb: peak_kb / 1024,
    }
}

/// One hostile input: how to run mim6 on it and what must come out.
struct Case {
    file: &'static str,
    args: &'static [&'static str],
    /// A fragment of the error message.
    error: &'static str,
    /// Bounds, generous for a debug build.
    seconds: u64,
    megabytes: u64,
}

const VALIDATE: &[&str] = &["validate"];
const CONVERT: &[&str] = &["convert", "--to", "json"];

/// The committed files.
const KEPT: &[Case] = &[
    Case {
        file: "billion-laughs.xml",
        args: VALIDATE,
        error: "DOCTYPE declarations are not allowed",
        seconds: 10,
        megabytes: 200,
    },
    Case {
        file: "external-entity.xml",
        args: VALIDATE,
        error: "DOCTYPE declarations are not allowed",
        seconds: 10,
        megabytes: 200,
    },
    Case {
        file: "undeclared-entity.xml",
        args: CONVERT,
        error: "undefined entity &xxe;",
        seconds: 10,
        megabytes: 200,
    },
    Case {
        file: "wrong-namespace.xml",
        args: VALIDATE,
        error: "is in namespace \"http://example.com/not-oscal\"",
        seconds: 10,
        megabytes: 200,
    },
    Case {
        file: "utf16-bom.json",
        args: VALIDATE,
        error: "UTF-16",
        seconds: 10,
        megabytes: 200,
    },
    Case {
        file: "nul-byte.json",
        args: VALIDATE,
        error: "1:13: /: read: expected value",
        seconds: 10,
        megabytes: 200,
    },
    Case {
        file: "invalid-utf8.json",
        args: VALIDATE,
        error: "UTF-8",
        seconds: 10,
        megabytes: 200,
    },
    Case {
        file: "duplicate-keys.json",
        args: VALIDATE,
        error: "duplicate key `uuid`",
        seconds: 10,
        megabytes: 200,
    },
    Case {
        file: "number-out-of-range.json",
        args: VALIDATE,
        error: "number out of range",
        seconds: 10,
        megabytes: 200,
    },
    Case {
        file: "yaml-alias-bomb.yaml",
        args: VALIDATE,
        error: "budget breached",
        seconds: 20,
        megabytes: 600,
    },
];

/// The files made by the test: name, maker, expected error, bounds.
type Maker = fn(&Path);

fn made() -> Vec<(Case, Maker)> {
    const N: usize = 100_000;
    vec![
        (
            Case {
                file: "million-element-array.json",
                args: VALIDATE,
                error: "schema/type",
                seconds: 30,
                megabytes: 600,
            },
            |p| std::fs::write(p, format!("{{\"catalog\": [{}0]}}", "0,".repeat(999_999))).unwrap(),
        ),
        (
            Case {
                file: "deep-100000.json",
                args: VALIDATE,
                error: "recursion limit exceeded",
                seconds: 10,
                megabytes: 200,
            },
            |p| {
                std::fs::write(
                    p,
                    format!("{{\"catalog\": {}{}}}", "[".repeat(N), "]".repeat(N)),
                )
                .unwrap()
            },
        ),
        (
            Case {
                file: "deep-100000.xml",
                args: VALIDATE,
                error: "nest deeper than the limit of 256",
                seconds: 10,
                megabytes: 200,
            },
            |p| {
                let text = format!(
                    "<catalog xmlns=\"http://csrc.nist.gov/ns/oscal/1.0\">{}{}</catalog>",
                    "<group>".repeat(N),
                    "</group>".repeat(N)
                );
                std::fs::write(p, text).unwrap();
            },
        ),
        (
            Case {
                file: "deep-100000.yaml",
                args: VALIDATE,
                error: "recursion limit exceeded",
                seconds: 10,
                megabytes: 200,
            },
            |p| {
                std::fs::write(p, format!("catalog: {}{}\n", "[".repeat(N), "]".repeat(N))).unwrap()
            },
        ),
        (
            Case {
                file: "sparse-4gb.json",
                args: VALIDATE,
                error: "over the limit of 134217728 bytes",
                seconds: 10,
                megabytes: 200,
            },
            |p| std::fs::File::create(p).unwrap().set_len(4 << 30).unwrap(),
        ),
        (
            Case {
                file: "string-100mb.json",
                args: VALIDATE,
                error: "schema/",
                seconds: 60,
                megabytes: 1500,
            },
            |p| {
                let text = format!(
                    "{{\"catalog\": {{\"uuid\": \"{}\"}}}}",
                    "a".repeat(100 << 20)
                );
                std::fs::write(p, text).unwrap();
            },
        ),
    ]
}

#[track_caller]
fn check(dir: &Path, case: &Case, path: &Path) {
    let mut args: Vec<&str> = case.args.to_vec();
    args.push(path.to_str().unwrap());
    let run = measure(dir, &args);
    let head: String = run.output.chars().take(600).collect();
    assert_eq!(
        run.code, 1,
        "{}: exit status {}: {head}",
        case.file, run.code
    );
    assert!(!run.output.contains("panicked"), "{}: {head}", case.file);
    assert!(
        run.output.contains(case.error),
        "{}: no `{}` in: {head}",
        case.file,
        case.error
    );
    assert!(
        run.took <= Duration::from_secs(case.seconds),
        "{}: {:?}, over {} s",
        case.file,
        run.took,
        case.seconds
    );
    assert!(
        run.peak_mb <= case.megabytes,
        "{}: peak {} MB, over {} MB",
        case.file,
        run.peak_mb,
        case.megabytes
    );
}

#[test]
fn every_file_of_the_hostile_corpus_is_refused_within_bounds() {
    let root = fixtures().join("hostile");
    let listed = std::fs::read_to_string(root.join("README.md")).unwrap();
    for case in KEPT {
        assert!(
            listed.contains(&format!("`{}`", case.file)),
            "README lists {}",
            case.file
        );
        check(&root, case, &root.join(case.file));
    }
    // Every committed file has its case.
    for file in mim6_test_support::files_under(&root) {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name == "README.md" || KEPT.iter().any(|c| c.file == name),
            "{name} has no case"
        );
    }
}

#[test]
fn large_and_deep_hostile_files_are_refused_within_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let listed = std::fs::read_to_string(fixtures().join("hostile/README.md")).unwrap();
    for (case, make) in made() {
        assert!(
            listed.contains(&format!("`{}`", case.file)),
            "README lists {}",
            case.file
        );
        let path = dir.path().join(case.file);
        make(&path);
        check(dir.path(), &case, &path);
        std::fs::remove_file(&path).unwrap();
    }
}

/// A profile importing `href`.
fn profile(href: &str) -> String {
    serde_json::json!({"profile": {
        "uuid": "1f5c6d1e-2b3a-4c5d-8e9f-a0b1c2d3e4f5",
        "metadata": {"title": "t", "last-modified": "2024-01-01T00:00:00Z", "version": "1", "oscal-version": "1.2.3"},
        "imports": [{"href": href, "include-all": {}}]
    }})
    .to_string()
}

#[test]
fn hostile_imports_are_refused_without_a_connection_or_a_leak() {
    let dir = tempfile::tempdir().unwrap();
    for (name, href, error) in [
        (
            "metadata-host.json",
            "http://169.254.169.254/latest/meta-data/",
            "host \"169.254.169.254\" is not allowed",
        ),
        (
            "localhost.json",
            "http://localhost:9/catalog.json",
            "host \"localhost\" is not allowed",
        ),
        (
            "plain-http.json",
            "http://example.com/catalog.json",
            "host \"example.com\" is not allowed",
        ),
    ] {
        std::fs::write(dir.path().join(name), profile(href)).unwrap();
        let run = measure(dir.path(), &["resolve", name, "-o", "out.json"]);
        assert_eq!(run.code, 1, "{name}: {}", run.output);
        assert!(run.output.contains(error), "{name}: {}", run.output);
    }
    // A file that is not OSCAL, named by a hostile href: its content is not echoed back.
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, format!("token: {}", "s3cr3t".repeat(50))).unwrap();
    std::fs::write(
        dir.path().join("file-url.json"),
        profile(&format!("file://{}", secret.display())),
    )
    .unwrap();
    let run = measure(dir.path(), &["resolve", "file-url.json", "-o", "out.json"]);
    assert_eq!(run.code, 1, "{}", run.output);
    assert!(run.output.matches("s3cr3t").count() < 10, "{}", run.output);
}

#[test]
fn local_imports_stay_inside_the_profile_folder_unless_widened() {
    let dir = tempfile::tempdir().unwrap();
    let profiles = dir.path().join("profiles");
    std::fs::create_dir(&profiles).unwrap();
    let catalog = dir.path().join("catalog.json");
    std::fs::copy(
        fixtures().join("nist/examples/catalog/json/basic-catalog.json"),
        &catalog,
    )
    .unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&catalog, profiles.join("link.json")).unwrap();
    let mut cases = vec![
        ("up.json", "../catalog.json".to_owned()),
        ("absolute.json", catalog.display().to_string()),
        ("file-url.json", format!("file://{}", catalog.display())),
    ];
    if cfg!(unix) {
        cases.push(("symlink.json", "link.json".to_owned()));
    }
    for (name, href) in &cases {
        std::fs::write(profiles.join(name), profile(href)).unwrap();
        let path = format!("profiles/{name}");
        let run = measure(dir.path(), &["resolve", &path, "-o", "out.json"]);
        assert_eq!(run.code, 1, "{name}: {}", run.output);
        assert!(
            run.output
                .contains("/profiles, the folder imports may be read from"),
            "{name}: {}",
            run.output
        );
        // The operator may widen the folder.
        let run = measure(
            dir.path(),
            &["resolve", &path, "--root", ".", "-o", "out.json"],
        );
        assert_eq!(run.code, 0, "{name} with --root: {}", run.output);
    }
}

#[test]
fn import_cycles_are_refused_and_deep_chains_resolve() {
    let dir = tempfile::tempdir().unwrap();
    for length in [1, 2, 10] {
        for i in 0..length {
            let next = format!("cycle{length}-{}.json", (i + 1) % length);
            std::fs::write(
                dir.path().join(format!("cycle{length}-{i}.json")),
                profile(&next),
            )
            .unwrap();
        }
        let first = format!("cycle{length}-0.json");
        let run = measure(dir.path(), &["resolve", &first, "-o", "out.json"]);
        assert_eq!(run.code, 1, "cycle of {length}: {}", run.output);
        assert!(
            run.output.contains("cycle"),
            "cycle of {length}: {}",
            run.output
        );
        assert!(run.took < Duration::from_secs(10));
    }
    // 1,000 profiles, each importing the next, the last importing a catalog: refused at the
    // depth limit, with the profile named, never overflowing the stack; a chain within the
    // limit resolves.
    let catalog = fixtures().join("nist/examples/catalog/json/basic-catalog.json");
    std::fs::copy(&catalog, dir.path().join("catalog.json")).unwrap();
    for i in 0..1000 {
        let next = if i == 999 {
            "catalog.json".to_owned()
        } else {
            format!("chain-{}.json", i + 1)
        };
        std::fs::write(dir.path().join(format!("chain-{i}.json")), profile(&next)).unwrap();
    }
    let run = measure(dir.path(), &["resolve", "chain-0.json", "-o", "out.json"]);
    assert_eq!(run.code, 1, "{}", run.output);
    assert!(
        run.output.contains("imports nest deeper than 64 profiles"),
        "{}",
        run.output
    );
    assert!(run.took < Duration::from_secs(30), "{:?}", run.took);
    assert!(run.peak_mb < 500, "{} MB", run.peak_mb);
    let within = format!("chain-{}.json", 1000 - 60);
    let run = measure(dir.path(), &["resolve", &within, "-o", "out.json"]);
    assert_eq!(run.code, 0, "{}", run.output);
}
