//! Requests by method per row, from the registry's access log
//! (`DockerRegistry::start_with_access_log`): the log's length before the
//! row, and after it the lines past that point counted. The registry
//! writes a line after it answers, so a row's last line can trail the
//! row's exit; a marker request after the row, waited for in the log,
//! makes sure every line of the row is there (it is not counted).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use ghcr_sim::peers::DockerRegistry;

const MARK: &str = "/v2/ghcr-bench-mark";
const WAIT: Duration = Duration::from_secs(5);

/// Requests per method since `offset`, the marker left out.
pub(crate) fn since(
    registry: &DockerRegistry,
    offset: usize,
) -> Result<BTreeMap<String, usize>, String> {
    let mut stream = TcpStream::connect(registry.host()).map_err(|e| e.to_string())?;
    write!(
        stream,
        "HEAD {MARK} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        registry.host()
    )
    .map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).map_err(|e| e.to_string())?;
    let started = Instant::now();
    while !registry
        .log()
        .get(offset..)
        .is_some_and(|log| log.contains(MARK))
    {
        if started.elapsed() > WAIT {
            return Err("the access log never showed the marker request".to_owned());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let mut counts = registry.requests_since(offset);
    if let Some(head) = counts.get_mut("HEAD") {
        *head -= 1;
    }
    Ok(counts)
}

/// `HEAD 17, PUT 34, POST 17, PATCH 0, GET 0`, then any other method.
pub(crate) fn short(counts: &BTreeMap<String, usize>) -> String {
    const ORDER: [&str; 5] = ["HEAD", "PUT", "POST", "PATCH", "GET"];
    let count = |method: &str| counts.get(method).copied().unwrap_or(0);
    let mut parts: Vec<String> = ORDER.iter().map(|m| format!("{m} {}", count(m))).collect();
    parts.extend(
        counts
            .iter()
            .filter(|(m, n)| !ORDER.contains(&m.as_str()) && **n > 0)
            .map(|(m, n)| format!("{m} {n}")),
    );
    parts.join(", ")
}
