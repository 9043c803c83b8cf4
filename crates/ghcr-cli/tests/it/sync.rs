//! `ghcr sync` between two docker-registries (one with token auth): the
//! chosen tags arrive with their digests, a re-run copies nothing, and a
//! dry run copies nothing while saying what it would.

use crate::support::registry::{self, Auth};
use crate::support::{Env, write_layout};

#[tokio::test(flavor = "multi_thread")]
async fn sync_copies_the_chosen_tags_once() {
    let source = registry::start(Auth::None).await;
    let target = registry::start(Auth::Token).await;
    let (user, password) = target.credentials().unwrap();
    let env = Env::empty()
        .set("GHCR_REGISTRY", target.host())
        .set("GHCR_USERNAME", user)
        .set("GHCR_TOKEN", password);
    let dir = tempfile::tempdir().unwrap();
    let from = format!("{}/team/app", source.host());
    let to = format!("{}/mirror/app", target.host());
    let mut digests = Vec::new();
    for tag in ["v1", "v2", "dev"] {
        let layout = dir.path().join(tag);
        digests.push(write_layout(
            &layout,
            tag,
            format!("layer of {tag}").as_bytes(),
        ));
        let place = format!("{}:{tag}", layout.display());
        env.run(&["--plain-http", "push", &place, &from]).await.ok();
    }

    let sync = |extra: &[&str]| {
        let mut args = vec!["--plain-http", "--json", "sync", &from, &to, "--tags", "^v"];
        args.extend(extra);
        args.iter()
            .map(|s| (*s).to_owned())
            .collect::<Vec<String>>()
    };
    let run = |args: Vec<String>| {
        let env = &env;
        async move {
            env.run(&args.iter().map(String::as_str).collect::<Vec<_>>())
                .await
        }
    };
    let planned = run(sync(&["--dry-run"])).await;
    let json = planned.ok().json();
    assert_eq!(json["executed"], false);
    let tags: Vec<&str> = json["plan"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tag"].as_str().unwrap())
        .collect();
    assert_eq!(tags, ["v1", "v2"], "{json:#}");
    // The dry run says what each tag would send, at most.
    for tag in json["plan"]["tags"].as_array().unwrap() {
        assert!(tag["bytes"].as_u64().unwrap() > 0, "{json:#}");
    }
    assert_eq!(json["plan"]["mounts"], false);
    run(vec!["--plain-http".into(), "ls".into(), to.clone()])
        .await
        .code(3);

    let ran = run(sync(&[])).await;
    let json = ran.ok().json();
    assert_eq!(
        json["report"]["copied"].as_array().unwrap().len(),
        2,
        "{json:#}"
    );
    for (tag, digest) in [("v1", &digests[0]), ("v2", &digests[1])] {
        let pinned = run(vec![
            "--plain-http".into(),
            "digest".into(),
            format!("{to}:{tag}"),
        ])
        .await;
        assert_eq!(pinned.ok().stdout.trim(), digest.as_str(), "{tag}");
    }
    assert_eq!(
        run(vec!["--plain-http".into(), "ls".into(), to.clone()])
            .await
            .ok()
            .stdout,
        "v1\nv2\n"
    );

    let again = run(sync(&[])).await;
    let json = again.ok().json();
    assert_eq!(
        json["report"]["copied"].as_array().unwrap().len(),
        0,
        "{json:#}"
    );
    assert_eq!(json["report"]["skipped"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_config_file_syncs_many_pairs_and_serve_runs_them_on_its_schedule() {
    let source = registry::start(Auth::None).await;
    let target = registry::start(Auth::None).await;
    let env = Env::empty();
    let dir = tempfile::tempdir().unwrap();
    let (from, host) = (source.host(), target.host());
    for (repository, tag) in [("team/api", "v1"), ("team/web", "v1"), ("team/web", "v2")] {
        let layout = dir
            .path()
            .join(format!("{}-{tag}", repository.replace('/', "-")));
        write_layout(&layout, tag, format!("{repository} {tag}").as_bytes());
        let place = format!("{}:{tag}", layout.display());
        env.run(&[
            "--plain-http",
            "push",
            &place,
            &format!("{from}/{repository}"),
        ])
        .await
        .ok();
    }
    let config = dir.path().join("sync.toml");
    std::fs::write(
        &config,
        format!(
            "[[sync]]\nsource = \"{from}/team/api\"\ntarget = \"{host}/mirror/api\"\n\n\
             [[sync]]\nsource = \"{from}/team/web\"\ntarget = \"{host}/mirror/web\"\ntags = '^v2$'\n"
        ),
    )
    .unwrap();
    let config_text = config.to_str().unwrap();
    let ran = env
        .run(&["--plain-http", "--json", "sync", "--config", config_text])
        .await;
    let json = ran.ok().json();
    let copied: Vec<usize> = json["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["report"]["copied"].as_array().unwrap().len())
        .collect();
    assert_eq!(copied, [1, 1], "{json:#}");
    let listed = env
        .run(&["--plain-http", "ls", &format!("{host}/mirror/web")])
        .await;
    assert_eq!(listed.ok().stdout, "v2\n");

    // A mistyped key is refused with its line before anything runs.
    let broken = dir.path().join("broken.toml");
    std::fs::write(
        &broken,
        "[[sync]]\nsource = \"a/b\"\ntarget = \"a/c\"\ntag = \"x\"\n",
    )
    .unwrap();
    env.run(&["sync", "--config", broken.to_str().unwrap()])
        .await
        .code(2)
        .stderr_has("line 4");

    // serve --once runs [[sync]] entries of its policy file too.
    let policies = dir.path().join("policies.toml");
    std::fs::write(
        &policies,
        format!(
            "interval = \"1h\"\n\n[[sync]]\nsource = \"{from}/team/web\"\ntarget = \"{host}/mirror/web\"\n"
        ),
    )
    .unwrap();
    let policies_text = policies.to_str().unwrap();
    env.run(&[
        "--plain-http",
        "serve",
        "--policies",
        policies_text,
        "--check",
    ])
    .await
    .ok()
    .stdout_has("sync ");
    env.run(&[
        "--plain-http",
        "serve",
        "--policies",
        policies_text,
        "--once",
    ])
    .await
    .ok();
    let listed = env
        .run(&["--plain-http", "ls", &format!("{host}/mirror/web")])
        .await;
    assert_eq!(listed.ok().stdout, "v1\nv2\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pair_that_cannot_be_reached_is_named_and_the_others_go_on() {
    let source = registry::start(Auth::None).await;
    let target = registry::start(Auth::None).await;
    let (from, host) = (source.host(), target.host());
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("api");
    write_layout(&layout, "v1", b"api v1");
    let place = format!("{}:v1", layout.display());
    let env = Env::empty().set("GHCR_MAX_RETRIES", "0");
    env.run(&["--plain-http", "push", &place, &format!("{from}/team/api")])
        .await
        .ok();
    let unreachable = dir.path().join("unreachable.toml");
    std::fs::write(
        &unreachable,
        format!(
            "[[sync]]\nsource = \"127.0.0.1:1/team/gone\"\ntarget = \"{host}/mirror/gone\"\n\n\
             [[sync]]\nsource = \"{from}/team/api\"\ntarget = \"{host}/mirror/api\"\n"
        ),
    )
    .unwrap();
    let mut args = vec!["--plain-http", "--json", "sync", "--config"];
    args.push(unreachable.to_str().unwrap());
    let ran = env.run(&args).await;
    let json = ran.code(1).json();
    let pairs = json["pairs"].as_array().unwrap();
    assert!(
        pairs[0]["error"].as_str().unwrap().contains("127.0.0.1:1"),
        "{json:#}"
    );
    assert_eq!(
        pairs[1]["report"]["copied"].as_array().unwrap().len(),
        1,
        "{json:#}"
    );
}
