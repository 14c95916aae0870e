"""The headless commands, run in-process through `main()` and once as a real subprocess."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from copilot.cli import main
from tests.conftest import REPO

# Measured 0.933 with the linear classifier (2026-11-23); 0.929 once an "unsure" answer counts as wrong, 0.927
# with the open-set rule (2026-11-28: two more right answers of the 1,001 are "unsure").
BANKING77_DENSE_FLOOR = 0.92
BANKING77, DSTC11_BANKING = pytest.mark.xdist_group("banking77"), pytest.mark.xdist_group("dstc11-banking")


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_assist_json_has_every_output_with_provenance() -> None:
    code, out, err = run("assist", "3", "--workspace", "demo", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["ticket"]["number"] == 3 and data["sentiment"] == "negative"
    assert {f["kind"] for f in data["flags"]} >= {"legal_threat", "churn_risk"}
    assert data["suggestions"][0]["article_id"] == "billing-double-charge"
    assert set(data["outputs"]) == {"summary", "signals", "triage", "suggestions", "draft", "tags"}
    assert all(o["engine"] == "built-in" and o["id"] for o in data["outputs"].values())


def test_unknown_ticket_and_workspace_are_clear_errors() -> None:
    code, _, err = run("assist", "999", "--json")
    assert code == 2 and "no ticket #999" in err and "Traceback" not in err
    code, _, err = run("assist", "1", "--workspace", "nope")
    assert code == 2 and "no workspace called 'nope'" in err


def test_kb_import_and_search(tmp_path: Path) -> None:
    kb = tmp_path / "kb.jsonl"
    kb.write_text(
        json.dumps({"id": "gift", "title": "Gift wrapping", "body": "We wrap gifts in recycled paper."}) + "\n"
    )
    code, out, _ = run("kb", "import", str(kb), "--workspace", "shop")
    assert code == 0 and "Imported 1 new" in out
    code, out, _ = run("kb", "search", "wrap my gift", "--workspace", "shop", "--json")
    assert code == 0 and json.loads(out)[0]["article_id"] == "gift"
    code, out, _ = run("kb", "search", "hub offline")
    assert code == 0 and "hub-offline" in out


def test_kb_import_of_a_broken_file_names_the_line_and_imports_nothing(tmp_path: Path) -> None:
    kb = tmp_path / "kb.jsonl"
    kb.write_text('{"id": "a", "title": "A", "body": "fine"}\n["not", "an", "object"]\n')
    code, _, err = run("kb", "import", str(kb), "--workspace", "shop")
    assert code == 2 and "kb.jsonl, line 2" in err
    code, out, _ = run("kb", "search", "fine", "--workspace", "shop")
    assert "No article matches" in out


def test_settings_are_documented_in_the_readme() -> None:
    code, out, _ = run("settings")
    readme = (REPO / "README.md").read_text()
    assert code == 0 and out.strip() in readme, "README's settings table is stale: paste `support-copilot settings`"


def test_settings_set_get_and_bad_values() -> None:
    assert run("settings", "set", "agent.name", "Robin Ade")[0] == 0
    assert run("settings", "get", "agent.name")[1].strip() == "'Robin Ade'"
    code, out, _ = run("assist", "2", "--json")
    assert json.loads(out)["draft"]["text"].rstrip().endswith("Robin Ade")
    code, _, err = run("settings", "set", "draft.tone", "sarcastic")
    assert code == 2 and "must be one of friendly, concise, formal" in err
    code, _, err = run("settings", "set", "suggest.count", "many")
    assert code == 2 and "must be a whole number" in err
    code, _, err = run("settings", "get", "no.such")
    assert code == 2 and "no setting called no.such" in err


def test_real_subprocess_with_python_m() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "copilot", "assist", "33", "--json"],  # conflict minerals: no article covers it
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["draft"]["grounded"] is False


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kb", "queries", "flags", "floors"),
    [
        # One ranking for every set (resources/ranking.json, rank-3). Measured 2026-11-28 (hybrid, all queries):
        # DSTC11 FAQ 0.943 / 0.989 / 0.989 / 0.960, ECE 0.029 (0.037 with rank-2, 0.089 with rank-1); keyword only
        # 0.449 / 0.705 / 0.864 / 0.556.
        ("dstc11-faq", "dstc11-faq-dev", ["--keyword-only"],
         {"recall_at_1": 0.43, "recall_at_5": 0.68, "recall_at_10": 0.84, "mrr": 0.53}),
        ("dstc11-faq", "dstc11-faq-dev", [],
         {"recall_at_1": 0.93, "recall_at_5": 0.98, "recall_at_10": 0.98, "mrr": 0.95, "calibration_error": -0.04}),
        # OR-ShARC 0.888 / 0.983 / 0.991, ECE 0.037 (rank-2 0.054; plain bm25 0.815 / 0.948; the old ranking 0.181 /
        # 0.277).
        ("orsharc", "orsharc-dev", [], {"recall_at_1": 0.87, "recall_at_5": 0.97, "calibration_error": -0.045}),
        # E-Manual 0.674 / 0.921 / 0.979, ECE 0.049 (rank-2 0.051; plain bm25 0.591 / 0.856; the old ranking 0.424 /
        # 0.738).
        ("emanual", "emanual-dev", [], {"recall_at_1": 0.65, "recall_at_5": 0.9, "calibration_error": -0.055}),
    ],
    ids=["dstc11-keyword", "dstc11", "orsharc", "emanual"],
)  # fmt: skip
def test_eval_retrieval_floor(
    eval_dir: Path, kb: str, queries: str, flags: list[str], floors: dict[str, float]
) -> None:
    """Floors just under what the built-in tier reaches, so a regression fails CI (a negative floor is a ceiling)."""
    code, out, _ = run(
        "eval", "retrieval", "--kb", str(eval_dir / f"kb-{kb}.jsonl"),
        "--queries", str(eval_dir / f"retrieval-{queries}.jsonl"), "--json", *flags,
    )  # fmt: skip
    report = json.loads(out)
    print("retrieval", kb, flags, report)
    assert code == 0 and report["queries"] > 100
    assert 0.0 < report["calibration_floor"] < 0.1  # what an honest confidence shows by chance on this many queries
    if not flags and report["dense_model"].startswith("none"):
        pytest.skip("the local embedding model is not installed")
    for metric, floor in floors.items():
        if floor < 0:
            assert report[metric] <= -floor, (metric, report[metric])
        else:
            assert report[metric] >= floor, (metric, report[metric])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("examples", "test", "keyword_only", "metric", "floor"),
    [
        # By words: the best intent, however unsure (its confidence is not calibrated: "unsure" is frequent).
        ("triage-banking77-examples.jsonl", "triage-banking77-dev.jsonl", True, "top_accuracy", 0.76),
        ("triage-dstc11-insurance-dev.jsonl", "triage-dstc11-insurance-dev.jsonl", True, "top_accuracy", 0.90),
        ("triage-dstc11-banking-dev.jsonl", "triage-dstc11-banking-dev.jsonl", True, "top_accuracy", 0.79),
        ("triage-dstc11-finance-dev.jsonl", "triage-dstc11-finance-dev.jsonl", True, "top_accuracy", 0.89),
        # With the local encoder: the linear classifier (measured macro-F1 0.972 / 0.995 / 0.967). Same file as
        # examples and test: 5-fold, each item scored by a model that never saw it.
        # Tests that encode the same set share an xdist group: one worker encodes it, the next test reads it from
        # the vector cache instead of encoding it again at the same time on the other worker.
        pytest.param(
            "triage-banking77-examples.jsonl",
            "triage-banking77-dev.jsonl",
            False,
            "accuracy",
            BANKING77_DENSE_FLOOR,
            marks=BANKING77,
        ),
        ("triage-dstc11-insurance-dev.jsonl", "triage-dstc11-insurance-dev.jsonl", False, "macro_f1", 0.96),
        pytest.param(
            "triage-dstc11-banking-dev.jsonl",
            "triage-dstc11-banking-dev.jsonl",
            False,
            "macro_f1",
            0.98,
            marks=DSTC11_BANKING,
        ),
        ("triage-dstc11-finance-dev.jsonl", "triage-dstc11-finance-dev.jsonl", False, "macro_f1", 0.955),
    ],
)
def test_eval_triage_floor(
    eval_dir: Path, examples: str, test: str, keyword_only: bool, metric: str, floor: float
) -> None:
    flags = ["--keyword-only"] if keyword_only else []
    code, out, _ = run(
        "eval", "triage", "--examples", str(eval_dir / examples), "--test", str(eval_dir / test), "--json", *flags
    )  # fmt: skip
    report = json.loads(out)
    print(test, flags, report)
    assert code == 0
    if not keyword_only and "TF-IDF" in report["model"]:
        pytest.skip("the local embedding model is not installed")
    assert report[metric] >= floor, (metric, report[metric])
    if not keyword_only:
        assert report["calibration_error"] < 0.05, report  # "confidence 0.9" is right about 9 times in 10


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "floors"),
    [
        # HINT3 (real chatbot users, small training sets, many out-of-scope `__none__` rows) and BANKING77 with 10
        # examples per intent. Measured 2026-11-28 with the open-set rule (README): accuracy 0.737 / 0.758 / 0.692,
        # out-of-scope recall 0.714 / 0.767 / 0.743 (before it: 0.641 / 0.557 / 0.610 and 0.386 / 0.321 / 0.603);
        # BANKING77 10-shot 0.841. Floors just under.
        # Since the classifier is mixed with the neighbours' vote (session 6): in-scope accuracy up on every set,
        # out-of-scope recall down 1-3 points (README, triage).
        ("hint3-sofmattress", {"accuracy": 0.72, "out_of_scope_recall": 0.67, "in_scope_accuracy": 0.75}),
        ("hint3-curekart", {"accuracy": 0.77, "out_of_scope_recall": 0.76, "in_scope_accuracy": 0.77}),
        ("hint3-powerplay11", {"accuracy": 0.67, "out_of_scope_recall": 0.70, "in_scope_accuracy": 0.60}),
        pytest.param("banking77-10shot", {"accuracy": 0.83}, marks=BANKING77),
    ],
)
def test_eval_triage_few_examples_and_out_of_scope_floor(eval_dir: Path, name: str, floors: dict[str, float]) -> None:
    if name.startswith("hint3"):
        examples, test = f"triage-{name}-examples.jsonl", f"triage-{name}-dev.jsonl"
    else:
        examples, test = "triage-banking77-examples-10shot.jsonl", "triage-banking77-dev.jsonl"
    code, out, _ = run(
        "eval", "triage", "--examples", str(eval_dir / examples), "--test", str(eval_dir / test), "--json"
    )
    report = json.loads(out)
    print(name, report)
    assert code == 0
    if "TF-IDF" in report["model"]:
        pytest.skip("the local embedding model is not installed")
    for metric, floor in floors.items():
        assert report[metric] >= floor, (metric, report[metric])


@pytest.mark.slow
@DSTC11_BANKING
def test_eval_compares_two_configurations_side_by_side(eval_dir: Path) -> None:
    data = str(eval_dir / "triage-dstc11-banking-dev.jsonl")
    code, out, _ = run("eval", "triage", "--examples", data, "--test", data, "--compare", "words")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["auto", "words", "difference"]
    accuracy = next(line.split() for line in lines if line.startswith("accuracy"))
    assert float(accuracy[1]) > float(accuracy[2]) and accuracy[3].startswith("-")  # words do worse
    code, out, _ = run("eval", "triage", "--examples", data, "--test", data, "--compare", "words", "--json")
    both = json.loads(out)
    assert set(both) == {"auto", "words"} and both["words"]["model"] == "nearest examples, TF-IDF"


def test_eval_on_a_malformed_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "q.jsonl"
    bad.write_text('{"id": 1, "text": "x"}\n')
    code, _, err = run("eval", "triage", "--examples", str(bad), "--test", str(bad))
    assert code == 2 and "line 1: needs the fields id, text, label" in err


def test_eval_help_names_every_cases_action() -> None:
    """`eval --help` is where a new user looks first: its one-line summary of `cases` must not fall behind."""
    import argparse

    from copilot.cli import _parser

    def choices(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
        return next(a.choices for a in parser._actions if isinstance(a, argparse._SubParsersAction))

    eval_group = choices(_parser())["eval"]
    summaries = {a.dest: a.help for a in next(
        a for a in eval_group._actions if isinstance(a, argparse._SubParsersAction))._choices_actions}  # fmt: skip
    actions = choices(choices(eval_group)["cases"])
    assert all(name in str(summaries["cases"]) for name in actions), summaries["cases"]


def test_assist_says_where_the_signature_comes_from_and_how_to_set_it(tmp_path: Path) -> None:
    import getpass

    line = {
        "id": 1,
        "subject": "Invoice",
        "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
        "messages": [{"from": "customer", "body": "Where do I download my invoice?"}],
    }
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    assert run("tickets", "import", str(path), "--workspace", "trial")[0] == 0
    code, out, err = run("assist", "1", "--workspace", "trial")
    assert code == 0, err
    user = getpass.getuser()
    assert f"Best,\n{user}\n" in out
    assert f"Signed as '{user}' (this computer's user name)" in out
    assert 'support-copilot settings set agent.name "Your Name"' in out
    assert "Signed as" not in run("assist", "2", "--workspace", "demo")[1]  # the demo's agent is Sam Rivera
    assert run("settings", "set", "agent.name", "Ada Agent")[0] == 0
    out = run("assist", "1", "--workspace", "trial")[1]
    assert "Best,\nAda Agent\n" in out and "Signed as" not in out
