"""The command-line entry point: negative option values, exit codes, one JSON document."""
from __future__ import annotations

import json
from pathlib import Path

from ogimpact.cli import _glue_negative_values, main

MPDTA = Path(__file__).parent / "reference" / "mpdta" / "data.csv"


def test_negative_values_are_glued_to_their_option():
    argv = ["estimate", "event-study", "--window", "-5:5", "--ref", "-2", "--l-vec", "-0.5,0.5", "--json"]
    assert _glue_negative_values(argv) == ["estimate", "event-study", "--window=-5:5", "--ref=-2",
                                           "--l-vec=-0.5,0.5", "--json"]
    # an option followed by another option is left alone
    assert _glue_negative_values(["--json", "--cluster", "id"]) == ["--json", "--cluster", "id"]


def test_event_study_window_with_negative_start_runs(capsys):
    code = main(["estimate", "event-study", "--data", str(MPDTA), "--outcome", "lemp", "--unit", "countyreal",
                 "--time", "year", "--cohort", "first.treat", "--window", "-2:2", "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    doc = json.loads(out.out)  # exactly one JSON document on stdout
    assert [r["event_time"] for r in doc["event_study"]] == [-2, 0, 1, 2]


def test_no_command_is_usage_error(capsys):
    assert main([]) == 2
