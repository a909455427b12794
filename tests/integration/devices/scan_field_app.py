"""A Flet web app with one scan field read by ``devices.scan_field.FieldReader``.

Run by test_scan_field_browser.py as ``python scan_field_app.py PORT OUT_FILE``. It writes
one JSON line per event to OUT_FILE: ``{"mark": i, "tail": …}`` for each change (which
epoch mark the value carried and its unfinished last line), ``{"read": code, "ok": …}``
for each scan read, ``{"clear": i}`` for each clear sent. It clears as eagerly as the
reader allows, and a clear reaches the browser ``DOWN`` seconds after it is sent (the
down half of a slow Wi-Fi round trip), so that it lands while the next scan is typed.
"""

import asyncio
import json
import sys
import time

import flet as ft

from devices.scan_field import MARKS, FieldConfig, FieldReader

DOWN = 0.25


def main(port: int, out_file: str) -> None:
    def page_main(page: ft.Page) -> None:
        reader = FieldReader(FieldConfig(clear_at_lines=1, quiet_before_clear=0.15, reclear_after=1.0))
        out = open(out_file, "a", buffering=1)

        def log(**record: object) -> None:
            out.write(json.dumps(record) + "\n")

        def changed(e: ft.Event) -> None:
            value = e.data or ""
            marks = [MARKS.index(c) for c in value if c in MARKS]
            log(mark=marks[0] if marks else None, tail=value.split("\n")[-1].strip("".join(MARKS)))
            for burst in reader.on_change(value, time.monotonic()):
                log(read=burst.text, ok=burst.complete)

        field = ft.TextField(label="Scan", value=reader.initial_value, multiline=True, min_lines=1, max_lines=2,
                             autofocus=True, on_change=changed)
        page.add(field)

        async def land(mark: str) -> None:
            await asyncio.sleep(DOWN)
            field.value = mark
            field.update()

        async def tick() -> None:
            while True:
                await asyncio.sleep(0.05)
                now = time.monotonic()
                for burst in reader.flush(now):
                    log(read=burst.text, ok=burst.complete)
                mark = reader.clear_value(now)
                if mark is not None:
                    log(clear=MARKS.index(mark))
                    page.run_task(land, mark)

        page.run_task(tick)

    ft.run(page_main, view=ft.AppView.WEB_BROWSER, host="127.0.0.1", port=port, no_cdn=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
