"""Every `backroom` command explains itself with --help."""

import click
import pytest
from click.testing import CliRunner

from backroom_cli import cli


def all_commands(group: click.Group, prefix=()):
    for name, command in group.commands.items():
        path = (*prefix, name)
        yield path
        if isinstance(command, click.Group):
            yield from all_commands(command, path)


@pytest.mark.parametrize("path", [(), *all_commands(cli)], ids=lambda p: " ".join(p) or "backroom")
def test_every_command_has_help(path):
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output and len(result.output.splitlines()) > 3


def test_hub_enroll_prints_the_code_alone_on_its_last_line(tmp_path):
    db = f"sqlite:///{tmp_path / 'hub.db'}"
    runner = CliRunner()
    assert runner.invoke(cli, ["hub", "seed", "--demo", "--db", db]).exit_code == 0
    result = runner.invoke(cli, ["hub", "enroll", "--db", db, "--location", "DEMO-1", "--role", "picker"])
    assert result.exit_code == 0
    last = result.stdout.strip().splitlines()[-1]
    assert len(last) == 9 and last[4] == "-" and " " not in last


def test_hub_enroll_for_unknown_location_is_a_clear_error(tmp_path):
    db = f"sqlite:///{tmp_path / 'hub.db'}"
    result = CliRunner().invoke(cli, ["hub", "enroll", "--db", db, "--location", "NOWHERE"])
    assert result.exit_code != 0 and "unknown location 'NOWHERE'" in result.output


def test_edge_sync_on_an_unenrolled_folder_says_what_to_do(tmp_path):
    result = CliRunner().invoke(cli, ["edge", "sync", "--data-dir", str(tmp_path / "d")])
    assert result.exit_code != 0 and "backroom edge enroll" in result.output
