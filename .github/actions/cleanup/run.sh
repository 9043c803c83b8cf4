#!/usr/bin/env bash
# The retention cleanup of the composite action in action.yml (repository
# root): installs `ghcr` unless one is on PATH, runs
#   ghcr cleanup OWNER --package GLOB... [POLICY] (--dry-run | --yes) --json
# writes the JSON report to a file, the outputs `deleted` and `report` to
# $GITHUB_OUTPUT, and a markdown table of the plan and its result to
# $GITHUB_STEP_SUMMARY. It exits with ghcr's exit code (see `ghcr --help`).
#
# Composite actions get no INPUT_* variables of their own: action.yml passes
# each input as INPUT_<NAME> (upper case, `-` as `_`), the names read below.
# ghcr-cli's tests (tests/it/action.rs) run this script as the runner does.
set -euo pipefail

fail() {
    echo "::error title=ghcr cleanup::$*" >&2
    exit 2
}

# `true` or `false`, whatever the case; anything else is a usage error.
boolean() {
    local name=$1 value
    value=$(printf '%s' "$2" | tr '[:upper:]' '[:lower:]')
    case "$value" in
        true | false) printf '%s' "$value" ;;
        *) fail "input $name must be true or false, not '$2'" ;;
    esac
}

# One item a line, trimmed, empty lines dropped (and with `,` also split on
# commas: package globs never hold one, tag patterns may).
items() {
    local text=$1 separators=$2
    if [ "$separators" = "commas" ]; then
        text=$(printf '%s' "$text" | tr ',' '\n')
    fi
    printf '%s\n' "$text" | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' | sed '/^$/d'
}

# A `ghcr` on PATH is used as it is; else the release asset for this
# machine (Linux x86_64 or arm64, by `uname -s` and `uname -m`, checked
# against its .sha256), else `cargo install --locked ghcr-cli`. Any other
# machine is refused with a usage error (exit 2): there is no asset for it,
# and building there is the caller's choice, not a silent fallback.
find_ghcr() {
    if command -v ghcr >/dev/null 2>&1; then
        command -v ghcr
        return
    fi
    local version=${INPUT_VERSION:-latest} dir target="" url
    dir="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/ghcr-${version}"
    if [ -x "$dir/bin/ghcr" ]; then
        printf '%s\n' "$dir/bin/ghcr"
        return
    fi
    mkdir -p "$dir/bin"
    if [ "$(uname -s)" = "Linux" ]; then
        case "$(uname -m)" in
            x86_64 | amd64) target=x86_64-unknown-linux-gnu ;;
            aarch64 | arm64) target=aarch64-unknown-linux-gnu ;;
        esac
    fi
    if [ -n "$target" ]; then
        local repo=${GHCR_RELEASE_REPOSITORY:-ghcr-rs/ghcr}
        local server=${GITHUB_SERVER_URL:-https://github.com}
        if [ "$version" = "latest" ]; then
            url="$server/$repo/releases/latest/download/ghcr-$target.tar.gz"
        else
            url="$server/$repo/releases/download/v${version#v}/ghcr-$target.tar.gz"
        fi
        echo "installing ghcr $version from $url" >&2
        if curl -fsSL --retry 3 -o "$dir/ghcr.tar.gz" "$url" \
            && curl -fsSL --retry 3 -o "$dir/ghcr.tar.gz.sha256" "$url.sha256" \
            && (cd "$dir" && printf '%s  ghcr.tar.gz\n' "$(cut -d' ' -f1 ghcr.tar.gz.sha256)" | sha256sum -c -) >&2 \
            && tar -xzf "$dir/ghcr.tar.gz" -C "$dir/bin" ghcr; then
            printf '%s\n' "$dir/bin/ghcr"
            return
        fi
        echo "no release asset for $target at $version: building from crates.io" >&2
    else
        fail "no ghcr release is built for $(uname -s) $(uname -m): this action runs on Linux x86_64 or arm64 (aarch64) runners; elsewhere put a ghcr on PATH before this step (cargo install --locked ghcr-cli)"
    fi
    local args=(install --locked --root "$dir" ghcr-cli)
    if [ "$version" != "latest" ]; then
        args+=(--version "${version#v}")
    fi
    cargo "${args[@]}" >&2
    printf '%s\n' "$dir/bin/ghcr"
}

