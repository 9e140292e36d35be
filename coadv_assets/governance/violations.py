"""The one shape every governance rule reports: a violation naming table, column, rule, rows."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Violation:
    """One broken rule on one relation (and column, when the rule is about a column)."""

    relation: str
    column: str | None
    rule: str
    rows: int | None
    detail: str

    def message(self) -> str:
        """One sentence: where, which rule, how many rows, and what to do."""
        where = self.relation + (f".{self.column}" if self.column else "")
        count = "" if self.rows is None else f" ({self.rows} rows)"
        return f"{where}: {self.rule}{count}: {self.detail}"
