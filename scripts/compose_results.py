"""Assemble docs/RESULTS.md from the narrative template and the tables `sancodec reproduce` wrote.

Run after the reproduce commands: .venv/bin/python scripts/compose_results.py
"""

from __future__ import annotations

from pathlib import Path

RESULTS = Path("docs/results")


def main() -> None:
    text = (RESULTS / "RESULTS.template.md").read_text()
    for name in ("TABLE1", "TABLE2", "TABLE3"):
        table = RESULTS / f"{name.lower()}.md"
        body = table.read_text().strip() if table.exists() else f"*{table} has not been produced yet.*"
        text = text.replace(name, body)
    Path("docs/RESULTS.md").write_text(text)
    print("wrote docs/RESULTS.md")


if __name__ == "__main__":
    main()
