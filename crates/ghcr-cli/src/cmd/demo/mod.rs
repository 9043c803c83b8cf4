//! `demo`: starts the embedded fake ghcr.io on loopback and walks the main
//! jobs end to end with real output: push a generated multi-platform image
//! (with progress), list tags, copy and retag, pull into an OCI layout and
//! verify it, list package versions, plan and run a cleanup, read the
//! vulnerability report attached to the image, gate on it, gate with a
//! key, where only a signed scan counts, and gate on a keyless-signed scan
//! under its GitHub owner.

mod image;
mod keyless;
mod signed;

use std::path::Path;
use std::time::Instant;

use anyhow::Context as _;
use ghcr::packages::{RetentionPolicy, VersionState, security_gate};
use ghcr::registry::{Progress, ProgressEvent, TransferOptions};
use ghcr::sim::attest::{Attachment, Envelope, VulnFormat};
use ghcr::sim::fake::FakeGhcr;
use ghcr::types::{Digest, Owner, Platform, Reference, Severity, Tag};
use ghcr::{GhcrClient, GhcrConfig};
use serde_json::{Map, Value, json};

use super::cleanup::{plan_text, report_json, report_text};
use super::vulns::{finding_line, source_line};
use crate::output::{Output, bytes, list, time};
use crate::progress::{self, short, skip_word};

const USER: &str = "demo";
const TOKEN: &str = "demo-token";
const ORG: &str = "demo-org";
const DAY: i64 = 24 * 3600;
/// How many steps the demo walks.
const STEPS: usize = 11;

/// A running demo: the fake, a client signed in to it, and the results.
struct Demo {
    out: Output,
    fake: FakeGhcr,
    client: GhcrClient,
    step: usize,
    summary: Map<String, Value>,
}

pub(crate) async fn run(out: Output) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut demo = Demo::start(out).await?;
    let app = demo.reference("app:v1")?;
    let digest = demo.push(&app).await?;
    demo.tags(&app).await?;
    demo.copy_and_retag(&app).await?;
    let workdir = tempfile::tempdir().context("no temporary folder for the layout")?;
    demo.pull(&app, &workdir.path().join("layout")).await?;
    demo.versions().await?;
    demo.cleanup(&app).await?;
    demo.vulnerabilities(&app, &digest).await?;
    demo.signed_gate().await?;
    demo.keyless_gate().await?;
    demo.say(format!(
        "\ndone in {:.1} s: every step above ran against a real HTTP server on 127.0.0.1.",
        started.elapsed().as_secs_f64()
    ));
    demo.say("Next: `cargo run -p ghcr-sim --bin ghcr-fake -- --user me:token` serves one to try `ghcr` on (with --plain-http).");
    demo.summary
        .insert("seconds".into(), json!(started.elapsed().as_secs_f64()));
    if out.is_json() {
        out.value(&Value::Object(std::mem::take(&mut demo.summary)));
    }
    demo.fake.shutdown().await;
    Ok(())
}

impl Demo {
    async fn start(out: Output) -> anyhow::Result<Self> {
        let fake = FakeGhcr::builder()
            .user(USER, TOKEN)
            .org(ORG, &[USER])
            .start()
            .await
            .context("the embedded fake ghcr.io did not start")?;
        let config = GhcrConfig::builder()
            .registry(fake.registry_host())
            .api_base(&fake.api_base())
            .allow_plain_http(fake.registry_host())
            .credentials(USER, TOKEN)
            .user_agent(concat!("ghcr-cli/", env!("CARGO_PKG_VERSION"), " (demo)"))
            .build()?;
        let client = GhcrClient::new(config)?;
        let mut demo = Self {
            out,
            fake,
            client,
            step: 0,
            summary: Map::new(),
        };
        demo.say("ghcr demo: the main jobs end to end, on a fake ghcr.io in this process");
        demo.heading("start a fake ghcr.io on loopback");
        demo.say(format!(
            "   registry and GitHub API at http://{} (user {USER}, organization {ORG}), blob storage at {}",
            demo.fake.registry_host(),
            demo.fake.storage_host()
        ));
        demo.summary
            .insert("registry".into(), json!(demo.fake.registry_host()));
        Ok(demo)
    }

    fn say(&self, text: impl std::fmt::Display) {
        if !self.out.is_json() {
            self.out.line(text);
        }
    }

    fn heading(&mut self, title: &str) {
        self.step += 1;
        self.say(format!("\n[{}/{STEPS}] {title}", self.step));
    }

