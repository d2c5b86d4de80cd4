"""The validator's bounds on Alertmanager fields are Alertmanager's: at the edges of each
bound, what ``validate`` accepts amtool accepts, and what amtool would refuse ``validate``
refuses first, at the field's line (``chat_id`` is a Go int64)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import SAMOKODER

from generator import tools
from generator.alertmanager_config import FILE as ALERTMANAGER_FILE
from generator.output import write_tree
from generator.plan import shared_files
from generator.spec.errors import SpecInvalid
from generator.spec.loader import load_text

INT64 = 2**63
SEED_CHAT = "chat_id: -1001234567890"


def _spec(chat_id: int) -> str:
    text = SAMOKODER.read_text()
    assert text.count(SEED_CHAT) == 1
    return text.replace(SEED_CHAT, f"chat_id: {chat_id}")


@pytest.mark.every_engine
@pytest.mark.parametrize("engine", tools.CONFIG_ALERTMANAGERS, ids=lambda e: e.name)
@pytest.mark.parametrize("chat_id", [-INT64, INT64 - 1, -1001234567890, 1])
def test_accepted_chat_ids_load_in_alertmanager(engine, chat_id: int, tmp_path: Path) -> None:
    service = load_text(str(tmp_path / "spec.yaml"), _spec(chat_id))
    write_tree(tmp_path / "out", shared_files([service]))
    cfg = tmp_path / "out" / ALERTMANAGER_FILE
    proc = tools.run(engine.tool("amtool"), "check-config", cfg)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("chat_id", [INT64, -INT64 - 1, 10**20])
def test_chat_ids_beyond_int64_are_refused_at_their_line(chat_id: int) -> None:
    text = _spec(chat_id)
    line = text.splitlines().index(f"    chat_id: {chat_id}") + 1
    with pytest.raises(SpecInvalid) as info:
        load_text("spec.yaml", text)
    (error,) = info.value.errors
    assert (error.line, error.path) == (line, "routing.telegram.chat_id"), error