# The report as a markdown table: every planned version, what was decided
# and what happened to it. Also prints the deleted count on stdout.
summarize() {
    python3 - "$1" "$2" <<'PY'
import json, sys

report_path, summary_path = sys.argv[1], sys.argv[2]
with open(report_path) as f:
    text = f.read()
try:
    report = json.loads(text)
except ValueError:
    report = {"error": {"message": text.strip() or "ghcr printed no JSON"}}
out = ["## ghcr cleanup", ""]
if "error" in report:
    error = report["error"]
    out.append(f"**failed** ({error.get('kind', 'error')}): {error.get('message', '')}")
    deleted = 0
else:
    executed = report.get("executed", False)
    deleted = int(report.get("deleted", 0))
    results = {}
    for package_report in report.get("reports", []):
        for vid in package_report.get("deleted", []):
            results[vid] = "deleted"
        for vid in package_report.get("kept", []):
            results.setdefault(vid, "kept")
        for failed in package_report.get("failed", []):
            results[failed["id"]] = "failed: " + str(failed.get("reason", ""))
        for skipped in package_report.get("skipped", []):
            results[skipped["id"]] = "not attempted: " + str(skipped.get("reason", ""))
    cell = lambda v: str(v).replace("|", "\\|").replace("\n", " ")
    planned = sum(
        1 for plan in report.get("plans", []) for v in plan.get("versions", []) if v.get("action") == "delete"
    )
    mode = "executed" if executed else "dry run: nothing was deleted"
    out.append(f"{len(report.get('plans', []))} package(s), {planned} version(s) planned for deletion, {deleted} deleted ({mode}).")
    out.append("")
    out.append("| package | version | digest | tags | created | plan | reason | result |")
    out.append("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for plan in report.get("plans", []):
        for v in plan.get("versions", []):
            if v.get("action") == "delete":
                result = results.get(v["id"], "not run" if not executed else "not attempted")
            else:
                result = "kept"
            digest = str(v.get("digest", ""))
            short = digest.split(":", 1)[-1][:12]
            tags = ", ".join(v.get("tags", [])) or "(untagged)"
            row = [plan.get("package", ""), v["id"], f"`{short}`", tags, v.get("created_at", ""), v.get("action", ""), v.get("reason", ""), result]
            out.append("| " + " | ".join(cell(c) for c in row) + " |")
    for error in report.get("errors", []):
        out.append("")
        out.append(f"- package {cell(error.get('package', ''))} could not be planned: {cell(error.get('error', ''))}")
    if report.get("journal"):
        out.append("")
        out.append(f"Journal: `{report['journal']}` (undo within 30 days: `ghcr versions restore --journal {report['journal']}`)")
with open(summary_path, "a") as f:
    f.write("\n".join(out) + "\n\n")
print(deleted)
PY
}

main() {
    local owner=${INPUT_OWNER:-}
    [ -n "$owner" ] || fail "input owner is required (a user or an organization)"
    local kind
    case "${INPUT_OWNER_TYPE:-org}" in
        org) kind=--org ;;
        user) kind=--user ;;
        *) fail "input owner-type must be org or user, not '${INPUT_OWNER_TYPE}'" ;;
    esac
    local args=(cleanup "$owner" "$kind") item
    local packages=0
    while IFS= read -r item; do
        args+=(--package "$item")
        packages=$((packages + 1))
    done < <(items "${INPUT_PACKAGES:-}" commas)
    [ "$packages" -gt 0 ] || fail "input packages is required: globs such as '*', 'app-*', '!legacy-*'"
    if [ -n "${INPUT_KEEP_NEWEST:-}" ]; then
        case "$INPUT_KEEP_NEWEST" in
            *[!0-9]*) fail "input keep-newest must be a whole number, not '$INPUT_KEEP_NEWEST'" ;;
        esac
        args+=(--keep-newest "$INPUT_KEEP_NEWEST")
    fi
    while IFS= read -r item; do
        args+=(--keep-tag "$item")
    done < <(items "${INPUT_KEEP_TAG:-}" lines)
    if [ -n "${INPUT_KEEP_NEWER_THAN:-}" ]; then
        args+=(--keep-newer-than "$INPUT_KEEP_NEWER_THAN")
    fi
    # Assigned first: `set -e` ends the script when the check fails.
    local only_untagged dry_run
    only_untagged=$(boolean only-untagged "${INPUT_ONLY_UNTAGGED:-false}")
    dry_run=$(boolean dry-run "${INPUT_DRY_RUN:-true}")
    if [ "$only_untagged" = true ]; then
        args+=(--only-untagged)
    fi
    while IFS= read -r item; do
        args+=(--only-tags-matching "$item")
    done < <(items "${INPUT_ONLY_TAGS_MATCHING:-}" lines)
    if [ "$dry_run" = true ]; then
        args+=(--dry-run)
    else
        args+=(--yes)
    fi
    args+=(--json)

    if [ -n "${INPUT_TOKEN:-}" ]; then
        export GHCR_TOKEN=$INPUT_TOKEN
        export GHCR_USERNAME=${GHCR_USERNAME:-${GITHUB_ACTOR:-github-actions}}
    fi
    local ghcr
    ghcr=$(find_ghcr)
    local dir="${RUNNER_TEMP:-}"
    if [ -z "$dir" ]; then
        dir=$(mktemp -d)
    fi
    local report
    report="$dir/ghcr-cleanup-$(date -u +%Y%m%dT%H%M%SZ)-$$.json"
    echo "ghcr ${args[*]}" >&2
    local code=0
    "$ghcr" "${args[@]}" >"$report" || code=$?
    local summary=${GITHUB_STEP_SUMMARY:-/dev/null}
    local deleted
    deleted=$(summarize "$report" "$summary")
    if [ -n "${GITHUB_OUTPUT:-}" ]; then
        {
            printf 'deleted=%s\n' "$deleted"
            printf 'report=%s\n' "$report"
        } >>"$GITHUB_OUTPUT"
    fi
    echo "ghcr cleanup: $deleted version(s) deleted; report: $report" >&2
    return "$code"
}

main "$@"
