"""The command line's parser rules: no prefix matching, and a suggestion for a misspelled option (issue 17.32)."""

import pytest

from numpynn.app import main


@pytest.mark.parametrize("argv,suggestion", [
    (["train", "--epoch", "3"], "did you mean --epochs?"),       # a prefix: was silently --epochs
    (["train", "--lr-schedul", "cosine"], "did you mean --lr-schedule?"),
    (["train", "--hiden", "64"], "did you mean --hidden?"),
    (["info", "--jsn", "model"], "did you mean --json?"),
])
def test_misspelled_options_are_refused_with_the_closest_option(argv, suggestion, capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--out", str(tmp_path)] if argv[0] == "train" else argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"unrecognized arguments: {argv[1]}" in err and suggestion in err


def test_every_command_parser_refuses_abbreviations():
    from numpynn.app.commands.parser import build_parser
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    assert not parser.allow_abbrev and commands and all(not p.allow_abbrev for p in commands.values())


def test_an_unknown_option_far_from_any_points_to_help(capsys, tmp_path):
    with pytest.raises(SystemExit):
        main(["train", "--zzzzzz", "--out", str(tmp_path)])
    assert "see `numpynn train --help`" in capsys.readouterr().err
