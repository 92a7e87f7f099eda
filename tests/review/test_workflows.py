"""CI workflows: untrusted PR code runs without secrets or a write token; posting and pushing happen elsewhere."""

from __future__ import annotations

import yaml
from conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"


def load(name: str) -> dict:
    text = (WORKFLOWS / name).read_text()
    flow = yaml.safe_load(text)
    flow["on"] = flow.pop(True, flow.get("on"))  # YAML 1.1 reads the key `on` as True
    flow["text"] = text
    return flow


def steps(flow: dict) -> list[dict]:
    return [step for job in flow["jobs"].values() for step in job["steps"]]


def checkouts(flow: dict) -> list[dict]:
    return [s for s in steps(flow) if str(s.get("uses", "")).startswith("actions/checkout")]


def test_the_pr_job_runs_pr_code_with_no_secret_and_a_read_only_token_it_does_not_keep():
    flow = load("pr-review.yml")
    assert list(flow["on"]) == ["pull_request"]  # not pull_request_target: never the base repo's secrets
    assert flow["permissions"] == {"contents": "read"}
    assert all("permissions" not in job for job in flow["jobs"].values())
    assert "secrets." not in flow["text"] and "github.token" not in flow["text"]
    assert [c["with"]["persist-credentials"] for c in checkouts(flow)] == [False]
    runs = "\n".join(s.get("run", "") for s in steps(flow))
    assert "dvc repro" in runs and "gh pr comment" not in runs and "dvc push" not in runs
    assert "dvc pull -r results --run-cache" in runs  # the results remote, when configured: no retraining
    assert "python scripts/check_reproduced.py" in runs
    uploaded = [s for s in steps(flow) if str(s.get("uses", "")).startswith("actions/upload-artifact")]
    assert uploaded and uploaded[0]["with"]["name"] == "pr-report"


def test_the_comment_is_posted_by_a_job_that_runs_no_pr_code():
    flow = load("pr-comment.yml")
    assert list(flow["on"]) == ["workflow_run"] and flow["on"]["workflow_run"]["workflows"] == ["PR review"]
    assert flow["permissions"] == {}
    (job,) = flow["jobs"].values()
    assert job["permissions"] == {"actions": "read", "pull-requests": "write"}
    assert not checkouts(flow) and "secrets." not in flow["text"]
    runs = "\n".join(s.get("run", "") for s in steps(flow))
    assert "python" not in runs and "make" not in runs and "dvc" not in runs
    assert "*[!0-9]*" in runs  # the PR number from the artifact is checked to be digits


def test_results_are_pushed_only_from_main():
    flow = load("results-push.yml")
    assert flow["on"] == {"push": {"branches": ["main"]}}
    assert flow["permissions"] == {"contents": "read"}
    assert [c["with"]["persist-credentials"] for c in checkouts(flow)] == [False]
    assert "dvc push -r results --run-cache" in flow["text"] and "vars.DVC_RESULTS_REMOTE_URL" in flow["text"]
    pushing = [w.name for w in WORKFLOWS.glob("*.yml") if "dvc push" in w.read_text()]
    assert pushing == ["results-push.yml"]


def test_a_workflow_runs_make_test_without_write_access():
    flow = load("test.yml")
    assert "pull_request" in flow["on"] and flow["permissions"] == {"contents": "read"}
    assert [c["with"]["persist-credentials"] for c in checkouts(flow)] == [False]
    assert any(s.get("run") == "make test" for s in steps(flow))
