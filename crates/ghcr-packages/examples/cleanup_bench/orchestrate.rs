//! Runs each scenario as two processes (the seeded fake, then the client
//! planning against it), reads the fake's request counts, runs the
//! deletion row, and prints and writes the results.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Instant;

use serde_json::Value;

use crate::client::{self, Executed};
use crate::table::{self, Planned};

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let quick = args.iter().any(|a| a == "--quick");
    let out = match args.iter().position(|a| a == "--out") {
        Some(i) => Some(PathBuf::from(
            args.get(i + 1).ok_or("--out needs a folder")?,
        )),
        None => None,
    };
    let (per_package, deletions): (&[usize], usize) = if quick {
        (&[50], 30)
    } else {
        (&[50, 500], 300)
    };
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut planned = Vec::new();
    for &n in per_package {
        println!(
            "seeding {} packages x {n} versions in the fake's process",
            crate::seed::PACKAGES
        );
        planned.push(scenario(&exe, n)?);
    }
    println!("deleting {deletions} untagged versions at the default pacing");
    let executed: Executed = client::execute(deletions)?;
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
    fn start(exe: &std::path::Path, per_package: usize) -> Result<Self, String> {
        let mut child = Command::new(exe)
            .args(["serve", &per_package.to_string()])
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

fn scenario(exe: &std::path::Path, per_package: usize) -> Result<Planned, String> {
    let started = Instant::now();
    let mut server = Server::start(exe, per_package)?;
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
        versions,
        indexes_kept,
        client,
        requests,
    })
}
