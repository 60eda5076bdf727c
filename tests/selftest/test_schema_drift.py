"""Schema drift tooling: the documented slice, `schema pull` and `schema diff` (levels, paths, "affects",
approvals, one-line errors)."""

from __future__ import annotations

import json
import os
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from graphql import build_schema, find_schema_changes, introspection_from_schema

from kraken_contract import drift
from kraken_contract.drift import (
    Approval,
    DriftError,
    canonical_sdl,
    change_coordinates,
    compare,
    load_approvals,
    operation_usage,
    schema_main,
    slice_schema,
)
from kraken_contract.reference import ReferenceConfig, ReferenceDeployment
from kraken_contract.resources import pinned_schema_path, schemas_dir

PINNED = pinned_schema_path().read_text(encoding="utf-8")
REMOVED_FIELD = "  expiresAt: DateTime!\n"  # PushNotificationBindingType's; the input's expiresAt is nullable
EXTENSIONS = {
    "required_input": "extend input RegisterPushNotificationBindingInput { deviceName: String! }",
    "enum_value": "extend enum NotifiableApplicationService { IOS_FCM }",
    # A new type only enters the slice when something in it refers to it.
    "new_type": "type DeviceType { name: String }\nextend type PushNotificationBindingType { device: DeviceType }",
    "unselected_enum_value": "extend enum NotifiableApplicationExternalProvider { APNS_DIRECT }",
    "unreachable": "type Unrelated { name: String }\nextend type Query { unrelated: Unrelated }",
}


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No KRAKEN_* variables from the machine running the tests."""
    for name in list(os.environ):
        if name.startswith("KRAKEN_"):
            monkeypatch.delenv(name)
    return monkeypatch


@pytest.fixture
def no_approvals(tmp_path: Path) -> Path:
    path = tmp_path / "approved.toml"
    path.write_text("# none\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def deployment() -> Iterator[ReferenceDeployment]:
    with ReferenceDeployment(ReferenceConfig()) as started:
        yield started


def write(directory: Path, name: str, text: str) -> str:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def variant(directory: Path, kind: str) -> str:
    """A copy of the pinned schema with one change: removed_field or a key of EXTENSIONS."""
    if kind == "removed_field":
        assert PINNED.count(REMOVED_FIELD) == 1
        return write(directory, f"{kind}.graphql", PINNED.replace(REMOVED_FIELD, ""))
    return write(directory, f"{kind}.graphql", f"{PINNED}\n{EXTENSIONS[kind]}\n")


def diff_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = schema_main(["diff", *args, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    return lines[0]


def set_environment(monkeypatch: pytest.MonkeyPatch, values: dict[str, str]) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)


# ---------------------------------------------------------------------------------------------- slice
def test_pinned_schema_is_its_own_canonical_slice() -> None:
    assert canonical_sdl(slice_schema(build_schema(PINNED))) == PINNED


def test_slice_drops_other_root_fields_and_the_types_only_they_reach() -> None:
    schema = build_schema(f"{PINNED}\n{EXTENSIONS['unreachable']}\n")
    sliced = slice_schema(schema)
    assert "Unrelated" not in sliced.type_map
    assert sliced.query_type is not None and set(sliced.query_type.fields) == {"viewer"}
    assert canonical_sdl(sliced) == PINNED


def test_slice_keeps_only_the_root_fields_present() -> None:
    sliced = slice_schema(build_schema("type Query { viewer: String other: Int }"))
    assert sliced.mutation_type is None
    assert canonical_sdl(sliced) == "type Query {\n  viewer: String\n}\n"


# ---------------------------------------------------------------------------------------------- the four cases
@pytest.mark.parametrize(
    ("kind", "level", "change_type", "path", "affects", "exit_code"),
    [
        ("removed_field", "BREAKING", "FIELD_REMOVED", "PushNotificationBindingType.expiresAt", True, 1),
        (
            "required_input",
            "BREAKING",
            "REQUIRED_INPUT_FIELD_ADDED",
            "RegisterPushNotificationBindingInput.deviceName",
            True,
            1,
        ),
        # RegisterPushNotificationBinding selects application.service: its responses can now carry IOS_FCM,
        # which a client written against the old enum does not know, so the flag says it is affected.
        ("enum_value", "DANGEROUS", "VALUE_ADDED_TO_ENUM", "NotifiableApplicationService.IOS_FCM", True, 0),
        ("new_type", "SAFE", "TYPE_ADDED", "DeviceType", False, 0),
    ],
)
def test_diff_reports_level_path_affects_and_exit_code(
    tmp_path: Path,
    no_approvals: Path,
    capsys: pytest.CaptureFixture[str],
    kind: str,
    level: str,
    change_type: str,
    path: str,
    affects: bool,
    exit_code: int,
) -> None:
    code, report = diff_json(
        capsys, str(pinned_schema_path()), variant(tmp_path, kind), "--approved", str(no_approvals)
    )
    assert code == exit_code
    found = [change for change in report["changes"] if change["type"] == change_type]
    assert len(found) == 1, report["changes"]
    assert found[0]["level"] == level
    assert found[0]["path"] == path
    assert found[0]["affects_documented_operation"] is affects


def test_new_type_comes_with_a_safe_field_that_no_operation_selects(
    tmp_path: Path, no_approvals: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _code, report = diff_json(
        capsys, str(pinned_schema_path()), variant(tmp_path, "new_type"), "--approved", str(no_approvals)
    )
    assert [(c["level"], c["type"], c["path"], c["affects_documented_operation"]) for c in report["changes"]] == [
        ("SAFE", "TYPE_ADDED", "DeviceType", False),
        ("SAFE", "FIELD_ADDED", "PushNotificationBindingType.device", False),
    ]


def test_value_added_to_an_enum_no_operation_selects_does_not_affect(tmp_path: Path) -> None:
    new = build_schema(Path(variant(tmp_path, "unselected_enum_value")).read_text(encoding="utf-8"))
    [change] = compare(build_schema(PINNED), new, approved=[])
    assert (change.level, change.path) == ("DANGEROUS", "NotifiableApplicationExternalProvider.APNS_DIRECT")
    assert change.affects_documented_operation is False


@pytest.mark.parametrize(
    ("old_text", "new_text", "change_type", "path", "affects"),
    [
        (
            "registerPushNotificationBinding(input: RegisterPushNotificationBindingInput!)",
            "registerPushNotificationBinding(input: RegisterPushNotificationBindingInput!, dryRun: Boolean!)",
            "REQUIRED_ARG_ADDED",
            "Mutation.registerPushNotificationBinding(dryRun:)",
            True,
        ),
        (
            '"""Bundle ID or package name of the app."""',
            '"""The bundle ID."""',
            "DESCRIPTION_CHANGED",
            "NotifiableApplicationType.bundleId",
            True,
        ),
        (
            "  pushNotificationBindings: [PushNotificationBindingType!]!\n",
            "",
            "FIELD_REMOVED",
            "NotifiableApplicationType.pushNotificationBindings",
            False,
        ),
        ("  id: ID!\n  registeredAt", "  registeredAt", "FIELD_REMOVED", "PushNotificationBindingType.id", False),
    ],
)
def test_affects_follows_what_the_operations_use(
    old_text: str, new_text: str, change_type: str, path: str, affects: bool
) -> None:
    assert PINNED.count(old_text) == 1
    [change] = compare(build_schema(PINNED), build_schema(PINNED.replace(old_text, new_text)), approved=[])
    assert (change.type, change.path, change.affects_documented_operation) == (change_type, path, affects)


def test_changes_outside_the_slice_are_not_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = schema_main(["diff", str(pinned_schema_path()), variant(tmp_path, "unreachable")])
    assert code == 0
    assert capsys.readouterr().out == "no changes\n"


def test_text_output_is_grouped_by_level_with_markers_and_totals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = PINNED.replace(REMOVED_FIELD, "") + "\n".join(EXTENSIONS[k] for k in ("enum_value", "new_type"))
    approvals = write(tmp_path, "approved.toml", "")
    code = schema_main(
        ["diff", str(pinned_schema_path()), write(tmp_path, "new.graphql", text), "--approved", approvals]
    )
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert code == 1
    assert [line.split()[0] for line in lines[:-1]] == ["BREAKING", "DANGEROUS", "SAFE", "SAFE"]
    assert "PushNotificationBindingType.expiresAt" in lines[0] and lines[0].endswith(drift.AFFECTS_MARKER)
    assert not lines[3].endswith(drift.AFFECTS_MARKER)
    assert lines[-1].startswith("4 changes: 1 breaking, 1 dangerous, 2 safe; 1 breaking not approved")
    assert "not approved" in captured.err


def test_json_output_has_the_documented_fields(
    tmp_path: Path, no_approvals: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _code, report = diff_json(
        capsys, str(pinned_schema_path()), variant(tmp_path, "removed_field"), "--approved", str(no_approvals)
    )
    assert report["schema_version"] == 1
    assert report["unapproved_breaking"] == 1
    assert report["totals"]["breaking"] == 1 and report["totals"]["total"] == 1
    assert set(report["changes"][0]) == {
        "level",
        "type",
        "path",
        "description",
        "affects_documented_operation",
        "approved",
    }
    assert report["changes"][0]["description"] == "Field PushNotificationBindingType.expiresAt was removed."
    assert report["changes"][0]["approved"] is None


def test_introspection_json_sources_equal_the_sdl(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    introspection = introspection_from_schema(build_schema(PINNED))
    wrapped = write(tmp_path, "wrapped.json", json.dumps({"data": introspection}))
    bare = write(tmp_path, "bare.json", json.dumps(introspection))
    assert schema_main(["diff", str(pinned_schema_path()), wrapped]) == 0
    assert schema_main(["diff", bare, wrapped]) == 0
    assert capsys.readouterr().out == "no changes\nno changes\n"


# ---------------------------------------------------------------------------------------------- approvals
def test_approval_turns_exit_1_into_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    approvals = write(
        tmp_path,
        "approved.toml",
        '[[change]]\npath = "PushNotificationBindingType.expiresAt"\ntype = "FIELD_REMOVED"\n'
        'reason = "moved to the application"\ndate = "2026-12-04"\n',
    )
    code = schema_main(["diff", str(pinned_schema_path()), variant(tmp_path, "removed_field"), "--approved", approvals])
    out = capsys.readouterr().out
    assert code == 0
    assert "[approved: moved to the application (2026-12-04)]" in out
    assert "0 breaking not approved" in out


def test_approval_of_another_change_type_does_not_match(tmp_path: Path) -> None:
    approval = Approval("PushNotificationBindingType.expiresAt", "FIELD_CHANGED_KIND", "retyped", "2026-12-04")
    new = build_schema(PINNED.replace(REMOVED_FIELD, ""))
    [change] = compare(build_schema(PINNED), new, approved=[approval])
    assert change.approved is None


def test_bundled_approvals_file_is_valid() -> None:
    assert all(isinstance(a, Approval) for a in load_approvals(schemas_dir() / "approved-changes.toml"))


def test_unquoted_toml_date_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "approved.toml"
    path.write_text('[[change]]\npath = "A.b"\ntype = "FIELD_REMOVED"\nreason = "r"\ndate = 2026-12-04\n')
    assert load_approvals(path) == [Approval("A.b", "FIELD_REMOVED", "r", "2026-12-04")]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('path = "A.b"\ntype = "FIELD_REMOVED"\ndate = "2026-12-04"', "#1 (path 'A.b') is missing reason"),
        ('path = "A.b"\ntype = "FIELD_REMOVED"\nreason = "r"\ndate = "04/12/2026"', "date must be a date"),
        ('path = "A.b"\ntype = "FIELD_REMOVED"\nreason = "r"\ndate = "2026-13-04"', "date must be a date"),
        ('path = "A.b"\ntype = "FIELD_GONE"\nreason = "r"\ndate = "2026-12-04"', "not a graphql-core change type"),
        ('path = "A.b"\ntype = "FIELD_REMOVED"\nreason = "r"\ndate = "2026-12-04"\nby = "me"', "unknown key 'by'"),
    ],
)
def test_malformed_approvals_file_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], entry: str, message: str
) -> None:
    approvals = write(tmp_path, "approved.toml", f"[[change]]\n{entry}\n")
    code = schema_main(["diff", str(pinned_schema_path()), str(pinned_schema_path()), "--approved", approvals])
    assert code == 2
    line = one_error_line(capsys)
    assert message in line and "approved.toml" in line


def test_approvals_that_are_not_toml_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    approvals = write(tmp_path, "approved.toml", "[[change]\npath =\n")
    assert schema_main(["diff", str(pinned_schema_path()), str(pinned_schema_path()), "--approved", approvals]) == 2
    assert "not valid TOML" in one_error_line(capsys)


# ---------------------------------------------------------------------------------------------- paths and usage
def test_operations_use_selected_fields_inputs_and_selected_enums() -> None:
    usage = operation_usage(build_schema(PINNED))
    used = {
        "Mutation.registerPushNotificationBinding(input:)",
        "RegisterPushNotificationBindingInput.externalProvider",
        "PushNotificationBindingType.registeredAt",
        "NotifiableApplicationService.APNS_SANDBOX",
        "DeletePushNotificationBindingOutput.SUCCESSFUL",
        "Query.viewer",
        "AccountUserType.givenName",
    }
    assert used <= usage.coordinates
    assert not {"NotifiableApplicationType.externalProjectId", "PushNotificationBindingType.id"} & usage.coordinates
    assert "NotifiableApplicationExternalProvider" not in usage.coordinates


def test_every_change_kind_gets_a_schema_coordinate() -> None:
    old = build_schema(
        """
        directive @tag(name: String, level: Int = 1) repeatable on FIELD_DEFINITION | OBJECT
        interface Node { id: ID }
        union Result = A | B
        enum Color { RED GREEN }
        input Filter { a: Int = 1, b: String }
        type A implements Node { id: ID, f(x: Int = 1, y: String): String, g: Int }
        type B { h: String }
        type Gone { x: Int }
        scalar Kind
        type Query { a: A, r: Result, c: Color, filter(input: Filter): Gone, k: Kind }
        """
    )
    new = build_schema(
        """
        directive @tag(name: String!, level: Int = 2, extra: Int!) on FIELD_DEFINITION
        interface Node { id: ID }
        interface Named { name: String }
        union Result = A
        enum Color { RED BLUE }
        input Filter { a: Int = 2, c: String!, d: Int }
        type A implements Named { id: ID, name: String, f(x: Int = 2, z: Int!): Int, h: Int }
        type B { h: String }
        "described"
        type Query { a: A, r: Result, c: Color, filter(input: Filter): B, k: Kind, n: Node }
        input Kind { v: Int }
        """
    )
    paths = {}
    for change in find_schema_changes(old, new):
        path, _other = change_coordinates(change.description)
        assert path, change
        paths[change.type.name, path] = change.description
    expected = {
        ("TYPE_REMOVED", "Gone"),
        ("TYPE_CHANGED_KIND", "Kind"),
        ("TYPE_ADDED", "Named"),
        ("TYPE_REMOVED_FROM_UNION", "Result"),
        ("VALUE_REMOVED_FROM_ENUM", "Color.GREEN"),
        ("VALUE_ADDED_TO_ENUM", "Color.BLUE"),
        ("REQUIRED_INPUT_FIELD_ADDED", "Filter.c"),
        ("OPTIONAL_INPUT_FIELD_ADDED", "Filter.d"),
        ("INPUT_FIELD_DEFAULT_VALUE_CHANGE", "Filter.a"),
        ("IMPLEMENTED_INTERFACE_REMOVED", "A"),
        ("IMPLEMENTED_INTERFACE_ADDED", "A"),
        ("FIELD_REMOVED", "A.g"),
        ("FIELD_REMOVED", "Filter.b"),
        ("FIELD_ADDED", "A.h"),
        ("FIELD_CHANGED_KIND", "A.f"),
        ("FIELD_CHANGED_KIND", "Query.filter"),
        ("ARG_REMOVED", "A.f(y:)"),
        ("REQUIRED_ARG_ADDED", "A.f(z:)"),
        ("ARG_DEFAULT_VALUE_CHANGE", "A.f(x:)"),
        ("DESCRIPTION_CHANGED", "Query"),
        ("REQUIRED_DIRECTIVE_ARG_ADDED", "@tag(extra:)"),
        ("ARG_CHANGED_KIND", "@tag(name:)"),
        ("ARG_DEFAULT_VALUE_CHANGE", "@tag(level:)"),
        ("DIRECTIVE_REPEATABLE_REMOVED", "@tag"),
        ("DIRECTIVE_LOCATION_REMOVED", "@tag"),
    }
    assert expected <= set(paths), sorted(set(paths))


@pytest.mark.parametrize(
    ("description", "path"),
    [
        ('Description of field A.f has changed to "x".', "A.f"),
        ('Description of argument A.f(x) has changed to "x".', "A.f(x:)"),
        ('Description of enum value Color.RED has changed to "x".', "Color.RED"),
        ('Description of input-field Filter.a has changed to "x".', "Filter.a"),
        ("An optional argument A.f(w:) was added.", "A.f(w:)"),
        ("A.f(x:) added a defaultValue 1.", "A.f(x:)"),
        ("Filter.a added a defaultValue 1.", "Filter.a"),
        ("Standard scalar Float was removed because it is not referenced anymore.", "Float"),
        ("C was added to union type Result.", "Result"),
        ("Directive @gone was removed.", "@gone"),
        ("Field A.f changed type from String to String!.", "A.f"),
    ],
)
def test_description_formats_give_their_coordinate(description: str, path: str) -> None:
    assert change_coordinates(description)[0] == path


# ---------------------------------------------------------------------------------------------- errors
def test_missing_file_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = str(tmp_path / "nowhere.graphql")
    assert schema_main(["diff", str(pinned_schema_path()), missing]) == 2
    line = one_error_line(capsys)
    assert missing in line and "no such file" in line


def test_invalid_sdl_is_one_line_with_its_location(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    broken = write(tmp_path, "broken.graphql", "type Query {\n  viewer: \n")
    assert schema_main(["diff", broken, str(pinned_schema_path())]) == 2
    assert f"{broken}:3:1: not valid GraphQL SDL" in one_error_line(capsys)


def test_schema_without_documented_fields_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    other = write(tmp_path, "other.graphql", "type Query { hello: String }")
    assert schema_main(["diff", other, str(pinned_schema_path())]) == 2
    assert "none of the documented root fields" in one_error_line(capsys)


def test_url_without_host_is_one_line_and_exit_2(
    environ: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    environ.setenv("KRAKEN_JWT", "not-a-real-token")
    assert schema_main(["pull", "--url", "https://"]) == 2
    assert "https://: not a usable URL, it has no host" in one_error_line(capsys)


def test_unreachable_url_is_one_line_and_exit_2(
    environ: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environ.setenv("KRAKEN_JWT", "not-a-real-token")
    environ.setattr(drift, "_sleep", lambda _seconds: None)
    url = f"http://127.0.0.1:{port}/v1/graphql/"
    assert schema_main(["diff", str(pinned_schema_path()), url]) == 2
    assert f"cannot reach {url}" in one_error_line(capsys)


def test_url_without_credentials_names_the_variables(
    environ: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert schema_main(["pull", "--url", "http://127.0.0.1:9/v1/graphql/"]) == 2
    assert "KRAKEN_JWT" in one_error_line(capsys)


def test_bad_command_line_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert schema_main(["diff", "only-one"]) == 2
    assert "the following arguments are required: NEW" in one_error_line(capsys)


def test_usage_on_help_and_without_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert schema_main(["--help"]) == 0
    assert "pull" in capsys.readouterr().out
    assert schema_main([]) == 2
    assert "diff" in capsys.readouterr().out


def test_library_raises_drift_error_for_a_bad_operations_folder(tmp_path: Path) -> None:
    with pytest.raises(DriftError, match="no such operations folder"):
        compare(build_schema(PINNED), build_schema(PINNED), approved=[], operations_dir=tmp_path / "none")


# ---------------------------------------------------------------------------------------------- pull
def test_pull_from_the_reference_deployment_equals_the_pinned_schema(
    deployment: ReferenceDeployment, environ: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    set_environment(environ, deployment.environment())
    assert schema_main(["pull", "--url", deployment.url]) == 0
    assert capsys.readouterr().out == PINNED


def test_diff_from_pinned_to_the_reference_deployment_has_no_changes(
    deployment: ReferenceDeployment, environ: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    set_environment(environ, deployment.environment())
    code, report = diff_json(capsys, str(pinned_schema_path()), deployment.url)
    assert code == 0
    assert report["changes"] == [] and report["totals"]["total"] == 0


def test_pull_writes_the_out_file(deployment: ReferenceDeployment, environ: pytest.MonkeyPatch, tmp_path: Path) -> None:
    set_environment(environ, deployment.environment())
    out = tmp_path / "pulled.graphql"
    assert schema_main(["pull", "--url", deployment.url, "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == PINNED


def test_pull_with_introspection_disabled_is_one_line_and_exit_2(
    environ: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with ReferenceDeployment(ReferenceConfig(frozenset({"no-introspection"}))) as closed:
        set_environment(environ, closed.environment())
        assert schema_main(["pull", "--url", closed.url]) == 2
    line = one_error_line(capsys)
    assert line.startswith(f"kraken-contract schema pull: cannot introspect {closed.url}")
    assert "introspection is disabled" in line


def test_pull_with_rejected_credentials_is_one_line_and_exit_2(
    deployment: ReferenceDeployment, environ: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    environ.setenv("KRAKEN_API_KEY", "sk_live_not_a_key_of_this_deployment")
    assert schema_main(["pull", "--url", deployment.url]) == 2
    line = one_error_line(capsys)
    assert f"cannot introspect {deployment.url}: could not obtain a Kraken token with KRAKEN_API_KEY" in line
    assert "sk_live_not_a_key_of_this_deployment" not in line


def test_a_brand_renaming_an_object_type_breaks_no_documented_operation(tmp_path: Path) -> None:
    # Spain's schema: the user type is EspAccountUserType and the input has no externalProvider. Breaking
    # for GraphQL Inspector (fragments on the old name, clients sending externalProvider), but the
    # documented operations with their documented variables work unchanged.
    spanish = re.sub(r"\bAccountUserType\b", "EspAccountUserType", PINNED)
    spanish = re.sub(r'  """\n  The provider[^"]*"""\n  externalProvider: String\n', "", spanish)
    changes = compare(build_schema(PINNED), build_schema(spanish), approved=[])
    breaking = {(change.type, change.path) for change in changes if change.level == "BREAKING"}
    assert ("TYPE_REMOVED", "AccountUserType") in breaking
    assert ("FIELD_REMOVED", "RegisterPushNotificationBindingInput.externalProvider") in breaking
    assert not [change for change in changes if change.affects_documented_operation]


def test_a_leaf_field_retyped_reaches_the_documented_operation() -> None:
    retyped = PINNED.replace("  registeredAt: DateTime!\n", "  registeredAt: String!\n", 1)
    changes = compare(build_schema(PINNED), build_schema(retyped), approved=[])
    assert [(c.type, c.path, c.affects_documented_operation) for c in changes] == [
        ("FIELD_CHANGED_KIND", "PushNotificationBindingType.registeredAt", True)
    ]
