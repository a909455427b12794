"""Labels as ZPL II for Zebra (and ZPL-compatible) printers.

One ``^XA ... ^XZ`` format per label, sizes in dots (``^PW``/``^LL``), UTF-8
text (``^CI28``). All field data goes through ``^FH`` hex escapes, so a ``^`` or
``~`` in an address cannot end the field or start a command.

GS1-128 is written in Code128 mode N with explicit invocation codes: ``>;``
start in subset C, ``>:`` start in subset B, ``>5``/``>6`` switch to C/B and
``>8`` for FNC1 (first position, and after each variable-length element that is
not last). Digit runs of four or more go in subset C to keep the symbol narrow.
We print our own human-readable line instead of the printer's.
"""

from __future__ import annotations

from typing import Union

from devices.errors import LabelError, ScanError
from devices.gs1 import parse_element_strings
from devices.labels import Barcode, Box, Label, QRCode, TextLine

__all__ = ["code128_field_data", "to_zpl"]

class _Marker:
    """A non-character symbol in the sequence to encode."""


FNC1 = _Marker()  # marker in the symbol sequence
Symbol = Union[str, _Marker]


def to_zpl(label: Label, *, copies: int = 1) -> str:
    """The ZPL II for ``label``. Raises ``LabelError`` for data that cannot be encoded."""
    if copies < 1:
        raise LabelError(f"copies must be at least 1, got {copies}")
    body = [_field(f) for f in label.fields]
    head = f"^XA^CI28^PW{label.width}^LL{label.height}^LH0,0"
    return "\n".join([head, *body, f"^PQ{copies}", "^XZ"]) + "\n"


def _field(field: object) -> str:
    if isinstance(field, TextLine):
        return f"^FO{field.x},{field.y}^A0N,{field.height},{field.height}^FH^FD{_fh(field.text)}^FS"
    if isinstance(field, Box):
        thickness = min(field.thickness, field.width, field.height)
        return f"^FO{field.x},{field.y}^GB{field.width},{field.height},{thickness}^FS"
    if isinstance(field, QRCode):
        return f"^FO{field.x},{field.y}^BQN,2,{field.module}^FH^FDMA,{_fh(field.data)}^FS"
    if isinstance(field, Barcode):
        data = code128_field_data(field.data, gs1=field.gs1)
        return f"^FO{field.x},{field.y}^BY{field.module}^BCN,{field.height},N,N,N^FH^FD{_fh(data)}^FS"
    raise LabelError(f"no ZPL for field {field!r}")


def _fh(text: str) -> str:
    """Escape for ``^FH``: ``_`` ``^`` ``~`` and anything outside printable ASCII as ``_XX`` bytes."""
    out = []
    for char in text:
        if char in "_^~" or not (" " <= char <= "~"):
            out.append("".join(f"_{b:02X}" for b in char.encode("utf-8")))
        else:
            out.append(char)
    return "".join(out)


def code128_field_data(data: str, *, gs1: bool = False) -> str:
    """``^FD`` content for ``^BC`` mode N, with subset and FNC1 invocation codes.

    For ``gs1`` the data is element strings (GS between them is optional; FNC1
    is placed where GS1 requires it). Raises ``LabelError`` for characters
    Code128 subset B cannot carry or for invalid GS1 data.
    """
    symbols: list[Symbol] = _gs1_symbols(data) if gs1 else list(data)
    for symbol in symbols:
        if isinstance(symbol, str) and not (" " <= symbol <= "~"):
            raise LabelError(f"Code128 cannot carry {symbol!r} in {data[:40]!r}")
    return _encode(symbols)


def _gs1_symbols(data: str) -> list[Symbol]:
    try:
        elements = parse_element_strings(data).elements
    except ScanError as exc:
        raise LabelError(f"not valid GS1 data for a label: {exc}") from exc
    from biip.gs1_application_identifiers import GS1ApplicationIdentifier

    symbols: list[Symbol] = [FNC1]
    for index, element in enumerate(elements):
        symbols += list(element.ai + element.value)
        variable = GS1ApplicationIdentifier.extract(element.ai).separator_required
        if variable and index < len(elements) - 1:
            symbols.append(FNC1)
    return symbols


def _digit_run(symbols: list[Symbol], start: int) -> int:
    end = start
    while end < len(symbols):
        symbol = symbols[end]
        if not (isinstance(symbol, str) and symbol.isdigit()):
            break
        end += 1
    return end - start


def _encode(symbols: list[Symbol]) -> str:
    out: list[str] = []
    subset = ""
    i = 0
    while i < len(symbols):
        run = _digit_run(symbols, i)
        if run >= 4 or (run >= 2 and run == len(symbols) - i and run % 2 == 0):
            subset = _switch(out, subset, "C")
            pairs = run - run % 2
            out.append("".join(s for s in symbols[i:i + pairs] if isinstance(s, str)))  # a digit run: all str
            i += pairs
            continue
        symbol = symbols[i]
        if isinstance(symbol, _Marker):
            if not subset:
                subset = _switch(out, subset, "C" if _digit_run(symbols, i + 1) >= 2 else "B")
            out.append(">8")
        else:
            subset = _switch(out, subset, "B")
            out.append("><" if symbol == ">" else symbol)
        i += 1
    return "".join(out)


def _switch(out: list[str], current: str, wanted: str) -> str:
    if current != wanted:
        start = {"C": ">;", "B": ">:"}
        switch = {"C": ">5", "B": ">6"}
        out.append((switch if current else start)[wanted])
    return wanted
