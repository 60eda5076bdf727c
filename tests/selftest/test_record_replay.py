"""Record, then replay twice with the network blocked; a changed request fails with a drift report."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kraken_contract.reference import ReferenceDeployment

CONTRACT_TESTS = Path(__file__).resolve().parents[1] / "contract"
SUBSET = "PNB-LIFE"  # a few clauses are enough to exercise the machinery end to end


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cassettes")


def run(pytester: pytest.Pytester, cassette_dir: Path, *mode: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess(
        str(CONTRACT_TESTS), f"--kraken-cassette-dir={cassette_dir}", f"--kraken-clause={SUBSET}", *mode
    )


def test_record_then_replay_twice(pytester: pytest.Pytester, recording: Path) -> None:
    recorded = run(pytester, recording, "--kraken-target=local", "--record-mode=rewrite")
    assert recorded.ret == pytest.ExitCode.OK, recorded.stdout.str()
    assert (recording / "recording.json").is_file()
    assert len(list(recording.glob("test_lifecycle/*.yaml"))) == 3
    for _ in range(2):
        replayed = run(pytester, recording, "--record-mode=none", "--block-network")
        assert replayed.ret == pytest.ExitCode.OK, replayed.stdout.str()
        replayed.stdout.fnmatch_lines(["target: replay against *", "*3 passed*"])


def test_changed_variables_fail_with_a_drift_report(pytester: pytest.Pytester, recording: Path) -> None:
    cassette = recording / "test_lifecycle" / "test_delete_after_register_succeeds.yaml"
    recorded_token = "3d" * 28
    cassette.write_text(cassette.read_text().replace(recorded_token, "3e" * 28, 1))
    replayed = run(pytester, recording, "--record-mode=none", "--block-network")
    assert replayed.ret == pytest.ExitCode.TESTS_FAILED
    replayed.stdout.fnmatch_lines(
        [
            "replay drift in *test_lifecycle.py::test_delete_after_register_succeeds: "
            "no recorded RegisterPushNotificationBinding request matches*",
            "  variables against the closest recorded request (- recorded, + now):",
            '    - input.token: "3e3e*',
            '    + input.token: "3d3d*',
            "  re-record with: tox -e record*",
        ]
    )


def test_replay_without_a_recording_is_one_usage_line(pytester: pytest.Pytester, tmp_path: Path) -> None:
    replayed = run(pytester, tmp_path, "--record-mode=none")
    assert replayed.ret == pytest.ExitCode.USAGE_ERROR
    replayed.stderr.fnmatch_lines(["ERROR: no recording in *: record one with `tox -e record`*"])


def test_recording_a_remote_target_masks_personal_data(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with ReferenceDeployment() as remote:  # reached through KRAKEN_* variables: not the local target
        for name, value in remote.environment().items():
            monkeypatch.setenv(name, value)
        recorded = pytester.runpytest_inprocess(
            str(CONTRACT_TESTS),
            f"--kraken-cassette-dir={tmp_path}",
            "--kraken-clause=PNB-USER",
            "--record-mode=rewrite",
        )
    assert recorded.ret == pytest.ExitCode.OK, recorded.stdout.str()
    recording = "\n".join(path.read_text() for path in tmp_path.rglob("*.yaml"))
    assert "Primary-givenName" in recording
    assert not re.search(r"\b(John|Doe|john\.doe@example\.com)\b", recording)
    for name in list(remote.environment()):
        monkeypatch.delenv(name)
    replayed = pytester.runpytest_inprocess(
        str(CONTRACT_TESTS), f"--kraken-cassette-dir={tmp_path}", "--kraken-clause=PNB-USER", "--block-network"
    )
    assert replayed.ret == pytest.ExitCode.OK, replayed.stdout.str()