    fn reference(&self, path: &str) -> anyhow::Result<Reference> {
        Ok(format!("{}/{ORG}/{path}", self.fake.registry_host()).parse()?)
    }

    /// Progress bars on a terminal, else a line per blob.
    fn progress(&self) -> Progress {
        if progress::wanted() {
            return progress::bars();
        }
        if self.out.is_json() {
            return Progress::none();
        }
        let out = self.out;
        Progress::new(move |event| match event {
            ProgressEvent::Finished { digest, size } => {
                out.line(format!("   {} {} done", short(&digest), bytes(size)));
            }
            ProgressEvent::Skipped {
                digest,
                size,
                reason,
            } => {
                out.line(format!(
                    "   {} {} {}",
                    short(&digest),
                    bytes(size),
                    skip_word(reason)
                ));
            }
            _ => {}
        })
    }

    async fn push(&mut self, app: &Reference) -> anyhow::Result<Digest> {
        self.heading(&format!("push a generated multi-platform image to {app}"));
        let images = image::PLATFORMS
            .iter()
            .zip(1u64..)
            .map(|(platform, seed)| {
                let platform: Platform = platform.parse()?;
                let parts = image::platform_image(&platform, seed * 10, "v1");
                Ok((platform, parts))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let options = TransferOptions::new().progress(self.progress());
        let report = self.client.push_multiarch(app, images, &options).await?;
        for (platform, pushed) in &report.platforms {
            self.say(format!("   {platform}: image {}", pushed.digest));
        }
        self.say(format!(
            "   pushed the index {} ({} platforms, {} sent); the tag moved last",
            report.digest,
            report.platforms.len(),
            bytes(report.bytes_uploaded())
        ));
        self.summary.insert(
            "pushed".into(),
            json!({"reference": app.to_string(), "digest": report.digest.as_str()}),
        );
        Ok(report.digest)
    }

    async fn tag_names(&self, repository: &Reference) -> anyhow::Result<Vec<String>> {
        let tags = self.client.registry().list_tags(repository).await?;
        let mut names: Vec<String> = tags.iter().map(ToString::to_string).collect();
        names.sort();
        Ok(names)
    }

    async fn tags(&mut self, app: &Reference) -> anyhow::Result<()> {
        self.heading("list tags");
        let names = self.tag_names(app).await?;
        self.say(format!(
            "   {}: {}",
            app.without_tag_or_digest(),
            list(&names)
        ));
        Ok(())
    }

    async fn copy_and_retag(&mut self, app: &Reference) -> anyhow::Result<()> {
        self.heading("copy to another repository, and retag");
        let mirror = self.reference("app-mirror:v1")?;
        let options = TransferOptions::new().progress(self.progress());
        let copied = self
            .client
            .registry()
            .copy_image(app, &mirror, &options)
            .await?;
        self.say(format!(
            "   copied {app} to {mirror}: same digest {} (blobs mounted, none sent again)",
            copied.digest
        ));
        for tag in ["latest", "stable"] {
            self.client.registry().tag(app, &Tag::parse(tag)?).await?;
        }
        let names = self.tag_names(app).await?;
        self.say(format!(
            "   tagged v1 as latest and stable: {}",
            list(&names)
        ));
        self.summary.insert("tags".into(), json!(names));
        Ok(())
    }

    async fn pull(&mut self, app: &Reference, dir: &Path) -> anyhow::Result<()> {
        self.heading("pull into an OCI image layout, and verify it");
        let options = TransferOptions::new().progress(self.progress());
        let report = self
            .client
            .registry()
            .pull_to_layout(app, dir, &options)
            .await?;
        let (checked, good) = verify_layout(dir)?;
        self.say(format!(
            "   pulled {} into {}: {} blobs ({}), each hashed on the way in",
            report.digest,
            dir.display(),
            report.blobs,
            bytes(report.bytes_downloaded)
        ));
        self.say(format!(
            "   re-hashed the {checked} files under blobs/sha256: {good} match their names (skopeo reads it as oci:DIR:v1)"
        ));
        if good != checked {
            anyhow::bail!(
                "{} blob file(s) in {} do not match their digest",
                checked - good,
                dir.display()
            );
        }
        self.summary.insert(
            "pulled".into(),
            json!({"blobs": report.blobs, "verified_files": good}),
        );
        Ok(())
    }

    async fn versions(&mut self) -> anyhow::Result<()> {
        self.heading("package versions (GitHub Packages API)");
        let versions = self
            .client
            .packages()
            .list_versions(&Owner::org(ORG), "app", VersionState::Active)
            .await?;
        for version in &versions {
            let digest = version
                .digest()
                .map_or_else(|_| version.name.clone(), |d| short(&d));
            self.say(format!(
                "   {}  {digest}  tags: {}  created {}",
                version.id,
                list(version.tags()),
                time(version.created_at)
            ));
        }
        self.say("   an index and its two platform images: three versions, one digest each");
        self.summary
            .insert("versions".into(), json!(versions.len()));
        Ok(())
    }

    async fn cleanup(&mut self, app: &Reference) -> anyhow::Result<()> {
        self.heading("plan and run a cleanup: untagged versions older than a week");
        let repository = app.without_tag_or_digest();
        let store = self.fake.store();
        let platform: Platform = "linux/amd64".parse()?;
        for (n, age_days) in [(1u64, 12i64), (2, 9), (3, 2)] {
            let parts = image::platform_image(&platform, 100 + n, &format!("nightly-{n}"));
            let pushed = self
                .client
                .registry()
                .push_image(&repository, parts, &TransferOptions::new())
                .await?;
            let id = store
                .version_id(repository.repository(), &pushed.digest)
                .context("the fake lost a version")?;
            let created = time::OffsetDateTime::now_utc() - time::Duration::seconds(age_days * DAY);
            store.set_version_created_at(repository.repository(), id, created)?;
        }
        self.say("   pushed three untagged nightly builds (12, 9 and 2 days old)");
        let policy = RetentionPolicy::builder()
            .only_untagged()
            .keep_newer_than(std::time::Duration::from_secs(7 * 24 * 3600))
            .build()?;
        let packages = self.client.packages();
        let plan = packages
            .plan_cleanup(&Owner::org(ORG), "app", &policy)
            .await?;
        for line in plan_text(&plan).lines() {
            self.say(format!("   {line}"));
        }
        let report = packages.execute_cleanup(&plan).await;
        for line in report_text(&report).lines() {
            self.say(format!("   {line}"));
        }
        self.summary.insert("cleanup".into(), report_json(&report));
        Ok(())
    }

    async fn vulnerabilities(&mut self, app: &Reference, digest: &Digest) -> anyhow::Result<()> {
        self.heading("read the vulnerability scan attached to the image");
        let scan = Attachment::Vulnerabilities(VulnFormat::CosignTrivy, Envelope::Dsse);
        let attached = self.fake.store().attach(app.repository(), digest, &scan)?;
        self.say(format!(
            "   a CI job attached a cosign vuln attestation {} (listed in the {} tag: ghcr.io has no referrers API)",
            short(&attached.manifest),
            digest.referrers_tag()
        ));
        let reports = self
            .client
            .packages()
            .vulnerability_reports(&Owner::org(ORG), "app", digest)
            .await?;
        let report = reports.into_iter().next().context("no report came back")?;
        self.say(format!("   {}", source_line(&report)));
        for finding in &report.vulnerabilities {
            self.say(format!("   {}", finding_line(finding)));
        }
        self.heading("gate on the scan");
        let mut gates = Map::new();
        for max in [Severity::Critical, Severity::High] {
            let decision = security_gate(&report, max);
            let blocking = match &decision {
                ghcr::packages::GateResult::Blocked { findings } => findings.len(),
                _ => 0,
            };
            let verdict = if decision.is_passed() {
                "passed"
            } else {
                "blocked"
            };
            self.say(format!(
                "   ghcr gate {} --fail-on {}: {verdict} ({blocking} finding(s) at {} or worse; exit code {})",
                app,
                max.as_str(),
                max.as_str(),
                if decision.is_passed() { 0 } else { 7 }
            ));
            gates.insert(max.as_str().to_owned(), json!(verdict));
        }
        self.summary
            .insert("findings".into(), json!(report.vulnerabilities.len()));
        self.summary.insert("gate".into(), Value::Object(gates));
        Ok(())
    }
}

/// Hashes every file under `blobs/sha256`: how many there are, and how
/// many match their names.
fn verify_layout(dir: &Path) -> anyhow::Result<(usize, usize)> {
    let blobs = dir.join("blobs").join("sha256");
    let mut checked = 0;
    let mut good = 0;
    for entry in
        std::fs::read_dir(&blobs).with_context(|| format!("reading {}", blobs.display()))?
    {
        let path = entry?.path();
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        checked += 1;
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if Digest::sha256_of(&bytes).encoded() == name {
            good += 1;
        }
    }
    Ok((checked, good))
}
