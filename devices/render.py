"""Labels as pictures: PNG for screens and ordinary printers, PDF for print dialogs.

Barcodes are encoded by python-barcode (Code128/GS1-128) and segno (QR) and
drawn at the label's resolution with every module a whole number of pixels,
so a camera or scanner reads the printout. Text uses Pillow's built-in scalable font.
"""

from __future__ import annotations

import io
from typing import Any, Iterable

from devices.errors import LabelError
from devices.gs1 import GS
from devices.labels import Barcode, Box, Label, QRCode, TextLine

__all__ = ["to_image", "to_pdf", "to_png"]

_FNC1 = "\xf1"  # python-barcode's FNC1 marker
_QUIET_MODULES = 10


def to_image(label: Label) -> Any:
    """A grayscale PIL image of the label. Raises ``LabelError`` if a field falls outside."""
    from PIL import Image, ImageDraw

    image = Image.new("L", (label.width, label.height), 255)
    draw = ImageDraw.Draw(image)
    for field in label.fields:
        if isinstance(field, TextLine):
            _text(draw, field)
        elif isinstance(field, Box):
            _box(draw, field)
        else:
            picture = _barcode(field) if isinstance(field, Barcode) else _qr(field)
            _paste(image, picture, field, label)
    return image


def to_png(label: Label) -> bytes:
    """The label as PNG bytes, with its resolution recorded."""
    buffer = io.BytesIO()
    to_image(label).save(buffer, format="PNG", dpi=(label.dpi, label.dpi))
    return buffer.getvalue()


def to_pdf(labels: Iterable[Label]) -> bytes:
    """One PDF page per label, each page the label's physical size. Raises ``LabelError`` if empty."""
    labels = list(labels)
    if not labels:
        raise LabelError("no labels to put in the PDF")
    pages = [to_image(label) for label in labels]
    buffer = io.BytesIO()
    resolution = float(labels[0].dpi)  # Pillow takes one resolution for the whole file
    pages[0].save(buffer, format="PDF", save_all=True, append_images=pages[1:], resolution=resolution)
    return buffer.getvalue()


def _text(draw: Any, field: TextLine) -> None:
    from PIL import ImageFont

    font = ImageFont.load_default(size=field.height)
    draw.text((field.x, field.y), field.text, fill=0, font=font)


def _box(draw: Any, field: Box) -> None:
    right, bottom = field.x + field.width - 1, field.y + field.height - 1
    if field.height <= field.thickness or field.width <= field.thickness:
        draw.rectangle((field.x, field.y, right, bottom), fill=0)
    else:
        draw.rectangle((field.x, field.y, right, bottom), outline=0, width=field.thickness)


def _barcode(field: Barcode) -> Any:
    """Bars drawn from python-barcode's module pattern, each module exactly ``field.module`` pixels.

    python-barcode's own image writer places bars at fractional pixels, which at
    printer resolution gives bars of uneven width that scanners misread.
    """
    import barcode  # type: ignore[import-untyped]
    import numpy as np
    from PIL import Image

    kind, data = ("gs1_128", field.data.replace(GS, _FNC1)) if field.gs1 else ("code128", field.data)
    try:
        pattern = "".join(barcode.get_barcode_class(kind)(data).build())
    except (ValueError, barcode.errors.BarcodeError) as exc:
        raise LabelError(f"cannot draw barcode {field.data!r}: {exc}") from exc
    quiet = "0" * _QUIET_MODULES
    modules = np.frombuffer((quiet + pattern + quiet).encode(), dtype=np.uint8) == ord("1")
    row = np.repeat(np.where(modules, 0, 255).astype(np.uint8), field.module)
    return Image.fromarray(np.tile(row, (field.height, 1)), mode="L")


def _qr(field: QRCode) -> Any:
    import numpy as np
    import segno
    from PIL import Image

    matrix = np.pad(np.array(segno.make_qr(field.data, error="m").matrix, dtype=np.uint8), 4)
    pixels = np.kron(1 - matrix, np.ones((field.module, field.module), dtype=np.uint8)) * 255
    return Image.fromarray(pixels.astype(np.uint8), mode="L")


def _paste(image: Any, picture: Any, field: Barcode | QRCode, label: Label) -> None:
    x = field.x - (_QUIET_MODULES * field.module if isinstance(field, Barcode) else 0)
    x = max(x, 0)
    if x + picture.width > label.width or field.y + picture.height > label.height:
        raise LabelError(f"{type(field).__name__} {field.data!r} does not fit on a {label.width}x{label.height} label")
    image.paste(picture, (x, field.y))
