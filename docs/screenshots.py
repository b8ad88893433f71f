"""Take the README's screenshots: start a demo, open each display in headless Chromium at
wall-TV size, save PNGs into docs/screenshots/. Run with `./dev screenshots`."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import chrome, sign_in, start_demo, stop_demo  # noqa: E402
from tests.conftest import EXAMPLE_CONFIG, close_backend, make_backend, wait_for  # noqa: E402

# (display, width, height, turns to take first: a later turn of the rotation, or the
# Swedish turn of a bilingual screen)
SHOTS = [
    ("vastaanotto-kaytava", 1920, 1080, 0), ("vastaanotto-kaytava", 1920, 1080, 2),
    ("vastaanotto-kaytava", 3840, 2160, 0), ("vastaanotto-kaytava", 1080, 1920, 0),
    ("johto", 1920, 1080, 0),
    ("aula", 1920, 1080, 0), ("aula", 3840, 2160, 1), ("aula", 1080, 1920, 0),
    ("alue", 1920, 1080, 0), ("strand-vantrum", 1920, 1080, 0), ("hoito", 1920, 1080, 0),
]


def main() -> None:
    out = ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        backend = make_backend("embedded", Path(tmp) / "data")
        demo = start_demo(backend, EXAMPLE_CONFIG)
        try:
            for display, width, height, turns in SHOTS:
                driver = chrome(width, height)
                try:
                    driver.get(demo.display_url(display, f"screen=readme-{width}x{height}"))
                    wait_for(lambda d=driver: d.execute_script(
                        "return document.querySelector('[data-status=\"fresh\"]') !== null"
                        " && document.body.dataset.asOf"), timeout=30, what="data")
                    time.sleep(2)  # the clock's first tick
                    for _ in range(turns):
                        driver.execute_script("window.ohjaustaulu.turn()")
                    time.sleep(0.5)
                    suffix = f"-turn{turns + 1}" if turns else ""
                    path = out / f"{display}-{width}x{height}{suffix}.png"
                    driver.save_screenshot(str(path))
                    print(path.relative_to(ROOT))
                finally:
                    driver.quit()
            # the whole centre's access-to-care page: its turns until the access cards show
            driver = chrome(1920, 1080)
            try:
                driver.get(demo.display_url("johto", "screen=readme-access"))
                shown = "var c = document.querySelector('.card--access'); return !!(c && c.offsetParent)"
                wait_for(lambda d=driver: d.execute_script("return document.querySelector('.card--access') !== null"),
                         timeout=90, what="the access cards")
                for _ in range(20):
                    if driver.execute_script(shown):
                        break
                    driver.execute_script("window.ohjaustaulu.turn()")
                    time.sleep(0.3)
                time.sleep(0.5)
                driver.save_screenshot(str(out / "johto-1920x1080-access.png"))
                print("docs/screenshots/johto-1920x1080-access.png")
            finally:
                driver.quit()
            people = [("yllapito", "/admin", 1600, 900, ".screen-row"),
                      ("vuorovastaava", "/tablet", 800, 1280, "#tablet-fix-save"),
                      ("vuorovastaava", "/tablet", 1280, 800, "#tablet-fix-save"),
                      ("esihenkilo", "/history", 1600, 1000, "#history-heatmap"),
                      ("esihenkilo", "/history/access", 1600, 2600, "#access-summary")]
            time.sleep(15)  # the demo's past weeks are written to the history meanwhile
            for person, page, width, height, ready in people:
                driver = chrome(width, height)
                try:
                    sign_in(driver, demo.url, person)
                    driver.get(f"{demo.url}{page}")
                    wait_for(lambda d=driver, r=ready: d.find_elements("css selector", r), timeout=30, what=page)
                    time.sleep(2)
                    name = f"{page.strip('/').replace('/', '-')}-{width}x{height}.png"
                    driver.save_screenshot(str(out / name))
                    print(f"docs/screenshots/{name}")
                finally:
                    driver.quit()
        finally:
            stop_demo(demo)
            close_backend(backend)


if __name__ == "__main__":
    main()
