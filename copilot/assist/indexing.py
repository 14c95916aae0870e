"""Meaning search's index: which encoder is in use (built-in or a provider's), and embedding the articles that
are new or changed since the last run."""

from __future__ import annotations

from collections.abc import Callable

from copilot.assist.providers import list_providers, provider_key
from copilot.assist.ticket_assist import local_encoder
from copilot.errors import ValidationError
from copilot.kb.vectors import encode_articles, stale_articles, store_vectors
from copilot.llm import catalog
from copilot.llm.calls import embedding_accountant
from copilot.services import Services
from copilot.store.usage import StoreCallLog

Progress = Callable[[int, int], None]  # (articles done, articles to do)


async def configure_encoder(services: Services) -> None:
    """Use the embedding model named in `embeddings.model` (a provider's, through litellm) for meaning search and
    triage, or the built-in encoder when the setting is empty. Cheap when nothing changed."""
    from copilot.llm.embeddings import ProviderEncoder

    ref = services.settings.embeddings.model.strip()
    current = services.caches.current_encoder()
    if not ref:
        if isinstance(current, ProviderEncoder):
            services.caches.use_encoder(None)  # back to the built-in encoder, loaded on next use
        return
    if isinstance(current, ProviderEncoder) and current.model.ref == ref:
        return
    rows = await list_providers(services)
    providers = {p.id: catalog.stored_provider(p.id, p.kind, p.api_base) for p in rows}
    resolved = catalog.resolve(ref, providers)
    if resolved is None:
        raise ValidationError(
            f"The embedding model '{ref}' does not name a provider you added.",
            "Write provider/model with a provider from Models → Providers, or clear the setting for the built-in one.",
        )
    key = provider_key(resolved.provider.id, resolved.provider.kind)
    log = embedding_accountant(StoreCallLog(services.store))
    services.caches.use_encoder(ProviderEncoder(resolved, key, on_attempt=log))


async def refresh_vectors(
    services: Services, workspace: str | None, batch: int = 64, on_progress: Progress | None = None
) -> int:
    """Embed the workspace's new and changed articles: read and write on the store thread, encode on the
    compute thread, a batch at a time, so searches and saves are never held up for long. Each batch is stored
    as it is done, so a restart resumes where this run stopped. `on_progress(done, total)` after each batch
    ("Indexing 1,200 of 2,869 articles…")."""
    await configure_encoder(services)
    encoder = await services.run_compute(local_encoder, services.caches)
    if encoder is None:
        return 0
    stale = await services.store.run(stale_articles, services.store.db, encoder.name, workspace)
    for start in range(0, len(stale), batch):
        chunk = stale[start : start + batch]
        vectors = await services.run_compute(encode_articles, encoder, chunk)
        await services.store.run(store_vectors, services.store.db, encoder.name, chunk, vectors)
        if on_progress is not None:
            on_progress(start + len(chunk), len(stale))
    return len(stale)
