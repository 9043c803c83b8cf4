//! Runs each scenario as two processes (the seeded fake, then the client
//! planning against it), reads the fake's request counts, runs the
//! deletion row the same way (the fake behind the secondary limit, the
//! client planning and then deleting), and prints and writes the results.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Instant;

use serde_json::Value;

use crate::seed::Shape;
use crate::table::{self, Executed, Planned};

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let quick = args.iter().any(|a| a == "--quick");
    let out = match args.iter().position(|a| a == "--out") {
        Some(i) => Some(PathBuf::from(
            args.get(i + 1).ok_or("--out needs a folder")?,
        )),
        None => None,
    };
    // The headline rows first, then the same sizes with few and with many
    // manifests to read (what the memory claim is checked on).
    let (scenarios, deletions): (&[(usize, Shape)], usize) = if quick {
        (&[(50, Shape::Releases), (50, Shape::Many)], 30)
    } else {
        (
            &[
                (50, Shape::Releases),
                (500, Shape::Releases),
                (50, Shape::Few),
                (50, Shape::Many),
                (500, Shape::Few),
                (500, Shape::Many),
            ],
            300,
        )
    };
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut planned = Vec::new();
    for &(n, shape) in scenarios {
        println!(
            "seeding {} packages x {n} versions ({} manifests to read) in the fake's process",
            crate::seed::PACKAGES,
            shape.name()
        );
        planned.push(scenario(&exe, n, shape)?);
    }
    println!("deleting {deletions} untagged versions at the default pacing");
    let executed = deleting(&exe, deletions)?;
    let markdown = table::markdown(&planned, &executed, quick);
    let json = table::json_lines(&planned, &executed);
    println!("\n{markdown}\n{json}");
    if let Some(dir) = out {
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for (name, text) in [("cleanup.md", &markdown), ("cleanup.json", &json)] {
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
            println!("wrote {}", path.display());
        }
    }
    Ok(())
}

/// The fake's process, its stdin (commands) and stdout (answers).
struct Server {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

impl Server {
    fn start(exe: &std::path::Path, args: &[&str]) -> Result<Self, String> {
        let mut child = Command::new(exe)
            .arg("serve")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("start the fake: {e}"))?;
        let input = child.stdin.take().ok_or("the fake's stdin")?;
        let output = BufReader::new(child.stdout.take().ok_or("the fake's stdout")?);
        Ok(Self {
            child,
            input,
            output,
        })
    }

    fn line(&mut self) -> Result<String, String> {
        let mut line = String::new();
        match self.output.read_line(&mut line) {
            Ok(0) => Err("the fake stopped (see its error above)".to_owned()),
            Ok(_) => Ok(line.trim().to_owned()),
            Err(e) => Err(format!("read from the fake: {e}")),
        }
    }

    fn ask(&mut self, command: &str) -> Result<String, String> {
        writeln!(self.input, "{command}").map_err(|e| format!("write to the fake: {e}"))?;
        self.line()
    }

    fn stop(mut self) -> Result<(), String> {
        writeln!(self.input, "quit").map_err(|e| format!("write to the fake: {e}"))?;
        let status = self.child.wait().map_err(|e| e.to_string())?;
        status
            .success()
            .then_some(())
            .ok_or_else(|| format!("the fake exited with {status}"))
    }
}

fn scenario(exe: &std::path::Path, per_package: usize, shape: Shape) -> Result<Planned, String> {
    let started = Instant::now();
    let per_package_text = per_package.to_string();
    let mut server = Server::start(exe, &["plan", &per_package_text, shape.name()])?;
    let ready = server.line()?;
    let seed_seconds = started.elapsed().as_secs_f64();
    let fields: Vec<&str> = ready.split(' ').collect();
    let [_, host, versions, indexes_kept] = fields[..] else {
        return Err(format!(
            "the fake said `{ready}`, not `ready HOST VERSIONS INDEXES`"
        ));
    };
    let number = |text: &str| {
        text.parse::<usize>()
            .map_err(|_| format!("`{text}` in `{ready}` is not a number"))
    };
    let (versions, indexes_kept) = (number(versions)?, number(indexes_kept)?);
    println!("  seeded {versions} versions in {seed_seconds:.1} s; planning");
    let output = Command::new(exe)
        .args(["plan", host])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("start the client: {e}"))?;
    if !output.status.success() {
        return Err(format!("the client failed ({})", output.status));
    }
    let client: Value =
        serde_json::from_slice(&output.stdout).map_err(|e| format!("the client's line: {e}"))?;
    let requests: Value =
        serde_json::from_str(&server.ask("log")?).map_err(|e| format!("the fake's counts: {e}"))?;
    server.stop()?;
    Ok(Planned {
        per_package,
        shape,
        versions,
        indexes_kept,
        client,
        requests,
    })
}

/// The deletion row: the fake with `count` leftovers behind the secondary
/// limit, and the client planning, then (once the fake's counts of the
/// planning are read) deleting.
fn deleting(exe: &std::path::Path, count: usize) -> Result<Executed, String> {
    let count_text = count.to_string();
    let mut server = Server::start(exe, &["deletes", &count_text])?;
    let ready = server.line()?;
    let host = ready
        .split(' ')
        .nth(1)
        .ok_or_else(|| format!("the fake said `{ready}`, not `ready HOST ...`"))?
        .to_owned();
    let mut child = Command::new(exe)
        .args(["execute", &host])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("start the client: {e}"))?;
    let mut input = child.stdin.take().ok_or("the client's stdin")?;
    let mut output = BufReader::new(child.stdout.take().ok_or("the client's stdout")?);
    let mut line = String::new();
    output
        .read_line(&mut line)
        .map_err(|e| format!("read from the client: {e}"))?;
    if !line.starts_with("planned ") {
        return Err(format!(
            "the client said `{}`, not `planned N`",
            line.trim()
        ));
    }
    let planning: Value =
        serde_json::from_str(&server.ask("log")?).map_err(|e| format!("the fake's counts: {e}"))?;
    writeln!(input, "go").map_err(|e| format!("write to the client: {e}"))?;
    line.clear();
    output
        .read_line(&mut line)
        .map_err(|e| format!("read from the client: {e}"))?;
    let client: Value =
        serde_json::from_str(&line).map_err(|e| format!("the client's line `{line}`: {e}"))?;
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("the client failed ({status})"));
    }
    let requests: Value =
        serde_json::from_str(&server.ask("log")?).map_err(|e| format!("the fake's counts: {e}"))?;
    server.stop()?;
    Ok(Executed {
        client,
        planning,
        requests,
    })
}
