"""Typed settings: sections generate the schema, reads are typed, and bounds are checked on every write."""

from __future__ import annotations

import pytest

from copilot.config.settings import SCHEMA, SuggestSettings, settings_markdown
from copilot.errors import ValidationError
from copilot.services import Services


def test_every_setting_comes_from_a_typed_section_with_its_description() -> None:
    keys = [s.key for s in SCHEMA]
    assert keys[:3] == ["agent.name", "draft.tone", "suggest.count"] and len(keys) == len(set(keys))
    assert all(s.description and s.label for s in SCHEMA)
    assert all(f"`{s.key}`" in settings_markdown() for s in SCHEMA)


async def test_reads_are_typed_and_writes_are_bounded(services: Services) -> None:
    store, settings = services.store, services.settings
    assert settings.suggest == SuggestSettings(count=5, min_confidence=0.5)
    await store.run(settings.set, store.db, "suggest.count", "7")
    assert settings.suggest.count == 7 and isinstance(settings.suggest.count, int)
    for key, bad in [("suggest.count", "20"), ("suggest.min_confidence", "1.5"), ("draft.autosave_ms", "5")]:
        with pytest.raises(ValidationError, match="must be"):
            await store.run(settings.set, store.db, key, bad)
    assert settings.suggest.count == 7  # a refused value changes nothing
    with pytest.raises(ValidationError, match="one of"):
        await store.run(settings.set, store.db, "draft.tone", "sarcastic")


async def test_a_stored_value_out_of_bounds_falls_back_to_the_default(services: Services) -> None:
    from copilot.config.settings import Settings
    from copilot.store.settings import set_setting

    await services.store.run(set_setting, services.store.db, "suggest.count", "99")
    reloaded = await services.store.run(Settings.load, services.store.db)
    assert reloaded.suggest.count == 5
