"""Staffing demand: agents per queue, day and hour from the contact forecast (Erlang C, A)."""
